"""Sign surges and signs weighed one by one: a ring with no shared identifier and
no sales surge is found by its orders' signs crowding into days of one SKU;
honest buyers who show one of those signs at their usual rate are not."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from test_ring_evidence import START, _flagged, _instant_payers, honest_shop

from riskkit_detectors.brushing import BrushingDetector
from riskkit_detectors.evidence_bursts import telling_bursts
from riskkit_detectors.sign_surges import find_sign_surges, surge_windows

DAY = 86_400.0


def _with_receipts_and_reviews(orders: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Parcels signed for 2-5 days after payment; a third of buyers review,
    mostly days later, one in ten of them within the hour."""
    rng = np.random.default_rng(seed)
    n = len(orders)
    orders = orders.copy()
    orders["received_at"] = orders["paid_at"] + pd.to_timedelta(rng.uniform(2.2, 5.0, n), unit="D")
    reviews = rng.random(n) < 0.33
    quick = rng.random(n) < 0.1
    delay = np.where(quick, rng.uniform(0.1, 1.0, n), rng.uniform(24, 200, n))
    orders["reviewed_at"] = (orders["received_at"] + pd.to_timedelta(delay, unit="h")).where(
        reviews
    )
    orders["review_rating"] = np.where(reviews, rng.choice([3, 4, 5], n, p=[0.2, 0.3, 0.5]), np.nan)
    return orders


def _studio_ring(sku: str, n_accounts: int, rng: np.random.Generator) -> pd.DataFrame:
    """Old accounts, each with its own phone and address, order ``sku`` once
    over five days; the empty parcel is signed for the next morning and a
    five-star review follows within minutes."""
    rows = []
    for a in range(n_accounts):
        created = START + pd.Timedelta(
            days=9 + 5 * a / n_accounts, minutes=int(rng.integers(0, 600))
        )
        paid = created + pd.Timedelta(seconds=int(rng.integers(30, 600)))
        received = paid + pd.Timedelta(hours=int(rng.integers(14, 22)))
        rows.append(
            {
                "order_id": f"S{a}",
                "buyer_id": f"s{a}",
                "created_at": created,
                "paid_at": paid,
                "shop_id": "S1",
                "sku_id": sku,
                "ship_phone": f"13{int(rng.integers(10**8, 10**9 - 1)):09d}",
                "ship_address": f"广州市天河区体育西路{a}号{a % 9}栋{a}室",
                "carrier": "中通快递",
                "tracking_no": f"8812{int(rng.integers(0, 10**8)):08d}",
                "amount_paid": 89.0,
                "received_at": received,
                "reviewed_at": received + pd.Timedelta(minutes=int(rng.integers(2, 12))),
                "review_rating": 5.0,
            }
        )
    return pd.DataFrame(rows)


def _shop_with_studio() -> tuple[pd.DataFrame, list[str], list[str]]:
    rng = np.random.default_rng(5)
    honest = _with_receipts_and_reviews(honest_shop(seed=8), seed=2)
    ring = _studio_ring("SKU010", 20, rng)
    # Two honest regulars buy the SKU during the studio's week and, as one
    # reviewer in ten does, review it within the hour.
    window = (honest["created_at"] > START + pd.Timedelta(days=9.5)) & (
        honest["created_at"] < START + pd.Timedelta(days=13.5)
    )
    quick = honest.index[window & honest["review_rating"].isna()][:2]
    honest.loc[quick, "sku_id"] = "SKU010"
    honest.loc[quick, "review_rating"] = 5.0
    honest.loc[quick, "reviewed_at"] = honest.loc[quick, "received_at"] + pd.Timedelta(minutes=20)
    frame = pd.concat([honest, ring], ignore_index=True)
    return frame, list(ring["order_id"]), list(honest.loc[quick, "order_id"])


def test_a_studio_sharing_nothing_is_found_by_its_sign_surges_and_bystanders_are_not() -> None:
    orders, ring_orders, bystanders = _shop_with_studio()
    detector = BrushingDetector().fit(orders)
    flagged = _flagged(detector)
    assert flagged[ring_orders].sum() >= 18
    assert not flagged[bystanders].any()
    assert not flagged.drop(ring_orders).any()
    (finding,) = detector.result_.findings
    assert "surge of" in finding["shared_identifiers"]


def _habitual_quick_reviewer(orders: pd.DataFrame) -> pd.DataFrame:
    """One honest customer next door to the courier's depot, with thirty orders
    over the month: every parcel signed for the next day and reviewed 5★
    within the hour, two of them SKU010 during the studio's week."""
    rng = np.random.default_rng(11)
    rows = []
    for k in range(30):
        day = 9.6 + 0.2 * k if k < 2 else float(rng.uniform(0, 20))
        created = START + pd.Timedelta(days=day)
        received = created + pd.Timedelta(hours=float(rng.uniform(14, 30)))
        rows.append(
            {
                "order_id": f"Q{k}",
                "buyer_id": "q0",
                "created_at": created,
                "paid_at": created + pd.Timedelta(minutes=3),
                "shop_id": "S1",
                "sku_id": "SKU010" if k < 2 else f"SKU{int(rng.integers(0, 80)):03d}",
                "ship_phone": "13912345678",
                "ship_address": "上海市徐汇区漕溪北路88号3栋1201室",
                "carrier": "中通快递",
                "tracking_no": f"6620{int(rng.integers(0, 10**8)):08d}",
                "amount_paid": 89.0,
                "received_at": received,
                "reviewed_at": received + pd.Timedelta(minutes=int(rng.integers(5, 50))),
                "review_rating": 5.0,
            }
        )
    return pd.concat([orders, pd.DataFrame(rows)], ignore_index=True)


