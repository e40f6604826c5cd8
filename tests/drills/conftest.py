"""Fixtures of this folder; the helpers live in drill_helpers.py (importable by tests)."""

from drill_helpers import runbooks_dir, shop, shop_url  # noqa: F401
