"""Pricing checks: reference-price window, pre-promotion rises, settled vs shown, list vs detail, unit price.

All vectorised (merges and group-bys, no per-SKU Python loops on the hot
path): a 1M-SKU catalogue with 30M price-history rows must stay fast.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from riskkit.comply.models import Outcome
from riskkit.comply.templates.base import (
    CheckContext,
    Params,
    Template,
    clean,
    not_applicable,
    records,
    without_gc,
)
from riskkit_policies.checks.price_spans import promoted_events
from riskkit_policies.checks.price_windows import (
    basis_events,
    format_times,
    reference_prices,
    window_rows,
)

__all__ = ["PRICING_TEMPLATES"]

_EVIDENCE_ROWS = 40  # rows listed per finding; the count and the minimum cover the rest
_TIME = "%Y-%m-%d %H:%M:%S"


class ReferencePriceParams(Params):
    basis: Literal["transaction", "offered"]
    window_days: int
    statistic: Literal["min", "prevailing"] = "min"
    fallback_last_transaction: bool = False
    only_unlabelled: bool = False
    check_percent: bool = False
    tolerance: float = 0.005
    percent_tolerance: float = 1.0


def _promotions(ctx: CheckContext[ReferencePriceParams]) -> pd.DataFrame:
    catalog = ctx.evidence.catalog()
    mask = catalog["compare_at_price"].notna() & catalog["promo_start"].notna()
    mask &= catalog["promo_start"] >= ctx.effective_ts
    if ctx.params.only_unlabelled:
        label = catalog["compare_basis_label"].astype("string").fillna("").str.strip()
        mask &= label == ""
    promos = catalog.loc[mask].copy()
    promos["window_start"] = promos["promo_start"].dt.normalize() - pd.to_timedelta(
        ctx.params.window_days, unit="D"
    )
    return promos


def _events(ctx: CheckContext[ReferencePriceParams]) -> tuple[pd.DataFrame, str]:
    """(sku_id, at, price, file_row) events of the chosen basis, and their file name."""
    return basis_events(ctx.evidence, ctx.params.basis)


def reference_price_window(ctx: CheckContext[ReferencePriceParams]) -> list[Outcome]:
    params = ctx.params
    promos = _promotions(ctx)
    if promos.empty:
        return not_applicable(
            "no compared price on a promotion starting on/after the effective date"
        )
    events, source = _events(ctx)
    merged, window = reference_prices(
        promos, events, params.basis, params.statistic, params.fallback_last_transaction
    )
    over = merged["compare_at_price"] > merged["reference"] + params.tolerance
    unverifiable = merged["reference"].isna()
    percent_bad = pd.Series(False, index=merged.index)
    computed_pct = (1 - merged["price"] / merged["reference"]) * 100
    if params.check_percent and "discount_pct_shown" in merged.columns:
        shown_pct = pd.to_numeric(merged["discount_pct_shown"], errors="coerce")
        percent_bad = shown_pct.notna() & (
            (shown_pct - computed_pct).abs() > params.percent_tolerance
        )
    failing = over | unverifiable | percent_bad
    rows_by_code = window_rows(window, np.flatnonzero(failing.to_numpy()), _EVIDENCE_ROWS)
    columns = {
        "sku": merged["sku_id"].astype(str).to_numpy(),
        "file_row": merged["file_row"].to_numpy(),
        "title": merged["title"].to_numpy(),
        "compare": merged["compare_at_price"].to_numpy(dtype="float64"),
        "price": merged["price"].to_numpy(dtype="float64"),
        "promo": format_times(merged["promo_start"], _TIME),
        "from": format_times(merged["window_start"], "%Y-%m-%d"),
        "reference": merged["reference"].to_numpy(dtype="float64"),
        "basis_used": merged["basis_used"].to_numpy(),
        "count": merged["window_count"].to_numpy(),
        "pct": computed_pct.round(2).to_numpy(dtype="float64"),
        "shown_pct": (
            pd.to_numeric(merged["discount_pct_shown"], errors="coerce").to_numpy(dtype="float64")
            if "discount_pct_shown" in merged.columns
            else np.full(len(merged), np.nan)
        ),
        "failing": failing.to_numpy(),
        "over": over.to_numpy(),
        "unverifiable": unverifiable.to_numpy(),
    }
    # Python lists, not numpy arrays: native scalars make the per-SKU loops several times faster
    lists = dict(zip(columns, (np.asarray(c).tolist() for c in columns.values()), strict=True))
    passing = ~failing.to_numpy()
    outcomes = [
        Outcome(
            subject=f"sku:{sku}",
            status="pass",
            message=f"compared price {compare:g} ≤ reference {reference:g}",
            evidence={
                "catalog_row": file_row,
                "compare_at_price": compare,
                "reference_price": reference,
                "reference_basis": basis_used,
                "window_from": window_from,
            },
        )
        for sku, file_row, compare, reference, basis_used, window_from, ok in zip(
            lists["sku"],
            lists["file_row"],
            lists["compare"],
            lists["reference"],
            lists["basis_used"],
            lists["from"],
            passing.tolist(),
            strict=True,
        )
        if ok
    ]
    for code in np.flatnonzero(~passing).tolist():
        row = {name: values[code] for name, values in lists.items()}
        evidence: dict[str, object] = {
            "catalog_row": int(row["file_row"]),
            "title": clean(row["title"]),
            "compare_at_price": clean(row["compare"]),
            "price": clean(row["price"]),
            "basis": params.basis,
            "window": {"from": row["from"], "to_before": row["promo"], "days": params.window_days},
            "statistic": params.statistic,
            "reference_price": clean(row["reference"]),
            "reference_basis": row["basis_used"],
            "events_in_window": int(row["count"]),
            "source": source,
            "rows": rows_by_code.get(code, []),
        }
        if params.check_percent:
            evidence["discount_pct_computed"] = clean(row["pct"])
            evidence["discount_pct_shown"] = clean(row["shown_pct"])
        if row["unverifiable"]:
            message = (
                f"no {params.basis} price before the promotion: the compared price "
                f"{row['compare']:g} cannot be verified"
            )
        elif row["over"]:
            message = (
                f"compared price {row['compare']:g} is above the "
                f"{params.window_days}-day {params.statistic} {params.basis} price "
                f"{row['reference']:g}"
            )
        else:
            message = (
                f"discount shown {row['shown_pct']:g}% but computed from the "
                f"prior price it is {row['pct']:.1f}%"
            )
        outcomes.append(
            Outcome(subject=f"sku:{row['sku']}", status="fail", message=message, evidence=evidence)
        )
    return outcomes


class PriceRiseParams(Params):
    rise_window_days: int = 7
    max_rise_ratio: float = 0.10


def price_rise_before_promo(ctx: CheckContext[PriceRiseParams]) -> list[Outcome]:
    catalog = ctx.evidence.catalog()
    promos = catalog.loc[
        catalog["promo_start"].notna() & (catalog["promo_start"] >= ctx.effective_ts)
    ].copy()
    if promos.empty:
        return not_applicable("no promotion starting on/after the effective date")
    history = ctx.evidence.price_history()
    promos["window_start"] = promos["promo_start"].dt.normalize() - pd.to_timedelta(
        ctx.params.rise_window_days, unit="D"
    )
    promos = promos.reset_index(drop=True)
    timeline = promoted_events(history[["sku_id", "at", "price", "file_row"]], promos)
    picked = {
        "base": timeline.pick(timeline.last_before_window()),
        "peak": timeline.pick(timeline.spans().highest(timeline)),
    }
    table = promos[["sku_id", "window_start", "promo_start"]].assign(
        **{
            f"{column}_{name}": values[column]
            for name, values in picked.items()
            for column in ("at", "price", "file_row")
        }
    )
    ratio = table["price_peak"] / table["price_base"] - 1
    columns = {
        "sku": table["sku_id"].astype(str).to_numpy(),
        "from": format_times(table["window_start"], "%Y-%m-%d"),
        "to": format_times(table["promo_start"], _TIME),
        "base_row": table["file_row_base"].to_numpy(dtype="float64"),
        "base_at": format_times(table["at_base"], _TIME),
        "base_price": table["price_base"].to_numpy(dtype="float64"),
        "peak_row": table["file_row_peak"].to_numpy(dtype="float64"),
        "peak_at": format_times(table["at_peak"], _TIME),
        "peak_price": table["price_peak"].to_numpy(dtype="float64"),
        "ratio": ratio.round(4).to_numpy(dtype="float64"),
    }
    limit = ctx.params.max_rise_ratio
    lists = dict(zip(columns, (np.asarray(c).tolist() for c in columns.values()), strict=True))
    raised = (ratio > limit).to_numpy()  # NaN (no change inside the window) is not a rise
    unknown = table["price_base"].isna().to_numpy()
    # one light outcome per SKU without a rise; full evidence only where it matters
    outcomes = [
        Outcome(
            subject=f"sku:{sku}",
            status="pass",
            message="no price rise above the limit before the promotion",
            evidence={
                "price_before_window": base,
                "highest_in_window": clean(peak),
                "rise_ratio": clean(r),
            },
        )
        for sku, base, peak, r, ok in zip(
            lists["sku"],
            lists["base_price"],
            lists["peak_price"],
            lists["ratio"],
            (~raised & ~unknown).tolist(),
            strict=True,
        )
        if ok
    ]
    outcomes += [
        Outcome(
            subject=f"sku:{lists['sku'][i]}",
            status="not_checked",
            message="no price history before the rise window",
        )
        for i in np.flatnonzero(unknown).tolist()
    ]
    for i in np.flatnonzero(raised).tolist():
        row = {name: values[i] for name, values in lists.items()}
        evidence: dict[str, object] = {
            "window": {"from": row["from"], "to_before": row["to"]},
            "price_before_window": {
                "file_row": int(row["base_row"]),
                "at": row["base_at"],
                "price": float(row["base_price"]),
            },
            "highest_in_window": {
                "file_row": int(row["peak_row"]),
                "at": row["peak_at"],
                "price": float(row["peak_price"]),
            },
            "rise_ratio": float(row["ratio"]),
            "max_rise_ratio": limit,
            "source": "price_history.csv",
        }
        outcomes.append(
            Outcome(
                subject=f"sku:{row['sku']}",
                status="fail",
                evidence=evidence,
                message=f"price raised {row['ratio']:.0%} in the "
                f"{ctx.params.rise_window_days} days before the promotion",
            )
        )
    return outcomes


class SettledPriceParams(Params):
    tolerance: float = 0.005


def settled_above_shown(ctx: CheckContext[SettledPriceParams]) -> list[Outcome]:
    orders = ctx.evidence.orders()
    lines = orders.loc[
        orders["created_at"].notna()
        & orders["unit_price"].notna()
        & (orders["created_at"] >= ctx.effective_ts)
    ]
    if lines.empty:
        return not_applicable("no order lines dated on/after the effective date")
    history = ctx.evidence.price_history()
    left = lines[["order_id", "sku_id", "created_at", "unit_price", "file_row"]].copy()
    left["sku_id"] = left["sku_id"].astype(str)
    right = history[["sku_id", "at", "price", "file_row"]].rename(
        columns={"file_row": "history_row"}
    )
    matched = pd.merge_asof(
        left.sort_values("created_at"),
        right.sort_values("at"),
        left_on="created_at",
        right_on="at",
        by="sku_id",
    )
    matched = matched.loc[matched["price"].notna()]
    over = matched["unit_price"] > matched["price"] + ctx.params.tolerance
    outcomes = [
        Outcome(
            subject=f"order:{r['order_id']} sku:{r['sku_id']}",
            status="fail",
            message=f"settled at {r['unit_price']:g}, above the shown price {r['price']:g}",
            evidence={
                "order_row": int(r["file_row"]),
                "created_at": clean(r["created_at"]),
                "unit_price": clean(r["unit_price"]),
                "shown_price": clean(r["price"]),
                "shown_since": clean(r["at"]),
                "pricehistory_row": int(r["history_row"]),
                "source": str(orders["_file"].iloc[0]),
            },
        )
        for r in records(matched.loc[over])
    ]
    ok = (
        matched.loc[~over]
        .groupby("sku_id")
        .agg(lines=("order_id", "size"), rows=("file_row", lambda s: list(map(int, s))[:20]))
    )
    outcomes += [
        Outcome(
            subject=f"sku:{sku}",
            status="pass",
            evidence={"order_rows": r["rows"]},
            message=f"{r['lines']} order lines settled at or below the shown price",
        )
        for sku, r in ok.iterrows()
    ]
    return outcomes or not_applicable("no order line has a shown price in price_history.csv")


class ListDetailParams(Params):
    tolerance: float = 0.005


def list_not_below_detail(ctx: CheckContext[ListDetailParams]) -> list[Outcome]:
    catalog = ctx.evidence.catalog()
    both = catalog.loc[catalog["list_page_price"].notna() & catalog["detail_page_price"].notna()]
    if both.empty:
        return not_applicable("catalog.csv has no list_page_price/detail_page_price pairs")
    outcomes: list[Outcome] = []
    for r in records(both):
        evidence = {
            "catalog_row": int(r["file_row"]),
            "title": clean(r["title"]),
            "list_page_price": clean(r["list_page_price"]),
            "detail_page_price": clean(r["detail_page_price"]),
        }
        bad = r["list_page_price"] < r["detail_page_price"] - ctx.params.tolerance
        outcomes.append(
            Outcome(
                subject=f"sku:{r['sku_id']}",
                status="fail" if bad else "pass",
                evidence=evidence,
                message=(
                    f"list page shows {r['list_page_price']:g}, detail page {r['detail_page_price']:g}"
                    if bad
                    else "list-page price not below the detail-page price"
                ),
            )
        )
    return outcomes


class UnitPriceParams(Params):
    categories: list[str]
    tolerance_ratio: float = 0.02


def unit_price_shown(ctx: CheckContext[UnitPriceParams]) -> list[Outcome]:
    catalog = ctx.evidence.catalog()
    scope = catalog.loc[catalog["category"].isin(ctx.params.categories)]
    if scope.empty:
        return not_applicable("no SKU in a category that needs a unit price")
    outcomes: list[Outcome] = []
    for r in records(scope):
        evidence: dict[str, object] = {
            "catalog_row": int(r["file_row"]),
            "title": clean(r["title"]),
            "category": r["category"],
            "price": clean(r["price"]),
            "unit": clean(r["unit"]),
            "unit_quantity": clean(r["unit_quantity"]),
            "unit_price_shown": clean(r["unit_price_shown"]),
        }
        if pd.isna(r["unit_price_shown"]):
            outcomes.append(
                Outcome(
                    subject=f"sku:{r['sku_id']}",
                    status="fail",
                    evidence=evidence,
                    message="no unit price shown",
                )
            )
            continue
        if pd.notna(r["unit_quantity"]) and r["unit_quantity"] > 0:
            expected = float(r["price"]) / float(r["unit_quantity"])
            evidence["unit_price_expected"] = round(expected, 4)
            if abs(r["unit_price_shown"] - expected) > ctx.params.tolerance_ratio * expected:
                outcomes.append(
                    Outcome(
                        subject=f"sku:{r['sku_id']}",
                        status="fail",
                        evidence=evidence,
                        message=f"unit price shown {r['unit_price_shown']:g} but "
                        f"price/quantity is {expected:.4g} per {r['unit']}",
                    )
                )
                continue
        outcomes.append(
            Outcome(
                subject=f"sku:{r['sku_id']}",
                status="pass",
                evidence=evidence,
                message="unit price shown and consistent",
            )
        )
    return outcomes


PRICING_TEMPLATES: list[Template] = [  # type: ignore[type-arg]
    Template(
        "reference_price_window",
        ReferencePriceParams,
        without_gc(reference_price_window),
        "Compared price ≤ the min/prevailing transaction/offered price in N days before",
    ),
    Template(
        "price_rise_before_promo",
        PriceRiseParams,
        without_gc(price_rise_before_promo),
        "No price rise above a ratio in the N days before a promotion",
    ),
    Template(
        "settled_above_shown",
        SettledPriceParams,
        without_gc(settled_above_shown),
        "Order lines not settled above the price shown at order time",
    ),
    Template(
        "list_not_below_detail",
        ListDetailParams,
        list_not_below_detail,
        "List-page price not lower than the detail-page price",
    ),
    Template(
        "unit_price_shown",
        UnitPriceParams,
        unit_price_shown,
        "Unit price shown (and consistent) for listed categories",
    ),
]
