"""Vectorised price windows: per promoted SKU, the events before its promotion.

SKUs are matched once by hashing (Arrow on the string buffers) and then carried
as integer positions into the promotions table, so windows over tens of millions
of price-history rows need no string merges and no per-SKU loops.  The
reference price of a window is computed on run-length price spans
(:mod:`riskkit_policies.checks.price_spans`).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Literal

import numpy as np
import pandas as pd

from riskkit.comply.evidence import Evidence
from riskkit_policies.checks.price_spans import (
    per_code,
    positions_in,
    promoted_events,
    subset,
)

__all__ = [
    "TIME_FORMAT",
    "attach_promotions",
    "basis_events",
    "format_times",
    "highest",
    "last_before",
    "positions_in",
    "reference_prices",
    "window_rows",
]

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def format_times(series: pd.Series, fmt: str = TIME_FORMAT) -> np.ndarray:
    """``series.dt.strftime(fmt)`` formatting each distinct value once (NaT -> None)."""
    codes, uniques = pd.factorize(series)
    formatted = np.asarray(pd.DatetimeIndex(uniques).strftime(fmt), dtype=object)
    out = np.full(len(codes), None, dtype=object)
    known = codes >= 0
    out[known] = formatted[codes[known]]
    return out


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
    Computed on run-length price spans (:mod:`.price_spans`).
    """
    promos = promos.reset_index(drop=True)
    timeline = promoted_events(events, promos)
    spans = timeline.spans()
    window_start = timeline.window_start[spans.code]
    count = timeline.stop - timeline.inside
    carried = timeline.last_before_window()
    parts = [timeline.frame(subset(timeline.at >= timeline.window_start[timeline.code]))]
    if basis == "offered":
        # the price in force when the window opens: its span reaches the window
        relevant = spans.end >= window_start
        since = np.maximum(spans.begin, window_start)
        with_carried = np.flatnonzero(carried >= 0)
        count = count + (carried >= 0)
        parts.insert(
            0, timeline.frame(carried[with_carried], at=timeline.window_start[with_carried])
        )
    else:
        # sales only: a span counts from its first sale inside the window
        entry = spans.first_inside(timeline)
        relevant = entry <= spans.last
        since = timeline.at[np.minimum(entry, len(timeline.at) - 1)]
    if statistic == "min":
        price = np.where(relevant, spans.price, np.inf)
        reference = per_code(spans.code, price, np.fmin, timeline.promotions)
        reference[np.isinf(reference)] = np.nan  # no span reaches the window
    else:
        reference = spans.prevailing(timeline, relevant, since)
    basis_used = np.full(len(promos), "window", dtype=object)
    if fallback_last_transaction:
        last = timeline.last()
        fill = (count == 0) & (last >= 0)
        reference[fill] = timeline.price[last[fill]]
        basis_used[fill] = "last_transaction"
        parts.append(timeline.frame(last[fill]))
    result = promos.assign(
        reference=reference.astype("float64"),
        basis_used=basis_used,
        window_count=count.astype("int64"),
    )
    return result, parts


def _of_codes(part: pd.DataFrame, codes: np.ndarray) -> pd.DataFrame:
    """The rows of ``part`` whose code is in ``codes``: by binary search when the part is
    ordered by code (the window parts are), else by a membership mask."""
    code = part["code"].to_numpy()
    codes = np.unique(codes)
    if not len(code) or not len(codes):
        return part.iloc[:0]
    if bool(np.all(code[1:] >= code[:-1])):
        low = np.searchsorted(code, codes, side="left")
        size = np.searchsorted(code, codes, side="right") - low
        offsets = np.repeat(low - np.cumsum(size) + size, size)
        return part.iloc[offsets + np.arange(int(size.sum()))]
    wanted = np.zeros(int(max(code.max(), codes.max())) + 1, dtype=bool)
    wanted[codes] = True
    selected: pd.DataFrame = part.loc[wanted[code]]
    return selected


def window_rows(
    parts: list[pd.DataFrame], codes: np.ndarray, limit: int
) -> dict[int, list[dict[str, object]]]:
    """Up to ``limit`` window events per promotion in ``codes``, oldest first, as evidence."""
    part = pd.concat([_of_codes(p, codes) for p in parts], ignore_index=True)
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


def basis_events(
    evidence: Evidence, basis: Literal["transaction", "offered"]
) -> tuple[pd.DataFrame, str]:
    """(sku_id, at, price, file_row) events of one price basis, and their file name."""
    if basis == "transaction":
        orders = evidence.orders()
        events = orders.loc[orders["unit_price"].notna() & orders["created_at"].notna()]
        frame = pd.DataFrame(
            {
                "sku_id": events["sku_id"].astype(str),
                "at": events["created_at"],
                "price": events["unit_price"].astype("float64"),
                "file_row": events["file_row"],
            }
        )
        return frame, str(orders["_file"].iloc[0]) if len(orders) else "orders"
    history = evidence.price_history()
    return history[["sku_id", "at", "price", "file_row"]], "price_history.csv"
