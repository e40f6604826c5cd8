"""The per-event price windows as they were before run-length spans (commit 582e373).

Kept only so that ``benchmarks/comply_speed.py --compare`` can time the old and the
new implementation side by side in one run and check that their outcomes are equal.
Not imported by riskkit.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from riskkit.comply.models import Outcome
from riskkit.comply.templates.base import CheckContext, clean, not_applicable
from riskkit_policies.checks.pricing import PriceRiseParams

_TIME = "%Y-%m-%d %H:%M:%S"

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def format_times(series: pd.Series, fmt: str = TIME_FORMAT) -> np.ndarray:
    """``series.dt.strftime(fmt)`` formatting each distinct value once (NaT -> None)."""
    codes, uniques = pd.factorize(series)
    formatted = np.asarray(pd.DatetimeIndex(uniques).strftime(fmt), dtype=object)
    out = np.full(len(codes), None, dtype=object)
    known = codes >= 0
    out[known] = formatted[codes[known]]
    return out


def positions_in(keys: pd.Series, values: pd.Series) -> np.ndarray:
    """Position of each key in ``values`` (-1 when absent), hashed by Arrow on the string
    buffers: about ten times faster than ``Index.get_indexer`` on millions of SKU ids."""
    found = pc.index_in(pa.array(keys.astype("str")), value_set=pa.array(values.astype("str")))
    return np.asarray(found.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)


def attach_promotions(events: pd.DataFrame, promos: pd.DataFrame) -> pd.DataFrame:
    """Events (``sku_id, at, price, file_row``) of promoted SKUs, with ``code`` (the
    promotion's position in ``promos``), ``window_start`` and ``promo_start``."""
    position = positions_in(events["sku_id"], promos["sku_id"])
    keep = position >= 0
    code = position[keep]
    return pd.DataFrame(
        {
            "code": code,
            "at": events["at"].to_numpy()[keep],
            "price": events["price"].to_numpy(dtype="float64")[keep],
            "file_row": events["file_row"].to_numpy()[keep],
            "window_start": promos["window_start"].to_numpy()[code],
            "promo_start": promos["promo_start"].to_numpy()[code],
        }
    )


def _sorted_by_code_and_time(part: pd.DataFrame) -> pd.DataFrame:
    """``part`` ordered by (code, at); exports grouped per SKU in time order are already
    ordered, which a linear check detects, so the sort is skipped for them."""
    code = part["code"].to_numpy()
    at = part["at"].to_numpy()
    same = code[1:] == code[:-1]
    if bool(np.all(code[1:] >= code[:-1])) and bool(np.all(~same | (at[1:] >= at[:-1]))):
        return part
    return part.iloc[np.lexsort((at, code))]


def last_before(events: pd.DataFrame, mask: pd.Series) -> pd.DataFrame:
    """The latest event per ``code`` among ``mask`` rows, indexed by code."""
    part = events.loc[mask]
    if part.empty:
        return part.set_index("code")
    part = _sorted_by_code_and_time(part)
    code = part["code"].to_numpy()
    last = np.ones(len(code), dtype=bool)
    last[:-1] = code[1:] != code[:-1]
    return part.iloc[np.flatnonzero(last)].set_index("code")


def highest(events: pd.DataFrame) -> pd.DataFrame:
    """The event with the highest price per ``code`` (the earliest on ties), indexed by code."""
    if events.empty:
        return events.set_index("code")
    top = events.groupby("code")["price"].max()
    code = events["code"].to_numpy()
    is_top = events["price"].to_numpy() == top.reindex(code).to_numpy()
    candidates = _sorted_by_code_and_time(events.loc[is_top])
    return candidates.loc[~candidates["code"].duplicated()].set_index("code")


def _prevailing(
    window: pd.DataFrame, carried: pd.DataFrame | None, promos: pd.DataFrame
) -> pd.Series:
    """The price in force for the longest time in the window, per code (ties: the lower).

    Durations are summed per (code, price in cents) on one int64 key; the price carried
    in from before the window lasts from the window's start to the first event inside it.
    """
    window = _sorted_by_code_and_time(window)
    promo_start = promos["promo_start"].to_numpy()
    code = window["code"].to_numpy()
    at = window["at"].to_numpy()
    last_of_code = np.ones(len(code), dtype=bool)
    last_of_code[:-1] = code[1:] != code[:-1]
    following = np.empty_like(at)
    following[:-1] = at[1:]
    codes = [code]
    prices = [window["price"].to_numpy(dtype="float64")]
    durations = [np.where(last_of_code, promo_start[code], following) - at]
    if carried is not None and not carried.empty:
        first_inside = promo_start.copy()
        first_of_code = np.ones(len(code), dtype=bool)
        first_of_code[1:] = code[1:] != code[:-1]
        first_inside[code[first_of_code]] = at[first_of_code]
        carried_code = carried["code"].to_numpy()
        codes.append(carried_code)
        prices.append(carried["price"].to_numpy(dtype="float64"))
        window_start = promos["window_start"].to_numpy()
        durations.append(first_inside[carried_code] - window_start[carried_code])
    all_codes = np.concatenate(codes).astype(np.int64)
    cents = np.rint(np.concatenate(prices) * 100).astype(np.int64)
    key = (all_codes << 32) | cents
    total = pd.Series(np.concatenate(durations).astype("int64")).groupby(key, sort=False).sum()
    keys = total.index.to_numpy(dtype=np.int64)
    key_code = keys >> 32
    key_cents = keys & 0xFFFFFFFF
    order = np.lexsort((key_cents, -total.to_numpy(), key_code))
    best = order[np.r_[True, key_code[order][1:] != key_code[order][:-1]]]
    return pd.Series(key_cents[best] / 100.0, index=key_code[best])


def reference_prices(
    promos: pd.DataFrame,
    events: pd.DataFrame,
    basis: Literal["transaction", "offered"],
    statistic: Literal["min", "prevailing"],
    fallback_last_transaction: bool,
) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """``promos`` (reset index) with ``reference``, ``basis_used`` and ``window_count``
    added, and the parts of the window events used (``code, at, price, file_row``).

    ``offered`` prices count the price already in force when the window opens
    (it was applied during the window too); ``transaction`` prices count only
    sales inside the window, falling back to the last sale before the promotion.
    """
    promos = promos.reset_index(drop=True)
    everything = pd.RangeIndex(len(promos))
    attached = attach_promotions(events, promos)
    before = attached["at"] < attached["promo_start"]
    columns = ["code", "at", "price", "file_row"]
    parts = [attached.loc[before & (attached["at"] >= attached["window_start"]), columns]]
    if basis == "offered":
        carried = last_before(attached, attached["at"] < attached["window_start"]).reset_index()
        carried["at"] = carried["window_start"]
        parts.insert(0, carried[columns])
    # per part, then combined: no copy of a window that can hold tens of millions of rows
    count = sum(
        (p.groupby("code").size().reindex(everything, fill_value=0) for p in parts),
        start=pd.Series(0, index=everything),
    )
    if statistic == "min":
        minimums = [p.groupby("code")["price"].min().reindex(everything) for p in parts]
        reference = pd.concat(minimums, axis=1).min(axis=1)
    else:
        carried_part = parts[0] if basis == "offered" else None
        reference = _prevailing(parts[-1], carried_part, promos).reindex(everything)
    basis_used = np.full(len(promos), "window", dtype=object)
    if fallback_last_transaction:
        last = last_before(attached, before)
        fill = (count.to_numpy() == 0) & everything.isin(last.index)
        reference[fill] = last["price"].reindex(everything).to_numpy()[fill]
        basis_used[fill] = "last_transaction"
        parts.append(last.loc[last.index.isin(everything[fill])].reset_index()[columns])
    result = promos.assign(
        reference=reference.to_numpy(dtype="float64"),
        basis_used=basis_used,
        window_count=count.to_numpy(),
    )
    return result, parts


def window_rows(
    parts: list[pd.DataFrame], codes: np.ndarray, limit: int
) -> dict[int, list[dict[str, object]]]:
    """Up to ``limit`` window events per promotion in ``codes``, oldest first, as evidence."""
    part = pd.concat([p.loc[p["code"].isin(codes)] for p in parts], ignore_index=True)
    part = part.sort_values(["code", "at"]).groupby("code").head(limit)
    rows: dict[int, list[dict[str, object]]] = defaultdict(list)
    for code, at, price, file_row in zip(
        part["code"].to_numpy(),
        format_times(part["at"]),
        part["price"].to_numpy(dtype="float64"),
        part["file_row"].to_numpy(),
        strict=True,
    ):
        rows[int(code)].append({"file_row": int(file_row), "at": at, "price": float(price)})
    return rows


def legacy_price_rise_before_promo(ctx: CheckContext[PriceRiseParams]) -> list[Outcome]:
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
    attached = attach_promotions(history[["sku_id", "at", "price", "file_row"]], promos)
    base = last_before(attached, attached["at"] < attached["window_start"])
    inside = attached.loc[
        (attached["at"] >= attached["window_start"]) & (attached["at"] < attached["promo_start"])
    ]
    peak = highest(inside)
    everything = pd.RangeIndex(len(promos))
    table = promos[["sku_id", "window_start", "promo_start"]].assign(
        **{
            f"{column}_{name}": part[column].reindex(everything).to_numpy()
            for name, part in (("base", base), ("peak", peak))
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
