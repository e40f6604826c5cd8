"""Fixtures of this folder; the helpers live in shop_helpers.py (importable by tests)."""

from shop_helpers import client, shop  # noqa: F401
