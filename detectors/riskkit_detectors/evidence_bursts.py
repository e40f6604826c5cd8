"""Bursts: accounts of a group registering (or first ordering) within one window.

The background is the accounts outside every candidate group: the chance
that one of the group's accounts falls in its densest window is the share of
those accounts that fall in it, so busy hours and promotion nights raise the
bar by themselves (see :mod:`riskkit_detectors.evidence`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskkit_detectors.evidence import (
    RING_ACCOUNTS,
    SPEAKS_AT,
    Line,
    bh_qvalues,
    binom_sf,
    percent,
    poisson_sf,
)

__all__ = [
    "Burst",
    "ItemScan",
    "burst_line",
    "burst_regulars",
    "densest_windows",
    "household_bursts",
    "scan_items",
    "sku_surges",
    "span_text",
    "telling_bursts",
]


@dataclass
class Burst:
    """Per group: its densest window of ``window`` seconds and who falls in it."""

    start: np.ndarray  # seconds; NaN for groups without times
    span: np.ndarray  # seconds from the first to the last account in the window
    accounts: np.ndarray  # accounts in the window
    timed: np.ndarray  # accounts with a time at all
    member: np.ndarray  # per buyer: inside its group's densest window


def densest_windows(
    comp_of_buyer: np.ndarray, times: np.ndarray, window: float, n_groups: int
) -> Burst:
    """Each group's window of ``window`` seconds holding most of its accounts."""
    n_buyers = len(comp_of_buyer)
    start = np.full(n_groups, np.nan)
    span = np.zeros(n_groups)
    count = np.zeros(n_groups, dtype=np.int64)
    member = np.zeros(n_buyers, dtype=bool)
    usable = np.flatnonzero((comp_of_buyer >= 0) & np.isfinite(times))
    timed = np.bincount(comp_of_buyer[usable], minlength=n_groups)
    if not len(usable):
        return Burst(start, span, count, timed, member)
    order = usable[np.lexsort((times[usable], comp_of_buyer[usable]))]
    comp, t = comp_of_buyer[order], times[order]
    scale = float(t.max() - t.min()) + 2.0 * window + 1.0
    key = comp.astype(np.float64) * scale + (t - t.min())
    end = np.searchsorted(key, key + window, side="right")
    inside = end - np.arange(len(order))
    frame = pd.DataFrame({"c": comp, "n": inside})
    best = frame.groupby("c", sort=False)["n"].idxmax().to_numpy()
    groups = comp[best]
    count[groups] = inside[best]
    start[groups] = t[best]
    span[groups] = t[end[best] - 1] - t[best]
    marks = np.zeros(len(order) + 1, dtype=np.int64)
    np.add.at(marks, best, 1)
    np.add.at(marks, end[best], -1)
    member[order[np.cumsum(marks[:-1]) > 0]] = True
    return Burst(start, span, count, timed, member)


def household_bursts(
    comp_of_buyer: np.ndarray,
    times: np.ndarray,
    window: float,
    n_groups: int,
    household: np.ndarray | None,
) -> tuple[Burst, np.ndarray]:
    """Each group's densest window with a household counted once, at its first
    time; ``member`` marks every grouped account inside its group's window.
    Also returns, per buyer, whether it is its household's first."""
    first_of_household = np.ones(len(times), dtype=bool)
    if household is not None:
        # Accounts of one household act together: it counts once, at its first time.
        by_time = np.lexsort((np.nan_to_num(times, nan=np.inf), household))
        first = np.ones(len(by_time), dtype=bool)
        first[1:] = household[by_time][1:] != household[by_time][:-1]
        first_of_household[by_time] = first
    counted = np.where(first_of_household, comp_of_buyer, -1)
    burst = densest_windows(counted, times, window, n_groups)
    grouped = comp_of_buyer >= 0
    safe = np.maximum(comp_of_buyer, 0)
    burst.member = grouped & (times >= burst.start[safe]) & (times <= burst.start[safe] + window)
    return burst, first_of_household


