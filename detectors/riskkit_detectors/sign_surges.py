"""Sign surges: one item's orders showing one fake-order sign, crowded into days.

A studio that brushes a shop's SKUs over a week with old accounts, each on its
own device and rotating IP, shares no identifier and need not lift the SKU's
sales much.  What it cannot hide is its orders' sign: forty five-star reviews
within the hour of receipt, where the SKU's other buyers leave two a week.
So every sign is scanned like a sales surge (:func:`riskkit_detectors.
evidence_bursts.scan_items`), over that sign's orders only: an item's window
holding far more of them than the item's own sign-showing orders elsewhere,
scaled by the shop's other items' sign-showing orders inside and outside
the window, lead one to expect.  Benjamini-Hochberg over signs x items.

The surge links the buyers whose orders in it show the sign.  The sign is
then the reason they are linked, not evidence against them: a group linked
so is judged on the surge's own q-value for that sign (corrected for every
window, length, item and sign tried), and on signs it was not picked by.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from riskkit_detectors.evidence import SPEAKS_AT, Line, bh_qvalues, binom_sf, percent
from riskkit_detectors.evidence_bursts import span_text

__all__ = ["SignSurges", "find_sign_surges", "judge_by_surges", "surge_windows"]


@dataclass
class SignSurges:
    """The surges found, one row each, and the (buyer, surge) pairs they link."""

    sign: np.ndarray  # index into the scanned signs
    item: np.ndarray
    q: np.ndarray
    facts: list[str]
    buyers: np.ndarray  # per linked pair
    codes: np.ndarray  # per linked pair: the surge's row
    names: list[str] = field(default_factory=list)  # per scanned sign
    # per surge: chance accounts for less than one of its sign-showing lines
    lone: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    # the orders of those surges' sign-showing lines
    lone_orders: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    value_labels: list[str] = field(default_factory=list)  # per surge, as links name it

    def __len__(self) -> int:
        return len(self.q)

    def links_per_buyer(self, n_buyers: int) -> np.ndarray:
        """How many surges of distinct signs each buyer falls in."""
        pairs = np.unique(self.buyers * (len(self.names) + 1) + self.sign[self.codes])
        return np.bincount(pairs // (len(self.names) + 1), minlength=n_buyers)

    def labels(self) -> pd.Index:
        return pd.Index(self.value_labels, dtype=object)


def surge_windows(longest: float) -> tuple[float, ...]:
    """Scan windows from 30 minutes, doubling, up to ``longest`` seconds."""
    windows: list[float] = []
    window = 1800.0
    while window < longest:
        windows.append(window)
        window *= 2.0
    return (*windows, longest)


@dataclass
class _ShareScan:
    unscanned: int  # items whose sign-showing lines are too few to scan: p = 1 each
    items: np.ndarray
    p: np.ndarray
    start: np.ndarray  # into ``order``, per item: its best window's first line
    end: np.ndarray  # exclusive
    order: np.ndarray  # the sign-showing lines, by item and time
    orders: np.ndarray
    rate: np.ndarray
    first: np.ndarray
    last: np.ndarray

    def lines(self, r: int) -> np.ndarray:
        return self.order[self.start[r] : self.end[r]]


class _Lines:
    """Every scanned line sorted once by (item, time) and by (shop, time)."""

    def __init__(self, item: np.ndarray, seconds: np.ndarray, shop: np.ndarray, longest: float):
        self.usable = (item >= 0) & np.isfinite(seconds)
        self.item, self.seconds, self.shop = item, seconds, shop
        idx = np.flatnonzero(self.usable)
        self.t0 = float(seconds[idx].min()) if len(idx) else 0.0
        self.t_end = float(seconds[idx].max()) if len(idx) else 0.0
        self.span = self.t_end - self.t0 + longest + 1.0
        self.by_item = np.sort(self.item_key(idx))
        self.by_shop = np.sort(self.shop_key(idx))
        self.item_n = np.bincount(item[idx], minlength=int(item.max()) + 1 if len(item) else 0)

    def item_key(self, idx: np.ndarray) -> np.ndarray:
        return self.item[idx] * self.span + (self.seconds[idx] - self.t0)

    def shop_key(self, idx: np.ndarray) -> np.ndarray:
        return self.shop[idx] * self.span + (self.seconds[idx] - self.t0)


def _count(sorted_keys: np.ndarray, at: np.ndarray, window: float) -> np.ndarray:
    return np.searchsorted(sorted_keys, at + window, side="right") - np.searchsorted(
        sorted_keys, at, side="left"
    )


def _share_scan(
    base: _Lines, showing: np.ndarray, windows: tuple[float, ...], min_orders: int
) -> _ShareScan | None:
    """Each item's window where its lines show the sign far more often than its
    lines elsewhere, or its shop's other lines in that window, do."""
    sig_idx = np.flatnonzero(base.usable & showing)
    if not len(sig_idx):
        return None
    item_k = np.bincount(base.item[sig_idx], minlength=len(base.item_n)).astype(float)
    # An item with fewer sign-showing lines than a window needs has no window
    # to weigh: it is one test with p = 1, counted but not scanned.
    scanned = sig_idx[item_k[base.item[sig_idx]] >= min_orders]
    unscanned = int(np.count_nonzero((item_k > 0) & (item_k < min_orders)))
    sig_order = scanned[np.lexsort((base.seconds[scanned], base.item[scanned]))]
    if not len(sig_order):
        none, no_lines = np.zeros(0), np.zeros(0, dtype=np.int64)
        return _ShareScan(unscanned, no_lines, none, no_lines, no_lines, no_lines, *[none] * 4)
    key_sig = base.item_key(sig_order)
    shop_sig = np.sort(base.shop_key(sig_idx))
    at_shop = base.shop_key(sig_order)
    it = base.item[sig_order]
    positions = np.arange(len(sig_order))
    best = np.ones(len(sig_order))
    best_end = positions + 1
    best_n = np.zeros(len(sig_order))
    best_rate = np.zeros(len(sig_order))
    item_before = np.searchsorted(base.by_item, key_sig, side="left")
    for window in windows:
        end = np.searchsorted(key_sig, key_sig + window, side="right")
        # Only windows holding enough sign-showing lines are weighed at all.
        pos = np.flatnonzero(end - positions >= min_orders)
        if not len(pos):
            continue
        k = (end[pos] - pos).astype(float)
        n = (
            np.searchsorted(base.by_item, key_sig[pos] + window, side="right") - item_before[pos]
        ).astype(float)
        item_rate = (item_k[it[pos]] - k + 1.0) / (base.item_n[it[pos]] - n + 2.0)
        # Most of the window's sign-showing orders must be beyond chance: they
        # are the ones linked.  The rate is the larger of the item's and the
        # shop's, so a window below twice the item's rate is out already, and
        # the shop's counts are only looked up for the rest.
        beyond = k >= 2.0 * n * item_rate
        pos, k, n, item_rate = pos[beyond], k[beyond], n[beyond], item_rate[beyond]
        shop_k = _count(shop_sig, at_shop[pos], window)
        shop_n = _count(base.by_shop, at_shop[pos], window)
        shop_rate = (shop_k - k + 1.0) / (shop_n - n + 2.0)
        rate = np.maximum(item_rate, shop_rate)
        beyond = k >= 2.0 * n * rate
        pos, k, n, rate = pos[beyond], k[beyond], n[beyond], rate[beyond]
        tries = len(windows) * max(1.0, (base.t_end - base.t0) / window)
        p = np.minimum(1.0, tries * binom_sf(k - 1.0, n, rate))
        better = p < best[pos]
        chosen = pos[better]
        best[chosen] = p[better]
        best_end[chosen] = end[chosen]
        best_n[chosen] = n[better]
        best_rate[chosen] = rate[better]
    segment = np.flatnonzero(np.r_[True, it[1:] != it[:-1]])
    # Each item's best start: the first position of its smallest p.
    rank = np.lexsort((positions, best, it))
    start = rank[np.searchsorted(it[rank], it[segment], side="left")]
    sig_seconds = base.seconds[sig_order]
    return _ShareScan(
        items=it[segment],
        p=best[start],
        start=start,
        end=best_end[start],
        order=sig_order,
        orders=best_n[start],
        rate=best_rate[start],
        first=sig_seconds[start],
        last=sig_seconds[best_end[start] - 1],
        unscanned=unscanned,
    )


