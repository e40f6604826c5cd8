"""The honest marketplace: buyer population, shopping clock and ordinary orders."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from riskkit.synth import geo
from riskkit.synth.batch import Lines, OrderBatch
from riskkit.synth.config import (
    ANDROID,
    CGNAT_IP,
    FAMILY_ADDRESS,
    IOS,
    MINI,
    NO_LOOKALIKE,
    PARCEL_LOCKER,
    PERIOD_DAYS,
    SECONDS_PER_DAY,
    WEB,
    SynthConfig,
)
from riskkit.synth.population import (
    DISTRICT_NAMES,
    DISTRICT_WEIGHT,
    STATION,
    AddressBook,
    Buyers,
    Catalog,
    build_catalog,
)

__all__ = [
    "HOUR_PROFILE",
    "MEAN_LINES",
    "Market",
    "build_market",
    "day_weights",
    "honest_batch",
    "make_lines",
    "sample_channels",
    "sample_line_counts",
    "sample_platforms",
    "sample_times",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

# Share of orders per hour of day; evening peak, quiet small hours.
_BASE_HOURS = np.array(
    [2.2, 1.3, 0.7, 0.4, 0.3, 0.4, 0.9, 1.8, 2.8, 3.6, 4.4, 4.6,
     4.8, 4.5, 4.4, 4.4, 4.5, 4.6, 4.8, 5.6, 6.8, 7.4, 6.2, 4.0]
)  # fmt: skip
_EVENING = np.isin(np.arange(24), [19, 20, 21, 22, 23])
_OFFICE = np.isin(np.arange(24), list(range(9, 18)))
_LUNCH = np.isin(np.arange(24), [11, 12, 13])
# iOS buyers shop more in the evening: the hour mix differs by platform (Simpson's trap).
HOUR_PROFILE: dict[int, FloatArray] = {
    IOS: _BASE_HOURS * np.where(_EVENING, 1.45, 0.9),
    ANDROID: _BASE_HOURS * np.where(_EVENING, 0.85, 1.05),
    WEB: _BASE_HOURS * np.where(_OFFICE, 1.6, 0.7),
    MINI: _BASE_HOURS * np.where(_LUNCH, 1.5, 1.0),
}
for _platform, _profile in HOUR_PROFILE.items():
    HOUR_PROFILE[_platform] = _profile / _profile.sum()

# Monday..Sunday; the period starts on a Monday.
WEEKDAY_FACTOR = np.array([0.92, 0.9, 0.93, 0.95, 1.02, 1.22, 1.16])
CHANNEL_MIX: dict[int, FloatArray] = {
    IOS: np.array([0.38, 0.3, 0.17, 0.02, 0.13]),
    ANDROID: np.array([0.38, 0.32, 0.16, 0.02, 0.12]),
    WEB: np.array([0.55, 0.15, 0.03, 0.02, 0.25]),
    MINI: np.array([0.2, 0.45, 0.1, 0.02, 0.23]),
}
LINE_COUNT_SHARE = np.array([0.8, 0.14, 0.045, 0.015])  # 1..4 lines
MEAN_LINES = float((np.arange(1, 5) * LINE_COUNT_SHARE).sum())
LOCKER_DISTRICT_SHARE = 0.5
DEVICES_PER_ACCOUNT = 4  # one per platform


def day_weights() -> FloatArray:
    days = np.arange(PERIOD_DAYS)
    weights: FloatArray = WEEKDAY_FACTOR[days % 7] * (1.0 + 0.15 * days / PERIOD_DAYS)
    return weights / float(weights.sum())


@dataclass
class Market:
    """Everything sources of orders share: catalog, accounts, addresses, devices."""

    config: SynthConfig
    catalog: Catalog
    buyers: Buyers
    addresses: AddressBook
    honest_buyers: IntArray
    honest_weight_cumulative: FloatArray
    cgnat_ips: IntArray
    station_of_district: IntArray
    locker_districts: IntArray
    next_device: int = 1

    def new_devices(self, count: int) -> IntArray:
        """Fresh device base codes: an account's device on platform ``p`` is ``base + p``."""
        codes = self.next_device + DEVICES_PER_ACCOUNT * np.arange(count, dtype=np.int64)
        self.next_device += DEVICES_PER_ACCOUNT * count
        return codes

    def pick_honest_buyers(self, rng: np.random.Generator, size: int) -> IntArray:
        """Buyers by Zipf activity."""
        cumulative = self.honest_weight_cumulative
        picked = np.searchsorted(cumulative, rng.random(size) * cumulative[-1])
        chosen: IntArray = self.honest_buyers[np.minimum(picked, len(self.honest_buyers) - 1)]
        return chosen

    def add_honest_buyers(
        self, rng: np.random.Generator, count: int, new_account_share: float
    ) -> IntArray:
        """Ordinary accounts: singles, households sharing an address, parcel-station users."""
        cfg = self.config
        family_size = rng.integers(2, 6, max(1, int(count * cfg.family_share / 3.5)))
        family_size = family_size[np.cumsum(family_size) <= count // 2]
        in_family = int(family_size.sum())
        household = np.concatenate(
            [
                np.repeat(np.arange(len(family_size)), family_size),
                len(family_size) + np.arange(count - in_family),
            ]
        )
        households = len(family_size) + count - in_family
        home = self.addresses.sample(rng, households)
        address = self.addresses.add(home)[household]
        home_ip = geo.sample_home_ips(rng, households)[household]
        lookalike = np.where(np.arange(count) < in_family, FAMILY_ADDRESS, NO_LOOKALIKE)
        # Parcel stations serve whole districts: half the residents of a few districts.
        district = home["district"][household]
        locker_user = (
            np.isin(district, self.locker_districts)
            & (rng.random(count) < LOCKER_DISTRICT_SHARE)
            & (lookalike == NO_LOOKALIKE)
        )
        address = np.where(locker_user, self.station_of_district[district], address)
        lookalike = np.where(locker_user, PARCEL_LOCKER, lookalike)
        # Households are long-lived accounts, never fresh sign-ups.
        new_account = (rng.random(count) < new_account_share) & (lookalike != FAMILY_ADDRESS)
        new_account = new_account.astype(np.int64)
        return self.buyers.add(
            registered=np.full(count, -1, dtype=np.int64),
            tier=np.where(new_account == 1, 0, self.buyers.sample_tiers(rng, count)),
            platform=self.buyers.sample_platforms(rng, count),
            device=self.new_devices(count),
            home_ip=home_ip,
            address=address,
            phone=geo.sample_honest_phones(rng, count, cfg.virtual_phone_share),
            surname=rng.integers(0, len(geo.SURNAMES), count),
            given=rng.integers(0, len(geo.GIVEN_NAMES), count),
            new_account=new_account,
            lookalike=lookalike.astype(np.int64),
        )

    def order_identity(
        self, rng: np.random.Generator, buyer: IntArray, platform: IntArray
    ) -> tuple[IntArray, IntArray, IntArray, IntArray]:
        """Device, IP, address and lookalike tag of honest orders by ``buyer``."""
        size = len(buyer)
        # One device per (account, platform): a buyer switching platform switches device.
        device = self.buyers.column("device")[buyer] + platform
        home_ip = self.buyers.column("home_ip")[buyer]
        mobile = platform != WEB
        draw = rng.random(size)
        cgnat = mobile & (draw < self.config.cgnat_share)
        roaming = mobile & ~cgnat & (draw < self.config.cgnat_share + 0.25)
        ip = np.where(roaming, geo.sample_home_ips(rng, size), home_ip)
        ip = np.where(cgnat, self.cgnat_ips[rng.integers(0, len(self.cgnat_ips), size)], ip)
        address = self.buyers.column("address")[buyer]
        lookalike = self.buyers.column("lookalike")[buyer]
        lookalike = np.where((lookalike == NO_LOOKALIKE) & cgnat, CGNAT_IP, lookalike)
        return device, ip, address, lookalike


def build_market(rng: np.random.Generator, config: SynthConfig, expected_orders: int) -> Market:
    """Catalog, honest buyers with Zipf activity, CGNAT egress IPs and parcel stations."""
    shop_count = int(np.clip(expected_orders // 1600, 50, 500))
    sku_count = int(np.clip(expected_orders // 30, 600, 200_000))
    catalog = build_catalog(rng, shop_count, sku_count)
    addresses = AddressBook()
    station_fields = addresses.sample(rng, len(DISTRICT_NAMES))
    station_fields["district"] = np.arange(len(DISTRICT_NAMES), dtype=np.int64)
    station_fields["drop_kind"] = np.full(len(DISTRICT_NAMES), STATION, dtype=np.int64)
    station_of_district = addresses.add(station_fields)
    by_chance = rng.permutation(len(DISTRICT_NAMES))
    covered = np.cumsum(DISTRICT_WEIGHT[by_chance])
    wanted = config.locker_share / LOCKER_DISTRICT_SHARE
    locker_districts = by_chance[: int(np.searchsorted(covered, wanted)) + 1]
    # China Mobile / Unicom egress blocks: thousands of subscribers behind each address.
    cgnat_count = max(3, expected_orders // 6000)
    cgnat_ips = (
        np.array([117 << 24 | 136 << 16, 223 << 24 | 104 << 16, 112 << 24 | 96 << 16])[
            rng.integers(0, 3, cgnat_count)
        ]
        + rng.integers(0, 65_536, cgnat_count)
    ).astype(np.int64)
    market = Market(
        config=config,
        catalog=catalog,
        buyers=Buyers(),
        addresses=addresses,
        honest_buyers=np.zeros(0, dtype=np.int64),
        honest_weight_cumulative=np.zeros(0),
        cgnat_ips=cgnat_ips,
        station_of_district=station_of_district,
        locker_districts=locker_districts.astype(np.int64),
    )
    buyer_count = max(1500, int(expected_orders / 3.2))
    honest = market.add_honest_buyers(rng, buyer_count, config.new_buyer_share)
    # Zipf activity with a flattened head: the busiest buyer orders about daily.
    rank = rng.permutation(buyer_count)
    weight = 1.0 / (rank + buyer_count / 100.0)
    market.honest_buyers = honest
    market.honest_weight_cumulative = np.cumsum(weight)
    return market


def sample_times(
    rng: np.random.Generator, platform: IntArray, day_weight: FloatArray | None = None
) -> IntArray:
    """Order times (seconds since period start) with weekly cycle and platform hour profile."""
    size = len(platform)
    weights = day_weights() if day_weight is None else day_weight
    day = rng.choice(len(weights), size=size, p=weights)
    hour = np.zeros(size, dtype=np.int64)
    for code, profile in HOUR_PROFILE.items():
        mask = platform == code
        hour[mask] = rng.choice(24, size=int(mask.sum()), p=profile)
    return (day * SECONDS_PER_DAY + hour * 3600 + rng.integers(0, 3600, size)).astype(np.int64)


def sample_channels(rng: np.random.Generator, platform: IntArray) -> IntArray:
    channel = np.zeros(len(platform), dtype=np.int64)
    for code, mix in CHANNEL_MIX.items():
        mask = platform == code
        channel[mask] = rng.choice(len(mix), size=int(mask.sum()), p=mix)
    return channel


def sample_line_counts(rng: np.random.Generator, size: int) -> IntArray:
    return (rng.choice(4, size=size, p=LINE_COUNT_SHARE) + 1).astype(np.int64)


def sample_platforms(rng: np.random.Generator, market: Market, buyer: IntArray) -> IntArray:
    """Mostly the buyer's usual platform, sometimes another one."""
    usual = market.buyers.column("platform")[buyer]
    other = market.buyers.sample_platforms(rng, len(buyer))
    return np.where(rng.random(len(buyer)) < 0.9, usual, other)


def honest_batch(
    rng: np.random.Generator,
    market: Market,
    buyer: IntArray,
    created: IntArray,
    platform: IntArray,
    lookalike: IntArray | None = None,
) -> OrderBatch:
    """Honest orders of ``buyer`` at ``created`` with identities drawn the ordinary way."""
    device, ip, address, tag = market.order_identity(rng, buyer, platform)
    if lookalike is not None:
        tag = np.where(lookalike != NO_LOOKALIKE, lookalike, tag)
    return OrderBatch.honest(
        buyer=buyer,
        created=created,
        platform=platform,
        channel=sample_channels(rng, platform),
        device=device,
        ip=ip,
        address=address,
        lookalike=tag,
    )


def make_lines(
    rng: np.random.Generator,
    catalog: Catalog,
    line_counts: IntArray,
    first_sku: IntArray | None = None,
) -> Lines:
    """Lines of orders: the first SKU by popularity (or given), the rest from the same shop."""
    orders = len(line_counts)
    first = catalog.popular_skus(rng, orders) if first_sku is None else first_sku
    order = np.repeat(np.arange(orders, dtype=np.int64), line_counts)
    starts = np.cumsum(line_counts) - line_counts
    is_first = np.zeros(len(order), dtype=bool)
    is_first[starts] = True
    sku = first[order]
    extra = ~is_first
    sku[extra] = catalog.same_shop_skus(rng, catalog.sku_shop[sku[extra]])
    # A SKU appears once per order: a repeat moves to the shop's next SKU (shops have >= 5).
    position = np.arange(len(order)) - starts[order]
    for k in range(1, int(line_counts.max(initial=1))):
        at = np.flatnonzero(position == k)
        for _ in range(k + 1):
            clash = np.zeros(len(at), dtype=bool)
            for back in range(1, k + 1):
                clash |= sku[at] == sku[at - back]
            if not clash.any():
                break
            moved = at[clash]
            shop = catalog.sku_shop[sku[moved]]
            start, count = catalog.shop_sku_start[shop], catalog.shop_sku_count[shop]
            sku[moved] = start + (sku[moved] - start + 1) % count
    quantity = np.where(rng.random(len(order)) < 0.85, 1, rng.integers(2, 4, len(order)))
    return Lines(
        order=order,
        sku=sku,
        quantity=quantity.astype(np.int64),
        unit_price=catalog.sku_price[sku],
        list_price=catalog.sku_list_price[sku],
    )
