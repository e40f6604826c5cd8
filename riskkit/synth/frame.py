"""Turn integer-coded orders into the canonical frame (and the facts exports need)."""

from __future__ import annotations

from dataclasses import dataclass

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


def _text(array: pa.Array | pa.ChunkedArray) -> pd.Series:
    return pd.Series(array.to_pandas(), copy=False)


def _timestamps(seconds: IntArray, nullable: bool = True) -> pd.Series:
    values = (PERIOD_START + seconds.astype("timedelta64[s]")).astype("datetime64[us]")
    if nullable:
        values[seconds == UNSET] = np.datetime64("NaT")
    return pd.Series(values)


def _money(cents: npt.NDArray[np.int64] | npt.NDArray[np.float64]) -> pd.Series:
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
        return _money(np.where(first_line, cents[owner], np.nan))

    def codes(table: tuple[str, ...] | list[str | None], values: IntArray) -> pd.Series:
        return _text(pa.array(table, type=pa.string()).take(pa.array(values[owner])))

    order_id = geo.numbers(numbers)
    unshipped = done.waybill == UNSET
    columns: dict[str, pd.Series] = {
        "order_id": _text(order_id.take(at)),
        "buyer_id": _text(buyer_ids(everyone).take(by_buyer)),
        "created_at": _timestamps(orders.created[owner]),
        "paid_at": _timestamps(done.paid[owner]),
        "shop_id": _text(geo.lookup(catalog.shop_ids, catalog.sku_shop[lines.sku])),
        "sku_id": _text(geo.lookup(catalog.sku_ids, lines.sku)),
        "quantity": pd.Series(lines.quantity, dtype="int64", copy=False),
        "unit_price": _money(lines.unit_price),
        "list_price": _money(lines.list_price),
        "coupon_code": codes(coupon_names, orders.coupon),
        "discount_amount": order_money(done.discount),
        "amount_paid": order_money(done.amount_paid),
        "platform": codes(PLATFORMS, orders.platform),
        "channel": codes(CHANNELS, orders.channel),
        "ip": _text(geo.format_ip(orders.ip[owner])),
        "device_id": _text(device_ids(orders.device[owner])),
        "ship_name": _text(recipient_names(market, everyone).take(by_buyer)),
        "ship_phone": _text(geo.numbers(buyers.column("phone")).take(by_buyer)),
        "ship_address": _text(book["full"].take(pa.array(orders.address[owner]))),
        "buyer_registered_at": _timestamps(
            buyers.column("registered")[buyer_of_line], nullable=False
        ),
        "member_tier": _text(geo.lookup(TIERS, buyers.column("tier")[buyer_of_line])),
        "status": codes(STATUSES, done.status),
        "refund_amount": order_money(done.refund),
        "carrier": _text(
            _null_if(unshipped, geo.lookup([c[0] for c in CARRIERS], done.carrier)).take(at)
        ),
        "tracking_no": _text(tracking_numbers(done.carrier, done.waybill).take(at)),
        "received_at": _timestamps(done.received[owner]),
        "review_rating": pd.Series(rating[owner], copy=False),
        "reviewed_at": _timestamps(done.reviewed[owner]),
    }
    frame = pd.DataFrame({name: columns.pop(name) for name in ALL_COLUMNS}, copy=False)
    facts = pd.DataFrame(
        {
            "order_id": _text(order_id),
            "sequence": np.arange(orders.size, dtype=np.int64),
            "shipped_at": _timestamps(done.shipped),
            "address_code": orders.address,
            "subtotal": _money(done.subtotal),
            "items": np.bincount(owner, weights=lines.quantity, minlength=orders.size).astype(
                np.int64
            ),
        },
        copy=False,
    )
    addresses = pd.DataFrame(
        {
            "province": _text(book["province"]),
            "province_written": _text(book["province_written"]),
            "city": _text(book["city"]),
            "district": _text(book["district"]),
            "address_line": _text(book["line"]),
            "street": _text(book["detail"]),
            "zip": _text(book["zip"]),
        },
        copy=False,
    )
    return Assembled(frame=frame, order_facts=facts, addresses=addresses)
