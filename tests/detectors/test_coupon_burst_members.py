"""Who in a burst of redemptions is the farm's, on exports with registration
times: accounts that each registered alone but arrived the farm's way, the
honest newcomers redeeming beside them, a live stream's audience at a parcel
station, and a customer who signed up in a ring's hour and came back."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from riskkit_detectors.coupon_abuse import CouponAbuseDetector
from riskkit_detectors.coupon_burst_members import Trait, audiences, burst_fingerprints

START = pd.Timestamp("2026-10-01 00:00")
SHOP = "S1"
CHANNELS = ["search", "recommend", "direct"]


def _order(
    order_id: str,
    buyer: str,
    at: pd.Timestamp,
    registered: pd.Timestamp,
    sku: str,
    gross: float,
    coupon: bool,
    channel: str,
) -> dict[str, object]:
    return {
        "order_id": order_id,
        "buyer_id": buyer,
        "created_at": at,
        "buyer_registered_at": registered,
        "shop_id": SHOP,
        "sku_id": sku,
        "coupon_code": "NEW20" if coupon else "",
        "discount_amount": 20.0 if coupon else 0.0,
        "amount_paid": gross - 20.0 if coupon else gross,
        "channel": channel,
    }


SPAN_MINUTES = 12 * 24 * 60


def _regulars(
    rng: np.random.Generator,
    count: int,
    visits: int,
    baskets: list[float],
    sku_of: Callable[[int], str],
) -> list[dict[str, object]]:
    """Regulars registered long ago, coming back ``visits`` times in twelve days."""
    rows: list[dict[str, object]] = []
    for i in range(count):
        registered = START - pd.Timedelta(days=int(rng.integers(60, 900)))
        for visit in range(visits):
            at = START + pd.Timedelta(minutes=int(rng.integers(0, SPAN_MINUTES)))
            gross = float(rng.choice(baskets))
            sku = sku_of(i)
            channel = str(rng.choice(CHANNELS))
            rows.append(
                _order(f"R{i}-{visit}", f"regular{i}", at, registered, sku, gross, False, channel)
            )
    return rows


def _newcomers(rng: np.random.Generator, cheap_sku: bool) -> list[dict[str, object]]:
    """90 honest newcomers, each registering alone, redeeming NEW20 (a third of
    them just over its ¥59 threshold) through the shop's usual channels."""
    rows: list[dict[str, object]] = []
    for i in range(90):
        at = START + pd.Timedelta(minutes=int(rng.integers(0, SPAN_MINUTES)))
        registered = at - pd.Timedelta(minutes=int(rng.integers(3, 3000)))
        gross = float(rng.choice([59.9, 99.0, 129.0]))
        channel = str(rng.choice(CHANNELS))
        sku = "SKU-CHEAP" if cheap_sku and gross < 60 and i % 3 == 0 else f"SKU{i % 40}"
        rows.append(_order(f"N{i}", f"newcomer{i}", at, registered, sku, gross, True, channel))
    return rows


def _shop(seed: int) -> list[dict[str, object]]:
    """Twelve days of a shop: 400 regulars and 90 honest newcomers, some of
    whom buy the cheap SKU a farm will work."""
    rng = np.random.default_rng(seed)
    baskets = [59.0, 88.0, 129.0, 199.0, 259.0]
    rows = _regulars(rng, 400, 3, baskets, lambda i: f"SKU{i % 40}")
    return rows + _newcomers(rng, cheap_sku=True)


def _lone_farm(n: int, at: pd.Timestamp) -> list[dict[str, object]]:
    """A farm whose accounts share nothing and each register alone, minutes
    before their one order: ``n`` redemptions of SKU-CHEAP two hours apart,
    two in three arriving through one rebate (affiliate) link."""
    rows = []
    for i in range(n):
        when = at + pd.Timedelta(hours=2 * i)
        channel = "affiliate" if i % 3 else "search"
        rows.append(
            _order(
                f"F{i}",
                f"farm{i}",
                when,
                when - pd.Timedelta(minutes=8),
                "SKU-CHEAP",
                59.9,
                True,
                channel,
            )
        )
    return rows


def _frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    """The orders, each shipped to its own address and phone (numbers far
    apart: consecutive ones would make the whole shop one band)."""
    frame = pd.DataFrame(rows)
    frame["ship_phone"] = [f"139{i * 7919 % 10**8:08d}" for i in range(len(frame))]
    frame["ship_address"] = [
        f"杭州市西湖区文三路{i}号{i % 7 + 1}栋{i % 30 + 101}室" for i in range(len(frame))
    ]
    return frame


