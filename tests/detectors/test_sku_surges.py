"""SKU surges: a ring's burst on a SKU that sells every day is found against the
SKU's own sales and its shop's traffic; bystanders of the burst stay unlinked."""

from __future__ import annotations

import numpy as np
import pandas as pd
from test_ring_evidence import START, _flagged, _instant_payers, honest_shop, one_sku_buyers

from riskkit_detectors.brushing import BrushingDetector
from riskkit_detectors.brushing_features import repeat_sku_indicator
from riskkit_detectors.evidence_bursts import sku_surges

HOUR = 3600.0
DAY = 86_400.0
WINDOWS = (1800.0, HOUR, 2 * HOUR, 4 * HOUR, 8 * HOUR, 16 * HOUR, DAY)


def _daily_sales(seed: int, promotion_day: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Twenty SKUs of one shop, about three sales a day each for twenty days;
    on the promotion day every SKU sells five times as much."""
    rng = np.random.default_rng(seed)
    items, times = [], []
    for day in range(20):
        lift = 5 if day == promotion_day else 1
        for sku in range(20):
            n = int(rng.poisson(3 * lift))
            items.append(np.full(n, sku))
            times.append(day * DAY + rng.uniform(0, DAY, n))
    return np.concatenate(items), np.concatenate(times)


def test_a_burst_on_a_sku_that_sells_every_day_is_a_surge() -> None:
    item, seconds = _daily_sales(seed=1, promotion_day=None)
    burst_times = 9 * DAY + 10 * HOUR + np.linspace(0, 2 * HOUR, 16)
    item = np.concatenate([item, np.full(16, 7)])
    seconds = np.concatenate([seconds, burst_times])
    surge = sku_surges(item, seconds, np.zeros(len(item), dtype=np.int64), WINDOWS, 8)
    assert set(np.unique(surge[surge >= 0])) == {7}
    # The 16 burst orders are inside; the SKU's ordinary sales on other days are not.
    assert (surge[-16:] == 7).all()
    assert not (surge[:-16] >= 0)[(seconds[:-16] < 9 * DAY) | (seconds[:-16] > 10 * DAY)].any()


def test_a_shop_wide_promotion_day_is_no_surge() -> None:
    item, seconds = _daily_sales(seed=2, promotion_day=11)
    surge = sku_surges(item, seconds, np.zeros(len(item), dtype=np.int64), WINDOWS, 8)
    assert not (surge >= 0).any()


def test_a_gift_sender_reordering_to_other_addresses_is_no_repeat() -> None:
    """Same buyer, same SKU, three orders in an hour: to one address it is a
    repeat; to three friends' addresses it is gifts."""
    buyer = np.zeros(3, dtype=np.int64)
    item = np.zeros(3, dtype=np.int64)
    times = np.array([0.0, 600.0, 1200.0])
    order = np.arange(3)
    same = repeat_sku_indicator(buyer, item, times, order, 3, DAY, np.array([4, 4, 4]))
    gifts = repeat_sku_indicator(buyer, item, times, order, 3, DAY, np.array([4, 5, 6]))
    unknown = repeat_sku_indicator(buyer, item, times, order, 3, DAY, np.array([-1, -1, -1]))
    assert same.hit.all() and unknown.hit.all()
    assert not gifts.hit.any()


def _surge_ring_shop() -> tuple[pd.DataFrame, list[str], list[str]]:
    """A shop whose SKU005 sells every day; sixteen one-order accounts with
    nothing in common take it within two hours and pay within two seconds.
    During the burst a student of a five-bed dormitory and a regular with
    thirty orders also buy it and pay at once."""
    rng = np.random.default_rng(21)
    orders = _instant_payers(honest_shop(), 0.2, seed=9)
    popular = orders.sample(120, random_state=4).index
    orders.loc[popular, "sku_id"] = "SKU005"
    dorm = "南京市鼓楼区汉口路22号南京大学鼓楼校区南园7舍302室"
    for i in range(5):
        orders.loc[orders["buyer_id"] == f"h{i}", "ship_address"] = dorm
    burst = START + pd.Timedelta(days=9, hours=14)
    ring = one_sku_buyers(
        "r",
        [burst + pd.Timedelta(minutes=7 * a) for a in range(16)],
        "SKU005",
        [f"重庆市渝中区解放碑{a}号{a % 5}栋{a}0{a}室" for a in range(16)],
        "6620",
        59.0,
        rng,
    )
    ring["paid_at"] = ring["created_at"] + pd.Timedelta(seconds=2)
    regular_orders = []
    for k in range(30):
        created = START + pd.Timedelta(hours=15 * k + 3)
        if k == 14:
            created = burst + pd.Timedelta(minutes=50)
        regular_orders.append(
            {
                "order_id": f"G{k}",
                "buyer_id": "regular",
                "created_at": created,
                "paid_at": created + pd.Timedelta(seconds=2 if k == 14 else 300),
                "shop_id": "S1",
                "sku_id": "SKU005" if k == 14 else f"SKU{k % 80:03d}",
                "ship_phone": "13912345678",
                "ship_address": "上海市徐汇区漕溪北路88号1栋1单元101室",
                "carrier": "中通快递",
                "tracking_no": f"5510{k:08d}",
                "amount_paid": 80.0,
            }
        )
    student = pd.DataFrame(
        [
            {
                "order_id": "D0",
                "buyer_id": "h0",
                "created_at": burst + pd.Timedelta(minutes=30),
                "paid_at": burst + pd.Timedelta(minutes=30, seconds=2),
                "shop_id": "S1",
                "sku_id": "SKU005",
                "ship_phone": "13800000000",
                "ship_address": dorm,
                "carrier": "中通快递",
                "tracking_no": "551199999999",
                "amount_paid": 59.0,
            }
        ]
    )
    frame = pd.concat([orders, ring, pd.DataFrame(regular_orders), student], ignore_index=True)
    bystanders = [f"h{i}" for i in range(5)] + ["regular"]
    return frame, list(ring["order_id"]), bystanders


def test_a_one_order_ring_surging_on_a_daily_seller_is_found_and_bystanders_are_not() -> None:
    orders, ring_orders, bystanders = _surge_ring_shop()
    # Most of SKU005's sales lie outside the burst: a "most sales in one window"
    # rule cannot see it.
    sku = orders[orders["sku_id"] == "SKU005"]
    assert (sku["order_id"].isin(ring_orders)).mean() < 0.5
    detector = BrushingDetector().fit(orders)
    flagged = _flagged(detector)
    assert flagged[ring_orders].sum() >= 14
    by_buyer = orders.set_index("order_id")["buyer_id"]
    flagged_buyers = set(by_buyer[flagged[flagged].index])
    assert not flagged_buyers & set(bystanders)
    assert flagged_buyers <= {f"r{a}" for a in range(16)}
    reasons = " ".join(f["reasons"] for f in detector.result_.findings)
    assert "paid within 5 s" in reasons
