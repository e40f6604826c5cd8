"""The generic detect runner: read orders once, fit every detector, write outputs.

``riskkit detect <name>|all`` is a thin layer over :func:`run_detectors`.
The runner knows nothing about any particular detector: it loads them from
the ``riskkit.detectors`` entry-point group, hands each the same canonical
frame, and writes what their :class:`~riskkit.detection.DetectionResult`
holds under ``OUT/<detector>/``, plus ``OUT/summary.json`` and one
``OUT/report.html`` with a section per detector.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from riskkit.detect.engine import EngineOptions, open_engine
from riskkit.detect.outputs import (
    write_detector_outputs,
    write_rejected,
    write_run_report,
    write_summary,
)
from riskkit.detection import DetectionResult, Detector, load_detector, severity_at_least
from riskkit.errors import GateFailed, UsageError
from riskkit.metrics import RunMetrics

__all__ = [
    "DetectGateFailed",
    "DetectRunSummary",
    "DetectorRun",
    "parse_bound",
    "run_detectors",
]

log = logging.getLogger(__name__)


@dataclass
class DetectorRun:
    """One detector's part of a run: its result, how long it took, what it flagged."""

    name: str
    result: DetectionResult
    seconds: float
    flagged_orders: int
    out_dir: Path

    @property
    def groups(self) -> int:
        return len(self.result.severities)

    def severity_counts(self) -> dict[str, int]:
        counts = {"low": 0, "medium": 0, "high": 0}
        for severity in self.result.severities:
            counts[severity] = counts.get(severity, 0) + 1
        return counts


@dataclass
class DetectRunSummary:
    """What :func:`run_detectors` did; ``as_dict()`` is ``summary.json``."""

    out_dir: Path
    inputs: list[str]
    format: str
    rows_read: int
    orders: int
    rejected_rows: int
    since: str | None
    until: str | None
    signals: dict[str, bool]
    detectors: dict[str, DetectorRun] = field(default_factory=dict)
    read_seconds: float = 0.0
    total_seconds: float = 0.0
    show_pii: bool = False
    gate: dict[str, Any] = field(default_factory=dict)
    engine: dict[str, Any] = field(default_factory=lambda: {"name": "pandas"})

    def as_dict(self) -> dict[str, Any]:
        per_detector: dict[str, Any] = {}
        for name, run in self.detectors.items():
            result = run.result
            per_detector[name] = {
                "flagged_orders": run.flagged_orders,
                "groups": run.groups,
                "groups_by_severity": run.severity_counts(),
                "max_severity": result.max_severity(),
                "seconds": round(run.seconds, 3),
                "signals_unavailable": dict(result.unavailable),
                "outputs": sorted({*result.tables, "findings.jsonl"}),
                "summary": result.summary,
            }
        return {
            "inputs": self.inputs,
            "format": self.format,
            "rows_read": self.rows_read,
            "orders": self.orders,
            "rejected_rows": self.rejected_rows,
            "since": self.since,
            "until": self.until,
            "signals_present": sorted(k for k, v in self.signals.items() if v),
            "signals_absent": sorted(k for k, v in self.signals.items() if not v),
            "pii_masked": not self.show_pii,
            "detectors": per_detector,
            "timings_seconds": {
                "read": round(self.read_seconds, 3),
                **{name: round(run.seconds, 3) for name, run in self.detectors.items()},
                "total": round(self.total_seconds, 3),
            },
            "gate": self.gate,
            "engine": self.engine,
        }


class DetectGateFailed(GateFailed):
    """``--fail-on`` was met; carries the run's summary (all outputs are written)."""

    def __init__(self, message: str, summary: DetectRunSummary) -> None:
        super().__init__(message)
        self.summary = summary


def parse_bound(value: str | None, *, upper: bool) -> pd.Timestamp | None:
    """``--since``/``--until``: a date or a date-time in the shop's wall clock.

    A date-only ``--until 2026-11-11`` includes the whole of that day.
    """
    if value is None or value == "":
        return None
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        flag = "--until" if upper else "--since"
        raise UsageError(f"{flag} {value!r} is not a date or date-time") from exc
    if stamp.tzinfo is not None:
        stamp = stamp.tz_localize(None)
    if upper and len(value.strip()) <= 10:
        stamp = stamp + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
    return stamp


def _instantiate(name: str, params: Mapping[str, Any], show_pii: bool) -> Detector:
    detector = load_detector(name)
    accepted = detector.get_params()
    for key in params:
        if key not in accepted:
            raise UsageError(f"{name}: unknown parameter {key!r}")
    settings = {k: v for k, v in params.items() if v is not None}
    if "show_pii" in accepted:
        settings["show_pii"] = show_pii
    return detector.set_params(**settings)


def _flagged_count(detector: Detector, result: DetectionResult) -> int:
    labels = getattr(detector, "labels_", None)
    if labels is not None:
        return int(pd.Series(labels).astype(bool).sum())
    return int(result.summary.get("flagged_orders", 0))


