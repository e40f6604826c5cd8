"""Bursts: accounts of a group registering (or first ordering) within one window.

The background is the accounts outside every candidate group: the chance
that one of the group's accounts falls in its densest window is the share of
those accounts that fall in it, so busy hours and promotion nights raise the
bar by themselves (see :mod:`riskkit_detectors.evidence`).
"""

from __future__ import annotations

from collections.abc import Callable
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
)

__all__ = ["Burst", "burst_line", "densest_windows", "span_text", "telling_bursts"]


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
    inside = grouped & (times >= burst.start[safe]) & (times <= burst.start[safe] + window)
    burst.member = inside
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
    burst: np.ndarray, line_order: np.ndarray, telling: np.ndarray, shop: np.ndarray
) -> np.ndarray:
    """Per line: its burst code when the burst's orders show fake-order signs far
    more often than the shop's orders outside every burst, else -1.

    A flash sale's honest buyers pay at once and ship to virtual-operator
    phones at their shop's usual rate; linking those of them that do would make
    the sign both the link and the evidence.  So a burst links its telling
    buyers only when its telling share beats the shop's own background
    (binomial tail, Benjamini-Hochberg over the bursts).
    """
    inside = burst >= 0
    if not inside.any():
        return burst
    orders = pd.DataFrame({"k": burst[inside], "o": line_order[inside]}).drop_duplicates()
    o = orders["o"].to_numpy()
    per = (
        pd.DataFrame({"k": orders["k"].to_numpy(), "t": telling[o], "s": shop[o]})
        .groupby("k", sort=True)
        .agg(n=("t", "size"), told=("t", "sum"), shop=("s", "first"))
    )
    in_any = np.zeros(len(telling), dtype=bool)
    in_any[o] = True
    outside = ~in_any
    n_shops = int(shop.max()) + 1 if len(shop) else 1
    shop_orders = np.bincount(shop[outside], minlength=n_shops).astype(float)
    shop_told = np.bincount(shop[outside], weights=telling[outside], minlength=n_shops)
    overall = float(telling[outside].sum() + 1.0) / float(outside.sum() + 2.0)
    shops = per["shop"].to_numpy(dtype=np.int64)
    # Laplace-smoothed, and a shop with no orders outside bursts falls back to
    # the export's rate.
    rate = np.where(
        shop_orders[shops] > 0,
        (shop_told[shops] + 1.0) / (shop_orders[shops] + 2.0),
        overall,
    )
    told = per["told"].to_numpy(dtype=float)
    p = binom_sf(told - 1.0, per["n"].to_numpy(dtype=float), rate)
    keep = per.index.to_numpy(dtype=np.int64)[bh_qvalues(p) <= SPEAKS_AT]
    return np.where(np.isin(burst, keep), burst, -1)
