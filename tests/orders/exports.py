"""Realistic small exports of every supported platform, written byte for byte
the way the platforms write them (encodings, Excel guards, line-item rows)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

TAOBAO_ORDER_HEADER = [
    "订单编号",
    "买家会员名",
    "买家支付宝账号",
    "买家应付货款",
    "买家应付邮费",
    "买家支付积分",
    "总金额",
    "返点积分",
    "买家实际支付金额",
    "买家实际支付积分",
    "订单状态",
    "买家留言",
    "收货人姓名",
    "收货地址",
    "运送方式",
    "联系电话",
    "联系手机",
    "订单创建时间",
    "订单付款时间",
    "宝贝标题",
    "宝贝种类",
    "物流单号",
    "物流公司",
    "订单备注",
    "宝贝总数量",
    "店铺Id",
    "店铺名称",
    "订单关闭原因",
    "卖家服务费",
    "买家服务费",
    "发票抬头",
    "是否手机订单",
    "分阶段订单信息",
    "特权订金订单id",
    "定金排名",
    "修改后的sku",
    "修改后的收货地址",
    "异常信息",
    "天猫卡券抵扣",
    "集分宝抵扣",
    "是否是O2O交易",
]

TAOBAO_ORDERS = [
    # 19-digit order numbers, guarded as ="…"; phones with a leading ' ; waybills with a tab.
    (
        "3100000004440793121",
        "小鹿乱撞2019",
        "xl***@163.com",
        "129.00",
        "0.00",
        "0",
        "129.00",
        "0",
        "119.00",
        "0",
        "交易成功",
        "",
        "王小明",
        "浙江省 杭州市 西湖区 文三路100号5栋301室(310012)",
        "快递",
        "",
        "13812345678",
        "2026-10-20 10:11:12",
        "2026-10-20 10:11:40",
        "纯棉T恤 白色 L",
        "1",
        "\tYT7012345678901",
        "圆通速递",
        "",
        "1",
        "58012345",
        "小鹿服饰旗舰店",
        "",
        "0",
        "0",
        "",
        "手机订单",
        "",
        "",
        "",
        "",
        "",
        "",
        "0",
        "0",
        "否",
    ),
    (
        "3100000004440793122",
        "tb_8812",
        "",
        "258.00",
        "10.00",
        "0",
        "268.00",
        "0",
        "248.00",
        "0",
        "卖家已发货，等待买家确认",
        "请尽快发货",
        "李四",
        "广东省 深圳市 南山区 科技园南路8号",
        "快递",
        "",
        "13912345678",
        "2026-10-21 21:03:55",
        "2026-10-21 21:04:02",
        "连衣裙 碎花;纯棉T恤 白色 L",
        "2",
        "\tSF1234567890",
        "顺丰速运",
        "",
        "3",
        "58012345",
        "小鹿服饰旗舰店",
        "",
        "0",
        "0",
        "",
        "",
        "",
        "",
        "",
        "",
        "广东省 深圳市 南山区 科技园南路9号",
        "",
        "0",
        "0",
        "否",
    ),
    (
        "3100000004440793123",
        "一只猫",
        "",
        "59.90",
        "0.00",
        "0",
        "59.90",
        "0",
        "59.90",
        "0",
        "交易关闭",
        "",
        "赵*",
        "****",
        "快递",
        "",
        "138****5678",
        "2026-10-22 08:00:01",
        "",
        "袜子 五双装",
        "1",
        "",
        "",
        "",
        "1",
        "58012345",
        "小鹿服饰旗舰店",
        "买家不想要了",
        "0",
        "0",
        "",
        "否",
        "",
        "",
        "",
        "",
        "",
        "",
        "0",
        "0",
        "否",
    ),
]

TAOBAO_ITEM_HEADER = [
    "订单编号",
    "标题",
    "价格",
    "购买数量",
    "外部系统编号",
    "商品属性",
    "套餐信息",
    "备注",
    "订单状态",
    "商家编码",
]
TAOBAO_ITEMS = [
    (
        "3100000004440793121",
        "纯棉T恤 白色 L",
        "129.00",
        "1",
        "",
        "颜色:白色;尺码:L",
        "",
        "",
        "交易成功",
        "TS-WHITE-L",
    ),
    (
        "3100000004440793122",
        "连衣裙 碎花",
        "199.00",
        "1",
        "",
        "尺码:M",
        "",
        "",
        "卖家已发货",
        "DR-FLORAL-M",
    ),
    (
        "3100000004440793122",
        "纯棉T恤 白色 L",
        "29.50",
        "2",
        "",
        "颜色:白色;尺码:L",
        "",
        "",
        "卖家已发货",
        "TS-WHITE-L",
    ),
    ("3100000004440793123", "袜子 五双装", "59.90", "1", "", "", "", "", "交易关闭", "SOCK-5"),
]


def _guard(order_id: str) -> str:
    return f'="{order_id}"'


def write_taobao(folder: Path) -> tuple[Path, Path]:
    """订单报表 + 宝贝报表 in GB18030 with Excel guards, as Taobao's seller centre writes them."""
    orders = io.StringIO()
    writer = csv.writer(orders, lineterminator="\r\n")
    # A header cell with a stray leading quote, as seen in real downloads.
    orders.write('"订单编号,' + ",".join(TAOBAO_ORDER_HEADER[1:]) + "\r\n")
    for row in TAOBAO_ORDERS:
        cells = list(row)
        cells[16] = "'" + cells[16] if cells[16] and "*" not in cells[16] else cells[16]
        orders.write(_guard(cells[0]) + ",")
        writer.writerow(cells[1:])
    items = io.StringIO()
    writer = csv.writer(items, lineterminator="\r\n")
    writer.writerow(TAOBAO_ITEM_HEADER)
    for row in TAOBAO_ITEMS:
        items.write(_guard(row[0]) + ",")
        writer.writerow(row[1:])
    orders_path = folder / "ExportOrderList202610.csv"
    items_path = folder / "ExportOrderDetailList202610.csv"
    orders_path.write_bytes(orders.getvalue().encode("gb18030"))
    items_path.write_bytes(items.getvalue().encode("gb18030"))
    return orders_path, items_path


