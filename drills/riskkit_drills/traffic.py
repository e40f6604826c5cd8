"""A small, bounded, concurrent traffic driver (threads + httpx).

A pacer thread issues one ticket every ``1 / rate_per_s`` seconds; worker
threads take tickets and place an order each (cart -> checkout).  Tickets
that no worker picks up within a second are dropped and counted (the driver
never pretends it offered load it did not).  Every order id the shop
confirmed is recorded: after a restore, the ids the shop no longer has are
the RPO, as a number.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field

import httpx

from riskkit_drills.synthetic import place_order

__all__ = ["TrafficDriver", "TrafficStats"]


@dataclass
class TrafficStats:
    attempted: int = 0
    # order id -> the user who placed it (an id reused after a restore is still a loss)
    confirmed: dict[str, str] = field(default_factory=dict)
    refused: int = 0
    failed: int = 0
    dropped: int = 0
    # per elapsed second since start: (confirmed, failed)
    per_second: dict[int, list[int]] = field(default_factory=dict)


class TrafficDriver:
    """Open-model load: ``rate_per_s`` checkouts per second from ``workers`` threads.

    Parameters
    ----------
    base_url
        The shop.
    rate_per_s, workers
        Offered load and concurrency (bounded: at most 200/s and 32 threads).
    max_duration_s
        Hard cap: the driver stops by itself after this long.
    request_timeout_s
        Per-request timeout, so a stalled shop cannot hold a worker forever.
    """

    def __init__(
        self,
        base_url: str,
        rate_per_s: float,
        workers: int,
        max_duration_s: float,
        request_timeout_s: float = 5.0,
        sku_id: str | None = None,
    ) -> None:
        self.sku_id = sku_id
        self.base_url = base_url
        self.rate_per_s = min(rate_per_s, 200.0)
        self.workers = min(max(workers, 1), 32)
        self.max_duration_s = max_duration_s
        self.request_timeout_s = request_timeout_s
        self.stats = TrafficStats()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._tickets: queue.Queue[tuple[int, float]] = queue.Queue(maxsize=self.workers * 4)
        self._threads: list[threading.Thread] = []
        self._started = 0.0

    @property
    def started(self) -> float:
        """Monotonic time the driver started (buckets count seconds from here)."""
        return self._started

    def start(self) -> TrafficDriver:
        self._started = time.monotonic()
        pacer = threading.Thread(target=self._pace, name="drill-traffic-pacer", daemon=True)
        self._threads = [pacer] + [
            threading.Thread(target=self._work, args=(n,), name=f"drill-traffic-{n}", daemon=True)
            for n in range(self.workers)
        ]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self, timeout_s: float = 10.0) -> TrafficStats:
        """Stop issuing tickets, let in-flight orders finish, return the stats."""
        self._stop.set()
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        return self.stats

    def _pace(self) -> None:
        interval = 1.0 / self.rate_per_s
        ticket = 0
        next_at = time.monotonic()
        end = self._started + self.max_duration_s
        while not self._stop.is_set() and time.monotonic() < end:
            now = time.monotonic()
            if now < next_at:
                self._stop.wait(next_at - now)
                continue
            try:
                self._tickets.put_nowait((ticket, now))
            except queue.Full:
                with self._lock:
                    self.stats.dropped += 1
            ticket += 1
            next_at += interval
        self._stop.set()

    def _record(self, outcome: str, order_id: str | None, user_id: str) -> None:
        second = int(time.monotonic() - self._started)
        with self._lock:
            self.stats.attempted += 1
            bucket = self.stats.per_second.setdefault(second, [0, 0])
            if order_id is not None and outcome in ("created", "paid", "payment_failed"):
                self.stats.confirmed[order_id] = user_id
                bucket[0] += 1
            elif outcome == "refused":
                self.stats.refused += 1
            else:
                self.stats.failed += 1
                bucket[1] += 1

    def _work(self, worker: int) -> None:
        with httpx.Client(base_url=self.base_url, timeout=self.request_timeout_s) as client:
            while True:
                try:
                    ticket, issued = self._tickets.get(timeout=0.1)
                except queue.Empty:
                    if self._stop.is_set():
                        return
                    continue
                if time.monotonic() - issued > 1.0:
                    with self._lock:
                        self.stats.dropped += 1
                    continue
                user_id = f"load-{worker}-{ticket}"
                result = place_order(
                    client,
                    user_id,
                    pay=False,
                    sku_index=ticket,
                    sku_id=self.sku_id,
                )
                self._record(result.outcome, result.order_id, user_id)