def _flagged(detector: CouponAbuseDetector) -> pd.Series:
    scores = detector.result_.tables["scores.csv"].set_index("order_id")
    return scores["flagged"] == "true"


def _quoted(detector: CouponAbuseDetector, pattern: str) -> re.Match[str]:
    """The one finding's reason matching ``pattern``."""
    (finding,) = detector.result_.findings
    match = re.search(pattern, finding["reasons"])
    assert match is not None, finding["reasons"]
    return match


def test_accounts_arriving_the_farms_way_are_its_members() -> None:
    """No two farm accounts were registered within hours of each other, so no
    registration batch ties them; the rebate link that brought two in three of
    them, and almost none of the shop's other threshold-sized redemptions, does."""
    farm = _lone_farm(30, START + pd.Timedelta(days=4))
    orders = _frame(_shop(0) + farm)
    detector = CouponAbuseDetector().fit(orders)
    flagged = _flagged(detector)
    affiliate = [str(r["order_id"]) for r in farm if r["channel"] == "affiliate"]
    assert flagged.loc[affiliate].all()
    # The shop's honest newcomers, those redeeming on SKU-CHEAP during the
    # farm's days included, arrived the shop's usual ways: none is flagged.
    honest = [i for i in orders["order_id"] if not str(i).startswith("F")]
    assert not flagged.loc[honest].any()
    match = _quoted(
        detector,
        r"(\d+) of the burst's (\d+) redemptions came through channel affiliate, "
        r"against ([\d.]+) % of the shop's other threshold-sized ones",
    )
    assert int(match.group(1)) == len(affiliate)
    assert float(match.group(3)) < 5.0


def test_fingerprint_needs_a_value_rare_in_the_background() -> None:
    """A value most of the shop's redemptions show marks no one, however many
    of the burst's orders show it; a rare one marks exactly its orders."""
    # Orders 0-99 outside any burst, 100-139 in burst 0.
    burst = np.full(140, -1, dtype=np.int64)
    burst[100:] = 0
    shop = np.zeros(140, dtype=np.int64)
    sized = np.ones(140, dtype=bool)
    common = Trait(np.zeros(140, dtype=np.int64), ["came through channel search", "other"])
    rare_codes = np.zeros(140, dtype=np.int64)
    rare_codes[[3, *range(100, 120)]] = 1
    rare = Trait(rare_codes, ["came through channel search", "came through channel affiliate"])
    prints = burst_fingerprints(
        burst, shop, sized, {"channel": common}, 5, expected=np.array([4.0])
    )
    assert not prints.marked.any()
    prints = burst_fingerprints(burst, shop, sized, {"channel": rare}, 5, expected=np.array([4.0]))
    assert prints.marked[100:120].all()
    assert not prints.marked[120:].any() and not prints.marked[:100].any()
    assert "20 of the burst's 40 redemptions came through channel affiliate" in prints.facts[0]
    # Where chance would put a whole honest order on the value, it marks no one.
    prints = burst_fingerprints(burst, shop, sized, {"channel": rare}, 5, expected=np.array([80.0]))
    assert not prints.marked.any()


def _big_shop_with_a_live_stream(seed: int) -> pd.DataFrame:
    """A shop of 4000 regulars and a trickle of honest newcomers, whose live
    stream one evening brings 1000 newcomers within the hour: each registers
    minutes before its one order of what was shown (never a threshold-sized
    basket), and about one in 120 collects at the district's parcel station."""
    rng = np.random.default_rng(seed)
    rows = _regulars(rng, 4000, 2, [59.0, 88.0, 129.0], lambda _: f"SKU{int(rng.integers(0, 60))}")
    rows += _newcomers(rng, cheap_sku=False)
    evening = START + pd.Timedelta(days=6, hours=20)
    for i in range(1000):
        at = evening + pd.Timedelta(seconds=int(rng.integers(0, 3600)))
        registered = at - pd.Timedelta(minutes=int(rng.integers(1, 6)))
        sku = f"LIVE{int(rng.integers(0, 4))}"
        gross = float(rng.choice([99.0, 109.0, 129.0, 139.0]))
        rows.append(_order(f"L{i}", f"viewer{i}", at, registered, sku, gross, True, "live_stream"))
    orders = _frame(rows)
    station = orders["order_id"].str.startswith("L") & (rng.random(len(orders)) < 1 / 120)
    orders.loc[station, "ship_address"] = "杭州市西湖区文三路88号菜鸟驿站"
    return orders


