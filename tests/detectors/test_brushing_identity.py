"""Identity keys: address and phone normalisation, masked values, runs, bursts."""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskkit_detectors.identity import (
    IdentityKey,
    build_identity_graph,
    is_drop_point,
    normalise_address,
    normalise_phone,
    sequential_runs,
    sku_bursts,
)


def test_address_variants_of_one_household_share_a_key() -> None:
    variants = pd.Series(
        [
            "浙江省杭州市西湖区文一路100号阳光花园3号楼2单元501室",
            "杭州市 西湖区 文一路100号 阳光花园 3栋2单元501",
            "杭州市西湖区文一路100号阳光花园3幢2单元501房",
            "杭州市西湖区文一路100号阳光花园3-2-501",
            "杭州市西湖区文一路１００号阳光花园３栋２单元５０１室",  # full-width digits
        ]
    )
    keys = normalise_address(variants)
    assert keys.nunique() == 1
    other_room = normalise_address(pd.Series(["杭州市西湖区文一路100号阳光花园3号楼2单元502室"]))
    assert other_room.iloc[0] != keys.iloc[0]


def test_parcel_stations_collapse_to_the_station() -> None:
    stations = pd.Series(
        ["上海市浦东新区丽水路5号菜鸟驿站(3号店)", "上海市浦东新区丽水路5号菜鸟驿站"]
    )
    assert normalise_address(stations).nunique() == 1
    assert is_drop_point(stations).all()
    assert not is_drop_point(pd.Series(["上海市浦东新区丽水路5号3栋101"])).any()


def test_masked_values_are_unknown_not_shared() -> None:
    phones = normalise_phone(pd.Series(["138****5678", "138****5678", "+86 138 1234 5678"]))
    assert phones.isna().tolist() == [True, True, False]
    assert phones.iloc[2] == "13812345678"
    assert normalise_address(pd.Series(["北京市朝阳区****"])).isna().all()


def test_masked_phones_link_nobody() -> None:
    buyers = np.arange(4, dtype=np.int64)
    codes = np.array([-1, -1, -1, 0], dtype=np.int64)  # three masked, one known
    key = IdentityKey("phone", buyers, codes, pd.Index(["13812345678"]), 50)
    graph = build_identity_graph(4, [key])
    assert len(np.unique(graph.component)) == 4
    assert graph.links.empty


def test_identifier_shared_by_too_many_accounts_links_nobody() -> None:
    n = 100
    buyers = np.arange(n, dtype=np.int64)
    nat = IdentityKey("ip", buyers, np.zeros(n, dtype=np.int64), pd.Index(["10.0.0.1"]), 50)
    assert len(np.unique(build_identity_graph(n, [nat]).component)) == n
    small = IdentityKey("ip", buyers[:5], np.zeros(5, dtype=np.int64), pd.Index(["1.2.3.4"]), 50)
    graph = build_identity_graph(n, [small])
    assert len(np.unique(graph.component[:5])) == 1
    assert graph.links["n_accounts"].tolist() == [5]


def test_sequential_runs_need_two_distinct_values_within_the_gap() -> None:
    values = np.array([100, 101, 5, 300, 103, -1, 100], dtype=np.int64)
    runs = sequential_runs(values, np.zeros(7, dtype=np.int64), max_gap=3)
    assert runs[0] == runs[1] == runs[4] == runs[6] >= 0
    assert runs[2] == runs[3] == runs[5] == -1


def test_sku_burst_marks_only_the_burst_of_a_rarely_sold_sku() -> None:
    rng = np.random.default_rng(0)
    day = 86_400.0
    # SKU 0: 20 orders in two hours, 3 stray ones; SKU 1: 200 orders over 50 days.
    t0 = np.concatenate([10 * day + rng.uniform(0, 7200, 20), rng.uniform(0, 50 * day, 3)])
    t1 = rng.uniform(0, 50 * day, 200)
    item = np.concatenate([np.zeros(23), np.ones(200)]).astype(np.int64)
    burst = sku_bursts(item, np.concatenate([t0, t1]), day, min_orders=8, min_share=0.5)
    assert (burst[:20] == 0).all()
    assert (burst[23:] == -1).all()
