"""Malformed order exports of every format riskkit reads.

A generator builds a plausible export of one reader's format (canonical CSV,
Shopify, Taobao GB18030 with or without its item report, JD, Pinduoduo,
xlsx, Parquet, JSON Lines, or any export with a column-mapping file), fills
some cells with hostile values, serialises it with odd encodings, delimiters
and line endings, and damages the bytes.  It records what an oracle needs:
how many data rows it wrote (``None`` once bytes were damaged beyond
counting) and which order ids a reader should produce, byte for byte.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass, field

from draw import Draw
from mutate import csv_bytes, damage, table_mutations

__all__ = ["EXPORT_READERS", "ExportCase", "make_export"]

SENTINELS = ("9999-12-31 23:59:59", "1600-01-01", "2262-04-12", "1677-09-21", "0001-01-01")


@dataclass
class ExportCase:
    """Files to write (name -> bytes), the extra CLI arguments, and what is known."""

    reader: str
    files: dict[str, bytes]
    inputs: list[str]
    args: list[str] = field(default_factory=list)
    expected_rows: int | None = None
    # The bare order ids written (guards stripped); None when bytes were damaged.
    ids: set[str] | None = None
    mutations: list[str] = field(default_factory=list)


# header -> kind, per format; the first three are what the format is detected by.
CANONICAL = {
    "order_id": "id",
    "buyer_id": "buyer",
    "created_at": "time",
    "paid_at": "time",
    "received_at": "time",
    "sku_id": "sku",
    "quantity": "int",
    "unit_price": "money",
    "amount_paid": "money",
    "discount_amount": "money",
    "coupon_code": "text",
    "ship_phone": "phone",
    "ip": "text",
    "status": "text",
}
SHOPIFY = {
    "Name": "id",
    "Email": "buyer",
    "Created at": "time",
    "Lineitem quantity": "int",
    "Paid at": "time",
    "Lineitem sku": "sku",
    "Lineitem price": "money",
    "Total": "money",
    "Discount Code": "text",
    "Discount Amount": "money",
    "Financial Status": "text",
    "Shipping Phone": "phone",
}
TAOBAO = {
    "订单编号": "id",
    "买家会员名": "buyer",
    "订单创建时间": "time",
    "订单付款时间": "time",
    "买家实际支付金额": "money",
    "联系手机": "phone",
    "订单状态": "text",
    "宝贝标题": "sku",
    "宝贝总数量": "int",
    "收货地址": "text",
}
TAOBAO_ITEMS = {
    "订单编号": "id",
    "标题": "sku",
    "价格": "money",
    "购买数量": "int",
    "商家编码": "sku",
}
JD = {
    "订单号": "id",
    "下单时间": "time",
    "商品ID": "sku",
    "下单帐号": "buyer",
    "订购数量": "int",
    "京东价": "money",
    "应付金额": "money",
    "联系电话": "phone",
    "付款确认时间": "time",
    "订单完成时间": "time",
}
PINDUODUO = {
    "订单号": "id",
    "商品id": "sku",
    "用户实付金额(元)": "money",
    "手机": "phone",
    "拼单成功时间": "time",
    "商品总价(元)": "money",
    "商品数量(件)": "int",
    "店铺优惠折扣(元)": "money",
    "支付时间": "time",
    "确认收货时间": "time",
    "省": "text",
}
CUSTOM = {"单号": "id", "客户": "buyer", "下单时间": "time", "实付": "money", "备注": "text"}
CUSTOM_MAPPING = (
    "columns:\n  order_id: 单号\n  buyer_id: 客户\n  created_at: 下单时间\n  amount_paid: [实付]\n"
)

HOSTILE = [
    *SENTINELS,
    "",
    "   ",
    "N/A",
    "null",
    "NaN",
    "abc",
    "12元5",
    "1e400",
    "-0",
    "９９",
    "2026-02-30 10:00:00",
    "2026-10-01T10:00:00+08:00",
    "2026-10-01 10:00:00 -0100",
    "2026/10/01",
    "1700000000",
    "1.5",
    "-3",
    "True",
    "****",
    "138****5678",
    '="3100000004440793121"',
    "'13812345678",
    "\t3100000004440793",
    '=HYPERLINK("http://x")',
    "+86 138",
    "@SUM(A1)",
    "line\nbreak",
    'quo"te',
    'a,"b"',
    ";|\t",
    "订单编号",
    "张三\u3000",
    "😀🎉",
    "\u200b",
    "9" * 40,
]
_ID_TEXT = "0123456789abcXYZ-_#订单 "


def _good(kind: str, row: int, draw: Draw) -> str:
    minute = row % 60
    if kind == "buyer":
        return draw.choice([f"b{row % 9}", f"u{row % 9}@example.com", f"买家{row % 9}"])
    if kind == "time":
        return draw.choice(
            [
                f"2026-10-{1 + row % 28:02d} 10:{minute:02d}:00",
                f"2026/10/{1 + row % 28:02d} 10:{minute:02d}",
                f"2026-10-{1 + row % 28:02d}T10:{minute:02d}:00",
            ]
        )
    if kind == "money":
        return f"{(row * 37) % 500 + 0.5:.2f}"
    if kind == "int":
        return str(1 + row % 3)
    if kind == "phone":
        return f"1380000{row:04d}"
    if kind == "sku":
        return f"SKU-{row % 5}"
    return draw.choice(["paid", "已付款", "ok", "交易成功"])


def _order_id(draw: Draw, index: int) -> str:
    style = draw.integer(0, 4)
    if style == 0:
        return f"31000000044407{index:05d}"  # 19 digits
    if style == 1:
        return f"00{index:04d}"  # leading zeros
    if style == 2:
        return f"#{1000 + index}"
    if style == 3:
        return f"261022-1234567890{index:05d}"
    return draw.text(_ID_TEXT, 12, min_size=1).strip() + f"-{index}"


def _guard(draw: Draw, bare: str) -> str:
    style = draw.integer(0, 6)
    return [f'="{bare}"', f"'{bare}", f"\t{bare}", f" {bare} "][style] if style < 4 else bare


def bare_id(cell: str) -> str | None:
    """What FORMATS.md promises an id cell reads as: the guard stripped, or None if blank."""
    text = cell.strip()
    if text.startswith(('="', "'", "\t")):
        if text.startswith('="') and text.endswith('"') and len(text) >= 3:
            text = text[2:-1]
        text = text.lstrip("'\t").strip()
    return text or None


def _rows(columns: dict[str, str], draw: Draw, hostile: float) -> tuple[list[list[str]], set[str]]:
    """Data rows (strings) and the bare ids they carry."""
    n_rows = draw.choice([0, 1, 2, 5, 12, 30, 60])
    rows: list[list[str]] = []
    ids: set[str] = set()
    for index in range(n_rows):
        row = []
        for kind in columns.values():
            if kind == "id":
                cell = _guard(draw, _order_id(draw, index))
            else:
                cell = _good(kind, index, draw)
            if draw.boolean(hostile):
                cell = draw.choice(HOSTILE)
            if draw.boolean(hostile / 4):
                cell = draw.text("xy张三,\"'\n\r;=", 20000, min_size=5000)  # a huge field
            if kind == "id" and (bare := bare_id(cell)) is not None:
                ids.add(bare)
            row.append(cell)
        rows.append(row)
    return rows, ids


def _pick_columns(header: list[str], draw: Draw, keep: int) -> list[str]:
    """The first ``keep`` columns (a format's signature), some others, in any order."""
    chosen = header[:keep] + [h for h in header[keep:] if draw.boolean(0.6)]
    if not draw.boolean(0.3):
        return chosen
    shuffled: list[str] = []
    while chosen:
        shuffled.append(chosen.pop(draw.integer(0, len(chosen) - 1)))
    return shuffled


def _shopify_lines(header: list[str], rows: list[list[str]], draw: Draw) -> list[list[str]]:
    """Extra line items: same Name, the order-level fields blank."""
    out: list[list[str]] = []
    line_fields = {"Name", "Lineitem quantity", "Lineitem sku", "Lineitem price"}
    for row in rows:
        out.append(row)
        for extra in range(draw.integer(0, 2) if draw.boolean(0.3) else 0):
            line = [cell if h in line_fields else "" for h, cell in zip(header, row, strict=True)]
            line[header.index("Lineitem sku")] = f"EXTRA-{extra}"
            out.append(line)
    return out


def _delimited(
    columns: dict[str, str], encoding: str, min_keep: int = 3
) -> Callable[[Draw, ExportCase], None]:
    """A CSV export of the first few ``columns`` (the format's signature comes first)."""

    def build(draw: Draw, case: ExportCase) -> None:
        header = _pick_columns(list(columns), draw, min_keep if draw.boolean(0.9) else 1)
        kinds = {h: columns[h] for h in header}
        rows, case.ids = _rows(kinds, draw, draw.choice([0.0, 0.02, 0.1, 0.3]))
        if columns is SHOPIFY and {"Name", "Lineitem quantity", "Lineitem sku"} <= set(header):
            rows = _shopify_lines(header, rows, draw)
        rows = table_mutations(header, rows, draw, case)
        case.expected_rows = len(rows)
        chosen = encoding if not draw.boolean(0.1) else draw.choice(["utf-8-sig", "gb18030"])
        data = csv_bytes(header, rows, draw, chosen, case)
        name = case.inputs[0]
        case.files[name] = damage(data, draw, case)

    return build


def _taobao_with_items(draw: Draw, case: ExportCase) -> None:
    _delimited(TAOBAO, "gb18030")(draw, case)
    orders_ids = case.ids or set()
    rows, _ = _rows(TAOBAO_ITEMS, draw, draw.choice([0.0, 0.05, 0.2]))
    pool = sorted(orders_ids) or ["31000000044407000001"]
    for row in rows:
        if draw.boolean(0.9):
            row[0] = f'="{draw.choice(pool)}"'
    data = csv_bytes(list(TAOBAO_ITEMS), rows, draw, "gb18030", case)
    case.files[case.inputs[1]] = damage(data, draw, case)
    case.expected_rows = None  # the join makes one row per item line


def _xlsx(columns: dict[str, str], min_keep: int = 3) -> Callable[[Draw, ExportCase], None]:
    def build(draw: Draw, case: ExportCase) -> None:
        from openpyxl import Workbook

        header = _pick_columns(list(columns), draw, min_keep)
        rows, case.ids = _rows({h: columns[h] for h in header}, draw, draw.choice([0.0, 0.1]))
        rows = table_mutations(header, rows, draw, case)
        case.expected_rows = len(rows)
        workbook = Workbook()
        sheet = workbook.active
        sheet.append(header)
        id_column = next((i for i, h in enumerate(header) if columns[h] == "id"), None)
        ids: set[str] = set()
        for row in rows:
            cells: list[object] = []
            for position, cell in enumerate(row):
                # XML holds no control characters, and turns CR into LF.
                clean = "".join(ch for ch in cell if ch in "\t\n" or ord(ch) >= 32)
                if position == id_column and (bare := bare_id(clean)) is not None:
                    ids.add(bare)
                if draw.boolean(0.05):
                    case.ids = None
                    cells.append(
                        draw.choice(
                            [dt.datetime(9999, 12, 31), 3100000004440793121, 1.5, None, True]
                        )
                    )
                else:
                    cells.append(clean)
            sheet.append(cells)
        buffer = io.BytesIO()
        workbook.save(buffer)
        case.ids = None if case.ids is None else ids
        case.files[case.inputs[0]] = damage(buffer.getvalue(), draw, case)

    return build


def _parquet(draw: Draw, case: ExportCase) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    header = _pick_columns(list(CANONICAL), draw, 3)
    rows, case.ids = _rows({h: CANONICAL[h] for h in header}, draw, draw.choice([0.0, 0.1]))
    case.expected_rows = len(rows)
    arrays: dict[str, object] = {}
    for position, name in enumerate(header):
        values: list[object] = [row[position] if row[position] != "" else None for row in rows]
        kind = CANONICAL[name]
        if kind == "time" and draw.boolean(0.3):
            stamps = [dt.datetime(2026, 10, 1, 10, i % 60) for i in range(len(rows))]
            if stamps and draw.boolean(0.5):
                stamps[draw.integer(0, len(stamps) - 1)] = dt.datetime(9999, 12, 31, 23, 59)
            tz = draw.choice([None, "UTC", "Asia/Shanghai"])
            arrays[name] = pa.array(stamps, pa.timestamp(draw.choice(["s", "ms", "us"]), tz=tz))
        elif kind == "money" and draw.boolean(0.3):
            arrays[name] = pa.array(
                [draw.choice([1.5, float("nan"), float("inf"), None]) for _ in rows], pa.float64()
            )
        elif kind == "id" and draw.boolean(0.1):
            arrays[name] = pa.array(list(range(len(rows))), pa.int64())
            case.ids = {str(i) for i in range(len(rows))}
        else:
            arrays[name] = pa.array([None if v is None else str(v) for v in values], pa.string())
    buffer = io.BytesIO()
    pq.write_table(pa.table(arrays), buffer)
    case.files[case.inputs[0]] = damage(buffer.getvalue(), draw, case)


def _jsonl(draw: Draw, case: ExportCase) -> None:
    import json

    header = _pick_columns(list(CANONICAL), draw, 3)
    rows, case.ids = _rows({h: CANONICAL[h] for h in header}, draw, draw.choice([0.0, 0.1]))
    lines: list[str] = []
    for row in rows:
        record: dict[str, object] = dict(zip(header, row, strict=True))
        for key in list(record):
            if draw.boolean(0.05):
                record[key] = draw.choice([None, 12, 3.5, 31000000044407931219, [1, 2], {"a": 1}])
                if key == "order_id":
                    case.ids = None
            if draw.boolean(0.03):
                del record[key]
        lines.append(json.dumps(record, ensure_ascii=draw.boolean()))
    case.expected_rows = len(lines)
    if draw.boolean(0.08) and lines:
        lines.insert(draw.integer(0, len(lines)), "")
    if draw.boolean(0.05) and lines:
        lines[draw.integer(0, len(lines) - 1)] = draw.choice(['{"order_id": "x"', "[1, 2]", "7"])
        case.expected_rows = None
    data = "\n".join(lines).encode(draw.choice(["utf-8", "utf-8-sig", "gb18030"]))
    case.files[case.inputs[0]] = damage(data, draw, case)


def _mapping(draw: Draw, case: ExportCase) -> None:
    _delimited(CUSTOM, "utf-8")(draw, case)
    mapping = CUSTOM_MAPPING
    if draw.boolean(0.3):
        mapping = draw.choice(
            [
                mapping.replace("buyer_id", "buyer"),
                mapping.replace("  created_at: 下单时间\n", ""),
                mapping + "  amount_paid: [\n",
                "- just a list\n",
                mapping.replace("单号", "no-such-header"),
                mapping + "constants:\n  platform: [1, 2]\n",
                mapping + "name: 12\n",
                "",
                "columns: 2026-13-45\n",
            ]
        )
        case.mutations.append("mapping variant")
    case.files["mapping.yaml"] = mapping.encode(draw.choice(["utf-8", "gb18030"]))
    case.args = ["--columns", "mapping.yaml"]


def _with_format(
    build: Callable[[Draw, ExportCase], None], fmt: str
) -> Callable[[Draw, ExportCase], None]:
    def wrapped(draw: Draw, case: ExportCase) -> None:
        build(draw, case)
        if draw.boolean(0.15):
            case.args = [*case.args, "--format", fmt]

    return wrapped


# reader -> (input file names, builder)
EXPORT_READERS: dict[str, tuple[tuple[str, ...], Callable[[Draw, ExportCase], None]]] = {
    "canonical": (("orders.csv",), _with_format(_delimited(CANONICAL, "utf-8"), "riskkit")),
    "shopify": (("orders_export.csv",), _with_format(_delimited(SHOPIFY, "utf-8"), "shopify")),
    "taobao": (("ExportOrderList.csv",), _delimited(TAOBAO, "gb18030")),
    "taobao+items": (("ExportOrderList.csv", "ExportOrderDetailList.csv"), _taobao_with_items),
    "jd": (("jd_orders.csv",), _with_format(_delimited(JD, "gb18030", 4), "jd")),
    "pinduoduo": (("pdd_orders.csv",), _delimited(PINDUODUO, "utf-8-sig", 5)),
    "xlsx": (("orders.xlsx",), _xlsx(CANONICAL)),
    "xlsx-pinduoduo": (("export.xlsx",), _xlsx(PINDUODUO, 5)),
    "parquet": (("orders.parquet",), _parquet),
    "jsonl": (("orders.jsonl",), _jsonl),
    "mapping": (("erp.csv",), _mapping),
}


def make_export(reader: str, draw: Draw) -> ExportCase:
    names, build = EXPORT_READERS[reader]
    case = ExportCase(reader=reader, files={}, inputs=list(names))
    build(draw, case)
    return case
