"""Scoring coupon-abuse groups: evidence weighed against the export's background.

Lines of evidence (families as in :mod:`riskkit_detectors.evidence`):

============  ==========================================================
coupon        accounts that redeemed a new-user coupon (or discount)
basket        redemptions on an order just over the coupon threshold
churn         accounts never seen again after redeeming
registration  accounts registered (or first ordering) within one window
account       accounts under a week old at their first order
identity      shared device, phone, IP, home address, IP /24 within the hour,
              parcel station, a band of near-sequential phone numbers
sku           the group's households buying one SKU
timing        a burst of threshold-sized redemptions far above its shop's
              share of them (:mod:`riskkit_detectors.coupon_scan`)
============  ==========================================================

Each line is measured against the accounts outside every candidate group in
the same export; a group needs two families and a false-discovery q-value
under 1 % to be flagged at the default threshold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskkit_detectors.brushing_evidence import households, identity_uses
from riskkit_detectors.coupon_burst_members import (
    Trait,
    audiences,
    burst_fingerprints,
    on_the_burst_sku,
    registered_in_batch,
)
from riskkit_detectors.coupon_features import DAY, AccountFacts
from riskkit_detectors.coupon_keys import shop_codes
from riskkit_detectors.coupon_registration import shop_burst_line
from riskkit_detectors.coupon_scan import RedemptionBursts
from riskkit_detectors.evidence import (
    SPEAKS_AT,
    Line,
    account_share_line,
    first_per_buyer,
    identity_line,
    sku_line,
)
from riskkit_detectors.evidence_bursts import densest_windows
from riskkit_detectors.findings import GroupVerdicts
from riskkit_detectors.groups import value_label
from riskkit_detectors.identity import HOUSEHOLD_SIZE, IdentityGraph, IdentityKey
from riskkit_detectors.order_view import ItemIndex, OrderView
from riskkit_detectors.ring_scoring import (
    evidence_verdicts,
    member_counts,
    score_candidates,
    spoke_for,
    values_showing_sign,
)

__all__ = ["CouponGroups", "score_coupon_groups"]

_NEW_ACCOUNT_DAYS = 7.0
# Without registration times, first orders within this window form the burst.
_ORDER_BURST_HOURS = 36.0
# Redeemers a group needs before it is a coupon-abuse candidate at all.
_MIN_REDEEMERS = 2
_MEMBER_MIN_LINKS = 2
_TIMING_KINDS = ("redeem_batch", "redeem_batch_shifted", "redeem_burst", "coupon_burst")
# Keys that gather only threshold-sized redemptions: the basket line would
# restate how such a group was found.
_BASKET_KINDS = ("redeem_burst", "coupon_burst")
# Identifiers an account holds (not windows it fell in).
_IDENTIFIER_KINDS = ("device", "phone", "phone_run", "ip", "address", "station_redeem")


@dataclass
class CouponGroups:
    order_score: np.ndarray
    order_group: np.ndarray
    flagged: np.ndarray
    order_reasons: np.ndarray
    verdicts: GroupVerdicts


def coupon_lines(
    view: OrderView,
    buyer: np.ndarray,
    comp_of_buyer: np.ndarray,
    n_groups: int,
    graph: IdentityGraph,
    keys: Mapping[str, IdentityKey],
    facts: AccountFacts,
    burst_minutes: float,
    show_pii: bool,
) -> list[Line]:
    """Every line of evidence for the candidate groups (``comp_of_buyer`` -1 elsewhere)."""
    n_buyers = len(comp_of_buyer)
    shop, shop_names = pd.factorize(view.orders["shop_id"].astype("object").fillna("<none>"))
    first_shop = first_per_buyer(buyer, shop, n_buyers)
    everyone = np.ones(n_buyers, dtype=bool)
    activity = facts.n_orders.astype(float)
    coupon_names = "/".join(facts.coupons) or "a first-order discount"
    lines = [
        account_share_line(
            "coupon",
            "redeemed",
            f"redeemed {coupon_names}",
            comp_of_buyer,
            facts.redeemed,
            everyone,
            first_shop,
            activity,
            n_groups,
        ),
        account_share_line(
            "churn",
            "churned",
            "never ordered again after redeeming",
            comp_of_buyer,
            facts.churned,
            facts.churn_known,
            first_shop,
            # Not by orders placed: an account with one order has churned by
            # definition, and comparing it only with such accounts says nothing.
            np.ones(n_buyers),
            n_groups,
        ),
    ]
    if np.isfinite(facts.threshold):
        lines.append(
            account_share_line(
                "basket",
                "near_threshold",
                f"redeemed on an order just over the ¥{facts.threshold:.0f} threshold",
                comp_of_buyer,
                facts.near_threshold,
                facts.redeemed,
                first_shop,
                activity,
                n_groups,
            )
        )
    origin = view.orders["created_at"].min()

    def at(seconds: float) -> str:
        return f"{origin + pd.Timedelta(seconds=seconds):%Y-%m-%d %H:%M}"

    registered = np.isfinite(facts.registered_at)
    if registered.any():
        times, window, what = facts.registered_at, burst_minutes * 60.0, "registered"
        age_days = (facts.first_order_at - facts.registered_at) / DAY
        lines.append(
            account_share_line(
                "account",
                "new_account",
                f"were under {_NEW_ACCOUNT_DAYS:g} days old at their first order",
                comp_of_buyer,
                np.nan_to_num(age_days, nan=np.inf) <= _NEW_ACCOUNT_DAYS,
                np.isfinite(age_days),
                first_shop,
                activity,
                n_groups,
            )
        )
    else:
        times = facts.first_order_at
        window, what = _ORDER_BURST_HOURS * 3600.0, "placed their first order"
    household = households(keys.get("address"), n_buyers)
    # Against the group's own shop's newcomers: a live stream's evening
    # brings its shop hundreds of new accounts at once.
    burst = shop_burst_line(
        "registration",
        what,
        comp_of_buyer,
        times,
        window,
        n_groups,
        at,
        first_shop,
        pd.Index(shop_names),
        household,
    )
    lines.append(burst)

    def describe(kind: str, code: int) -> str:
        return value_label(kind, keys[kind].value(code), show_pii)

    kinds = ("device", "phone", "ip", "address", "ip24_hour", "ip24_half_hour", "station_redeem")
    lines.append(
        identity_line(
            "identity", identity_uses(keys, graph, kinds, describe), comp_of_buyer, n_groups
        )
    )
    phone_uses = (
        identity_uses(
            keys, graph, ("phone_run",), describe, {"phone_run": len(keys["phone"].values)}
        )
        if "phone" in keys
        else []
    )
    if phone_uses:
        # A phone band comes with one address in honest life too (an office).
        line = identity_line("identity", phone_uses, comp_of_buyer, n_groups)
        line.name = "phone_run"
        lines.append(line)
    items = ItemIndex(view)
    if items.codes.size and len(items) > 1:
        line_order = view.lines["order_pos"].to_numpy()
        names = {int(i): str(items[int(i)]) for i in np.unique(items.codes)}
        lines.append(
            sku_line(
                "sku",
                comp_of_buyer,
                buyer[line_order],
                items.codes,
                names,
                n_groups,
                household,
            )
        )
    return lines


def score_coupon_groups(
    view: OrderView,
    buyer: np.ndarray,
    graph: IdentityGraph,
    keys: Mapping[str, IdentityKey],
    facts: AccountFacts,
    threshold: float,
    min_accounts: int,
    burst_minutes: float,
    show_pii: bool,
    bursts: RedemptionBursts | None = None,
    traits: Mapping[str, Trait] | None = None,
    in_audience: np.ndarray | None = None,
) -> CouponGroups:
    component = graph.component
    n_buyers = len(component)
    n_groups = int(component.max()) + 1 if n_buyers else 0
    accounts = np.bincount(component, minlength=n_groups)
    redeemers = np.bincount(component, weights=facts.redeemed.astype(float), minlength=n_groups)
    candidate = (accounts >= min_accounts) & (redeemers >= _MIN_REDEEMERS)
    comp_of_buyer = np.where(candidate[component], component, -1) if n_buyers else component
    lines = coupon_lines(
        view, buyer, comp_of_buyer, n_groups, graph, keys, facts, burst_minutes, show_pii
    )
    # New accounts tied mostly by redeeming around the same time, on ordinary
    # baskets, are a live-stream's audience: most of a farm's accounts share
    # something beyond a household (a device, a phone band, a locker...), or
    # it sizes its orders to the threshold.
    basket = next((ln for ln in lines if ln.family == "basket"), None)
    linked = _linked_beyond_timing(graph, keys, n_groups, _TIMING_KINDS)
    links = graph.links
    by_baskets = np.zeros(n_groups, dtype=bool)
    by_baskets[links.loc[links["kind"].isin(_BASKET_KINDS), "component"].to_numpy(np.int64)] = True
    by_baskets &= ~linked
    farm = linked | ((basket.p <= SPEAKS_AT) & ~by_baskets if basket is not None else False)
    scanned = np.zeros(n_groups, dtype=bool)
    shop = shop_codes(view)
    prints = None
    if bursts is not None:
        prints = burst_fingerprints(
            bursts.key.codes,
            shop,
            facts.near_threshold_order & (bursts.key.codes < 0),
            traits or {},
            min_accounts,
            bursts.share * bursts.orders,
        )
        timing = burst_scan_line(bursts, comp_of_buyer, n_groups, facts.threshold, prints.facts)
        scanned = timing.p <= SPEAKS_AT
        lines.append(timing)
        # A burst of threshold-sized redemptions far above its shop's share is
        # a farm's by how it was found (audiences are kept out there).
        farm |= scanned
    crowd = None
    if in_audience is not None:
        # A live stream's audience registers, redeems and buys the featured
        # SKU in one evening, and a district's parcel station gathers some
        # of it: a group most of whose redemptions fell in such a rush is a
        # farm only if identifiers of its own tie it or it arrived otherwise
        # than the rush's audience (where the export cannot tell: it sized
        # its baskets to the threshold).
        own = _linked_beyond_timing(graph, keys, n_groups, (*_TIMING_KINDS, "station_redeem"))
        sized = basket.p <= SPEAKS_AT if basket is not None else np.zeros(n_groups, dtype=bool)
        crowd = audiences(
            comp_of_buyer[buyer],
            shop,
            facts.redeem_order,
            in_audience,
            traits or {},
            sized,
        )
        farm &= ~(crowd.audience & ~own & ~crowd.unlike)
    candidate &= farm
    # A group gathered by redemption windows was chosen for redeeming and
    # registering together: those two lines would only restate how it was found.
    # A burst of threshold-sized redemptions was also chosen for its baskets;
    # one that is not far above its shop's share (an audience) is no farm.
    for line in lines:
        if line.family in ("coupon", "registration"):
            line.p = np.where(linked, line.p, 1.0)
        if line.family == "basket":
            line.p = np.where(scanned | by_baskets, 1.0, line.p)
    scores = score_candidates(lines, candidate)
    flagged_group = candidate & (scores.score >= threshold)

    # A member redeemed and is tied to the ring by more than one chance link
    # or by a sign of its own that spoke: an account that merely shares a home
    # IP with an abuser, or never redeemed, is not farming coupons.
    # Where most of a group's redeemers were registered in one batch window,
    # the batch is the ring: an account registered outside it is not one of
    # them (a household's neighbour, a shared carrier IP).
    # Only what links an account to the others ties it: being new, redeeming
    # once on a cheap basket and leaving is what honest newcomers do too.
    others = [ln for ln in lines if ln.family == "identity"]
    burst = next(ln for ln in lines if ln.family == "registration")
    linked_firmly = (graph.buyer_degree >= _MEMBER_MIN_LINKS) | spoke_for(others, comp_of_buyer)
    tied = linked_firmly.copy()
    # An account that shopped again after redeeming is a customer unless
    # something beyond timing and baskets ties it to the ring.
    returned = facts.churn_known & ~facts.churned
    # A live stream's viewer: redeemed in a rush, arriving the way the rush did.
    viewer = np.zeros(n_buyers, dtype=bool)
    if crowd is not None:
        viewer[buyer[crowd.rushed & ~crowd.arrived_unlike]] = True
    if np.isfinite(facts.registered_at).any():
        # Registered inside the group's burst (an hour): one of the batch.
        tied |= spoke_for([burst], comp_of_buyer)
    else:
        # A day and a half of first orders is too wide a window to tie anyone
        # alone, nor is buying the group's SKU: the account must also farm (a
        # threshold basket, or never return).
        farming = [ln for ln in lines if ln.family in ("basket", "churn")]
        together = [burst, *(ln for ln in lines if ln.family == "sku")]
        tied |= spoke_for(together, comp_of_buyer) & spoke_for(farming, comp_of_buyer) & ~returned
    if np.isfinite(facts.registered_at).any():
        redeeming = np.where(facts.redeemed, comp_of_buyer, -1)
        batch = densest_windows(redeeming, facts.registered_at, burst_minutes * 60.0, n_groups)
        safe = np.maximum(comp_of_buyer, 0)
        binds = batch.accounts[safe] >= 0.5 * redeemers[safe]
        # A second ring joined to the batch (by a burst of redemptions) keeps
        # the accounts its own identifiers tie.
        # Registered in the batch but shopping again after redeeming: a
        # customer who signed up that hour, unless its identifiers tie it;
        # and a viewer of a live stream registered that hour too: in a
        # rush, the batch ties only accounts that arrived unlike the rush.
        tied = np.where(binds, (batch.member & ~returned & ~viewer) | linked_firmly, tied)
    if bursts is not None:
        # Redeemed in its group's burst and never came back: one of the farm's
        # accounts.  An account that shopped again afterwards is a customer.
        # With registration times it must also have been registered in a
        # batch of its group's accounts (an honest newcomer registers alone).
        timing = next(ln for ln in lines if ln.name == "redemption_burst")
        farmed = spoke_for([timing], comp_of_buyer) & ~returned
        farmed &= on_the_burst_sku(view, bursts, n_buyers, min_accounts)
        if np.isfinite(facts.registered_at).any() and prints is not None:
            # ... unless the burst's own fingerprint marks it (one rebate
            # link, one virtual operator) far above the shop's background.
            marked = np.zeros(n_buyers, dtype=bool)
            marked[buyer[prints.marked]] = True
            farmed &= marked | registered_in_batch(
                comp_of_buyer, facts.registered_at, burst_minutes * 60.0, min_accounts
            )
        tied |= farmed
    # Holding a value of the group on which nearly every holder farms: a drop
    # address room by room, a locker.  (A stream's viewers buying the featured
    # cheap product look the same at their station.)
    farmer = facts.near_threshold & ~returned & ~viewer
    held_by = [keys[kind] for kind in _IDENTIFIER_KINDS if kind in keys]
    values = values_showing_sign(
        held_by,
        comp_of_buyer,
        flagged_group,
        farmer,
        min_accounts,
        lambda kind, code: value_label(kind, keys[kind].value(code), show_pii),
    )
    tied |= values.tied
    # Quoted, not scored: it ties members of a group already convicted.
    lines.append(Line("identity", "farming_value", values.p, values.facts))
    member = facts.redeemed & (comp_of_buyer >= 0) & tied
    comp_of_order = np.where(member[buyer], comp_of_buyer[buyer], -1)
    comp_of_order = np.where(_within_redemptions(view, comp_of_order, facts), comp_of_order, -1)
    safe = np.maximum(comp_of_order, 0)
    order_score = np.where(comp_of_order >= 0, scores.score[safe], 0.0)
    flagged = (comp_of_order >= 0) & flagged_group[safe]
    member_accounts, member_orders = member_counts(comp_of_order, buyer, n_buyers, n_groups)
    verdicts = evidence_verdicts(
        "CA", flagged_group, scores, member_accounts, member_orders, lines, graph, keys, show_pii
    )
    return CouponGroups(
        order_score, comp_of_order, flagged, _order_reasons(view, buyer, facts), verdicts
    )


def burst_scan_line(
    bursts: RedemptionBursts,
    comp_of_buyer: np.ndarray,
    n_groups: int,
    threshold: float,
    fingerprints: Mapping[int, str] | None = None,
) -> Line:
    """Per group: its strongest burst of threshold-sized redemptions
    (:mod:`riskkit_detectors.coupon_scan`), p-value already Bonferroni-adjusted
    over every window tested."""
    key = bursts.key
    held = key.codes >= 0
    pairs = pd.DataFrame({"b": key.buyers[held], "w": key.codes[held]}).drop_duplicates()
    pairs["c"] = comp_of_buyer[pairs["b"].to_numpy()]
    pairs = pairs[pairs["c"] >= 0]
    p = np.ones(n_groups)
    facts: dict[int, str] = {}
    hit = np.zeros(len(comp_of_buyer), dtype=bool)
    if pairs.empty:
        return Line("timing", "redemption_burst", p, facts, account_hit=hit)
    pairs["p"] = bursts.p[pairs["w"].to_numpy()]
    best = pairs.sort_values(["p", "w"], kind="stable").drop_duplicates("c")
    for code, window, p_value in zip(best["c"], best["w"], best["p"], strict=True):
        p[int(code)] = float(p_value)
        fact = bursts.fact(int(window), threshold)
        fingerprint = (fingerprints or {}).get(int(window))
        facts[int(code)] = f"{fact}; {fingerprint}" if fingerprint else fact
    hit[pairs["b"].to_numpy()] = True
    return Line("timing", "redemption_burst", p, facts, account_hit=hit)


def _linked_beyond_timing(
    graph: IdentityGraph,
    keys: Mapping[str, IdentityKey],
    n_groups: int,
    not_identifiers: tuple[str, ...],
) -> np.ndarray:
    """Per group: most of its accounts hold an identifier (not a redemption
    window) that it shares with others of the group beyond a household."""
    links = graph.links
    real = links[~links["kind"].isin(not_identifiers) & (links["n_accounts"] > HOUSEHOLD_SIZE)]
    n_buyers = len(graph.component)
    tied = np.zeros(n_buyers, dtype=bool)
    for kind, values in real.groupby("kind")["value_code"]:
        key = keys.get(str(kind))
        if key is None:
            continue
        holds = (key.codes >= 0) & np.isin(key.codes, values.to_numpy(dtype=np.int64))
        tied[key.buyers[holds]] = True
    accounts = np.bincount(graph.component, minlength=n_groups)
    tied_accounts = np.bincount(graph.component, weights=tied.astype(float), minlength=n_groups)
    return tied_accounts >= 0.5 * np.maximum(accounts, 1)


def _within_redemptions(
    view: OrderView, comp_of_order: np.ndarray, facts: AccountFacts
) -> np.ndarray:
    """Orders of a group placed while it was redeeming: from its first
    redemption to its last.  A long-standing customer tied to a ring by one
    discounted order is not farming with its other months of shopping."""
    created = view.orders["created_at"]
    t = np.asarray((created - created.min()).dt.total_seconds(), dtype=float)
    n_groups = max(int(comp_of_order.max()) + 1 if len(comp_of_order) else 0, 1)
    grouped = comp_of_order >= 0
    redeeming = grouped & facts.redeem_order
    first = np.full(n_groups, np.inf)
    last = np.full(n_groups, -np.inf)
    np.minimum.at(first, comp_of_order[redeeming], t[redeeming])
    np.maximum.at(last, comp_of_order[redeeming], t[redeeming])
    safe = np.maximum(comp_of_order, 0)
    return grouped & (facts.redeem_order | ((t >= first[safe]) & (t <= last[safe])))


def _order_reasons(view: OrderView, buyer: np.ndarray, facts: AccountFacts) -> np.ndarray:
    n = len(view)
    out = np.full(n, "", dtype=object)
    rows = np.flatnonzero(facts.redeemed[buyer])
    if len(rows):
        value = facts.order_value[buyer[rows]]
        amount = np.array(
            [
                f"an order of ¥{v:.2f}" if np.isfinite(v) else "an order (amount unknown)"
                for v in value
            ],
            dtype=object,
        )
        churned = np.where(facts.churned[buyer[rows]], ", never ordered again", "")
        out[rows] = "redeemed a new-user coupon on " + amount + churned.astype(object)
    return out
