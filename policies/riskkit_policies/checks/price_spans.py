"""Run-length price spans: consecutive events of a promoted SKU at one price, as one span.

A promotion's windows (the reference-price window, the rise window) are judged
on spans, not on every history row: the minimum and the highest price read one
price per span, and "prevailing" adds up each span's time inside the window, so
a price that held for 30 days is one span, not 30.  Everything is numpy over
arrays sorted by (promotion, time): no DataFrame per history row and no hash
group-by (pandas' factorize of 30M keys alone took 18 s).

Times are int64 nanoseconds.  Events without a time, and events at or after
their promotion's start, are dropped up front: no rule reads them.  A missing
price (NaN) is its own span, never a minimum, a peak or a prevailing price, and
it still ends the span before it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "NO_TIME",
    "PriceSpans",
    "PromotedEvents",
    "as_ns",
    "per_code",
    "positions_in",
    "promoted_events",
]

NO_TIME = np.iinfo(np.int64).max  # the open end of a SKU's last span
_NAT = np.iinfo(np.int64).min


def as_ns(values: pd.Series | np.ndarray) -> np.ndarray:
    """Datetimes (any unit) as int64 nanoseconds; NaT becomes ``int64`` min."""
    return np.asarray(values, dtype="datetime64[ns]").view(np.int64)


def take(values: np.ndarray, index: np.ndarray | None) -> np.ndarray:
    """``values[index]``; ``index`` None means all of them, in order (no copy)."""
    return values if index is None else values[index]


def subset(mask: np.ndarray) -> np.ndarray | None:
    """The positions where ``mask`` holds, or None when it holds everywhere: a long
    history is often wholly inside the window, and copying 30M rows costs seconds."""
    return None if bool(mask.all()) else np.flatnonzero(mask)


def per_code(codes: np.ndarray, values: np.ndarray, reduce: np.ufunc, n: int) -> np.ndarray:
    """``reduce`` of ``values`` per code (``codes`` sorted ascending), NaN for absent codes."""
    out = np.full(n, np.nan)
    if len(codes):
        heads = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
        out[codes[heads]] = reduce.reduceat(values, heads)
    return out


def positions_in(keys: pd.Series, values: pd.Series) -> np.ndarray:
    """Position of each key in ``values`` (-1 when absent), hashed by Arrow on the string
    buffers: about ten times faster than ``Index.get_indexer`` on millions of SKU ids."""
    found = pc.index_in(pa.array(keys.astype("str")), value_set=pa.array(values.astype("str")))
    return np.asarray(found.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)


@dataclass(frozen=True)
class PromotedEvents:
    """Events (``sku_id, at, price, file_row``) of promoted SKUs before their promotion.

    Event arrays are sorted by (``code``, ``at``), ties in file order; per-promotion
    arrays are indexed by ``code`` (the promotion's position in the promotions table):
    its events are ``start[c]:stop[c]``, those inside its window ``inside[c]:stop[c]``.
    """

    code: np.ndarray
    at: np.ndarray
    price: np.ndarray
    file_row: np.ndarray
    start: np.ndarray
    inside: np.ndarray
    stop: np.ndarray
    window_start: np.ndarray
    promo_start: np.ndarray

    @property
    def promotions(self) -> int:
        return len(self.start)

    def last_before_window(self) -> np.ndarray:
        """Per promotion, the index of its last event before the window (-1: none)."""
        return np.where(self.inside > self.start, self.inside - 1, -1)

    def last(self) -> np.ndarray:
        """Per promotion, the index of its last event before the promotion (-1: none)."""
        return np.where(self.stop > self.start, self.stop - 1, -1)

    def pick(self, index: np.ndarray) -> dict[str, np.ndarray]:
        """``at``, ``price`` and ``file_row`` (float) of one event per promotion (-1: NaT/NaN)."""
        found = index >= 0
        if not len(self.at):
            found[:] = False
        safe = np.where(found, index, 0)
        at = np.where(found, self.at[safe] if len(self.at) else _NAT, _NAT)
        price = np.where(found, self.price[safe] if len(self.at) else np.nan, np.nan)
        row = np.where(found, self.file_row[safe] if len(self.at) else np.nan, np.nan)
        return {"at": at.view("datetime64[ns]"), "price": price, "file_row": row.astype("float64")}

    def frame(self, index: np.ndarray | None, at: np.ndarray | None = None) -> pd.DataFrame:
        """Events at ``index`` (None: all) as ``code, at, price, file_row`` (``at``
        overridable), sharing the arrays when nothing is selected out."""
        times = take(self.at, index) if at is None else at
        return pd.DataFrame(
            {
                "code": take(self.code, index),
                "at": times.view("datetime64[ns]"),
                "price": take(self.price, index),
                "file_row": take(self.file_row, index),
            },
            copy=False,
        )

    def spans(self) -> PriceSpans:
        """The run-length spans of these events."""
        code, price = self.code, self.price
        head = np.ones(len(code), dtype=bool)
        # NaN never equals itself: a missing price starts (and is) a span of its own
        head[1:] = (code[1:] != code[:-1]) | ~(price[1:] == price[:-1])
        heads = subset(head)  # None: every price differs from the one before it
        first = np.arange(len(code)) if heads is None else heads
        last = np.empty_like(first)
        last[:-1] = first[1:] - 1
        if len(first):
            last[-1] = len(code) - 1
        span_code = take(code, heads)
        begin = take(self.at, heads)
        end = np.full(len(first), NO_TIME, dtype=np.int64)
        end[:-1] = np.where(span_code[1:] == span_code[:-1], begin[1:], NO_TIME)
        return PriceSpans(span_code, begin, end, take(price, heads), first, last)


@dataclass(frozen=True)
class PriceSpans:
    """Spans sorted by (code, begin): the price ``price`` was in force from ``begin`` (its
    first event) until ``end`` (the next span's first event; ``NO_TIME`` for the last);
    ``first``/``last`` index its first and last event in :class:`PromotedEvents`."""

    code: np.ndarray
    begin: np.ndarray
    end: np.ndarray
    price: np.ndarray
    first: np.ndarray
    last: np.ndarray

    def first_inside(self, events: PromotedEvents) -> np.ndarray:
        """Index of each span's first event inside its window (> ``last``: none inside)."""
        entry: np.ndarray = np.maximum(self.first, events.inside[self.code])
        return entry

    def highest(self, events: PromotedEvents) -> np.ndarray:
        """Per promotion, the index of its highest-priced event inside the window, the
        earliest on ties (-1: none)."""
        entry = self.first_inside(events)
        keep = (entry <= self.last) & ~np.isnan(self.price)
        code, price, entry = self.code[keep], self.price[keep], entry[keep]
        top = per_code(code, price, np.maximum, events.promotions)
        is_top = np.flatnonzero(price == top[code])  # spans in time order: the first is earliest
        earliest = (
            is_top[np.r_[True, code[is_top][1:] != code[is_top][:-1]]] if len(is_top) else is_top
        )
        out = np.full(events.promotions, -1, dtype=np.int64)
        out[code[earliest]] = entry[earliest]
        return out

    def prevailing(
        self, events: PromotedEvents, relevant: np.ndarray, since: np.ndarray
    ) -> np.ndarray:
        """Per promotion, the price in force for the longest time in the window (ties: the
        lower; NaN: none), over the ``relevant`` spans, each counted from ``since``.

        Durations are summed per (code, price in cents) on one int64 key, sorted once.
        """
        keep = subset(relevant & ~np.isnan(self.price))
        code = take(self.code, keep)
        duration = np.minimum(take(self.end, keep), events.promo_start[code])
        duration -= take(since, keep)
        key = np.rint(take(self.price, keep) * 100).astype(np.int64)
        key |= code.astype(np.int64) << 32
        order = np.argsort(key, kind="stable")
        key = key[order]
        out = np.full(events.promotions, np.nan)
        if not len(key):
            return out
        heads = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        total = np.add.reduceat(duration[order], heads)
        key = key[heads]
        key_code = key >> 32
        # per code the longest total; groups are in ascending cents, so the first is the lower
        longest = per_code(key_code, total.astype(np.float64), np.maximum, events.promotions)
        best = np.flatnonzero(total == longest[key_code])
        best = best[np.r_[True, key_code[best][1:] != key_code[best][:-1]]]
        out[key_code[best]] = (key[best] & 0xFFFFFFFF) / 100.0
        return out


def promoted_events(events: pd.DataFrame, promos: pd.DataFrame) -> PromotedEvents:
    """The events of ``promos``' SKUs (``promos`` with a default index, one row per SKU,
    ``window_start`` and ``promo_start`` set) dated before their promotion."""
    promo_start = as_ns(promos["promo_start"])
    window_start = as_ns(promos["window_start"])
    at = as_ns(events["at"])
    if len(promos):
        position = positions_in(events["sku_id"], promos["sku_id"])
        keep = (position >= 0) & (at != _NAT)
        keep &= at < promo_start[np.maximum(position, 0)]
    else:
        position = np.full(len(at), -1, dtype=np.int64)
        keep = np.zeros(len(at), dtype=bool)
    index = subset(keep)
    code = take(position, index)
    at = take(at, index)
    same = code[1:] == code[:-1]
    if not (bool(np.all(code[1:] >= code[:-1])) and bool(np.all(~same | (at[1:] >= at[:-1])))):
        order = np.lexsort((at, code))  # stable: ties stay in file order
        index = order if index is None else index[order]
        code, at = code[order], at[order]
    price = take(events["price"].to_numpy(dtype="float64"), index)
    file_row = take(events["file_row"].to_numpy(), index)
    promotions = np.arange(len(promos))
    start = np.searchsorted(code, promotions, side="left")
    stop = np.searchsorted(code, promotions, side="right")
    before = code[at < window_start[code]]
    inside = start + np.bincount(before, minlength=len(promos))
    return PromotedEvents(code, at, price, file_row, start, inside, stop, window_start, promo_start)
