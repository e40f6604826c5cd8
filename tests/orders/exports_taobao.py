"""A Taobao/Tmall seller-centre export: 订单报表 + 宝贝报表, GB18030, Excel guards."""

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
