"""What happens after an order is placed: coupons, payment, shipping, receipt, reviews, refunds.

Shops differ the way real ones do. Most print the day's waybills in one batch
before the courier's pickup, so one day's honest parcels of a shop carry
near-consecutive tracking numbers. 顺丰/京东 and warehouses close to the buyer
deliver the next day, and people sign at the door; station and locker
parcels are picked up after work. Rings change only what they control: 空包
parcels get a waybill seller's numbers and a fast fake "receipt".
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from riskkit.synth.adversarial.parts import (
    AUTO,
    REVIEW_HONEST,
    REVIEW_NEVER,
    REVIEW_QUICK,
    REVIEW_SCRIPTED,
    Part,
)
from riskkit.synth.adversarial.people import FAST_CARRIERS, Town
from riskkit.synth.adversarial.world import (
    COUPONS,
    D11_COUPON,
    DAY,
    DOUBLE11_END,
    DOUBLE11_START,
    EXPORT_AT,
    HOUR,
    MJ150,
    MJ300,
    NEW_USER_COUPON,
    NO_COUPON,
)
from riskkit.synth.batch import UNSET, Lines
from riskkit.synth.behaviour import COMPLETED, PAID, REFUNDED, SHIPPED, Fulfilment
from riskkit.synth.config import CARRIER_SHARE, CARRIERS
from riskkit.synth.population import HOME

__all__ = ["first_orders", "fulfil", "order_shops"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

RATING_SHARE = np.array([0.03, 0.02, 0.05, 0.17, 0.73])
REFUND_SHARE = 0.03
FESTIVAL_REFUND_SHARE = 0.09  # 双11 impulse buys come back in the days after


def first_orders(buyer: IntArray, created: IntArray) -> BoolArray:
    """True on each buyer's earliest order."""
    by_buyer = np.lexsort((created, buyer))
    first = np.ones(len(buyer), dtype=bool)
    first[1:] = buyer[by_buyer][1:] != buyer[by_buyer][:-1]
    mask = np.zeros(len(buyer), dtype=bool)
    mask[by_buyer[first]] = True
    return mask


def order_shops(town: Town, orders: Part, lines: Lines) -> IntArray:
    first_line = np.searchsorted(lines.order, np.arange(orders.size))
    shops: IntArray = town.catalog.sku_shop[lines.sku[first_line]]
    return shops


def _coupons(rng: np.random.Generator, town: Town, orders: Part, subtotal: IntArray) -> IntArray:
    """Honest coupons where sources left ``AUTO``; no coupon below its threshold."""
    size = orders.size
    coupon = orders.coupon.copy()
    auto = coupon == AUTO
    new_account = town.accounts.column("new_account")[orders.buyer] == 1
    first = first_orders(orders.buyer, orders.created)
    new_user = auto & new_account & first & (rng.random(size) < 0.6)
    coupon = np.where(new_user, NEW_USER_COUPON, coupon)
    festival = (orders.created >= DOUBLE11_START) & (orders.created < DOUBLE11_END)
    wants = auto & ~new_user & (rng.random(size) < np.where(festival, 0.6, 0.14))
    best = np.where(
        subtotal >= COUPONS[MJ300][1],
        MJ300,
        np.where(subtotal >= COUPONS[MJ150][1], MJ150, NO_COUPON),
    )
    best = np.where(festival & (subtotal >= COUPONS[D11_COUPON][1]), D11_COUPON, best)
    coupon = np.where(wants, best, coupon)
    coupon = np.where(coupon == AUTO, NO_COUPON, coupon)
    threshold = np.array([c[1] for c in COUPONS], dtype=np.int64)[coupon]
    return np.where(subtotal >= threshold, coupon, NO_COUPON).astype(np.int64)


def _honest_pay_delay(rng: np.random.Generator, size: int) -> IntArray:
    delay = np.exp(rng.normal(np.log(25.0), 1.0, size))
    draw = rng.random(size)
    delay = np.where(draw < 0.2, rng.uniform(2, 9, size), delay)  # fingerprint / password-free
    delay = np.where(draw > 0.96, rng.uniform(300, 3600, size), delay)  # thought about it
    return np.maximum(delay, 1).astype(np.int64)


