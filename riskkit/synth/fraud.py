"""Injected fraud: brushing rings (刷单) and coupon-abuse rings (薅羊毛)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from riskkit.synth import geo
from riskkit.synth.batch import Lines, OrderBatch
from riskkit.synth.config import (
    AFFILIATE,
    ANDROID,
    BRUSHING,
    CARRIER_SHARE,
    COUPON_ABUSE,
    EXPORT_AT,
    IOS,
    MINI,
    NEW30_CODE,
    SECONDS_PER_DAY,
)
from riskkit.synth.market import Market, make_lines, sample_channels
from riskkit.synth.population import ADDRESS_FIELDS

__all__ = ["GroupRegistry", "brushing_rings", "coupon_abuse_rings"]

IntArray = npt.NDArray[np.int64]

BRUSHING_SIGNALS: dict[str, float] = {
    "shared_device": 0.6,
    "shared_ip": 0.55,
    "shared_address": 0.65,
    "virtual_phone": 0.5,
    "young_accounts": 0.6,
    "instant_payment": 0.7,
    "empty_parcel": 0.6,
    "instant_review": 0.7,
    "sequential_waybill": 0.55,
}
COUPON_LINKS: tuple[str, ...] = ("shared_device", "sequential_phone", "same_address", "ip_24")


@dataclass
class GroupRegistry:
    """Ground truth of injected rings, indexed by the ``group`` code of orders."""

    groups: list[dict[str, Any]] = field(default_factory=list)

    def add(self, prefix: str, **facts: Any) -> int:
        code = len(self.groups)
        count = sum(1 for g in self.groups if g["kind"] == facts["kind"])
        self.groups.append({"group_id": f"{prefix}-{count + 1:04d}", **facts})
        return code


def _variants(
    rng: np.random.Generator,
    base: dict[str, IntArray],
    pick: IntArray,
    vary_room: bool,
    drop_points: bool,
) -> dict[str, IntArray]:
    """The same place written differently: 号楼/栋/幢, spaces, province omitted, rooms, drop points."""
    size = len(pick)
    out = {name: base[name][pick].copy() for name in ADDRESS_FIELDS}
    out["building_word"] = rng.integers(0, 3, size)
    out["show_province"] = (rng.random(size) < 0.5).astype(np.int64)
    out["spaced"] = (rng.random(size) < 0.4).astype(np.int64)
    if vary_room:
        out["room"] = out["room"] + rng.integers(-2, 3, size) * np.where(
            rng.random(size) < 0.5, 1, 100
        )
    if drop_points:
        out["drop_kind"] = rng.choice(3, size=size, p=[0.5, 0.3, 0.2]).astype(np.int64)
    return out


def _ring_signals(rng: np.random.Generator, fewest: int) -> dict[str, bool]:
    while True:
        signals = {name: bool(rng.random() < p) for name, p in BRUSHING_SIGNALS.items()}
        if sum(signals.values()) >= fewest:
            return signals


def brushing_rings(
    rng: np.random.Generator, market: Market, registry: GroupRegistry, ring_count: int
) -> list[tuple[OrderBatch, Lines]]:
    """Rings of 10-60 accounts buying a shop's unpopular SKUs within hours to two days."""
    catalog = market.catalog
    parts: list[tuple[OrderBatch, Lines]] = []
    shop_count = len(catalog.shop_weight)
    for _ in range(ring_count):
        shop = int(rng.integers(min(5, shop_count - 1), shop_count))
        start, count = int(catalog.shop_sku_start[shop]), int(catalog.shop_sku_count[shop])
        tail = np.arange(start + count // 2, start + count)
        targets = rng.choice(tail, size=min(len(tail), int(rng.integers(1, 4))), replace=False)
        window_start = int(rng.integers(SECONDS_PER_DAY, EXPORT_AT - 8 * SECONDS_PER_DAY))
        window = int(rng.integers(2 * 3600, 2 * SECONDS_PER_DAY))
        accounts = int(rng.integers(10, 61))
        signals = _ring_signals(rng, market.config.brushing_min_signals)
        code = registry.add(
            "BR",
            kind="brushing",
            shop_id=catalog.shop_ids[shop],
            sku_ids=[catalog.sku_ids[k] for k in targets],
            window_start=window_start,
            window_end=window_start + window,
            accounts=accounts,
            signals=sorted(k for k, v in signals.items() if v),
        )
        buyers = _ring_accounts(rng, market, accounts, window_start, signals)
        registered = market.buyers.column("registered")[buyers]
        per_account = rng.integers(1, 5, accounts)
        brush_buyer = np.repeat(buyers, per_account)
        created = np.sort(window_start + rng.integers(0, window, len(brush_buyer)))
        brush = _ring_batch(rng, market, brush_buyer, created, code)
        brush.channel = np.where(rng.random(brush.size) < 0.8, 0, 4)
        brush.instant_pay[:] = signals["instant_payment"]
        brush.empty_parcel[:] = signals["empty_parcel"]
        brush.instant_review[:] = signals["instant_review"]
        if signals["sequential_waybill"]:
            brush.carrier[:] = rng.choice(len(CARRIER_SHARE), p=CARRIER_SHARE)
            brush.waybill[:] = int(rng.integers(10**9, 9 * 10**10)) + np.cumsum(
                rng.integers(1, 4, brush.size)
            )
        lines = make_lines(
            rng, catalog, np.ones(brush.size, dtype=np.int64), rng.choice(targets, brush.size)
        )
        lines.quantity[:] = 1
        parts.append((brush, lines))
        # Camouflage: ordinary-looking purchases of popular SKUs elsewhere, still the ring's.
        cover_count = rng.integers(0, 4, accounts)
        cover_buyer = np.repeat(buyers, cover_count)
        since = np.maximum(np.repeat(registered, cover_count), 0)
        cover_created = since + (rng.random(len(cover_buyer)) * (EXPORT_AT - since)).astype(
            np.int64
        )
        cover = _ring_batch(rng, market, cover_buyer, cover_created, code)
        skus = catalog.popular_skus(rng, cover.size)
        for _ in range(5):  # other shops' popular SKUs, not the hiring shop's
            own = catalog.sku_shop[skus] == shop
            if not own.any():
                break
            skus[own] = catalog.popular_skus(rng, int(own.sum()))
        parts.append((cover, make_lines(rng, catalog, np.ones(cover.size, dtype=np.int64), skus)))
    return parts


def _ring_accounts(
    rng: np.random.Generator,
    market: Market,
    count: int,
    window_start: int,
    signals: dict[str, bool],
) -> IntArray:
    book = market.addresses
    if signals["young_accounts"]:
        age = rng.uniform(0.2, 10.0, count) * SECONDS_PER_DAY
    else:
        age = rng.uniform(60.0, 1500.0, count) * SECONDS_PER_DAY  # bought "aged" accounts
    registered = window_start - age.astype(np.int64)
    if signals["virtual_phone"]:
        phone = geo.sample_virtual_phones(rng, count)
    else:
        phone = geo.sample_honest_phones(rng, count, 0.03)
    # A shared phone runs one OS: accounts on one device share its platform.
    if signals["shared_device"]:
        pick = rng.integers(0, max(2, count // 6), count)
    else:
        pick = np.arange(count, dtype=np.int64)
    pool = market.new_devices(int(pick.max()) + 1)
    pool_platform = np.where(rng.random(len(pool)) < 0.6, ANDROID, IOS)
    devices, platform = pool[pick], pool_platform[pick]
    home_ip = geo.sample_home_ips(rng, count)
    if signals["shared_ip"]:
        home_ip = home_ip[0] - (home_ip[0] & 255) + rng.integers(1, 255, max(2, count // 8))
        home_ip = home_ip[rng.integers(0, len(home_ip), count)]
    if signals["shared_address"]:
        base = book.sample(rng, int(rng.integers(1, 5)))
        fields = _variants(rng, base, rng.integers(0, len(base["room"]), count), True, True)
    else:
        fields = book.sample(rng, count)
    address = book.add(fields)
    honorific = signals["shared_address"] & (rng.random(count) < 0.5)
    given = np.where(
        honorific,
        len(geo.GIVEN_NAMES) + rng.integers(0, len(geo.HONORIFICS), count),
        rng.integers(0, len(geo.GIVEN_NAMES), count),
    )
    return market.buyers.add(
        registered=registered,
        tier=np.where(rng.random(count) < 0.8, 0, 1),
        platform=platform,
        device=devices,
        home_ip=home_ip,
        address=address,
        phone=phone,
        surname=rng.integers(0, len(geo.SURNAMES), count),
        given=given,
        new_account=(registered >= 0).astype(np.int64),
        lookalike=np.zeros(count, dtype=np.int64),
    )


def _ring_batch(
    rng: np.random.Generator, market: Market, buyer: IntArray, created: IntArray, code: int
) -> OrderBatch:
    buyers = market.buyers
    platform = buyers.column("platform")[buyer]
    batch = OrderBatch.honest(
        buyer=buyer,
        created=created,
        platform=platform,
        channel=sample_channels(rng, platform),
        device=buyers.column("device")[buyer] + platform,
        ip=buyers.column("home_ip")[buyer],
        address=buyers.column("address")[buyer],
    )
    batch.label[:] = BRUSHING
    batch.group[:] = code
    batch.no_refund[:] = 1
    return batch


def coupon_abuse_rings(
    rng: np.random.Generator, market: Market, registry: GroupRegistry, ring_count: int
) -> list[tuple[OrderBatch, Lines]]:
    """Fresh accounts registered minutes apart, each redeeming NEW30 once on a ¥99-110 order."""
    catalog = market.catalog
    eligible = np.flatnonzero((catalog.sku_price >= 9_900) & (catalog.sku_price <= 11_000))
    if len(eligible) == 0:  # tiny catalogs: make one SKU fit the coupon threshold
        eligible = np.array([len(catalog.sku_price) - 1])
        catalog.sku_price[eligible] = 9_990
        catalog.sku_list_price[eligible] = np.maximum(catalog.sku_list_price[eligible], 9_990)
    parts: list[tuple[OrderBatch, Lines]] = []
    for _ in range(ring_count):
        accounts = int(rng.integers(8, 81))
        links = [name for name in COUPON_LINKS if rng.random() < 0.5]
        if not links:
            links = [COUPON_LINKS[int(rng.integers(0, len(COUPON_LINKS)))]]
        first = int(rng.integers(0, EXPORT_AT - 3 * SECONDS_PER_DAY))
        registered = first + np.cumsum(rng.integers(3, 40, accounts))
        code = registry.add(
            "CA",
            kind="coupon_abuse",
            shop_id="",
            sku_ids=[],
            window_start=int(registered[0]),
            window_end=int(registered[-1]),
            accounts=accounts,
            signals=sorted(links),
        )
        buyer = _coupon_accounts(rng, market, registered, links)
        created = registered + rng.integers(120, 2 * SECONDS_PER_DAY, accounts)
        created = np.minimum(created, EXPORT_AT - 1)
        platform = market.buyers.column("platform")[buyer]
        batch = OrderBatch.honest(
            buyer=buyer,
            created=created,
            platform=platform,
            channel=rng.choice([AFFILIATE, 1, 4], size=accounts, p=[0.4, 0.3, 0.3]),
            device=market.buyers.column("device")[buyer] + platform,
            ip=market.buyers.column("home_ip")[buyer],
            address=market.buyers.column("address")[buyer],
        )
        batch.label[:] = COUPON_ABUSE
        batch.group[:] = code
        batch.coupon[:] = NEW30_CODE
        batch.no_refund[:] = 1
        ring_skus = rng.choice(eligible, size=min(len(eligible), 2), replace=False)
        lines = make_lines(
            rng, catalog, np.ones(accounts, dtype=np.int64), rng.choice(ring_skus, accounts)
        )
        lines.quantity[:] = 1
        parts.append((batch, lines))
    return parts


def _coupon_accounts(
    rng: np.random.Generator, market: Market, registered: IntArray, links: list[str]
) -> IntArray:
    count = len(registered)
    book = market.addresses
    if "sequential_phone" in links:
        phone = geo.sample_honest_phones(rng, 1, 0.0)[0] // 10_000 * 10_000 + np.cumsum(
            rng.integers(1, 3, count)
        )
    else:
        phone = geo.sample_honest_phones(rng, count, 0.2)
    if "shared_device" in links:
        pick = rng.integers(0, max(1, count // 10), count)
    else:
        pick = np.arange(count, dtype=np.int64)
    pool = market.new_devices(int(pick.max()) + 1)
    pool_platform = rng.choice([ANDROID, IOS, MINI], size=len(pool), p=[0.5, 0.2, 0.3])
    devices, platform = pool[pick], pool_platform[pick]
    home_ip = geo.sample_home_ips(rng, count)
    if "ip_24" in links:
        home_ip = (home_ip[0] & ~np.int64(255)) + rng.integers(1, 255, count)
    if "same_address" in links:
        fields = _variants(rng, book.sample(rng, 1), np.zeros(count, dtype=np.int64), False, False)
    else:
        fields = book.sample(rng, count)
    return market.buyers.add(
        registered=registered.astype(np.int64),
        tier=np.zeros(count, dtype=np.int64),
        platform=platform,
        device=devices,
        home_ip=home_ip,
        address=book.add(fields),
        phone=phone,
        surname=rng.integers(0, len(geo.SURNAMES), count),
        given=rng.integers(0, len(geo.GIVEN_NAMES), count),
        new_account=np.ones(count, dtype=np.int64),
        lookalike=np.zeros(count, dtype=np.int64),
    )
