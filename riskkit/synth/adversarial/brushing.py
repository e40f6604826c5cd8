"""Brushing studios (刷单): fake orders that lift one shop's sales rank.

Every ring leaves a random subset of traces, some only two. The traces:

- ``phone_band``: accounts on SIM-farm (猫池) cards, neighbouring numbers;
- ``registration_burst``: accounts opened within minutes through 接码 platforms;
- ``device_reset`` (改机 tools: a never-seen device id on every order) or
  ``shared_device`` (a few studio phones);
- ``rotating_ip`` (秒拨: a fresh dial-up IP on every order) or ``shared_ip``;
- ``shared_address``: parcels to one to three drop points, written differently;
- ``empty_parcel``: 空包 waybills bought from a waybill seller (consecutive
  numbers), "signed for" within about a day;
- ``instant_review``: a scripted five-star review minutes after receipt;
- ``sku_burst``: orders on one SKU of the shop within a few hours;
- ``one_order_per_account``; ``instant_payment`` (paid within seconds);
- ``search_entry``: the buyers arrive through search (the task names a keyword).

Without a trace the ring looks like ordinary people: aged accounts bought on
the market, own phones and home networks, honest payment delays and reviews,
parcels the shop ships itself. Camouflage varies per ring: some rings fill
baskets like honest buyers and buy ordinary things elsewhere at honest times;
those purchases are the ring's too (labelled brushing, same group).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from riskkit.synth import geo
from riskkit.synth.adversarial.honest import CHANNEL_MIX, order_identity
from riskkit.synth.adversarial.parts import REVIEW_SCRIPTED, Part, lines_for
from riskkit.synth.adversarial.people import (
    Town,
    dialup_ips,
    honest_phones,
    phone_band,
    same_place_variants,
)
from riskkit.synth.adversarial.world import (
    DAY,
    DOUBLE11_DAY,
    EXPORT_AT,
    FIRST_DAY,
    HOUR,
    WORLD_DAYS,
    hour_profile,
)
from riskkit.synth.batch import Lines
from riskkit.synth.config import ANDROID, CARRIERS

__all__ = ["BRUSHING_SIGNALS", "brushing_rings", "choose_signals"]

IntArray = npt.NDArray[np.int64]
BRUSHING = 1

# Relative chance of each trace; pairs in _EXCLUSIVE cannot both be shown.
BRUSHING_SIGNALS: dict[str, float] = {
    "phone_band": 1.0,
    "registration_burst": 1.0,
    "device_reset": 1.2,
    "shared_device": 0.8,
    "rotating_ip": 1.2,
    "shared_ip": 0.8,
    "shared_address": 1.0,
    "empty_parcel": 1.0,
    "instant_review": 1.0,
    "sku_burst": 1.0,
    "one_order_per_account": 1.0,
    "instant_payment": 1.0,
    "search_entry": 0.8,
}
_EXCLUSIVE: tuple[tuple[str, str], ...] = (
    ("device_reset", "shared_device"),
    ("rotating_ip", "shared_ip"),
)
# Traces carried by the accounts themselves: a studio's next job inherits them.
ACCOUNT_SIGNALS = frozenset(
    {"phone_band", "registration_burst", "shared_address", "shared_device", "device_reset"}
)
SIGNAL_COUNT_SHARE = {2: 0.3, 3: 0.28, 4: 0.2, 5: 0.12, 6: 0.1}
# Waybill sellers (空包网) sell numbers of the big franchise carriers.
SELLER_CARRIERS = np.array([0, 1, 2, 3, 4])


def choose_signals(
    rng: np.random.Generator,
    pool: dict[str, float],
    count: int,
    exclusive: tuple[tuple[str, str], ...],
    given: tuple[str, ...] = (),
) -> list[str]:
    """``given`` plus distinct traces drawn by weight up to ``count``, no exclusive pair."""
    names = list(pool)
    weights = np.array([pool[n] for n in names])
    chosen: list[str] = list(given)
    while len(chosen) < count:
        open_ = [
            i
            for i, n in enumerate(names)
            if n not in chosen
            and not any(n in pair and (set(pair) - {n}) & set(chosen) for pair in exclusive)
        ]
        if not open_:
            break
        p = weights[open_] / weights[open_].sum()
        chosen.append(names[int(rng.choice(open_, p=p))])
    return sorted(chosen)


def _target(rng: np.random.Generator, town: Town, burst: bool) -> tuple[int, IntArray]:
    """A shop outside the top two and 1-3 of its least popular (newest) SKUs."""
    catalog = town.catalog
    shops = len(catalog.shop_weight)
    shop = int(rng.integers(min(2, shops - 1), shops))
    start, count = int(catalog.shop_sku_start[shop]), int(catalog.shop_sku_count[shop])
    tail = np.arange(start + count // 2, start + count)
    size = 1 if burst else int(rng.integers(1, 4))
    return shop, np.sort(rng.choice(tail, size=min(size, len(tail)), replace=False))


def _window(rng: np.random.Generator, burst: bool, earliest_day: int) -> tuple[int, int]:
    """Bursts last hours; otherwise days. Many rings work the run-up to 双11 (冲量)."""
    latest = FIRST_DAY + WORLD_DAYS - 5
    low = min(max(FIRST_DAY, earliest_day), latest - 1)
    if rng.random() < 0.4 and low < DOUBLE11_DAY:
        day = int(rng.integers(max(low, DOUBLE11_DAY - 10), DOUBLE11_DAY))
    else:
        day = int(rng.integers(low, latest))
    if burst:
        start = day * DAY + int(rng.integers(9, 22)) * HOUR
        return start, start + int(rng.integers(1, 6)) * HOUR
    start = day * DAY
    return start, min(EXPORT_AT - 2 * DAY, start + int(rng.integers(3, 11)) * DAY)


def _accounts(
    rng: np.random.Generator, town: Town, size: int, start: int, signals: list[str]
) -> IntArray:
    if "registration_burst" in signals:
        opened = start - int(rng.uniform(0.3, 6.0) * DAY)
        registered = opened + np.cumsum(rng.integers(5, 60, size))
    else:  # aged accounts bought on the market, or the part-time brushers' own
        registered = start - (rng.uniform(90, 2500, size) * DAY).astype(np.int64)
    if "phone_band" in signals:
        phone = phone_band(rng, size, bool(rng.random() < 0.5), 3)
    else:
        phone = honest_phones(rng, size)
    if "shared_address" in signals:
        places = town.addresses.sample(rng, int(rng.integers(1, 4)))
        if rng.random() < 0.4:  # the drop point is a locker or a station
            places["drop_kind"][:] = int(rng.integers(1, 3))
        pick = rng.integers(0, len(places["room"]), size)
        address = same_place_variants(rng, town.addresses, places, pick, True)
    else:
        address = town.addresses.add(town.addresses.sample(rng, size))
    platform = np.where(
        "device_reset" in signals, ANDROID, rng.choice(4, size=size, p=[0.3, 0.5, 0.05, 0.15])
    )
    accounts = town.people(
        rng,
        size,
        address,
        geo.sample_home_ips(rng, size),
        phone=phone,
        platform=platform.astype(np.int64),
        registered=registered,
    )
    if "shared_address" in signals:
        honorific = rng.random(size) < 0.5
        given = town.accounts.column("given").copy()
        given[accounts[honorific]] = len(geo.GIVEN_NAMES) + rng.integers(
            0, len(geo.HONORIFICS), int(honorific.sum())
        )
        town.accounts.replace("given", given)
    if "shared_device" in signals:  # one studio phone serves several accounts, same OS
        studio_phones = accounts[: max(1, size // 6)]
        user_of = studio_phones[rng.integers(0, len(studio_phones), size)]
        for name in ("device", "platform"):
            values = town.accounts.column(name).copy()
            values[accounts] = values[user_of]
            town.accounts.replace(name, values)
    return accounts


def _camouflage_purchases(
    rng: np.random.Generator, town: Town, accounts: IntArray, shop: int
) -> tuple[Part, Lines]:
    """Ordinary purchases of other shops' popular SKUs at honest times."""
    catalog = town.catalog
    per = rng.integers(1, 4, len(accounts))
    buyer = np.repeat(accounts, per)
    size = len(buyer)
    day = FIRST_DAY + rng.integers(0, WORLD_DAYS, size)
    created = (
        day * DAY + rng.choice(24, size=size, p=hour_profile()) * HOUR + rng.integers(0, HOUR, size)
    )
    created = np.maximum(created, town.accounts.column("registered")[buyer] + HOUR)
    created = np.minimum(created, EXPORT_AT - 1)
    platform = town.accounts.column("platform")[buyer]
    device, ip = order_identity(rng, town, buyer, platform)
    part = Part.start(
        buyer,
        created,
        platform,
        rng.choice(5, size=size, p=CHANNEL_MIX),
        device,
        ip,
        town.accounts.column("address")[buyer],
    )
    sku = catalog.popular_skus(rng, size)
    for _ in range(5):
        own = catalog.sku_shop[sku] == shop
        if not own.any():
            break
        sku[own] = catalog.popular_skus(rng, int(own.sum()))
    quantity = np.where(rng.random(size) < 0.85, 1, 2)
    return part, lines_for(
        sku, quantity, np.arange(size), catalog.sku_price, catalog.sku_list_price
    )


