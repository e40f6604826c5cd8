"""Coupons, idempotent checkout and payment, and no overselling under contention."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from shop_helpers import buy, metric_value

from riskkit.shop.server import ShopServer

pytestmark = pytest.mark.integration


def apply(client: httpx.Client, user: str, code: str) -> httpx.Response:
    return client.post(f"/api/cart/{user}/coupon", json={"code": code})


def fill_cart(client: httpx.Client, user: str, sku: str, quantity: int) -> float:
    cart = client.post(f"/api/cart/{user}/items", json={"sku_id": sku, "quantity": quantity})
    subtotal: float = cart.json()["subtotal"]
    return subtotal


def test_threshold_coupons(client: httpx.Client) -> None:
    # HOT-001 costs 999: FULL300-50 applies, and the discount reaches the order
    fill_cart(client, "ann", "HOT-001", 1)
    applied = apply(client, "ann", "FULL300-50")
    assert applied.status_code == 200
    assert applied.json() == {
        "code": "FULL300-50",
        "discount": 50.0,
        "subtotal": 999.0,
        "total": 949.0,
    }
    order = client.post("/api/checkout", json={"user_id": "ann"}).json()
    assert (order["subtotal"], order["discount"], order["total"]) == (999.0, 50.0, 949.0)
    # an empty cart is below every threshold
    answer = apply(client, "ben", "FULL200-20")
    assert answer.status_code == 422 and answer.json()["error"] == "threshold_not_met"


def test_coupon_rechecked_at_checkout(client: httpx.Client) -> None:
    fill_cart(client, "cal", "HOT-001", 1)
    assert apply(client, "cal", "FULL200-20").status_code == 200
    # the cart shrinks below the threshold after the coupon was applied
    client.delete("/api/cart/cal")
    cheap = client.get("/api/products", params={"limit": 100}).json()["items"]
    sku = next(p["sku_id"] for p in cheap if p["price"] < 100)
    fill_cart(client, "cal", sku, 1)
    client.post("/api/cart/cal/coupon", json={"code": "FULL200-20"})
    answer = client.post("/api/checkout", json={"user_id": "cal"})
    assert answer.status_code == 201 and answer.json()["discount"] == 0  # coupon was dropped


def test_new_user_coupon_is_once_per_account(client: httpx.Client) -> None:
    fill_cart(client, "dan", "HOT-001", 1)
    assert apply(client, "dan", "NEW30").json()["discount"] == 30.0
    order = client.post("/api/checkout", json={"user_id": "dan"}).json()
    assert order["discount"] == 30.0 and order["total"] == 969.0
    fill_cart(client, "dan", "HOT-001", 1)
    answer = apply(client, "dan", "NEW30")
    assert answer.status_code == 422 and answer.json()["error"] == "already_used"
    metrics = client.get("/metrics").text
    assert metric_value(metrics, "riskkit_shop_coupon_redemptions_total", coupon="NEW30") == 1


def test_new_user_coupon_not_for_existing_customers(client: httpx.Client) -> None:
    assert buy(client, "eve", "HOT-001", 1).status_code == 201
    fill_cart(client, "eve", "HOT-001", 1)
    answer = apply(client, "eve", "NEW30")
    assert answer.status_code == 422 and answer.json()["error"] == "not_eligible"


def test_unknown_coupon(client: httpx.Client) -> None:
    fill_cart(client, "fay", "HOT-001", 1)
    answer = apply(client, "fay", "FREE-MONEY")
    assert answer.status_code == 422 and answer.json() == {
        "error": "unknown_coupon",
        "code": "FREE-MONEY",
    }


def test_new_user_coupon_cannot_be_redeemed_twice_by_racing_checkouts(shop: ShopServer) -> None:
    """Two devices of one account apply NEW30 and check out at once: one discount only."""
    with httpx.Client(base_url=shop.url, timeout=15) as client:
        fill_cart(client, "gus", "HOT-001", 2)
        assert apply(client, "gus", "NEW30").status_code == 200
        barrier = threading.Barrier(4)

        def checkout(key: str) -> httpx.Response:
            with httpx.Client(base_url=shop.url, timeout=15) as own:
                barrier.wait(5)
                return own.post(
                    "/api/checkout", json={"user_id": "gus"}, headers={"Idempotency-Key": key}
                )

        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(checkout, ["a", "b", "c", "d"]))
        created = [a for a in answers if a.status_code == 201]
        assert len(created) == 1 and created[0].json()["discount"] == 30.0
        assert all(a.status_code == 400 for a in answers if a.status_code != 201)  # cart now empty


def test_checkout_idempotency_same_key_same_order(client: httpx.Client) -> None:
    before = client.get("/api/products/SKU-00005").json()["stock"]
    first = buy(client, "hal", "SKU-00005", 3, key="k-1")
    assert first.status_code == 201
    # the client retries (e.g. after a timeout) with the same key and a refilled cart
    again = buy(client, "hal", "SKU-00005", 3, key="k-1")
    assert again.status_code == 200 and again.json()["order_id"] == first.json()["order_id"]
    assert client.get("/api/products/SKU-00005").json()["stock"] == before - 3
    assert client.get("/admin/stats").json()["orders_created"] == 1
    # another user cannot reuse the key
    other = buy(client, "ivy", "SKU-00005", 1, key="k-1")
    assert other.status_code == 422 and other.json()["error"] == "idempotency_key_conflict"
    # a new key is a new order
    assert buy(client, "hal", "SKU-00005", 1, key="k-2").status_code == 201


def test_concurrent_same_key_checkouts_make_one_order(shop: ShopServer) -> None:
    with httpx.Client(base_url=shop.url, timeout=15) as client:
        fill_cart(client, "jo", "SKU-00006", 1)
    barrier = threading.Barrier(6)

    def checkout(_: int) -> httpx.Response:
        with httpx.Client(base_url=shop.url, timeout=15) as own:
            barrier.wait(5)
            return own.post(
                "/api/checkout", json={"user_id": "jo"}, headers={"Idempotency-Key": "same"}
            )

    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(checkout, range(6)))
    assert sorted(a.status_code for a in answers) == [200] * 5 + [201]
    assert len({a.json()["order_id"] for a in answers}) == 1


def test_payment_idempotency_never_charges_twice(client: httpx.Client) -> None:
    order_id = buy(client, "kim", "SKU-00007", 1).json()["order_id"]
    url = f"/api/orders/{order_id}/pay"
    first = client.post(url, json={"method": "alipay"}, headers={"Idempotency-Key": "p-1"})
    again = client.post(url, json={"method": "alipay"}, headers={"Idempotency-Key": "p-1"})
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    other_key = client.post(url, json={"method": "alipay"}, headers={"Idempotency-Key": "p-2"})
    assert other_key.status_code == 409
    assert other_key.json() == {"error": "already_paid", "payment_id": first.json()["payment_id"]}
    metrics = client.get("/metrics").text
    assert (
        metric_value(metrics, "riskkit_shop_payments_total", gateway="primary", result="success")
        == 1
    )
    # a key that paid one order cannot pay another
    second = buy(client, "kim", "SKU-00007", 1).json()["order_id"]
    answer = client.post(f"/api/orders/{second}/pay", json={}, headers={"Idempotency-Key": "p-1"})
    assert answer.status_code == 422 and answer.json()["error"] == "idempotency_key_conflict"


def test_concurrent_payments_with_different_keys_charge_once(shop: ShopServer) -> None:
    with httpx.Client(base_url=shop.url, timeout=15) as client:
        order_id = buy(client, "lea", "SKU-00008", 1).json()["order_id"]
    barrier = threading.Barrier(8)

    def pay(number: int) -> httpx.Response:
        with httpx.Client(base_url=shop.url, timeout=15) as own:
            barrier.wait(5)
            return own.post(
                f"/api/orders/{order_id}/pay",
                json={"method": "card"},
                headers={"Idempotency-Key": f"k{number}"},
            )

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(pay, range(8)))
    assert [a.status_code for a in answers].count(200) == 1
    assert all(
        a.json()["error"] in {"already_paid", "payment_in_progress"}
        for a in answers
        if a.status_code != 200
    )
    with httpx.Client(base_url=shop.url, timeout=15) as client:
        metrics = client.get("/metrics").text
    assert (
        metric_value(metrics, "riskkit_shop_payments_total", gateway="primary", result="success")
        == 1
    )


@pytest.mark.parametrize("stock", [7, 25])
def test_hot_sku_never_oversells_under_contention(shop: ShopServer, stock: int) -> None:
    buyers = 60
    with httpx.Client(base_url=shop.url, timeout=15) as client:
        client.post("/admin/stock", json={"sku_id": "HOT-001", "stock": stock, "reset_sold": True})
        for number in range(buyers):
            fill_cart(client, f"buyer{number}", "HOT-001", 1)
    barrier = threading.Barrier(buyers)

    def checkout(number: int) -> int:
        with httpx.Client(base_url=shop.url, timeout=30) as own:
            barrier.wait(10)
            answer = own.post(
                "/api/checkout",
                json={"user_id": f"buyer{number}"},
                headers={"Idempotency-Key": f"b{number}"},
            )
            return answer.status_code

    with ThreadPoolExecutor(buyers) as pool:
        codes = list(pool.map(checkout, range(buyers)))
    assert codes.count(201) == stock
    assert codes.count(409) == buyers - stock
    with httpx.Client(base_url=shop.url, timeout=15) as client:
        stats = client.get("/admin/stats").json()
        metrics = client.get("/metrics").text
    assert stats["sold"]["HOT-001"] == stock and stats["stock"]["HOT-001"] == 0
    assert stats["oversell_refused"] == buyers - stock
    assert metric_value(metrics, "riskkit_shop_oversell_refused_total") == buyers - stock
    assert metric_value(metrics, "riskkit_shop_orders_total") == stock
