"""Empty parcels (空包) told by their shipping time: a studio's waybills are
bought the moment the order is paid, an honest shop's parcels leave with the
day's batch.  Weighed against the shop's own dispatch: a warehouse that ships
everything within the hour makes fast shipping no evidence at all."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from test_ring_evidence import START, _flagged, honest_shop

from riskkit_detectors.brushing import BrushingDetector

SKU = "SKU077"


def _shipped_with_the_batch(orders: pd.DataFrame, seed: int, fast_share: float) -> pd.DataFrame:
    """Parcels leave with the next evening's batch; ``fast_share`` of them
    within the hour (a shop near its warehouse, a same-day courier round)."""
    rng = np.random.default_rng(seed)
    orders = orders.copy()
    n = len(orders)
    batch = orders["paid_at"].dt.normalize() + pd.Timedelta(days=1, hours=18)
    jitter = pd.to_timedelta(rng.integers(0, 120, n), unit="m")
    fast = rng.random(n) < fast_share
    quick = orders["paid_at"] + pd.to_timedelta(rng.integers(5, 55, n), unit="m")
    orders["shipped_at"] = (batch + jitter).where(~fast, quick)
    return orders


def _big_shop() -> pd.DataFrame:
    """2400 honest accounts, about 4900 orders: enough of the shop's orders in
    any hour to tell its dispatch rate there."""
    return honest_shop(n_accounts=2400, seed=8)


def _popular(orders: pd.DataFrame, n_orders: int, seed: int) -> pd.DataFrame:
    """``SKU`` is the shop's best seller: ``n_orders`` honest orders over the 20 days."""
    rng = np.random.default_rng(seed)
    orders = orders.copy()
    orders.loc[rng.choice(len(orders), n_orders, replace=False), "sku_id"] = SKU
    return orders


def _studio(n_accounts: int, seed: int) -> pd.DataFrame:
    """Accounts in pairs at one address, each with three ordinary orders over
    the month, brush ``SKU`` within one hour; every empty parcel is shipped
    20-80 minutes after payment, paid like anybody's (30-300 s)."""
    rng = np.random.default_rng(seed)
    rows: list[dict[str, object]] = []
    burst_start = START + pd.Timedelta(days=12, hours=10)
    for a in range(n_accounts):
        address = f"温州市鹿城区花园路365号御景湾{a // 2}幢6单元27{a // 2:02d}室"
        for k in range(4):
            brushed = k == 0
            if brushed:
                created = burst_start + pd.Timedelta(seconds=int(rng.integers(0, 55 * 60)))
            else:
                created = START + pd.Timedelta(minutes=int(rng.integers(0, 20 * 1440)))
            paid = created + pd.Timedelta(seconds=int(rng.integers(30, 300)))
            shipped = (
                paid + pd.Timedelta(minutes=int(rng.integers(20, 80)))
                if brushed
                else paid.normalize()
                + pd.Timedelta(days=1, hours=18, minutes=int(rng.integers(0, 120)))
            )
            rows.append(
                {
                    "order_id": f"E{a}-{k}",
                    "buyer_id": f"e{a}",
                    "created_at": created,
                    "paid_at": paid,
                    "shop_id": "S1",
                    "sku_id": SKU if brushed else f"SKU{int(rng.integers(0, 70)):03d}",
                    "ship_phone": f"13{int(rng.integers(10**8, 10**9 - 1)):09d}",
                    "ship_address": address,
                    "carrier": "圆通速递" if brushed else "中通快递",
                    "amount_paid": 129.0,
                    "shipped_at": shipped,
                }
            )
    return pd.DataFrame(rows)


def test_a_studio_of_address_pairs_hiding_in_a_best_seller_is_found_by_its_shipping() -> None:
    """The SKU sells 150 in 20 days, so the hour's 24 orders are no burst that
    holds only the studio; the accounts share addresses in pairs, so a surge
    that links only otherwise unlinked accounts would link none; each has three
    ordinary orders, so the surge is not most of any account's orders.  Yet
    chance explains less than one of the hour's quickly shipped orders."""
    honest = _shipped_with_the_batch(_popular(_big_shop(), 150, seed=3), 4, 0.005)
    ring = _studio(24, seed=6)
    orders = pd.concat([honest, ring], ignore_index=True)
    flagged = _flagged(BrushingDetector().fit(orders))
    brushed = [f"E{a}-0" for a in range(24)]
    assert flagged[brushed].sum() >= 20
    assert not flagged.drop(ring["order_id"]).any()


def test_each_flagged_order_states_its_own_shipping_time() -> None:
    honest = _shipped_with_the_batch(_popular(_big_shop(), 150, seed=3), 4, 0.005)
    ring = _studio(24, seed=6)
    orders = pd.concat([honest, ring], ignore_index=True)
    scores = BrushingDetector().fit(orders).result_.tables["scores.csv"].set_index("order_id")
    flagged = scores[scores["flagged"].eq("true")]
    assert len(flagged) >= 20
    truth = orders.set_index("order_id")
    for order_id, reasons in flagged["reasons"].items():
        match = re.search(r"shipped (\d+) min after payment", reasons)
        assert match, reasons
        minutes = (
            truth.loc[order_id, "shipped_at"] - truth.loc[order_id, "paid_at"]
        ).total_seconds()
        assert int(match.group(1)) == round(minutes / 60)


def test_a_warehouse_that_ships_everything_at_once_convicts_no_flash_sale() -> None:
    """Sixty per cent of the shop's parcels leave within the hour; a flash
    sale brings forty buyers to one SKU in an hour: fast shipping is the
    shop's habit, and nobody is flagged."""
    rng = np.random.default_rng(12)
    honest = honest_shop(seed=8)
    sale = honest.sample(40, random_state=2).index
    honest.loc[sale, "sku_id"] = SKU
    moment = START + pd.Timedelta(days=12, hours=20)
    honest.loc[sale, "created_at"] = moment + pd.to_timedelta(rng.integers(0, 3600, 40), unit="s")
    honest.loc[sale, "paid_at"] = honest.loc[sale, "created_at"] + pd.Timedelta(seconds=40)
    orders = _shipped_with_the_batch(honest, 5, 0.6)
    detector = BrushingDetector().fit(orders)
    assert not _flagged(detector).any()