def _ring(
    rng: np.random.Generator,
    town: Town,
    code: int,
    signals: list[str],
    size: int,
    reused: IntArray | None = None,
) -> tuple[list[tuple[Part, Lines]], dict[str, Any], IntArray]:
    """One job for one shop; ``reused`` accounts come from an earlier job of the studio."""
    catalog = town.catalog
    burst = "sku_burst" in signals
    shop, targets = _target(rng, town, burst)
    if reused is None:
        start, end = _window(rng, burst, FIRST_DAY)
        accounts = _accounts(rng, town, size, start, signals)
    else:
        ready = int(town.accounts.column("registered")[reused].max()) // DAY + 1
        start, end = _window(rng, burst, ready)
        accounts = reused
        size = len(reused)
    if "one_order_per_account" in signals:
        per = np.ones(size, dtype=np.int64)
    else:  # repeat buyers: at least one account orders twice
        per = 1 + rng.poisson(0.9, size)
        per[0] = max(2, int(per[0]))
    buyer = np.repeat(accounts, per)
    total = len(buyer)
    camouflage = rng.random() < 0.55
    if burst:
        created = start + rng.integers(0, end - start, total)
    else:  # spread over the days, following the honest clock
        day = rng.integers(0, max(1, (end - start) // DAY), total)
        created = start + day * DAY + rng.choice(24, size=total, p=hour_profile()) * HOUR
        created = created + rng.integers(0, HOUR, total)
    created = np.sort(np.minimum(created, end))
    buyer = rng.permutation(buyer) if burst else buyer
    platform = town.accounts.column("platform")[buyer]
    device, ip = order_identity(rng, town, buyer, platform)
    if "device_reset" in signals:
        device = town.new_devices(total) + platform
    if "rotating_ip" in signals:
        ip = dialup_ips(rng, total, int(rng.integers(1, 3)))
    elif "shared_ip" in signals:
        studio = geo.sample_home_ips(rng, int(rng.integers(1, 4)))
        ip = studio[rng.integers(0, len(studio), total)]
    channel = rng.choice(5, size=total, p=CHANNEL_MIX)
    if "search_entry" in signals:  # 搜索进店: the task says "search this keyword, then buy"
        channel = np.where(rng.random(total) < 0.9, 0, channel)
    part = Part.start(
        buyer, created, platform, channel, device, ip, town.accounts.column("address")[buyer]
    )
    part.label[:] = BRUSHING
    part.group[:] = code
    part.refundable[:] = 0
    if "instant_payment" in signals:
        part.pay_delay[:] = rng.integers(1, 7, total)
    if "empty_parcel" in signals:
        part.seller_carrier[:] = int(rng.choice(SELLER_CARRIERS))
        width = CARRIERS[int(part.seller_carrier[0])][2]
        first = int(rng.integers(10 ** (width - 1), 9 * 10 ** (width - 1)))
        part.seller_waybill[:] = first + np.cumsum(rng.integers(1, 3, total))
        part.transit[:] = rng.integers(10 * HOUR, 30 * HOUR, total)
    if "instant_review" in signals:
        part.review[:] = REVIEW_SCRIPTED
    sku = targets[rng.integers(0, len(targets), total)]
    owner = np.arange(total)
    quantity = np.ones(total, dtype=np.int64)
    if camouflage:  # baskets like honest ones: a second item, sometimes two units
        extra = rng.random(total) < 0.3
        second = catalog.same_shop_skus(rng, np.full(int(extra.sum()), shop, dtype=np.int64))
        first_of_shop = int(catalog.shop_sku_start[shop])
        clash = second == sku[extra]
        second[clash] = first_of_shop + (second[clash] - first_of_shop + 1) % int(
            catalog.shop_sku_count[shop]
        )
        owner = np.concatenate([owner, np.flatnonzero(extra)])
        sku = np.concatenate([sku, second])
        quantity = np.concatenate(
            [np.where(rng.random(total) < 0.15, 2, 1), np.ones(int(extra.sum()), dtype=np.int64)]
        )
        order = np.argsort(owner, kind="stable")
        owner, sku, quantity = owner[order], sku[order], quantity[order]
    parts = [(part, lines_for(sku, quantity, owner, catalog.sku_price, catalog.sku_list_price))]
    if camouflage and rng.random() < 0.7:
        cover, cover_lines = _camouflage_purchases(rng, town, accounts, shop)
        cover.label[:] = BRUSHING
        cover.group[:] = code
        parts.append((cover, cover_lines))
    group = {
        "kind": "brushing",
        "shop_id": catalog.shop_ids[shop],
        "sku_ids": [catalog.sku_ids[k] for k in targets],
        "window_start": int(created.min()),
        "window_end": int(created.max()),
        "accounts": size,
        "signals": signals,
    }
    return parts, group, accounts


def brushing_rings(
    rng: np.random.Generator, town: Town, rings: int, first_code: int
) -> tuple[list[tuple[Part, Lines]], list[dict[str, Any]]]:
    """``rings`` jobs of 3-40 accounts; at least one shows exactly two traces.

    About a quarter of the jobs are a studio's next job: part of an earlier
    ring's accounts, with that ring's account traits, working for another shop.
    """
    counts = list(SIGNAL_COUNT_SHARE)
    share = np.array(list(SIGNAL_COUNT_SHARE.values()))
    order_level = {k: v for k, v in BRUSHING_SIGNALS.items() if k not in ACCOUNT_SIGNALS}
    parts: list[tuple[Part, Lines]] = []
    groups: list[dict[str, Any]] = []
    studios: list[tuple[IntArray, tuple[str, ...]]] = []
    two_at = int(rng.integers(0, rings))
    last_ready = (FIRST_DAY + WORLD_DAYS - 7) * DAY
    for i in range(rings):
        wanted = 2 if i == two_at else int(rng.choice(counts, p=share / share.sum()))
        earlier = [
            s for s in studios if int(town.accounts.column("registered")[s[0]].max()) < last_ready
        ]
        reused: IntArray | None = None
        if i != two_at and earlier and rng.random() < 0.25:
            pool, inherited = earlier[int(rng.integers(0, len(earlier)))]
            keep = int(rng.integers(max(3, len(pool) // 2), len(pool) + 1))
            reused = np.sort(rng.choice(pool, size=keep, replace=False))
            wanted = max(wanted, len(inherited) + 1, 2)
            signals = choose_signals(rng, order_level, wanted, _EXCLUSIVE, inherited)
        else:
            signals = choose_signals(rng, BRUSHING_SIGNALS, wanted, _EXCLUSIVE)
        ring_parts, group, accounts = _ring(
            rng, town, first_code + i, signals, int(rng.integers(3, 41)), reused
        )
        parts += ring_parts
        groups.append(group)
        studios.append((accounts, tuple(s for s in signals if s in ACCOUNT_SIGNALS)))
    return parts, groups
