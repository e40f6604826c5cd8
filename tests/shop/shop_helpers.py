"""Fixtures for the reference-shop tests: a fresh shop per test, on a free loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from riskkit.shop.server import ShopServer

HOT_STOCK = 20


@pytest.fixture
def shop() -> Iterator[ShopServer]:
    with ShopServer(hot_stock=HOT_STOCK, seed_catalog=50) as server:
        yield server


@pytest.fixture
def client(shop: ShopServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=shop.url, timeout=15) as http:
        yield http


def buy(
    client: httpx.Client,
    user: str,
    sku: str = "SKU-00001",
    quantity: int = 1,
    key: str | None = None,
) -> httpx.Response:
    """Put ``quantity`` of ``sku`` in ``user``'s cart and check out."""
    added = client.post(f"/api/cart/{user}/items", json={"sku_id": sku, "quantity": quantity})
    assert added.status_code == 200, added.text
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post("/api/checkout", json={"user_id": user}, headers=headers)


def add_fault(client: httpx.Client, **fault: Any) -> dict[str, Any]:
    answer = client.post("/admin/faults", json=fault)
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


def metric_value(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text exposition (0 when absent)."""
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0
