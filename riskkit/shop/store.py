"""The shop's business operations on SQLite: catalog, cart, coupons, checkout, payment.

Every method is blocking and short; the HTTP layer runs them in a worker thread. Stock is
reserved with one conditional ``UPDATE ... WHERE stock >= ?`` per line inside a
``BEGIN IMMEDIATE`` transaction, so a hot SKU can never be sold below zero.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from riskkit.shop.catalog import COUPONS, SeedProduct, coupon_error
from riskkit.shop.db import Database

__all__ = [
    "ShopError",
    "ShopStore",
    "money",
    "order_number",
    "utc_now",
]


def money(cents: int) -> float:
    """Fen to yuan with two decimals, as the contract's JSON numbers."""
    return round(cents / 100, 2)


def utc_now() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1e6):06d}Z"


class ShopError(Exception):
    """A business refusal with its HTTP status and the contract's ``error`` code."""

    def __init__(self, status: int, error: str, **details: Any) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.details = details

    def to_json(self) -> dict[str, Any]:
        return {"error": self.error, **self.details}


def _product(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "sku_id": row["sku_id"],
        "title": row["title"],
        "price": money(row["price_cents"]),
        "stock": row["stock"],
    }


def order_number(raw: str) -> int:
    # ASCII digits only, and short enough for SQLite's 64-bit INTEGER.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        raise ShopError(404, "order_not_found")
    return int(raw)


