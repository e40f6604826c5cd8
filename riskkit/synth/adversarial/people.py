"""Accounts, places, phones and networks of the adversarial world.

``Town`` holds what every source of orders shares: the catalog, the accounts
table, the address book, the carrier-grade NAT egress pool and the district
pickup stations. Identity helpers here produce the raw material both honest
people and rings are made of (a SIM-farm phone band and an office's corporate
number range are produced by the same helper, on purpose).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from riskkit.synth import geo
from riskkit.synth.config import ANDROID, CARRIER_SHARE, CARRIERS, IOS, MINI, WEB
from riskkit.synth.population import (
    DISTRICT_NAMES,
    LOCKER,
    STATION,
    AddressBook,
    Catalog,
    GrowingColumns,
    build_catalog,
)

__all__ = [
    "ACCOUNT_FIELDS",
    "Accounts",
    "Town",
    "build_town",
    "dialup_ips",
    "honest_phones",
    "phone_band",
    "same_place_variants",
]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

ACCOUNT_FIELDS: tuple[str, ...] = (
    "registered",  # seconds; UNKNOWN_REGISTRATION = derive from the first order
    "new_account",  # 1: signs up during the world, shortly before the first order
    "tier",
    "platform",
    "device",  # base code: the device on platform p is device + p
    "home_ip",
    "address",
    "phone",
    "surname",
    "given",  # >= len(GIVEN_NAMES): an honorific (先生/女士/小姐)
    "quick_reviewer",
    "lookalike",  # the account's own look-alike kind (household, dorm, office...)
)
UNKNOWN_REGISTRATION = -(10**12)
PLATFORM_SHARE = np.array([0.3, 0.46, 0.09, 0.15])  # ios, android, web, mini_program
SHOP_CARRIER_SHARE = CARRIER_SHARE / CARRIER_SHARE.sum()
FAST_CARRIERS = frozenset({5, 6})  # 顺丰, 京东: next-day delivery is their norm


class Accounts(GrowingColumns):
    """Buyer accounts and gift recipients; ``add`` takes any subset of the fields."""

    def __init__(self) -> None:
        super().__init__(ACCOUNT_FIELDS)

    def add(self, size: int, **columns: IntArray | int) -> IntArray:
        full: dict[str, IntArray] = {}
        for name in ACCOUNT_FIELDS:
            value = columns.get(name, 0)
            full[name] = np.broadcast_to(np.asarray(value, dtype=np.int64), (size,)).copy()
        return self.append(full)


@dataclass
class Town:
    """Everything the sources of orders share."""

    catalog: Catalog
    accounts: Accounts
    addresses: AddressBook
    cgnat_ips: IntArray
    station_of_district: IntArray
    shop_carrier: IntArray
    shop_batch_prints: BoolArray  # prints each day's waybills in one batch
    shop_print_hour: IntArray
    bait_skus: IntArray  # cheap SKUs priced just above the new-customer threshold
    next_device: int = 1

    def new_devices(self, count: int) -> IntArray:
        """Fresh device base codes (four apart: one device per platform of an account)."""
        codes = self.next_device + 4 * np.arange(count, dtype=np.int64)
        self.next_device += 4 * count
        return codes

    def people(
        self,
        rng: np.random.Generator,
        size: int,
        address: IntArray,
        home_ip: IntArray,
        lookalike: int | IntArray = 0,
        phone: IntArray | None = None,
        platform: IntArray | None = None,
        registered: IntArray | int = UNKNOWN_REGISTRATION,
        new_account: IntArray | int = 0,
        surname: IntArray | None = None,
    ) -> IntArray:
        """Add ordinary-looking accounts with the given places and networks."""
        return self.accounts.add(
            size,
            registered=registered,
            new_account=new_account,
            tier=rng.choice(4, size=size, p=[0.55, 0.25, 0.15, 0.05]),
            platform=(rng.choice(4, size=size, p=PLATFORM_SHARE) if platform is None else platform),
            device=self.new_devices(size),
            home_ip=home_ip,
            address=address,
            phone=honest_phones(rng, size) if phone is None else phone,
            surname=rng.integers(0, len(geo.SURNAMES), size) if surname is None else surname,
            given=rng.integers(0, len(geo.GIVEN_NAMES), size),
            quick_reviewer=(rng.random(size) < 0.1).astype(np.int64),
            lookalike=lookalike,
        )

    def stations(self, rng: np.random.Generator, size: int) -> IntArray:
        """Pickup addresses: the district's 菜鸟驿站, or one of a few community 丰巢 lockers."""
        district = rng.integers(0, len(DISTRICT_NAMES), size)
        return np.asarray(self.station_of_district[district], dtype=np.int64)


