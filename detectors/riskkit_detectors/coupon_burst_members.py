"""Which accounts of a burst of redemptions are the farm's.

A burst of threshold-sized redemptions (:mod:`riskkit_detectors.coupon_scan`)
holds a farm's accounts and the honest newcomers who redeemed in the same
hours.  An account of the burst is the farm's when it bought what the farm
bought (:func:`on_the_burst_sku`) and, where registration times are known,
it was registered in a batch of its group's accounts
(:func:`registered_in_batch`) or it shows the burst's fingerprint
(:func:`burst_fingerprints`).

The fingerprint is what a burst's orders have in common beyond the burst.  A
farm's accounts arrive the same way: through one rebate (affiliate) link, on
SIMs of a virtual operator bought from an SMS-code platform (接码), from one
app build.  Honest newcomers redeeming in the same hours arrive the way that
shop's newcomers always do.  For every burst and every value of every trait
its orders show, the count of the burst's orders with that value is tested
against the value's share among the shop's threshold-sized redemptions
outside every burst (binomial tail, Bonferroni over every burst x trait x
value tested).  A value far above its background, which chance would put on
fewer than one of the burst's orders, is the burst's fingerprint, and an
order of the burst that shows it is the farm's.

Nothing here says which channel or operator is suspect: the export's own
background decides, burst by burst.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from riskkit_detectors.coupon_scan import RedemptionBursts
from riskkit_detectors.evidence import RING_ACCOUNTS, SPEAKS_AT, binom_sf, percent
from riskkit_detectors.identity import VIRTUAL_OPERATOR_PREFIXES, is_virtual_key
from riskkit_detectors.order_view import ItemIndex, OrderView, known
from riskkit_detectors.strings import TextCodes, factorize_text, normalised_codes

__all__ = [
    "Audiences",
    "BurstFingerprints",
    "Trait",
    "arrival_traits",
    "audiences",
    "burst_fingerprints",
    "on_the_burst_sku",
    "registered_in_batch",
]

# Pseudo-redemptions pulling a small shop's share toward the export's.
_SMOOTHING = 50.0


@dataclass
class Trait:
    """Per order: a code (-1 unknown) and, per code, how a reason says it
    ("came through channel affiliate")."""

    codes: np.ndarray
    wordings: list[str]


@dataclass
class BurstFingerprints:
    """``marked``: per order, it is in a burst and shows that burst's fingerprint."""

    marked: np.ndarray
    facts: dict[int, str] = field(default_factory=dict)  # burst code -> sentence


def burst_fingerprints(
    burst_of_order: np.ndarray,
    shop: np.ndarray,
    background: np.ndarray,
    traits: Mapping[str, Trait],
    min_accounts: int,
    expected: np.ndarray,
) -> BurstFingerprints:
    """The fingerprints of every burst (``burst_of_order`` -1 outside bursts).

    ``background`` marks the orders each value's share is measured among,
    shop by shop (a burst's: the threshold-sized redemptions outside every
    burst).  ``expected`` holds, per burst,
    the threshold-sized redemptions chance puts in its window; a value marks
    orders only where chance explains fewer than one of the burst's orders
    showing it (an honest newcomer redeeming in those hours shows the shop's
    usual values).
    """
    marked = np.zeros(len(burst_of_order), dtype=bool)
    in_burst = burst_of_order >= 0
    if not in_burst.any() or not traits:
        return BurstFingerprints(marked)
    n_shops = int(shop.max()) + 1
    shop_of_burst = _shop_of_burst(burst_of_order, shop)
    tables = []
    for name, trait in traits.items():
        codes = trait.codes
        n_values = len(trait.wordings)
        if n_values < 2:
            continue
        base = background & (codes >= 0)
        overall = (np.bincount(codes[base], minlength=n_values) + 1.0) / (base.sum() + 2.0)
        cell = shop * n_values + np.maximum(codes, 0)
        hits = np.bincount(cell[base], minlength=n_shops * n_values).astype(float)
        seen = np.bincount(shop[base], minlength=n_shops).astype(float)
        rows = np.flatnonzero(in_burst & (codes >= 0))
        frame = pd.DataFrame({"burst": burst_of_order[rows], "value": codes[rows]})
        table = frame.groupby(["burst", "value"]).size().rename("k").reset_index()
        table["n"] = frame.groupby("burst").size().reindex(table["burst"]).to_numpy()
        where = shop_of_burst[table["burst"].to_numpy()]
        value = table["value"].to_numpy()
        table["rate"] = (hits[where * n_values + value] + _SMOOTHING * overall[value]) / (
            seen[where] + _SMOOTHING
        )
        table["trait"] = name
        tables.append(table)
    if not tables:
        return BurstFingerprints(marked)
    table = pd.concat(tables, ignore_index=True)
    k, n, rate = (table[c].to_numpy() for c in ("k", "n", "rate"))
    p = binom_sf(k - 1, n, rate) * len(table)
    by_chance = expected[table["burst"].to_numpy()] * rate
    hit = table[(p <= SPEAKS_AT) & (k >= min_accounts) & (by_chance < 1.0)]
    # One pass over the orders per trait, not one per fingerprint found.
    for name, found in hit.groupby("trait"):
        codes = traits[str(name)].codes
        width = len(traits[str(name)].wordings)
        pairs = found["burst"].to_numpy(np.int64) * width + found["value"].to_numpy(np.int64)
        shows = in_burst & (codes >= 0)
        marked[shows] |= np.isin(burst_of_order[shows] * width + codes[shows], pairs)
    facts: dict[int, str] = {}
    for row in hit.sort_values(["burst", "k"], ascending=[True, False]).itertuples(index=False):
        trait = traits[str(row.trait)]
        burst = int(row.burst)
        sentence = (
            f"{row.k} of the burst's {row.n} redemptions {trait.wordings[int(row.value)]}, "
            f"against {percent(float(row.rate))} of the shop's other threshold-sized ones"
        )
        facts[burst] = f"{facts[burst]}; {sentence}" if burst in facts else sentence
    return BurstFingerprints(marked, facts)


