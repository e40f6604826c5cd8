"""The adversarial world as the canonical frame, the export facts and the label tables.

The output has exactly the shapes of the standard generator's ``SynthData``,
so the riskkit, Shopify and Taobao writers and ``write_labels`` take it as it
is. Differences in content: a parcel's recipient need not be the buyer (gift
senders), and look-alike tags come from this world's vocabulary.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from riskkit.orders.schema import ALL_COLUMNS
from riskkit.synth import geo
from riskkit.synth.adversarial.parts import Part
from riskkit.synth.adversarial.people import Town
from riskkit.synth.adversarial.world import (
    COUPONS,
    DAY,
    DOUBLE11_END,
    DOUBLE11_START,
    HOUR,
    LOOKALIKE_CODE,
    LOOKALIKES,
    stamp,
)
from riskkit.synth.batch import UNSET, Lines
from riskkit.synth.behaviour import STATUSES, Fulfilment
from riskkit.synth.config import CARRIERS, CHANNELS, LABELS, PLATFORMS, TIERS
from riskkit.synth.frame import (
    buyer_ids,
    device_ids,
    facts_and_addresses,
    money_series,
    text_series,
    timestamp_series,
    tracking_numbers,
)
from riskkit.synth.population import HOME

__all__ = ["assemble", "drift_frame", "groups_frame", "labels_frame", "tag_lookalikes"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def tag_lookalikes(
    town: Town, orders: Part, done: Fulfilment, shop: IntArray, seller: BoolArray
) -> IntArray:
    """Each honest order's look-alike kind: the first that applies in ``LOOKALIKES`` order."""
    accounts = town.accounts
    code = LOOKALIKE_CODE
    none = len(LOOKALIKES)
    registered = accounts.column("registered")[orders.buyer]
    received, reviewed, shipped = done.received, done.reviewed, done.shipped
    at_station = town.addresses.column("drop_kind")[orders.address] != HOME
    candidates = [
        np.where(orders.lookalike > 0, orders.lookalike, none),
        np.where(
            accounts.column("lookalike")[orders.buyer] > 0,
            accounts.column("lookalike")[orders.buyer],
            none,
        ),
        np.where(at_station, code["pickup_station"], none),
        np.where(
            (accounts.column("new_account")[orders.buyer] == 1)
            & (orders.created - registered < 7 * DAY),
            code["new_account"],
            none,
        ),
        np.where((reviewed != UNSET) & (reviewed - received < HOUR), code["quick_review"], none),
        np.where(
            (received != UNSET) & (received - shipped < 36 * HOUR), code["next_day_delivery"], none
        ),
        np.where(np.isin(orders.ip, town.cgnat_ips), code["cgnat_ip"], none),
        np.where(
            town.shop_batch_prints[shop]
            & (shipped != UNSET)
            & ~seller
            & (done.carrier == town.shop_carrier[shop]),
            code["batch_waybill"],
            none,
        ),
    ]
    tag = np.min(np.vstack(candidates), axis=0)
    tag = np.where(tag == none, 0, tag)
    return np.where(orders.label == 0, tag, 0).astype(np.int64)