def burst_line(
    family: str,
    what: str,
    comp_of_buyer: np.ndarray,
    times: np.ndarray,
    window: float,
    n_groups: int,
    describe_time: Callable[[float], str],
    household: np.ndarray | None = None,
) -> tuple[Line, Burst]:
    """Accounts of a group that ``what`` (registered...) within one window.

    The null: each account's time is drawn like the accounts outside every
    candidate group, so the chance that one falls in the group's window is
    the share of those accounts whose time does (busy hours and promotion
    nights included).  Given the window's first account, the others' count is
    binomial; the window could have started at any of the group's accounts.
    With ``household`` (per buyer), the accounts of one household count once.
    """
    burst, first_of_household = household_bursts(comp_of_buyer, times, window, n_groups, household)
    grouped = comp_of_buyer >= 0
    background = np.sort(times[~grouped & np.isfinite(times) & first_of_household])
    p = np.ones(n_groups)
    facts: dict[int, str] = {}
    timed_accounts = np.bincount(comp_of_buyer[grouped & np.isfinite(times)], minlength=n_groups)
    codes = np.flatnonzero(burst.accounts >= RING_ACCOUNTS)
    if len(codes) and len(background):
        lo = np.searchsorted(background, burst.start[codes], side="left")
        hi = np.searchsorted(background, burst.start[codes] + window, side="right")
        share = (hi - lo + 1.0) / (len(background) + 1.0)
        k = burst.accounts[codes]
        n = burst.timed[codes]
        p[codes] = np.minimum(1.0, n * binom_sf(k - 2, n - 1, share))
        for code, rate in zip(codes, share, strict=True):
            # Say "households" only where one held several of the accounts.
            unit = "accounts" if burst.timed[code] == timed_accounts[code] else "households"
            facts[int(code)] = (
                f"{int(burst.accounts[code])}/{int(burst.timed[code])} {unit} {what} within "
                f"{span_text(float(burst.span[code]))} (from {describe_time(float(burst.start[code]))}); "
                f"in this export {percent(float(rate))} of {unit} outside candidate groups "
                f"{what} in that {span_text(window)}"
            )
    return Line(family, "burst", p, facts, account_hit=burst.member), burst


def span_text(seconds: float) -> str:
    """A duration as reasons state it."""
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86_400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86_400:.1f} days"