def _order_buyers(line_order: np.ndarray, line_buyer: np.ndarray) -> np.ndarray:
    """Per order: its buyer (-1 for an order with no scanned line)."""
    order_buyer = np.full(int(line_order.max()) + 1 if len(line_order) else 0, -1, dtype=np.int64)
    order_buyer[line_order] = line_buyer
    return order_buyer


def _crowded_buyers(
    surge_lines: list[np.ndarray], line_order: np.ndarray, line_buyer: np.ndarray
) -> np.ndarray:
    """Per buyer: True where most of its orders are in some sign surge.

    A surge's sign-showing lines are suspicious; the buyer behind one of them
    is only as suspect as the surges are its business.  A customer who places
    forty orders a month, two of them in a surge, has a life the surge does
    not explain: reviewing at once or re-ordering within the day is how it
    shops everywhere.  A brushing account's orders are the surges'.
    """
    n_buyers = int(line_buyer.max()) + 1 if len(line_buyer) else 0
    order_buyer = _order_buyers(line_order, line_buyer)
    n_orders = len(order_buyer)
    present = order_buyer >= 0
    in_surge = np.zeros(n_orders, dtype=bool)
    if surge_lines:
        in_surge[line_order[np.concatenate(surge_lines)]] = True
    orders = np.bincount(order_buyer[present], minlength=n_buyers)
    surged = np.bincount(order_buyer[present & in_surge], minlength=n_buyers)
    return np.asarray(2 * surged >= orders, dtype=bool)


