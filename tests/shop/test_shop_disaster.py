"""db_lost: the shop degrades, a restore brings it back, and orders after the backup are lost."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from shop_helpers import buy, metric_value

from riskkit.shop.server import ShopServer

pytestmark = pytest.mark.integration


def test_db_lost_then_restore_loses_orders_after_the_backup(client: httpx.Client) -> None:
    kept = [buy(client, f"u{n}", key=f"k{n}").json()["order_id"] for n in range(3)]
    backup = client.post("/admin/backup").json()
    assert backup["orders"] == 3 and Path(backup["path"]).is_file()
    lost = [buy(client, f"v{n}", key=f"l{n}").json()["order_id"] for n in range(2)]
    assert client.get("/admin/orders").json()["count"] == 5

    assert client.post("/admin/disaster", json={"kind": "db_lost"}).status_code == 200
    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.json() == {"status": "degraded", "reason": "database_lost"}
    client.post("/api/cart/w/items", json={"sku_id": "SKU-00001", "quantity": 1})
    refused = client.post("/api/checkout", json={"user_id": "w"})
    assert refused.status_code == 503 and refused.json() == {"error": "database_unavailable"}
    assert client.post(f"/api/orders/{kept[0]}/pay", json={"method": "card"}).status_code == 503
    assert client.get("/api/products/HOT-001").status_code == 503
    assert client.post("/admin/backup").status_code == 503  # nothing left to back up
    assert metric_value(client.get("/metrics").text, "riskkit_shop_database_up") == 0

    restored = client.post("/admin/restore", json={})
    assert restored.status_code == 200
    assert restored.json() == {"restored_from": backup["path"], "orders": 3}
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/admin/orders").json()["order_ids"] == kept  # RPO: the two later ones
    for order_id in lost:
        assert client.get(f"/api/orders/{order_id}").status_code == 404
    # the shop works again, and never hands out a lost order id twice
    fresh = buy(client, "x", key="fresh").json()["order_id"]
    assert int(fresh) > max(int(i) for i in lost)
    paid = client.post(f"/api/orders/{kept[0]}/pay", json={"method": "card"})
    assert paid.status_code == 200
    assert metric_value(client.get("/metrics").text, "riskkit_shop_database_up") == 1


def test_restore_named_backup_and_refusals(client: httpx.Client) -> None:
    assert client.post("/admin/restore", json={}).status_code == 409  # no backup yet
    buy(client, "a")
    first = client.post("/admin/backup").json()
    buy(client, "b")
    client.post("/admin/backup")
    restored = client.post("/admin/restore", json={"path": Path(first["path"]).name})
    assert restored.json()["orders"] == 1
    outside = client.post("/admin/restore", json={"path": "/etc/passwd"})
    assert outside.status_code == 409 and outside.json()["error"] == "no_backup"
    assert client.post("/admin/disaster", json={"kind": "meteor"}).status_code == 422


def test_periodic_backups(tmp_path: Path) -> None:
    backups = tmp_path / "shop.db.backups"
    with (
        ShopServer(db_path=tmp_path / "shop.db", backup_interval_s=0.2) as shop,
        httpx.Client(base_url=shop.url, timeout=15) as client,
    ):
        buy(client, "p")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not list(backups.glob("*.db")):
            time.sleep(0.05)
    assert list(backups.glob("shop-*.db"))
    assert not list(backups.glob("*.partial"))  # shutdown let the running backup finish


def test_state_survives_a_restart(tmp_path: Path) -> None:
    database = tmp_path / "shop.db"
    with (
        ShopServer(db_path=database, hot_stock=5) as shop,
        httpx.Client(base_url=shop.url) as client,
    ):
        order_id = buy(client, "r", "HOT-001", 2).json()["order_id"]
    with (
        ShopServer(db_path=database, hot_stock=5) as shop,
        httpx.Client(base_url=shop.url) as client,
    ):
        assert client.get(f"/api/orders/{order_id}").json()["user_id"] == "r"
        assert client.get("/api/products/HOT-001").json()["stock"] == 3  # not re-seeded
        journal = database.parent / "shop.db-wal"
        assert journal.exists()  # WAL mode
