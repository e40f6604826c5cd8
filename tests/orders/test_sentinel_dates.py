"""Placeholder dates outside pandas' nanosecond range (issue 14).

Real exports write ``9999-12-31 23:59:59`` for "never expires" and
``1600-01-01`` for "not yet signed".  In an optional time column such a
cell is read as missing and counted; in the order time (required) the row is
quarantined, naming its row and column.  Neither is ever an internal error.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from riskkit.cli.main import cli
from riskkit.orders import read_orders
from riskkit.orders.normalise import OUT_OF_RANGE_REASON

SENTINELS = ("9999-12-31 23:59:59", "1600-01-01", "2262-04-12", "1677-09-21")
GOOD_ROWS = 60


@dataclass(frozen=True)
class Layout:
    """A minimal export of one platform: how a row looks and where its times go."""

    suffix: str
    header: tuple[str, ...]
    row: Callable[[int], dict[str, str]]
    required_time: str  # maps to created_at
    optional_time: str  # maps to paid_at / received_at
    optional_canonical: str
    encoding: str = "utf-8"
    time_suffix: str = ""  # Shopify writes "+0800" after every time


def _canonical(i: int) -> dict[str, str]:
    return {
        "order_id": f"3100000004440{i:06d}",
        "buyer_id": f"b{i % 7}",
        "created_at": f"2026-10-01 10:{i % 60:02d}:00",
        "paid_at": f"2026-10-01 10:{i % 60:02d}:30",
        "amount_paid": "9.90",
    }


def _shopify(i: int) -> dict[str, str]:
    return {
        "Name": f"#{1000 + i}",
        "Email": f"u{i % 7}@example.com",
        "Created at": f"2026-10-01 10:{i % 60:02d}:00 +0800",
        "Paid at": f"2026-10-01 10:{i % 60:02d}:30 +0800",
        "Lineitem quantity": "1",
        "Lineitem sku": f"SKU-{i % 5}",
        "Lineitem price": "19.00",
        "Total": "19.00",
    }


def _taobao(i: int) -> dict[str, str]:
    return {
        "订单编号": f'="31000000044407{i:05d}"',
        "买家会员名": f"买家{i % 7}",
        "买家实际支付金额": "29.00",
        "订单创建时间": f"2026-10-01 10:{i % 60:02d}:00",
        "订单付款时间": f"2026-10-01 10:{i % 60:02d}:30",
        "宝贝标题": "纯棉T恤",
    }


def _jd(i: int) -> dict[str, str]:
    return {
        "订单号": f"2987654321{i:03d}",
        "商品ID": f"1000123{i % 5}",
        "订购数量": "1",
        "下单时间": f"2026-11-11 00:{i % 60:02d}:05",
        "京东价": "399.00",
        "应付金额": "399.00",
        "下单帐号": f"jd_user_{i % 7}",
        "订单完成时间": f"2026-11-13 15:{i % 60:02d}:00",
    }


def _pdd(i: int) -> dict[str, str]:
    return {
        "订单号": f"261022-1234567890{i:05d}",
        "商品id": f"55{i % 5}",
        "商品总价(元)": "39.80",
        "用户实付金额(元)": "37.80",
        "商品数量(件)": "2",
        "手机": f"1380000{i:04d}",
        "拼单成功时间": f"2026-10-22 09:{i % 60:02d}:00",
        "确认收货时间": f"2026-10-25 09:{i % 60:02d}:00",
    }


LAYOUTS: dict[str, Layout] = {
    "canonical": Layout(
        ".csv", tuple(_canonical(0)), _canonical, "created_at", "paid_at", "paid_at"
    ),
    "shopify": Layout(
        ".csv",
        tuple(_shopify(0)),
        _shopify,
        "Created at",
        "Paid at",
        "paid_at",
        time_suffix=" +0800",
    ),
    "taobao-gb18030": Layout(
        ".csv", tuple(_taobao(0)), _taobao, "订单创建时间", "订单付款时间", "paid_at", "gb18030"
    ),
    "jd-gbk": Layout(".csv", tuple(_jd(0)), _jd, "下单时间", "订单完成时间", "received_at", "gbk"),
    "jd-xlsx": Layout(".xlsx", tuple(_jd(0)), _jd, "下单时间", "订单完成时间", "received_at"),
    "pinduoduo": Layout(
        ".csv", tuple(_pdd(0)), _pdd, "拼单成功时间", "确认收货时间", "received_at", "utf-8-sig"
    ),
}


def _write(path: Path, layout: Layout, rows: list[dict[str, str]]) -> Path:
    if layout.suffix == ".xlsx":
        from openpyxl import Workbook

        workbook = Workbook()
        sheet = workbook.active
        sheet.append(list(layout.header))
        for row in rows:
            sheet.append([row.get(h, "") for h in layout.header])
        workbook.save(path)
        return path
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(layout.header)
    for row in rows:
        buffer.write(",".join(row.get(h, "") for h in layout.header) + "\r\n")
    path.write_bytes(buffer.getvalue().encode(layout.encoding))
    return path


def _export(
    folder: Path, name: str, layout: Layout, column: str, sentinels: tuple[str, ...]
) -> Path:
    rows = [layout.row(i) for i in range(GOOD_ROWS + len(sentinels))]
    for offset, sentinel in enumerate(sentinels):
        rows[GOOD_ROWS + offset][column] = sentinel + layout.time_suffix
    return _write(folder / f"{name}{layout.suffix}", layout, rows)


CASES = [(name, sentinel) for name in LAYOUTS for sentinel in SENTINELS]


@pytest.mark.parametrize(("layout_name", "sentinel"), CASES)
def test_sentinel_in_an_optional_time_is_read_as_missing(
    tmp_path: Path, layout_name: str, sentinel: str
) -> None:
    layout = LAYOUTS[layout_name]
    path = _export(tmp_path, layout_name, layout, layout.optional_time, (sentinel,))
    table = read_orders([path])
    assert table.rejected.empty
    assert len(table.frame) == GOOD_ROWS + 1
    assert table.out_of_range_dates == {layout.optional_canonical: 1}
    assert pd.isna(table.frame[layout.optional_canonical].iloc[-1])
    assert table.frame[layout.optional_canonical].iloc[:GOOD_ROWS].notna().all()

    result = CliRunner().invoke(cli, ["orders", "check", "--json", str(path)])
    assert result.exit_code == 0, result.output
    assert f'"{layout.optional_canonical}": 1' in result.stdout
    assert "read as missing" in result.stderr


@pytest.mark.parametrize(("layout_name", "sentinel"), CASES)
def test_sentinel_in_the_order_time_quarantines_the_row(
    tmp_path: Path, layout_name: str, sentinel: str
) -> None:
    layout = LAYOUTS[layout_name]
    path = _export(tmp_path, layout_name, layout, layout.required_time, (sentinel,))
    table = read_orders([path])
    assert len(table.frame) == GOOD_ROWS
    assert len(table.rejected) == 1
    rejected = table.rejected.iloc[0]
    assert (rejected["row"], rejected["column"]) == (GOOD_ROWS + 2, "created_at")
    assert rejected["reason"] == OUT_OF_RANGE_REASON
    assert sentinel in str(rejected["value"])

    result = CliRunner().invoke(cli, ["orders", "check", str(path)])
    assert result.exit_code == 2, result.output
    assert f"{path}, row {GOOD_ROWS + 2}, column 'created_at'" in result.stderr
    assert "outside the readable range" in result.stderr


@pytest.mark.parametrize("layout_name", sorted(LAYOUTS))
def test_detect_all_reads_every_sentinel(tmp_path: Path, layout_name: str) -> None:
    layout = LAYOUTS[layout_name]
    good = 2 * GOOD_ROWS  # 4 quarantined rows stay under detect's 5 % limit
    rows = [layout.row(i) for i in range(good + 2 * len(SENTINELS))]
    for offset, sentinel in enumerate(SENTINELS):
        rows[good + offset][layout.optional_time] = sentinel + layout.time_suffix
        rows[good + len(SENTINELS) + offset][layout.required_time] = sentinel + layout.time_suffix
    path = _write(tmp_path / f"{layout_name}{layout.suffix}", layout, rows)
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["detect", "all", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    rejected = pd.read_csv(out / "rejected_rows.csv", dtype=str)
    assert set(rejected["column"]) == {"created_at"}
    assert sorted(rejected["row"].astype(int)) == [
        good + len(SENTINELS) + offset + 2 for offset in range(len(SENTINELS))
    ]
    assert set(rejected["reason"]) == {OUT_OF_RANGE_REASON}


def test_parquet_timestamps_beyond_nanoseconds(tmp_path: Path) -> None:
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq

    created = [dt.datetime(2026, 10, 1, 10, i) for i in range(40)] + [dt.datetime(9999, 12, 31)]
    paid = [dt.datetime(2026, 10, 1, 11, i) for i in range(40)] + [dt.datetime(2026, 10, 2)]
    paid[0] = dt.datetime(1600, 1, 1)
    table = pa.table(
        {
            "order_id": [f"o{i}" for i in range(41)],
            "buyer_id": [f"b{i}" for i in range(41)],
            "created_at": pa.array(created, pa.timestamp("us", tz="Asia/Shanghai")),
            "paid_at": pa.array(paid, pa.timestamp("s")),
        }
    )
    path = tmp_path / "orders.parquet"
    pq.write_table(table, path)
    orders = read_orders([path])
    assert len(orders.frame) == 40
    assert orders.rejected.iloc[0]["column"] == "created_at"
    assert orders.rejected.iloc[0]["row"] == 41
    assert orders.out_of_range_dates == {"paid_at": 1}


@pytest.mark.parametrize("sentinel", SENTINELS)
def test_taobao_with_its_item_report(tmp_path: Path, sentinel: str) -> None:
    layout = LAYOUTS["taobao-gb18030"]
    rows = [layout.row(i) for i in range(GOOD_ROWS + 2)]
    rows[GOOD_ROWS][layout.optional_time] = sentinel
    rows[GOOD_ROWS + 1][layout.required_time] = sentinel
    orders = _write(tmp_path / "ExportOrderList.csv", layout, rows)
    items = "订单编号,标题,价格,购买数量,商家编码\r\n" + "".join(
        f'="31000000044407{i:05d}",纯棉T恤,29.00,1,TS-{i % 3}\r\n' for i in range(GOOD_ROWS + 2)
    )
    detail = tmp_path / "ExportOrderDetailList.csv"
    detail.write_bytes(items.encode("gb18030"))
    table = read_orders([orders, detail], max_rejected=1.0)
    assert table.out_of_range_dates == {"paid_at": 1}
    assert len(table.rejected) == 1
    assert (table.rejected.iloc[0]["row"], table.rejected.iloc[0]["column"]) == (
        GOOD_ROWS + 3,
        "created_at",
    )
    assert len(table.frame) == GOOD_ROWS + 1
