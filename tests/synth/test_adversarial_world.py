"""The adversarial world: determinism, label consistency, exports, look-alikes and ring traces."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from riskkit.cli.main import cli
from riskkit.errors import UsageError
from riskkit.orders import read_orders
from riskkit.orders.schema import ALL_COLUMNS
from riskkit.synth import SynthData, write_dataset
from riskkit.synth.adversarial import generate_adversarial
from riskkit.synth.adversarial.brushing import BRUSHING_SIGNALS
from riskkit.synth.adversarial.coupon_abuse import ALWAYS, COUPON_SIGNALS
from riskkit.synth.adversarial.world import LOOKALIKES
from riskkit.synth.export import LABEL_FILES

ROWS = 8_000
SEED = 3
FILES = {
    "riskkit": ["orders.csv"],
    "shopify": ["orders_export.csv"],
    "taobao": ["taobao_orders.csv", "taobao_items.csv"],
}


@pytest.fixture(scope="module")
def world() -> SynthData:
    return generate_adversarial(ROWS, SEED)


@pytest.fixture(scope="module")
def heads(world: SynthData) -> pd.DataFrame:
    """Each order's first line joined with its label."""
    first = world.orders.drop_duplicates("order_id", keep="first")
    return first.merge(world.labels, on="order_id", how="left", validate="one_to_one")


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("adversarial")
    for fmt in FILES:
        write_dataset(root / fmt, rows=5_000, seed=2, fmt=fmt, world="adversarial")
    return {fmt: root / fmt for fmt in FILES}


def test_same_seed_same_world_other_seed_other_world(world: SynthData) -> None:
    again = generate_adversarial(ROWS, SEED)
    pd.testing.assert_frame_equal(world.orders, again.orders)
    pd.testing.assert_frame_equal(world.labels, again.labels)
    pd.testing.assert_frame_equal(world.groups, again.groups)
    pd.testing.assert_frame_equal(world.drift, again.drift)
    assert world.promotions == again.promotions
    other = generate_adversarial(ROWS, SEED + 1)
    assert not other.orders["buyer_id"].equals(world.orders["buyer_id"])
    assert not other.groups["signals"].equals(world.groups["signals"])


def test_exact_rows_and_canonical_columns(world: SynthData) -> None:
    orders = world.orders
    assert len(orders) == ROWS
    assert list(orders.columns) == list(ALL_COLUMNS)
    assert orders["created_at"].is_monotonic_increasing
    for name in ALL_COLUMNS:
        assert orders[name].notna().any(), f"{name} is never filled"
    starts = orders["order_id"].ne(orders["order_id"].shift())
    assert int(starts.sum()) == orders["order_id"].nunique() == len(world.labels)
    assert (orders.groupby("device_id")["platform"].nunique() == 1).all()
    assert orders.groupby("order_id")["sku_id"].apply(lambda s: s.is_unique).all()
    first, last = orders["created_at"].min(), orders["created_at"].max()
    assert str(first)[:10] >= "2026-10-16" and str(last)[:10] <= "2026-11-14"


def test_times_and_money_are_consistent(heads: pd.DataFrame, world: SynthData) -> None:
    assert (heads["buyer_registered_at"] <= heads["created_at"]).all()
    assert (heads["paid_at"] >= heads["created_at"]).all()
    shipped = heads.dropna(subset=["received_at"])
    assert (shipped["received_at"] > shipped["paid_at"]).all()
    reviewed = heads.dropna(subset=["reviewed_at"])
    assert (reviewed["reviewed_at"] > reviewed["received_at"]).all()
    lines = world.orders
    subtotal = (lines["unit_price"] * lines["quantity"]).groupby(lines["order_id"]).sum()
    level = heads.set_index("order_id")
    assert np.allclose(
        level["amount_paid"] + level["discount_amount"], subtotal.reindex(level.index), atol=0.011
    )
    new20 = heads[heads["coupon_code"] == "NEW20"]
    assert (new20["amount_paid"] + new20["discount_amount"] >= 59.0).all()


