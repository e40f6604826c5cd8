"""Each reader on realistic exports: right format, counts, signals, ids intact."""

from __future__ import annotations

import json
from pathlib import Path

import exports
import pandas as pd
import pytest
from click.testing import CliRunner

from riskkit.cli.main import cli
from riskkit.orders import read_orders


def test_taobao_gb18030_with_item_report_keeps_19_digit_ids(tmp_path: Path) -> None:
    orders, items = exports.write_taobao(tmp_path)
    assert orders.read_bytes().decode("gb18030").startswith('"订单编号')
    table = read_orders([orders, items])
    assert table.format == "taobao+taobao-items"
    assert list(table.frame["order_id"].unique()) == [
        "3100000004440793121",
        "3100000004440793122",
        "3100000004440793123",
    ]
    assert table.frame["order_id"].map(type).eq(str).all()
    lines = table.frame.set_index(["order_id", "sku_id"])
    assert lines.loc[("3100000004440793122", "TS-WHITE-L"), "quantity"] == 2
    assert lines.loc[("3100000004440793122", "TS-WHITE-L"), "unit_price"] == pytest.approx(29.5)
    # order totals sit on the order's first line only
    assert table.frame.groupby("order_id")["amount_paid"].sum().to_dict() == {
        "3100000004440793121": 119.0,
        "3100000004440793122": 248.0,
        "3100000004440793123": 59.9,
    }
    first = table.frame.iloc[0]
    assert first["ship_phone"] == "13812345678"  # the leading ' guard is gone
    assert first["tracking_no"] == "YT7012345678901"  # the tab guard is gone
    assert first["platform"] == "mobile"
    # 修改后的收货地址 wins over the original address when present
    assert lines.loc[("3100000004440793122", "DR-FLORAL-M"), "ship_address"].endswith(
        "科技园南路9号"
    )
    # masked values are unknown, not one shared identity
    assert table.masked == {"ship_address": 1, "ship_phone": 1}
    signals = table.signals()
    assert signals["waybill"] and signals["phone"] and not signals["device"] and not signals["ip"]


def test_taobao_order_report_alone(tmp_path: Path) -> None:
    orders, _ = exports.write_taobao(tmp_path)
    table = read_orders([orders])
    assert table.format == "taobao"
    assert len(table.frame) == 3
    assert not table.signals()["price"]


def test_taobao_item_report_alone_is_refused(tmp_path: Path) -> None:
    from riskkit.errors import InputError

    _, items = exports.write_taobao(tmp_path)
    with pytest.raises(InputError, match="订单报表"):
        read_orders([items])


def test_shopify_line_items_inherit_order_fields(tmp_path: Path) -> None:
    table = read_orders([exports.write_shopify(tmp_path)])
    frame = table.frame
    assert table.format == "shopify"
    assert len(frame) == 4 and frame["order_id"].nunique() == 2
    order = frame[frame["order_id"] == "#1001"]
    assert order["buyer_id"].tolist() == ["anna@example.com"] * 3
    assert order["created_at"].nunique() == 1
    assert str(order["created_at"].iloc[0]) == "2026-10-20 10:11:12"  # wall clock of +0800
    assert order["sku_id"].tolist() == ["LS-M", "SOCK-2", "=CAP-1"]
    assert order["amount_paid"].sum() == 287.0  # total counted once
    assert str(order["shipped_at"].iloc[0]) == "2026-10-20 16:05:00"  # Fulfilled at
    # Shopify's Device ID is a point-of-sale device, not the buyer's phone
    assert "device_id" not in frame or frame["device_id"].isna().all()


def test_jd_xlsx(tmp_path: Path) -> None:
    table = read_orders([exports.write_jd_xlsx(tmp_path)])
    assert table.format == "jd"
    assert table.frame["order_id"].tolist() == ["298765432101", "298765432101"]
    assert table.frame["sku_id"].tolist() == ["100012345678", "100012345679"]
    assert table.frame["amount_paid"].sum() == 449.0  # repeated order total counted once