@pytest.mark.parametrize("seed", [1, 6, 7])
def test_live_stream_audience_at_a_parcel_station_is_not_a_farm(seed: int) -> None:
    """The viewers at the station registered in one hour and bought the same
    few products: all of it is what the audience does.  None is flagged.
    (A look-alike check: the audience rule itself is pinned by the next test
    and by the farm-during-a-live-stream test.)"""
    orders = _big_shop_with_a_live_stream(seed)
    detector = CouponAbuseDetector().fit(orders)
    assert not _flagged(detector).any()


def test_a_group_arriving_like_its_rush_is_an_audience() -> None:
    """Groups 0 and 1 each have most of their redemptions in a rush whose
    other redemptions (no group) came through the live stream.  Group 0 came
    the same way: an audience.  Group 1 came through a rebate link: unlike
    the rush, and only its rebate-link orders are marked as arriving unlike."""
    n = 300
    group = np.full(n, -1, dtype=np.int64)
    group[:40] = 0
    group[40:80] = 1
    channel = np.zeros(n, dtype=np.int64)  # 0: live_stream
    channel[40:70] = 1  # 1: affiliate
    in_rush = np.ones(n, dtype=bool)
    in_rush[75:80] = False
    trait = Trait(channel, ["came through channel live_stream", "came through channel affiliate"])
    crowd = audiences(
        group,
        np.zeros(n, dtype=np.int64),
        np.ones(n, dtype=bool),
        in_rush,
        {"channel": trait},
        np.zeros(2, dtype=bool),
    )
    assert crowd.audience.tolist() == [True, True]
    assert crowd.unlike.tolist() == [False, True]
    assert crowd.arrived_unlike[40:70].all()
    assert not crowd.arrived_unlike[:40].any() and not crowd.arrived_unlike[70:].any()
    # Without any trait to tell, the caller's stand-in decides.
    crowd = audiences(
        group,
        np.zeros(n, dtype=np.int64),
        np.ones(n, dtype=bool),
        in_rush,
        {},
        np.array([False, True]),
    )
    assert crowd.unlike.tolist() == [False, True]


def test_customer_registered_in_a_rings_hour_who_came_back_is_not_a_member() -> None:
    """A ring registers 12 accounts within the hour, all on one device, each
    redeeming once.  A neighbour who signed up in the same hour and shares the
    ring's home router (a household-sized link) redeemed too -- and then kept
    shopping: a customer, not one of the ring."""
    rows = _shop(5)
    hour = START + pd.Timedelta(days=3, hours=9)
    for i in range(12):
        rows.append(
            _order(
                f"C{i}",
                f"ring{i}",
                hour + pd.Timedelta(hours=2, minutes=7 * i),
                hour + pd.Timedelta(minutes=4 * i),
                "SKU-CHEAP",
                59.9,
                True,
                "search",
            )
        )
    neighbour = hour + pd.Timedelta(minutes=21)
    rows.append(
        _order(
            "K0",
            "neighbour",
            neighbour + pd.Timedelta(hours=3),
            neighbour,
            "SKU7",
            99.0,
            True,
            "search",
        )
    )
    for visit in range(1, 6):
        rows.append(
            _order(
                f"K{visit}",
                "neighbour",
                neighbour + pd.Timedelta(days=visit),
                neighbour,
                f"SKU{visit}",
                129.0,
                False,
                "search",
            )
        )
    orders = _frame(rows)
    orders["device_id"] = ""
    orders["ip"] = ""
    ring = orders["order_id"].str.startswith("C")
    orders.loc[ring, "device_id"] = "D-FARM-1"
    orders.loc[orders["buyer_id"].isin(["ring0", "neighbour"]), "ip"] = "10.1.2.3"
    detector = CouponAbuseDetector().fit(orders)
    flagged = _flagged(detector)
    assert flagged.loc[[f"C{i}" for i in range(12)]].all()
    assert not flagged.loc[[f"K{v}" for v in range(6)]].any()