def _ship(
    rng: np.random.Generator, town: Town, orders: Part, shop: IntArray, paid: IntArray
) -> tuple[IntArray, IntArray, IntArray]:
    """Shipping times, carriers and waybills; batch printers number a day's parcels in a row."""
    size = orders.size
    seller = orders.seller_waybill != AUTO
    festival = (orders.created >= DOUBLE11_START) & (orders.created < DOUBLE11_END)
    backlog = np.where(festival, rng.integers(1, 4, size) * DAY, 0)
    batch_shop = town.shop_batch_prints[shop]
    print_at = town.shop_print_hour[shop] * HOUR
    paid_day = paid // DAY
    today = (paid - paid_day * DAY) < print_at - HOUR
    ship_day = np.where(today, paid_day, paid_day + 1) + backlog // DAY
    batch_time = ship_day * DAY + print_at
    loose_time = paid + np.exp(rng.normal(np.log(16 * HOUR), 0.6, size)).astype(np.int64) + backlog
    shipped = np.where(batch_shop, batch_time, loose_time)
    shipped = np.where(seller, paid + rng.integers(600, 5400, size), shipped)

    carrier = np.where(
        rng.random(size) < 0.92,
        town.shop_carrier[shop],
        rng.choice(len(CARRIERS), size=size, p=CARRIER_SHARE / CARRIER_SHARE.sum()),
    )
    carrier = np.where(seller, orders.seller_carrier, carrier)
    width = np.array([c[2] for c in CARRIERS], dtype=np.int64)[carrier]
    low = 10 ** (width - 1)
    waybill = low + (rng.random(size) * (10**width - low)).astype(np.int64)
    # One batch = one shop's parcels of one day with the shop's own carrier, in payment order.
    in_batch = batch_shop & ~seller & (carrier == town.shop_carrier[shop])
    members = np.flatnonzero(in_batch)
    key = shop[members] * 10_000 + ship_day[members]
    order = members[np.lexsort((paid[members], key))]
    key = shop[order] * 10_000 + ship_day[order]
    starts = np.r_[True, key[1:] != key[:-1]]
    gap = np.where(rng.random(len(order)) < 0.8, 1, rng.integers(2, 5, len(order)))
    batch_of = np.cumsum(starts) - 1
    step = np.cumsum(gap)
    step = step - (step[np.flatnonzero(starts)] - gap[np.flatnonzero(starts)])[batch_of]
    low_o = low[order]
    base = low_o + (rng.random(int(starts.sum())) * low_o[starts] * 8).astype(np.int64)[batch_of]
    waybill[order] = base + step
    shipped[order] = shipped[order] + step * rng.integers(4, 15, len(order))  # printing takes time
    waybill = np.where(seller, orders.seller_waybill, waybill)
    return shipped.astype(np.int64), carrier.astype(np.int64), waybill.astype(np.int64)


def _receive(
    rng: np.random.Generator, town: Town, orders: Part, carrier: IntArray, shipped: IntArray
) -> IntArray:
    size = orders.size
    fast = np.isin(carrier, list(FAST_CARRIERS))
    next_day = rng.random(size) < np.where(fast, 0.8, 0.35)
    transit = np.where(
        next_day, rng.uniform(14 * HOUR, 30 * HOUR, size), rng.uniform(40 * HOUR, 100 * HOUR, size)
    )
    festival = (orders.created >= DOUBLE11_START) & (orders.created < DOUBLE11_END)
    transit = transit + np.where(festival, rng.uniform(0, 2 * DAY, size), 0)
    pickup = town.addresses.column("drop_kind")[orders.address] != HOME
    signing = np.where(
        pickup, rng.uniform(2 * HOUR, 30 * HOUR, size), rng.uniform(0, 2 * HOUR, size)
    )
    received = shipped + (transit + signing).astype(np.int64)
    return np.where(orders.transit != AUTO, shipped + orders.transit, received).astype(np.int64)