def telling_bursts(
    burst: np.ndarray,
    line_order: np.ndarray,
    signs: Sequence[tuple[np.ndarray, np.ndarray]],
    shop: np.ndarray,
    line_item: np.ndarray,
    lone_burst: np.ndarray,
    line_buyer: np.ndarray,
    habits: Sequence[bool],
) -> tuple[np.ndarray, np.ndarray]:
    """Per line: its burst code when the burst's orders show fake-order signs
    far more often than comparable orders outside every burst, else -1; and
    whether the line's order shows a sign its burst is convicted by.

    ``signs`` holds per order a (hit, known) pair for each sign.  A flash
    sale's honest buyers pay at once and ship to virtual-operator phones at
    their shop's usual rate; linking those of them that do would make the sign
    both the link and the evidence.  So signs are weighed against the shop's
    orders outside every burst and the item's other buyers (binomial tail,
    Benjamini-Hochberg over bursts x signs), in two ways: all signs together,
    and each on its own.  A cohort sign (``habits``, per sign: a saved card
    pays at once, a cheap SIM, a one-per-order sale's reorders) far beyond its
    background may be a cohort's (a live stream's viewers, a snap-up script);
    so a burst is convicted by the signs together, by a sign of what became of
    its orders on its own, or by two signs each on its own.  A shop that
    prints every waybill in one run gives its sequential waybills no weight.
    """
    inside = burst >= 0
    told_line = np.zeros(len(burst), dtype=bool)
    if not inside.any() or not signs:
        return np.where(inside, -1, burst), told_line
    orders = pd.DataFrame({"k": burst[inside], "o": line_order[inside]}).drop_duplicates()
    k_of, o = orders["k"].to_numpy(dtype=np.int64), orders["o"].to_numpy(dtype=np.int64)
    codes, k_pos = np.unique(k_of, return_inverse=True)
    burst_shop = np.zeros(len(codes), dtype=np.int64)
    burst_shop[k_pos] = shop[o]
    in_any = np.zeros(len(shop), dtype=bool)
    in_any[o] = True
    outside = ~in_any
    n_shops = int(shop.max()) + 1 if len(shop) else 1
    # Other buyers of the item: a ring's own later orders of it are no background.
    width = int(line_buyer.max()) + 1 if len(line_buyer) else 1
    burst_pairs = np.unique(burst[inside] * width + line_buyer[inside])
    own = np.isin(line_item * width + line_buyer, burst_pairs)
    item_outside = pd.DataFrame({"i": line_item[~own], "o": line_order[~own]}).drop_duplicates()
    item_outside = item_outside[outside[item_outside["o"].to_numpy()]]
    item_outside = item_outside[np.isin(item_outside["i"].to_numpy(), codes)]
    io_item = np.searchsorted(codes, item_outside["i"].to_numpy())
    io_order = item_outside["o"].to_numpy(dtype=np.int64)
    # Only where the item sells beyond its burst: a burst on an item that
    # otherwise barely sells leaves the item no background of its own.
    sells_beyond = ~pd.Series(lone_burst[inside]).groupby(burst[inside]).any().reindex(
        codes
    ).to_numpy(bool)
    any_hit = np.zeros(len(shop), dtype=bool)
    for hit, known in signs:
        any_hit |= hit & known
    tested = [*signs, (any_hit, np.ones(len(shop), dtype=bool))]
    p_all = np.ones((len(codes), len(tested)))
    beyond = np.zeros((len(codes), len(tested)), dtype=bool)
    for j, (hit, known) in enumerate(tested):
        hit = hit & known
        n = np.bincount(k_pos, weights=known[o].astype(float), minlength=len(codes))
        told = np.bincount(k_pos, weights=hit[o].astype(float), minlength=len(codes))
        base = outside & known
        shop_orders = np.bincount(shop[base], minlength=n_shops).astype(float)
        shop_told = np.bincount(shop[base], weights=hit[base].astype(float), minlength=n_shops)
        overall = float(hit[base].sum() + 1.0) / float(base.sum() + 2.0)
        # Laplace-smoothed; a shop with no comparable orders falls back to the export's rate.
        rate = np.where(
            shop_orders[burst_shop] > 0,
            (shop_told[burst_shop] + 1.0) / (shop_orders[burst_shop] + 2.0),
            overall,
        )
        # The burst's own item outside the burst is comparable activity too: a
        # live stream's buyers pay at once before and after its busiest minutes.
        item_known = known[io_order]
        item_n = np.bincount(io_item, weights=item_known.astype(float), minlength=len(codes))
        item_told = np.bincount(io_item, weights=hit[io_order].astype(float), minlength=len(codes))
        item_rate = (item_told + 2.0 * rate) / (item_n + 2.0)
        rate = np.where(sells_beyond, np.maximum(rate, item_rate), rate)
        p_all[:, j] = np.where(n > 0, binom_sf(told - 1.0, n, rate), 1.0)
        # Significance is not enough in a big burst: its telling orders are
        # linked, so most of them must be more than chance would put there.
        beyond[:, j] = (told > 0) & (told >= 2.0 * n * rate)
    # The signs together are the first question asked of every burst; each
    # sign on its own is a second family of questions, controlled apart.
    q = np.empty_like(p_all)
    q[:, -1] = bh_qvalues(p_all[:, -1])
    q[:, :-1] = bh_qvalues(p_all[:, :-1].ravel()).reshape(len(codes), len(signs))
    convicts = (q <= SPEAKS_AT) & beyond
    together = convicts[:, -1]
    alone = convicts[:, :-1]
    habit = np.asarray(habits, dtype=bool)
    kept = together | (alone & ~habit).any(axis=1) | (alone.sum(axis=1) >= 2)
    line_pos = np.searchsorted(codes, np.maximum(burst, 0))
    line_pos = np.minimum(line_pos, len(codes) - 1)
    line_kept = inside & (codes[line_pos] == burst) & kept[line_pos]
    told_line = line_kept & together[line_pos] & any_hit[line_order]
    for j, (hit, known) in enumerate(signs):
        told_line |= line_kept & alone[line_pos, j] & (hit & known)[line_order]
    return np.where(line_kept, burst, -1), told_line


