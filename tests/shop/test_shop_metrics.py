"""/metrics: valid Prometheus exposition, route templates as labels, business counters."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from shop_helpers import buy, metric_value

pytestmark = pytest.mark.integration

PROMTOOL = "/usr/bin/promtool"


def exercise(client: httpx.Client) -> None:
    client.get("/api/products")
    client.get("/api/products/HOT-001")
    client.get("/api/products/NOPE")
    order = buy(client, "m1", "HOT-001", 1).json()
    client.post(f"/api/orders/{order['order_id']}/pay", json={"method": "card"})
    client.get(f"/api/orders/{order['order_id']}")
    client.get("/no/such/route")


def test_metrics_pass_promtool(client: httpx.Client, tmp_path: Path) -> None:
    if not Path(PROMTOOL).exists():
        pytest.skip("promtool not installed")
    exercise(client)
    answer = client.get("/metrics")
    assert answer.headers["content-type"].startswith("text/plain")
    exposition = tmp_path / "metrics.txt"
    exposition.write_text(answer.text)
    checked = subprocess.run(
        [PROMTOOL, "check", "metrics"],
        input=answer.text,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_endpoint_labels_are_templates_never_ids(client: httpx.Client) -> None:
    exercise(client)
    endpoints = set()
    for family in text_string_to_metric_families(client.get("/metrics").text):
        if family.name == "riskkit_shop_http_request_duration_seconds":
            endpoints |= {s.labels["endpoint"] for s in family.samples if "endpoint" in s.labels}
    assert {
        "/api/products",
        "/api/products/{sku_id}",
        "/api/checkout",
        "/api/orders/{order_id}/pay",
        "/api/orders/{order_id}",
        "/api/cart/{user_id}/items",
        "unmatched",
    } <= endpoints
    assert not any("HOT-001" in e or "m1" in e or e.endswith("/1") for e in endpoints)


def test_business_counters_and_status_classes(client: httpx.Client) -> None:
    exercise(client)
    text = client.get("/metrics").text
    assert metric_value(text, "riskkit_shop_orders_total") == 1
    assert (
        metric_value(text, "riskkit_shop_payments_total", gateway="primary", result="success") == 1
    )
    assert metric_value(text, "riskkit_shop_oversell_refused_total") == 0
    assert metric_value(text, "riskkit_shop_faults_active") == 0
    count = "riskkit_shop_http_request_duration_seconds_count"
    assert metric_value(text, count, endpoint="/api/products/{sku_id}", status_class="4xx") == 1
    assert metric_value(text, count, endpoint="/api/products/{sku_id}", status_class="2xx") == 1
    assert (
        metric_value(text, count, endpoint="/api/checkout", method="POST", status_class="2xx") == 1
    )
