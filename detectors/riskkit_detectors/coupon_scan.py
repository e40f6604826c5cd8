"""Bursts of threshold-sized redemptions at one shop, against the shop's own background.

A coupon farm whose accounts share nothing -- each its own device, IP, phone
and address, on an export without registration times -- still redeems at one
shop, on baskets sized to the coupon's threshold, within hours or days.  An
honest shop's new users do that too, but at a steady share of its orders.

For every shop, every window of 1 h, 6 h, 24 h and 72 h that opens at a
threshold-sized redemption is tested: among the shop's orders in the window,
how many are such redemptions, against the share of the shop's orders outside
every burst found so far that are (binomial tail given the window's first
redemption, Bonferroni over every window tested).  The background is
re-measured without the bursts found until it settles, so a shop that a farm
works all month does not set its own bar.  Windows that are significant are
taken strongest first, never overlapping at one shop.

Two rules keep audiences out: a window must hold at least as many
threshold-sized redemptions as other redemptions (a farm sizes every basket
to the threshold; a live-stream's newcomers buy what is shown), and a window
with more redemptions than ``cap`` (a live-stream's rush) is not a farm's.
The burst only gathers candidates; the group is still convicted by a second,
independent line of evidence (:mod:`riskkit_detectors.coupon_groups`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskkit_detectors.coupon_features import AccountFacts
from riskkit_detectors.evidence import SPEAKS_AT, binom_sf, percent
from riskkit_detectors.evidence_bursts import span_text
from riskkit_detectors.identity import IdentityKey
from riskkit_detectors.order_view import OrderView

__all__ = ["RedemptionBursts", "redemption_bursts"]

_SCALES_HOURS = (1.0, 6.0, 24.0, 72.0)
_RUSH_HOURS = (1.0, 6.0)
# Rounds of re-measuring the background without the bursts found.
_ROUNDS = 4
# Pseudo-orders pulling a small shop's share toward the export's.
_SMOOTHING = 50.0


@dataclass
class RedemptionBursts:
    """The bursts found: an identity key over their redemption orders, and per
    burst its shop, times, counts, background share and adjusted p-value."""

    key: IdentityKey
    shop: np.ndarray
    start: np.ndarray  # seconds since the export's first order
    span: np.ndarray
    near: np.ndarray  # threshold-sized redemptions in the window
    orders: np.ndarray  # the shop's orders in the window
    share: np.ndarray  # the shop's background share of such redemptions (smoothed)
    observed: np.ndarray  # the same share as counted, quoted in reasons
    p: np.ndarray  # Bonferroni-adjusted over the windows tested
    tests: int
    shop_names: np.ndarray
    origin: pd.Timestamp

    def fact(self, burst: int, threshold: float) -> str:
        """The burst as a reason states it, background rate included."""
        start = self.origin + pd.Timedelta(seconds=float(self.start[burst]))
        return (
            f"{int(self.near[burst])} of shop {self.shop_names[self.shop[burst]]}'s "
            f"{int(self.orders[burst])} orders within {span_text(float(self.span[burst]))} "
            f"(from {start:%Y-%m-%d %H:%M}) redeemed a new-user coupon just over the "
            f"¥{threshold:.0f} threshold; in this export {percent(float(self.observed[burst]))} "
            f"of that shop's orders outside such bursts do ({self.tests} windows tested)"
        )


def redemption_bursts(
    view: OrderView, buyer: np.ndarray, facts: AccountFacts, cap: int, min_accounts: int
) -> tuple[RedemptionBursts | None, np.ndarray]:
    """Significant bursts of threshold-sized redemptions, shop by shop, and
    per order whether it fell in an audience's rush (other redemptions
    bursting at its shop within hours)."""
    near = facts.near_threshold_order
    in_audience = np.zeros(len(near), dtype=bool)
    if not near.any():
        return None, in_audience
    created = view.orders["created_at"]
    origin = created.min()
    t = np.asarray((created - origin).dt.total_seconds(), dtype=float)
    known = np.isfinite(t)
    shop_codes, shop_names = pd.factorize(view.orders["shop_id"].astype("object").fillna("<none>"))
    shop = np.asarray(shop_codes, dtype=np.int64)
    order = np.flatnonzero(known)[np.lexsort((t[known], shop[known]))]
    s, ts = shop[order], t[order]
    is_near = near[order].astype(np.int64)
    is_redeem = facts.redeem_order[order].astype(np.int64)
    is_other = is_redeem * (1 - is_near)
    scale = float(ts.max() - ts.min()) + 2.0 * 86_400.0 * max(_SCALES_HOURS) / 24.0 + 1.0
    key = s.astype(np.float64) * scale + (ts - ts.min())
    cum_near = np.concatenate(([0], np.cumsum(is_near)))
    cum_redeem = np.concatenate(([0], np.cumsum(is_redeem)))
    cum_other = np.concatenate(([0], np.cumsum(is_other)))
    n_shops = len(shop_names)
    start_pos, end_pos = _windows(key, np.flatnonzero(is_near))
    # Audiences gather within hours (a live stream, a promotion's evening).
    other_start, other_end = _windows(key, np.flatnonzero(is_other), _RUSH_HOURS)
    k = cum_near[end_pos] - cum_near[start_pos]
    n = end_pos - start_pos
    redeemed = cum_redeem[end_pos] - cum_redeem[start_pos]
    others = cum_other[other_end] - cum_other[other_start]
    tests = len(start_pos)
    other_tests = max(len(other_start), 1)
    farm_like = (k >= min_accounts) & (redeemed <= cap)
    inside = np.zeros(len(order), dtype=bool)
    audience = np.zeros(len(order), dtype=bool)
    chosen = np.zeros(0, dtype=np.int64)
    share = np.zeros(tests)
    taken = np.full(len(order), -1, dtype=np.int64)
    for _ in range(_ROUNDS):
        outside = ~(inside | audience)
        seen = np.bincount(s[outside], minlength=n_shops).astype(float)
        # New users flocking in on every kind of basket are an audience (a
        # live stream, a promotion): its other redemptions burst as well, and
        # a burst of threshold-sized ones inside it is the audience's too.
        other_share = _shop_share(s, is_other, outside, seen, n_shops)[s[other_start]]
        p_other = binom_sf(others - 2, other_end - other_start - 1, other_share) * other_tests
        rush = (p_other <= SPEAKS_AT) & (others >= min_accounts)
        audience = _covered(len(order), other_start[rush], other_end[rush])
        in_rush = np.concatenate(([0], np.cumsum(audience)))
        calm = in_rush[end_pos] == in_rush[start_pos]
        share = _shop_share(s, is_near, outside, seen, n_shops)[s[start_pos]]
        picked, taken = _take_bursts(
            k,
            n,
            redeemed,
            share,
            tests,
            farm_like & calm,
            start_pos,
            end_pos,
            is_near,
            min_accounts,
        )
        if np.array_equal(picked, chosen):
            break
        chosen = picked
        inside = _covered(len(order), start_pos[chosen], end_pos[chosen])
    codes = np.full(len(t), -1, dtype=np.int64)
    codes[order[taken >= 0]] = taken[taken >= 0]
    in_audience[order[audience]] = True
    if not len(chosen):
        return None, in_audience
    p_adj, k, n = _burst_stats(chosen, taken, start_pos, end_pos, share, tests)
    outside = ~(inside | audience)
    shops = s[start_pos[chosen]]
    hits = np.bincount(s[outside], weights=is_near[outside], minlength=n_shops)
    seen = np.bincount(s[outside], minlength=n_shops).astype(float)
    observed = hits[shops] / np.maximum(seen[shops], 1.0)
    last = np.maximum(end_pos[chosen] - 1, start_pos[chosen])
    labels = pd.Index(
        [
            f"at shop {shop_names[s[start_pos[w]]]} from "
            f"{origin + pd.Timedelta(seconds=float(ts[start_pos[w]])):%Y-%m-%d %H:%M}"
            for w in chosen
        ],
        dtype=object,
    )
    key_ = IdentityKey(
        "redeem_burst", buyer, codes, labels, cap, min_accounts, counts_toward_degree=False
    )
    bursts = RedemptionBursts(
        key=key_,
        shop=s[start_pos[chosen]],
        start=ts[start_pos[chosen]],
        span=ts[last] - ts[start_pos[chosen]],
        near=k,
        orders=n,
        share=share[chosen],
        observed=observed,
        p=p_adj,
        tests=tests,
        shop_names=np.asarray(shop_names, dtype=object),
        origin=origin,
    )
    return bursts, in_audience


def _windows(
    key: np.ndarray, events: np.ndarray, scales: tuple[float, ...] = _SCALES_HOURS
) -> tuple[np.ndarray, np.ndarray]:
    """Windows of every scale opening at each event: [start, end) positions in
    the shop-major, time-minor order of ``key``."""
    ends = [np.searchsorted(key, key[events] + hours * 3600.0, side="right") for hours in scales]
    return np.tile(events, len(scales)), np.concatenate(ends).astype(np.int64)


def _shop_share(
    shop: np.ndarray, hit: np.ndarray, outside: np.ndarray, seen: np.ndarray, n_shops: int
) -> np.ndarray:
    """Per shop: the share of its orders outside every burst showing ``hit``,
    pulled toward the export's share by pseudo-orders."""
    overall = (float(hit[outside].sum()) + 1.0) / (float(outside.sum()) + 2.0)
    hits = np.bincount(shop[outside], weights=hit[outside], minlength=n_shops)
    return np.asarray((hits + _SMOOTHING * overall) / (seen + _SMOOTHING), dtype=float)


