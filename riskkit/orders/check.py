"""``riskkit orders check``: what riskkit makes of an export, before any analysis."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from riskkit.metrics import RunMetrics
from riskkit.orders.formats import FORMATS
from riskkit.orders.read import read_orders
from riskkit.orders.schema import SIGNALS

__all__ = ["check_orders", "describe_formats"]

# check lists every problem rather than stopping at the first bad rows.
_LIST_ALL = 1.0


def check_orders(
    paths: list[str | Path],
    fmt: str | None = None,
    columns: str | Path | None = None,
    metrics: RunMetrics | None = None,
) -> dict[str, Any]:
    """Read the exports and describe them: format, counts, signals, problems."""
    started = time.perf_counter()
    table = read_orders(paths, fmt=fmt, columns=columns, max_rejected=_LIST_ALL)
    if metrics is not None:
        metrics.counter("riskkit_orders_rows_read_total", "Order rows read from exports.").inc(
            table.rows_read
        )
        metrics.counter(
            "riskkit_orders_rejected_rows_total", "Order rows quarantined as unreadable."
        ).inc(len(table.rejected))
        metrics.gauge(
            "riskkit_orders_check_duration_seconds", "Wall time of the last orders check."
        ).set(time.perf_counter() - started)
    report = table.summary()
    report["signals_missing"] = {
        signal: f"no values in column(s) {', '.join(cols)}"
        for signal, cols in SIGNALS.items()
        if not report["signals"][signal]
    }
    report["problems"] = [
        {
            "file": row["file"],
            "row": int(row["row"]),
            "column": row["column"],
            "reason": row["reason"],
            "value": None if row["value"] is None else str(row["value"]),
        }
        for row in table.rejected[["file", "row", "column", "reason", "value"]].to_dict("records")
    ]
    report["ok"] = not report["problems"]
    return report


def describe_formats() -> list[dict[str, Any]]:
    return [
        {
            "name": spec.name,
            "title": spec.title,
            "detected_by": sorted(spec.signature),
            "needs": spec.needs,
        }
        for spec in FORMATS.values()
    ]
