"""The canonical riskkit order schema: one row per order line.

Every reader turns its platform's export into this frame; every detector
reads only this frame.  Ids are strings, byte for byte as the export had them
(a 19-digit Taobao order number must never pass through a float).

Timestamps are naive wall-clock times in the shop's local time (exports with
a UTC offset are converted to the wall clock of that offset), because
hour-of-day patterns (midnight rushes, evening flash sales) are about the
buyer's clock.

Order-level amounts (``discount_amount``, ``amount_paid``, ``refund_amount``)
of exports that only have order totals sit on the order's first line; sum
them per ``order_id``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "ALL_COLUMNS",
    "COLUMNS",
    "IDENTITY_COLUMNS",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "SIGNALS",
    "SOURCE_ROW",
    "Column",
    "signals_present",
]

Kind = Literal["id", "text", "timestamp", "money", "integer", "number"]


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    description: str
    required: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("order_id", "id", "Order number as the platform shows it", required=True),
    Column("buyer_id", "id", "Buyer account (member name, e-mail, account id)", required=True),
    Column("created_at", "timestamp", "When the order was placed", required=True),
    Column("paid_at", "timestamp", "When it was paid"),
    Column("shop_id", "id", "Shop / store"),
    Column("sku_id", "id", "Item or SKU"),
    Column("quantity", "integer", "Units on this line"),
    Column("unit_price", "money", "Price per unit before coupons (what the buyer was offered)"),
    Column("list_price", "money", "Compared / list price shown"),
    Column("coupon_code", "text", "Coupon or discount code used"),
    Column("discount_amount", "money", "Discount applied (order level: on the first line)"),
    Column("amount_paid", "money", "Amount actually paid (order level: on the first line)"),
    Column(
        "platform", "text", "Client platform or marketplace (ios, android, web, mini-program...)"
    ),
    Column("channel", "text", "Traffic channel (search, affiliate, live-stream...)"),
    Column("ip", "id", "Buyer IP address"),
    Column("device_id", "id", "Buyer device fingerprint"),
    Column("ship_name", "text", "Recipient name (PII)"),
    Column("ship_phone", "id", "Recipient phone (PII)"),
    Column("ship_address", "text", "Shipping address (PII)"),
    Column("buyer_registered_at", "timestamp", "When the buyer's account was created"),
    Column("member_tier", "text", "Membership tier"),
    Column("status", "text", "Order status as exported"),
    Column("refund_amount", "money", "Amount refunded (order level: on the first line)"),
    Column("carrier", "text", "Logistics company"),
    Column("tracking_no", "id", "Waybill number"),
    Column("shipped_at", "timestamp", "When the shop shipped the order (fulfilled, 发货)"),
    Column("received_at", "timestamp", "When the buyer signed for the parcel"),
    Column("review_rating", "number", "Review stars (1-5)"),
    Column("reviewed_at", "timestamp", "When the review was left"),
)

ALL_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS)
REQUIRED_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.required)
OPTIONAL_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if not c.required)
COLUMN_KIND: dict[str, Kind] = {c.name: c.kind for c in COLUMNS}

# Not part of the schema: the record number of each line in its input file
# (header = row 1), so findings can point an auditor at the exact row.
SOURCE_ROW = "source_row"

# Identity columns: masked values ("138****5678", "****") are read as unknown,
# never as one identity shared by everybody whose phone was masked.
IDENTITY_COLUMNS: tuple[str, ...] = ("ship_phone", "ship_address", "ship_name", "ip", "device_id")

# A signal is a named capability a detector may use; it is present when all
# of its columns have at least one known value.
SIGNALS: dict[str, tuple[str, ...]] = {
    "sku": ("sku_id",),
    "shop": ("shop_id",),
    "quantity": ("quantity",),
    "price": ("unit_price",),
    "list_price": ("list_price",),
    "amount_paid": ("amount_paid",),
    "coupon": ("coupon_code",),
    "payment_time": ("paid_at",),
    "device": ("device_id",),
    "ip": ("ip",),
    "phone": ("ship_phone",),
    "address": ("ship_address",),
    "recipient_name": ("ship_name",),
    "account_age": ("buyer_registered_at",),
    "platform": ("platform",),
    "channel": ("channel",),
    "member_tier": ("member_tier",),
    "status": ("status",),
    "refund": ("refund_amount",),
    "waybill": ("carrier", "tracking_no"),
    "shipment": ("shipped_at",),
    "receipt": ("received_at",),
    "review": ("review_rating", "reviewed_at"),
}


def signals_present(columns_with_values: set[str]) -> dict[str, bool]:
    """Which signals a frame supports, given the columns that hold any value."""
    return {
        signal: all(col in columns_with_values for col in cols) for signal, cols in SIGNALS.items()
    }
