"""Scoring brushing groups and writing down the facts that convict them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskkit_detectors.brushing_features import OrderFacts
from riskkit_detectors.dense_block import DenseBlock
from riskkit_detectors.findings import GroupVerdicts, join_reasons, severity_of
from riskkit_detectors.groups import group_mean, group_sum, link_facts
from riskkit_detectors.identity import IdentityGraph, IdentityKey
from riskkit_detectors.order_view import ItemIndex, OrderView

__all__ = ["BrushingGroups", "score_groups"]

# What each indicator says, as a fact about a share of a group's orders.
_PHRASES = {
    "young_account": "orders from accounts under {young:g} days old",
    "virtual_phone": "orders to virtual-operator phones (170/171/162/165/167)",
    "instant_pay": "orders paid within {pay:g} s of ordering",
    "quick_receipt": "parcels signed for within {receipt:g} days of payment (empty parcels)",
    "instant_review": "orders reviewed 5★ within {review:g} h of receipt",
    "sequential_waybill": "orders with near-sequential waybill numbers",
}
# Logistic weights of the group score (see docs/detectors.md).
_BIAS = -4.5
_W_BEHAVIOUR = 6.0
_W_DOMINANCE = 2.0
_W_LINK_KINDS = 0.3
_W_BLOCK = 0.5
# A burst on a SKU the group dominates, by many accounts, convicts even when the
# export hides the per-order signs (Shopify: no receipt, review, device, IP).
_W_BURST_DOMINANCE = 3.0
_W_BURST_SIZE = 0.7
_BURST_SIZE_FROM = 5
# Brushers are refunded the full price by the merchant: coupons are pointless to
# them.  A group whose orders mostly redeem coupons is the coupon-abuse pattern.
_W_COUPON = 6.0
_UNGROUPED_SCALE = 0.45  # an order outside any ring scores below any flag threshold
# A member of a flagged group is flagged when it is linked more than once or
# behaves like the ring itself: one shared home IP with a ring account is chance.
_MEMBER_MIN_LINKS = 2
_MEMBER_MIN_BEHAVIOUR = 0.2


@dataclass
class BrushingGroups:
    order_score: np.ndarray
    order_group: np.ndarray
    flagged: np.ndarray
    order_reasons: np.ndarray
    verdicts: GroupVerdicts


def _dominance(
    comp: np.ndarray,
    buyer: np.ndarray,
    line_order: np.ndarray,
    item: np.ndarray,
    n_orders: int,
    min_orders: int,
    min_accounts: int,
) -> tuple[np.ndarray, pd.DataFrame]:
    """Per order: on a SKU whose sales the order's group mostly carries.

    Returns the per-order flag and the dominated (component, item, group
    orders, item orders) rows.
    """
    line_comp = comp[line_order]
    per_pair = (
        pd.DataFrame({"c": line_comp, "i": item, "o": line_order, "b": buyer[line_order]})
        .drop_duplicates(["c", "i", "o"])
        .groupby(["c", "i"], sort=False)
        .agg(group_orders=("o", "size"), group_accounts=("b", "nunique"))
        .reset_index()
    )
    item_orders = pd.DataFrame({"i": item, "o": line_order}).drop_duplicates().groupby("i").size()
    per_pair["item_orders"] = item_orders.reindex(per_pair["i"]).to_numpy()
    dominated = per_pair[
        (per_pair["group_orders"] >= min_orders)
        & (per_pair["group_accounts"] >= min_accounts)
        & (per_pair["group_orders"] * 2 >= per_pair["item_orders"])
    ]
    key = pd.MultiIndex.from_arrays([line_comp, item])
    hit_line = key.isin(pd.MultiIndex.from_arrays([dominated["c"], dominated["i"]]))
    on_dominated = np.zeros(n_orders, dtype=bool)
    on_dominated[line_order[hit_line]] = True
    return on_dominated, dominated


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
) -> BrushingGroups:
    n = len(view)
    comp = component[buyer] if n else np.zeros(0, dtype=np.int64)
    n_groups = int(component.max()) + 1 if len(component) else 0
    accounts = np.bincount(component, minlength=n_groups)
    excess = _behaviour_excess(comp, facts, n_groups)
    line_order = view.lines["order_pos"].to_numpy()
    on_dominated, dominated = _dominance(
        comp, buyer, line_order, item, n, min_orders=3, min_accounts=min_accounts
    )
    dominance = group_mean(comp, on_dominated.astype(float), n_groups)
    kinds = graph.links.groupby("component")["kind"].nunique()
    link_kinds = np.zeros(n_groups)
    link_kinds[kinds.index.to_numpy(dtype=np.int64)] = kinds.to_numpy()
    in_block = np.zeros(n_groups)
    block_links = graph.links[graph.links["kind"] == "block"]
    in_block[block_links["component"].to_numpy(dtype=np.int64)] = 1.0
    has_burst = np.zeros(n_groups)
    burst_links = graph.links[graph.links["kind"] == "burst"]
    has_burst[burst_links["component"].to_numpy(dtype=np.int64)] = 1.0
    coupon_share = group_mean(comp, _coupon_used(view), n_groups)
    size = np.clip(np.log2(np.maximum(accounts, 1) / _BURST_SIZE_FROM), 0.0, 3.0)

    z = (
        _BIAS
        + _W_BEHAVIOUR * excess
        + _W_DOMINANCE * dominance
        + _W_LINK_KINDS * np.minimum(link_kinds, 3)
        + _W_BLOCK * in_block
        + has_burst * (_W_BURST_DOMINANCE * dominance + _W_BURST_SIZE * size)
        - _W_COUPON * np.clip((coupon_share - 0.3) / 0.4, 0.0, 1.0)
    )
    group_score = 1.0 / (1.0 + np.exp(-z))
    candidate = accounts >= min_accounts
    group_score = np.where(candidate, group_score, 0.0)
    flagged_group = candidate & (group_score >= threshold)

    n_buyers = len(component)
    buyer_behaviour = np.divide(
        np.bincount(buyer, weights=behaviour, minlength=n_buyers),
        np.maximum(np.bincount(buyer, minlength=n_buyers), 1),
    )
    member = (
        (graph.buyer_degree >= _MEMBER_MIN_LINKS)
        | (buyer_behaviour >= _MEMBER_MIN_BEHAVIOUR)
        | burst_repeaters
    )
    comp = np.where(member[buyer], comp, -1)
    group_score_of_order = np.where(comp >= 0, group_score[np.maximum(comp, 0)], 0.0)
    order_score = np.maximum(group_score_of_order, _UNGROUPED_SCALE * behaviour)
    flagged = (comp >= 0) & flagged_group[np.maximum(comp, 0)]
    order_reasons = _order_reasons(facts, n)

    codes = np.flatnonzero(flagged_group)
    codes = codes[np.argsort(-group_score[codes], kind="stable")]
    # Reasons state the members' numbers (what findings.csv counts).
    in_member = comp >= 0
    member_orders = np.bincount(comp[in_member], minlength=n_groups)
    member_pairs = np.unique(comp[in_member] * (n_buyers + 1) + buyer[in_member])
    member_accounts = np.bincount(member_pairs // (n_buyers + 1), minlength=n_groups)
    verdicts = _verdicts(
        codes,
        comp,
        group_score,
        member_accounts,
        member_orders,
        facts,
        dominated,
        item_values,
        graph,
        keys,
        blocks,
        view,
        phrase_params,
        show_pii,
    )
    return BrushingGroups(order_score, comp, flagged, order_reasons, verdicts)


def _coupon_used(view: OrderView) -> np.ndarray:
    coupon = view.orders["coupon_code"]
    return np.asarray(coupon.notna() & (coupon.astype("str").str.strip() != ""), dtype=float)


def _behaviour_excess(comp: np.ndarray, facts: OrderFacts, n_groups: int) -> np.ndarray:
    """How strongly a group's indicators run above their export-wide rate (0-1).

    Each indicator's lift (rate above the base rate, as a share of the room
    above it) is scaled by its reliability and the lifts are combined as a
    noisy-OR: rings show different subsets of the tell-tale signs, and one
    strong sign is evidence whatever the others say.
    """
    keep = np.ones(n_groups)
    for ind in facts.indicators:
        hits = group_sum(comp, (ind.hit & ind.known).astype(float), n_groups)
        known_ = group_sum(comp, ind.known.astype(float), n_groups)
        base = float((ind.hit & ind.known).sum()) / max(float(ind.known.sum()), 1.0)
        rate = np.divide(hits, known_, out=np.zeros(n_groups), where=known_ > 0)
        lift = np.clip((rate - base) / max(1.0 - base, 1e-9), 0.0, 1.0)
        keep *= 1.0 - ind.reliability * lift
    return 1.0 - keep


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
        elif ind.name == "young_account":
            text = pd.Series(facts.account_age_days[hit]).round(1).astype(str)
            fragment[hit] = ("account " + text + " days old").to_numpy()
        else:
            fragment[hit] = ind.name.replace("_", " ")
        parts.append(fragment)
    if not parts:
        return np.full(n, "", dtype=object)
    return join_reasons(parts)


def _run_labels(
    codes: np.ndarray,
    comp: np.ndarray,
    facts: OrderFacts,
    view: OrderView,
    blocks: list[DenseBlock],
    show_pii: bool,
) -> dict[tuple[str, int], str]:
    """Readable names for runs and blocks linking the flagged groups."""
    labels: dict[tuple[str, int], str] = {}
    members = np.isin(comp, codes)
    waybill = pd.DataFrame(
        {
            "run": facts.waybill_run[members],
            "carrier": view.orders["carrier"].to_numpy()[members],
            "no": view.orders["tracking_no"].to_numpy()[members],
        }
    )
    for run, rows in waybill[waybill["run"] >= 0].groupby("run"):
        numbers = rows["no"].astype(str).sort_values()
        labels[("waybill_run", int(str(run)))] = (
            f"near-sequential {rows['carrier'].iloc[0]} waybills "
            f"{numbers.iloc[0]}…{numbers.iloc[-1]}"
        )
    started = view.orders["created_at"].min()
    for k, block in enumerate(blocks):
        start = started + pd.Timedelta(seconds=block.window_start)
        end = started + pd.Timedelta(seconds=block.window_end)
        labels[("block", k)] = (
            f"dense buyer×SKU block of {len(block.items)} SKU(s) "
            f"between {start:%Y-%m-%d %H:%M} and {end:%Y-%m-%d %H:%M}"
        )
    return labels


def _verdicts(
    codes: np.ndarray,
    comp: np.ndarray,
    group_score: np.ndarray,
    accounts: np.ndarray,
    orders_per: np.ndarray,
    facts: OrderFacts,
    dominated: pd.DataFrame,
    item_values: ItemIndex,
    graph: IdentityGraph,
    keys: Mapping[str, IdentityKey],
    blocks: list[DenseBlock],
    view: OrderView,
    phrase_params: Mapping[str, float],
    show_pii: bool,
) -> GroupVerdicts:
    rows: list[dict[str, object]] = []
    if len(codes) == 0:
        return GroupVerdicts(
            pd.DataFrame(
                columns=["code", "group_id", "score", "severity", "reasons", "shared_identifiers"]
            )
        )
    n_groups = len(group_score)
    hit_counts = {
        ind.name: (
            group_sum(comp, (ind.hit & ind.known).astype(float), n_groups),
            group_sum(comp, ind.known.astype(float), n_groups),
        )
        for ind in facts.indicators
    }
    run_labels = _run_labels(codes, comp, facts, view, blocks, show_pii)
    link_text = link_facts(graph, keys, codes, run_labels, show_pii)
    severity = severity_of(group_score[codes], medium=0.7, high=0.85)
    dominated_by_group = {c: rows_ for c, rows_ in dominated.groupby("c")}
    for rank, code in enumerate(codes):
        reasons: list[str] = [f"{int(accounts[code])} accounts, {int(orders_per[code])} orders"]
        links, shared = link_text.get(int(code), ([], []))
        reasons.extend(links)
        for name, (hits, known_) in hit_counts.items():
            h, k = int(hits[code]), int(known_[code])
            if k and h / k >= 0.3:
                phrase = _PHRASES[name].format(**phrase_params)
                reasons.append(f"{h}/{k} {phrase}")
        dom = dominated_by_group.get(code)
        if dom is not None and len(dom):
            top = dom.sort_values("group_orders", ascending=False).head(3)
            for _, row in top.iterrows():
                sku = item_values[int(row["i"])]
                reasons.append(
                    f"placed {int(row['group_orders'])} of the {int(row['item_orders'])} orders "
                    f"of SKU {sku}"
                )
        rows.append(
            {
                "code": int(code),
                "group_id": f"BR-{rank + 1:04d}",
                "score": float(group_score[code]),
                "severity": str(severity[rank]),
                "reasons": "; ".join(reasons),
                "shared_identifiers": "; ".join(shared),
            }
        )
    return GroupVerdicts(pd.DataFrame(rows))