def test_labels_agree_with_orders_and_groups(world: SynthData, heads: pd.DataFrame) -> None:
    labels = world.labels
    assert labels["order_id"].is_unique
    assert set(labels["label"]) == {"honest", "brushing", "coupon_abuse"}
    assert (labels["group_id"] == "").eq(labels["label"] == "honest").all()
    assert (labels.loc[labels["label"] != "honest", "lookalike"] == "").all()
    assert set(labels["lookalike"]) <= set(LOOKALIKES)
    groups = world.groups.set_index("group_id")
    assert set(labels.loc[labels["group_id"] != "", "group_id"]) == set(groups.index)
    kind = groups["kind"].reindex(labels["group_id"].where(labels["group_id"] != "")).to_numpy()
    ring = labels["group_id"] != ""
    assert (kind[ring.to_numpy()] == labels.loc[ring, "label"].to_numpy()).all()
    buyers = heads[heads["group_id"] != ""].groupby("group_id")["buyer_id"].nunique()
    assert (buyers == groups["accounts"].reindex(buyers.index)).all()
    # no ring account places an honest order; only brushing studios reuse accounts
    ring_buyers = heads.loc[heads["group_id"] != "", ["buyer_id", "label"]].drop_duplicates()
    assert ring_buyers["buyer_id"].is_unique
    honest_buyers = set(heads.loc[heads["label"] == "honest", "buyer_id"])
    assert not honest_buyers & set(ring_buyers["buyer_id"])
    coupon = heads[heads["label"] == "coupon_abuse"]
    assert coupon["buyer_id"].is_unique


def test_every_lookalike_kind_is_present(world: SynthData) -> None:
    present = set(world.labels["lookalike"]) - {""}
    assert present == set(LOOKALIKES) - {""}


def test_ring_signals_vary_and_some_ring_shows_only_two() -> None:
    seen: set[str] = set()
    for seed in (1, 2, 3):
        groups = generate_adversarial(5_000, seed).groups
        brushing = groups[groups["kind"] == "brushing"]
        counts = brushing["signals"].str.split().str.len()
        assert (counts == 2).any(), seed
        assert counts.min() >= 2
        for signals in brushing["signals"].str.split():
            assert set(signals) <= set(BRUSHING_SIGNALS)
            assert not {"device_reset", "shared_device"} <= set(signals)
            seen |= set(signals)
        for signals in groups.loc[groups["kind"] == "coupon_abuse", "signals"].str.split():
            assert set(ALWAYS) <= set(signals) <= set(ALWAYS) | set(COUPON_SIGNALS)
        assert brushing["accounts"].between(3, 40).all()
    assert len(seen) >= 10


def _ring_orders(world: SynthData, heads: pd.DataFrame, signal: str) -> list[pd.DataFrame]:
    """The rings showing ``signal``: their orders at the hiring shop (not the camouflage)."""
    groups = world.groups
    chosen = groups[groups["signals"].str.split().apply(lambda s: signal in s)]
    return [
        heads[(heads["group_id"] == g) & (heads["shop_id"] == shop)]
        for g, shop in zip(chosen["group_id"], chosen["shop_id"], strict=True)
    ]


def test_ring_traces_match_their_signals() -> None:
    world = generate_adversarial(30_000, 4)
    first = world.orders.drop_duplicates("order_id", keep="first")
    heads = first.merge(world.labels, on="order_id", validate="one_to_one")
    groups = world.groups.set_index("group_id")
    for ring in _ring_orders(world, heads, "device_reset"):
        assert ring["device_id"].is_unique
    for ring in _ring_orders(world, heads, "one_order_per_account"):
        if ring["group_id"].iloc[0].startswith("BR-"):
            targets = groups.loc[ring["group_id"].iloc[0], "sku_ids"].split()
            assert ring[ring["sku_id"].isin(targets)]["buyer_id"].is_unique
        else:
            assert ring["buyer_id"].is_unique
    for ring in _ring_orders(world, heads, "registration_burst"):
        span = ring["buyer_registered_at"].max() - ring["buyer_registered_at"].min()
        assert span <= pd.Timedelta(hours=2)
    for ring in _ring_orders(world, heads, "phone_band"):
        phones = ring["ship_phone"].astype("int64")
        assert phones.max() - phones.min() < 10_000
    for ring in _ring_orders(world, heads, "device_reset"):
        assert ring["platform"].eq("android").all()
    for ring in _ring_orders(world, heads, "empty_parcel"):
        numbers = ring["tracking_no"].dropna().str.extract(r"(\d+)$")[0].astype("int64")
        assert numbers.max() - numbers.min() <= 3 * len(ring)


