"""Fault injection for the reference shop: scoped, time-limited, reversible.

A fault applies to requests whose route template or step name equals its ``endpoint``
(``"*"`` matches every public route). Faults expire on their own: every lookup drops the
expired ones first, so no background task is needed for them to end.
"""

from __future__ import annotations

import math
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

__all__ = [
    "ANY_ENDPOINT",
    "FAULT_KINDS",
    "MAX_FAULT_DURATION_S",
    "MAX_QUEUE_WAIT_S",
    "Fault",
    "FaultRegistry",
    "FaultSpecError",
]

FAULT_KINDS: tuple[str, ...] = (
    "latency",
    "error_rate",
    "payment_gateway_down",
    "slow_stock",
    "coupon_5xx",
    "lock_contention",
    "capacity_limit",
    "stall",
)
ANY_ENDPOINT = "*"
MAX_FAULT_DURATION_S = 3600.0
# Seconds a request may queue behind a capacity_limit before it is shed with a 503: without
# a cap the simulated queue would grow for as long as the overload lasts.
MAX_QUEUE_WAIT_S = 10.0
# Upper bound for any injected delay, so a typo cannot hang a request for hours.
MAX_DELAY_S = 60.0


class FaultSpecError(ValueError):
    """A fault request names an unknown kind or an out-of-range value or duration."""


@dataclass(frozen=True)
class Fault:
    """One injected fault.

    Attributes
    ----------
    fault_id : str
        Id used to delete the fault early.
    kind : str
        One of :data:`FAULT_KINDS`.
    endpoint : str
        Route template (``/api/orders/{order_id}/pay``), step name (``pay``) or ``*``.
    value : float
        Meaning depends on the kind: seconds, a share 0-1, or requests per second.
    created_at, expires_at : float
        Unix timestamps.
    """

    fault_id: str
    kind: str
    endpoint: str
    value: float
    created_at: float
    expires_at: float

    def to_json(self) -> dict[str, object]:
        return {
            "fault_id": self.fault_id,
            "kind": self.kind,
            "endpoint": self.endpoint,
            "value": self.value,
            "created_at": _iso(self.created_at),
            "expires_at": _iso(self.expires_at),
            "expires_at_unix": round(self.expires_at, 3),
        }


def _iso(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(timestamp)) + (
        f".{int((timestamp % 1) * 1000):03d}Z"
    )


def _validate(kind: str, endpoint: str, value: float, duration_s: float) -> None:
    if kind not in FAULT_KINDS:
        raise FaultSpecError(
            f"unknown fault kind {kind!r}; expected one of {', '.join(FAULT_KINDS)}"
        )
    if not endpoint:
        raise FaultSpecError("endpoint must be a route template, a step name or '*'")
    if not math.isfinite(value) or value < 0:
        raise FaultSpecError("value must be a finite number >= 0")
    if not math.isfinite(duration_s) or not 0 < duration_s <= MAX_FAULT_DURATION_S:
        raise FaultSpecError(f"duration_s must be > 0 and <= {MAX_FAULT_DURATION_S:g}")
    if kind == "error_rate" and value > 1:
        raise FaultSpecError("error_rate value is a share between 0 and 1")
    if kind == "capacity_limit" and value <= 0:
        raise FaultSpecError("capacity_limit value is a rate in requests per second, > 0")
    if kind in {"latency", "slow_stock", "lock_contention", "stall"} and value > MAX_DELAY_S:
        raise FaultSpecError(f"{kind} value is seconds, at most {MAX_DELAY_S:g}")


class FaultRegistry:
    """The active faults of one shop process (thread-safe).

    Parameters
    ----------
    clock : callable
        Wall clock in Unix seconds; tests pass a fake one.
    seed : int
        Seed of the generator that decides which requests an ``error_rate`` fault fails.
    """

    def __init__(self, clock: Callable[[], float] = time.time, seed: int = 0) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._faults: dict[str, Fault] = {}
        self._rng = random.Random(seed)
        # capacity_limit: per fault, the time the simulated single server is next free.
        self._next_free: dict[str, float] = {}

    def add(self, kind: str, endpoint: str, value: float, duration_s: float) -> Fault:
        """Validate and activate a fault; raise :class:`FaultSpecError` on bad input."""
        _validate(kind, endpoint, value, duration_s)
        now = self._clock()
        fault = Fault(
            fault_id=f"f-{uuid.uuid4().hex[:12]}",
            kind=kind,
            endpoint=endpoint,
            value=float(value),
            created_at=now,
            expires_at=now + duration_s,
        )
        with self._lock:
            self._faults[fault.fault_id] = fault
        return fault

    def active(self) -> list[Fault]:
        """Unexpired faults, oldest first."""
        with self._lock:
            self._prune()
            return sorted(self._faults.values(), key=lambda fault: fault.created_at)

    def any_active(self) -> bool:
        """Cheap pre-check for the request path: False when no fault (even expired) exists."""
        return bool(self._faults)

    def remove(self, fault_id: str) -> bool:
        with self._lock:
            self._next_free.pop(fault_id, None)
            return self._faults.pop(fault_id, None) is not None

    def clear(self) -> int:
        with self._lock:
            self._prune()
            count = len(self._faults)
            self._faults.clear()
            self._next_free.clear()
            return count

    def matching(self, kind: str, scopes: Iterable[str]) -> list[Fault]:
        """Active faults of ``kind`` whose endpoint is one of ``scopes``.

        Callers include :data:`ANY_ENDPOINT` in ``scopes`` where ``*`` faults should apply.
        """
        wanted = set(scopes)
        with self._lock:
            self._prune()
            return [f for f in self._faults.values() if f.kind == kind and f.endpoint in wanted]

    def total(self, kind: str, scopes: Iterable[str]) -> float:
        """Sum of the values of the matching faults (delays add up), 0 when none."""
        return sum(fault.value for fault in self.matching(kind, scopes))

    def is_active(self, kind: str, scopes: Iterable[str]) -> bool:
        return bool(self.matching(kind, scopes))

    def should_fail(self, scopes: Iterable[str]) -> bool:
        """Draw whether this request is one of the ``error_rate`` share answered 500."""
        shares = [fault.value for fault in self.matching("error_rate", scopes)]
        if not shares:
            return False
        share = max(shares)
        with self._lock:
            return self._rng.random() < share

    def admission_delay(self, scopes: Iterable[str]) -> float | None:
        """Queueing delay imposed by ``capacity_limit`` faults; ``None`` means shed the request.

        Each fault simulates one server that handles ``value`` requests per second: below
        that rate requests barely wait, above it the queue (and so latency) grows with the
        overload, which is what a capacity search must find.
        """
        limits = self.matching("capacity_limit", scopes)
        if not limits:
            return 0.0
        delay = 0.0
        now = time.monotonic()
        with self._lock:
            for fault in limits:
                start = max(now, self._next_free.get(fault.fault_id, now))
                wait = start - now
                if wait > MAX_QUEUE_WAIT_S:
                    return None
                self._next_free[fault.fault_id] = start + 1.0 / fault.value
                delay = max(delay, wait)
        return delay

    def _prune(self) -> None:
        now = self._clock()
        for fault_id in [f.fault_id for f in self._faults.values() if f.expires_at <= now]:
            del self._faults[fault_id]
            self._next_free.pop(fault_id, None)
