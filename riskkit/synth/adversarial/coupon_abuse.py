"""Coupon-abuse rings (薅羊毛): fresh accounts milking the new-customer coupon.

Every ring places exactly one order per account, on its first day or so,
redeeming ``NEW20`` on one cheap item priced just above the threshold
(``new_user_coupon``, ``threshold_basket``, ``one_order_per_account`` are
always listed). Beyond that each ring shows a random subset of:

- ``registration_burst``: accounts opened seconds apart (minutes in all);
- ``order_burst``: each account orders within minutes of opening;
- ``phone_band``: neighbouring numbers from one batch of SIM cards;
- ``drop_address``: one drop address written many ways (rooms, 号楼/栋/幢);
- ``pickup_locker``: parcels to one or two district stations or lockers,
  the same places honest neighbours use;
- ``shared_device`` / ``shared_ip``: a few phones or one /24.

Otherwise devices are fresh (device farms reset their ids) and IPs scattered
(rotating residential proxies): nothing shared to see.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from riskkit.synth import geo
from riskkit.synth.adversarial.brushing import choose_signals
from riskkit.synth.adversarial.parts import REVIEW_HONEST, REVIEW_NEVER, Part, lines_for
from riskkit.synth.adversarial.people import (
    Town,
    dialup_ips,
    honest_phones,
    phone_band,
    same_place_variants,
)
from riskkit.synth.adversarial.world import (
    DAY,
    EXPORT_AT,
    HOUR,
    NEW_USER_COUPON,
    WORLD_START,
    hour_profile,
)
from riskkit.synth.batch import Lines
from riskkit.synth.config import ANDROID, IOS, MINI

__all__ = ["COUPON_SIGNALS", "coupon_abuse_rings"]

IntArray = npt.NDArray[np.int64]
COUPON_ABUSE = 2
ALWAYS: tuple[str, ...] = ("new_user_coupon", "one_order_per_account", "threshold_basket")
COUPON_SIGNALS: dict[str, float] = {
    "registration_burst": 1.2,
    "order_burst": 1.0,
    "phone_band": 1.0,
    "drop_address": 1.0,
    "pickup_locker": 0.8,
    "shared_device": 0.5,
    "shared_ip": 0.5,
}
_EXCLUSIVE = (("drop_address", "pickup_locker"),)


def _addresses(rng: np.random.Generator, town: Town, size: int, signals: list[str]) -> IntArray:
    if "drop_address" in signals:
        place = town.addresses.sample(rng, 1)
        return same_place_variants(
            rng, town.addresses, place, np.zeros(size, dtype=np.int64), room_jitter=True
        )
    if "pickup_locker" in signals:
        lockers = town.stations(rng, int(rng.integers(1, 3)))
        return np.asarray(lockers[rng.integers(0, len(lockers), size)], dtype=np.int64)
    return town.addresses.add(town.addresses.sample(rng, size))


def _ring(
    rng: np.random.Generator, town: Town, code: int, signals: list[str], size: int
) -> tuple[tuple[Part, Lines], dict[str, Any]]:
    catalog = town.catalog
    # A slow farm signs up a few accounts a day over up to ten days.
    spread = 0 if "registration_burst" in signals else int(rng.integers(2, 11)) * DAY
    first = int(rng.integers(WORLD_START, EXPORT_AT - spread - 4 * DAY)) // DAY * DAY
    # Some farms run their scripts around the clock, others keep people's hours.
    if rng.random() < 0.5:
        first += int(rng.choice(24, p=hour_profile())) * HOUR + int(rng.integers(0, HOUR))
    else:
        first += int(rng.integers(0, DAY))
    if spread == 0:
        registered = first + np.cumsum(rng.integers(3, 40, size))
    else:
        registered = np.sort(first + rng.integers(0, spread, size))
    if "order_burst" in signals:
        created = registered + rng.integers(60, 900, size)
    else:
        created = registered + rng.integers(HOUR, 3 * DAY, size)
    phone = (
        phone_band(rng, size, bool(rng.random() < 0.6), 4)
        if "phone_band" in signals
        else honest_phones(rng, size)
    )
    platform = rng.choice([ANDROID, IOS, MINI], size=size, p=[0.5, 0.28, 0.22]).astype(np.int64)
    if "shared_device" in signals:
        platform[:] = ANDROID
    address = _addresses(rng, town, size, signals)
    accounts = town.people(
        rng,
        size,
        address,
        geo.sample_home_ips(rng, size),
        phone=phone,
        platform=platform,
        registered=registered,
        new_account=1,
    )
    device = town.accounts.column("device")[accounts] + platform
    if "shared_device" in signals:
        phones = town.new_devices(max(1, size // 8))
        device = phones[rng.integers(0, len(phones), size)] + platform
    if "shared_ip" in signals:
        ip = (geo.sample_home_ips(rng, 1)[0] & ~np.int64(255)) + rng.integers(1, 255, size)
    else:
        ip = dialup_ips(rng, size, 40)  # residential proxies across the country
    order = np.argsort(created, kind="stable")
    part = Part.start(
        accounts[order],
        created[order],
        platform[order],
        rng.choice([3, 1, 4], size=size, p=[0.4, 0.3, 0.3]),  # group-chat links, feeds, direct
        device[order],
        ip[order],
        address[order],
    )
    part.label[:] = COUPON_ABUSE
    part.group[:] = code
    part.coupon[:] = NEW_USER_COUPON
    part.refundable[:] = 0
    part.review[:] = np.where(rng.random(size) < 0.85, REVIEW_NEVER, REVIEW_HONEST)
    bait_shops = catalog.sku_shop[town.bait_skus]
    shop = int(rng.choice(np.unique(bait_shops)))
    bait = town.bait_skus[bait_shops == shop]
    sku = bait[rng.integers(0, len(bait), size)]
    lines = lines_for(
        sku,
        np.ones(size, dtype=np.int64),
        np.arange(size),
        catalog.sku_price,
        catalog.sku_list_price,
    )
    group = {
        "kind": "coupon_abuse",
        "shop_id": catalog.shop_ids[shop],
        "sku_ids": [catalog.sku_ids[k] for k in np.sort(bait)],
        "window_start": int(registered.min()),
        "window_end": int(created.max()),
        "accounts": size,
        "signals": sorted([*ALWAYS, *signals]),
    }
    return (part, lines), group


def coupon_abuse_rings(
    rng: np.random.Generator, town: Town, rings: int, first_code: int
) -> tuple[list[tuple[Part, Lines]], list[dict[str, Any]]]:
    """``rings`` rings of 5-80 fresh accounts, each with one to four visible links."""
    parts: list[tuple[Part, Lines]] = []
    groups: list[dict[str, Any]] = []
    for i in range(rings):
        wanted = int(rng.choice([1, 2, 3, 4], p=[0.3, 0.35, 0.25, 0.1]))
        signals = choose_signals(rng, COUPON_SIGNALS, wanted, _EXCLUSIVE)
        part, group = _ring(rng, town, first_code + i, signals, int(rng.integers(5, 81)))
        parts.append(part)
        groups.append(group)
    return parts, groups
