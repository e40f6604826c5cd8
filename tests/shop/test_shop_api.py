"""Every public endpoint of the reference shop, against a real server on loopback."""

from __future__ import annotations

import httpx
import pytest
from shop_helpers import HOT_STOCK, buy

pytestmark = pytest.mark.integration


def test_healthz(client: httpx.Client) -> None:
    answer = client.get("/healthz")
    assert answer.status_code == 200 and answer.json() == {"status": "ok"}


def test_product_list_pages_and_product_view(client: httpx.Client) -> None:
    first = client.get("/api/products", params={"limit": 20, "offset": 0}).json()["items"]
    second = client.get("/api/products", params={"limit": 20, "offset": 20}).json()["items"]
    assert len(first) == 20 and len(second) == 20
    assert {p["sku_id"] for p in first}.isdisjoint(p["sku_id"] for p in second)
    assert set(first[0]) == {"sku_id", "title", "price", "stock"}
    assert client.get("/api/products").json()["items"] == first  # defaults limit=20 offset=0
    hot = client.get("/api/products/HOT-001").json()
    assert hot == {
        "sku_id": "HOT-001",
        "title": hot["title"],
        "price": 999.0,
        "stock": HOT_STOCK,
    }
    for product in first:
        assert 9.9 <= product["price"] <= 999.0


@pytest.mark.parametrize("query", [{"limit": 0}, {"limit": 101}, {"offset": -1}, {"limit": "x"}])
def test_product_list_refuses_bad_paging(client: httpx.Client, query: dict[str, object]) -> None:
    answer = client.get("/api/products", params=query)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_query"


def test_unknown_product_and_route_are_404(client: httpx.Client) -> None:
    answer = client.get("/api/products/NOPE")
    assert answer.status_code == 404 and answer.json()["error"] == "product_not_found"
    assert client.get("/api/nothing-here").status_code == 404


def test_cart_add_get_and_clear(client: httpx.Client) -> None:
    empty = client.get("/api/cart/alice").json()
    assert empty == {"user_id": "alice", "items": [], "subtotal": 0.0, "coupon": None}
    price = client.get("/api/products/SKU-00003").json()["price"]
    client.post("/api/cart/alice/items", json={"sku_id": "SKU-00003", "quantity": 2})
    cart = client.post("/api/cart/alice/items", json={"sku_id": "SKU-00003", "quantity": 1}).json()
    assert cart["items"] == [{"sku_id": "SKU-00003", "quantity": 3, "unit_price": price}]
    assert cart["subtotal"] == pytest.approx(round(3 * price, 2))
    assert client.get("/api/cart/alice").json() == cart
    cleared = client.delete("/api/cart/alice")
    assert cleared.status_code == 200 and cleared.json()["items"] == []
    assert client.get("/api/cart/alice").json()["items"] == []


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"sku_id": "NOPE", "quantity": 1}, 404, "product_not_found"),
        ({"sku_id": "SKU-00001", "quantity": 0}, 422, "invalid_request"),
        ({"sku_id": "SKU-00001", "quantity": 1.5}, 422, "invalid_request"),
        ({"sku_id": "SKU-00001", "quantity": True}, 422, "invalid_request"),
        ({"quantity": 1}, 422, "invalid_request"),
    ],
)
def test_cart_refuses_bad_items(
    client: httpx.Client, body: dict[str, object], status: int, error: str
) -> None:
    answer = client.post("/api/cart/bob/items", json=body)
    assert answer.status_code == status and answer.json()["error"] == error


def test_bad_json_and_bad_user_ids(client: httpx.Client) -> None:
    answer = client.post("/api/cart/bob/items", content=b"{not json")
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_json"
    answer = client.post("/api/checkout", json=["user_id"])
    assert answer.status_code == 400
    answer = client.get("/api/cart/" + "x" * 65)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_user_id"


