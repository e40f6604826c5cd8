"""Shopify and Taobao/Tmall export layouts of a generated marketplace.

Neither platform exports device ids or IPs; Shopify's ``Device ID`` is a
point-of-sale terminal and stays blank.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from riskkit.synth import geo
from riskkit.synth.csvout import money_text, text_column, timestamp_text, write_csv_chunks

if TYPE_CHECKING:
    from riskkit.synth.generate import SynthData

__all__ = [
    "SHOPIFY_COLUMNS",
    "TAOBAO_ITEM_COLUMNS",
    "TAOBAO_ORDER_COLUMNS",
    "shopify_export",
    "shopify_names",
    "taobao_export",
]

SHOPIFY_COLUMNS: tuple[str, ...] = (
    "Name", "Email", "Financial Status", "Paid at", "Fulfillment Status", "Fulfilled at",
    "Accepts Marketing", "Currency", "Subtotal", "Shipping", "Taxes", "Total", "Discount Code",
    "Discount Amount", "Shipping Method", "Created at", "Lineitem quantity", "Lineitem name",
    "Lineitem price", "Lineitem compare at price", "Lineitem sku", "Lineitem requires shipping",
    "Lineitem taxable", "Lineitem fulfillment status", "Billing Name", "Billing Street",
    "Billing Address1", "Billing Address2", "Billing Company", "Billing City", "Billing Zip",
    "Billing Province", "Billing Country", "Billing Phone", "Shipping Name", "Shipping Street",
    "Shipping Address1", "Shipping Address2", "Shipping Company", "Shipping City",
    "Shipping Zip", "Shipping Province", "Shipping Country", "Shipping Phone", "Notes",
    "Note Attributes", "Cancelled at", "Payment Method", "Payment Reference", "Refunded Amount",
    "Vendor", "Outstanding Balance", "Employee", "Location", "Device ID", "Id", "Tags",
    "Risk Level", "Source", "Lineitem discount",
    "Tax 1 Name", "Tax 1 Value", "Tax 2 Name", "Tax 2 Value", "Tax 3 Name", "Tax 3 Value",
    "Tax 4 Name", "Tax 4 Value", "Tax 5 Name", "Tax 5 Value",
    "Phone", "Receipt Number", "Duties", "Billing Province Name", "Shipping Province Name",
    "Payment ID", "Payment Terms Name", "Next Payment Due At", "Payment References",
)  # fmt: skip
SHOPIFY_LINE_COLUMNS: frozenset[str] = frozenset(
    {
        "Name",
        "Lineitem quantity",
        "Lineitem name",
        "Lineitem price",
        "Lineitem compare at price",
        "Lineitem sku",
        "Lineitem requires shipping",
        "Lineitem taxable",
        "Lineitem fulfillment status",
        "Vendor",
        "Lineitem discount",
    }
)
TAOBAO_ORDER_COLUMNS: tuple[str, ...] = (
    "订单编号", "买家会员名", "买家支付宝账号", "买家应付货款", "买家应付邮费", "买家支付积分",
    "总金额", "返点积分", "买家实际支付金额", "买家实际支付积分", "订单状态", "买家留言",
    "收货人姓名", "收货地址", "运送方式", "联系电话", "联系手机", "订单创建时间", "订单付款时间",
    "宝贝标题", "宝贝种类", "物流单号", "物流公司", "订单备注", "宝贝总数量", "店铺Id", "店铺名称",
    "订单关闭原因", "卖家服务费", "买家服务费", "发票抬头", "是否手机订单", "分阶段订单信息",
    "特权订金订单id", "定金排名", "修改后的sku", "修改后的收货地址", "异常信息", "天猫卡券抵扣",
    "集分宝抵扣", "是否是O2O交易", "退款金额",
)  # fmt: skip
TAOBAO_ITEM_COLUMNS: tuple[str, ...] = (
    "订单编号", "标题", "价格", "购买数量", "外部系统编号", "商品属性", "套餐信息", "备注",
    "订单状态", "商家编码",
)  # fmt: skip
TAOBAO_STATUS: dict[str, str] = {
    "paid": "买家已付款，等待卖家发货",
    "shipped": "卖家已发货，等待买家确认",
    "completed": "交易成功",
    "refunded": "交易关闭",
}
SHOPIFY_FINANCIAL: dict[str, str] = {
    "paid": "paid",
    "shipped": "paid",
    "completed": "paid",
    "refunded": "refunded",
}
_EMAIL_DOMAINS: tuple[str, ...] = ("qq.com", "163.com", "126.com", "sina.com", "foxmail.com")
SHOPIFY_NAME_BASE = 100_001
SHOPIFY_ID_BASE = 5_800_000_000_000


def _constant(value: str, size: int) -> pa.Array:
    return pa.array(np.full(size, value, dtype=object), type=pa.string())


def _blank(size: int) -> pa.Array:
    return pa.nulls(size, type=pa.string())


def _map(values: pd.Series, mapping: dict[str, str]) -> pa.Array:
    return text_column(values.map(mapping))


def shopify_names(sequence: npt.NDArray[np.int64]) -> pa.Array:
    """Shopify order names ``#100001``, ``#100002``... in creation order."""
    return geo.concat("#", geo.numbers(sequence + SHOPIFY_NAME_BASE))


