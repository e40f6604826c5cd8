"""Turn compared cells into findings: the table, reasons, example order pairs, report."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from riskkit.detection import DetectionResult, ReportSection
from riskkit.report import line_svg
from riskkit_detectors.sections import LazyChart

if TYPE_CHECKING:
    from riskkit_detectors.price_discrimination import PriceDiscriminationDetector

__all__ = ["FINDING_COLUMNS", "assemble_findings"]

NAME = "price-discrimination"
FINDING_COLUMNS = [
    "sku_id",
    "attribute",
    "cohort",
    "reference_cohort",
    "window_start",
    "window_end",
    "price_ratio",
    "ci_low",
    "ci_high",
    "p_value",
    "q_value",
    "n_cohort",
    "n_reference",
    "flagged",
    "reasons",
    # beyond the contract: the facts the reasons are built from
    "gap_yuan",
    "material_days",
    "days",
    "strata",
]
_EXAMPLE_STRATA = 3
_MAX_CHARTS = 8
_NS_PER_HOUR = 3_600_000_000_000


def _reason(row: Any, detector: PriceDiscriminationDetector) -> str:
    gap_pct = (row.price_ratio - 1) * 100
    who = f"{row.attribute}={row.cohort_label}"
    fact = (
        f"{who} paid ¥{row.gap_yuan:.2f} ({gap_pct:+.1f}%) per unit vs {row.reference_cohort} "
        f"in {int(row.strata)} like-for-like strata; gap on {int(row.material_days)} of "
        f"{int(row.days)} days; q={row.q_value:.2g}"
    )
    if row.flagged:
        return fact
    why = []
    if not row.material:
        why.append(
            f"gap below the material floor ({detector.min_gap_pct:g}% and ¥{detector.min_gap_yuan:g})"
        )
    if not row.significant:
        why.append(f"not significant at FDR {detector.fdr:g}")
    if not row.recurring:
        why.append(f"gap on fewer than {detector.min_days} days")
    return fact + " — not flagged: " + "; ".join(why)


def _hour_start(bucket: int, buckets_per_day: int) -> pd.Timestamp:
    hours = bucket if buckets_per_day == 24 else bucket * 24
    return pd.Timestamp(int(hours) * _NS_PER_HOUR)


def assemble_findings(
    detector: PriceDiscriminationDetector,
    cells: pd.DataFrame | None,
    unavailable: dict[str, str],
    context: dict[str, Any],
) -> DetectionResult:
    from riskkit_detectors.price_discrimination import price_severity

    if cells is None or cells.empty:
        table = pd.DataFrame(
            {c: pd.Series(dtype=bool if c == "flagged" else object) for c in FINDING_COLUMNS}
        )
        return DetectionResult(
            detector=NAME,
            tables={"findings.csv": table},
            summary={"cells_tested": 0, "cells_flagged": 0, "skus_flagged": 0},
            unavailable=unavailable,
            sections=[_section(detector, table, [], {}, unavailable)],
        )
    per_day = context["buckets_per_day"]
    step = pd.Timedelta(hours=1) if per_day == 24 else pd.Timedelta(days=1)
    cells = cells.sort_values(["flagged", "q_value"], ascending=[False, True], kind="stable")
    cells = cells.reset_index(drop=True)
    table = pd.DataFrame(
        {
            "sku_id": np.asarray(context["sku_labels"], dtype=object)[cells["sku"].to_numpy()],
            "attribute": cells["attribute"],
            "cohort": cells["cohort_label"],
            "reference_cohort": cells["reference_cohort"],
            "window_start": [_hour_start(b, per_day) for b in cells["bucket_min"]],
            "window_end": [_hour_start(b, per_day) + step for b in cells["bucket_max"]],
            "price_ratio": cells["price_ratio"].round(6),
            "ci_low": cells["ci_low"].round(6),
            "ci_high": cells["ci_high"].round(6),
            "p_value": cells["p_value"],
            "q_value": cells["q_value"],
            "n_cohort": cells["m"].astype(np.int64),
            "n_reference": cells["n"].astype(np.int64),
            "flagged": cells["flagged"].astype(bool),
            "reasons": [_reason(row, detector) for row in cells.itertuples()],
            "gap_yuan": cells["gap_yuan"].round(4),
            "material_days": cells["material_days"].astype(np.int64),
            "days": cells["days"].astype(np.int64),
            "strata": cells["strata"].astype(np.int64),
        }
    )
    flagged = cells[cells["flagged"]]
    examples = _example_pairs(flagged, context)
    findings: list[dict[str, Any]] = []
    severities: list[str] = []
    for index in flagged.index:
        row = table.loc[index]
        severity = price_severity(float(row["price_ratio"]) - 1)
        severities.append(severity)
        record = {key: row[key] for key in FINDING_COLUMNS}
        record.update(
            {
                "detector": NAME,
                "severity": severity,
                "window_start": row["window_start"].isoformat(),
                "window_end": row["window_end"].isoformat(),
                "flagged": True,
                "reasons": [row["reasons"]],
                "example_pairs": examples.get(index, []),
            }
        )
        findings.append(_plain(record))
    charts = _charts(flagged, table, context)
    summary = {
        "cells_tested": len(table),
        "cells_flagged": len(flagged),
        "skus_flagged": int(table.loc[table["flagged"], "sku_id"].nunique()),
        "attributes": sorted(cells["attribute"].unique().tolist()),
        "fdr": detector.fdr,
        "bucket": detector.bucket,
    }
    return DetectionResult(
        detector=NAME,
        tables={"findings.csv": table},
        findings=findings,
        severities=severities,
        summary=summary,
        unavailable=unavailable,
        sections=[_section(detector, table, charts, summary, unavailable)],
    )


def _plain(record: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, float) and not np.isfinite(value):
            value = None
        out[key] = value
    return out


def _example_pairs(
    flagged: pd.DataFrame, context: dict[str, Any]
) -> dict[int, list[dict[str, Any]]]:
    """Up to three strata per flagged cell, each as (dearest cohort line, cheapest other line)."""
    if flagged.empty:
        return {}
    frame: pd.DataFrame = context["frame"]
    price: np.ndarray = context["price"]
    line_stratum = context["strata"].code
    chosen: dict[int, list[int]] = {}
    cohorts_of: dict[int, tuple[np.ndarray, int]] = {}
    for position, row in zip(flagged.index.tolist(), flagged.to_dict("records"), strict=True):
        index = int(position)
        pairs = context["pairs"][row["attribute"]]
        mine = np.flatnonzero((pairs["sku"] == row["sku"]) & (pairs["cohort"] == row["cohort"]))
        gaps = pairs["w_gap"][mine] / pairs["weight"][mine]
        top = mine[np.argsort(-gaps)[:_EXAMPLE_STRATA]]
        chosen[index] = pairs["stratum"][top].tolist()
        cohorts_of[index] = (context["cohorts"][row["attribute"]][0], int(row["cohort"]))
    wanted = np.unique(np.concatenate([np.asarray(v, dtype=np.int64) for v in chosen.values()]))
    lines = np.flatnonzero(np.isin(line_stratum, wanted))
    by_stratum: dict[int, np.ndarray] = {}
    for stratum in wanted:
        by_stratum[int(stratum)] = lines[line_stratum[lines] == stratum]
    order_id = frame["order_id"]
    created = frame["created_at"]
    out: dict[int, list[dict[str, Any]]] = {}
    for index, strata_ids in chosen.items():
        codes, cohort = cohorts_of[index]
        examples = []
        for stratum in strata_ids:
            members = by_stratum[int(stratum)]
            own = members[codes[members] == cohort]
            rest = members[(codes[members] != cohort) & (codes[members] >= 0)]
            if not len(own) or not len(rest):
                continue
            dear = own[np.argmax(price[own])]
            cheap = rest[np.argmin(price[rest])]
            examples.append(
                {
                    "cohort_order_id": str(order_id.iloc[dear]),
                    "cohort_price": float(price[dear]),
                    "cohort_created_at": str(created.iloc[dear]),
                    "reference_order_id": str(order_id.iloc[cheap]),
                    "reference_price": float(price[cheap]),
                    "reference_created_at": str(created.iloc[cheap]),
                }
            )
        out[index] = examples
    return out


def _charts(
    flagged: pd.DataFrame, table: pd.DataFrame, context: dict[str, Any]
) -> list[dict[str, Any]]:
    charts = []
    head = flagged.head(_MAX_CHARTS)
    for index, row in zip(head.index.tolist(), head.to_dict("records"), strict=True):
        daily = context["daily"][row["attribute"]]
        pairs = context["pairs"][row["attribute"]]
        mine = np.flatnonzero((pairs["sku"] == row["sku"]) & (pairs["cohort"] == row["cohort"]))
        cell = int(pairs["cell"][mine[0]])
        days = daily[daily["cell"] == cell].sort_values("day")
        x = [pd.Timestamp(int(d) * 24 * _NS_PER_HOUR).to_pydatetime() for d in days["day"]]
        reference = days["reference_price"].to_numpy()
        cohort = reference + days["gap_yuan"].to_numpy()
        found = table.loc[index]
        title = f"{found['sku_id']}: {found['attribute']}={found['cohort']} vs {found['reference_cohort']}"
        charts.append(
            {
                "title": title,
                "svg": LazyChart(
                    partial(
                        line_svg,
                        x,
                        {
                            str(found["cohort"]): cohort.tolist(),
                            str(found["reference_cohort"]): reference.tolist(),
                        },
                        title,
                        ylabel="unit price (¥, like-for-like)",
                    )
                ),
            }
        )
    return charts


def _section(
    detector: PriceDiscriminationDetector,
    table: pd.DataFrame,
    charts: list[dict[str, Any]],
    summary: dict[str, Any],
    unavailable: dict[str, str],
) -> ReportSection:
    flagged = table[table["flagged"]] if len(table) else table
    return ReportSection(
        title="Price discrimination by buyer cohort",
        template="price_section.html",
        context={
            "flagged": flagged.head(200).to_dict("records"),
            "cells_tested": len(table),
            "charts": charts,
            "fdr": detector.fdr,
            "min_gap_pct": detector.min_gap_pct,
            "min_gap_yuan": detector.min_gap_yuan,
            "min_days": detector.min_days,
            "bucket": detector.bucket,
            "unavailable_attributes": sorted(unavailable.items()),
        },
    )
