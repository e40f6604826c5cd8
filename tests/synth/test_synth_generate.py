"""The generated marketplace: schema, determinism and the consistency of its ground truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskkit.errors import UsageError
from riskkit.orders.schema import ALL_COLUMNS, COLUMN_KIND
from riskkit.synth import SynthConfig, SynthData, generate

VIRTUAL_PREFIXES = ("170", "171", "162", "165", "167")


def test_same_seed_same_data_other_seed_other_data(synth: SynthData) -> None:
    rows, seed = len(synth.orders), synth.seed
    again = generate(rows, seed)
    pd.testing.assert_frame_equal(synth.orders, again.orders)
    pd.testing.assert_frame_equal(synth.labels, again.labels)
    pd.testing.assert_frame_equal(synth.price, again.price)
    assert synth.promotions == again.promotions
    other = generate(rows, seed + 1)
    assert not other.orders["order_id"].equals(synth.orders["order_id"]) or not other.orders[
        "buyer_id"
    ].equals(synth.orders["buyer_id"])


def test_exact_row_count_and_every_canonical_column_typed(synth: SynthData) -> None:
    orders = synth.orders
    assert len(orders) == 20_000
    assert list(orders.columns) == list(ALL_COLUMNS)
    for name in ALL_COLUMNS:
        kind = COLUMN_KIND[name]
        series = orders[name]
        if kind == "timestamp":
            assert pd.api.types.is_datetime64_dtype(series), name
            assert series.dt.tz is None, name
        elif kind in ("money", "number"):
            assert pd.api.types.is_float_dtype(series), name
        elif kind == "integer":
            assert pd.api.types.is_integer_dtype(series), name
        else:
            assert pd.api.types.is_string_dtype(series), name
        assert series.notna().any(), f"{name} is never filled"
    for name in ("order_id", "buyer_id", "created_at", "paid_at", "shop_id", "sku_id", "ip"):
        assert orders[name].notna().all(), name


def test_ids_are_strings_and_orders_are_contiguous(synth: SynthData) -> None:
    orders = synth.orders
    ids = orders["order_id"]
    assert ids.str.fullmatch(r"\d{19}").all()
    # One order's lines are adjacent and share order-level facts.
    starts = ids.ne(ids.shift())
    assert starts.sum() == ids.nunique() == len(synth.labels)
    per_order = orders.groupby("order_id", sort=False).nunique()
    for column in ("buyer_id", "created_at", "shop_id", "platform", "device_id", "ship_address"):
        assert (per_order[column] <= 1).all(), column
    assert synth.labels["order_id"].is_unique
    assert set(synth.labels["order_id"]) == set(ids)
    assert orders["created_at"].is_monotonic_increasing
    assert orders.groupby("order_id")["sku_id"].apply(lambda s: s.is_unique).all()
    # a device runs one platform, whoever uses it
    assert (orders.groupby("device_id")["platform"].nunique() == 1).all()


def test_money_and_times_are_consistent(order_level: pd.DataFrame, synth: SynthData) -> None:
    orders = synth.orders
    assert (orders["list_price"] >= orders["unit_price"]).all()
    assert (orders["unit_price"] > 0).all() and (orders["quantity"] >= 1).all()
    subtotal = (orders["unit_price"] * orders["quantity"]).groupby(orders["order_id"]).sum()
    level = order_level.set_index("order_id")
    paid = level["amount_paid"] + level["discount_amount"]
    assert np.allclose(paid, subtotal.reindex(level.index), atol=0.011)
    assert orders.groupby("order_id")["amount_paid"].count().eq(1).all()
    assert (level["buyer_registered_at"] <= level["created_at"]).all()
    assert (level["paid_at"] >= level["created_at"]).all()
    received = level.dropna(subset=["received_at"])
    transit = received["received_at"] - received["paid_at"]
    assert (transit > pd.Timedelta(hours=12)).all()
    reviewed = level.dropna(subset=["reviewed_at"])
    assert (reviewed["reviewed_at"] > reviewed["received_at"]).all()
    assert reviewed["review_rating"].isin([1, 2, 3, 4, 5]).all()
    assert (reviewed["review_rating"] >= 4).mean() > 0.8
    assert level["created_at"].min() >= pd.Timestamp("2026-09-28")
    assert level["created_at"].max() < pd.Timestamp("2026-11-23")


def test_realistic_marginals(order_level: pd.DataFrame) -> None:
    honest = order_level[order_level["label"] == "honest"]
    assert set(order_level["platform"]) == {"ios", "android", "web", "mini_program"}
    assert set(order_level["channel"]) == {
        "search",
        "recommend",
        "live_stream",
        "affiliate",
        "direct",
    }
    assert 0.01 < (honest["channel"] == "affiliate").mean() < 0.04
    virtual = honest["ship_phone"].str[:3].isin(VIRTUAL_PREFIXES).mean()
    assert 0.01 < virtual < 0.06
    assert honest["ship_phone"].str.fullmatch(r"1\d{10}").all()
    assert honest["ship_address"].str.contains("市").all()
    hours = order_level["created_at"].dt.hour.value_counts()
    assert hours[21] > 3 * hours[4]
    weekday = honest.groupby(honest["created_at"].dt.day_of_week).size()
    assert weekday[[5, 6]].mean() > 1.1 * weekday[[0, 1, 2, 3]].mean()
    refunded = (order_level["refund_amount"] > 0).mean()
    assert 0.005 < refunded < 0.08


def test_brushing_rings(order_level: pd.DataFrame, synth: SynthData) -> None:
    rings = synth.groups[synth.groups["kind"] == "brushing"]
    assert len(rings) >= 3
    assert rings["accounts"].between(10, 60).all()
    brushing = order_level[order_level["label"] == "brushing"]
    assert set(brushing["group_id"]) == set(rings["group_id"])
    assert (
        brushing.groupby("group_id")["buyer_id"].nunique()
        == rings.set_index("group_id")["accounts"]
    ).all()
    for ring in rings.itertuples():
        start, end = pd.Timestamp(ring.window_start), pd.Timestamp(ring.window_end)
        assert pd.Timedelta(hours=1) < end - start <= pd.Timedelta(days=2)
        orders = brushing[brushing["group_id"] == ring.group_id]
        targets = orders[orders["sku_id"].isin(ring.sku_ids.split())]
        assert len(targets) >= ring.accounts
        assert targets["created_at"].between(start, end).all()
        assert (targets["shop_id"] == ring.shop_id).all()
        # camouflage: the same accounts also buy elsewhere
        assert (orders["shop_id"] != ring.shop_id).any()
    # ring accounts never appear in honest orders
    honest_buyers = set(order_level.loc[order_level["label"] == "honest", "buyer_id"])
    assert not honest_buyers & set(brushing["buyer_id"])


def test_coupon_abuse_rings(order_level: pd.DataFrame, synth: SynthData) -> None:
    rings = synth.groups[synth.groups["kind"] == "coupon_abuse"]
    assert len(rings) >= 3
    assert rings["accounts"].between(8, 80).all()
    abuse = order_level[order_level["label"] == "coupon_abuse"]
    assert (abuse["coupon_code"] == "NEW30").all()
    subtotal = abuse["amount_paid"] + abuse["discount_amount"]
    assert subtotal.between(99, 110).all()
    assert (abuse["discount_amount"] == 30).all()
    # one order per account, accounts registered within minutes of each other
    assert abuse["buyer_id"].is_unique
    spread = abuse.groupby("group_id")["buyer_registered_at"].agg(lambda s: s.max() - s.min())
    assert (spread < pd.Timedelta(hours=1)).all()
    assert ((abuse["created_at"] - abuse["buyer_registered_at"]) < pd.Timedelta(days=2)).all()


def test_new_user_coupon_used_once_by_honest_new_users(order_level: pd.DataFrame) -> None:
    honest = order_level[order_level["label"] == "honest"]
    new30 = honest[honest["coupon_code"] == "NEW30"]
    assert len(new30) > 20
    assert new30["buyer_id"].is_unique
    assert (new30["lookalike"] == "new_user_coupon").all()
    first_order = honest.groupby("buyer_id")["created_at"].min()
    assert (new30["created_at"].to_numpy() == first_order[new30["buyer_id"]].to_numpy()).all()
    assert ((new30["amount_paid"] + 30) >= 99).all()
    # honest baskets are not pinned to the coupon threshold
    assert ((new30["amount_paid"] + 30) > 110).mean() > 0.3


def test_every_lookalike_present_and_honest(order_level: pd.DataFrame) -> None:
    expected = {
        "family_address", "cgnat_ip", "parcel_locker", "double11_rush",
        "loyal_repeat", "new_user_coupon", "flash_sale",
    }  # fmt: skip
    tagged = order_level[order_level["lookalike"] != ""]
    assert set(tagged["lookalike"]) == expected
    assert (tagged["label"] == "honest").all()
    assert tagged["lookalike"].value_counts().min() >= 10
    cgnat = tagged[tagged["lookalike"] == "cgnat_ip"]
    assert cgnat.groupby("ip")["buyer_id"].nunique().max() >= 100
    locker = tagged[tagged["lookalike"] == "parcel_locker"]
    assert locker["ship_address"].str.contains("菜鸟驿站").all()
    assert locker.groupby("ship_address")["buyer_id"].nunique().max() >= 3
    family = tagged[tagged["lookalike"] == "family_address"]
    household = family.groupby("ship_address")["buyer_id"].nunique()
    assert household.between(1, 5).all() and (household >= 2).any()
    assert (family["created_at"] - family["buyer_registered_at"] > pd.Timedelta(days=30)).all()


def test_double11_rush_and_loyal_buyers(order_level: pd.DataFrame) -> None:
    night = order_level[order_level["created_at"].dt.hour < 2]
    per_day = night.groupby(night["created_at"].dt.date).size()
    double11 = per_day[pd.Timestamp("2026-11-11").date()]
    assert 8 * per_day.drop(pd.Timestamp("2026-11-11").date()).median() < double11
    loyal = order_level[order_level["lookalike"] == "loyal_repeat"]
    weeks = loyal.groupby(["buyer_id", "sku_id"])["created_at"].agg(["count", "min", "max"])
    assert (weeks["count"] >= 4).all()


def test_price_discrimination_is_within_sku_and_day(synth: SynthData) -> None:
    orders = synth.orders
    rules = synth.price[synth.price["kind"] == "discriminated"]
    assert len(rules) >= 3
    platform_rules = rules[rules["attribute"] == "platform"]
    assert len(platform_rules) >= 1
    for rule in platform_rules.itertuples():
        lines = orders[orders["sku_id"] == rule.sku_id]
        lines = lines.assign(day=lines["created_at"].dt.floor("D"))
        # 双11 prices change within the day (from 11-10 20:00): compare ordinary days
        lines = lines[~lines["day"].isin(pd.to_datetime(["2026-11-10", "2026-11-11"]))]
        assert rule.reference_cohort == "others"
        side = np.where(lines["platform"] == rule.cohort, "cohort", "others")
        by_cell = lines.pivot_table(
            index="day", columns=side, values="unit_price", aggfunc="median"
        ).dropna()
        ratio = by_cell["cohort"] / by_cell["others"]
        # Same SKU, same day: the cohort pays 3-15% more on the rule's days, the same otherwise.
        assert ratio.between(1.025, 1.16).sum() >= 5
        assert ratio.between(0.99, 1.16).all()


def test_flash_sale_trap_fools_a_naive_average(synth: SynthData) -> None:
    orders = synth.orders
    traps = synth.price[synth.price["kind"] == "flash_sale_trap"]
    assert len(traps) >= 1
    naive_gap = []
    for trap in traps.itertuples():
        lines = orders[orders["sku_id"] == trap.sku_id]
        means = lines.groupby("platform")["unit_price"].mean()
        naive_gap.append(means[trap.cohort] / means[trap.reference_cohort])
        # never discriminated: within one flash window everybody pays the same price
        sale = lines[(lines["created_at"].dt.hour == 20) & (lines["created_at"].dt.minute < 30)]
        in_window = sale.groupby(sale["created_at"].dt.date)["unit_price"].nunique()
        assert (in_window == 1).all()
    assert max(naive_gap) > 1.0
    flash = [p for p in synth.promotions if p.get("kind") == "flash_sale"]
    assert {p["sku_ids"][0] for p in flash} == set(traps["sku_id"])


def test_drift_windows_are_visible(order_level: pd.DataFrame, synth: SynthData) -> None:
    drift = synth.drift
    assert set(drift["feature"]) >= {"channel", "hour_of_day", "platform"}
    hijack = drift[drift["feature"] == "channel"].iloc[0]
    start, end = pd.Timestamp(hijack.window_start), pd.Timestamp(hijack.window_end)
    shop = order_level[order_level["shop_id"] == hijack.scope]
    inside = shop[shop["created_at"].between(start, end, inclusive="left")]
    outside = shop[~shop["created_at"].between(start, end, inclusive="left")]
    assert (inside["channel"] == "affiliate").mean() > 0.12
    assert (outside["channel"] == "affiliate").mean() < 0.05
    outage = drift[drift["feature"] == "platform"].iloc[0]
    start, end = pd.Timestamp(outage.window_start), pd.Timestamp(outage.window_end)
    window = order_level[order_level["created_at"].between(start, end, inclusive="left")]
    assert (window["platform"] == "android").mean() < 0.3


def test_too_few_rows_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        generate(500, 1)


def test_config_scales_fraud_volume() -> None:
    more = generate(8_000, 3, SynthConfig(min_groups=6))
    kinds = more.groups["kind"].value_counts()
    assert kinds["brushing"] >= 6 and kinds["coupon_abuse"] >= 6


def test_config_out_of_range_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="cgnat_share"):
        SynthConfig(cgnat_share=2.0)
