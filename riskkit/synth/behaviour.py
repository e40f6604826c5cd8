"""What happens after an order is placed: coupons, payment, shipping, receipt, reviews, refunds.

Also derives honest account registration times from each buyer's first order,
so every account exists before it buys.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from riskkit.synth.batch import UNSET, Lines, OrderBatch
from riskkit.synth.config import (
    CARRIER_SHARE,
    CARRIERS,
    COUPONS,
    D11_COUPON_CODE,
    DOUBLE11_END,
    DOUBLE11_START,
    EXPORT_AT,
    HONEST,
    NEW30_CODE,
    NEW_USER_COUPON_LOOKALIKE,
    SECONDS_PER_DAY,
)
from riskkit.synth.market import Market

__all__ = [
    "STATUSES",
    "Fulfilment",
    "assign_coupons",
    "assign_registration",
    "fill_fulfilment",
    "first_order_mask",
    "order_totals",
]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

STATUSES: tuple[str, ...] = ("paid", "shipped", "completed", "refunded")
PAID, SHIPPED, COMPLETED, REFUNDED = range(4)
RATING_SHARE = np.array([0.04, 0.02, 0.06, 0.18, 0.70])  # 1..5 stars


def order_totals(orders: OrderBatch, lines: Lines) -> IntArray:
    """Subtotal in cents per order (unit price x quantity, before coupons)."""
    return np.bincount(
        lines.order, weights=lines.unit_price * lines.quantity, minlength=orders.size
    ).astype(np.int64)


def first_order_mask(orders: OrderBatch) -> BoolArray:
    """True on each buyer's earliest order."""
    by_buyer = np.lexsort((orders.created, orders.buyer))
    first = np.ones(orders.size, dtype=bool)
    first[1:] = orders.buyer[by_buyer][1:] != orders.buyer[by_buyer][:-1]
    mask = np.zeros(orders.size, dtype=bool)
    mask[by_buyer[first]] = True
    return mask


def assign_coupons(
    rng: np.random.Generator, market: Market, orders: OrderBatch, subtotal: IntArray
) -> None:
    """Honest coupons: NEW30 once on a new account's first order; 满减 otherwise."""
    honest = (orders.label == HONEST) & (orders.coupon == 0)
    new_account = market.buyers.column("new_account")[orders.buyer] == 1
    first = first_order_mask(orders)
    new_user = honest & new_account & first & (subtotal >= 9_900) & (rng.random(orders.size) < 0.7)
    orders.coupon[new_user] = NEW30_CODE
    orders.lookalike[new_user] = NEW_USER_COUPON_LOOKALIKE
    double11 = (orders.created >= DOUBLE11_START) & (orders.created < DOUBLE11_END)
    use_share = np.where(double11, 0.6, 0.12)
    wants = honest & ~new_user & (rng.random(orders.size) < use_share)
    # The best 满减 coupon the subtotal qualifies for (codes 2..5 are ordered by threshold).
    best = np.zeros(orders.size, dtype=np.int64)
    for code in range(2, 6):
        best = np.where(subtotal >= COUPONS[code][1], code, best)
    best = np.where(double11 & (subtotal >= COUPONS[D11_COUPON_CODE][1]), D11_COUPON_CODE, best)
    orders.coupon[wants] = best[wants]


def assign_registration(rng: np.random.Generator, market: Market, orders: OrderBatch) -> None:
    """Registration of honest accounts: new ones shortly before their first order."""
    buyers = market.buyers
    registered = buyers.column("registered")
    first_seen = np.full(buyers.size, EXPORT_AT, dtype=np.int64)
    np.minimum.at(first_seen, orders.buyer, orders.created)
    unknown = registered < 0
    new_account = buyers.column("new_account") == 1
    lead = rng.uniform(600, 5 * SECONDS_PER_DAY, buyers.size).astype(np.int64)
    fresh = np.maximum(first_seen - lead, np.minimum(first_seen - 60, 0))
    old = -(30 * SECONDS_PER_DAY + rng.exponential(700 * SECONDS_PER_DAY, buyers.size)).astype(
        np.int64
    )
    old = np.maximum(old, -9 * 365 * SECONDS_PER_DAY)
    derived = np.where(new_account, fresh, old)
    registered = np.where(unknown, derived, registered)
    buyers.replace("registered", registered)


@dataclass(frozen=True)
class Fulfilment:
    """Per-order money, logistics and feedback derived from the orders."""

    subtotal: IntArray
    discount: IntArray
    amount_paid: IntArray
    refund: IntArray
    paid: IntArray
    shipped: IntArray
    received: IntArray
    reviewed: IntArray
    rating: IntArray
    carrier: IntArray
    waybill: IntArray
    status: IntArray


