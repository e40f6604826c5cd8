"""Scoring coupon-abuse groups and writing down the facts that convict them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskkit_detectors.coupon_features import AccountFacts
from riskkit_detectors.findings import GroupVerdicts, severity_of
from riskkit_detectors.groups import link_facts
from riskkit_detectors.identity import IdentityGraph, IdentityKey, describe_value
from riskkit_detectors.order_view import OrderView

__all__ = ["CouponGroups", "score_coupon_groups"]

# Logistic weights of the group score (see docs/detectors.md).
_BIAS = -6.0
_W_REDEEM = 2.0
_W_NEAR = 1.0
_W_CHURN = 1.0
_W_BURST = 3.5
_W_NEW = 0.5
_W_LINK_KINDS = 0.3
_W_SIZE = 0.5
_SIZE_FROM = 5
_NEW_ACCOUNT_DAYS = 7.0
# Without registration times, first orders within this window form the burst.
_ORDER_BURST_HOURS = 36.0
_SINGLE_ACCOUNT_SCALE = 0.3


@dataclass
class CouponGroups:
    order_score: np.ndarray
    order_group: np.ndarray
    flagged: np.ndarray
    order_reasons: np.ndarray
    verdicts: GroupVerdicts


def _mean(codes: np.ndarray, values: np.ndarray, weights: np.ndarray, n: int) -> np.ndarray:
    total = np.bincount(codes, weights=values * weights, minlength=n)
    count = np.bincount(codes, weights=weights, minlength=n)
    return np.divide(total, count, out=np.zeros(n), where=count > 0)


def _burst(
    component: np.ndarray, times: np.ndarray, window_seconds: float, min_accounts: int
) -> np.ndarray:
    """Per account: at least ``min_accounts`` accounts of its group (itself
    included) registered within ``window_seconds`` of it.

    A local density, not distance to the group's median: two rings joined by
    one shared router, or a ring attached to a few long-standing accounts,
    each keep their own burst.
    """
    out = np.zeros(len(component), dtype=bool)
    index = np.flatnonzero(np.isfinite(times))
    if not len(index):
        return out
    order = index[np.lexsort((times[index], component[index]))]
    comp, t = component[order], times[order]
    scale = float(t.max() - t.min()) + 2.0 * window_seconds + 1.0
    key = comp.astype(np.float64) * scale + (t - t.min())
    count = np.searchsorted(key, key + window_seconds, side="right") - np.searchsorted(
        key, key - window_seconds, side="left"
    )
    out[order] = count >= min_accounts
    return out


def score_coupon_groups(
    view: OrderView,
    buyer: np.ndarray,
    graph: IdentityGraph,
    keys: Mapping[str, IdentityKey],
    facts: AccountFacts,
    ip24: np.ndarray,
    threshold: float,
    min_accounts: int,
    burst_minutes: float,
    show_pii: bool,
) -> CouponGroups:
    component = graph.component
    n_buyers = len(component)
    n_groups = int(component.max()) + 1 if n_buyers else 0
    ones = np.ones(n_buyers)
    accounts = np.bincount(component, minlength=n_groups)
    has_registration = bool(np.isfinite(facts.registered_at).any())
    if has_registration:
        times = np.where(np.isfinite(facts.registered_at), facts.registered_at, np.inf)
        window = burst_minutes * 60.0
    else:
        times = facts.first_order_at
        window = _ORDER_BURST_HOURS * 3600.0
    in_burst = _burst(component, np.where(np.isfinite(times), times, np.nan), window, min_accounts)
    burst_share = _mean(component, in_burst.astype(float), ones, n_groups)
    redeem_share = _mean(component, facts.redeemed.astype(float), ones, n_groups)
    near_share = _mean(
        component, facts.near_threshold.astype(float), facts.redeemed.astype(float), n_groups
    )
    churn_share = _mean(
        component, facts.churned.astype(float), facts.churn_known.astype(float), n_groups
    )
    age_days = (facts.first_order_at - facts.registered_at) / 86_400.0
    new_share = _mean(
        component,
        (age_days <= _NEW_ACCOUNT_DAYS).astype(float),
        np.isfinite(age_days).astype(float),
        n_groups,
    )
    kinds = graph.links.groupby("component")["kind"].nunique()
    link_kinds = np.zeros(n_groups)
    link_kinds[kinds.index.to_numpy(dtype=np.int64)] = kinds.to_numpy()
    size = np.clip(np.log2(np.maximum(accounts, 1) / _SIZE_FROM), 0.0, 3.0)
    z = (
        _BIAS
        + _W_REDEEM * redeem_share
        + _W_NEAR * near_share
        + _W_CHURN * churn_share
        + _W_BURST * burst_share
        + _W_NEW * new_share
        + _W_LINK_KINDS * np.minimum(link_kinds, 3)
        + _W_SIZE * size
    )
    group_score = 1.0 / (1.0 + np.exp(-z))
    candidate = (accounts >= min_accounts) & (redeem_share > 0)
    group_score = np.where(candidate, group_score, 0.0)
    flagged_group = candidate & (group_score >= threshold)

    # A member redeemed inside the group's burst; an account that merely shares a
    # home IP with an abuser (chance) or never redeemed is not farming coupons.
    member = facts.redeemed & in_burst
    comp_of_order = component[buyer]
    comp_of_order = np.where(member[buyer], comp_of_order, -1)
    safe = np.maximum(comp_of_order, 0)
    single = (
        (facts.redeemed.astype(float) + facts.near_threshold + facts.churned)
        / 3.0
        * _SINGLE_ACCOUNT_SCALE
    )
    order_score = np.maximum(np.where(comp_of_order >= 0, group_score[safe], 0.0), single[buyer])
    flagged = (comp_of_order >= 0) & flagged_group[safe]
    order_reasons = _order_reasons(view, buyer, facts)

    codes = np.flatnonzero(flagged_group)
    codes = codes[np.argsort(-group_score[codes], kind="stable")]
    verdicts = _verdicts(
        codes,
        component,
        member,
        group_score,
        facts,
        times if has_registration else facts.first_order_at,
        has_registration,
        in_burst,
        ip24,
        buyer,
        graph,
        keys,
        view,
        show_pii,
    )
    return CouponGroups(order_score, comp_of_order, flagged, order_reasons, verdicts)


def _order_reasons(view: OrderView, buyer: np.ndarray, facts: AccountFacts) -> np.ndarray:
    n = len(view)
    out = np.full(n, "", dtype=object)
    redeemed = facts.redeemed[buyer]
    rows = np.flatnonzero(redeemed)
    if len(rows):
        value = pd.Series(facts.order_value[buyer[rows]]).round(2).astype(str).to_numpy()
        text = "redeemed a new-user coupon on an order of ¥" + value.astype(object)
        churned = facts.churned[buyer[rows]]
        text = text + np.where(churned, ", never ordered again", "").astype(object)
        out[rows] = text
    return out


def _span_text(seconds: float) -> str:
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86_400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86_400:.1f} days"


def _verdicts(
    codes: np.ndarray,
    component: np.ndarray,
    member: np.ndarray,
    group_score: np.ndarray,
    facts: AccountFacts,
    times: np.ndarray,
    has_registration: bool,
    in_burst: np.ndarray,
    ip24: np.ndarray,
    buyer: np.ndarray,
    graph: IdentityGraph,
    keys: Mapping[str, IdentityKey],
    view: OrderView,
    show_pii: bool,
) -> GroupVerdicts:
    columns = ["code", "group_id", "score", "severity", "reasons", "shared_identifiers"]
    if len(codes) == 0:
        return GroupVerdicts(pd.DataFrame(columns=columns))
    link_text = link_facts(graph, keys, codes, {}, show_pii)
    severity = severity_of(group_score[codes], medium=0.7, high=0.85)
    coupon_names = "/".join(facts.coupons) or "a new-user discount"
    origin = view.orders["created_at"].min()
    # The /24 most of a group's orders came from (a fact for the reasons).
    order_comp = np.where(member[buyer], component[buyer], -1)
    subnet = pd.DataFrame({"c": order_comp, "s": ip24, "b": buyer})
    subnet = subnet[(subnet["c"] >= 0) & (subnet["s"] >= 0) & np.isin(subnet["c"], codes)]
    top_subnet = (
        subnet.drop_duplicates(["c", "b", "s"])
        .groupby(["c", "s"])
        .size()
        .rename("n")
        .reset_index()
        .sort_values("n", ascending=False)
        .drop_duplicates("c")
        .set_index("c")
    )
    rows: list[dict[str, object]] = []
    for rank, code in enumerate(codes):
        in_group = (component == code) & member
        n_acc = int(in_group.sum())
        reasons: list[str] = []
        links, shared = link_text.get(int(code), ([], []))
        reasons.extend(links)
        burst_members = in_group & in_burst
        if burst_members.any():
            t = times[burst_members]
            t = t[np.isfinite(t)]
            if len(t):
                what = "registered" if has_registration else "placed their first order"
                start = origin + pd.Timedelta(seconds=float(t.min()))
                reasons.append(
                    f"{int(burst_members.sum())}/{n_acc} accounts {what} within "
                    f"{_span_text(float(t.max() - t.min()))} (from {start:%Y-%m-%d %H:%M})"
                )
        redeemers = in_group & facts.redeemed
        if redeemers.any():
            values = facts.order_value[redeemers]
            reasons.append(
                f"{int(redeemers.sum())}/{n_acc} redeemed {coupon_names} on an order of "
                f"¥{np.nanmin(values):.2f}–{np.nanmax(values):.2f}"
            )
        near = in_group & facts.near_threshold
        if near.any() and np.isfinite(facts.threshold):
            reasons.append(
                f"{int(near.sum())}/{n_acc} order values within "
                f"{(facts.threshold * 0.12):.0f} of the coupon threshold ¥{facts.threshold:.0f}"
            )
        churn_known = in_group & facts.churn_known
        if churn_known.any():
            reasons.append(
                f"{int((in_group & facts.churned).sum())}/{int(churn_known.sum())} "
                "never ordered again after redeeming"
            )
        if code in top_subnet.index:
            row = top_subnet.loc[code]
            if int(row["n"]) >= 3:
                label = describe_value("ip24", keys["ip24"].value(int(row["s"])), show_pii)
                reasons.append(f"{int(row['n'])} accounts ordered from IP /24 {label}")
                shared.append(f"IP /24 {label}")
        rows.append(
            {
                "code": int(code),
                "group_id": f"CA-{rank + 1:04d}",
                "score": float(group_score[code]),
                "severity": str(severity[rank]),
                "reasons": "; ".join(reasons),
                "shared_identifiers": "; ".join(shared),
            }
        )
    return GroupVerdicts(pd.DataFrame(rows))