SHOPIFY_HEADER = [
    "Name",
    "Email",
    "Financial Status",
    "Paid at",
    "Fulfillment Status",
    "Fulfilled at",
    "Accepts Marketing",
    "Currency",
    "Subtotal",
    "Shipping",
    "Taxes",
    "Total",
    "Discount Code",
    "Discount Amount",
    "Shipping Method",
    "Created at",
    "Lineitem quantity",
    "Lineitem name",
    "Lineitem price",
    "Lineitem compare at price",
    "Lineitem sku",
    "Lineitem requires shipping",
    "Lineitem taxable",
    "Lineitem fulfillment status",
    "Billing Name",
    "Billing Street",
    "Billing Address1",
    "Billing Address2",
    "Billing Company",
    "Billing City",
    "Billing Zip",
    "Billing Province",
    "Billing Country",
    "Billing Phone",
    "Shipping Name",
    "Shipping Street",
    "Shipping Address1",
    "Shipping Address2",
    "Shipping Company",
    "Shipping City",
    "Shipping Zip",
    "Shipping Province",
    "Shipping Country",
    "Shipping Phone",
    "Notes",
    "Note Attributes",
    "Cancelled at",
    "Payment Method",
    "Payment Reference",
    "Refunded Amount",
    "Vendor",
    "Outstanding Balance",
    "Employee",
    "Location",
    "Device ID",
    "Id",
    "Tags",
    "Risk Level",
    "Source",
    "Lineitem discount",
    "Phone",
]


def _shopify_row(**cells: str) -> list[str]:
    return [cells.get(name, "") for name in SHOPIFY_HEADER]


