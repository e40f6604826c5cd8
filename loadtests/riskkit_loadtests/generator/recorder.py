"""Per-second raw results of one generator process.

Samples land in the second (from T0) in which they complete.  Once a second is over it
is emitted as one JSON-able record to the sink (a file writer in a local run, a message
to the master in a distributed one).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from riskkit_loadtests.histogram import LogHistogram

__all__ = ["Recorder"]


class _StepSecond:
    __slots__ = ("errors", "failures", "histogram", "ok")

    def __init__(self) -> None:
        self.ok = 0
        self.failures = 0
        self.errors: dict[str, int] = {}
        self.histogram = LogHistogram()


class _Second:
    __slots__ = (
        "busy_max",
        "checks",
        "counters",
        "dropped",
        "lag_max_ms",
        "scheduled",
        "started",
        "steps",
    )

    def __init__(self) -> None:
        self.scheduled = 0
        self.started = 0
        self.dropped = 0
        self.lag_max_ms = 0.0
        self.busy_max = 0
        self.steps: dict[str, _StepSecond] = {}
        self.checks: dict[str, list[int]] = {}
        self.counters: dict[str, int] = {}


class Recorder:
    """Collects samples per second and hands finished seconds to ``sink``."""

    def __init__(self, sink: Callable[[dict[str, Any]], None], worker_index: int) -> None:
        self.sink = sink
        self.worker_index = worker_index
        self.t0_perf = time.perf_counter()
        self._seconds: dict[int, _Second] = {}
        self._emitted_before = 0

    def start(self, t0_perf: float) -> None:
        self.t0_perf = t0_perf

    def _second(self, now: float | None = None) -> _Second:
        moment = time.perf_counter() if now is None else now
        index = max(int(moment - self.t0_perf), self._emitted_before)
        second = self._seconds.get(index)
        if second is None:
            second = self._seconds[index] = _Second()
        return second

    def scheduled(self, dropped: bool, lag_ms: float) -> None:
        second = self._second()
        second.scheduled += 1
        if dropped:
            second.dropped += 1
        if lag_ms > second.lag_max_ms:
            second.lag_max_ms = lag_ms

    def started(self) -> None:
        self._second().started += 1

    def busy(self, users_busy: int) -> None:
        second = self._second()
        second.busy_max = max(second.busy_max, users_busy)

    def sample(self, step: str, latency_ms: float, failed: bool, error: str | None = None) -> None:
        second = self._second()
        stats = second.steps.get(step)
        if stats is None:
            stats = second.steps[step] = _StepSecond()
        stats.histogram.record(latency_ms)
        if failed:
            stats.failures += 1
            kind = error or "failed"
            stats.errors[kind] = stats.errors.get(kind, 0) + 1
        else:
            stats.ok += 1

    def check(self, name: str, passed: bool) -> None:
        counts = self._second().checks.setdefault(name, [0, 0])
        counts[0 if passed else 1] += 1

    def count(self, name: str, amount: int = 1) -> None:
        counters = self._second().counters
        counters[name] = counters.get(name, 0) + amount

    def flush(self, final: bool = False, extra: dict[str, Any] | None = None) -> None:
        """Emit every finished second (all of them when ``final``)."""
        current = int(time.perf_counter() - self.t0_perf)
        for index in sorted(self._seconds):
            if not final and index >= current:
                break
            record = self._encode(index, self._seconds.pop(index))
            if extra:
                record.update(extra)
            self.sink(record)
            self._emitted_before = max(self._emitted_before, index + 1)

    def _encode(self, index: int, second: _Second) -> dict[str, Any]:
        return {
            "w": self.worker_index,
            "s": index,
            "scheduled": second.scheduled,
            "started": second.started,
            "dropped": second.dropped,
            "lag_max_ms": round(second.lag_max_ms, 3),
            "busy_max": second.busy_max,
            "steps": {
                name: {
                    "ok": stats.ok,
                    "fail": stats.failures,
                    "err": stats.errors,
                    "h": stats.histogram.to_json(),
                }
                for name, stats in second.steps.items()
            },
            "checks": second.checks,
            "counters": second.counters,
        }
