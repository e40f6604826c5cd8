"""Scoring brushing groups and writing down the facts that convict them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from riskkit_detectors.brushing_evidence import FAMILY, brushing_lines, coupon_line, order_strata
from riskkit_detectors.brushing_features import OrderFacts
from riskkit_detectors.dense_block import DenseBlock
from riskkit_detectors.evidence import SPEAKS_AT, Line
from riskkit_detectors.findings import GroupVerdicts, join_reasons
from riskkit_detectors.groups import value_label
from riskkit_detectors.identity import IdentityGraph, IdentityKey
from riskkit_detectors.order_view import ItemIndex, OrderView
from riskkit_detectors.ring_scoring import (
    evidence_verdicts,
    member_counts,
    score_candidates,
    spoke_for,
    values_showing_sign,
)
from riskkit_detectors.sign_surges import SignSurges, judge_by_surges

__all__ = ["BrushingGroups", "score_groups"]

_UNGROUPED_SCALE = 0.45  # an order outside any ring scores below any flag threshold
# A member of a flagged group is flagged when it is linked more than once, or
# shows itself a sign that spoke against its group: one shared home IP with a
# ring account is chance.
_MEMBER_MIN_LINKS = 2
_TARGETING = ("sku", "repeat")
# Identifiers an account holds (not windows or surges it fell in).
_IDENTIFIER_KINDS = ("phone", "phone_run", "address")


@dataclass
class BrushingGroups:
    order_score: np.ndarray
    order_group: np.ndarray
    flagged: np.ndarray
    order_reasons: np.ndarray
    verdicts: GroupVerdicts


def score_groups(
    view: OrderView,
    buyer: np.ndarray,
    component: np.ndarray,
    behaviour: np.ndarray,
    facts: OrderFacts,
    item: np.ndarray,
    graph: IdentityGraph,
    keys: Mapping[str, IdentityKey],
    blocks: list[DenseBlock],
    item_values: ItemIndex,
    threshold: float,
    min_accounts: int,
    show_pii: bool,
    burst_repeaters: np.ndarray,
    phrase_params: Mapping[str, float],
    surges: SignSurges,
    surge_only: np.ndarray,
) -> BrushingGroups:
    n = len(view)
    n_buyers = len(component)
    n_groups = int(component.max()) + 1 if n_buyers else 0
    accounts = np.bincount(component, minlength=n_groups)
    candidate = accounts >= min_accounts
    comp_all = component[buyer] if n else np.zeros(0, dtype=np.int64)
    comp = np.where(candidate[comp_all], comp_all, -1) if n else comp_all
    strata = order_strata(view)
    lines = brushing_lines(
        view,
        buyer,
        comp,
        n_groups,
        facts,
        keys,
        graph,
        item,
        item_values,
        phrase_params,
        show_pii,
        strata,
    )
    coupon, coupon_share = coupon_line(view, buyer, n_buyers, comp, n_groups, strata["shop"])
    # Brushers are refunded in full: coupons are pointless to them.
    candidate &= ~((coupon.p <= SPEAKS_AT) & (coupon_share >= 0.5))
    share_surge_only = np.divide(
        np.bincount(component, weights=surge_only, minlength=n_groups),
        np.maximum(accounts, 1),
    )
    by_surge, reweighed = judge_by_surges(
        lines, surges, graph.links, share_surge_only, n_groups, ("sku",)
    )
    scores = score_candidates(lines, candidate)
    targets = _targets_a_shop(scores.family_p, n_groups) | by_surge
    flagged_group = candidate & (scores.score >= threshold) & targets

    comp_of_buyer = np.full(n_buyers, -1, dtype=np.int64)
    comp_of_buyer[buyer[comp >= 0]] = comp[comp >= 0]
    # A member shows a fake order's signs itself: sharing a home IP with a ring
    # account or buying its SKU is what honest customers do too.
    # (A search entry is how half of honest orders arrive: it marks no member.)
    own_signs = [ln for ln in lines if ln.name in FAMILY and ln.name != "search_entry"]
    # A buyer found only by a sign surge showed that sign by definition, as
    # the surge's share of honest buyers do: it must fall in surges of two
    # signs, or show a sign that spoke against its group without a surge.
    spoke = spoke_for(own_signs, comp_of_buyer)
    family_of = {ln.name: ln.family for ln in lines}
    picked: dict[str, list[np.ndarray]] = {}
    for name, groups in reweighed.items():
        picked.setdefault(family_of[name], []).append(groups)
    unpicked = [replace(ln, p=_silenced(ln.p, picked.get(ln.family, []))) for ln in own_signs]
    member = (graph.buyer_degree >= _MEMBER_MIN_LINKS) | (spoke & ~surge_only)
    in_two = surges.links_per_buyer(n_buyers) >= 2
    member |= in_two | spoke_for(unpicked, comp_of_buyer)
    member |= burst_repeaters
    # A band of phone numbers or an address of the group on which far more
    # holders bought the group's SKU than other accounts do: the ring's own.
    sku = next((ln for ln in lines if ln.family == "sku"), None)
    if sku is not None and sku.target_hit is not None and sku.rate is not None:
        on_values = values_showing_sign(
            [keys[kind] for kind in _IDENTIFIER_KINDS if kind in keys],
            comp_of_buyer,
            flagged_group,
            sku.target_hit,
            min_accounts,
            lambda kind, code: value_label(kind, keys[kind].value(code), show_pii),
            rate_of_group=sku.rate,
            what="bought the group's SKUs",
        )
        member |= on_values.tied
        # Quoted, not scored: it ties members of a group already convicted.
        lines.append(Line("identity", "sku_on_value", on_values.p, on_values.facts))
    # An order in a surge that chance explains less than one order of is a
    # fake order whoever placed it; the account's other orders may be its
    # camouflage, and are flagged only if the account is a member.
    in_lone_surge = np.zeros(n, dtype=bool)
    in_lone_surge[surges.lone_orders] = True
    comp = np.where((member[buyer] | in_lone_surge) & (comp >= 0), comp, -1)
    group_score_of_order = np.where(comp >= 0, scores.score[np.maximum(comp, 0)], 0.0)
    order_score = np.maximum(group_score_of_order, _UNGROUPED_SCALE * behaviour)
    flagged = (comp >= 0) & flagged_group[np.maximum(comp, 0)]
    member_accounts, member_orders = member_counts(comp, buyer, n_buyers, n_groups)
    verdicts = evidence_verdicts(
        "BR", flagged_group, scores, member_accounts, member_orders, lines, graph, keys, show_pii
    )
    return BrushingGroups(order_score, comp, flagged, _order_reasons(facts, n), verdicts)


def _silenced(p: np.ndarray, groups: list[np.ndarray]) -> np.ndarray:
    if not groups:
        return p
    quiet = p.copy()
    for codes in groups:
        quiet[codes] = 1.0
    return quiet


def _targets_a_shop(family_p: Mapping[str, np.ndarray], n_groups: int) -> np.ndarray:
    """Brushing buys a shop's sales rank: a group whose orders concentrate on no
    SKU (neither many of its households on one SKU nor repeat orders of one) is
    linked, perhaps, but not brushing; offices and dormitories share an address
    and a block of phone numbers too."""
    targeted = np.zeros(n_groups, dtype=bool)
    for family in _TARGETING:
        if family in family_p:
            targeted |= family_p[family] <= SPEAKS_AT
    return targeted


def _order_reasons(facts: OrderFacts, n: int) -> np.ndarray:
    parts: list[np.ndarray] = []
    for ind in facts.indicators:
        hit = ind.hit & ind.known
        fragment = np.full(n, "", dtype=object)
        if not hit.any():
            continue
        if ind.name == "instant_pay":
            text = "paid " + pd.Series(facts.pay_seconds[hit]).round(0).astype(int).astype(str)
            fragment[hit] = (text + " s after ordering").to_numpy()
        elif ind.name == "quick_receipt":
            text = pd.Series(facts.receipt_days[hit] * 24).round(0).astype(int).astype(str)
            fragment[hit] = ("signed for " + text + " h after payment").to_numpy()
        elif ind.name == "quick_shipment":
            text = pd.Series(facts.ship_hours[hit] * 60).round(0).astype(int).astype(str)
            fragment[hit] = ("shipped " + text + " min after payment").to_numpy()
        elif ind.name == "young_account":
            text = pd.Series(facts.account_age_days[hit]).round(1).astype(str)
            fragment[hit] = ("account " + text + " days old").to_numpy()
        elif ind.name == "repeat_sku":
            fragment[hit] = "same SKU ordered again within 24 h"
        else:
            fragment[hit] = ind.name.replace("_", " ")
        parts.append(fragment)
    if not parts:
        return np.full(n, "", dtype=object)
    return join_reasons(parts)