def write_shopify(folder: Path) -> Path:
    """Order #1001 has three line items: the 2nd and 3rd rows repeat only Name and line fields."""
    rows = [
        _shopify_row(
            **{
                "Name": "#1001",
                "Email": "anna@example.com",
                "Financial Status": "paid",
                "Paid at": "2026-10-20 10:12:40 +0800",
                "Currency": "CNY",
                "Subtotal": "297.00",
                "Total": "287.00",
                "Discount Code": "FULL200-20",
                "Discount Amount": "20.00",
                "Created at": "2026-10-20 10:11:12 +0800",
                "Lineitem quantity": "1",
                "Lineitem name": "Linen shirt - M",
                "Lineitem price": "199.00",
                "Lineitem compare at price": "259.00",
                "Lineitem sku": "LS-M",
                "Shipping Name": "Anna Lee",
                "Shipping Address1": "12 Harbour Rd",
                "Shipping City": "Hong Kong",
                "Shipping Country": "HK",
                "Shipping Phone": "+852 9123 4567",
                "Refunded Amount": "0.00",
                "Vendor": "North Shop",
                "Device ID": "POS-7",
                "Id": "5550001001",
                "Source": "web",
            }
        ),
        _shopify_row(
            **{
                "Name": "#1001",
                "Lineitem quantity": "2",
                "Lineitem name": "Socks",
                "Lineitem price": "29.00",
                "Lineitem sku": "SOCK-2",
            }
        ),
        _shopify_row(
            **{
                "Name": "#1001",
                "Lineitem quantity": "1",
                "Lineitem name": "Cap",
                "Lineitem price": "40.00",
                "Lineitem sku": "=CAP-1",
            }
        ),
        _shopify_row(
            **{
                "Name": "#1002",
                "Email": "bo@example.com",
                "Financial Status": "refunded",
                "Paid at": "2026-10-21 22:00:09 +0800",
                "Total": "89.00",
                "Created at": "2026-10-21 21:59:58 +0800",
                "Lineitem quantity": "1",
                "Lineitem name": "Mug",
                "Lineitem price": "89.00",
                "Lineitem sku": "MUG-1",
                "Shipping Name": "Bo Chen",
                "Shipping Address1": "1 Queen St",
                "Shipping City": "Auckland",
                "Shipping Country": "NZ",
                "Refunded Amount": "89.00",
                "Id": "5550001002",
                "Source": "pos",
            }
        ),
    ]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(SHOPIFY_HEADER)
    writer.writerows(rows)
    path = folder / "orders_export_1.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


JD_HEADER = [
    "订单号",
    "商品ID",
    "商品名称",
    "订购数量",
    "支付方式",
    "下单时间",
    "京东价",
    "订单金额",
    "结算金额",
    "余额支付",
    "应付金额",
    "订单状态",
    "订单类型",
    "下单帐号",
    "客户姓名",
    "客户地址",
    "联系电话",
    "订单备注",
    "发票类型",
    "发票抬头",
    "发票内容",
    "商家备注",
    "商家备注等级（等级1-5为由高到低）",
    "运费金额",
    "付款确认时间",
    "增值税发票",
    "货号",
    "订单完成时间",
    "订单来源",
    "订单渠道",
]
JD_ROWS = [
    [
        "298765432101",
        "100012345678",
        "电饭煲 4L",
        "1",
        "在线支付",
        "2026-11-11 00:00:05",
        "399.00",
        "449.00",
        "449.00",
        "0",
        "449.00",
        "完成",
        "普通订单",
        "jd_user_01",
        "孙七",
        "北京市朝阳区建国路88号3号楼1单元502",
        "13600001111",
        "",
        "电子发票",
        "个人",
        "明细",
        "",
        "",
        "0",
        "2026-11-11 00:00:09",
        "",
        "RC-4L",
        "2026-11-13 15:20:00",
        "京东APP",
        "APP",
    ],
    [
        "298765432101",
        "100012345679",
        "内胆 4L",
        "1",
        "在线支付",
        "2026-11-11 00:00:05",
        "50.00",
        "449.00",
        "449.00",
        "0",
        "449.00",
        "完成",
        "普通订单",
        "jd_user_01",
        "孙七",
        "北京市朝阳区建国路88号3号楼1单元502",
        "13600001111",
        "",
        "电子发票",
        "个人",
        "明细",
        "",
        "",
        "0",
        "2026-11-11 00:00:09",
        "",
        "RC-IN",
        "2026-11-13 15:20:00",
        "京东APP",
        "APP",
    ],
]


