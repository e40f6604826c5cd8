"""The riskkit reference shop: a real HTTP checkout service to load-test and drill against.

Start it with ``riskkit shop serve``, ``python -m riskkit.shop serve``, in-process with
:class:`ShopServer`, or as a child process with :func:`running_shop`.
"""

from __future__ import annotations

from riskkit.shop.app import create_app
from riskkit.shop.catalog import COUPONS, HOT_SKU, Coupon
from riskkit.shop.config import DEFAULT_HOST, DEFAULT_PORT, ShopConfig
from riskkit.shop.faults import FAULT_KINDS
from riskkit.shop.server import ShopProcess, ShopServer, running_shop, start_shop_subprocess

__all__ = [
    "COUPONS",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "FAULT_KINDS",
    "HOT_SKU",
    "Coupon",
    "ShopConfig",
    "ShopProcess",
    "ShopServer",
    "create_app",
    "running_shop",
    "start_shop_subprocess",
]
