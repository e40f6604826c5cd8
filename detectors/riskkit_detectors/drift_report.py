"""Report sections of the traffic-drift detector (charts built here, HTML in templates)."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from riskkit.detection import ReportSection
from riskkit.report import line_svg
from riskkit_detectors.sections import LazyChart

if TYPE_CHECKING:
    from riskkit_detectors.drift_windows import WindowedOrders

__all__ = ["traffic_section"]


# Charts of category shares: at most this many features, this many categories each.
_MAX_SHARE_CHARTS = 4
_MAX_CATEGORIES = 5


def _labels(starts: pd.DatetimeIndex, window: pd.Timedelta) -> list[str]:
    fmt = "%m-%d" if window >= pd.Timedelta(days=1) else "%m-%d %H:%M"
    return [start.strftime(fmt) for start in starts]


def traffic_section(
    scope: str,
    binned: WindowedOrders,
    outcomes: list[Any],
    windows: pd.DataFrame,
    findings: pd.DataFrame,
) -> ReportSection:
    """Volume and per-feature scores over time, drifted windows shaded."""
    x = list(binned.starts.to_pydatetime())
    marks = [x[w] for w, outcome in enumerate(outcomes) if outcome.drifted]
    charts = [
        {
            "title": "Orders per window",
            "svg": LazyChart(
                partial(
                    line_svg,
                    x,
                    {"orders": binned.orders.tolist()},
                    "Orders per window",
                    marks=marks,
                )
            ),
        }
    ]
    scores: dict[str, list[float]] = {}
    for w, outcome in enumerate(outcomes):
        for test in outcome.tests:
            series = scores.setdefault(test.feature, [float("nan")] * len(outcomes))
            series[w] = min(float(test.score), 10.0)
    if scores:
        charts.append(
            {
                "title": "Drift score by feature (1 = threshold; capped at 10)",
                "svg": LazyChart(
                    partial(
                        line_svg,
                        x,
                        dict(sorted(scores.items())),
                        "Drift score by feature",
                        marks=marks,
                    )
                ),
            }
        )
    moved = list(dict.fromkeys(findings["feature"].tolist())) if len(findings) else []
    for name in [f for f in moved if f in binned.features][:_MAX_SHARE_CHARTS]:
        feature = binned.features[name]
        if feature.kind != "categorical":
            continue
        totals = feature.counts.sum(axis=1, keepdims=True)
        shares = np.divide(
            feature.counts, totals, out=np.full_like(feature.counts, np.nan), where=totals > 0
        )
        swing = np.nanmax(shares, axis=0) - np.nanmin(shares, axis=0)
        top = np.argsort(-np.nan_to_num(swing))[:_MAX_CATEGORIES]
        share_series = {feature.labels[i]: shares[:, i].tolist() for i in top}
        charts.append(
            {
                "title": f"{name}: share of orders",
                "svg": LazyChart(
                    partial(line_svg, x, share_series, f"{name}: share of orders", marks=marks)
                ),
            }
        )
    drifted = windows[windows["drifted"]]
    annotated = windows[windows["annotation"].str.startswith("promotion")]
    return ReportSection(
        title="Traffic drift over time" + ("" if scope == "all" else f" — shop {scope}"),
        template="drift_section.html",
        context={
            "window": str(binned.window),
            "window_labels": _labels(binned.starts, binned.window),
            "charts": charts,
            "drifted_windows": drifted.to_dict("records"),
            "annotated_windows": annotated.to_dict("records"),
            "findings": findings.to_dict("records"),
            "windows_total": len(windows),
            "scope": scope,
        },
    )
