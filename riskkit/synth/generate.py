"""``generate``: a seeded synthetic marketplace with labelled fraud, drift and look-alikes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from riskkit.errors import UsageError
from riskkit.synth.batch import Lines, OrderBatch, concat_batches, sorted_by_time
from riskkit.synth.behaviour import (
    assign_coupons,
    assign_registration,
    fill_fulfilment,
    first_order_mask,
    order_totals,
)
from riskkit.synth.config import (
    DOUBLE11_END,
    DOUBLE11_START,
    LABELS,
    LOOKALIKES,
    PERIOD_START,
    SynthConfig,
)
from riskkit.synth.drift import DriftPlan, plan_drift
from riskkit.synth.frame import assemble, order_numbers
from riskkit.synth.fraud import GroupRegistry, brushing_rings, coupon_abuse_rings
from riskkit.synth.market import (
    MEAN_LINES,
    Market,
    build_market,
    honest_batch,
    make_lines,
    sample_line_counts,
    sample_platforms,
    sample_times,
)
from riskkit.synth.promotions import (
    COHORTS,
    PriceEffects,
    double11_rush,
    loyal_repeat_orders,
    plan_price_effects,
)

__all__ = ["MIN_ROWS", "SynthData", "generate"]

IntArray = npt.NDArray[np.int64]

MIN_ROWS = 2_000
_STREAMS = 16


@dataclass(frozen=True)
class SynthData:
    """A generated marketplace and its ground truth.

    Attributes
    ----------
    orders
        Canonical order lines (``riskkit.orders.schema``), sorted by
        ``created_at``; order-level money on each order's first line.
    labels
        One row per order: ``order_id, label, group_id, lookalike``.
    groups
        One row per injected ring: ``group_id, kind, shop_id, sku_ids,
        window_start, window_end, accounts, signals``.
    drift
        Injected drift windows: ``window_start, window_end, scope, feature,
        description``.
    price
        ``sku_id, attribute, cohort, reference_cohort, kind``.
    promotions
        The promotions calendar (双11 and every flash sale).
    order_facts
        Order-level facts the platform exports need (ship time, subtotal,
        ``address_code`` into ``addresses``).
    addresses
        Parts of every distinct shipping address (province, city, district,
        line after the city, zip...).
    skus
        ``sku_id, shop_id, title``; ``shops``: ``shop_id, shop_name``.
    """

    orders: pd.DataFrame
    labels: pd.DataFrame
    groups: pd.DataFrame
    drift: pd.DataFrame
    price: pd.DataFrame
    promotions: list[dict[str, Any]]
    order_facts: pd.DataFrame
    addresses: pd.DataFrame
    skus: pd.DataFrame
    shops: pd.DataFrame
    seed: int = 0
    stats: dict[str, Any] = field(default_factory=dict)


def _stamp(seconds: int) -> str:
    return str(PERIOD_START + np.timedelta64(int(seconds), "s")).replace("T", " ")


def _base_orders(
    rng: np.random.Generator, market: Market, line_budget: int, drift: DriftPlan
) -> tuple[OrderBatch, Lines]:
    """Ordinary honest orders filling exactly ``line_budget`` lines."""
    size = int(line_budget / MEAN_LINES * 1.15) + 100
    buyer = market.pick_honest_buyers(rng, size)
    platform = sample_platforms(rng, market, buyer)
    created = sample_times(rng, platform)
    counts = sample_line_counts(rng, size)
    keep = ~drift.drop_mask(rng, created, platform)
    buyer, platform, created, counts = buyer[keep], platform[keep], created[keep], counts[keep]
    running = np.cumsum(counts)
    taken = int(np.searchsorted(running, line_budget, side="right"))
    if taken == len(counts):
        raise RuntimeError("base order draw too small for the line budget")
    counts = counts[:taken].copy()
    short = line_budget - int(counts.sum())
    if short:  # top up a few single-line orders so the total is exact
        singles = np.flatnonzero(counts == 1)[:short]
        counts[singles] += 1
    buyer, platform, created = buyer[:taken], platform[:taken], created[:taken]
    batch = honest_batch(rng, market, buyer, created, platform)
    return batch, make_lines(rng, market.catalog, counts)


def generate(rows: int, seed: int, config: SynthConfig | None = None) -> SynthData:
    """Generate ``rows`` order lines of a seeded synthetic marketplace.

    The same ``rows``, ``seed`` and ``config`` always give identical data.
    """
    if rows < MIN_ROWS:
        raise UsageError(f"--rows must be at least {MIN_ROWS} (got {rows})")
    cfg = config or SynthConfig()
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(_STREAMS)]
    expected_orders = int(rows / MEAN_LINES)
    market = build_market(streams[0], cfg, expected_orders)
    effects = plan_price_effects(streams[1], market)
    drift = plan_drift(streams[2], market)
    registry = GroupRegistry()
    brushing = max(cfg.min_groups, round(expected_orders * cfg.brushing_order_share / 125))
    coupon = max(cfg.min_groups, round(expected_orders * cfg.coupon_abuse_order_share / 44))
    parts = brushing_rings(streams[3], market, registry, brushing)
    parts += coupon_abuse_rings(streams[4], market, registry, coupon)
    parts.append(double11_rush(streams[5], market, expected_orders))
    parts.append(loyal_repeat_orders(streams[6], market))
    per_sale = max(4, expected_orders // 4000)
    parts.append(effects.flash_extra_orders(streams[7], market, per_sale))
    parts += drift.extra_orders(streams[8], market, expected_orders)
    used = sum(lines.size for _, lines in parts)
    if used > rows * 0.6:
        raise UsageError(f"--rows {rows} is too small for the injected patterns; use more rows")
    parts.append(_base_orders(streams[9], market, rows - used, drift))
    orders, lines = sorted_by_time(*concat_batches(parts))
    del parts
    first = first_order_mask(orders)
    drift.rewrite(streams[10], market, orders, lines)
    effects.apply(orders, lines, market, first)
    assign_coupons(streams[11], market, orders, order_totals(orders, lines))
    assign_registration(streams[12], market, orders)
    done = fill_fulfilment(streams[13], market, orders, lines)
    numbers = order_numbers(streams[14], orders.size)
    assembled = assemble(market, orders, lines, done, numbers)
    return SynthData(
        orders=assembled.frame,
        labels=_labels(assembled.order_facts["order_id"], orders, registry),
        groups=_groups(registry),
        drift=_drift_frame(market, drift),
        price=_price_frame(market, effects),
        promotions=_promotions(market, effects),
        order_facts=assembled.order_facts,
        addresses=assembled.addresses,
        skus=pd.DataFrame(
            {
                "sku_id": list(market.catalog.sku_ids),
                "shop_id": [market.catalog.shop_ids[s] for s in market.catalog.sku_shop],
                "title": list(market.catalog.sku_titles),
            }
        ),
        shops=pd.DataFrame(
            {"shop_id": list(market.catalog.shop_ids), "shop_name": list(market.catalog.shop_names)}
        ),
        seed=seed,
        stats={
            "orders": orders.size,
            "lines": lines.size,
            "buyers": int(np.unique(orders.buyer).size),
        },
    )


def _labels(order_id: pd.Series, orders: OrderBatch, registry: GroupRegistry) -> pd.DataFrame:
    group_ids = np.array([g["group_id"] for g in registry.groups] + [""], dtype=object)
    return pd.DataFrame(
        {
            "order_id": order_id,
            "label": pd.Series(np.array(LABELS, dtype=object)[orders.label], dtype="str"),
            "group_id": pd.Series(group_ids[orders.group], dtype="str"),
            "lookalike": pd.Series(
                np.array(LOOKALIKES, dtype=object)[orders.lookalike], dtype="str"
            ),
        }
    )


def _groups(registry: GroupRegistry) -> pd.DataFrame:
    rows = [
        {
            **group,
            "window_start": _stamp(group["window_start"]),
            "window_end": _stamp(group["window_end"]),
            "sku_ids": " ".join(group["sku_ids"]),
            "signals": " ".join(group["signals"]),
        }
        for group in registry.groups
    ]
    return pd.DataFrame(rows)


def _drift_frame(market: Market, drift: DriftPlan) -> pd.DataFrame:
    shop_ids = market.catalog.shop_ids
    return pd.DataFrame(
        [
            {
                "window_start": _stamp(w["start"]),
                "window_end": _stamp(w["end"]),
                "scope": "all" if w["shop"] < 0 else shop_ids[w["shop"]],
                "feature": w["feature"],
                "description": f"{w['kind']}: {w['description']}",
            }
            for w in drift.windows
        ],
        columns=["window_start", "window_end", "scope", "feature", "description"],
    )


def _price_frame(market: Market, effects: PriceEffects) -> pd.DataFrame:
    sku_ids = market.catalog.sku_ids
    rows = [
        {
            "sku_id": sku_ids[rule["sku"]],
            "attribute": rule["attribute"],
            "cohort": COHORTS[rule["attribute"]][0],
            "reference_cohort": COHORTS[rule["attribute"]][1],
            "kind": "discriminated",
        }
        for rule in effects.discriminated
    ]
    # Evening flash sales + iOS evening shopping: a naive average makes android look overcharged.
    for sku in sorted({sale["sku"] for sale in effects.flash_sales}):
        rows.append(
            {
                "sku_id": sku_ids[sku],
                "attribute": "platform",
                "cohort": "android",
                "reference_cohort": "ios",
                "kind": "flash_sale_trap",
            }
        )
    return pd.DataFrame(rows, columns=["sku_id", "attribute", "cohort", "reference_cohort", "kind"])


def _promotions(market: Market, effects: PriceEffects) -> list[dict[str, Any]]:
    catalog = market.catalog
    calendar: list[dict[str, Any]] = [
        {
            "name": "双11",
            "kind": "festival",
            "start": _stamp(DOUBLE11_START),
            "end": _stamp(DOUBLE11_END),
        }
    ]
    for sale in effects.flash_sales:
        calendar.append(
            {
                "name": f"flash-sale {catalog.sku_ids[sale['sku']]} {_stamp(sale['start'])[:10]}",
                "kind": "flash_sale",
                "start": _stamp(sale["start"]),
                "end": _stamp(sale["end"]),
                "shop_id": catalog.shop_ids[sale["shop"]],
                "sku_ids": [catalog.sku_ids[sale["sku"]]],
            }
        )
    return calendar
