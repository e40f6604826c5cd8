"""Each fault kind takes effect on its scope, and ends when it expires or is cleared."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
from shop_helpers import add_fault, buy, metric_value

pytestmark = pytest.mark.integration


def timed_get(client: httpx.Client, path: str) -> tuple[int, float]:
    started = time.perf_counter()
    answer = client.get(path)
    return answer.status_code, time.perf_counter() - started


def test_latency_is_scoped_and_expires(client: httpx.Client) -> None:
    fault = add_fault(
        client, kind="latency", endpoint="/api/products/{sku_id}", value=0.3, duration_s=1.0
    )
    assert fault["kind"] == "latency" and fault["fault_id"] and fault["expires_at"].endswith("Z")
    assert timed_get(client, "/api/products/HOT-001")[1] >= 0.3
    assert timed_get(client, "/api/products")[1] < 0.25  # other route untouched
    assert metric_value(client.get("/metrics").text, "riskkit_shop_faults_active") == 1
    time.sleep(1.05)
    assert timed_get(client, "/api/products/HOT-001")[1] < 0.25
    assert client.get("/admin/faults").json() == {"faults": []}
    assert metric_value(client.get("/metrics").text, "riskkit_shop_faults_active") == 0


def test_error_rate_by_step_name_and_delete(client: httpx.Client) -> None:
    fault = add_fault(client, kind="error_rate", endpoint="catalog", value=1.0, duration_s=60)
    (listed,) = client.get("/admin/faults").json()["faults"]
    assert listed["fault_id"] == fault["fault_id"]
    assert (listed["kind"], listed["endpoint"], listed["value"]) == ("error_rate", "catalog", 1.0)
    answer = client.get("/api/products")
    assert answer.status_code == 500 and answer.json() == {"error": "injected_fault"}
    assert client.get("/api/products/HOT-001").status_code == 200
    assert client.delete(f"/admin/faults/{fault['fault_id']}").json() == {
        "deleted": fault["fault_id"]
    }
    assert client.delete(f"/admin/faults/{fault['fault_id']}").status_code == 404
    assert client.get("/api/products").status_code == 200


def test_partial_error_rate(client: httpx.Client) -> None:
    add_fault(client, kind="error_rate", endpoint="*", value=0.5, duration_s=60)
    codes = [client.get("/api/products/HOT-001").status_code for _ in range(120)]
    assert 30 < codes.count(500) < 90 and codes.count(200) == 120 - codes.count(500)
    # admin, health and metrics keep answering under a "*" fault
    assert all(client.get("/healthz").status_code == 200 for _ in range(20))
    assert client.delete("/admin/faults").json() == {"cleared": 1}


def test_payment_gateway_down_then_backup_recovers(client: httpx.Client) -> None:
    order_id = buy(client, "pia").json()["order_id"]
    add_fault(client, kind="payment_gateway_down", endpoint="*", value=0, duration_s=60)
    url = f"/api/orders/{order_id}/pay"
    down = client.post(url, json={"method": "alipay"}, headers={"Idempotency-Key": "pay"})
    assert down.status_code == 502 and down.json()["error"] == "payment_gateway_unavailable"
    assert client.get(f"/api/orders/{order_id}").json()["status"] == "created"
    assert client.get("/admin/payment-gateway").json()["primary_down"] is True
    client.post("/admin/payment-gateway", json={"active": "backup"})
    # the client retries with the same key: the failed attempt did not consume it
    paid = client.post(url, json={"method": "alipay"}, headers={"Idempotency-Key": "pay"})
    assert paid.status_code == 200 and paid.json()["gateway"] == "backup"
    metrics = client.get("/metrics").text
    assert (
        metric_value(
            metrics, "riskkit_shop_payments_total", gateway="primary", result="unavailable"
        )
        == 1
    )
    assert (
        metric_value(metrics, "riskkit_shop_payments_total", gateway="backup", result="success")
        == 1
    )
    assert metric_value(metrics, "riskkit_shop_payment_gateway_active", gateway="backup") == 1


def test_payment_gateway_down_expires(client: httpx.Client) -> None:
    order_id = buy(client, "quinn").json()["order_id"]
    add_fault(client, kind="payment_gateway_down", value=0, duration_s=0.5)
    url = f"/api/orders/{order_id}/pay"
    assert client.post(url, json={"method": "card"}).status_code == 502
    time.sleep(0.55)
    answer = client.post(url, json={"method": "card"})
    assert answer.status_code == 200 and answer.json()["gateway"] == "primary"


def test_slow_stock_delays_checkout_only(client: httpx.Client) -> None:
    add_fault(client, kind="slow_stock", endpoint="*", value=0.4, duration_s=60)
    client.post("/api/cart/rae/items", json={"sku_id": "SKU-00001", "quantity": 1})
    started = time.perf_counter()
    assert client.post("/api/checkout", json={"user_id": "rae"}).status_code == 201
    assert time.perf_counter() - started >= 0.4
    assert timed_get(client, "/api/products/HOT-001")[1] < 0.3
    client.delete("/admin/faults")
    started = time.perf_counter()
    assert buy(client, "rae").status_code == 201
    assert time.perf_counter() - started < 0.4


def test_coupon_5xx(client: httpx.Client) -> None:
    client.post("/api/cart/sam/items", json={"sku_id": "HOT-001", "quantity": 1})
    fault = add_fault(client, kind="coupon_5xx", endpoint="coupon", value=0, duration_s=60)
    answer = client.post("/api/cart/sam/coupon", json={"code": "FULL200-20"})
    assert answer.status_code == 503 and answer.json()["error"] == "coupon_service_unavailable"
    client.delete(f"/admin/faults/{fault['fault_id']}")
    assert client.post("/api/cart/sam/coupon", json={"code": "FULL200-20"}).status_code == 200


def test_lock_contention_serialises_checkouts(client: httpx.Client, shop: object) -> None:
    from concurrent.futures import ThreadPoolExecutor

    for user in ("t1", "t2", "t3"):
        client.post(f"/api/cart/{user}/items", json={"sku_id": "SKU-00002", "quantity": 1})
    add_fault(client, kind="lock_contention", endpoint="checkout", value=0.25, duration_s=60)
    base_url = str(client.base_url)

    def checkout(user: str) -> float:
        with httpx.Client(base_url=base_url, timeout=15) as own:
            started = time.perf_counter()
            assert own.post("/api/checkout", json={"user_id": user}).status_code == 201
            return time.perf_counter() - started

    started = time.perf_counter()
    with ThreadPoolExecutor(3) as pool:
        durations = list(pool.map(checkout, ["t1", "t2", "t3"]))
    # three checkouts each holding the lock 0.25 s cannot overlap: the last waits for two
    assert time.perf_counter() - started >= 0.75
    assert max(durations) >= 0.7
    # reads do not take the write lock
    assert timed_get(client, "/api/products/HOT-001")[1] < 0.2


def test_capacity_limit_grows_latency_above_the_rate(client: httpx.Client) -> None:
    from concurrent.futures import ThreadPoolExecutor

    add_fault(client, kind="capacity_limit", endpoint="product", value=20, duration_s=60)
    base_url = str(client.base_url)
    barrier = threading.Barrier(20)

    def burst(_: int) -> float:
        with httpx.Client(base_url=base_url, timeout=15) as own:
            barrier.wait(5)
            return timed_get(own, "/api/products/HOT-001")[1]

    with ThreadPoolExecutor(20) as pool:
        latencies = sorted(pool.map(burst, range(20)))
    # 20 requests at once against 20 req/s: they queue, the last about 0.95 s
    assert latencies[0] < 0.3 and latencies[-1] >= 0.6
    assert timed_get(client, "/api/products")[1] < 0.3  # other step unaffected


def test_stall_applies_to_every_request_and_clears(client: httpx.Client) -> None:
    add_fault(client, kind="stall", endpoint="*", value=0.25, duration_s=60)
    for path in ("/api/products", "/api/products/HOT-001", "/api/cart/uma"):
        assert timed_get(client, path)[1] >= 0.25
    assert timed_get(client, "/healthz")[1] < 0.2
    assert client.delete("/admin/faults").json() == {"cleared": 1}
    assert timed_get(client, "/api/products")[1] < 0.2


def test_health_is_faulted_only_when_named(client: httpx.Client) -> None:
    add_fault(client, kind="error_rate", endpoint="health", value=1.0, duration_s=60)
    assert client.get("/healthz").status_code == 500


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "meteor", "value": 1, "duration_s": 10},
        {"kind": "latency", "value": 1, "duration_s": 4000},
        {"kind": "error_rate", "value": 2, "duration_s": 10},
        {"kind": "latency", "value": "slow", "duration_s": 10},
        {"value": 1},
    ],
)
def test_bad_faults_are_422(client: httpx.Client, body: dict[str, object]) -> None:
    answer = client.post("/admin/faults", json=body)
    assert answer.status_code == 422
