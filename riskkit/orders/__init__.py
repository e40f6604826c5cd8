"""Order exports in, one canonical frame out."""

from riskkit.orders.read import OrderTable, read_orders
from riskkit.orders.schema import ALL_COLUMNS, REQUIRED_COLUMNS, SIGNALS

__all__ = ["ALL_COLUMNS", "REQUIRED_COLUMNS", "SIGNALS", "OrderTable", "read_orders"]
