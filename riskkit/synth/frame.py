"""Turn integer-coded orders into the canonical frame (and the facts exports need)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from riskkit.orders.schema import ALL_COLUMNS
from riskkit.synth import geo
from riskkit.synth.batch import UNSET, Lines, OrderBatch
from riskkit.synth.behaviour import STATUSES, Fulfilment
from riskkit.synth.config import CARRIERS, CHANNELS, COUPONS, PERIOD_START, PLATFORMS, TIERS
from riskkit.synth.market import Market

__all__ = ["Assembled", "assemble", "buyer_ids", "device_ids", "order_numbers"]

IntArray = npt.NDArray[np.int64]

TAOBAO_ORDER_BASE = 3_100_000_000_000_000_000  # 19 digits, below 2**63


def order_numbers(rng: np.random.Generator, count: int) -> IntArray:
    """Unique 19-digit order numbers, increasing with time like the platform's."""
    return (
        TAOBAO_ORDER_BASE
        + np.arange(count, dtype=np.int64) * 100_000
        + rng.integers(0, 100_000, count)
    )


def text_series(array: pa.Array | pa.ChunkedArray) -> pd.Series:
    return pd.Series(array.to_pandas(), copy=False)


def timestamp_series(seconds: IntArray, nullable: bool = True) -> pd.Series:
    values = (PERIOD_START + seconds.astype("timedelta64[s]")).astype("datetime64[us]")
    if nullable:
        values[seconds == UNSET] = np.datetime64("NaT")
    return pd.Series(values)


def money_series(cents: npt.NDArray[np.int64] | npt.NDArray[np.float64]) -> pd.Series:
    return pd.Series(np.asarray(cents, dtype=np.float64) / 100.0)


def buyer_ids(codes: IntArray) -> pa.Array:
    """Member names like ``tb4738291056``: a bijective scramble of the buyer code."""
    scrambled = (codes * 2_654_435_761 + 1_234_567) % 9_000_000_000 + 1_000_000_000
    return geo.concat("tb", geo.numbers(scrambled))


def device_ids(codes: IntArray) -> pa.Array:
    scrambled = (codes * 40_503 + 977) % 900_000_000_000_000 + 100_000_000_000_000
    return geo.concat("D", geo.numbers(scrambled))


def tracking_numbers(carrier: IntArray, waybill: IntArray) -> pa.Array:
    """Carrier prefix + zero-padded digits, formatted one carrier at a time."""
    grouped = np.argsort(carrier, kind="stable")
    pieces: list[pa.Array] = []
    for code, (_, prefix, width) in enumerate(CARRIERS):
        members = grouped[carrier[grouped] == code]
        pieces.append(geo.concat(prefix, geo.digits(waybill[members] % 10**width, width)))
    joined = pa.concat_arrays(pieces)
    inverse = np.empty_like(grouped)
    inverse[grouped] = np.arange(len(grouped))
    text = joined.take(pa.array(inverse))
    return pc.if_else(pa.array(waybill == UNSET), pa.scalar(None, pa.string()), text)


def recipient_names(market: Market, buyer: IntArray) -> pa.Array:
    surname = geo.lookup(geo.SURNAMES, market.buyers.column("surname")[buyer])
    given = geo.lookup(geo.GIVEN_NAMES + geo.HONORIFICS, market.buyers.column("given")[buyer])
    return geo.concat(surname, given)


@dataclass(frozen=True)
class Assembled:
    """The canonical frame plus what the platform exports need.

    ``order_facts`` has one row per order (``address_code`` indexes
    ``addresses``, the parts of every distinct shipping address).
    """

    frame: pd.DataFrame
    order_facts: pd.DataFrame
    addresses: pd.DataFrame


def _null_if(mask: npt.NDArray[np.bool_], values: pa.Array) -> pa.Array:
    return pc.if_else(pa.array(mask), pa.scalar(None, pa.string()), values)