ORDERS_PER_CHUNK = 50_000


def _order_chunks(data: SynthData) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """(lines, orders) a slice at a time; ``orders`` is each order's first line plus its facts.

    Lines of one order are adjacent, so a slice of orders is a slice of lines:
    only one chunk of export strings exists at a time.
    """
    frame = data.orders
    ids = frame["order_id"]
    starts = np.flatnonzero((ids != ids.shift()).to_numpy())
    bounds = np.append(starts, len(frame))
    for first in range(0, len(starts), ORDERS_PER_CHUNK):
        last = min(first + ORDERS_PER_CHUNK, len(starts))
        lines = frame.iloc[bounds[first] : bounds[last]]
        heads = frame.iloc[starts[first:last]].reset_index(drop=True)
        facts = data.order_facts.iloc[first:last].drop(columns=["order_id"]).reset_index(drop=True)
        places = data.addresses.iloc[facts["address_code"].to_numpy()].reset_index(drop=True)
        yield lines, pd.concat([heads, facts, places], axis=1)


def shopify_export(out_dir: Path, data: SynthData) -> tuple[list[str], pd.Series]:
    """``orders_export.csv``: one row per line item; extra items keep only Name and item fields."""
    titles = dict(zip(data.skus["sku_id"], data.skus["title"], strict=True))
    chunks = (_shopify_chunk(lines, head, titles) for lines, head in _order_chunks(data))
    write_csv_chunks(out_dir / "orders_export.csv", SHOPIFY_COLUMNS, chunks)
    names = shopify_names(data.order_facts["sequence"].to_numpy())
    return ["orders_export.csv"], pd.Series(names.to_pandas())