@dataclass
class Audiences:
    """Per group: ``audience``, at least half of its redemptions fell in an
    audience's rush; ``unlike``, it arrived unlike that rush (where the
    export has no trait to tell, the caller's stand-in).  Per order: ``rushed``, a redemption in a
    rush; ``arrived_unlike``, such a redemption showing its group's
    arrival value that the rush's other redemptions rarely show."""

    audience: np.ndarray
    unlike: np.ndarray
    rushed: np.ndarray
    arrived_unlike: np.ndarray


def audiences(
    comp_of_order: np.ndarray,
    shop: np.ndarray,
    redeem_order: np.ndarray,
    in_audience: np.ndarray,
    traits: Mapping[str, Trait],
    unlike_when_unknown: np.ndarray,
) -> Audiences:
    """How each group's redemptions sit in the audiences' rushes.  A farm
    working during a live stream arrives through its own links (a rebate
    link, one SIM operator); the viewers arrive through the stream: a value
    of channel, platform or phone kind far above its share among the rush's
    redemptions outside every group (binomial tail, Bonferroni) tells the
    farm apart from the audience around it."""
    n_groups = len(unlike_when_unknown)
    held = (comp_of_order >= 0) & redeem_order
    redemptions = np.bincount(comp_of_order[held], minlength=n_groups)
    rushed = held & in_audience
    audience = (redemptions > 0) & (
        2 * np.bincount(comp_of_order[rushed], minlength=n_groups) >= redemptions
    )
    if not traits:
        return Audiences(audience, unlike_when_unknown, rushed, rushed.copy())
    # Against the rush's redemptions outside every group: the viewers.  (Not
    # against the whole rush: a farm's own redemptions can make one.)
    prints = burst_fingerprints(
        np.where(held, comp_of_order, -1),
        shop,
        redeem_order & in_audience & (comp_of_order < 0),
        traits,
        RING_ACCOUNTS,
        np.zeros(n_groups),
    )
    unlike = np.zeros(n_groups, dtype=bool)
    unlike[list(prints.facts)] = True
    return Audiences(audience, unlike, rushed, rushed & prints.marked)


def _shop_of_burst(burst_of_order: np.ndarray, shop: np.ndarray) -> np.ndarray:
    held = burst_of_order >= 0
    out = np.zeros(int(burst_of_order.max()) + 1, dtype=np.int64)
    out[burst_of_order[held]] = shop[held]
    return out


def arrival_traits(orders: pd.DataFrame, phones: TextCodes | None) -> dict[str, Trait]:
    """How each order arrived: its channel, its platform and (from the
    normalised ``phones``) the phone's kind of operator, each distinct
    wording read once."""
    traits: dict[str, Trait] = {}
    for column, verb in (("channel", "came through channel"), ("platform", "ordered on")):
        if column not in orders or not known(orders[column]):
            continue
        wording = normalised_codes(factorize_text(orders[column]), pc.utf8_lower)
        traits[column] = Trait(wording.codes, [f"{verb} {v}" for v in wording.values.to_pylist()])
    if phones is not None and (phones.codes >= 0).any():
        virtual = is_virtual_key(phones.values).astype(np.int64)
        codes = np.where(phones.codes >= 0, virtual[np.maximum(phones.codes, 0)], -1)
        operators = "/".join(VIRTUAL_OPERATOR_PREFIXES)
        traits["phone"] = Trait(
            codes,
            [
                "gave a phone number on a mobile network",
                f"gave a phone number of a virtual operator ({operators})",
            ],
        )
    return traits


def on_the_burst_sku(
    view: OrderView, bursts: RedemptionBursts, n_buyers: int, min_accounts: int
) -> np.ndarray:
    """Per buyer: its redemption in a burst was of a SKU that at least
    ``min_accounts`` of the burst's redemptions bought.  A farm works one or
    two listings; an honest newcomer redeeming in the same hours buys its own."""
    key = bursts.key
    out = np.zeros(n_buyers, dtype=bool)
    held = np.flatnonzero(key.codes >= 0)
    if not len(held):
        return out
    items = ItemIndex(view)
    line_order = view.lines["order_pos"].to_numpy()
    item_of_order = np.full(len(view), -1, dtype=np.int64)
    item_of_order[line_order[::-1]] = items.codes[::-1]
    pair = pd.DataFrame({"w": key.codes[held], "i": item_of_order[held]})
    size = pair.groupby(["w", "i"])["w"].transform("size").to_numpy()
    out[key.buyers[held[size >= min_accounts]]] = True
    return out


def registered_in_batch(
    comp_of_buyer: np.ndarray, registered: np.ndarray, window: float, min_accounts: int
) -> np.ndarray:
    """Per buyer: at least ``min_accounts`` of its group's accounts (itself
    included) were registered within ``window`` seconds either side of it."""
    out = np.zeros(len(comp_of_buyer), dtype=bool)
    usable = np.flatnonzero((comp_of_buyer >= 0) & np.isfinite(registered))
    if not len(usable):
        return out
    t = registered[usable]
    order = usable[np.lexsort((t, comp_of_buyer[usable]))]
    times = registered[order]
    scale = float(times.max() - times.min()) + 4.0 * window + 1.0
    key = comp_of_buyer[order].astype(np.float64) * scale + (times - times.min())
    near = np.searchsorted(key, key + window, side="right") - np.searchsorted(
        key, key - window, side="left"
    )
    out[order] = near >= min_accounts
    return out
