"""Aggregation of the generator's raw per-second records (riskkit side, no gevent).

Every generator process emits one record per second (see
``generator/recorder.py``); :class:`RunData` adds them up exactly (log-bucketed
histograms merge losslessly) into per-step totals and per-second series.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from riskkit_loadtests.histogram import LogHistogram

__all__ = ["RecordTail", "RunData", "SecondTotals", "StepTotals"]


@dataclass
class StepTotals:
    ok: int = 0
    failures: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    histogram: LogHistogram = field(default_factory=LogHistogram)

    @property
    def requests(self) -> int:
        return self.ok + self.failures

    @property
    def error_rate(self) -> float:
        return self.failures / self.requests if self.requests else 0.0


@dataclass
class SecondTotals:
    scheduled: int = 0
    started: int = 0
    dropped: int = 0
    requests: int = 0
    failures: int = 0
    busy_max: int = 0
    lag_max_ms: float = 0.0
    histogram: LogHistogram = field(default_factory=LogHistogram)
    failures_by_step: dict[str, int] = field(default_factory=dict)
    cpu_by_worker: dict[int, float] = field(default_factory=dict)


class RunData:
    """Everything the generator measured so far (thread-safe: /metrics reads it live)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.steps: dict[str, StepTotals] = {}
        self.seconds: dict[int, SecondTotals] = {}
        self.checks: dict[str, list[int]] = {}
        self.counters: dict[str, int] = {}
        self.users_by_worker: dict[int, int] = {}
        self.records = 0

    def add(self, record: dict[str, Any]) -> None:
        with self.lock:
            self.records += 1
            second = self.seconds.setdefault(int(record["s"]), SecondTotals())
            second.scheduled += int(record.get("scheduled", 0))
            second.started += int(record.get("started", 0))
            second.dropped += int(record.get("dropped", 0))
            second.busy_max += int(record.get("busy_max", 0))
            second.lag_max_ms = max(second.lag_max_ms, float(record.get("lag_max_ms", 0.0)))
            worker = int(record.get("w", 0))
            if "cpu" in record:
                second.cpu_by_worker[worker] = float(record["cpu"])
            if "users" in record:
                self.users_by_worker[worker] = int(record["users"])
            for name, raw in record.get("steps", {}).items():
                histogram = LogHistogram(raw.get("h", {}))
                totals = self.steps.setdefault(name, StepTotals())
                totals.ok += int(raw.get("ok", 0))
                totals.failures += int(raw.get("fail", 0))
                for kind, count in raw.get("err", {}).items():
                    totals.errors[kind] = totals.errors.get(kind, 0) + int(count)
                totals.histogram.merge(histogram)
                second.histogram.merge(histogram)
                second.requests += int(raw.get("ok", 0)) + int(raw.get("fail", 0))
                if raw.get("fail"):
                    second.failures += int(raw["fail"])
                    second.failures_by_step[name] = second.failures_by_step.get(name, 0) + int(
                        raw["fail"]
                    )
            for name, (passed, failed) in record.get("checks", {}).items():
                counts = self.checks.setdefault(name, [0, 0])
                counts[0] += int(passed)
                counts[1] += int(failed)
            for name, count in record.get("counters", {}).items():
                self.counters[name] = self.counters.get(name, 0) + int(count)

    # -- totals ---------------------------------------------------------------------
    def total(self, attribute: str) -> int:
        with self.lock:
            return sum(int(getattr(s, attribute)) for s in self.seconds.values())

    @property
    def scheduled(self) -> int:
        return self.total("scheduled")

    @property
    def started(self) -> int:
        return self.total("started")

    @property
    def dropped(self) -> int:
        return (
            self.total("dropped")
            + self.counters.get("abandoned_in_backlog", 0)
            + self.counters.get("dropped_no_test_data", 0)
        )

    @property
    def requests(self) -> int:
        with self.lock:
            return sum(step.requests for step in self.steps.values())

    def all_steps_histogram(self) -> LogHistogram:
        with self.lock:
            return LogHistogram.merged(step.histogram for step in self.steps.values())

    def cpu_samples(self) -> dict[int, list[float]]:
        """Per worker, the CPU percent of each second (psutil, one core = 100)."""
        out: dict[int, list[float]] = {}
        with self.lock:
            for index in sorted(self.seconds):
                for worker, cpu in self.seconds[index].cpu_by_worker.items():
                    out.setdefault(worker, []).append(cpu)
        return out


class RecordTail:
    """Reads the records file incrementally (complete lines only)."""

    def __init__(self, path: Path, data: RunData) -> None:
        self.path = path
        self.data = data
        self.offset = 0
        self._partial = b""

    def poll(self) -> int:
        if not self.path.exists():
            return 0
        with self.path.open("rb") as handle:
            handle.seek(self.offset)
            chunk = handle.read()
        self.offset += len(chunk)
        buffer = self._partial + chunk
        lines = buffer.split(b"\n")
        self._partial = lines.pop()
        for line in lines:
            if line.strip():
                self.data.add(json.loads(line))
        return len(lines)
