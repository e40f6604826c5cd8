"""Realistic small exports of every supported platform, written byte for byte
the way the platforms write them (encodings, Excel guards, line-item rows)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from exports_jd_pdd import write_jd_xlsx, write_pdd
from exports_taobao import write_taobao

__all__ = [
    "write_canonical",
    "write_jd_xlsx",
    "write_parquet_dir",
    "write_pdd",
    "write_shopify",
    "write_taobao",
]

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
                "Fulfilled at": "2026-10-20 16:05:00 +0800",
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