def assemble(
    rng: np.random.Generator,
    town: Town,
    orders: Part,
    lines: Lines,
    done: Fulfilment,
    numbers: IntArray,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(canonical frame, order facts, address parts), like the standard generator's.

    Accounts and devices are created in blocks (a ring's accounts together),
    and the id scrambles are linear: shuffling the codes first keeps a
    block's member names and device ids from forming a visible progression.
    """
    catalog = town.catalog
    accounts = town.accounts
    owner = lines.order
    at = pa.array(owner)
    first_line = np.zeros(lines.size, dtype=bool)
    first_line[np.searchsorted(owner, np.arange(orders.size))] = True
    book = town.addresses.format(np.arange(town.addresses.size, dtype=np.int64))
    by_buyer = pa.array(orders.buyer[owner])
    by_recipient = pa.array(orders.recipient[owner])
    rating = np.where(done.rating > 0, done.rating, np.nan)
    names = geo.concat(
        geo.lookup(geo.SURNAMES, accounts.column("surname")),
        geo.lookup(geo.GIVEN_NAMES + geo.HONORIFICS, accounts.column("given")),
    )

    def order_money(cents: IntArray) -> pd.Series:
        return money_series(np.where(first_line, cents[owner], np.nan))

    def codes(table: tuple[str, ...] | list[str | None], values: IntArray) -> pd.Series:
        return text_series(pa.array(table, type=pa.string()).take(pa.array(values[owner])))

    device_codes = rng.permutation(town.next_device + 4)
    unshipped = done.waybill == UNSET
    carrier_names = geo.lookup([c[0] for c in CARRIERS], done.carrier)
    columns: dict[str, pd.Series] = {
        "order_id": text_series(geo.numbers(numbers).take(at)),
        "buyer_id": text_series(buyer_ids(rng.permutation(accounts.size)).take(by_buyer)),
        "created_at": timestamp_series(orders.created[owner]),
        "paid_at": timestamp_series(done.paid[owner]),
        "shop_id": text_series(geo.lookup(catalog.shop_ids, catalog.sku_shop[lines.sku])),
        "sku_id": text_series(geo.lookup(catalog.sku_ids, lines.sku)),
        "quantity": pd.Series(lines.quantity, dtype="int64", copy=False),
        "unit_price": money_series(lines.unit_price),
        "list_price": money_series(lines.list_price),
        "coupon_code": codes([c[0] or None for c in COUPONS], orders.coupon),
        "discount_amount": order_money(done.discount),
        "amount_paid": order_money(done.amount_paid),
        "platform": codes(PLATFORMS, orders.platform),
        "channel": codes(CHANNELS, orders.channel),
        "ip": text_series(geo.format_ip(orders.ip[owner])),
        "device_id": text_series(device_ids(device_codes[orders.device[owner]])),
        "ship_name": text_series(names.take(by_recipient)),
        "ship_phone": text_series(geo.numbers(accounts.column("phone")).take(by_recipient)),
        "ship_address": text_series(book["full"].take(pa.array(orders.address[owner]))),
        "buyer_registered_at": timestamp_series(
            accounts.column("registered")[orders.buyer[owner]], nullable=False
        ),
        "member_tier": text_series(geo.lookup(TIERS, accounts.column("tier")).take(by_buyer)),
        "status": codes(STATUSES, done.status),
        "refund_amount": order_money(done.refund),
        "carrier": text_series(
            pc.if_else(pa.array(unshipped), pa.scalar(None, pa.string()), carrier_names).take(at)
        ),
        "tracking_no": text_series(tracking_numbers(done.carrier, done.waybill).take(at)),
        "shipped_at": timestamp_series(done.shipped[owner]),
        "received_at": timestamp_series(done.received[owner]),
        "review_rating": pd.Series(rating[owner], copy=False),
        "reviewed_at": timestamp_series(done.reviewed[owner]),
    }
    frame = pd.DataFrame({name: columns.pop(name) for name in ALL_COLUMNS}, copy=False)
    facts, addresses = facts_and_addresses(
        geo.numbers(numbers), done, orders.address, owner, lines.quantity, book, orders.size
    )
    return frame, facts, addresses


def labels_frame(
    order_id: pd.Series, orders: Part, lookalike: IntArray, group_ids: list[str]
) -> pd.DataFrame:
    """``order_id, label, group_id, lookalike``; ``group_ids`` by group code."""
    table = np.array([*group_ids, ""], dtype=object)
    return pd.DataFrame(
        {
            "order_id": order_id,
            "label": pd.Series(np.array(LABELS, dtype=object)[orders.label], dtype="str"),
            "group_id": pd.Series(table[orders.group], dtype="str"),
            "lookalike": pd.Series(np.array(LOOKALIKES, dtype=object)[lookalike], dtype="str"),
        }
    )


GROUP_COLUMNS = (
    "group_id",
    "kind",
    "shop_id",
    "sku_ids",
    "window_start",
    "window_end",
    "accounts",
    "signals",
)


def groups_frame(groups: list[dict[str, Any]]) -> pd.DataFrame:
    rows = [
        {
            **group,
            "window_start": stamp(group["window_start"]),
            "window_end": stamp(group["window_end"]),
            "sku_ids": " ".join(group["sku_ids"]),
            "signals": " ".join(group["signals"]),
        }
        for group in groups
    ]
    return pd.DataFrame(rows, columns=list(GROUP_COLUMNS))


def drift_frame(town: Town, windows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "window_start": stamp(w["start"]),
                "window_end": stamp(w["end"]),
                "scope": "all" if w["shop"] < 0 else town.catalog.shop_ids[w["shop"]],
                "feature": w["feature"],
                "description": f"{w['kind']}: {w['description']}",
            }
            for w in windows
        ],
        columns=["window_start", "window_end", "scope", "feature", "description"],
    )


def festival_entry() -> dict[str, Any]:
    return {
        "name": "双11",
        "kind": "festival",
        "start": stamp(DOUBLE11_START),
        "end": stamp(DOUBLE11_END),
    }
