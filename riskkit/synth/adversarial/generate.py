"""``generate_adversarial``: the adversarial world, in the standard ``SynthData`` shape."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from riskkit.errors import UsageError
from riskkit.synth.adversarial.bots import bot_days
from riskkit.synth.adversarial.brushing import brushing_rings
from riskkit.synth.adversarial.coupon_abuse import coupon_abuse_rings
from riskkit.synth.adversarial.frame import (
    assemble,
    drift_frame,
    festival_entry,
    groups_frame,
    labels_frame,
    tag_lookalikes,
)
from riskkit.synth.adversarial.honest import (
    LINE_COUNT_SHARE,
    HonestPopulation,
    honest_orders,
    honest_population,
)
from riskkit.synth.adversarial.logistics import first_orders, fulfil, order_shops
from riskkit.synth.adversarial.lookalikes import (
    LiveStream,
    bulk_buyers,
    gift_senders,
    live_stream_nights,
    plan_live_streams,
)
from riskkit.synth.adversarial.parts import AUTO, Part, concat_parts
from riskkit.synth.adversarial.people import UNKNOWN_REGISTRATION, Town, build_town
from riskkit.synth.adversarial.world import DAY, EXPORT_AT, FIRST_DAY, LAST_DAY, WORLD_START, stamp
from riskkit.synth.batch import Lines, sorted_by_time
from riskkit.synth.frame import order_numbers
from riskkit.synth.generate import MIN_ROWS, SynthData

__all__ = ["DEFAULT_ROWS", "generate_adversarial"]

IntArray = npt.NDArray[np.int64]

DEFAULT_ROWS = 200_000  # order lines: about 150,000 orders
MEAN_LINES = float((np.arange(1, 5) * LINE_COUNT_SHARE).sum())
PERIOD = f"{stamp(FIRST_DAY * DAY)[:10]} .. {stamp(LAST_DAY * DAY)[:10]}"
_STREAMS = 16


def _base_orders(
    rng: np.random.Generator, town: Town, population: HonestPopulation, line_budget: int
) -> tuple[Part, Lines]:
    """Everyday honest orders filling exactly ``line_budget`` lines."""
    draw = int(line_budget / MEAN_LINES * 1.1) + 50
    part, lines = honest_orders(rng, town, population, draw)
    counts = np.bincount(lines.order, minlength=part.size)
    running = np.cumsum(counts)
    taken = int(np.searchsorted(running, line_budget, side="right"))
    if taken == part.size:
        raise RuntimeError("honest order draw too small for the line budget")
    keep_lines = lines.order < taken
    lines = Lines(
        order=lines.order[keep_lines],
        sku=lines.sku[keep_lines],
        quantity=lines.quantity[keep_lines],
        unit_price=lines.unit_price[keep_lines],
        list_price=lines.list_price[keep_lines],
    )
    part = part.take(np.arange(taken))
    short = line_budget - lines.size
    if short:  # a few single-line orders get a second item of the same shop
        catalog = town.catalog
        singles = np.flatnonzero(np.bincount(lines.order, minlength=taken) == 1)[:short]
        at = np.searchsorted(lines.order, singles)
        sku = lines.sku[at]
        shop = catalog.sku_shop[sku]
        start = catalog.shop_sku_start[shop]
        extra = start + (sku - start + 1) % catalog.shop_sku_count[shop]
        order = np.concatenate([lines.order, singles])
        skus = np.concatenate([lines.sku, extra])
        quantity = np.concatenate([lines.quantity, np.ones(len(singles), dtype=np.int64)])
        perm = np.argsort(order, kind="stable")
        lines = Lines(
            order=order[perm],
            sku=skus[perm],
            quantity=quantity[perm],
            unit_price=catalog.sku_price[skus[perm]],
            list_price=catalog.sku_list_price[skus[perm]],
        )
    return part, lines


def _derive_registration(rng: np.random.Generator, town: Town, orders: Part) -> None:
    """Sign-up times left open: new accounts shortly before their first order, others years ago.

    Also the member tier: an account younger than two months is still ``normal``,
    whoever owns it.
    """
    accounts = town.accounts
    size = accounts.size
    first_seen = np.full(size, EXPORT_AT, dtype=np.int64)
    np.minimum.at(first_seen, orders.buyer, orders.created)
    unknown = accounts.column("registered") == UNKNOWN_REGISTRATION
    quick = rng.random(size) < 0.45  # signed up to buy this very thing
    lead = np.where(quick, rng.uniform(60, 1800, size), rng.uniform(1800, 5 * DAY, size))
    fresh = first_seen - lead.astype(np.int64)
    # Old accounts: 30 days to about eight and a half years before the world starts.
    age = 30 * DAY + rng.exponential(700 * DAY, size).astype(np.int64) % (3_100 * DAY)
    derived = np.where(accounts.column("new_account") == 1, fresh, WORLD_START - age)
    registered = np.where(unknown, derived, accounts.column("registered"))
    accounts.replace("registered", registered)
    young = registered > WORLD_START - 60 * DAY
    accounts.replace("tier", np.where(young, 0, accounts.column("tier")))


def _promotions(town: Town, streams: list[LiveStream]) -> list[dict[str, Any]]:
    catalog = town.catalog
    calendar = [festival_entry()]
    for stream in streams:
        calendar.append(
            {
                "name": f"live-stream {catalog.shop_ids[stream.shop]} {stamp(stream.start)[:10]}",
                "kind": "flash_sale",
                "start": stamp(stream.start),
                "end": stamp(stream.end),
                "shop_id": catalog.shop_ids[stream.shop],
                "sku_ids": [catalog.sku_ids[k] for k in stream.skus],
            }
        )
    return calendar


def generate_adversarial(rows: int, seed: int) -> SynthData:
    """The adversarial world with exactly ``rows`` order lines (about 0.75 orders per line).

    The same ``rows`` and ``seed`` always give identical data; ring sizes,
    signal mixes and camouflage change with the seed.
    """
    if rows < MIN_ROWS:
        raise UsageError(f"--rows must be at least {MIN_ROWS} (got {rows})")
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(_STREAMS)]
    expected = int(rows / MEAN_LINES)
    town = build_town(streams[0], expected)
    population = honest_population(streams[1], town, max(1_500, int(expected / 2.8)))
    lives = plan_live_streams(streams[2], town)
    brushing = max(4, round(expected / 6_000))
    coupon = max(3, round(expected / 12_000))
    parts, groups = brushing_rings(streams[3], town, brushing, 0)
    coupon_parts, coupon_groups = coupon_abuse_rings(streams[4], town, coupon, brushing)
    parts += coupon_parts
    parts += live_stream_nights(streams[5], town, population, lives, max(30, expected // 125))
    parts.append(gift_senders(streams[6], town, max(4, expected // 4_000)))
    parts.append(bulk_buyers(streams[7], town, max(3, expected // 6_000)))
    bot_parts, windows = bot_days(streams[8], town, population, expected)
    parts += bot_parts
    used = sum(lines.size for _, lines in parts)
    if used > rows * 0.6:
        raise UsageError(f"--rows {rows} is too small for the adversarial world; use more rows")
    parts.append(_base_orders(streams[9], town, population, rows - used))
    orders, lines = sorted_by_time(*concat_parts(parts))
    del parts
    _derive_registration(streams[10], town, orders)
    done = fulfil(streams[11], town, orders, lines)
    shop = order_shops(town, orders, lines)
    lookalike = tag_lookalikes(town, orders, done, shop, orders.seller_waybill != AUTO)
    numbers = order_numbers(streams[12], orders.size)
    frame, facts, addresses = assemble(streams[13], town, orders, lines, done, numbers)
    group_ids = [f"BR-{i + 1:04d}" for i in range(brushing)]
    group_ids += [f"CA-{i + 1:04d}" for i in range(coupon)]
    all_groups = [
        {"group_id": gid, **g} for gid, g in zip(group_ids, groups + coupon_groups, strict=True)
    ]
    catalog = town.catalog
    return SynthData(
        orders=frame,
        labels=labels_frame(facts["order_id"], orders, lookalike, group_ids),
        groups=groups_frame(all_groups),
        drift=drift_frame(town, windows),
        price=pd.DataFrame(columns=["sku_id", "attribute", "cohort", "reference_cohort", "kind"]),
        promotions=_promotions(town, lives),
        order_facts=facts,
        addresses=addresses,
        skus=pd.DataFrame(
            {
                "sku_id": list(catalog.sku_ids),
                "shop_id": [catalog.shop_ids[s] for s in catalog.sku_shop],
                "title": list(catalog.sku_titles),
            }
        ),
        shops=pd.DataFrame(
            {"shop_id": list(catalog.shop_ids), "shop_name": list(catalog.shop_names)}
        ),
        seed=seed,
        stats={
            "world": "adversarial",
            "period": PERIOD,
            "orders": orders.size,
            "lines": lines.size,
            "buyers": int(np.unique(orders.buyer).size),
            "first_orders": int(first_orders(orders.buyer, orders.created).sum()),
        },
    )