def _habitual_pairs(
    buyers: np.ndarray,
    codes: np.ndarray,
    surge_sign: np.ndarray,
    surge_lines: list[np.ndarray],
    signs: Sequence[tuple[str, str, np.ndarray]],
    line_order: np.ndarray,
    line_buyer: np.ndarray,
) -> np.ndarray:
    """Per given (buyer, surge) pair: True where the buyer shows the surge's
    sign on its orders outside that sign's surges beyond chance.

    Then the sign is the buyer's habit (it reviews everything at once), and
    the surge does not explain it.  A brushing account's other orders are
    camouflage, bought and received like anybody's: the sign is the surge's.
    Chance is the sign's rate over every order of the export.
    """
    habitual = np.zeros(len(buyers), dtype=bool)
    if not len(buyers):
        return habitual
    n_buyers = int(line_buyer.max()) + 1
    order_buyer = _order_buyers(line_order, line_buyer)
    present = order_buyer >= 0
    pair_sign = surge_sign[codes]
    for j in np.unique(pair_sign):
        hit = np.asarray(signs[j][2][: len(order_buyer)], dtype=bool)
        in_surge = np.zeros(len(order_buyer), dtype=bool)
        for code in np.flatnonzero(surge_sign == j):
            in_surge[line_order[surge_lines[code]]] = True
        rate = float(hit[present].mean())
        outside = np.bincount(order_buyer[present & ~in_surge], minlength=n_buyers)
        shown = np.bincount(order_buyer[present & ~in_surge & hit], minlength=n_buyers)
        mine = np.flatnonzero(pair_sign == j)
        b = buyers[mine]
        p = binom_sf(shown[b] - 1.0, outside[b].astype(float), rate)
        habitual[mine] = (shown[b] > 0) & (p <= SPEAKS_AT)
    return habitual


