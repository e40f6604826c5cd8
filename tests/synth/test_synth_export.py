"""Files written by ``write_dataset``: formats, encodings, Excel guards and label files."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from riskkit.cli.main import cli
from riskkit.errors import UsageError
from riskkit.orders.schema import ALL_COLUMNS
from riskkit.synth import generate, write_dataset
from riskkit.synth.platforms import SHOPIFY_COLUMNS, TAOBAO_ITEM_COLUMNS, TAOBAO_ORDER_COLUMNS

LOOKALIKES = {
    "", "family_address", "cgnat_ip", "parcel_locker", "double11_rush",
    "loyal_repeat", "new_user_coupon", "flash_sale",
}  # fmt: skip


def _read(path: Path, encoding: str = "utf-8") -> list[dict[str, str]]:
    with path.open(encoding=encoding, newline="") as handle:
        return list(csv.DictReader(handle))


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_same_seed_writes_byte_identical_files(tmp_path: Path) -> None:
    for fmt in ("riskkit", "taobao"):
        write_dataset(tmp_path / "a" / fmt, rows=5_000, seed=2, fmt=fmt)
        write_dataset(tmp_path / "b" / fmt, rows=5_000, seed=2, fmt=fmt)
        assert _digest(tmp_path / "a" / fmt) == _digest(tmp_path / "b" / fmt)


def test_riskkit_csv_round_trips_the_canonical_frame(exports: dict[str, Path]) -> None:
    folder = exports["riskkit"]
    frame = pd.read_csv(folder / "orders.csv", dtype=str, keep_default_na=False)
    assert list(frame.columns) == list(ALL_COLUMNS)
    assert len(frame) == 6_000
    expected = generate(6_000, 5).orders
    assert frame["order_id"].tolist() == expected["order_id"].tolist()
    assert frame["ship_phone"].tolist() == expected["ship_phone"].tolist()
    assert frame["created_at"].str.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d").all()
    assert frame["unit_price"].str.fullmatch(r"\d+\.\d\d").all()
    labels = pd.read_csv(folder / "labels.csv", dtype=str, keep_default_na=False)
    assert list(labels.columns) == ["order_id", "label", "group_id", "lookalike"]
    assert set(labels["order_id"]) == set(frame["order_id"])
    assert labels["order_id"].is_unique


def test_label_files(exports: dict[str, Path]) -> None:
    folder = exports["riskkit"]
    labels = pd.read_csv(folder / "labels.csv", dtype=str, keep_default_na=False)
    assert set(labels["label"]) == {"honest", "brushing", "coupon_abuse"}
    assert set(labels["lookalike"]) <= LOOKALIKES
    assert (labels["group_id"] == "").eq(labels["label"] == "honest").all()
    drift = pd.read_csv(folder / "labels_drift.csv", dtype=str)
    assert list(drift.columns) == ["window_start", "window_end", "scope", "feature", "description"]
    assert (pd.to_datetime(drift["window_end"]) > pd.to_datetime(drift["window_start"])).all()
    price = pd.read_csv(folder / "labels_price.csv", dtype=str)
    assert list(price.columns) == ["sku_id", "attribute", "cohort", "reference_cohort", "kind"]
    assert set(price["kind"]) == {"discriminated", "flash_sale_trap"}
    calendar = yaml.safe_load((folder / "promotions.yaml").read_text(encoding="utf-8"))
    names = [p["name"] for p in calendar["promotions"]]
    assert "双11" in names
    double11 = calendar["promotions"][names.index("双11")]
    assert (double11["start"], double11["end"]) == ("2026-11-10 20:00:00", "2026-11-12 00:00:00")
    flash = [p for p in calendar["promotions"] if p["kind"] == "flash_sale"]
    assert flash and all(p["sku_ids"] and p["shop_id"] for p in flash)
    readme = (folder / "README.txt").read_text(encoding="utf-8")
    for name in (
        "orders.csv",
        "labels.csv",
        "labels_drift.csv",
        "labels_price.csv",
        "promotions.yaml",
    ):
        assert name in readme


def test_shopify_layout(exports: dict[str, Path]) -> None:
    folder = exports["shopify"]
    with (folder / "orders_export.csv").open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    assert tuple(header) == SHOPIFY_COLUMNS
    rows = _read(folder / "orders_export.csv")
    assert len(rows) == 6_000
    names = [r["Name"] for r in rows]
    assert all(n.startswith("#") and n[1:].isdigit() for n in names)
    first_rows = [r for i, r in enumerate(rows) if i == 0 or names[i - 1] != r["Name"]]
    extra_rows = [r for i, r in enumerate(rows) if i > 0 and names[i - 1] == r["Name"]]
    assert extra_rows, "some orders must have several line items"
    assert len({r["Name"] for r in first_rows}) == len(first_rows)  # lines are adjacent
    for row in extra_rows:
        for field in ("Email", "Financial Status", "Total", "Created at", "Shipping Name", "Id"):
            assert row[field] == "", field
        assert row["Lineitem sku"] and row["Lineitem quantity"]
    for row in first_rows:
        assert row["Email"].count("@") == 1
        assert row["Created at"].endswith(" +0800")
        assert row["Device ID"] == ""
        assert row["Currency"] == "CNY"
    labels = _read(folder / "labels.csv")
    assert [r["order_id"] for r in labels] == [r["Name"] for r in first_rows]


def test_taobao_files_are_gb18030_with_excel_guards(exports: dict[str, Path]) -> None:
    folder = exports["taobao"]
    raw = (folder / "taobao_orders.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("gb18030")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader)
    assert tuple(header) == TAOBAO_ORDER_COLUMNS
    records = list(reader)
    assert all(line.startswith('="') for line in text.splitlines()[1:])
    order_cells = [r[0] for r in records]
    assert all(c.startswith('="') and c.endswith('"') for c in order_cells)
    ids = [c[2:-1] for c in order_cells]
    assert all(len(i) == 19 and i.isdigit() for i in ids)
    labels = _read(folder / "labels.csv")
    assert [r["order_id"] for r in labels] == ids
    phone = header.index("联系手机")
    assert all(r[phone].startswith("'1") for r in records)
    waybill = header.index("物流单号")
    assert all(r[waybill] == "" or r[waybill].startswith("\t") for r in records)
    assert any(r[waybill] for r in records)
    assert "device" not in text.lower() and "ip" not in header

    items_text = (folder / "taobao_items.csv").read_bytes().decode("gb18030")
    items = list(csv.reader(io.StringIO(items_text, newline="")))
    assert tuple(items[0]) == TAOBAO_ITEM_COLUMNS
    assert len(items) - 1 == 6_000
    item_ids = {r[0][2:-1] for r in items[1:]}
    assert item_ids == set(ids)
    # order totals equal the sum of their items
    pay = header.index("买家应付货款")
    totals = {i: float(r[pay]) for i, r in zip(ids, records, strict=True)}
    sums: dict[str, float] = {}
    for r in items[1:]:
        sums[r[0][2:-1]] = sums.get(r[0][2:-1], 0.0) + float(r[2]) * int(r[3])
    assert all(abs(sums[i] - totals[i]) < 0.011 for i in ids)


def test_unknown_format_or_bad_folder_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        write_dataset(tmp_path, rows=5_000, seed=1, fmt="jd")
    a_file = tmp_path / "taken"
    a_file.write_text("x", encoding="utf-8")
    with pytest.raises(UsageError, match="not a folder"):
        write_dataset(a_file, rows=5_000, seed=1, fmt="riskkit")


def test_cli_writes_the_dataset(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["orders", "synth", "--rows", "4000", "--seed", "3", "--out", str(tmp_path), "--json"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["rows"] == 4_000
    assert summary["groups_by_kind"]["brushing"] >= 3
    assert (tmp_path / "orders.csv").exists() and (tmp_path / "labels.csv").exists()
    tiny = CliRunner().invoke(cli, ["orders", "synth", "--rows", "500", "--out", str(tmp_path)])
    assert tiny.exit_code == 2


@pytest.mark.parametrize(
    ("fmt", "files"),
    [
        ("riskkit", ["orders.csv"]),
        ("shopify", ["orders_export.csv"]),
        ("taobao", ["taobao_orders.csv", "taobao_items.csv"]),
    ],
)
def test_exports_read_back_to_the_same_orders(
    exports: dict[str, Path], fmt: str, files: list[str]
) -> None:
    from riskkit.orders import read_orders

    table = read_orders([exports[fmt] / name for name in files])
    frame = table.frame
    assert len(table.rejected) == 0
    expected = generate(6_000, 5).orders
    assert len(frame) == len(expected)
    for column in ("created_at", "sku_id", "ship_phone", "unit_price", "quantity", "shop_id"):
        assert frame[column].tolist() == expected[column].tolist(), column
    labels = pd.read_csv(exports[fmt] / "labels.csv", dtype=str, keep_default_na=False)
    assert set(labels["order_id"]) == set(frame["order_id"])
    drift = pd.read_csv(exports[fmt] / "labels_drift.csv", dtype=str)
    scoped = set(drift["scope"]) - {"all"}
    assert scoped <= set(frame["shop_id"])


def test_every_written_file_is_documented(exports: dict[str, Path]) -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "synth.md").read_text(encoding="utf-8")
    written = {p.name for folder in exports.values() for p in folder.iterdir()}
    assert written, "nothing was written"
    for name in sorted(written):
        assert f"`{name}`" in docs, f"{name} is not described in docs/synth.md"