def write_jd_xlsx(folder: Path) -> Path:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(JD_HEADER)
    for row in JD_ROWS:
        sheet.append(row)
    path = folder / "jd_orders.xlsx"
    workbook.save(path)
    return path


PDD_HEADER = [
    "商品",
    "订单号",
    "订单状态",
    "商品总价(元)",
    "店铺优惠折扣(元)",
    "平台优惠折扣(元)",
    "多多支付立减金额(元)",
    "邮费(元)",
    "用户实付金额(元)",
    "商家实收金额(元)",
    "商品数量(件)",
    "收货人",
    "手机",
    "省",
    "市",
    "区",
    "街道",
    "支付时间",
    "拼单成功时间",
    "订单确认时间",
    "承诺发货时间",
    "发货时间",
    "确认收货时间",
    "商品id",
    "商品规格",
    "快递单号",
    "快递公司",
    "商家备注",
    "买家留言",
    "售后状态",
]
PDD_ROWS = [
    [
        "纸巾 24包",
        "261022-123456789012345",
        "已签收",
        "39.80",
        "2.00",
        "3.00",
        "0.50",
        "0",
        "34.30",
        "36.80",
        "2",
        "周**",
        "138****0001",
        "河南省",
        "郑州市",
        "金水区",
        "****",
        "2026-10-22 12:00:03",
        "2026-10-22 12:00:05",
        "2026-10-22 12:00:05",
        "2026-10-24 12:00:05",
        "2026-10-22 18:00:00",
        "2026-10-25 09:00:00",
        "556677",
        "24包",
        "\t773012345678",
        "中通快递",
        "",
        "",
        "无售后",
    ],
    [
        "纸巾 24包",
        "261022-123456789012346",
        "待发货",
        "19.90",
        "0",
        "0",
        "0",
        "0",
        "19.90",
        "19.90",
        "1",
        "吴九",
        "13700002222",
        "河南省",
        "郑州市",
        "二七区",
        "大学路10号",
        "2026-10-22 12:01:00",
        "2026-10-22 12:01:02",
        "",
        "",
        "",
        "",
        "556677",
        "24包",
        "",
        "",
        "",
        "",
        "无售后",
    ],
]


def write_pdd(folder: Path) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(PDD_HEADER)
    writer.writerows(PDD_ROWS)
    path = folder / "pdd_orders.csv"
    path.write_bytes(("\ufeff" + buffer.getvalue()).encode("utf-8"))
    return path


CANONICAL_CSV = """order_id,buyer_id,created_at,paid_at,shop_id,sku_id,quantity,unit_price,list_price,coupon_code,amount_paid,platform,channel,ip,device_id,ship_phone
3100000004440793999,b-001,2026-10-20 10:11:12,2026-10-20 10:11:20,shop-1,sku-9,1,99.00,129.00,NEW30,69.00,ios,search,10.1.2.3,dev-abc,13812345678
0001234,b-002,2026-10-20T11:00:00,2026-10-20T11:00:30,shop-1,sku-3,2,15.50,,,31.00,android,affiliate,10.1.2.4,dev-xyz,13912345678
"""


def write_canonical(folder: Path) -> Path:
    path = folder / "orders.csv"
    path.write_text(CANONICAL_CSV, encoding="utf-8")
    return path


def write_parquet_dir(folder: Path, rows: int = 1000) -> Path:
    import pandas as pd

    target = folder / "orders_parquet"
    target.mkdir()
    for part in range(3):
        frame = pd.DataFrame(
            {
                "order_id": [f"31000000044407{part}{i:05d}" for i in range(rows)],
                "buyer_id": [f"b{i % 97}" for i in range(rows)],
                "created_at": pd.date_range("2026-10-01", periods=rows, freq="min")
                + pd.Timedelta(days=part),
                "sku_id": [f"sku-{i % 13}" for i in range(rows)],
                "unit_price": [9.9 + i % 7 for i in range(rows)],
                "quantity": [1 + i % 3 for i in range(rows)],
            }
        )
        frame.to_parquet(target / f"part-{part}.parquet", index=False)
    return target