def test_a_customer_who_reviews_everything_at_once_is_no_studio_account() -> None:
    """Two of thirty orders in the studio's surge: the surge is not what the
    account is for, and none of its orders is flagged; the studio still is."""
    orders, ring_orders, _ = _shop_with_studio()
    orders = _habitual_quick_reviewer(orders)
    detector = BrushingDetector().fit(orders)
    flagged = _flagged(detector)
    assert flagged[ring_orders].sum() >= 18
    assert not flagged[[f"Q{k}" for k in range(30)]].any()


def test_a_sign_surge_reason_states_true_counts() -> None:
    orders, _, _ = _shop_with_studio()
    detector = BrushingDetector().fit(orders)
    (finding,) = detector.result_.findings
    quoted = re.findall(
        r"(\d+) of (\d+) order lines of SKU SKU010 \(shop S1\) reviewed 5★ within 12 h of "
        r"receipt within [^(]+\(from (\d{4}-\d\d-\d\d \d\d:\d\d)\)",
        finding["reasons"],
    )
    assert quoted, finding["reasons"]
    told, lines, start = quoted[0]
    sku = orders[orders["sku_id"] == "SKU010"]
    instant = (sku["review_rating"] >= 5) & (
        (sku["reviewed_at"] - sku["received_at"]) <= pd.Timedelta(hours=12)
    )
    first = pd.Timestamp(start)
    showing = sku[instant & (sku["created_at"] >= first)].sort_values("created_at")
    # The window runs from its first to its last sign-showing order.
    in_window = showing.iloc[: int(told)]
    last = in_window["created_at"].max()
    assert in_window["created_at"].min().strftime("%Y-%m-%d %H:%M") == start
    assert len(sku[(sku["created_at"] >= first) & (sku["created_at"] <= last)]) <= int(lines)


def test_no_signs_to_scan_is_no_surge() -> None:
    surges = find_sign_surges(
        [],
        np.zeros(3, dtype=np.int64),
        np.array([0.0, 1.0, 2.0]),
        np.arange(3),
        np.arange(3),
        np.zeros(3, dtype=np.int64),
        surge_windows(DAY),
        8,
        str,
        str,
    )
    assert len(surges) == 0 and len(surges.buyers) == 0


def _weigh_burst(habit: bool, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One shop, one SKU: 400 orders outside a burst of 20.  Every waybill of
    the shop is sequential; the second sign hits every burst order and a
    fifth of the others.  Returns the kept codes, told lines, burst mask."""
    n = 420
    burst = np.where(np.arange(n) >= 400, 0, -1)
    inside = burst >= 0
    draw = np.random.default_rng(seed).random(n)
    known = np.ones(n, dtype=bool)
    second = np.where(inside, True, draw < 0.2)
    kept, told = telling_bursts(
        burst,
        np.arange(n),
        [(np.ones(n, dtype=bool), known), (second, known)],
        np.zeros(n, dtype=np.int64),
        np.zeros(n, dtype=np.int64),
        np.zeros(n, dtype=bool),
        np.arange(n),
        [False, habit],
    )
    return kept, told, inside


def test_a_batch_printing_shop_hides_no_burst_whose_parcels_arrive_at_once() -> None:
    """Any-sign-at-all says nothing in a shop whose waybills are all sequential;
    the burst's receipts, far faster than the shop's, convict it on their own."""
    kept, told, inside = _weigh_burst(habit=False, seed=1)
    assert (kept[inside] == 0).all() and told[inside].all()


def test_a_burst_of_instant_payers_alone_is_a_habit_not_a_conviction() -> None:
    """A snap-up's buyers all pay within the second: one habit of a cohort
    convicts no burst when the signs together do not."""
    kept, told, _ = _weigh_burst(habit=True, seed=2)
    assert (kept == -1).all() and not told.any()


def _flash_sale(orders: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """A two-hour sale of SKU007, one per order: 120 honest buyers, each at
    its own address, a fifth of them ordering a second unit minutes later."""
    rng = np.random.default_rng(21)
    rows = []
    for a in range(120):
        created = START + pd.Timedelta(days=12, minutes=float(rng.uniform(0, 120)))
        for k in range(2 if a % 5 == 0 else 1):
            placed = created + pd.Timedelta(minutes=7 * k)
            rows.append(
                {
                    "order_id": f"F{a}-{k}",
                    "buyer_id": f"f{a}",
                    "created_at": placed,
                    "paid_at": placed + pd.Timedelta(seconds=int(rng.integers(20, 900))),
                    "shop_id": "S1",
                    "sku_id": "SKU007",
                    "ship_phone": f"13{int(rng.integers(10**8, 10**9 - 1)):09d}",
                    "ship_address": f"武汉市洪山区珞喻路{a}号{a % 11}栋{a}室",
                    "carrier": "中通快递",
                    "tracking_no": f"4410{int(rng.integers(0, 10**8)):08d}",
                    "amount_paid": 19.9,
                }
            )
    sale = pd.DataFrame(rows)
    return pd.concat([orders, sale], ignore_index=True), list(sale["order_id"])


def test_a_sales_reorders_alone_convict_no_burst() -> None:
    """A sale that allows one unit per order has its buyers reorder within
    minutes: the sale's cohort shares that sign, and it links none of them.
    (A fifth of the shop's buyers pay within seconds, as in most exports.)"""
    orders, sale = _flash_sale(_instant_payers(honest_shop(seed=4), 0.2, seed=6))
    flagged = _flagged(BrushingDetector().fit(orders))
    assert not flagged[sale].any()
