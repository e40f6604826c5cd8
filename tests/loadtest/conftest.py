"""Fixtures for the load-test suite: a reference shop on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from loadtest_helpers import admin


@pytest.fixture(scope="module")
def shop_url() -> Iterator[str]:
    from riskkit.shop.server import running_shop

    with running_shop() as url:
        yield url


@pytest.fixture
def clean_shop(shop_url: str) -> Iterator[str]:
    admin(shop_url, "DELETE", "/admin/faults")
    yield shop_url
    admin(shop_url, "DELETE", "/admin/faults")
