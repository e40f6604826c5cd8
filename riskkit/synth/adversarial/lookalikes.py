"""Honest buyers who behave like fraud for ordinary reasons.

- Live-stream newcomers: when the host drops a product link (上链接) hundreds
  of people sign up within minutes, redeem the new-customer coupon once on
  the streamed item and never come back.
- Gift senders: one account, one sitting, dozens of parcels of one gift box
  to dozens of different people, paid instantly with a saved card.
- Company bulk buyers: large quantities of one SKU for the office, or the same
  SKU in many small orders when the shop limits units per order (限购).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from riskkit.synth import geo
from riskkit.synth.adversarial.honest import HonestPopulation, order_identity, sample_platforms
from riskkit.synth.adversarial.parts import Part, lines_for
from riskkit.synth.adversarial.people import Town, phone_band
from riskkit.synth.adversarial.world import (
    DAY,
    DOUBLE11_DAY,
    FIRST_DAY,
    HOUR,
    LIVE_HOURS,
    LIVE_NIGHTS,
    LIVE_START_HOUR,
    LOOKALIKE_CODE,
    NEW_USER_COUPON,
    WORLD_DAYS,
)
from riskkit.synth.batch import Lines
from riskkit.synth.config import ANDROID, IOS, MINI, WEB

__all__ = ["LiveStream", "bulk_buyers", "gift_senders", "live_stream_nights", "plan_live_streams"]

IntArray = npt.NDArray[np.int64]

LIVE_CHANNEL = 2
LIVE_PRICES = np.array([5_990, 6_900, 7_900, 8_900, 9_900, 12_900])


@dataclass(frozen=True)
class LiveStream:
    """One live-stream night: the shop, its streamed SKUs and when links dropped."""

    night: int
    shop: int
    skus: IntArray
    link_drops: IntArray  # seconds

    @property
    def start(self) -> int:
        return self.night * DAY + LIVE_START_HOUR * HOUR

    @property
    def end(self) -> int:
        return self.start + LIVE_HOURS * HOUR


def plan_live_streams(rng: np.random.Generator, town: Town) -> list[LiveStream]:
    """A big shop per night streams 2-3 SKUs, priced above the new-customer threshold."""
    catalog = town.catalog
    big = np.argsort(-catalog.shop_weight, kind="stable")[:4]
    streams: list[LiveStream] = []
    for night in LIVE_NIGHTS:
        shop = int(rng.choice(big))
        start, count = int(catalog.shop_sku_start[shop]), int(catalog.shop_sku_count[shop])
        skus = rng.choice(np.arange(start, start + count), size=min(3, count), replace=False)
        catalog.sku_price[skus] = rng.choice(LIVE_PRICES, len(skus))
        catalog.sku_list_price[skus] = np.maximum(
            catalog.sku_list_price[skus], catalog.sku_price[skus] + 3_000
        )
        begin = night * DAY + LIVE_START_HOUR * HOUR
        drops = np.sort(begin + rng.integers(5 * 60, LIVE_HOURS * HOUR - 20 * 60, 6))
        streams.append(LiveStream(night, shop, np.sort(skus).astype(np.int64), drops))
    return streams


def live_stream_nights(
    rng: np.random.Generator,
    town: Town,
    population: HonestPopulation,
    streams: list[LiveStream],
    per_night: int,
) -> list[tuple[Part, Lines]]:
    """Newcomers registering in bursts after each link drop, plus regulars watching."""
    parts: list[tuple[Part, Lines]] = []
    catalog = town.catalog
    for stream in streams:
        drop = rng.integers(0, len(stream.link_drops), per_night)
        registered = stream.link_drops[drop] + rng.exponential(70.0, per_night).astype(np.int64)
        created = registered + rng.integers(25, 420, per_night)
        platform = rng.choice([IOS, ANDROID, MINI], size=per_night, p=[0.35, 0.5, 0.15])
        at_station = rng.random(per_night) < 0.2
        homes = town.addresses.add(town.addresses.sample(rng, per_night))
        address = np.where(at_station, town.stations(rng, per_night), homes)
        newcomers = town.people(
            rng,
            per_night,
            address,
            geo.sample_home_ips(rng, per_night),
            platform=platform,
            registered=registered,
            new_account=1,
        )
        device, ip = order_identity(rng, town, newcomers, platform)
        ip = np.where(rng.random(per_night) < 0.3, town.cgnat_ips[0], ip)  # one busy NAT egress
        part = Part.start(
            newcomers, created, platform, np.full(per_night, LIVE_CHANNEL), device, ip, address
        )
        part.coupon[:] = NEW_USER_COUPON
        part.pay_delay[:] = rng.integers(3, 40, per_night)
        part.lookalike[:] = LOOKALIKE_CODE["live_stream_newcomer"]
        sku = rng.choice(stream.skus, per_night)
        quantity = np.where(rng.random(per_night) < 0.85, 1, 2)
        order = np.arange(per_night)
        parts.append(
            (part, lines_for(sku, quantity, order, catalog.sku_price, catalog.sku_list_price))
        )
        # Regular buyers watch too: same links, same minutes, no coupon.
        regulars = population.pick(rng, per_night // 2)
        drop = rng.integers(0, len(stream.link_drops), len(regulars))
        created = stream.link_drops[drop] + rng.exponential(150.0, len(regulars)).astype(np.int64)
        platform = sample_platforms(rng, town, regulars)
        device, ip = order_identity(rng, town, regulars, platform)
        watchers = Part.start(
            regulars,
            created,
            platform,
            np.full(len(regulars), LIVE_CHANNEL),
            device,
            ip,
            town.accounts.column("address")[regulars],
        )
        sku = rng.choice(stream.skus, len(regulars))
        parts.append(
            (
                watchers,
                lines_for(
                    sku,
                    np.ones(len(regulars), dtype=np.int64),
                    np.arange(len(regulars)),
                    catalog.sku_price,
                    catalog.sku_list_price,
                ),
            )
        )
    return parts


def gift_senders(rng: np.random.Generator, town: Town, senders: int) -> tuple[Part, Lines]:
    """Each sender ships 5-40 parcels of one gift in one sitting to as many recipients."""
    catalog = town.catalog
    parcels = rng.integers(5, 41, senders)
    total = int(parcels.sum())
    sender = town.people(
        rng,
        senders,
        town.addresses.add(town.addresses.sample(rng, senders)),
        geo.sample_home_ips(rng, senders),
        registered=(-rng.uniform(200, 3000, senders) * DAY).astype(np.int64),
    )
    recipients = town.people(
        rng,
        total,
        town.addresses.add(town.addresses.sample(rng, total)),
        geo.sample_home_ips(rng, total),
    )
    # Gifts go out before the festival more than at other times.
    day = np.where(
        rng.random(senders) < 0.5,
        rng.integers(DOUBLE11_DAY - 8, DOUBLE11_DAY, senders),
        rng.integers(FIRST_DAY, FIRST_DAY + WORLD_DAYS, senders),
    )
    sitting = day * DAY + rng.integers(9 * HOUR, 23 * HOUR, senders)
    buyer = np.repeat(sender, parcels)
    created = np.repeat(sitting, parcels) + np.concatenate(
        [np.sort(rng.integers(0, int(rng.integers(600, 5400)), n)) for n in parcels]
    )
    platform = np.repeat(rng.choice([IOS, ANDROID, WEB], size=senders, p=[0.4, 0.3, 0.3]), parcels)
    device = town.accounts.column("device")[buyer] + platform
    ip = town.accounts.column("home_ip")[buyer]
    part = Part.start(
        buyer,
        created,
        platform,
        np.full(total, 4),
        device,
        ip,
        town.accounts.column("address")[recipients],
    )
    part.recipient = recipients
    part.pay_delay[:] = rng.integers(2, 9, total)  # saved card, password-free payment
    part.coupon[:] = 0
    part.lookalike[:] = LOOKALIKE_CODE["gift_sender"]
    gift = np.repeat(catalog.popular_skus(rng, senders), parcels)
    quantity = np.where(rng.random(total) < 0.9, 1, 2)
    lines = lines_for(gift, quantity, np.arange(total), catalog.sku_price, catalog.sku_list_price)
    return part, lines


def bulk_buyers(rng: np.random.Generator, town: Town, companies: int) -> tuple[Part, Lines]:
    """Company accounts: big quantities of one SKU, or many small orders under 限购."""
    catalog = town.catalog
    company = town.people(
        rng,
        companies,
        town.addresses.add(town.addresses.sample(rng, companies)),
        geo.sample_home_ips(rng, companies),
        platform=np.full(companies, WEB),
        phone=np.concatenate([phone_band(rng, 1, False, 5) for _ in range(companies)]),
        registered=(-rng.uniform(100, 2500, companies) * DAY).astype(np.int64),
    )
    split = rng.random(companies) < 0.5
    purchases = rng.integers(1, 4, companies)
    orders_each = np.where(split, purchases * rng.integers(4, 11, companies), purchases)
    buyer = np.repeat(company, orders_each)
    total = len(buyer)
    # Working hours of working days; a split purchase is placed within minutes.
    day = FIRST_DAY + rng.integers(0, WORLD_DAYS, total)
    day = np.where(day % 7 == 5, day - 1, np.where(day % 7 == 6, day + 1, day))  # no weekends
    created = day * DAY + rng.integers(9 * HOUR, 18 * HOUR, total)
    repeat = np.repeat(split, orders_each)
    session = np.repeat(created[np.cumsum(orders_each) - orders_each], orders_each)
    created = np.where(repeat, session + rng.integers(20, 900, total), created)
    device, ip = order_identity(rng, town, buyer, np.full(total, WEB))
    part = Part.start(
        buyer,
        created,
        np.full(total, WEB),
        np.full(total, 0),
        device,
        ip,
        town.accounts.column("address")[buyer],
    )
    part.pay_delay[:] = rng.integers(60, 4 * HOUR, total)  # someone approves the purchase
    part.lookalike[:] = LOOKALIKE_CODE["bulk_buyer"]
    sku = np.repeat(catalog.popular_skus(rng, companies), orders_each)
    quantity = np.where(repeat, rng.integers(3, 6, total), rng.integers(20, 301, total))
    lines = lines_for(sku, quantity, np.arange(total), catalog.sku_price, catalog.sku_list_price)
    return part, lines
