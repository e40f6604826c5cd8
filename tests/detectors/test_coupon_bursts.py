"""Coupon farms that share no identifier, on exports without registration times
(Shopify, Taobao): a burst of threshold-sized redemptions at one shop, weighed
against the shop's own background, and the live-stream audience that must not
be taken for one."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from riskkit_detectors.coupon_abuse import CouponAbuseDetector

START = pd.Timestamp("2026-10-01 00:00")
SHOP = "S1"


def _orders(rows: list[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    frame["shop_id"] = SHOP
    frame["ship_phone"] = [f"139{i:08d}" for i in range(len(frame))]
    frame["ship_address"] = [
        f"杭州市西湖区文三路{i}号{i % 7 + 1}栋{i % 30 + 101}室" for i in range(len(frame))
    ]
    return frame


def _shop(seed: int = 0) -> list[dict[str, object]]:
    """Ten days of a shop: regulars coming back, honest newcomers redeeming NEW20
    now and then on every kind of basket (a few just over its ¥59 threshold)."""
    rng = np.random.default_rng(seed)
    rows: list[dict[str, object]] = []
    for i in range(400):
        for visit in range(3):
            at = START + pd.Timedelta(minutes=int(rng.integers(0, 10 * 24 * 60)))
            rows.append(
                {
                    "order_id": f"R{i}-{visit}",
                    "buyer_id": f"regular{i}",
                    "created_at": at,
                    "sku_id": f"SKU{int(rng.integers(0, 40))}",
                    "coupon_code": "",
                    "amount_paid": float(rng.choice([59.0, 88.0, 129.0, 199.0, 259.0])),
                    "discount_amount": 0.0,
                }
            )
    for i in range(60):
        at = START + pd.Timedelta(minutes=int(rng.integers(0, 10 * 24 * 60)))
        gross = float(rng.choice([59.0, 62.0, 99.0, 129.0, 199.0]))
        rows.append(
            {
                "order_id": f"N{i}",
                "buyer_id": f"newcomer{i}",
                "created_at": at,
                "sku_id": f"SKU{int(rng.integers(0, 40))}",
                "coupon_code": "NEW20",
                "amount_paid": gross - 20.0,
                "discount_amount": 20.0,
            }
        )
        if i % 2 == 0:  # half of the honest newcomers come back
            rows.append(
                {
                    "order_id": f"N{i}-again",
                    "buyer_id": f"newcomer{i}",
                    "created_at": at + pd.Timedelta(days=1),
                    "sku_id": "SKU1",
                    "coupon_code": "",
                    "amount_paid": 129.0,
                    "discount_amount": 0.0,
                }
            )
    return rows


def _farm(n: int, at: pd.Timestamp) -> list[dict[str, object]]:
    """A farm: ``n`` accounts, each its own phone and address, each redeeming
    NEW20 once on a ¥62 basket within two hours, never seen again."""
    return [
        {
            "order_id": f"F{i}",
            "buyer_id": f"farm{i}",
            "created_at": at + pd.Timedelta(minutes=6 * i),
            "sku_id": "SKU-CHEAP",
            "coupon_code": "NEW20",
            "amount_paid": 42.0,
            "discount_amount": 20.0,
        }
        for i in range(n)
    ]


def _live_stream(n: int, at: pd.Timestamp) -> list[dict[str, object]]:
    """A live stream's audience: ``n`` newcomers within the hour, each redeeming
    NEW20 on what was shown (one product priced at the threshold), never back."""
    return [
        {
            "order_id": f"L{i}",
            "buyer_id": f"viewer{i}",
            "created_at": at + pd.Timedelta(seconds=20 * i),
            "sku_id": f"LIVE{i % 3}",
            "coupon_code": "NEW20",
            "amount_paid": [42.0, 109.0, 79.0][i % 3],
            "discount_amount": 20.0,
        }
        for i in range(n)
    ]


def _flagged(detector: CouponAbuseDetector) -> pd.Series:
    scores = detector.result_.tables["scores.csv"].set_index("order_id")
    return scores["flagged"] == "true"


def test_farm_with_only_a_burst_and_churn_is_found() -> None:
    """Two lines only -- the redemptions burst at the shop, and the accounts
    never return -- and no identifier at all: the farm is found."""
    farm = _farm(20, START + pd.Timedelta(days=3, hours=10))
    orders = _orders(_shop() + farm)
    detector = CouponAbuseDetector().fit(orders)
    flagged = _flagged(detector)
    farm_ids = [str(r["order_id"]) for r in farm]
    assert flagged.loc[farm_ids].all()
    assert not flagged.drop(farm_ids).any()
    (finding,) = detector.result_.findings
    assert "convicted by" in finding["reasons"]
    assert "redeemed a new-user coupon just over the ¥59 threshold" in finding["reasons"]
    assert "never ordered again after redeeming" in finding["reasons"]


def test_live_stream_flash_buyers_are_not_flagged() -> None:
    """150 newcomers in an hour, redeeming NEW20 and never returning, a third of
    them on the threshold-priced product: an audience, not a farm."""
    live = _live_stream(150, START + pd.Timedelta(days=5, hours=20))
    detector = CouponAbuseDetector().fit(_orders(_shop(1) + live))
    assert not _flagged(detector).any()


def test_burst_reason_states_true_counts_and_background() -> None:
    farm = _farm(20, START + pd.Timedelta(days=3, hours=10))
    orders = _orders(_shop(2) + farm)
    detector = CouponAbuseDetector().fit(orders)
    (finding,) = detector.result_.findings
    match = re.search(
        r"(\d+) of shop (\S+)'s (\d+) orders within ([\d.]+) (min|h) \(from ([\d-]+ [\d:]+)\) "
        r"redeemed a new-user coupon just over the ¥(\d+) threshold; in this export "
        r"([\d.e+-]+) % of that shop's orders outside such bursts do",
        finding["reasons"],
    )
    assert match is not None, finding["reasons"]
    near, shop, n_orders, span, unit, start, threshold, rate = match.groups()
    assert shop == SHOP
    gross = orders["amount_paid"] + orders["discount_amount"]
    limit = float(threshold)
    sized = (orders["coupon_code"] == "NEW20") & (gross >= limit) & (gross - 20.0 < limit)
    sized |= (orders["coupon_code"] == "NEW20") & (gross >= limit) & (gross <= 1.12 * limit)
    length = pd.Timedelta(minutes=float(span)) if unit == "min" else pd.Timedelta(hours=float(span))
    lo = pd.Timestamp(start)
    inside = (orders["created_at"] >= lo) & (
        orders["created_at"] <= lo + length + pd.Timedelta(minutes=1)
    )
    # The window holds the orders and the redemptions the reason counts.
    assert int(near) <= int((inside & sized).sum())
    assert int(near) <= int(n_orders) <= int(inside.sum())
    # The background: threshold-sized redemptions among the shop's orders
    # outside the burst.
    outside = ~inside
    actual = 100.0 * float(sized[outside].mean())
    assert abs(float(rate) - actual) <= 0.1 * actual + 0.05, (rate, actual)