def _shopify_chunk(
    orders: pd.DataFrame, head: pd.DataFrame, titles: dict[str, str]
) -> dict[str, pa.Array]:
    size = len(head)
    names = shopify_names(head["sequence"].to_numpy())
    suffix = " +0800"
    domain = geo.lookup(_EMAIL_DOMAINS, head["buyer_id"].str.len().to_numpy() % len(_EMAIL_DOMAINS))
    email = geo.concat(text_column(head["buyer_id"]), "@", domain)
    shipped = head["shipped_at"].notna().to_numpy()
    street = text_column(head["address_line"])
    province = text_column(head["province_written"])
    refunded = head["refund_amount"].to_numpy() > 0
    full_refund = head["status"].to_numpy() == "refunded"
    financial = np.where(full_refund, "refunded", np.where(refunded, "partially_refunded", "paid"))
    tags = geo.concat(
        "platform:", text_column(head["platform"]), ", tier:", text_column(head["member_tier"])
    )
    order_cells: dict[str, pa.Array] = {
        "Email": email,
        "Financial Status": pa.array(financial, type=pa.string()),
        "Paid at": timestamp_text(head["paid_at"], suffix),
        "Fulfillment Status": pa.array(np.where(shipped, "fulfilled", "unfulfilled"), pa.string()),
        "Fulfilled at": timestamp_text(head["shipped_at"], suffix),
        "Accepts Marketing": pa.array(
            np.where(head["sequence"].to_numpy() % 3 == 0, "yes", "no"), pa.string()
        ),
        "Currency": _constant("CNY", size),
        "Subtotal": money_text(head["subtotal"]),
        "Shipping": _constant("0.00", size),
        "Taxes": _constant("0.00", size),
        "Total": money_text(head["amount_paid"]),
        "Discount Code": text_column(head["coupon_code"]),
        "Discount Amount": money_text(head["discount_amount"]),
        "Shipping Method": text_column(head["carrier"]),
        "Created at": timestamp_text(head["created_at"], suffix),
        "Cancelled at": _blank(size),
        "Payment Method": pa.array(
            np.where(head["platform"].to_numpy() == "mini_program", "WeChat Pay", "Alipay"),
            pa.string(),
        ),
        "Refunded Amount": money_text(head["refund_amount"]),
        "Outstanding Balance": _constant("0.00", size),
        "Id": geo.numbers(head["sequence"].to_numpy() * 7 + SHOPIFY_ID_BASE),
        "Tags": tags,
        "Risk Level": _constant("Low", size),
        "Source": text_column(head["channel"]),
        "Phone": text_column(head["ship_phone"]),
        "Billing Province Name": province,
        "Shipping Province Name": province,
    }
    for side in ("Billing", "Shipping"):
        order_cells |= {
            f"{side} Name": text_column(head["ship_name"]),
            f"{side} Street": street,
            f"{side} Address1": street,
            f"{side} City": text_column(head["city"]),
            f"{side} Zip": text_column(head["zip"]),
            f"{side} Province": province,
            f"{side} Country": _constant("CN", size),
            f"{side} Phone": text_column(head["ship_phone"]),
        }
    # Spread order-level cells over lines: only an order's first line carries them.
    line_order = pd.factorize(orders["order_id"])[0]
    first_line = np.r_[True, line_order[1:] != line_order[:-1]]
    take = pa.array(np.where(first_line, line_order, -1)).cast(pa.int64())
    take = pc.if_else(pc.equal(take, -1), pa.scalar(None, pa.int64()), take)
    line_status = np.where(
        head["shipped_at"].notna().to_numpy()[line_order], "fulfilled", "pending"
    )
    line_cells: dict[str, pa.Array] = {
        "Name": names.take(pa.array(line_order)),
        "Lineitem quantity": text_column(orders["quantity"]),
        "Lineitem name": text_column(orders["sku_id"].map(titles)),
        "Lineitem price": money_text(orders["unit_price"]),
        "Lineitem compare at price": money_text(orders["list_price"]),
        "Lineitem sku": text_column(orders["sku_id"]),
        "Lineitem requires shipping": _constant("true", len(orders)),
        "Lineitem taxable": _constant("false", len(orders)),
        "Lineitem fulfillment status": pa.array(line_status, pa.string()),
        # Vendor carries the shop id so that label files (drift scope) match the export.
        "Vendor": text_column(orders["shop_id"]),
        "Lineitem discount": _constant("0.00", len(orders)),
    }
    columns: dict[str, pa.Array] = {}
    for column in SHOPIFY_COLUMNS:
        if column in line_cells:
            columns[column] = line_cells[column]
        elif column in order_cells:
            columns[column] = order_cells[column].take(take)
        else:
            columns[column] = _blank(len(orders))
    return columns


def _excel_guarded(values: pa.Array) -> pa.Array:
    return geo.concat('="', values, '"')


def taobao_export(out_dir: Path, data: SynthData) -> tuple[list[str], pd.Series]:
    """``taobao_orders.csv`` (订单报表) and ``taobao_items.csv`` (宝贝报表), GB18030."""
    titles = dict(zip(data.skus["sku_id"], data.skus["title"], strict=True))
    shop_names = dict(zip(data.shops["shop_id"], data.shops["shop_name"], strict=True))
    guarded = ["订单编号", "联系手机", "物流单号"]  # Excel guards are written as they are
    order_chunks = (
        _taobao_order_chunk(lines, head, titles, shop_names) for lines, head in _order_chunks(data)
    )
    write_csv_chunks(
        out_dir / "taobao_orders.csv",
        TAOBAO_ORDER_COLUMNS,
        order_chunks,
        encoding="gb18030",
        raw=guarded,
    )
    item_chunks = (_taobao_item_chunk(lines, titles) for lines, _ in _order_chunks(data))
    write_csv_chunks(
        out_dir / "taobao_items.csv",
        TAOBAO_ITEM_COLUMNS,
        item_chunks,
        encoding="gb18030",
        raw=["订单编号"],
    )
    return ["taobao_orders.csv", "taobao_items.csv"], data.order_facts["order_id"]