def _review(
    rng: np.random.Generator, town: Town, orders: Part, received: IntArray
) -> tuple[IntArray, IntArray]:
    size = orders.size
    mode = orders.review.copy()
    quick = (town.accounts.column("quick_reviewer")[orders.buyer] == 1) & (mode == REVIEW_HONEST)
    mode = np.where(quick, REVIEW_QUICK, mode)
    chance = np.select(
        [mode == REVIEW_HONEST, mode == REVIEW_QUICK, mode == REVIEW_SCRIPTED], [0.3, 0.9, 1.0], 0.0
    )
    reviewing = (rng.random(size) < chance) & (mode != REVIEW_NEVER)
    lag = np.exp(rng.normal(np.log(2 * DAY), 0.8, size))
    lag = np.where(mode == REVIEW_QUICK, rng.uniform(180, 3600, size), lag)
    lag = np.where(mode == REVIEW_SCRIPTED, rng.uniform(60, 1200, size), lag)
    rating = rng.choice(5, size=size, p=RATING_SHARE) + 1
    rating = np.where(mode == REVIEW_QUICK, np.where(rng.random(size) < 0.85, 5, 4), rating)
    rating = np.where(mode == REVIEW_SCRIPTED, 5, rating)
    reviewed = np.where(reviewing, received + lag.astype(np.int64), UNSET)
    return reviewed.astype(np.int64), np.where(reviewing, rating, 0).astype(np.int64)


def fulfil(rng: np.random.Generator, town: Town, orders: Part, lines: Lines) -> Fulfilment:
    """Every order's money, logistics and feedback, cut off at the export time."""
    size = orders.size
    subtotal = np.bincount(
        lines.order, weights=lines.unit_price * lines.quantity, minlength=size
    ).astype(np.int64)
    orders.coupon = _coupons(rng, town, orders, subtotal)
    discount = np.minimum(
        np.array([c[2] for c in COUPONS], dtype=np.int64)[orders.coupon], subtotal
    )
    amount_paid = subtotal - discount
    delay = np.where(orders.pay_delay == AUTO, _honest_pay_delay(rng, size), orders.pay_delay)
    paid = orders.created + delay
    shop = order_shops(town, orders, lines)
    shipped, carrier, waybill = _ship(rng, town, orders, shop, paid)
    received = _receive(rng, town, orders, carrier, shipped)
    reviewed, rating = _review(rng, town, orders, received)

    festival = (orders.created >= DOUBLE11_START) & (orders.created < DOUBLE11_END)
    share = np.where(festival, FESTIVAL_REFUND_SHARE, REFUND_SHARE)
    refunding = (orders.refundable == 1) & (rng.random(size) < share)
    full = refunding & (rng.random(size) < 0.7)
    before_shipping = full & (rng.random(size) < 0.4)
    partial = refunding & ~full
    refund = np.where(full, amount_paid, 0)
    refund = np.where(partial, (amount_paid * rng.uniform(0.2, 0.5, size)).astype(np.int64), refund)

    shipped = np.where(before_shipping | (shipped >= EXPORT_AT), UNSET, shipped)
    received = np.where((shipped == UNSET) | (received >= EXPORT_AT), UNSET, received)
    keep_review = (reviewed != UNSET) & (received != UNSET) & (reviewed < EXPORT_AT) & ~full
    reviewed = np.where(keep_review, reviewed, UNSET)
    rating = np.where(keep_review, rating, 0)
    waybill = np.where(shipped == UNSET, UNSET, waybill)
    status = np.where(received != UNSET, COMPLETED, np.where(shipped != UNSET, SHIPPED, PAID))
    status = np.where(full, REFUNDED, status)
    return Fulfilment(
        subtotal=subtotal,
        discount=discount.astype(np.int64),
        amount_paid=amount_paid.astype(np.int64),
        refund=refund.astype(np.int64),
        paid=paid.astype(np.int64),
        shipped=shipped.astype(np.int64),
        received=received.astype(np.int64),
        reviewed=reviewed.astype(np.int64),
        rating=rating.astype(np.int64),
        carrier=carrier.astype(np.int64),
        waybill=waybill.astype(np.int64),
        status=status.astype(np.int64),
    )
