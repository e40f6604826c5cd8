"""Honest patterns that look suspicious: 双11 rush, loyal buyers, flash sales; and price discrimination."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from riskkit.synth.batch import Lines, OrderBatch
from riskkit.synth.config import (
    COUPON_ABUSE,
    DOUBLE11_DAY,
    DOUBLE11_END,
    DOUBLE11_RUSH,
    DOUBLE11_START,
    FLASH_SALE,
    GOLD,
    IOS,
    LOYAL_REPEAT,
    PERIOD_DAYS,
    PLATFORMS,
    SECONDS_PER_DAY,
    TIERS,
)
from riskkit.synth.market import (
    HOUR_PROFILE,
    Market,
    day_weights,
    honest_batch,
    make_lines,
    sample_line_counts,
    sample_platforms,
)

__all__ = [
    "COHORTS",
    "QUIET_DAYS",
    "PriceEffects",
    "double11_rush",
    "loyal_repeat_orders",
    "plan_price_effects",
]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

FLASH_START_HOUR = 20
FLASH_MINUTES = 30
DOUBLE11_DISCOUNT = 0.1
QUIET_DAYS = range(DOUBLE11_DAY - 2, DOUBLE11_DAY + 2)  # no flash sale/drift near 双11


def double11_rush(
    rng: np.random.Generator, market: Market, base_orders: int
) -> tuple[OrderBatch, Lines]:
    """2026-11-11 00:00-02:00: every shop, ten to twenty times an ordinary night, many new accounts."""
    night_share = float(np.mean([HOUR_PROFILE[p][0:2].sum() for p in HOUR_PROFILE]))
    ordinary = base_orders * day_weights()[DOUBLE11_DAY] * night_share
    count = max(50, int(ordinary * market.config.double11_multiplier))
    newcomers = market.add_honest_buyers(rng, max(10, count // 4), new_account_share=1.0)
    buyer = np.where(
        rng.random(count) < 0.3,
        newcomers[rng.integers(0, len(newcomers), count)],
        market.pick_honest_buyers(rng, count),
    )
    created = DOUBLE11_DAY * SECONDS_PER_DAY + np.sort(rng.integers(0, 2 * 3600, count))
    created = np.sort(created)
    platform = sample_platforms(rng, market, buyer)
    batch = honest_batch(
        rng, market, buyer, created, platform, np.full(count, DOUBLE11_RUSH, dtype=np.int64)
    )
    counts = np.minimum(sample_line_counts(rng, count) + (rng.random(count) < 0.3), 4)
    return batch, make_lines(rng, market.catalog, counts)


def loyal_repeat_orders(rng: np.random.Generator, market: Market) -> tuple[OrderBatch, Lines]:
    """Loyal buyers: the same SKU every week, around the same weekday and hour."""
    loyal = max(5, int(len(market.honest_buyers) * market.config.loyal_buyer_share))
    buyers = rng.choice(market.honest_buyers, size=loyal, replace=False)
    skus = market.catalog.popular_skus(rng, loyal)
    weekday = rng.integers(0, 7, loyal)
    hour = rng.integers(8, 23, loyal)
    weeks = PERIOD_DAYS // 7
    buyer = np.repeat(buyers, weeks)
    week = np.tile(np.arange(weeks), loyal)
    keep = rng.random(len(buyer)) < 0.9
    day = np.clip(week * 7 + np.repeat(weekday, weeks) + rng.integers(-1, 2, len(buyer)), 0, 55)
    created = (
        day * SECONDS_PER_DAY + np.repeat(hour, weeks) * 3600 + rng.integers(0, 3600, len(buyer))
    )
    buyer, created, sku = buyer[keep], created[keep], np.repeat(skus, weeks)[keep]
    platform = market.buyers.column("platform")[buyer]
    tag = np.full(len(buyer), LOYAL_REPEAT, dtype=np.int64)
    batch = honest_batch(rng, market, buyer, created.astype(np.int64), platform, tag)
    lines = make_lines(rng, market.catalog, np.ones(len(buyer), dtype=np.int64), sku)
    return batch, lines


@dataclass
class PriceEffects:
    """Flash sales and discriminated SKUs, planned before orders exist."""

    flash_sales: list[dict[str, Any]] = field(default_factory=list)
    discriminated: list[dict[str, Any]] = field(default_factory=list)

    def flash_extra_orders(
        self, rng: np.random.Generator, market: Market, per_sale: int
    ) -> tuple[OrderBatch, Lines]:
        """Extra buyers a flash sale attracts, with the platform mix of 20:00."""
        catalog = market.catalog
        evening = np.array([HOUR_PROFILE[p][FLASH_START_HOUR] for p in range(len(PLATFORMS))])
        mix = evening * np.array([0.3, 0.45, 0.1, 0.15])
        sale_sku = np.repeat([s["sku"] for s in self.flash_sales], per_sale)
        start = np.repeat([s["start"] for s in self.flash_sales], per_sale)
        count = len(sale_sku)
        buyer = market.pick_honest_buyers(rng, count)
        platform = rng.choice(len(PLATFORMS), size=count, p=mix / mix.sum())
        created = start + rng.integers(0, FLASH_MINUTES * 60, count)
        tag = np.full(count, FLASH_SALE, dtype=np.int64)
        batch = honest_batch(rng, market, buyer, created.astype(np.int64), platform, tag)
        return batch, make_lines(rng, catalog, np.ones(count, dtype=np.int64), sale_sku)

    def apply(self, orders: OrderBatch, lines: Lines, market: Market, first: BoolArray) -> None:
        """Change pre-coupon unit prices: 双11, flash sales, then discrimination.

        Coupon-abuse orders keep their prices: the ring picked SKUs whose price
        just clears the NEW30 threshold at the moment it ordered.
        """
        created = np.where(orders.label == COUPON_ABUSE, -1, orders.created)[lines.order]
        in_double11 = (created >= DOUBLE11_START) & (created < DOUBLE11_END)
        price = lines.unit_price.astype(np.float64)
        price = np.where(in_double11, price * (1 - DOUBLE11_DISCOUNT), price)
        for sale in self.flash_sales:
            hit = (lines.sku == sale["sku"]) & (created >= sale["start"]) & (created < sale["end"])
            price = np.where(hit, price * (1 - sale["discount"]), price)
            orders.lookalike[np.unique(lines.order[hit])] = FLASH_SALE
        tier = market.buyers.column("tier")[orders.buyer]
        for rule in self.discriminated:
            in_range = (created >= rule["start"]) & (created < rule["end"])
            cohort = _cohort(rule["attribute"], orders, tier, first)[lines.order]
            hit = (lines.sku == rule["sku"]) & in_range & cohort
            price = np.where(hit, price * (1 + rule["markup"]), price)
        lines.unit_price = (np.round(price / 10) * 10).astype(np.int64)
        lines.list_price = np.maximum(lines.list_price, lines.unit_price)


def _cohort(attribute: str, orders: OrderBatch, tier: IntArray, first: BoolArray) -> BoolArray:
    if attribute == "platform":
        return np.asarray(orders.platform == IOS)
    if attribute == "member_tier":
        return np.asarray(tier == GOLD)
    return ~first  # new_vs_returning: returning buyers (an earlier order exists)


# (cohort, reference): the discriminated cohort pays more than every other value
# ("others"); new_vs_returning is binary. Names follow the price detector's.
COHORTS: dict[str, tuple[str, str]] = {
    "platform": (PLATFORMS[IOS], "others"),
    "member_tier": (TIERS[GOLD], "others"),
    "new_vs_returning": ("returning", "new"),
}


def plan_price_effects(rng: np.random.Generator, market: Market) -> PriceEffects:
    """Pick flash-sale SKUs/days and discriminated SKUs among popular SKUs."""
    cfg = market.config
    catalog = market.catalog
    by_popularity = np.argsort(-catalog.sku_weight, kind="stable")
    # Popular SKUs: enough orders per day to compare cohorts even in small datasets.
    candidates = by_popularity[: 2 * (cfg.flash_sale_skus + cfg.discriminated_skus)]
    chosen = rng.choice(
        candidates, size=cfg.flash_sale_skus + cfg.discriminated_skus, replace=False
    )
    effects = PriceEffects()
    allowed_days = np.array([d for d in range(PERIOD_DAYS) if d not in QUIET_DAYS])
    for sku in chosen[: cfg.flash_sale_skus]:
        days = np.sort(rng.choice(allowed_days, size=int(rng.integers(6, 11)), replace=False))
        discount = float(np.round(rng.uniform(0.2, 0.35), 2))
        for day in days:
            start = int(day) * SECONDS_PER_DAY + FLASH_START_HOUR * 3600
            effects.flash_sales.append(
                {
                    "sku": int(sku),
                    "shop": int(catalog.sku_shop[sku]),
                    "start": start,
                    "end": start + FLASH_MINUTES * 60,
                    "discount": discount,
                }
            )
    attributes = list(COHORTS)
    for i, sku in enumerate(chosen[cfg.flash_sale_skus :]):
        first_day = int(rng.integers(0, 14))
        effects.discriminated.append(
            {
                "sku": int(sku),
                "attribute": attributes[i % len(attributes)],
                "markup": float(np.round(rng.uniform(0.03, 0.15), 3)),
                "start": first_day * SECONDS_PER_DAY,
                "end": min(PERIOD_DAYS, first_day + int(rng.integers(21, 42))) * SECONDS_PER_DAY,
            }
        )
    return effects