def find_sign_surges(
    signs: Sequence[tuple[str, str, np.ndarray]],
    item: np.ndarray,
    line_seconds: np.ndarray,
    line_order: np.ndarray,
    line_buyer: np.ndarray,
    shop: np.ndarray,
    windows: tuple[float, ...],
    min_orders: int,
    describe_item: Callable[[int], str],
    describe_time: Callable[[float], str],
) -> SignSurges:
    """Surges of each sign (``(name, phrase, per-order hit)``) over items."""
    line_shop = shop[line_order]
    base = _Lines(item, line_seconds, line_shop, max(windows))
    scans = [_share_scan(base, hit[line_order], windows, min_orders) for _, _, hit in signs]
    unscanned = sum(s.unscanned for s in scans if s is not None)
    p = np.concatenate([np.zeros(0)] + [s.p for s in scans if s is not None] + [np.ones(unscanned)])
    q_all = bh_qvalues(p)
    sign_of: list[int] = []
    item_of: list[int] = []
    q_of: list[float] = []
    lone_of: list[bool] = []
    facts: list[str] = []
    labels: list[str] = []

    pair_buyers: list[np.ndarray] = []
    pair_codes: list[np.ndarray] = []
    surge_lines: list[np.ndarray] = []
    offset = 0
    for j, scan in enumerate(scans):
        if scan is None:
            continue
        q = q_all[offset : offset + len(scan.p)]
        offset += len(scan.p)
        for r in np.flatnonzero(q <= SPEAKS_AT):
            rows = scan.lines(int(r))
            code = len(q_of)
            name = describe_item(int(scan.items[r]))
            sign_of.append(j)
            item_of.append(int(scan.items[r]))
            q_of.append(float(q[r]))
            lone_of.append(bool(scan.orders[r] * scan.rate[r] < 1.0))
            facts.append(
                f"{len(rows)} of {int(scan.orders[r])} order lines of {name} "
                f"{signs[j][1]} within {span_text(float(scan.last[r] - scan.first[r]))} "
                f"(from {describe_time(float(scan.first[r]))}); the SKU's other lines, or "
                f"the shop's other lines at the time, put the rate at "
                f"{percent(float(scan.rate[r]))} (Laplace-smoothed) "
                f"(surge q = {q[r]:.2g} over every window, SKU and sign scanned)"
            )
            labels.append(f"{signs[j][0].replace('_', ' ')} on {name}")
            surge_lines.append(rows)
            pair_buyers.append(np.unique(line_buyer[rows]))
            pair_codes.append(np.full(len(pair_buyers[-1]), code, dtype=np.int64))
    empty = np.zeros(0, dtype=np.int64)
    buyers = np.concatenate(pair_buyers) if pair_buyers else empty
    codes = np.concatenate(pair_codes) if pair_codes else empty
    crowded = _crowded_buyers(surge_lines, line_order, line_buyer)
    # Beyond the crowded accounts, a surge chance explains less than one order
    # of links every account whose sign there is not its habit.
    lone = np.asarray(lone_of, dtype=bool)
    keep = crowded[buyers] if len(buyers) else np.zeros(0, dtype=bool)
    ask = np.flatnonzero(~keep & lone[codes]) if len(buyers) else np.zeros(0, dtype=np.int64)
    surge_sign = np.asarray(sign_of, dtype=np.int64)
    keep[ask] = ~_habitual_pairs(
        buyers[ask], codes[ask], surge_sign, surge_lines, signs, line_order, line_buyer
    )
    return SignSurges(
        sign=np.asarray(sign_of, dtype=np.int64),
        item=np.asarray(item_of, dtype=np.int64),
        q=np.asarray(q_of, dtype=float),
        facts=facts,
        buyers=buyers[keep],
        codes=codes[keep],
        names=[name for name, _, _ in signs],
        value_labels=labels,
        lone=lone,
        lone_orders=np.unique(
            line_order[np.concatenate([surge_lines[c] for c in np.flatnonzero(lone_of)])]
        )
        if any(lone_of)
        else np.zeros(0, dtype=np.int64),
    )


def judge_by_surges(
    lines: Sequence[Line],
    surges: SignSurges,
    links: pd.DataFrame,
    surge_only_share: np.ndarray,
    n_groups: int,
    circular_families: Sequence[str],
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Re-weigh the lines of groups linked by sign surges.  Returns, per group,
    whether a surge links it (a surge targets its item's shop as surely as a
    SKU), and per re-weighed line the groups it was re-weighed for.

    The line of a sign that picked a group's accounts takes the larger of its
    own p-value and the surge's q-value for that sign (the smallest over the
    group's surges of it): the sign that found the accounts can speak no more
    strongly than the surge does.  Its reason becomes the surge's.  Where most
    of a group's accounts are linked by surges alone, ``circular_families`` (they bought the surging
    SKU: that is how they were found) say nothing.
    """
    linked = np.zeros(n_groups, dtype=bool)
    reweighed: dict[str, np.ndarray] = {}
    rows = links[links["kind"] == "sign_surge"]
    if not len(surges) or rows.empty:
        return linked, reweighed
    code = rows["value_code"].to_numpy(dtype=np.int64)
    comp = rows["component"].to_numpy(dtype=np.int64)
    linked[comp] = True
    by_name = {line.name: line for line in lines}
    for j, name in enumerate(surges.names):
        line = by_name.get(name)
        mine = surges.sign[code] == j
        if line is None or not mine.any():
            continue
        best = pd.Series(surges.q[code[mine]]).groupby(comp[mine]).idxmin()
        groups = best.index.to_numpy(dtype=np.int64)
        surge_code = code[mine][best.to_numpy(dtype=np.int64)]
        line.p[groups] = np.maximum(line.p[groups], surges.q[surge_code])
        reweighed[name] = groups
        for group, surge in zip(groups, surge_code, strict=True):
            line.facts[int(group)] = surges.facts[int(surge)]
    circular = linked & (surge_only_share >= 0.5)
    for line in lines:
        if line.family in circular_families:
            line.p[circular] = 1.0
    return linked, reweighed