@dataclass
class ItemScan:
    """Per scanned item: its most surprising window and the lines in it.

    ``order`` holds the scanned lines sorted by item and time (``line_item``
    and ``line_seconds`` along it); ``start`` and ``end`` index into it (end
    exclusive).
    """

    items: np.ndarray
    p: np.ndarray  # corrected for the windows and lengths tried, before BH
    start: np.ndarray
    end: np.ndarray
    count: np.ndarray
    expected: np.ndarray
    order: np.ndarray
    line_item: np.ndarray
    line_seconds: np.ndarray

    def lines_in(self, chosen: np.ndarray, n_lines: int) -> np.ndarray:
        """Per line: the item code where the line falls in a chosen item's window."""
        out = np.full(n_lines, -1, dtype=np.int64)
        if chosen.any():
            marks = np.zeros(len(self.order) + 1, dtype=np.int64)
            np.add.at(marks, self.start[chosen], 1)
            np.add.at(marks, self.end[chosen], -1)
            inside = np.cumsum(marks[:-1]) > 0
            out[self.order[inside]] = self.line_item[inside]
        return out


def scan_items(
    item: np.ndarray,
    seconds: np.ndarray,
    shop: np.ndarray,
    windows: tuple[float, ...],
    min_orders: int,
) -> ItemScan | None:
    """Each item's window selling most beyond what its own sales elsewhere
    lead one to expect (see :func:`sku_surges`); None without usable lines."""
    usable = (item >= 0) & np.isfinite(seconds)
    if not usable.any() or not windows:
        return None
    idx = np.flatnonzero(usable)
    order = idx[np.lexsort((seconds[idx], item[idx]))]
    it, t = item[order], seconds[order]
    t0 = float(t.min())
    longest = max(windows)
    span = float(t.max() - t0) + longest + 1.0
    key = it.astype(np.float64) * span + (t - t0)
    line_shop = shop[order]
    shop_sorted = np.sort(line_shop.astype(np.float64) * span + (t - t0))
    shop_total = np.bincount(line_shop).astype(float)
    item_total = np.bincount(it).astype(float)
    segment = np.flatnonzero(np.r_[True, it[1:] != it[:-1]])
    items = it[segment]
    best = np.ones(len(items))
    best_start = segment.copy()
    best_end = segment + 1
    best_k = np.zeros(len(items))
    best_e = np.zeros(len(items))
    for window in windows:
        end = np.searchsorted(key, key + window, side="right")
        count = end - np.arange(len(order))
        # First position of each item's largest count: one composite key per line.
        rank = count.astype(np.int64) * len(order) + (len(order) - 1 - np.arange(len(order)))
        start_pos = len(order) - 1 - np.maximum.reduceat(rank, segment) % len(order)
        k = count[start_pos].astype(float)
        total = item_total[items]
        at = line_shop[start_pos] * span + (t[start_pos] - t0)
        in_shop = np.searchsorted(shop_sorted, at + window, side="right") - np.searchsorted(
            shop_sorted, at, side="left"
        )
        shop_in = in_shop - k
        shop_out = shop_total[line_shop[start_pos]] - in_shop - (total - k)
        expected = (total - k + 1.0) * (shop_in + 1.0) / (shop_out + 1.0)
        tries = len(windows) * max(1.0, (float(t.max()) - t0) / window)
        p = np.minimum(1.0, tries * poisson_sf(k - 1.0, expected))
        p = np.where(k >= min_orders, p, 1.0)
        better = p < best
        best = np.where(better, p, best)
        best_start = np.where(better, start_pos, best_start)
        best_end = np.where(better, end[start_pos], best_end)
        best_k = np.where(better, k, best_k)
        best_e = np.where(better, expected, best_e)
    return ItemScan(items, best, best_start, best_end, best_k, best_e, order, it, t)


