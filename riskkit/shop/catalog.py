"""The seed catalog and the built-in coupons of the reference shop (pure data and rules)."""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = [
    "COUPONS",
    "HOT_SKU",
    "Coupon",
    "SeedProduct",
    "coupon_error",
    "seed_catalog",
]

HOT_SKU = "HOT-001"
_ADJECTIVES = ("Classic", "Deluxe", "Portable", "Organic", "Smart", "Mini", "Pro", "Family")
_NOUNS = (
    "Tea Set",
    "Rice Cooker",
    "Phone Case",
    "Backpack",
    "Face Cream",
    "Headphones",
    "Snack Box",
    "Desk Lamp",
    "Water Bottle",
    "Sneakers",
    "Power Bank",
    "Umbrella",
)


@dataclass(frozen=True)
class SeedProduct:
    """One product of the seed catalog (price in fen, 1/100 yuan)."""

    sku_id: str
    title: str
    price_cents: int
    stock: int


def seed_catalog(size: int = 200, hot_stock: int = 100, seed: int = 11) -> list[SeedProduct]:
    """``size`` products priced ¥9.90-¥999.00, the first being the flash-sale SKU ``HOT-001``.

    Deterministic for a given seed, so two shops seeded alike sell the same catalog.
    """
    if size < 1:
        raise ValueError("the catalog needs at least the hot SKU")
    rng = random.Random(seed)
    products = [SeedProduct(HOT_SKU, "Flash Sale Phone 双11 Edition", 99_900, hot_stock)]
    for number in range(1, size):
        # Log-uniform prices: most goods are cheap, a few are expensive, like a real catalog.
        price = round(10 ** rng.uniform(0.9956, 2.9996), 1)
        price_cents = min(max(round(price * 100), 990), 99_900)
        title = f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)} #{number}"
        products.append(
            SeedProduct(f"SKU-{number:05d}", title, price_cents, rng.randint(500, 5000))
        )
    return products


@dataclass(frozen=True)
class Coupon:
    """A built-in coupon: ``discount_cents`` off orders of at least ``threshold_cents``.

    ``new_user_only`` coupons are for accounts without orders and can be redeemed once
    per account.
    """

    code: str
    threshold_cents: int
    discount_cents: int
    new_user_only: bool = False


COUPONS: dict[str, Coupon] = {
    coupon.code: coupon
    for coupon in (
        Coupon("NEW30", 9_900, 3_000, new_user_only=True),
        Coupon("FULL200-20", 20_000, 2_000),
        Coupon("FULL300-50", 30_000, 5_000),
    )
}


def coupon_error(
    code: str, subtotal_cents: int, *, already_redeemed: bool, has_orders: bool
) -> str | None:
    """The contract's 422 error code for applying ``code``, or ``None`` when it applies.

    Checks run in the order a customer would want to hear them: the code must exist, the
    account must be allowed to use it, then the cart must reach the threshold.
    """
    coupon = COUPONS.get(code)
    if coupon is None:
        return "unknown_coupon"
    if coupon.new_user_only:
        if already_redeemed:
            return "already_used"
        if has_orders:
            return "not_eligible"
    if subtotal_cents < coupon.threshold_cents:
        return "threshold_not_met"
    return None