def honest_phones(rng: np.random.Generator, size: int, virtual_share: float = 0.03) -> IntArray:
    return geo.sample_honest_phones(rng, size, virtual_share)


def phone_band(rng: np.random.Generator, size: int, virtual: bool, widest_gap: int) -> IntArray:
    """Numbers from one batch of SIM cards: a shared 7-digit prefix, close last four digits.

    SIM farms (猫池) and corporate mobile plans both hand out such bands.
    """
    prefix = (
        geo.sample_virtual_phones(rng, 1)[0] if virtual else honest_phones(rng, 1, 0.0)[0]
    ) // 10_000
    start = int(rng.integers(0, 10_000 - size * widest_gap))
    band: IntArray = int(prefix) * 10_000 + start + np.cumsum(rng.integers(1, widest_gap + 1, size))
    return band


def dialup_ips(rng: np.random.Generator, size: int, blocks: int) -> IntArray:
    """Fresh addresses from the ADSL pools of a few /16 blocks (秒拨: redial, new IP)."""
    pools = geo.sample_home_ips(rng, blocks) & ~np.int64(0xFFFF)
    base = pools[rng.integers(0, blocks, size)]
    ips: IntArray = base + (rng.integers(0, 256, size) << 8) + rng.integers(1, 255, size)
    return ips


def same_place_variants(
    rng: np.random.Generator,
    book: AddressBook,
    place: dict[str, IntArray],
    pick: IntArray,
    room_jitter: bool,
) -> IntArray:
    """Add the places at ``pick`` written the ways people write one place (号楼/栋/幢, spaces)."""
    size = len(pick)
    out = {name: values[pick].copy() for name, values in place.items()}
    out["building_word"] = rng.integers(0, 3, size)
    out["show_province"] = (rng.random(size) < 0.6).astype(np.int64)
    out["spaced"] = (rng.random(size) < 0.3).astype(np.int64)
    if room_jitter:
        out["room"] = out["room"] + rng.integers(-2, 3, size)
    return book.add(out)


def _bait_prices(rng: np.random.Generator, catalog: Catalog) -> IntArray:
    """A few shops' cheap SKUs get a price just above the new-customer threshold (凑单 items)."""
    shops = rng.choice(
        len(catalog.shop_weight), size=min(5, len(catalog.shop_weight)), replace=False
    )
    chosen: list[int] = []
    for shop in shops:
        start, count = int(catalog.shop_sku_start[shop]), int(catalog.shop_sku_count[shop])
        picks = rng.choice(np.arange(start, start + count), size=min(2, count), replace=False)
        chosen += [int(k) for k in picks]
    bait = np.array(sorted(chosen), dtype=np.int64)
    catalog.sku_price[bait] = rng.choice([5_900, 5_990, 6_000, 6_200, 6_590, 6_800], len(bait))
    catalog.sku_list_price[bait] = np.maximum(catalog.sku_list_price[bait], catalog.sku_price[bait])
    return bait


def build_town(rng: np.random.Generator, expected_orders: int) -> Town:
    """Catalog of several shops, address book, NAT pool, stations and shop logistics."""
    shop_count = int(np.clip(6 + expected_orders // 20_000, 8, 24))
    sku_count = int(np.clip(expected_orders // 300, 80, 2_000))
    catalog = build_catalog(rng, shop_count, sku_count)
    bait = _bait_prices(rng, catalog)
    addresses = AddressBook()
    stations = addresses.sample(rng, len(DISTRICT_NAMES))
    stations["district"] = np.arange(len(DISTRICT_NAMES), dtype=np.int64)
    stations["drop_kind"] = np.where(rng.random(len(DISTRICT_NAMES)) < 0.7, STATION, LOCKER)
    station_of_district = addresses.add(stations)
    # Carrier-grade NAT: a few dozen mobile egress addresses carry most phone traffic.
    cgnat_count = max(6, expected_orders // 6_000)
    cgnat_blocks = np.array([117 << 24 | 136 << 16, 223 << 24 | 104 << 16, 112 << 24 | 96 << 16])
    cgnat_ips = (
        cgnat_blocks[rng.integers(0, 3, cgnat_count)] + rng.integers(256, 65_280, cgnat_count)
    ).astype(np.int64)
    return Town(
        catalog=catalog,
        accounts=Accounts(),
        addresses=addresses,
        cgnat_ips=cgnat_ips,
        station_of_district=station_of_district,
        shop_carrier=rng.choice(len(CARRIERS), size=shop_count, p=SHOP_CARRIER_SHARE),
        shop_batch_prints=rng.random(shop_count) < 0.65,
        shop_print_hour=rng.integers(15, 19, shop_count),
        bait_skus=bait,
    )


MOBILE = (IOS, ANDROID, MINI)
DESKTOP = WEB