def test_farm_during_a_live_stream_is_found_and_the_viewers_beside_it_are_not() -> None:
    """A live stream runs two hours: 500 viewers in the first, 100 in the
    second, each registering minutes before its one order.  A farm of 60
    accounts on one band of virtual-operator numbers, registered one every
    72 minutes over three days, redeems SKU-CHEAP through a rebate link or
    directly; one of its accounts registered in the stream's second hour,
    which joins that hour's viewers to its group.  The group is mostly
    viewers, so it is judged as an audience: it is still a farm, for its
    accounts arrived unlike the stream's, and the viewers registered in the
    group's densest hour are not its members."""
    rng = np.random.default_rng(1)
    rows = _regulars(rng, 1500, 2, [59.0, 88.0, 129.0], lambda i: f"SKU{i % 40}")
    rows += _newcomers(rng, cheap_sku=False)
    evening = START + pd.Timedelta(days=6, hours=20)
    for i in range(600):
        second_hour = 3600 if i < 100 else 0
        at = evening + pd.Timedelta(seconds=int(rng.integers(0, 3600)) + second_hour)
        registered = at - pd.Timedelta(minutes=int(rng.integers(1, 6)))
        sku = f"LIVE{int(rng.integers(0, 4))}"
        gross = float(rng.choice([99.0, 109.0, 129.0, 139.0]))
        rows.append(_order(f"L{i}", f"viewer{i}", at, registered, sku, gross, True, "live_stream"))
    first = evening - pd.Timedelta(days=1)
    for i in range(60):
        registered = first + pd.Timedelta(minutes=72 * i)
        at = registered + pd.Timedelta(minutes=10)
        channel = ["affiliate", "direct"][i % 2]
        rows.append(_order(f"C{i}", f"ring{i}", at, registered, "SKU-CHEAP", 59.9, True, channel))
    orders = _frame(rows)
    farm = orders["order_id"].str.startswith("C")
    orders.loc[farm, "ship_phone"] = [f"1710000{i:04d}" for i in range(int(farm.sum()))]
    flagged = _flagged(CouponAbuseDetector().fit(orders))
    assert flagged.loc[orders.loc[farm, "order_id"]].all()
    assert not flagged.loc[orders.loc[~farm, "order_id"]].any()


def test_drop_address_written_room_by_room_ties_its_accounts() -> None:
    """A farm ships 30 redemptions to five neighbouring flats of one stairwell,
    the building written three ways (号楼, 栋, 幢), six accounts per flat,
    each account registering alone over nine days.  A hundred office
    receptions hold eight colleagues each, so six accounts on one address is
    common here and no flat's address speaks alone; but on each flat every
    holder redeemed just over the threshold and never came back, which
    almost no other address's holders do."""
    rng = np.random.default_rng(1)
    rows = _regulars(rng, 1200, 3, [59.0, 88.0, 129.0, 199.0], lambda i: f"SKU{i % 40}")
    rows += _newcomers(rng, cheap_sku=False)
    first = START + pd.Timedelta(days=1)
    for i in range(30):
        registered = first + pd.Timedelta(hours=int(rng.integers(0, 9 * 24)))
        at = registered + pd.Timedelta(hours=int(rng.integers(1, 30)))
        channel = str(rng.choice(CHANNELS))
        rows.append(_order(f"D{i}", f"drop{i}", at, registered, "SKU-CHEAP", 59.9, True, channel))
    orders = _frame(rows)
    regular = orders["buyer_id"].str.startswith("regular")
    number = orders.loc[regular, "buyer_id"].str.removeprefix("regular").astype(int)
    orders.loc[regular, "ship_address"] = "杭州市西湖区文二路" + number.astype(str) + "号1栋101室"
    office = number[number < 800]
    orders.loc[office.index, "ship_address"] = (
        "深圳市南山区科技园" + (office // 8).astype(str) + "号大厦前台"
    )
    drop = orders["order_id"].str.startswith("D")
    building = ["号楼", "栋", "幢"]
    orders.loc[drop, "ship_address"] = [
        f"湖南省长沙市岳麓区科技路67号桃源居39{building[i % 3]}5单元20{3 + i % 5}室"
        for i in range(30)
    ]
    detector = CouponAbuseDetector().fit(orders)
    flagged = _flagged(detector)
    assert flagged.loc[orders.loc[drop, "order_id"]].all()
    assert not flagged.loc[orders.loc[~drop, "order_id"]].any()
    match = _quoted(
        detector,
        r"(\d+) of the (\d+) accounts on address \S+ redeemed just over the threshold and "
        r"never came back; in this export ([\d.]+) % of accounts holding such values",
    )
    assert match.group(1) == match.group(2) == "6"
    assert float(match.group(3)) < 5.0
