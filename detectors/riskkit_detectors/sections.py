"""The DetectionResult and report section of an order-level ring detector."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from riskkit.detection import DetectionResult, ReportSection
from riskkit.report import histogram_svg, line_svg
from riskkit_detectors.findings import build_outputs
from riskkit_detectors.order_view import OrderView

__all__ = ["LazyChart", "order_detector_result"]

_TABLE_ROWS = 50
_TIMELINES = 5


class LazyChart:
    """A chart drawn only when the report is rendered (jinja calls ``__html__``).

    A detector's ``fit`` (in a test, a benchmark, ``--json`` piping) should not
    pay for charts that nobody renders.
    """

    def __init__(self, draw: Callable[[], Any]) -> None:
        self._draw = draw
        self._html: str | None = None

    def __html__(self) -> str:
        if self._html is None:
            self._html = str(self._draw())
        return self._html


def _timeline(created: pd.Series, group_id: str) -> Any:
    span = created.max() - created.min()
    freq = "h" if span <= pd.Timedelta(days=3) else "D"
    counts = created.dt.floor(freq).value_counts().sort_index()
    full = pd.date_range(counts.index.min(), counts.index.max(), freq=freq)
    counts = counts.reindex(full, fill_value=0)
    unit = "hour" if freq == "h" else "day"
    return line_svg(
        list(counts.index.to_pydatetime()),
        {f"orders per {unit}": counts.to_numpy(dtype=float).tolist()},
        f"{group_id}: orders per {unit}",
    )


def order_detector_result(
    detector: str,
    title: str,
    template: str,
    scores: pd.DataFrame,
    findings: pd.DataFrame,
    rows: list[dict[str, Any]],
    view: OrderView,
    summary: dict[str, Any],
    unavailable: dict[str, str],
) -> DetectionResult:
    """Tables, JSONL findings, severities and the report section of one run."""
    severities = [str(r["severity"]) for r in rows]
    score_values = scores["score"].to_numpy(dtype=float)
    created = view.orders["created_at"]
    group_ids = scores["group_id"].to_numpy()
    timelines = []
    for row in rows[:_TIMELINES]:
        member = group_ids == row["group_id"]
        if member.any() and created[member].notna().any():
            stamps, gid = created[member].dropna(), str(row["group_id"])
            timelines.append(
                {"group_id": gid, "svg": LazyChart(lambda s=stamps, g=gid: _timeline(s, g))}
            )
    context = {
        "title": title,
        "n_orders": int(summary.get("orders", len(scores))),
        "flagged_orders": int(summary.get("flagged_orders", 0)),
        "groups": [{k: v for k, v in r.items() if k != "order_ids"} for r in rows[:_TABLE_ROWS]],
        "more_groups": max(len(rows) - _TABLE_ROWS, 0),
        "timelines": timelines,
        "histogram": LazyChart(
            lambda: histogram_svg(
                score_values if len(score_values) else np.zeros(1),
                f"{detector}: order scores",
                xlabel="score (0-1, higher = more suspicious)",
            )
        ),
        "unavailable": sorted(unavailable.items()),
        "summary": summary,
    }
    return DetectionResult(
        detector=detector,
        tables={"scores.csv": scores, "findings.csv": findings},
        findings=rows,
        severities=severities,
        summary=summary,
        unavailable=unavailable,
        sections=[ReportSection(title=title, template=template, context=context)],
    )


def publish_rings(
    detector: Any,
    view: OrderView,
    groups: Any,
    title: str,
    template: str,
    summary: dict[str, Any],
    unavailable: dict[str, str],
) -> None:
    """Set a ring detector's fitted state from its scored groups.

    ``groups`` carries ``order_score``, ``order_group``, ``flagged``,
    ``order_reasons`` and ``verdicts`` (brushing and coupon-abuse groups alike);
    ``summary`` gets the counts every ring detector reports.
    """
    scores, findings, rows = build_outputs(
        detector.name,
        view,
        groups.order_score,
        groups.order_group,
        groups.flagged,
        groups.order_reasons,
        groups.verdicts,
    )
    detector.decision_scores_ = scores["score"].to_numpy(dtype=float)
    detector.labels_ = groups.flagged.astype(int)
    detector.threshold_ = detector.threshold
    counts = {"flagged_orders": int(groups.flagged.sum()), "groups": len(rows)}
    detector.result_ = order_detector_result(
        detector.name,
        title,
        template,
        scores,
        findings,
        rows,
        view,
        {**summary, **counts},
        unavailable,
    )
