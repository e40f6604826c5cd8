"""The SQLite layer on its own: WAL, atomic stock, backups, the db_lost disaster, restore."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from riskkit.shop.catalog import seed_catalog
from riskkit.shop.db import Database, DatabaseLost
from riskkit.shop.store import ShopError, ShopStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ShopStore]:
    shop = ShopStore(Database(tmp_path / "shop.db", tmp_path / "backups", keep_backups=3))
    shop.seed(seed_catalog(10, hot_stock=2))
    yield shop
    shop.db.close()


def order(store: ShopStore, user: str, sku: str = "SKU-00001", quantity: int = 1) -> str:
    store.add_to_cart(user, sku, quantity)
    summary, _, _ = store.checkout(user, None)
    return str(summary["order_id"])


def test_wal_mode(store: ShopStore) -> None:
    mode = store.db.reader().execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_stock_never_goes_negative(store: ShopStore) -> None:
    order(store, "a", "HOT-001", 2)
    with pytest.raises(ShopError) as refused:
        order(store, "b", "HOT-001", 1)
    assert refused.value.status == 409 and refused.value.details == {"sku_id": "HOT-001"}
    assert store.oversell_refused == 1
    assert store.get_product("HOT-001")["stock"] == 0
    # the CHECK constraint backs the conditional UPDATE up
    with pytest.raises(sqlite3.IntegrityError), store.db.write() as connection:
        connection.execute("UPDATE products SET stock = -1 WHERE sku_id = 'HOT-001'")


def test_backups_rotate(store: ShopStore) -> None:
    paths = [store.db.backup()[0] for _ in range(5)]
    remaining = sorted(p.name for p in (store.db.backup_dir).glob("shop-*.db"))
    assert remaining == sorted(p.name for p in paths[-3:])
    assert store.db.latest_backup() == paths[-1]


def test_destroy_leaves_an_unusable_file_and_restore_keeps_ids_increasing(store: ShopStore) -> None:
    first = order(store, "a")
    backup, orders = store.db.backup()
    assert orders == 1
    lost = order(store, "b")
    store.db.destroy()
    with pytest.raises(DatabaseLost):
        store.get_product("HOT-001")
    with pytest.raises(DatabaseLost):
        order(store, "c")
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(store.db.path).execute("SELECT * FROM orders").fetchall()
    assert store.restore(backup) == 1
    assert store.order_ids(0, 10) == [first]
    assert int(order(store, "d")) > int(lost)