def fill_fulfilment(
    rng: np.random.Generator, market: Market, orders: OrderBatch, lines: Lines
) -> Fulfilment:
    """Payment delays, shipping, receipt 2-5 days later, reviews and refunds.

    Ring flags override the honest defaults: ``instant_pay`` pays in under ten
    seconds, ``empty_parcel`` is signed for about a day after shipping (空包),
    ``instant_review`` leaves five stars within hours of receipt.
    """
    size = orders.size
    subtotal = order_totals(orders, lines)
    discount = np.array([c[2] for c in COUPONS], dtype=np.int64)[orders.coupon]
    discount = np.minimum(discount, subtotal)
    amount_paid = subtotal - discount

    delay = np.exp(rng.normal(np.log(35.0), 0.9, size))
    delay = np.where(rng.random(size) < 0.05, rng.uniform(60, 1800, size), delay)
    delay = np.where(orders.instant_pay == 1, rng.uniform(1, 9.5, size), delay)
    paid = orders.created + np.maximum(delay, 1).astype(np.int64)
    shipped = paid + np.exp(rng.normal(np.log(18 * 3600), 0.6, size)).astype(np.int64)
    transit = rng.uniform(2 * SECONDS_PER_DAY, 5 * SECONDS_PER_DAY, size)
    transit = np.where(orders.empty_parcel == 1, rng.uniform(18 * 3600, 30 * 3600, size), transit)
    received = shipped + transit.astype(np.int64)

    first_line = np.searchsorted(lines.order, np.arange(size))
    shop = market.catalog.sku_shop[lines.sku[first_line]]
    shop_carrier = np.random.default_rng(7).choice(  # a shop's usual carrier: fixed per shop
        len(CARRIERS), size=len(market.catalog.shop_weight), p=CARRIER_SHARE
    )
    carrier = np.where(
        rng.random(size) < 0.7,
        shop_carrier[shop],
        rng.choice(len(CARRIERS), size=size, p=CARRIER_SHARE),
    )
    carrier = np.where(orders.carrier != UNSET, orders.carrier, carrier)
    width = np.array([c[2] for c in CARRIERS], dtype=np.int64)[carrier]
    waybill = (rng.random(size) * (10.0 ** np.minimum(width, 15))).astype(np.int64)
    waybill = np.where(orders.waybill != UNSET, orders.waybill, waybill)

    reviewing = (orders.instant_review == 1) | (rng.random(size) < market.config.review_share)
    review_lag = np.exp(rng.normal(np.log(3 * SECONDS_PER_DAY), 0.7, size))
    review_lag = np.where(orders.instant_review == 1, rng.uniform(600, 6 * 3600, size), review_lag)
    reviewed = received + review_lag.astype(np.int64)
    rating = rng.choice(5, size=size, p=RATING_SHARE) + 1
    rating = np.where(orders.instant_review == 1, 5, rating)

    refunding = (orders.no_refund == 0) & (rng.random(size) < market.config.refund_share)
    full = refunding & (rng.random(size) < 0.7)
    before_shipping = full & (rng.random(size) < 0.4)
    partial = refunding & ~full
    refund = np.where(full, amount_paid, 0)
    refund = np.where(partial, (amount_paid * rng.uniform(0.2, 0.5, size)).astype(np.int64), refund)

    shipped = np.where(before_shipping | (shipped >= EXPORT_AT), UNSET, shipped)
    received = np.where((shipped == UNSET) | (received >= EXPORT_AT), UNSET, received)
    keep_review = reviewing & (received != UNSET) & (reviewed < EXPORT_AT) & ~full
    reviewed = np.where(keep_review, reviewed, UNSET)
    rating = np.where(keep_review, rating, 0)
    waybill = np.where(shipped == UNSET, UNSET, waybill)
    status = np.where(received != UNSET, COMPLETED, np.where(shipped != UNSET, SHIPPED, PAID))
    status = np.where(full, REFUNDED, status)
    return Fulfilment(
        subtotal=subtotal,
        discount=discount,
        amount_paid=amount_paid,
        refund=refund.astype(np.int64),
        paid=paid,
        shipped=shipped,
        received=received,
        reviewed=reviewed,
        rating=rating.astype(np.int64),
        carrier=carrier.astype(np.int64),
        waybill=waybill.astype(np.int64),
        status=status.astype(np.int64),
    )