def test_checkout_pay_and_order_view(client: httpx.Client) -> None:
    price = client.get("/api/products/SKU-00002").json()["price"]
    created = buy(client, "carol", "SKU-00002", 2, key="order-1")
    assert created.status_code == 201
    order = created.json()
    assert order["status"] == "created"
    assert order["subtotal"] == pytest.approx(round(2 * price, 2)) == order["total"]
    assert order["discount"] == 0
    assert client.get("/api/cart/carol").json()["items"] == []  # the cart became the order
    paid = client.post(
        f"/api/orders/{order['order_id']}/pay",
        json={"method": "wechat"},
        headers={"Idempotency-Key": "pay-1"},
    )
    assert paid.status_code == 200
    payment = paid.json()
    assert payment["status"] == "paid" and payment["gateway"] == "primary"
    assert payment["order_id"] == order["order_id"] and payment["payment_id"].startswith("pay-")
    view = client.get(f"/api/orders/{order['order_id']}").json()
    assert view["user_id"] == "carol" and view["status"] == "paid"
    assert view["total"] == order["total"] and view["payment_id"] == payment["payment_id"]
    assert view["created_at"].endswith("Z") and view["paid_at"] >= view["created_at"]
    assert view["items"] == [{"sku_id": "SKU-00002", "quantity": 2, "unit_price": price}]


def test_checkout_of_empty_cart_is_400(client: httpx.Client) -> None:
    answer = client.post("/api/checkout", json={"user_id": "dave"})
    assert answer.status_code == 400 and answer.json() == {"error": "empty_cart"}


def test_unknown_order_and_bad_method(client: httpx.Client) -> None:
    for weird in ("999", "abc", "²", "9" * 30, "-1"):
        assert client.get(f"/api/orders/{weird}").status_code == 404, weird
    assert client.get("/admin/orders", params={"since_id": "9" * 30}).status_code == 400
    assert client.get("/admin/orders", params={"limit": 0}).status_code == 400
    assert client.post("/api/orders/999/pay", json={"method": "card"}).status_code == 404
    order = buy(client, "erin").json()
    answer = client.post(f"/api/orders/{order['order_id']}/pay", json={"method": "cash"})
    assert answer.status_code == 422 and answer.json()["error"] == "invalid_method"


def test_out_of_stock_is_409_with_the_sku(client: httpx.Client) -> None:
    answer = buy(client, "frank", "HOT-001", HOT_STOCK + 1)
    assert answer.status_code == 409
    assert answer.json() == {"error": "out_of_stock", "sku_id": "HOT-001"}
    # nothing was reserved, the cart is kept for the user to fix
    assert client.get("/api/products/HOT-001").json()["stock"] == HOT_STOCK
    assert client.get("/api/cart/frank").json()["items"][0]["quantity"] == HOT_STOCK + 1


def test_admin_stock_stats_orders_and_gateway(client: httpx.Client) -> None:
    answer = client.post("/admin/stock", json={"sku_id": "HOT-001", "stock": 3, "reset_sold": True})
    assert answer.json() == {"sku_id": "HOT-001", "stock": 3, "sold": 0}
    assert client.post("/admin/stock", json={"sku_id": "NOPE", "stock": 3}).status_code == 404
    assert client.post("/admin/stock", json={"sku_id": "HOT-001", "stock": -1}).status_code == 422
    first = buy(client, "gina", "HOT-001", 2).json()
    second = buy(client, "hank", "SKU-00004", 1).json()
    client.post(f"/api/orders/{first['order_id']}/pay", json={"method": "card"})
    stats = client.get("/admin/stats").json()
    assert stats["orders_created"] == 2 and stats["orders_paid"] == 1
    assert stats["stock"]["HOT-001"] == 1 and stats["sold"]["HOT-001"] == 2
    assert stats["oversell_refused"] == 0
    listed = client.get("/admin/orders").json()
    assert listed["order_ids"] == [first["order_id"], second["order_id"]] and listed["count"] == 2
    later = client.get("/admin/orders", params={"since_id": first["order_id"]}).json()
    assert later["order_ids"] == [second["order_id"]]
    assert client.get("/admin/payment-gateway").json() == {
        "active": "primary",
        "primary_down": False,
    }
    assert client.post("/admin/payment-gateway", json={"active": "backup"}).json() == {
        "active": "backup"
    }
    assert client.post("/admin/payment-gateway", json={"active": "other"}).status_code == 422
    assert client.get("/admin/payment-gateway").json()["active"] == "backup"