class ShopStore:
    """Business operations of the reference shop on one :class:`Database`.

    Parameters
    ----------
    database : Database
        The SQLite database (owns connections, backups and the db_lost state).
    """

    def __init__(self, database: Database) -> None:
        self.db = database
        self._counter_lock = threading.Lock()
        self.oversell_refused = 0
        # Highest order id this process handed out: a restore must not hand lost ids out
        # again, or a drill counting lost orders would mistake new orders for survivors.
        self._highest_order_id = 0

    # -- catalog ---------------------------------------------------------------------
    def seed(self, products: list[SeedProduct]) -> int:
        """Insert the seed catalog into an empty database; returns products inserted."""
        with self.db.write() as connection:
            self._highest_order_id = connection.execute(
                "SELECT COALESCE(MAX(id), 0) FROM orders"
            ).fetchone()[0]
            if connection.execute("SELECT 1 FROM products LIMIT 1").fetchone() is not None:
                return 0
            connection.executemany(
                "INSERT INTO products (sku_id, title, price_cents, stock) VALUES (?, ?, ?, ?)",
                [(p.sku_id, p.title, p.price_cents, p.stock) for p in products],
            )
            return len(products)

    def list_products(self, limit: int, offset: int) -> list[dict[str, Any]]:
        rows = self.db.reader().execute(
            "SELECT sku_id, title, price_cents, stock FROM products ORDER BY sku_id LIMIT ? OFFSET ?",
            (limit, offset),
        )
        return [_product(row) for row in rows]

    def get_product(self, sku_id: str) -> dict[str, Any]:
        row = (
            self.db.reader()
            .execute(
                "SELECT sku_id, title, price_cents, stock FROM products WHERE sku_id = ?", (sku_id,)
            )
            .fetchone()
        )
        if row is None:
            raise ShopError(404, "product_not_found", sku_id=sku_id)
        return _product(row)

    def set_stock(self, sku_id: str, stock: int, reset_sold: bool) -> dict[str, Any]:
        with self.db.write() as connection:
            cursor = connection.execute(
                "UPDATE products SET stock = ?, sold = CASE WHEN ? THEN 0 ELSE sold END "
                "WHERE sku_id = ?",
                (stock, reset_sold, sku_id),
            )
            if cursor.rowcount == 0:
                raise ShopError(404, "product_not_found", sku_id=sku_id)
            row = connection.execute(
                "SELECT stock, sold FROM products WHERE sku_id = ?", (sku_id,)
            ).fetchone()
        return {"sku_id": sku_id, "stock": row["stock"], "sold": row["sold"]}

    # -- users and carts ---------------------------------------------------------------
    def _register(self, connection: sqlite3.Connection, user_id: str) -> None:
        connection.execute(
            "INSERT OR IGNORE INTO users (user_id, created_at) VALUES (?, ?)", (user_id, utc_now())
        )

    def _cart(self, connection: sqlite3.Connection, user_id: str) -> dict[str, Any]:
        rows = connection.execute(
            "SELECT c.sku_id, c.quantity, p.price_cents FROM cart_items c "
            "JOIN products p ON p.sku_id = c.sku_id WHERE c.user_id = ? ORDER BY c.sku_id",
            (user_id,),
        ).fetchall()
        coupon = connection.execute(
            "SELECT code FROM cart_coupons WHERE user_id = ?", (user_id,)
        ).fetchone()
        subtotal = sum(row["quantity"] * row["price_cents"] for row in rows)
        return {
            "user_id": user_id,
            "items": [
                {
                    "sku_id": row["sku_id"],
                    "quantity": row["quantity"],
                    "unit_price": money(row["price_cents"]),
                }
                for row in rows
            ],
            "subtotal": money(subtotal),
            "coupon": coupon["code"] if coupon is not None else None,
        }

    def get_cart(self, user_id: str) -> dict[str, Any]:
        with self.db.snapshot() as connection:
            known = connection.execute(
                "SELECT 1 FROM users WHERE user_id = ?", (user_id,)
            ).fetchone()
            if known is not None:
                return self._cart(connection, user_id)
        with self.db.write() as connection:
            self._register(connection, user_id)
            return self._cart(connection, user_id)

    def add_to_cart(self, user_id: str, sku_id: str, quantity: int) -> dict[str, Any]:
        with self.db.write() as connection:
            self._register(connection, user_id)
            if (
                connection.execute("SELECT 1 FROM products WHERE sku_id = ?", (sku_id,)).fetchone()
                is None
            ):
                raise ShopError(404, "product_not_found", sku_id=sku_id)
            connection.execute(
                "INSERT INTO cart_items (user_id, sku_id, quantity) VALUES (?, ?, ?) "
                "ON CONFLICT (user_id, sku_id) DO UPDATE SET quantity = quantity + excluded.quantity",
                (user_id, sku_id, quantity),
            )
            return self._cart(connection, user_id)

    def clear_cart(self, user_id: str) -> dict[str, Any]:
        with self.db.write() as connection:
            self._register(connection, user_id)
            connection.execute("DELETE FROM cart_items WHERE user_id = ?", (user_id,))
            connection.execute("DELETE FROM cart_coupons WHERE user_id = ?", (user_id,))
            return self._cart(connection, user_id)

    # -- coupons -----------------------------------------------------------------------
    def _coupon_refusal(
        self, connection: sqlite3.Connection, user_id: str, code: str, subtotal_cents: int
    ) -> str | None:
        redeemed = connection.execute(
            "SELECT 1 FROM coupon_redemptions WHERE user_id = ? AND code = ?", (user_id, code)
        ).fetchone()
        has_orders = connection.execute(
            "SELECT 1 FROM orders WHERE user_id = ? LIMIT 1", (user_id,)
        ).fetchone()
        return coupon_error(
            code,
            subtotal_cents,
            already_redeemed=redeemed is not None,
            has_orders=has_orders is not None,
        )

    def apply_coupon(self, user_id: str, code: str) -> dict[str, Any]:
        with self.db.write() as connection:
            self._register(connection, user_id)
            subtotal_cents = connection.execute(
                "SELECT COALESCE(SUM(c.quantity * p.price_cents), 0) FROM cart_items c "
                "JOIN products p ON p.sku_id = c.sku_id WHERE c.user_id = ?",
                (user_id,),
            ).fetchone()[0]
            refusal = self._coupon_refusal(connection, user_id, code, subtotal_cents)
            if refusal is not None:
                raise ShopError(422, refusal, code=code)
            connection.execute(
                "INSERT INTO cart_coupons (user_id, code) VALUES (?, ?) "
                "ON CONFLICT (user_id) DO UPDATE SET code = excluded.code",
                (user_id, code),
            )
        discount = COUPONS[code].discount_cents
        return {
            "code": code,
            "discount": money(discount),
            "subtotal": money(subtotal_cents),
            "total": money(subtotal_cents - discount),
        }

    # -- checkout ----------------------------------------------------------------------
    def _order_summary(self, connection: sqlite3.Connection, order_id: int) -> dict[str, Any]:
        row = connection.execute(
            "SELECT id, status, subtotal_cents, discount_cents, total_cents FROM orders WHERE id = ?",
            (order_id,),
        ).fetchone()
        return {
            "order_id": str(row["id"]),
            "status": row["status"],
            "subtotal": money(row["subtotal_cents"]),
            "discount": money(row["discount_cents"]),
            "total": money(row["total_cents"]),
        }

    def checkout(
        self, user_id: str, idempotency_key: str | None, hold_lock_s: float = 0.0
    ) -> tuple[dict[str, Any], bool, str | None]:
        """Turn the cart into an order; returns (summary, replayed, coupon redeemed).

        ``hold_lock_s`` keeps the write lock held that long (the ``lock_contention`` fault).
        """
        try:
            return self._checkout(user_id, idempotency_key, hold_lock_s)
        except ShopError as refusal:
            if refusal.error == "out_of_stock":
                with self._counter_lock:
                    self.oversell_refused += 1
            raise

    def _checkout(
        self, user_id: str, key: str | None, hold_lock_s: float
    ) -> tuple[dict[str, Any], bool, str | None]:
        with self.db.write() as connection:
            if key is not None:
                seen = connection.execute(
                    "SELECT owner, order_id FROM idempotency_keys WHERE scope = 'checkout' AND key = ?",
                    (key,),
                ).fetchone()
                if seen is not None:
                    if seen["owner"] != user_id:
                        raise ShopError(422, "idempotency_key_conflict")
                    return self._order_summary(connection, seen["order_id"]), True, None
            self._register(connection, user_id)
            if hold_lock_s > 0:
                time.sleep(hold_lock_s)  # a worker thread, never the event loop
            lines = connection.execute(
                "SELECT c.sku_id, c.quantity, p.price_cents FROM cart_items c "
                "JOIN products p ON p.sku_id = c.sku_id WHERE c.user_id = ? ORDER BY c.sku_id",
                (user_id,),
            ).fetchall()
            if not lines:
                raise ShopError(400, "empty_cart")
            subtotal = sum(line["quantity"] * line["price_cents"] for line in lines)
            coupon_row = connection.execute(
                "SELECT code FROM cart_coupons WHERE user_id = ?", (user_id,)
            ).fetchone()
            code: str | None = coupon_row["code"] if coupon_row is not None else None
            discount = 0
            if code is not None:
                refusal = self._coupon_refusal(connection, user_id, code, subtotal)
                if refusal is not None:
                    raise ShopError(422, refusal, code=code)
                discount = COUPONS[code].discount_cents
            for line in lines:
                reserved = connection.execute(
                    "UPDATE products SET stock = stock - ?, sold = sold + ? "
                    "WHERE sku_id = ? AND stock >= ?",
                    (line["quantity"], line["quantity"], line["sku_id"], line["quantity"]),
                )
                if reserved.rowcount != 1:
                    raise ShopError(409, "out_of_stock", sku_id=line["sku_id"])
            order_id = connection.execute(
                "INSERT INTO orders (user_id, status, subtotal_cents, discount_cents, total_cents, "
                "coupon, created_at) VALUES (?, 'created', ?, ?, ?, ?, ?)",
                (user_id, subtotal, discount, subtotal - discount, code, utc_now()),
            ).lastrowid
            assert order_id is not None
            self._highest_order_id = max(self._highest_order_id, order_id)
            connection.executemany(
                "INSERT INTO order_items (order_id, sku_id, quantity, unit_price_cents) "
                "VALUES (?, ?, ?, ?)",
                [(order_id, ln["sku_id"], ln["quantity"], ln["price_cents"]) for ln in lines],
            )
            if code is not None:
                connection.execute(
                    "INSERT INTO coupon_redemptions (user_id, code, order_id, one_per_account) "
                    "VALUES (?, ?, ?, ?)",
                    (user_id, code, order_id, int(COUPONS[code].new_user_only)),
                )
            if key is not None:
                connection.execute(
                    "INSERT INTO idempotency_keys (scope, key, owner, order_id, created_at) "
                    "VALUES ('checkout', ?, ?, ?, ?)",
                    (key, user_id, order_id, utc_now()),
                )
            connection.execute("DELETE FROM cart_items WHERE user_id = ?", (user_id,))
            connection.execute("DELETE FROM cart_coupons WHERE user_id = ?", (user_id,))
            return self._order_summary(connection, order_id), False, code

    def restore(self, backup: Path) -> int:
        """Restore ``backup`` as the live database; returns the orders it holds.

        Order ids keep increasing past every id issued before the loss.
        """
        return self.db.restore(backup, order_id_floor=self._highest_order_id)

    # -- orders and stats --------------------------------------------------------------
    def get_order(self, raw_order_id: str) -> dict[str, Any]:
        order_id = order_number(raw_order_id)
        with self.db.snapshot() as connection:
            row = connection.execute("SELECT * FROM orders WHERE id = ?", (order_id,)).fetchone()
            if row is None:
                raise ShopError(404, "order_not_found")
            items = connection.execute(
                "SELECT sku_id, quantity, unit_price_cents FROM order_items WHERE order_id = ? "
                "ORDER BY sku_id",
                (order_id,),
            ).fetchall()
        return {
            "order_id": str(row["id"]),
            "user_id": row["user_id"],
            "status": row["status"],
            "subtotal": money(row["subtotal_cents"]),
            "discount": money(row["discount_cents"]),
            "total": money(row["total_cents"]),
            "coupon": row["coupon"],
            "created_at": row["created_at"],
            "paid_at": row["paid_at"],
            "payment_id": row["payment_id"],
            "gateway": row["gateway"],
            "items": [
                {
                    "sku_id": item["sku_id"],
                    "quantity": item["quantity"],
                    "unit_price": money(item["unit_price_cents"]),
                }
                for item in items
            ],
        }

    def order_ids(self, since_id: int, limit: int) -> list[str]:
        rows = self.db.reader().execute(
            "SELECT id FROM orders WHERE id > ? ORDER BY id LIMIT ?", (since_id, limit)
        )
        return [str(row["id"]) for row in rows]

    def stats(self) -> dict[str, Any]:
        with self.db.snapshot() as connection:
            created = connection.execute("SELECT COUNT(*) FROM orders").fetchone()[0]
            paid = connection.execute(
                "SELECT COUNT(*) FROM orders WHERE status = 'paid'"
            ).fetchone()[0]
            products = connection.execute(
                "SELECT sku_id, stock, sold FROM products ORDER BY sku_id"
            ).fetchall()
        return {
            "orders_created": created,
            "orders_paid": paid,
            "oversell_refused": self.oversell_refused,
            "stock": {row["sku_id"]: row["stock"] for row in products},
            "sold": {row["sku_id"]: row["sold"] for row in products},
        }