def _record_metrics(
    metrics: RunMetrics, orders: int, runs: Mapping[str, DetectorRun], detectors: list[Detector]
) -> None:
    metrics.counter(
        "riskkit_detect_orders_total", "Orders analysed by riskkit detect (after --since/--until)."
    ).inc(orders)
    flagged = metrics.counter(
        "riskkit_detect_flagged_orders_total", "Orders flagged, per detector.", ("detector",)
    )
    groups = metrics.gauge(
        "riskkit_detect_groups",
        "Flagged groups (rings, clusters, windows) of the last run, per detector and severity.",
        ("detector", "severity"),
    )
    duration = metrics.gauge(
        "riskkit_detect_duration_seconds", "Wall time of one detector's fit.", ("detector",)
    )
    for name, run in runs.items():
        flagged.labels(detector=name).inc(run.flagged_orders)
        for severity, count in run.severity_counts().items():
            groups.labels(detector=name, severity=severity).set(count)
        duration.labels(detector=name).set(run.seconds)
    for detector in detectors:
        detector.export_metrics(metrics)


def run_detectors(
    names: Sequence[str],
    inputs: Sequence[str | Path],
    out_dir: str | Path,
    fmt: str | None = None,
    columns: str | Path | None = None,
    since: str | None = None,
    until: str | None = None,
    fail_on: str | None = None,
    show_pii: bool = False,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    metrics: RunMetrics | None = None,
    engine: EngineOptions | None = None,
) -> DetectRunSummary:
    """Read ``inputs`` once, run each named detector, write every output.

    ``engine`` chooses where the work runs (:mod:`riskkit.detect.engine`):
    pandas in this process by default, or Dask.

    Raises :class:`~riskkit.errors.GateFailed` (after writing everything)
    when ``fail_on`` is given and a finding at or above it exists.
    """
    if not names:
        raise UsageError("no detector to run")
    if fail_on is not None and fail_on not in ("low", "medium", "high"):
        raise UsageError(f"--fail-on must be low, medium or high, not {fail_on!r}")
    params = params or {}
    metrics = metrics or RunMetrics("detect")
    started = time.perf_counter()
    out = Path(out_dir)
    lower, upper = parse_bound(since, upper=False), parse_bound(until, upper=True)
    # Instantiate first: a bad parameter fails before minutes of reading.
    detectors = [_instantiate(name, params.get(name, {}), show_pii) for name in names]
    fitted_detectors: dict[str, Detector] = {}

    with metrics.run(), open_engine(engine or EngineOptions()) as runner:
        read_started = time.perf_counter()
        read = runner.read(inputs, fmt, columns, lower, upper)
        summary = DetectRunSummary(
            out_dir=out,
            inputs=[str(p) for p in inputs],
            format=read.format,
            rows_read=read.rows_read,
            orders=read.orders,
            rejected_rows=len(read.rejected),
            since=None if lower is None else str(lower),
            until=None if upper is None else str(upper),
            signals=read.signals,
            read_seconds=time.perf_counter() - read_started,
            show_pii=show_pii,
            engine={**runner.describe(), "partitions": read.partitions},
        )
        out.mkdir(parents=True, exist_ok=True)
        if len(read.rejected):
            write_rejected(out / "rejected_rows.csv", read.rejected, show_pii)
        log.info("running %s with the %s engine", ", ".join(names), runner.name)
        for fitted in runner.fit(detectors):
            detector, result = fitted.detector, fitted.detector.result_
            run = DetectorRun(
                name=detector.name,
                result=result,
                seconds=fitted.seconds,
                flagged_orders=_flagged_count(detector, result),
                out_dir=out / detector.name,
            )
            write_detector_outputs(run.out_dir, result, show_pii)
            summary.detectors[detector.name] = run
            fitted_detectors[detector.name] = detector
        # Engines may finish detectors in any order; outputs list them as asked.
        summary.engine = {**runner.describe(), "partitions": read.partitions}
        order = [detector.name for detector in detectors]
        summary.detectors = {name: summary.detectors[name] for name in order}
        detectors = [fitted_detectors[name] for name in order]
        summary.total_seconds = time.perf_counter() - started
        summary.gate = _gate(summary, fail_on)
        write_summary(out / "summary.json", summary.as_dict())
        write_run_report(out / "report.html", summary.as_dict(), summary.detectors, show_pii)
        _record_metrics(metrics, summary.orders, summary.detectors, detectors)
        if summary.gate.get("failed"):
            raise DetectGateFailed(str(summary.gate["message"]), summary)
    return summary


def _gate(summary: DetectRunSummary, fail_on: str | None) -> dict[str, Any]:
    if fail_on is None:
        return {"fail_on": None, "failed": False}
    hits = {
        name: sum(1 for s in run.result.severities if severity_at_least(s, fail_on))
        for name, run in summary.detectors.items()
    }
    hits = {name: n for name, n in hits.items() if n}
    message = (
        "findings at or above severity "
        f"{fail_on}: " + ", ".join(f"{name} {n}" for name, n in hits.items())
        if hits
        else ""
    )
    return {
        "fail_on": fail_on,
        "failed": bool(hits),
        "findings_at_or_above": hits,
        "message": message,
    }