def assemble(
    market: Market, orders: OrderBatch, lines: Lines, done: Fulfilment, numbers: IntArray
) -> Assembled:
    """One row per order line with every canonical column; ids as strings.

    Strings are built once per distinct value (account, address, code) and
    gathered per line, and the frame adopts the arrays without copying: the
    canonical frame is the only large thing left at the end.
    """
    catalog = market.catalog
    buyers = market.buyers
    owner = lines.order
    at = pa.array(owner)
    first_line = np.zeros(lines.size, dtype=bool)
    first_line[np.searchsorted(owner, np.arange(orders.size))] = True
    book = market.addresses.format(np.arange(market.addresses.size, dtype=np.int64))
    everyone = np.arange(buyers.size, dtype=np.int64)
    buyer_of_line = orders.buyer[owner]
    by_buyer = pa.array(buyer_of_line)
    coupon_names = [c[0] or None for c in COUPONS]
    rating = np.where(done.rating > 0, done.rating, np.nan)

    def order_money(cents: IntArray) -> pd.Series:
        return money_series(np.where(first_line, cents[owner], np.nan))

    def codes(table: tuple[str, ...] | list[str | None], values: IntArray) -> pd.Series:
        return text_series(pa.array(table, type=pa.string()).take(pa.array(values[owner])))

    order_id = geo.numbers(numbers)
    unshipped = done.waybill == UNSET
    columns: dict[str, pd.Series] = {
        "order_id": text_series(order_id.take(at)),
        "buyer_id": text_series(buyer_ids(everyone).take(by_buyer)),
        "created_at": timestamp_series(orders.created[owner]),
        "paid_at": timestamp_series(done.paid[owner]),
        "shop_id": text_series(geo.lookup(catalog.shop_ids, catalog.sku_shop[lines.sku])),
        "sku_id": text_series(geo.lookup(catalog.sku_ids, lines.sku)),
        "quantity": pd.Series(lines.quantity, dtype="int64", copy=False),
        "unit_price": money_series(lines.unit_price),
        "list_price": money_series(lines.list_price),
        "coupon_code": codes(coupon_names, orders.coupon),
        "discount_amount": order_money(done.discount),
        "amount_paid": order_money(done.amount_paid),
        "platform": codes(PLATFORMS, orders.platform),
        "channel": codes(CHANNELS, orders.channel),
        "ip": text_series(geo.format_ip(orders.ip[owner])),
        "device_id": text_series(device_ids(orders.device[owner])),
        "ship_name": text_series(recipient_names(market, everyone).take(by_buyer)),
        "ship_phone": text_series(geo.numbers(buyers.column("phone")).take(by_buyer)),
        "ship_address": text_series(book["full"].take(pa.array(orders.address[owner]))),
        "buyer_registered_at": timestamp_series(
            buyers.column("registered")[buyer_of_line], nullable=False
        ),
        "member_tier": text_series(geo.lookup(TIERS, buyers.column("tier")[buyer_of_line])),
        "status": codes(STATUSES, done.status),
        "refund_amount": order_money(done.refund),
        "carrier": text_series(
            _null_if(unshipped, geo.lookup([c[0] for c in CARRIERS], done.carrier)).take(at)
        ),
        "tracking_no": text_series(tracking_numbers(done.carrier, done.waybill).take(at)),
        "shipped_at": timestamp_series(done.shipped[owner]),
        "received_at": timestamp_series(done.received[owner]),
        "review_rating": pd.Series(rating[owner], copy=False),
        "reviewed_at": timestamp_series(done.reviewed[owner]),
    }
    frame = pd.DataFrame({name: columns.pop(name) for name in ALL_COLUMNS}, copy=False)
    facts, addresses = facts_and_addresses(
        order_id, done, orders.address, owner, lines.quantity, book, orders.size
    )
    return Assembled(frame=frame, order_facts=facts, addresses=addresses)


def facts_and_addresses(
    order_id: pa.Array,
    done: Fulfilment,
    address_code: IntArray,
    owner: IntArray,
    quantity: IntArray,
    book: Any,
    n_orders: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per order: what the export writers need beyond the canonical columns;
    per address code: its parts as platforms spell them."""
    facts = pd.DataFrame(
        {
            "order_id": text_series(order_id),
            "sequence": np.arange(n_orders, dtype=np.int64),
            "address_code": address_code,
            "subtotal": money_series(done.subtotal),
            "items": np.bincount(owner, weights=quantity, minlength=n_orders).astype(np.int64),
        },
        copy=False,
    )
    addresses = pd.DataFrame(
        {
            "province": text_series(book["province"]),
            "province_written": text_series(book["province_written"]),
            "city": text_series(book["city"]),
            "district": text_series(book["district"]),
            "address_line": text_series(book["line"]),
            "street": text_series(book["detail"]),
            "zip": text_series(book["zip"]),
        },
        copy=False,
    )
    return facts, addresses