def _taobao_order_chunk(
    orders: pd.DataFrame,
    head: pd.DataFrame,
    titles: dict[str, str],
    shop_names: dict[str, str],
) -> dict[str, pa.Array]:
    size = len(head)
    kinds = orders.groupby("order_id", sort=False).size().to_numpy()
    guarded_id = _excel_guarded(text_column(head["order_id"]))
    status = _map(head["status"], TAOBAO_STATUS)
    zero = _constant("0.00", size)
    phone = text_column(head["ship_phone"])
    masked_phone = geo.concat(
        pc.utf8_slice_codeunits(phone, 0, 3), "****", pc.utf8_slice_codeunits(phone, 7)
    )
    mobile = head["platform"].to_numpy() != "web"
    columns: dict[str, pa.Array] = {
        "订单编号": guarded_id,
        "买家会员名": text_column(head["buyer_id"]),
        "买家支付宝账号": masked_phone,
        "买家应付货款": money_text(head["subtotal"]),
        "买家应付邮费": zero,
        "买家支付积分": _constant("0", size),
        "总金额": money_text(head["subtotal"]),
        "返点积分": _constant("0", size),
        "买家实际支付金额": money_text(head["amount_paid"]),
        "买家实际支付积分": _constant("0", size),
        "订单状态": status,
        "买家留言": _blank(size),
        "收货人姓名": text_column(head["ship_name"]),
        "收货地址": text_column(head["ship_address"]),
        "运送方式": _constant("快递", size),
        "联系电话": _blank(size),
        "联系手机": geo.concat("'", phone),
        "订单创建时间": timestamp_text(head["created_at"]),
        "订单付款时间": timestamp_text(head["paid_at"]),
        "宝贝标题": text_column(head["sku_id"].map(titles)),
        "宝贝种类": geo.numbers(kinds),
        "物流单号": geo.concat("\t", text_column(head["tracking_no"])),
        "物流公司": text_column(head["carrier"]),
        "订单备注": _blank(size),
        "宝贝总数量": geo.numbers(head["items"].to_numpy()),
        "店铺Id": text_column(head["shop_id"]),
        "店铺名称": text_column(head["shop_id"].map(shop_names)),
        "订单关闭原因": pa.array(
            np.where(head["status"].to_numpy() == "refunded", "买家申请退款", ""), pa.string()
        ),
        "卖家服务费": zero,
        "买家服务费": zero,
        "发票抬头": _blank(size),
        "是否手机订单": pa.array(np.where(mobile, "手机订单", ""), pa.string()),
        "天猫卡券抵扣": money_text(head["discount_amount"]),
        "集分宝抵扣": zero,
        "退款金额": money_text(head["refund_amount"]),
    }
    # A waybill guard only where there is a waybill.
    columns["物流单号"] = pc.if_else(
        pc.is_null(text_column(head["tracking_no"])), _blank(size), columns["物流单号"]
    )
    return {name: columns.get(name, _blank(size)) for name in TAOBAO_ORDER_COLUMNS}


def _taobao_item_chunk(orders: pd.DataFrame, titles: dict[str, str]) -> dict[str, pa.Array]:
    lines = len(orders)
    return {
        "订单编号": _excel_guarded(text_column(orders["order_id"])),
        "标题": text_column(orders["sku_id"].map(titles)),
        "价格": money_text(orders["unit_price"]),
        "购买数量": text_column(orders["quantity"]),
        "外部系统编号": _blank(lines),
        "商品属性": _constant("颜色分类：默认", lines),
        "套餐信息": _blank(lines),
        "备注": _blank(lines),
        "订单状态": _map(orders["status"], TAOBAO_STATUS),
        "商家编码": text_column(orders["sku_id"]),
    }
