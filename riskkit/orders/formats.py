"""Platform export formats: how each maps onto the canonical schema.

Columns are always mapped by header name, never by position: every platform
has added and renamed columns over the years.  A canonical column may list
several source headers; the first non-empty value wins (newer exports
rename 订单创建时间 to 买家下单时间, for example).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from riskkit.errors import InputError
from riskkit.orders.schema import ALL_COLUMNS

__all__ = ["FORMATS", "FormatSpec", "detect_format", "map_columns"]

PostProcess = Callable[[pd.DataFrame, pd.DataFrame], pd.DataFrame]


@dataclass(frozen=True)
class FormatSpec:
    """How one export format maps to the canonical schema."""

    name: str
    title: str
    signature: frozenset[str]
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    joined: dict[str, tuple[tuple[str, ...], str]] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    # Exports with one row per item line that repeat order totals on each line:
    # keep the totals on the first line only (so sums per order stay right).
    order_amounts_repeat: bool = False
    post: PostProcess | None = None
    # A format that cannot stand alone (the Taobao item report) names its partner.
    needs: str | None = None


def _coalesce(raw: pd.DataFrame, headers: tuple[str, ...]) -> pd.Series | None:
    present = [h for h in headers if h in raw.columns]
    if not present:
        return None
    result = raw[present[0]]
    for header in present[1:]:
        result = result.fillna(raw[header])
    return result


def _join(raw: pd.DataFrame, headers: tuple[str, ...], sep: str) -> pd.Series | None:
    present = [h for h in headers if h in raw.columns]
    if not present:
        return None
    parts = [raw[h].fillna("").astype(str).str.strip() for h in present]
    joined = parts[0]
    for part in parts[1:]:
        glue = pd.Series(sep, index=raw.index).where((joined != "") & (part != ""), "")
        joined = joined + glue + part
    return joined.where(joined != "")


def _to_number(series: pd.Series) -> pd.Series:
    cleaned = series.astype("string").str.replace(r"[¥￥$,元\s]", "", regex=True)
    return pd.to_numeric(cleaned, errors="coerce")


def _shopify_post(raw: pd.DataFrame, out: pd.DataFrame) -> pd.DataFrame:
    # Extra line items repeat the order's Name with blank order-level fields:
    # carry the order's identity, times and address down to its other lines.
    if "order_id" not in out:
        return out  # --format shopify on a file without Name: normalise names it
    carry = [
        c
        for c in (
            "buyer_id",
            "created_at",
            "paid_at",
            "coupon_code",
            "status",
            "channel",
            "ship_name",
            "ship_phone",
            "ship_address",
            "platform",
        )
        if c in out.columns
    ]
    if carry:
        out[carry] = out.groupby("order_id", sort=False)[carry].ffill()
    guest = "guest:" + out["order_id"].astype(str)
    out["buyer_id"] = out["buyer_id"].fillna(guest) if "buyer_id" in out else guest
    return out


def _taobao_orders_post(raw: pd.DataFrame, out: pd.DataFrame) -> pd.DataFrame:
    # Shop coupons and promotions are not itemised: what they took off is the
    # goods and postage payable (应付) less what the buyer actually paid.
    payable = _coalesce(raw, ("买家应付货款",))
    paid = _coalesce(raw, ("买家实际支付金额", "买家实付金额"))
    if payable is not None and paid is not None:
        postage = _coalesce(raw, ("买家应付邮费",))
        owed = _to_number(payable) + (
            _to_number(postage).fillna(0.0) if postage is not None else 0.0
        )
        taken_off = (owed - _to_number(paid)).clip(lower=0.0).round(2)
        stated = (
            _to_number(out["discount_amount"]) if "discount_amount" in out else taken_off * np.nan
        )
        discount = stated.where(stated > 0, taken_off)
        out["discount_amount"] = discount.map(lambda v: "" if pd.isna(v) else f"{v:.2f}")
        out["discount_amount"] = out["discount_amount"].where(out["discount_amount"] != "")
    mobile = _coalesce(raw, ("是否手机订单",))
    if mobile is not None:
        text = mobile.astype("string")
        out["platform"] = (
            text.str.contains("是|手机|mobile", regex=True, na=False)
            .map({True: "mobile", False: "pc"})
            .where(text.notna())
        )
    return out


def _pdd_post(raw: pd.DataFrame, out: pd.DataFrame) -> pd.DataFrame:
    # Pinduoduo exports carry no buyer account: the buyer's phone stands in,
    # and an order whose phones are masked gets a key of its own (never shared).
    if "order_id" not in out:
        return out  # --format pinduoduo on a file without 订单号: normalise names it
    if "buyer_id" not in out:
        out["buyer_id"] = pd.Series(pd.NA, index=out.index, dtype="object")
    masked = out["buyer_id"].astype("string").str.contains(r"\*\*\*", regex=True, na=True)
    out["buyer_id"] = out["buyer_id"].where(~masked, "pdd-order:" + out["order_id"].astype(str))
    total = _coalesce(raw, ("商品总价(元)",))
    qty = _coalesce(raw, ("商品数量(件)",))
    if total is not None and qty is not None:
        unit = _to_number(total) / _to_number(qty).where(lambda q: q > 0)
        out["unit_price"] = unit.round(2).map(lambda v: "" if pd.isna(v) else f"{v:.2f}")
        out["unit_price"] = out["unit_price"].where(out["unit_price"] != "")
    parts = [
        h for h in ("店铺优惠折扣(元)", "平台优惠折扣(元)", "多多支付立减金额(元)") if h in raw
    ]
    if parts:
        discount = sum(
            (_to_number(raw[h]).fillna(0.0) for h in parts), start=pd.Series(0.0, index=raw.index)
        )
        out["discount_amount"] = discount.map(lambda v: f"{v:.2f}")
    return out


FORMATS: dict[str, FormatSpec] = {
    spec.name: spec
    for spec in (
        FormatSpec(
            name="riskkit",
            title="riskkit canonical",
            signature=frozenset({"order_id", "buyer_id", "created_at"}),
            columns={c: (c,) for c in ALL_COLUMNS},
        ),
        FormatSpec(
            name="shopify",
            title="Shopify orders export",
            signature=frozenset({"Name", "Created at", "Lineitem quantity"}),
            columns={
                "order_id": ("Name",),
                "buyer_id": ("Email", "Phone", "Billing Phone"),
                "created_at": ("Created at",),
                "paid_at": ("Paid at",),
                "sku_id": ("Lineitem sku", "Lineitem name"),
                "quantity": ("Lineitem quantity",),
                "unit_price": ("Lineitem price",),
                "list_price": ("Lineitem compare at price",),
                "coupon_code": ("Discount Code",),
                "discount_amount": ("Discount Amount",),
                "amount_paid": ("Total",),
                "channel": ("Source",),
                "ship_name": ("Shipping Name", "Billing Name"),
                "ship_phone": ("Shipping Phone", "Phone", "Billing Phone"),
                "status": ("Financial Status",),
                "refund_amount": ("Refunded Amount",),
                "shipped_at": ("Fulfilled at",),
                "shop_id": ("Vendor",),
            },
            joined={
                "ship_address": (
                    (
                        "Shipping Address1",
                        "Shipping Address2",
                        "Shipping City",
                        "Shipping Province",
                        "Shipping Zip",
                        "Shipping Country",
                    ),
                    ", ",
                )
            },
            post=_shopify_post,
        ),
        FormatSpec(
            name="taobao",
            title="Taobao/Tmall 订单报表",
            signature=frozenset({"订单编号", "买家会员名"}),
            columns={
                "order_id": ("订单编号", "主订单编号"),
                "buyer_id": ("买家会员名",),
                "created_at": ("订单创建时间", "买家下单时间"),
                "paid_at": ("订单付款时间", "买家付款时间"),
                "amount_paid": ("买家实际支付金额", "买家实付金额"),
                "status": ("订单状态",),
                "ship_name": ("收货人姓名",),
                "ship_address": ("修改后的收货地址", "收货地址"),
                "ship_phone": ("联系手机", "联系电话"),
                "tracking_no": ("物流单号", "运单号"),
                "carrier": ("物流公司",),
                "quantity": ("宝贝总数量",),
                "shop_id": ("店铺Id", "店铺名称"),
                "refund_amount": ("退款金额",),
                "discount_amount": ("天猫卡券抵扣",),
                "sku_id": ("宝贝标题",),
            },
            post=_taobao_orders_post,
        ),
        FormatSpec(
            name="taobao-items",
            title="Taobao/Tmall 宝贝报表 (item report)",
            signature=frozenset({"订单编号", "标题", "价格", "购买数量"}),
            columns={
                "order_id": ("主订单编号", "订单编号"),
                "sku_id": ("商家编码", "外部系统编号", "标题"),
                "unit_price": ("价格",),
                "quantity": ("购买数量",),
            },
            needs="taobao",
        ),
        FormatSpec(
            name="jd",
            title="JD 京东 order export",
            signature=frozenset({"订单号", "下单时间", "商品ID"}),
            columns={
                "order_id": ("订单号",),
                "buyer_id": ("下单帐号", "下单账号"),
                "created_at": ("下单时间",),
                "paid_at": ("付款确认时间",),
                "sku_id": ("商家SKUID", "商品ID"),
                "quantity": ("订购数量",),
                "unit_price": ("京东价",),
                "amount_paid": ("应付金额", "结算金额"),
                "status": ("订单状态",),
                "ship_name": ("客户姓名",),
                "ship_address": ("客户地址",),
                "ship_phone": ("联系电话",),
                "received_at": ("订单完成时间",),
                "channel": ("订单来源",),
                "platform": ("订单渠道",),
            },
            order_amounts_repeat=True,
        ),
        FormatSpec(
            name="pinduoduo",
            title="Pinduoduo 拼多多 order export",
            signature=frozenset({"订单号", "商品id", "用户实付金额(元)"}),
            columns={
                "order_id": ("订单号",),
                "buyer_id": ("用户购买手机号", "手机"),
                "created_at": ("订单成交时间", "拼单成功时间", "支付时间"),
                "paid_at": ("支付时间",),
                "sku_id": ("商家编码-SKU维度", "商品id"),
                "quantity": ("商品数量(件)",),
                "amount_paid": ("用户实付金额(元)",),
                "status": ("订单状态",),
                "ship_name": ("收货人",),
                "ship_phone": ("手机",),
                "carrier": ("快递公司",),
                "tracking_no": ("快递单号",),
                "shipped_at": ("发货时间",),
                "received_at": ("确认收货时间",),
            },
            joined={"ship_address": (("省", "市", "区", "街道"), "")},
            constants={"platform": "pinduoduo"},
            post=_pdd_post,
        ),
    )
}


def detect_format(header: list[str], path: object = None) -> FormatSpec:
    """The format whose signature headers are all present (the most specific wins)."""
    present = set(header)
    candidates = [spec for spec in FORMATS.values() if spec.signature <= present]
    if not candidates:
        known = "; ".join(f"{s.name}: {', '.join(sorted(s.signature))}" for s in FORMATS.values())
        raise InputError(
            "unrecognised export: the header matches no known format "
            f"(expected one of — {known}); pass --format or a --columns mapping file",
            file=str(path) if path is not None else None,
            row=1,
        )
    return max(candidates, key=lambda spec: len(spec.signature))


def map_columns(raw: pd.DataFrame, spec: FormatSpec) -> pd.DataFrame:
    """Canonical columns (still strings) from a raw export frame."""
    out = pd.DataFrame(index=raw.index)
    for canonical, headers in spec.columns.items():
        series = _coalesce(raw, headers)
        if series is not None:
            out[canonical] = series
    for canonical, (headers, sep) in spec.joined.items():
        series = _join(raw, headers, sep)
        if series is not None:
            out[canonical] = series
    for canonical, value in spec.constants.items():
        out[canonical] = value
    if spec.post is not None:
        out = spec.post(raw, out)
    return out
