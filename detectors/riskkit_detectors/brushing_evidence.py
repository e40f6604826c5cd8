"""The lines of evidence against a brushing group, each measured on the export.

Families (signs honest life produces together share one):

=============  ======================================================
identity       shared device, phone, IP or home address
phone          virtual-operator SIMs; a band of near-sequential numbers
payment        paid within seconds of ordering
fulfilment     signed for soon after payment; near-sequential waybills
review         five-star review right after receipt
account        young accounts
repeat         the same SKU ordered again, in another order, within 24 h
entry          entered the shop from a keyword search
sku            many of the group's accounts bought one SKU
=============  ======================================================

Backgrounds are stratified where honest behaviour varies: waybill runs by
shop and day (a shop that prints its day's waybills in one batch numbers its
honest parcels consecutively), receipt speed by carrier (express couriers
deliver next day), the other signs by shop.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from riskkit_detectors.brushing_features import OrderFacts
from riskkit_detectors.evidence import (
    IdentityUse,
    Line,
    account_indicator_line,
    identity_line,
    sku_line,
)
from riskkit_detectors.groups import value_label
from riskkit_detectors.identity import IdentityGraph, IdentityKey
from riskkit_detectors.order_view import ItemIndex, OrderView, order_discount

__all__ = [
    "FAMILY",
    "brushing_lines",
    "coupon_line",
    "identity_uses",
    "order_strata",
    "scanned_signs",
]

FAMILY = {
    "young_account": "account",
    "virtual_phone": "phone",
    "instant_pay": "payment",
    "quick_receipt": "fulfilment",
    "quick_shipment": "fulfilment",
    "instant_review": "review",
    "sequential_waybill": "fulfilment",
    "repeat_sku": "repeat",
    "search_entry": "entry",
    "title_name": "name",
}
_PHRASES = {
    "young_account": "were under {young:g} days old when ordering",
    "virtual_phone": "ship to virtual-operator phones (170/171/162/165/167)",
    "instant_pay": "paid within {pay:g} s of ordering",
    "quick_receipt": "signed for parcels within {receipt:g} days of payment",
    "quick_shipment": "were shipped within {ship:g} h of payment",
    "instant_review": "reviewed 5★ within {review:g} h of receipt",
    "sequential_waybill": "received near-sequential waybill numbers",
    "repeat_sku": "ordered the same SKU again in another order within 24 h",
    "search_entry": "entered the shop from a search",
    "title_name": "shipped to a surname and a title only (王先生, 李女士)",
}
_STRATUM = {
    "sequential_waybill": "shop_day",
    "quick_receipt": "carrier",
}
IDENTITY_KINDS = ("device", "phone", "ip", "address")


def scanned_signs(
    facts: OrderFacts, phrase_params: Mapping[str, float]
) -> list[tuple[str, str, np.ndarray]]:
    """(name, phrase, per-order hit) of the signs a sign surge may be made of:
    what happened to the order, not who the buyer is (see
    :meth:`OrderFacts.order_signs`)."""
    scanned = facts.order_signs()
    if facts.search_entry is not None:
        scanned.append(facts.search_entry)
    return [(i.name, _PHRASES[i.name].format(**phrase_params), i.hit & i.known) for i in scanned]


def _codes(series: pd.Series) -> np.ndarray:
    codes, _ = pd.factorize(series.fillna("<none>"))
    return np.asarray(codes, dtype=np.int64)


def order_strata(view: OrderView) -> dict[str, np.ndarray]:
    """Comparable-activity strata per order: shop, shop and day, carrier."""
    orders = view.orders
    shop = _codes(orders["shop_id"].astype("object"))
    created = orders["created_at"]
    day = np.asarray(
        ((created - created.min()).dt.total_seconds() // 86_400).fillna(-1), dtype=np.int64
    )
    n_days = int(day.max()) + 2 if len(day) else 1
    carrier = _codes(orders["carrier"].astype("object"))
    return {
        "shop": shop,
        "shop_day": shop * n_days + (day + 1),
        "carrier": carrier * (int(shop.max()) + 1 if len(shop) else 1) + shop,
    }


def identity_uses(
    keys: Mapping[str, IdentityKey],
    graph: IdentityGraph,
    kinds: Sequence[str],
    describe: Callable[[str, int], str],
    universe: Mapping[str, int] | None = None,
) -> list[IdentityUse]:
    """The keys of the given kinds as :func:`identity_line` measures them."""
    uses: list[IdentityUse] = []
    links = graph.links
    for kind in kinds:
        key = keys.get(kind)
        if key is None:
            continue
        present = key.codes >= 0
        pairs = pd.DataFrame({"b": key.buyers[present], "v": key.codes[present]}).drop_duplicates()
        accounts = graph.value_accounts.get(kind, np.zeros(0, dtype=np.int64))
        shared = np.zeros(len(accounts), dtype=bool)
        linking = links.loc[links["kind"] == kind, "value_code"].to_numpy(dtype=np.int64)
        shared[linking] = True
        uses.append(
            IdentityUse(
                kind=kind,
                label=_LABELS.get(kind, kind),
                buyers=pairs["b"].to_numpy(dtype=np.int64),
                values=pairs["v"].to_numpy(dtype=np.int64),
                accounts=accounts,
                shared=shared,
                describe=lambda code, kind=kind: describe(kind, code),  # type: ignore[misc]
                universe=(universe or {}).get(kind, 0),
            )
        )
    return uses


_LABELS = {
    "device": "device",
    "phone": "phone",
    "ip": "IP",
    "address": "address",
    "phone_run": "phone-band",
    "waybill_run": "waybill-run",
    "station_redeem": "parcel-station",
    "ip24_hour": "IP /24-hour",
    "ip24_half_hour": "IP /24-hour",
}


def _waybill_labels(view: OrderView, facts: OrderFacts) -> dict[int, str]:
    runs = facts.waybill_run
    have = runs >= 0
    if not have.any():
        return {}
    frame = pd.DataFrame(
        {
            "run": runs[have],
            "carrier": view.orders["carrier"].to_numpy()[have],
            "no": view.orders["tracking_no"].astype("str").to_numpy()[have],
        }
    )
    bounds = frame.groupby("run").agg(
        carrier=("carrier", "first"), low=("no", "min"), high=("no", "max")
    )
    return {
        int(run): f"near-sequential {row.carrier} waybills {row.low}…{row.high}"
        for run, row in zip(bounds.index, bounds.itertuples(), strict=True)
    }


def households(address: IdentityKey | None, n_buyers: int) -> np.ndarray:
    """Per buyer: its first address code, or a code of its own without one."""
    own = np.arange(n_buyers, dtype=np.int64) + n_buyers
    if address is None:
        return own
    present = address.codes >= 0
    first = np.full(n_buyers, -1, dtype=np.int64)
    first[address.buyers[present][::-1]] = address.codes[present][::-1]
    return np.where(first >= 0, first, own)


def brushing_lines(
    view: OrderView,
    buyer: np.ndarray,
    comp_of_order: np.ndarray,
    n_groups: int,
    facts: OrderFacts,
    keys: Mapping[str, IdentityKey],
    graph: IdentityGraph,
    item: np.ndarray,
    item_values: ItemIndex,
    phrase_params: Mapping[str, float],
    show_pii: bool,
    strata: Mapping[str, np.ndarray],
) -> list[Line]:
    """Every line of evidence for the candidate groups (``comp_of_order`` -1 elsewhere)."""
    n_buyers = len(graph.component)
    lines: list[Line] = []
    shown = [*facts.indicators, *([facts.search_entry] if facts.search_entry else [])]
    for ind in shown:
        lines.append(
            account_indicator_line(
                FAMILY[ind.name],
                ind.name,
                _PHRASES[ind.name].format(**phrase_params),
                comp_of_order,
                buyer,
                n_buyers,
                ind.hit,
                ind.known,
                strata[_STRATUM.get(ind.name, "shop")],
                n_groups,
            )
        )
    comp_of_buyer = np.full(n_buyers, -1, dtype=np.int64)
    grouped = comp_of_order >= 0
    comp_of_buyer[buyer[grouped]] = comp_of_order[grouped]
    waybills = _waybill_labels(view, facts) if "waybill_run" in keys else {}

    def describe(kind: str, code: int) -> str:
        if kind == "phone_run":
            return f"near-sequential phones {keys[kind].value(code)}"
        if kind == "waybill_run":
            return waybills.get(code, f"waybill run #{code}")
        return value_label(kind, keys[kind].value(code), show_pii)

    lines.append(
        identity_line(
            "identity",
            identity_uses(keys, graph, IDENTITY_KINDS, describe),
            comp_of_buyer,
            n_groups,
        )
    )
    universe = {
        "phone_run": len(facts.phones.values),
        "waybill_run": int(view.orders["tracking_no"].notna().sum()),
    }
    for kind, family in (("phone_run", "phone"), ("waybill_run", "fulfilment")):
        uses = identity_uses(keys, graph, (kind,), describe, universe)
        if uses:
            line = identity_line(family, uses, comp_of_buyer, n_groups)
            line.name = kind
            lines.append(line)
    if item_values.codes.size and len(item_values) > 1:
        line_order = view.lines["order_pos"].to_numpy()
        names = {int(i): str(item_values[int(i)]) for i in np.unique(item)}
        household = households(keys.get("address"), n_buyers)
        lines.append(
            sku_line(
                "sku",
                comp_of_buyer,
                buyer[line_order],
                item,
                names,
                n_groups,
                household,
                trials_are_accounts=True,
            )
        )
    return lines


def coupon_line(
    view: OrderView,
    buyer: np.ndarray,
    n_buyers: int,
    comp_of_order: np.ndarray,
    n_groups: int,
    shop: np.ndarray,
) -> tuple[Line, np.ndarray]:
    """Coupon redemption against the shop's background, and per-group coupon share.

    Brushers are refunded the full price: a group that redeems coupons far
    above its shops' rate is the coupon-abuse pattern, not brushing.
    """
    coupon = view.orders["coupon_code"]
    coded = np.asarray(coupon.notna() & (coupon.astype("str").str.strip() != ""), dtype=bool)
    used = coded | (order_discount(view) > 0.005)
    line = account_indicator_line(
        "coupon",
        "coupon",
        "redeemed coupons or discounts",
        comp_of_order,
        buyer,
        n_buyers,
        used,
        np.ones(len(used), dtype=bool),
        shop,
        n_groups,
    )
    grouped = comp_of_order >= 0
    share = np.divide(
        np.bincount(comp_of_order[grouped], weights=used[grouped], minlength=n_groups),
        np.maximum(np.bincount(comp_of_order[grouped], minlength=n_groups), 1),
    )
    return line, share
