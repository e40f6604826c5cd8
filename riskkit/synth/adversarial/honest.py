"""The honest population and its everyday orders.

Most honest buyers live alone at their own address. The rest share things
that fraud rings share too, for ordinary reasons: households share an address
and a home IP; student dorm rooms share a room address and the campus egress
IPs (and many accounts were opened in the same freshers' weeks); office
workers ship to the company reception and order through one corporate IP,
some on corporate phone plans with neighbouring numbers; whole districts pick
up at one 菜鸟驿站 or 丰巢 locker; phones leave through a few carrier-grade NAT
addresses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from riskkit.synth import geo
from riskkit.synth.adversarial.parts import Part
from riskkit.synth.adversarial.people import Town, phone_band
from riskkit.synth.adversarial.world import (
    DAY,
    DOUBLE11_DAY,
    FIRST_DAY,
    HOUR,
    LOOKALIKE_CODE,
    POST_FESTIVAL_DAYS,
    WEEKDAY_FACTOR,
    WORLD_DAYS,
    day_weights,
    hour_profile,
)
from riskkit.synth.batch import Lines
from riskkit.synth.config import WEB
from riskkit.synth.market import make_lines

__all__ = ["HonestPopulation", "honest_orders", "honest_population", "order_identity"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

SINGLE, HOUSEHOLD, DORM, OFFICE, STATION_USER = range(5)
PROFILE_OF_SEGMENT = ("base", "base", "student", "office", "base")
LINE_COUNT_SHARE = np.array([0.78, 0.15, 0.05, 0.02])
CHANNEL_MIX = np.array([0.4, 0.3, 0.15, 0.03, 0.12])  # search, recommend, live, affiliate, direct
CGNAT_SHARE = 0.35
ROAMING_SHARE = 0.2
FRESH_DEVICE_SHARE = 0.03


@dataclass(frozen=True)
class HonestPopulation:
    """Honest accounts, how often each orders, and which clock it shops by."""

    buyers: IntArray
    segment: IntArray
    weight_cumulative: FloatArray

    def pick(self, rng: np.random.Generator, size: int) -> IntArray:
        at = np.searchsorted(self.weight_cumulative, rng.random(size) * self.weight_cumulative[-1])
        picked: IntArray = self.buyers[np.minimum(at, len(self.buyers) - 1)]
        return picked


def _households(rng: np.random.Generator, town: Town, count: int) -> IntArray:
    sizes = rng.integers(2, 6, max(1, count // 3))
    sizes = sizes[np.cumsum(sizes) <= count]
    home = town.addresses.add(town.addresses.sample(rng, len(sizes)))
    member = np.repeat(np.arange(len(sizes)), sizes)
    ips = geo.sample_home_ips(rng, len(sizes))
    # A household often shares one surname.
    family_name = rng.integers(0, len(geo.SURNAMES), len(sizes))[member]
    own_name = rng.integers(0, len(geo.SURNAMES), len(member))
    return town.people(
        rng,
        len(member),
        home[member],
        ips[member],
        LOOKALIKE_CODE["family_address"],
        surname=np.where(rng.random(len(member)) < 0.7, family_name, own_name),
    )


def _dorms(rng: np.random.Generator, town: Town, count: int) -> IntArray:
    """Campuses of 4-6 person rooms; a campus has a handful of egress IPs."""
    campuses = max(1, count // 600)
    rooms = max(1, count // 5)
    campus_place = town.addresses.sample(rng, campuses)
    room_campus = rng.integers(0, campuses, rooms)
    room_place = {name: values[room_campus].copy() for name, values in campus_place.items()}
    room_place["building"] = rng.integers(1, 16, rooms)
    room_place["unit"] = np.ones(rooms, dtype=np.int64)
    room_place["room"] = rng.integers(1, 7, rooms) * 100 + rng.integers(1, 40, rooms)
    member_room = rng.integers(0, rooms, count)
    # Students write their building three ways; the room is the same room.
    address = town.addresses.add(
        {
            **{name: values[member_room] for name, values in room_place.items()},
            "building_word": rng.integers(0, 3, count),
            "spaced": (rng.random(count) < 0.2).astype(np.int64),
        }
    )
    egress = geo.sample_home_ips(rng, campuses * 3).reshape(campuses, 3)
    ip = egress[room_campus[member_room], rng.integers(0, 3, count)]
    # Freshers open accounts in the same September weeks (not minutes apart).
    fresher = rng.random(count) < 0.3
    september = (rng.uniform(-17, -3, count) * DAY).astype(np.int64)
    older = (-rng.uniform(380, 1500, count) * DAY).astype(np.int64)
    return town.people(
        rng,
        count,
        address,
        ip,
        LOOKALIKE_CODE["student_dorm"],
        registered=np.where(fresher, september, older),
    )


def _offices(rng: np.random.Generator, town: Town, count: int) -> IntArray:
    """Companies of 15-150 staff, all shipping to the reception; some on a corporate plan."""
    sizes = rng.integers(15, 151, max(1, count // 60))
    sizes = sizes[np.cumsum(sizes) <= max(count, int(sizes[0]))]
    reception = town.addresses.add(town.addresses.sample(rng, len(sizes)))
    corporate_ip = geo.sample_home_ips(rng, len(sizes))
    member = np.repeat(np.arange(len(sizes)), sizes)
    phones = np.concatenate(
        [
            phone_band(rng, int(n), False, 9)
            if rng.random() < 0.4
            else geo.sample_honest_phones(rng, int(n), 0.03)
            for n in sizes
        ]
    )
    return town.people(
        rng,
        len(member),
        reception[member],
        corporate_ip[member],
        LOOKALIKE_CODE["office_reception"],
        phone=phones,
    )


def honest_population(rng: np.random.Generator, town: Town, count: int) -> HonestPopulation:
    """``count`` honest accounts in five segments, with Zipf activity."""
    households = _households(rng, town, int(count * 0.07))
    dorms = _dorms(rng, town, int(count * 0.04))
    offices = _offices(rng, town, int(count * 0.05))
    stations_n = int(count * 0.07)
    station_users = town.people(
        rng,
        stations_n,
        town.stations(rng, stations_n),
        geo.sample_home_ips(rng, stations_n),
        LOOKALIKE_CODE["pickup_station"],
    )
    singles_n = max(100, count - len(households) - len(dorms) - len(offices) - stations_n)
    homes = town.addresses.add(town.addresses.sample(rng, singles_n))
    new = (rng.random(singles_n) < 0.12).astype(np.int64)
    singles = town.people(
        rng, singles_n, homes, geo.sample_home_ips(rng, singles_n), new_account=new
    )
    buyers = np.concatenate([singles, households, dorms, offices, station_users])
    segment = np.repeat(
        np.arange(5),
        [len(singles), len(households), len(dorms), len(offices), len(station_users)],
    )
    rank = rng.permutation(len(buyers))
    weight = 1.0 / (rank + len(buyers) / 80.0)
    weight = np.where(town.accounts.column("new_account")[buyers] == 1, weight * 0.4, weight)
    return HonestPopulation(
        buyers=buyers, segment=segment.astype(np.int64), weight_cumulative=np.cumsum(weight)
    )


def sample_clock(
    rng: np.random.Generator, size: int, profile: str, weights: FloatArray | None = None
) -> IntArray:
    """Order times on world days by ``weights`` and the hour ``profile``."""
    day_weight = day_weights() if weights is None else weights
    if profile == "office":  # office workers order from work on working days
        weekday = WEEKDAY_FACTOR[(np.arange(FIRST_DAY, FIRST_DAY + WORLD_DAYS)) % 7] < 1.0
        day_weight = day_weight * np.where(weekday, 1.3, 0.5)
        day_weight = day_weight / day_weight.sum()
    day = FIRST_DAY + rng.choice(WORLD_DAYS, size=size, p=day_weight)
    hour = rng.choice(24, size=size, p=hour_profile(profile))
    # 双11 opens at midnight, and the 尾款 evening before it starts at 20:00.
    rush = rng.random(size) < 0.3
    hour = np.where(rush & (day == DOUBLE11_DAY), rng.integers(0, 2, size), hour)
    hour = np.where(rush & (day == DOUBLE11_DAY - 1), rng.integers(20, 24, size), hour)
    return (day * DAY + hour * HOUR + rng.integers(0, HOUR, size)).astype(np.int64)


def order_identity(
    rng: np.random.Generator, town: Town, buyer: IntArray, platform: IntArray
) -> tuple[IntArray, IntArray]:
    """Device and IP of honest orders: one device per (account, platform); NAT for phones.

    Now and then an order comes from a device id never seen before: a new
    phone, a reinstalled app, a privacy reset.
    """
    size = len(buyer)
    device = town.accounts.column("device")[buyer] + platform
    fresh = np.flatnonzero(rng.random(size) < FRESH_DEVICE_SHARE)
    device[fresh] = town.new_devices(len(fresh)) + platform[fresh]
    mobile = platform != WEB
    draw = rng.random(size)
    cgnat = mobile & (draw < CGNAT_SHARE)
    roaming = mobile & ~cgnat & (draw < CGNAT_SHARE + ROAMING_SHARE)
    ip = town.accounts.column("home_ip")[buyer].copy()
    ip = np.where(roaming, geo.sample_home_ips(rng, size), ip)
    ip = np.where(cgnat, town.cgnat_ips[rng.integers(0, len(town.cgnat_ips), size)], ip)
    return device, ip


def sample_platforms(rng: np.random.Generator, town: Town, buyer: IntArray) -> IntArray:
    usual = town.accounts.column("platform")[buyer]
    other = rng.choice(4, size=len(buyer), p=[0.3, 0.46, 0.09, 0.15])
    return np.where(rng.random(len(buyer)) < 0.9, usual, other).astype(np.int64)


def honest_orders(
    rng: np.random.Generator,
    town: Town,
    population: HonestPopulation,
    count: int,
    weights: FloatArray | None = None,
) -> tuple[Part, Lines]:
    """``count`` everyday orders; new accounts' first basket is sometimes built to the coupon."""
    buyer = population.pick(rng, count)
    segment_of = np.zeros(town.accounts.size, dtype=np.int64)
    segment_of[population.buyers] = population.segment
    segment = segment_of[buyer]
    created = np.zeros(count, dtype=np.int64)
    for code, profile in enumerate(PROFILE_OF_SEGMENT):
        mask = segment == code
        created[mask] = sample_clock(rng, int(mask.sum()), profile, weights)
    platform = sample_platforms(rng, town, buyer)
    device, ip = order_identity(rng, town, buyer, platform)
    part = Part.start(
        buyer=buyer,
        created=created,
        platform=platform,
        channel=rng.choice(5, size=count, p=CHANNEL_MIX),
        device=device,
        ip=ip,
        address=town.accounts.column("address")[buyer],
    )
    counts = (rng.choice(4, size=count, p=LINE_COUNT_SHARE) + 1).astype(np.int64)
    # After the festival: smaller baskets, more "猜你喜欢" recommendations.
    after = np.isin(created // DAY, POST_FESTIVAL_DAYS)
    counts[after & (rng.random(count) < 0.6)] = 1
    part.channel[after & (rng.random(count) < 0.3)] = 1
    first_sku = town.catalog.popular_skus(rng, count)
    # 凑单: a new account's basket sometimes is one item just above the new-customer threshold.
    new_account = town.accounts.column("new_account")[buyer] == 1
    to_threshold = new_account & (rng.random(count) < 0.25)
    first_sku[to_threshold] = rng.choice(town.bait_skus, int(to_threshold.sum()))
    counts[to_threshold] = 1
    return part, make_lines(rng, town.catalog, counts, first_sku)