def _covered(n: int, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Positions inside any of the [start, end) ranges (a difference array)."""
    marks = np.zeros(n + 1, dtype=np.int64)
    np.add.at(marks, start, 1)
    np.add.at(marks, end, -1)
    return np.cumsum(marks[:-1]) > 0


def _take_bursts(
    k: np.ndarray,
    n: np.ndarray,
    redeemed: np.ndarray,
    share: np.ndarray,
    tests: int,
    eligible: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    is_near: np.ndarray,
    min_accounts: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Windows strongest first; each later one is judged on the redemptions no
    earlier window took (and must open at one), so a strong hour does not make
    the three days around it significant.  Returns the windows taken and, per
    position, the burst that took it (-1: none)."""
    taken = np.full(len(is_near), -1, dtype=np.int64)
    free_near = is_near.astype(bool).copy()
    picked: list[int] = []
    # Taking redemptions away only weakens a window: the windows that are not
    # significant on all their redemptions never will be.
    first = binom_sf(k - 2, n - 1, share) * tests
    pool = np.flatnonzero(
        eligible & (k >= min_accounts) & (2 * k >= redeemed) & (first <= SPEAKS_AT)
    )
    st, en = start[pool], end[pool]
    held = np.zeros(0, dtype=np.int64)  # positions taken so far, sorted
    while len(pool):
        used = np.searchsorted(held, en, side="left") - np.searchsorted(held, st, side="left")
        k_free = k[pool] - used
        p = binom_sf(k_free - 2, n[pool] - used - 1, share[pool]) * tests
        ok = free_near[st] & (k_free >= min_accounts) & (2 * k_free >= redeemed[pool] - used)
        ok &= p <= SPEAKS_AT
        if not ok.any():
            break
        candidates = np.flatnonzero(ok)
        best = candidates[np.lexsort((-k_free[candidates], p[candidates]))[0]]
        rows = np.arange(st[best], en[best])
        rows = rows[free_near[rows]]
        taken[rows] = len(picked)
        free_near[rows] = False
        held = np.sort(np.concatenate((held, rows)))
        picked.append(int(pool[best]))
    return np.asarray(picked, dtype=np.int64), taken


def _burst_stats(
    chosen: np.ndarray,
    taken: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    share: np.ndarray,
    tests: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per burst taken: its adjusted p-value, its redemptions and the shop's
    orders in its window that no earlier burst held."""
    k = np.bincount(taken[taken >= 0], minlength=len(chosen))
    held_before = np.zeros(len(chosen), dtype=np.int64)
    for code, w in enumerate(chosen):
        window = taken[start[w] : end[w]]
        held_before[code] = int(((window >= 0) & (window < code)).sum())
    n = end[chosen] - start[chosen] - held_before
    p = np.minimum(1.0, binom_sf(k - 2, n - 1, share[chosen]) * tests)
    return p, k, n