def test_pinduoduo_without_buyer_account(tmp_path: Path) -> None:
    table = read_orders([exports.write_pdd(tmp_path)])
    frame = table.frame
    assert table.format == "pinduoduo"
    assert frame["order_id"].tolist() == ["261022-123456789012345", "261022-123456789012346"]
    # masked phone: the order gets a buyer key of its own, never a shared one
    assert frame["buyer_id"].tolist() == ["pdd-order:261022-123456789012345", "13700002222"]
    assert frame["unit_price"].tolist() == [19.9, 19.9]
    assert frame["discount_amount"].tolist() == [5.5, 0.0]
    assert frame["ship_address"].iloc[1] == "河南省郑州市二七区大学路10号"
    assert str(frame["shipped_at"].iloc[0]) == "2026-10-22 18:00:00"  # 发货时间


def test_canonical_csv_keeps_leading_zeros(tmp_path: Path) -> None:
    table = read_orders([exports.write_canonical(tmp_path)])
    assert table.format == "riskkit"
    assert table.frame["order_id"].tolist() == ["3100000004440793999", "0001234"]
    assert table.signals()["device"] and table.signals()["ip"] and table.signals()["coupon"]


def test_parquet_directory(tmp_path: Path) -> None:
    table = read_orders([exports.write_parquet_dir(tmp_path, rows=500)])
    assert table.format == "riskkit"
    assert len(table.frame) == 1500
    assert table.frame["order_id"].str.len().eq(20).all()
    assert table.frame["quantity"].dtype == "Int64"


def test_jsonl_numbers_never_pass_through_float(tmp_path: Path) -> None:
    path = tmp_path / "orders.jsonl"
    path.write_text(
        '{"order_id": 3100000004440793121, "buyer_id": "b1", "created_at": "2026-10-01 10:00:00"}\n'
        '{"order_id": "0042", "buyer_id": 7, "created_at": "2026-10-01T11:00:00+08:00", "unit_price": 9.9}\n',
        encoding="utf-8",
    )
    table = read_orders([path])
    assert table.frame["order_id"].tolist() == ["3100000004440793121", "0042"]
    assert table.frame["buyer_id"].tolist() == ["b1", "7"]


def test_column_mapping_file(tmp_path: Path) -> None:
    export = tmp_path / "erp.csv"
    export.write_text("单号,客户,时间,实付\nA1,c1,2026/10/01 09:30,12.5\n", encoding="utf-8")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        "name: my-erp\ncolumns:\n  order_id: 单号\n  buyer_id: 客户\n  created_at: 时间\n"
        "  amount_paid: [实付, 支付金额]\nconstants:\n  platform: erp\n",
        encoding="utf-8",
    )
    table = read_orders([export], columns=mapping)
    assert table.format == "my-erp"
    row = table.frame.iloc[0]
    assert (row["order_id"], row["amount_paid"], row["platform"]) == ("A1", 12.5, "erp")
    assert str(row["created_at"]) == "2026-10-01 09:30:00"


def test_since_until_filter(tmp_path: Path) -> None:
    import datetime as dt

    table = read_orders(
        [exports.write_parquet_dir(tmp_path, rows=100)],
        since=dt.datetime(2026, 10, 2),
        until=dt.datetime(2026, 10, 3),
    )
    assert len(table.frame) == 100
    assert table.frame["created_at"].min() >= pd.Timestamp("2026-10-02")


@pytest.mark.parametrize(
    ("writer", "expected_format", "rows"),
    [
        (exports.write_shopify, "shopify", 4),
        (exports.write_canonical, "riskkit", 2),
        (lambda d: exports.write_parquet_dir(d, rows=50), "riskkit", 150),
        (exports.write_pdd, "pinduoduo", 2),
        (exports.write_jd_xlsx, "jd", 2),
    ],
)
def test_orders_check_cli(tmp_path: Path, writer, expected_format: str, rows: int) -> None:
    path = writer(tmp_path)
    result = CliRunner().invoke(cli, ["orders", "check", str(path), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["format"] == expected_format
    assert report["rows"] == rows
    assert report["problems"] == []
    assert report["date_range"]["start"] is not None


def test_orders_check_cli_taobao_text(tmp_path: Path) -> None:
    orders, items = exports.write_taobao(tmp_path)
    result = CliRunner().invoke(cli, ["orders", "check", str(orders), str(items)])
    assert result.exit_code == 0, result.output
    assert "format:      taobao+taobao-items" in result.stdout
    assert "rows:        4 usable of 4 read (3 orders, 3 buyers)" in result.stdout
    assert "waybill" in result.stdout.split("unavailable:")[0]
    assert "device" in result.stdout.split("unavailable:")[1]
