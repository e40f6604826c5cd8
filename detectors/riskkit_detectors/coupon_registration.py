"""A group's registration (or first-order) burst against its own shop's newcomers.

A live stream brings a shop hundreds of new accounts in an evening; a handful
of its viewers who share a district's parcel station and a carrier's NAT
address registered within the hour by the stream, not by a farm.  So the
chance that one of the group's accounts falls in the group's densest window is
the share of the accounts outside every candidate group *whose first order was
at the group's shop* that fall in it (pulled toward the export-wide share by
pseudo-accounts where the shop has few), not the export's share.  Otherwise as
:func:`riskkit_detectors.evidence_bursts.burst_line`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from riskkit_detectors.evidence import RING_ACCOUNTS, Line, binom_sf, percent
from riskkit_detectors.evidence_bursts import household_bursts, span_text

__all__ = ["shop_burst_line"]

# Pseudo-accounts pulling a shop with few newcomers toward the export's share.
_SMOOTHING = 50.0


def shop_burst_line(
    family: str,
    what: str,
    comp_of_buyer: np.ndarray,
    times: np.ndarray,
    window: float,
    n_groups: int,
    describe_time: Callable[[float], str],
    first_shop: np.ndarray,
    shop_names: pd.Index,
    household: np.ndarray | None = None,
) -> Line:
    """Accounts of a group that ``what`` within one window, against the
    accounts of the group's shop outside every candidate group."""
    burst, first_of_household = household_bursts(comp_of_buyer, times, window, n_groups, household)
    grouped = comp_of_buyer >= 0
    inside = burst.member
    p = np.ones(n_groups)
    facts: dict[int, str] = {}
    codes = np.flatnonzero(burst.accounts >= RING_ACCOUNTS)
    timed_accounts = np.bincount(comp_of_buyer[grouped & np.isfinite(times)], minlength=n_groups)
    background = ~grouped & np.isfinite(times) & first_of_household & (first_shop >= 0)
    if not len(codes) or not background.any():
        return Line(family, "burst", p, facts, account_hit=inside)
    # The group's shop: where most of its accounts placed their first order.
    pairs = pd.DataFrame({"c": comp_of_buyer[grouped], "s": first_shop[grouped]})
    pairs = pairs[pairs["s"] >= 0]
    mode = pairs.groupby("c")["s"].agg(lambda s: int(s.value_counts().index[0]))
    group_shop = np.full(n_groups, -1, dtype=np.int64)
    group_shop[mode.index.to_numpy(dtype=np.int64)] = mode.to_numpy(dtype=np.int64)
    t_bg, s_bg = times[background], first_shop[background]
    all_sorted = np.sort(t_bg)
    order = np.lexsort((t_bg, s_bg))
    span = float(np.nanmax(times) - np.nanmin(times)) + 2.0 * window + 1.0
    origin = float(np.nanmin(times))
    key = s_bg[order].astype(np.float64) * span + (t_bg[order] - origin)
    per_shop = np.bincount(s_bg, minlength=int(first_shop.max()) + 1)
    for code in codes:
        shop = int(group_shop[code])
        start = float(burst.start[code])
        lo = np.searchsorted(all_sorted, start, side="left")
        hi = np.searchsorted(all_sorted, start + window, side="right")
        overall = (hi - lo + 1.0) / (len(all_sorted) + 1.0)
        if shop >= 0:
            base = shop * span + (start - origin)
            in_shop = np.searchsorted(key, base + window, side="right") - np.searchsorted(
                key, base, side="left"
            )
            n_shop = int(per_shop[shop]) if shop < len(per_shop) else 0
        else:
            in_shop, n_shop = 0, 0
        share = (in_shop + _SMOOTHING * overall) / (n_shop + _SMOOTHING)
        k, n = int(burst.accounts[code]), int(burst.timed[code])
        p[code] = min(1.0, n * float(binom_sf(np.array([k - 2]), np.array([n - 1]), share)[0]))
        unit = "accounts" if burst.timed[code] == timed_accounts[code] else "households"
        observed = in_shop / max(n_shop, 1)
        where = f"shop {shop_names[shop]}'s" if shop >= 0 else "the"
        facts[int(code)] = (
            f"{k}/{n} {unit} {what} within {span_text(float(burst.span[code]))} "
            f"(from {describe_time(start)}); in this export {percent(observed)} of "
            f"{where} {unit} outside candidate groups {what} in that {span_text(window)}"
        )
    return Line(family, "burst", p, facts, account_hit=inside)
