"""The traffic-drift detector's outputs: tables, JSONL findings, severities, sections."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from riskkit.detection import DetectionResult
from riskkit_detectors.drift_checks import FeatureTest
from riskkit_detectors.drift_report import traffic_section
from riskkit_detectors.drift_windows import WindowedOrders

__all__ = [
    "FINDING_COLUMNS",
    "WINDOW_COLUMNS",
    "Scope",
    "WindowOutcome",
    "assemble_result",
    "traffic_severity",
]

NAME = "traffic-drift"
MAX_SHOP_SECTIONS = 8
WINDOW_COLUMNS = [
    "window_start",
    "window_end",
    "orders",
    "drift_score",
    "drifted",
    "annotation",
    "scope",
]
FINDING_COLUMNS = [
    "window_start",
    "window_end",
    "feature",
    "test",
    "value",
    "threshold",
    "drifted",
    "top_movers",
    "scope",
]


def _reported(key: str, value: float) -> float:
    # p- and q-values are read on a log scale: keep significant digits, not decimals
    if key in ("p_value", "q_value", "ks_p_value"):
        return float(f"{float(value):.3g}")
    return round(float(value), 6)


def traffic_severity(score: float) -> str:
    """Severity of a drifted feature from its value relative to the threshold."""
    if score >= 3.0:
        return "high"
    if score >= 1.5:
        return "medium"
    return "low"


@dataclass
class WindowOutcome:
    tests: list[FeatureTest] = field(default_factory=list)
    annotation: str = ""
    drifted: bool = False
    excused: bool = False
    tested: bool = False

    @property
    def score(self) -> float:
        finite = [t.score for t in self.tests if np.isfinite(t.score)]
        return max(finite, default=0.0)


@dataclass
class Scope:
    name: str  # "all" or a shop id
    binned: WindowedOrders
    outcomes: list[WindowOutcome]


def assemble_result(window: str, reference_windows: int, scopes: list[Scope]) -> DetectionResult:
    """``windows.csv``, ``findings.csv``, the JSONL findings and the report sections."""
    window_rows: list[dict[str, Any]] = []
    finding_rows: list[dict[str, Any]] = []
    findings: list[dict[str, Any]] = []
    severities: list[str] = []
    for scope in scopes:
        binned = scope.binned
        where = "" if scope.name == "all" else f"shop {scope.name}: "
        for w, outcome in enumerate(scope.outcomes):
            start, end = binned.starts[w], binned.ends[w]
            window_rows.append(
                {
                    "window_start": start,
                    "window_end": end,
                    "orders": int(binned.orders[w]),
                    "drift_score": round(outcome.score, 4),
                    "drifted": outcome.drifted,
                    "annotation": outcome.annotation,
                    "scope": scope.name,
                }
            )
            if not outcome.drifted:
                continue
            for test in outcome.tests:
                if not test.drifted:
                    continue
                severity = traffic_severity(test.score)
                row = {
                    "window_start": start,
                    "window_end": end,
                    "feature": test.feature,
                    "test": test.test,
                    "value": round(test.value, 6),
                    "threshold": round(test.threshold, 6),
                    "drifted": True,
                    "top_movers": test.top_movers,
                    "scope": scope.name,
                }
                finding_rows.append(row)
                severities.append(severity)
                findings.append(
                    {
                        "detector": NAME,
                        "severity": severity,
                        **row,
                        "window_start": start.isoformat(),
                        "window_end": end.isoformat(),
                        "score": round(test.score, 4),
                        **{k: _reported(k, v) for k, v in test.extra.items()},
                        "reasons": [f"{where}{test.feature} moved: {test.top_movers}"],
                    }
                )
    windows = pd.DataFrame(window_rows, columns=WINDOW_COLUMNS)
    finding_table = pd.DataFrame(finding_rows, columns=FINDING_COLUMNS)
    windows["drifted"] = windows["drifted"].astype(bool)
    finding_table["drifted"] = finding_table["drifted"].astype(bool)
    everything = scopes[0] if scopes else None
    summary = {
        "windows": len(everything.outcomes) if everything else 0,
        "scopes": [s.name for s in scopes],
        "windows_tested": sum(o.tested for s in scopes for o in s.outcomes),
        "windows_drifted": int(windows["drifted"].sum()),
        "windows_annotated": sum(o.excused for s in scopes for o in s.outcomes),
        "findings": len(finding_rows),
        "window": window,
        "reference_windows": reference_windows,
        "features": [*sorted(everything.binned.features), "volume"] if everything else [],
    }
    result = DetectionResult(
        detector=NAME,
        tables={"windows.csv": windows, "findings.csv": finding_table},
        findings=findings,
        severities=severities,
        summary=summary,
        unavailable=dict(everything.binned.unavailable) if everything else {},
    )
    # the marketplace, then the shops that drifted most (a report stays readable)
    shops = [s for s in scopes[1:] if any(o.drifted for o in s.outcomes)]
    shops.sort(key=lambda s: -max(o.score for o in s.outcomes if o.drifted))
    for scope in scopes[:1] + shops[:MAX_SHOP_SECTIONS]:
        rows = windows["scope"] == scope.name
        result.sections.append(
            traffic_section(
                scope.name,
                scope.binned,
                scope.outcomes,
                windows[rows],
                finding_table[finding_table["scope"] == scope.name],
            )
        )
    return result
