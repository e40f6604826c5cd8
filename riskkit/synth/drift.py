"""Injected traffic drift: windows where the mix of honest traffic shifts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from riskkit.synth.batch import Lines, OrderBatch
from riskkit.synth.config import (
    AFFILIATE,
    ANDROID,
    HONEST,
    NO_LOOKALIKE,
    PERIOD_DAYS,
    SECONDS_PER_DAY,
)
from riskkit.synth.market import Market, honest_batch, make_lines, sample_line_counts
from riskkit.synth.promotions import QUIET_DAYS

__all__ = ["DriftPlan", "plan_drift"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

DRIFT_KINDS: tuple[tuple[str, str], ...] = (
    ("affiliate_hijack", "channel"),
    ("night_bots", "hour_of_day"),
    ("android_outage", "platform"),
    ("new_account_surge", "new_account_share"),
    ("basket_shift", "basket_value"),
)


@dataclass
class DriftPlan:
    """Drift windows; each knows whether it adds, removes or rewrites orders."""

    windows: list[dict[str, Any]] = field(default_factory=list)

    def _in_window(self, window: dict[str, Any], created: IntArray) -> BoolArray:
        return np.asarray((created >= window["start"]) & (created < window["end"]))

    def drop_mask(
        self, rng: np.random.Generator, created: IntArray, platform: IntArray
    ) -> BoolArray:
        """Orders that never happen because an app release broke checkout."""
        drop = np.zeros(len(created), dtype=bool)
        for window in self.windows:
            if window["kind"] == "android_outage":
                hit = self._in_window(window, created) & (platform == ANDROID)
                drop |= hit & (rng.random(len(created)) < 0.85)
        return drop

    def extra_orders(
        self, rng: np.random.Generator, market: Market, base_orders: int
    ) -> list[tuple[OrderBatch, Lines]]:
        """Bot orders at night and bursts of brand-new accounts."""
        parts: list[tuple[OrderBatch, Lines]] = []
        catalog = market.catalog
        for window in self.windows:
            shop = window["shop"]
            share = 1.0 if shop < 0 else float(catalog.shop_weight[shop])
            daily = base_orders / PERIOD_DAYS * share
            if window["kind"] == "night_bots":
                count = max(20, int(daily * 0.05 * 6))  # ~5% of a day is 00-05; six times that
                buyer = market.pick_honest_buyers(rng, count)
            elif window["kind"] == "new_account_surge":
                count = max(20, int(daily * 2))
                buyer = market.add_honest_buyers(rng, count, new_account_share=1.0)
            else:
                continue
            created = np.sort(
                window["start"] + rng.integers(0, window["end"] - window["start"], count)
            )
            platform = market.buyers.column("platform")[buyer]
            batch = honest_batch(rng, market, buyer, created.astype(np.int64), platform)
            batch.lookalike[:] = NO_LOOKALIKE
            counts = sample_line_counts(rng, count)
            first = None
            if shop >= 0:
                first = catalog.same_shop_skus(rng, np.full(count, shop, dtype=np.int64))
            parts.append((batch, make_lines(rng, catalog, counts, first)))
        return parts

    def rewrite(
        self, rng: np.random.Generator, market: Market, orders: OrderBatch, lines: Lines
    ) -> None:
        """Hijacked affiliate attribution and shifted basket sizes on honest orders."""
        first_line = np.searchsorted(lines.order, np.arange(orders.size))
        order_shop = market.catalog.sku_shop[lines.sku[first_line]]
        honest = orders.label == HONEST
        for window in self.windows:
            scope = self._in_window(window, orders.created) & honest
            if window["shop"] >= 0:
                scope &= order_shop == window["shop"]
            if window["kind"] == "affiliate_hijack":
                # An exact share, not a coin per order: small shops' days stay visible.
                candidates = np.flatnonzero(scope)
                taken = round(0.24 * len(candidates))
                orders.channel[rng.permutation(candidates)[:taken]] = AFFILIATE
            elif window["kind"] == "basket_shift":
                lines.quantity[scope[lines.order]] *= 3


def plan_drift(rng: np.random.Generator, market: Market) -> DriftPlan:
    """One window of each drift kind (repeating kinds beyond five), on ordinary days."""
    catalog = market.catalog
    days = [d for d in range(2, PERIOD_DAYS - 1) if d not in QUIET_DAYS]
    chosen = rng.choice(days, size=market.config.drift_windows, replace=False)
    plan = DriftPlan()
    # Shop-scoped windows hit big shops: a day of a small shop is too few orders to see.
    big_shops = np.argsort(-catalog.shop_weight, kind="stable")[:3]
    for i, day in enumerate(chosen):
        kind, feature = DRIFT_KINDS[i % len(DRIFT_KINDS)]
        start = int(day) * SECONDS_PER_DAY
        shop = int(rng.choice(big_shops))
        if kind == "affiliate_hijack":
            end = start + SECONDS_PER_DAY
            text = (
                "affiliate share of the shop's orders jumps from ~2% to ~25% (hijacked affiliate)"
            )
        elif kind == "night_bots":
            end = start + 5 * 3600
            shop = -1
            text = "orders between 00:00 and 05:00 jump about sixfold (bot traffic)"
        elif kind == "android_outage":
            start += int(rng.integers(8, 14)) * 3600
            end = start + int(rng.integers(4, 9)) * 3600
            shop = -1
            text = "android orders drop by ~85% (broken app release)"
        elif kind == "new_account_surge":
            end = start + SECONDS_PER_DAY
            text = "orders from accounts created the same day triple the shop's daily volume"
        else:
            end = start + SECONDS_PER_DAY
            text = "quantities per line triple: basket value shifts up"
        plan.windows.append(
            {
                "kind": kind,
                "feature": feature,
                "start": start,
                "end": end,
                "shop": shop,
                "description": text,
            }
        )
    return plan