def test_batch_printing_shops_number_a_days_parcels_in_a_row(
    world: SynthData, heads: pd.DataFrame
) -> None:
    shipped = heads  # the canonical frame carries shipped_at
    batch = shipped[shipped["lookalike"] == "batch_waybill"].dropna(subset=["tracking_no"])
    day = batch["shipped_at"].dt.date
    numbers = batch["tracking_no"].str.extract(r"(\d+)$")[0].astype("int64")
    widths = numbers.groupby([batch["shop_id"], day]).agg(lambda s: s.max() - s.min())
    sizes = numbers.groupby([batch["shop_id"], day]).size()
    assert (widths <= 8 * sizes).mean() > 0.9


@pytest.mark.parametrize("fmt", sorted(FILES))
def test_every_form_writes_and_reads_back(written: dict[str, Path], fmt: str) -> None:
    folder = written[fmt]
    names = {p.name for p in folder.iterdir()}
    assert set(FILES[fmt]) | set(LABEL_FILES) == names
    table = read_orders([folder / name for name in FILES[fmt]])
    assert len(table.rejected) == 0
    assert len(table.frame) == 5_000
    labels = pd.read_csv(folder / "labels.csv", dtype=str, keep_default_na=False)
    assert list(labels.columns) == ["order_id", "label", "group_id", "lookalike"]
    assert set(labels["order_id"]) == set(table.frame["order_id"])
    drift = pd.read_csv(folder / "labels_drift.csv", dtype=str)
    assert len(drift) == 2
    assert set(drift["scope"]) - {"all"} <= set(table.frame["shop_id"])
    groups = pd.read_csv(folder / "labels_groups.csv", dtype=str, keep_default_na=False)
    assert set(labels["group_id"]) - {""} == set(groups["group_id"])
    readme = (folder / "README.txt").read_text(encoding="utf-8")
    assert "adversarial" in readme and "2026-10-16" in readme


def test_cli_world_option(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["orders", "synth", "--rows", "4000", "--seed", "1", "--world", "adversarial",
         "--format", "taobao", "--out", str(tmp_path), "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["world"] == "adversarial"
    assert summary["rows"] == 4_000
    assert summary["groups_by_kind"]["brushing"] >= 4
    assert (tmp_path / "taobao_orders.csv").exists()
    check = CliRunner().invoke(
        cli, ["orders", "check", str(tmp_path / "taobao_orders.csv"),
              str(tmp_path / "taobao_items.csv")],
    )  # fmt: skip
    assert check.exit_code == 0, check.output
    bad = CliRunner().invoke(cli, ["orders", "synth", "--world", "mars", "--out", str(tmp_path)])
    assert bad.exit_code == 2


def test_unknown_world_or_config_is_a_usage_error(tmp_path: Path) -> None:
    from riskkit.synth import SynthConfig

    with pytest.raises(UsageError, match="world"):
        write_dataset(tmp_path, rows=5_000, seed=1, fmt="riskkit", world="mars")
    with pytest.raises(UsageError, match="SynthConfig"):
        write_dataset(tmp_path, 5_000, 1, "riskkit", config=SynthConfig(), world="adversarial")
    with pytest.raises(UsageError):
        generate_adversarial(500, 1)


@pytest.mark.slow
def test_default_size_generates_in_seconds() -> None:
    import time

    from riskkit.synth.adversarial import DEFAULT_ROWS

    started = time.process_time()
    data = generate_adversarial(DEFAULT_ROWS, 1)
    elapsed = time.process_time() - started
    assert 140_000 <= len(data.labels) <= 165_000
    assert data.labels["order_id"].is_unique
    assert elapsed < 20.0, f"generate_adversarial({DEFAULT_ROWS}) took {elapsed:.1f} CPU seconds"
