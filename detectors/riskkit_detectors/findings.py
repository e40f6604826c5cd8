"""The output contract shared by the order-level detectors.

``scores.csv``: one row per input order (``order_id, score, flagged,
group_id, reasons``).  ``findings.csv`` / ``findings.jsonl``: one row per
flagged group (``group_id, detector, severity, score, n_orders, n_accounts,
shops, skus, window_start, window_end, shared_identifiers, reasons``; the
JSONL row adds ``order_ids``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from riskkit_detectors.order_view import OrderView

__all__ = [
    "FINDING_COLUMNS",
    "SCORE_COLUMNS",
    "GroupVerdicts",
    "build_outputs",
    "join_reasons",
    "severity_of",
]

SCORE_COLUMNS = ("order_id", "score", "flagged", "group_id", "reasons")
FINDING_COLUMNS = (
    "group_id",
    "detector",
    "severity",
    "score",
    "n_orders",
    "n_accounts",
    "shops",
    "skus",
    "window_start",
    "window_end",
    "shared_identifiers",
    "reasons",
)


def severity_of(score: np.ndarray, medium: float, high: float) -> np.ndarray:
    return np.where(score >= high, "high", np.where(score >= medium, "medium", "low"))


def join_reasons(parts: list[np.ndarray]) -> np.ndarray:
    """Join per-row reason fragments (``""`` = none) with ``"; "``.

    Only rows with at least one fragment are touched: most orders have none.
    """
    if not parts:
        return np.array([], dtype=object)
    n = len(parts[0])
    out = np.full(n, "", dtype=object)
    arrays = [np.asarray(p, dtype=object) for p in parts]
    any_present = np.logical_or.reduce([a != "" for a in arrays])
    rows = np.flatnonzero(any_present)
    if not len(rows):
        return out
    joined = arrays[0][rows].copy()
    for array in arrays[1:]:
        fragment = array[rows]
        separator = np.where((joined != "") & (fragment != ""), "; ", "").astype(object)
        joined = joined + separator + fragment
    out[rows] = joined
    return out


@dataclass
class GroupVerdicts:
    """Flagged groups: ``code`` (the group code the order arrays use), ``group_id``,
    ``score``, ``severity``, ``reasons`` and ``shared_identifiers`` (strings)."""

    table: pd.DataFrame


def _list_text(values: pd.Series, limit: int = 10) -> str:
    uniques = [str(v) for v in pd.unique(values.dropna())]
    text = ", ".join(uniques[:limit])
    if len(uniques) > limit:
        text += f" (+{len(uniques) - limit} more)"
    return text


def build_outputs(
    detector: str,
    view: OrderView,
    order_score: np.ndarray,
    order_group: np.ndarray,
    flagged: np.ndarray,
    order_reasons: np.ndarray,
    verdicts: GroupVerdicts,
) -> tuple[pd.DataFrame, pd.DataFrame, list[dict[str, Any]]]:
    """``scores.csv`` frame, ``findings.csv`` frame and the JSONL rows."""
    groups = verdicts.table.set_index("code")
    orders = view.orders
    group_code = np.where(flagged, order_group, -1)
    group_id = pd.Series(groups["group_id"]).reindex(group_code).fillna("").to_numpy()
    group_reason = pd.Series(groups["reasons"]).reindex(group_code).fillna("").to_numpy()
    reasons = join_reasons([group_reason.astype(object), order_reasons])
    scores = pd.DataFrame(
        {
            "order_id": orders["order_id"].to_numpy(),
            "score": np.round(np.clip(order_score, 0.0, 1.0), 4),
            "flagged": np.where(flagged, "true", "false"),
            "group_id": group_id,
            "reasons": reasons,
        }
    )
    rows: list[dict[str, Any]] = []
    member_index = np.flatnonzero(group_code >= 0)
    members = orders.iloc[member_index][["order_id", "buyer_id", "shop_id", "created_at"]].copy()
    members["code"] = group_code[member_index]
    lines = view.lines
    line_member = group_code[lines["order_pos"].to_numpy()]
    member_lines = lines[line_member >= 0].assign(code=line_member[line_member >= 0])
    skus_by_group = {code: frame["sku_id"] for code, frame in member_lines.groupby("code")}
    for code, frame in members.groupby("code", sort=True):
        verdict = groups.loc[code]
        created = frame["created_at"]
        rows.append(
            {
                "group_id": str(verdict["group_id"]),
                "detector": detector,
                "severity": str(verdict["severity"]),
                "score": round(float(verdict["score"]), 4),
                "n_orders": len(frame),
                "n_accounts": int(frame["buyer_id"].nunique()),
                "shops": _list_text(frame["shop_id"]),
                "skus": _list_text(skus_by_group.get(code, pd.Series(dtype="string"))),
                "window_start": "" if created.isna().all() else str(created.min()),
                "window_end": "" if created.isna().all() else str(created.max()),
                "shared_identifiers": str(verdict["shared_identifiers"]),
                "reasons": str(verdict["reasons"]),
                "order_ids": [str(o) for o in frame["order_id"]],
            }
        )
    rows.sort(key=lambda r: (-r["score"], r["group_id"]))
    findings = pd.DataFrame(
        [{k: r[k] for k in FINDING_COLUMNS} for r in rows], columns=list(FINDING_COLUMNS)
    )
    return scores, findings, rows
