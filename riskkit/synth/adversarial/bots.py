"""Bot-traffic days: honest orders whose mix shifts because software drives them.

Two days of the world, recorded in ``labels_drift.csv`` like the standard
generator's drift windows (the orders themselves are honest):

- ``snapup_scripts``: 抢购 scripts and 代拍 helpers place restock orders between
  01:00 and 05:00, for every shop, mostly from the web client, paying at once.
- ``rebate_bots``: WeChat 返利 (cash-back) bots post one big shop's links all
  day; real buyers click them, so the shop's affiliate share jumps.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from riskkit.synth.adversarial.honest import HonestPopulation, order_identity, sample_platforms
from riskkit.synth.adversarial.parts import Part
from riskkit.synth.adversarial.people import Town
from riskkit.synth.adversarial.world import (
    DAY,
    DOUBLE11_DAY,
    FIRST_DAY,
    HOUR,
    LIVE_NIGHTS,
    WORLD_DAYS,
    day_weights,
    hour_profile,
)
from riskkit.synth.batch import Lines
from riskkit.synth.config import WEB
from riskkit.synth.market import make_lines

__all__ = ["bot_days"]

IntArray = npt.NDArray[np.int64]
AFFILIATE_CHANNEL = 3
DIRECT_CHANNEL = 4


def _ordinary_days(rng: np.random.Generator) -> IntArray:
    busy = set(LIVE_NIGHTS) | set(range(DOUBLE11_DAY - 1, DOUBLE11_DAY + 4))
    days = [d for d in range(FIRST_DAY + 1, FIRST_DAY + WORLD_DAYS) if d not in busy]
    return np.asarray(rng.choice(days, size=2, replace=False), dtype=np.int64)


def bot_days(
    rng: np.random.Generator, town: Town, population: HonestPopulation, base_orders: int
) -> tuple[list[tuple[Part, Lines]], list[dict[str, Any]]]:
    """The two bot days' extra orders and their drift windows (scope -1 = all shops)."""
    script_day, rebate_day = (int(d) for d in _ordinary_days(rng))
    catalog = town.catalog
    daily = base_orders * float(day_weights().mean())
    parts: list[tuple[Part, Lines]] = []

    night_share = float(hour_profile()[1:5].sum())
    count = max(30, int(daily * night_share * rng.uniform(4.0, 6.0)))
    buyer = population.pick(rng, count)
    start = script_day * DAY + 1 * HOUR
    created = np.sort(start + rng.integers(0, 4 * HOUR, count))
    platform = np.where(rng.random(count) < 0.6, WEB, sample_platforms(rng, town, buyer))
    device, ip = order_identity(rng, town, buyer, platform)
    part = Part.start(
        buyer,
        created,
        platform,
        np.full(count, DIRECT_CHANNEL),
        device,
        ip,
        town.accounts.column("address")[buyer],
    )
    part.pay_delay[:] = rng.integers(1, 4, count)
    restocked = np.argsort(-catalog.sku_weight, kind="stable")[:8]
    parts.append(
        (
            part,
            make_lines(rng, catalog, np.ones(count, dtype=np.int64), rng.choice(restocked, count)),
        )
    )
    windows: list[dict[str, Any]] = [
        {
            "start": start,
            "end": start + 4 * HOUR,
            "shop": -1,
            "feature": "hour_of_day",
            "kind": "snapup_scripts",
            "description": "orders between 01:00 and 05:00 jump four- to sixfold, mostly web, "
            "paid within seconds (抢购 scripts on restocks)",
        }
    ]

    big = np.argsort(-catalog.shop_weight, kind="stable")[:3]
    shop = int(rng.choice(big))
    shop_daily = daily * float(catalog.shop_weight[shop])
    count = max(30, int(shop_daily * rng.uniform(0.6, 1.0)))
    buyer = population.pick(rng, count)
    created = np.sort(
        rebate_day * DAY
        + rng.choice(24, size=count, p=hour_profile()) * HOUR
        + rng.integers(0, HOUR, count)
    )
    platform = sample_platforms(rng, town, buyer)
    device, ip = order_identity(rng, town, buyer, platform)
    part = Part.start(
        buyer,
        created,
        platform,
        np.full(count, AFFILIATE_CHANNEL),
        device,
        ip,
        town.accounts.column("address")[buyer],
    )
    first = catalog.same_shop_skus(rng, np.full(count, shop, dtype=np.int64))
    counts = np.where(rng.random(count) < 0.85, 1, 2).astype(np.int64)
    parts.append((part, make_lines(rng, catalog, counts, first)))
    windows.append(
        {
            "start": rebate_day * DAY,
            "end": (rebate_day + 1) * DAY,
            "shop": shop,
            "feature": "channel",
            "kind": "rebate_bots",
            "description": "the shop's affiliate share jumps from ~3% to ~40% for a day "
            "(返利 bots posting its links)",
        }
    )
    return parts, windows