def sku_surges(
    item: np.ndarray,
    seconds: np.ndarray,
    shop: np.ndarray,
    windows: tuple[float, ...],
    min_orders: int,
) -> np.ndarray:
    """Per line: its item's code when the line falls in that item's surge, else -1.

    An item's surge is, among its busiest windows of each length in
    ``windows``, the one selling most beyond what the item's own sales
    elsewhere lead one to expect.  The expectation scales the item's sales
    outside the window by how much busier its shop is inside the window than
    outside (the shop's other items only, so one surging item does not raise
    its own bar): a shop-wide promotion lifts every item and is no surge.
    The busiest of about ``span / window`` windows is a maximum, so its
    Poisson tail is multiplied by that count, and by the number of lengths
    tried; Benjamini-Hochberg over the items.  The shortest window that
    holds a ring's orders holds the fewest honest orders beside them.
    """
    scan = scan_items(item, seconds, shop, windows, min_orders)
    if scan is None:
        return np.full(len(item), -1, dtype=np.int64)
    return scan.lines_in(bh_qvalues(scan.p) <= SPEAKS_AT, len(item))


def burst_regulars(
    burst: np.ndarray, line_buyer: np.ndarray, line_order: np.ndarray, shop: np.ndarray
) -> np.ndarray:
    """Per line: True where its buyer has orders at the burst's shop outside the
    burst, and the burst holds no more of them than chance puts there.

    A regular who places thirty orders at a shop lands one in a ring's burst
    by chance; a ring account's orders crowd into it.  The null: each of the
    buyer's orders at the shop falls in the burst at the rate the shop's
    orders do (binomial tail; the line is a regular's above ``SPEAKS_AT``).
    """
    regular = np.zeros(len(burst), dtype=bool)
    inside = burst >= 0
    if not inside.any():
        return regular
    n_orders = int(line_order.max()) + 1
    n_bursts = int(burst.max()) + 1
    n_shops = int(shop.max()) + 1
    order_buyer = np.full(n_orders, -1, dtype=np.int64)
    order_buyer[line_order] = line_buyer
    present = order_buyer >= 0
    shop_orders = np.bincount(shop[present], minlength=n_shops)
    # Orders per (buyer, shop), looked up by a sorted int64 key.
    buyer_shop, at_shop = np.unique(
        order_buyer[present] * n_shops + shop[present], return_counts=True
    )
    burst_order = np.unique(burst[inside] * n_orders + line_order[inside])
    k, o = burst_order // n_orders, burst_order % n_orders
    per_burst = np.bincount(k, minlength=n_bursts)
    shop_of_burst = np.zeros(n_bursts, dtype=np.int64)
    shop_of_burst[k] = shop[o]
    pair, in_burst = np.unique(order_buyer[o] * n_bursts + k, return_counts=True)
    b, kk = pair // n_bursts, pair % n_bursts
    s_of = shop_of_burst[kk]
    n = at_shop[np.searchsorted(buyer_shop, b * n_shops + s_of)].astype(float)
    rate = per_burst[kk] / np.maximum(shop_orders[s_of], 1)
    p = binom_sf(in_burst - 1.0, n, rate)
    # An account with no orders at the shop beside the burst has no history
    # to be a regular by.
    chance = pair[(p > SPEAKS_AT) & (n > in_burst)]
    if len(chance):
        regular = inside & np.isin(line_buyer * n_bursts + np.maximum(burst, 0), chance)
    return regular
