"""Traffic drift fitted partition by partition (scan, plan, summarise, add up)
finds exactly what one fit on the whole frame finds, however the orders are
split, including labels and columns that only some partitions carry."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from riskkit import synth
from riskkit.orders import read_orders
from riskkit_detectors.traffic_drift import TrafficDriftDetector


@pytest.fixture(scope="module")
def orders(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    folder = tmp_path_factory.mktemp("drift-parts")
    synth.write_dataset(folder, 30_000, 8, "riskkit")
    return read_orders([folder / "orders.csv"]).frame


def _split(frame: pd.DataFrame, cuts: list[float]) -> list[pd.DataFrame]:
    """Slices at the given shares, moved forward so that no order is cut."""
    ids = frame["order_id"].to_numpy()
    bounds = [0]
    for share in cuts:
        cut = max(int(len(frame) * share), bounds[-1])
        while 0 < cut < len(frame) and ids[cut] == ids[cut - 1]:
            cut += 1
        bounds.append(cut)
    bounds.append(len(frame))
    return [frame.iloc[a:b].reset_index(drop=True) for a, b in itertools.pairwise(bounds)]


def _by_partitions(detector: TrafficDriftDetector, parts: list[pd.DataFrame]) -> None:
    plan = detector.plan_partitions([detector.scan_partition(p) for p in parts])
    detector.fit_summaries([detector.summarise_partition(p, plan) for p in parts], plan)


def _assert_same(whole: TrafficDriftDetector, parted: TrafficDriftDetector) -> None:
    for name, table in whole.result_.tables.items():
        pd.testing.assert_frame_equal(parted.result_.tables[name], table, check_exact=True)
    assert parted.result_.findings == whole.result_.findings
    assert parted.result_.summary == whole.result_.summary
    assert parted.result_.unavailable == whole.result_.unavailable


@pytest.mark.parametrize("cuts", [[0.5], [0.1, 0.35, 0.8], [0.0, 0.6]])
def test_partitioned_fit_equals_whole_fit(orders: pd.DataFrame, cuts: list[float]) -> None:
    detector = TrafficDriftDetector(min_orders=5)
    whole = detector.fit(orders)
    shop_scopes = set(whole.windows_["scope"]) - {"all"}
    assert len(shop_scopes) >= 2  # the shop scopes are exercised too
    parted = TrafficDriftDetector(min_orders=5)
    _by_partitions(parted, _split(orders, cuts))
    _assert_same(whole, parted)


def test_labels_and_columns_only_some_partitions_carry(orders: pd.DataFrame) -> None:
    frame = orders.copy()
    first, second, third = _split(frame, [0.3, 0.7])
    # a channel and a platform only the last partition has; coupons only in the first
    third = third.assign(channel=np.where(np.arange(len(third)) % 7 == 0, "tv-shopping", "app"))
    second = second.assign(coupon_code=pd.NA, discount_amount=np.nan)
    third = third.assign(coupon_code=pd.NA, discount_amount=np.nan)
    whole_frame = pd.concat([first, second, third], ignore_index=True)
    whole = TrafficDriftDetector(min_orders=5).fit(whole_frame)
    parted = TrafficDriftDetector(min_orders=5)
    _by_partitions(parted, [first, second, third])
    _assert_same(whole, parted)
    # the merge really had to line up different label sets
    plan = parted.plan_partitions([parted.scan_partition(p) for p in (first, second, third)])
    labels = [
        parted.summarise_partition(p, plan)["all"].features["channel"].labels
        for p in (first, third)
    ]
    assert "tv-shopping" in labels[1] and "tv-shopping" not in labels[0]
    # coupons exist in the first partition only, yet the feature is counted everywhere
    assert "coupon_use" in parted.summarise_partition(third, plan)["all"].features


def test_a_partition_without_orders_changes_nothing(orders: pd.DataFrame) -> None:
    whole = TrafficDriftDetector().fit(orders)
    parted = TrafficDriftDetector()
    _by_partitions(parted, [orders.iloc[:0], orders, orders.iloc[:0]])
    _assert_same(whole, parted)
