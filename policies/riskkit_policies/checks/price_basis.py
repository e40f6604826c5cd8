"""A compared price's stated basis is a claim to verify, not an exemption.

``compare_basis_label`` (e.g. ``划线价为活动前7日内最低成交价``) is read with the
policy files' ``price_basis_labels`` grammar; the basis it names is computed from
the orders or the price history and the compared price must not exceed it.  Only
a basis the shop's own evidence cannot show (专柜价, 吊牌价, 厂商建议零售价) is
``not_checked``, with the grammar entry's reason; a label no entry reads is
``not_checked`` with the label quoted.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

from riskkit.comply.evidence import Evidence, EvidenceMissing
from riskkit.comply.models import WINDOWED_CHECKS, Outcome, Status
from riskkit.comply.templates.base import (
    CheckContext,
    Params,
    Template,
    clean,
    not_applicable,
    records,
)
from riskkit.comply.vocabulary import BasisReading
from riskkit_policies.checks.price_windows import (
    attach_promotions,
    basis_events,
    format_times,
    last_before,
    reference_prices,
    window_rows,
)

__all__ = ["PRICE_BASIS_TEMPLATES"]

_EVIDENCE_ROWS = 40
_TIME = "%Y-%m-%d %H:%M:%S"


class StatedBasisParams(Params):
    tolerance: float = 0.005


def _labelled_promotions(ctx: CheckContext[StatedBasisParams]) -> pd.DataFrame:
    catalog = ctx.evidence.catalog()
    label = catalog["compare_basis_label"].astype("string").fillna("").str.strip()
    mask = catalog["compare_at_price"].notna() & catalog["promo_start"].notna()
    mask &= (catalog["promo_start"] >= ctx.effective_ts) & (label != "")
    return catalog.loc[mask].assign(label=label[mask].astype(str)).reset_index(drop=True)


def _describe(reading: BasisReading, basis_used: str) -> str:
    if basis_used == "last_transaction":
        return "last transaction price before the promotion (no sale in the window)"
    check = reading.entry.verify
    if check == "lowest_transaction":
        return f"lowest transaction price of the {reading.days} days before the promotion"
    if check == "lowest_offered":
        return f"lowest offered price of the {reading.days} days before the promotion"
    if check == "prevailing_offered":
        return f"price offered longest in the {reading.days} days before the promotion"
    return "price offered just before the promotion"


def _references(
    evidence: Evidence, promos: pd.DataFrame, reading: BasisReading
) -> tuple[pd.DataFrame, list[pd.DataFrame], str]:
    """``promos`` with ``window_start``, ``reference``, ``basis_used`` and ``window_count``;
    the events behind the references (``code, at, price, file_row``); the source file."""
    entry = reading.entry
    basis: Literal["transaction", "offered"] = (
        "transaction" if entry.verify == "lowest_transaction" else "offered"
    )
    events, source = basis_events(evidence, basis)
    if entry.verify == "price_before_promotion":
        promos = promos.assign(window_start=promos["promo_start"])
        attached = attach_promotions(events, promos)
        last = last_before(attached, attached["at"] < attached["promo_start"])
        reference = last["price"].reindex(pd.RangeIndex(len(promos)))
        merged = promos.assign(
            reference=reference.to_numpy(dtype="float64"),
            basis_used="last_offered",
            window_count=reference.notna().astype(int).to_numpy(),
        )
        return merged, [last.reset_index()[["code", "at", "price", "file_row"]]], source
    promos = promos.assign(
        window_start=promos["promo_start"].dt.normalize() - pd.Timedelta(days=reading.days or 0)
    )
    statistic: Literal["min", "prevailing"] = (
        "prevailing" if entry.verify == "prevailing_offered" else "min"
    )
    merged, parts = reference_prices(
        promos, events, basis, statistic, entry.fallback_last_transaction
    )
    return merged, parts, source


def _judge(
    merged: pd.DataFrame,
    parts: list[pd.DataFrame],
    source: str,
    reading: BasisReading,
    tolerance: float,
) -> list[Outcome]:
    reference = merged["reference"].to_numpy(dtype="float64")
    compare = merged["compare_at_price"].to_numpy(dtype="float64")
    failing = np.isnan(reference) | (compare > reference + tolerance)
    rows = window_rows(parts, np.flatnonzero(failing), _EVIDENCE_ROWS)
    promo = format_times(merged["promo_start"], _TIME)
    window_from = format_times(merged["window_start"], "%Y-%m-%d")
    outcomes = []
    for code, r in enumerate(records(merged)):
        describe = _describe(reading, str(r["basis_used"]))
        label, shown, ref = r["label"], float(compare[code]), clean(r["reference"])
        evidence: dict[str, object] = {
            "catalog_row": int(r["file_row"]),
            "title": clean(r["title"]),
            "compare_basis_label": label,
            "label_read_as": {"matched": reading.matched, "verify": reading.entry.verify},
            "compare_at_price": shown,
            "price": clean(r["price"]),
            "reference_price": ref,
            "reference_basis": describe,
            "window": {"from": window_from[code], "to_before": promo[code], "days": reading.days},
            "events_in_window": int(r["window_count"]),
            "source": source,
        }
        status: Status = "fail" if failing[code] else "pass"
        if ref is None:
            message = f"stated basis {label!r} cannot be shown true: no {describe} in {source}"
        elif failing[code]:
            message = (
                f"stated basis {label!r} is false: the compared price {shown:g} is above "
                f"the {describe}, {ref:g}"
            )
        else:
            message = (
                f"stated basis {label!r} holds: compared price {shown:g} ≤ the {describe}, {ref:g}"
            )
        if failing[code]:
            evidence["rows"] = rows.get(code, [])
        outcomes.append(Outcome(f"sku:{r['sku_id']}", status, message, evidence))
    return outcomes


def _unchecked(row: dict[str, Any], message: str) -> Outcome:
    return Outcome(
        subject=f"sku:{row['sku_id']}",
        status="not_checked",
        message=message,
        evidence={
            "catalog_row": int(row["file_row"]),
            "compare_basis_label": row["label"],
            "compare_at_price": clean(row["compare_at_price"]),
        },
    )


def stated_price_basis(ctx: CheckContext[StatedBasisParams]) -> list[Outcome]:
    promos = _labelled_promotions(ctx)
    if promos.empty:
        return not_applicable(
            "no compared price with a stated basis on a promotion starting on/after the "
            "effective date"
        )
    vocabulary = ctx.evidence.vocabulary
    label_codes, labels = pd.factorize(promos["label"])
    readings = [vocabulary.read_price_basis(str(label)) for label in labels]
    outcomes: list[Outcome] = []
    checkable: dict[int, tuple[BasisReading, list[int]]] = {}  # label -> its promotions
    rows = records(promos)
    for position, code in enumerate(label_codes.tolist()):
        reading, row = readings[code], rows[position]
        if reading is None or (reading.entry.verify in WINDOWED_CHECKS and not reading.days):
            outcomes.append(
                _unchecked(
                    row,
                    f"stated basis {row['label']!r} is not a label riskkit can read; add a "
                    "pattern under price_basis_labels in a policy file (--policies-dir)",
                )
            )
        elif reading.entry.verify == "not_verifiable":
            outcomes.append(
                _unchecked(
                    row,
                    f"stated basis {row['label']!r} ({reading.matched}) cannot be verified "
                    f"from the evidence: {reading.entry.reason}",
                )
            )
        else:
            checkable.setdefault(code, (reading, []))[1].append(position)
    for reading, positions in checkable.values():
        part = promos.iloc[positions].reset_index(drop=True)
        try:
            merged, parts, source = _references(ctx.evidence, part, reading)
        except EvidenceMissing as missing:
            outcomes += [_unchecked(row, missing.reason) for row in records(part)]
            continue
        outcomes += _judge(merged, parts, source, reading, ctx.params.tolerance)
    return outcomes


PRICE_BASIS_TEMPLATES: list[Template] = [  # type: ignore[type-arg]
    Template(
        "stated_price_basis",
        StatedBasisParams,
        stated_price_basis,
        "A stated compared-price basis (前7日最低成交价, 原价, 日常价...) is true",
    ),
]
