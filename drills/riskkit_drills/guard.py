"""The guard thread: stop conditions and the maximum duration.

Every ``interval_s`` each stop condition's probe runs; after ``consecutive``
failures in a row the drill aborts (AWS FIS stop conditions, Gremlin's
auto-halt).  The maximum duration is enforced here as well, so a step stuck
in a poll cannot keep a fault in place past the declared limit.
"""

from __future__ import annotations

import threading
import time

import httpx

from riskkit_drills.context import AbortSignal
from riskkit_drills.journal import StopEvent
from riskkit_drills.models import StopCondition
from riskkit_drills.probes import describe_probe, run_probe

__all__ = ["Guard"]


class Guard:
    """Watches stop conditions in a daemon thread until :meth:`stop`."""

    def __init__(
        self,
        conditions: list[StopCondition],
        base_url: str | None,
        prometheus: str | None,
        abort: AbortSignal,
        started: float,
        max_duration_s: float,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.headers = headers or {}
        self.conditions = conditions
        self.base_url = base_url
        self.prometheus = prometheus
        self.abort = abort
        self.started = started
        self.deadline = started + max_duration_s
        self.max_duration_s = max_duration_s
        self.events: list[StopEvent] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="drill-guard", daemon=True)

    def start(self) -> Guard:
        self._thread.start()
        return self

    def stop(self) -> list[StopEvent]:
        self._stop.set()
        self._thread.join(timeout=10)
        with self._lock:
            return list(self.events)

    def _record(self, name: str, breached: bool, detail: str) -> None:
        with self._lock:
            self.events.append(
                StopEvent(
                    name=name,
                    offset_s=round(time.monotonic() - self.started, 3),
                    breached=breached,
                    detail=detail,
                )
            )

    def _watch(self) -> None:
        failures = {c.name: 0 for c in self.conditions}
        next_due = {c.name: time.monotonic() for c in self.conditions}
        client = (
            httpx.Client(base_url=self.base_url, timeout=5.0, headers=self.headers)
            if self.base_url
            else None
        )
        try:
            while not self._stop.is_set():
                now = time.monotonic()
                if now >= self.deadline:
                    detail = f"maximum duration {self.max_duration_s:g} s reached"
                    self._record("max_duration", True, detail)
                    self.abort.trigger(detail)
                    return
                for condition in self.conditions:
                    if now < next_due[condition.name] or client is None:
                        continue
                    next_due[condition.name] = now + condition.interval_s
                    outcome = run_probe(condition.probe, client, self.prometheus)
                    if outcome.ok:
                        failures[condition.name] = 0
                        continue
                    failures[condition.name] += 1
                    if failures[condition.name] >= condition.consecutive:
                        detail = f"{describe_probe(condition.probe)}: {outcome.observed}"
                        self._record(condition.name, True, detail)
                        self.abort.trigger(f"stop condition '{condition.name}': {detail}")
                        return
                self._stop.wait(0.1)
        finally:
            if client is not None:
                client.close()
