"""Payments: one charge per order, idempotent by key, safe against concurrent requests.

A payment first claims the order's single slot (``payments.order_id`` is UNIQUE) and only
then calls the gateway; a refused charge frees the slot again, so a retry can pay.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from riskkit.shop.db import Database
from riskkit.shop.store import ShopError, order_number, utc_now

__all__ = ["STALE_PAYMENT_S", "PaymentLedger", "PendingPayment"]

# A payment still pending after this long lost its request (client gone, process killed).
STALE_PAYMENT_S = 30.0


def _ago(seconds: float) -> str:
    then = time.time() - seconds
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(then)) + f".{int(then % 1 * 1e6):06d}Z"


@dataclass(frozen=True)
class PendingPayment:
    """A payment reserved for an order before the gateway is called."""

    payment_id: str
    order_id: int
    amount_cents: int


class PaymentLedger:
    """Payment records of the shop.

    Parameters
    ----------
    database : Database
        The shop database (payments and orders tables).
    """

    def __init__(self, database: Database) -> None:
        self.db = database

    def reserve_payment(
        self, raw_order_id: str, key: str | None, method: str
    ) -> PendingPayment | dict[str, Any]:
        """Claim the order's single payment slot before charging.

        Returns the stored result when this key already paid the order (a replay), else a
        :class:`PendingPayment`; the unique ``payments.order_id`` makes a second charge
        impossible even for concurrent requests with different keys.
        """
        order_id = order_number(raw_order_id)
        key = key or f"auto-{uuid.uuid4().hex}"
        with self.db.write() as connection:
            order = connection.execute(
                "SELECT status, total_cents FROM orders WHERE id = ?", (order_id,)
            ).fetchone()
            if order is None:
                raise ShopError(404, "order_not_found")
            seen = connection.execute(
                "SELECT order_id FROM idempotency_keys WHERE scope = 'pay' AND key = ?", (key,)
            ).fetchone()
            if seen is not None and seen["order_id"] != order_id:
                raise ShopError(422, "idempotency_key_conflict")
            payment = connection.execute(
                "SELECT payment_id, idempotency_key, gateway, status, created_at FROM payments "
                "WHERE order_id = ?",
                (order_id,),
            ).fetchone()
            if (
                payment is not None
                and payment["status"] == "pending"
                and payment["created_at"] < _ago(STALE_PAYMENT_S)
            ):
                # Its request died between reserving and charging: free the slot.
                connection.execute(
                    "DELETE FROM payments WHERE payment_id = ?", (payment["payment_id"],)
                )
                connection.execute(
                    "DELETE FROM idempotency_keys WHERE scope = 'pay' AND order_id = ?",
                    (order_id,),
                )
                payment = None
            if payment is not None:
                if payment["status"] == "pending":
                    raise ShopError(409, "payment_in_progress")
                if payment["idempotency_key"] != key:
                    raise ShopError(409, "already_paid", payment_id=payment["payment_id"])
                return {
                    "order_id": str(order_id),
                    "status": "paid",
                    "payment_id": payment["payment_id"],
                    "gateway": payment["gateway"],
                }
            payment_id = f"pay-{uuid.uuid4().hex[:16]}"
            connection.execute(
                "INSERT INTO payments (payment_id, order_id, idempotency_key, method, status, "
                "amount_cents, created_at) VALUES (?, ?, ?, ?, 'pending', ?, ?)",
                (payment_id, order_id, key, method, order["total_cents"], utc_now()),
            )
            connection.execute(
                "INSERT OR IGNORE INTO idempotency_keys (scope, key, owner, order_id, created_at) "
                "VALUES ('pay', ?, ?, ?, ?)",
                (key, str(order_id), order_id, utc_now()),
            )
        return PendingPayment(payment_id, order_id, order["total_cents"])

    def complete_payment(self, pending: PendingPayment, gateway: str) -> dict[str, Any]:
        with self.db.write() as connection:
            connection.execute(
                "UPDATE payments SET status = 'succeeded', gateway = ? WHERE payment_id = ?",
                (gateway, pending.payment_id),
            )
            connection.execute(
                "UPDATE orders SET status = 'paid', paid_at = ?, payment_id = ?, gateway = ? "
                "WHERE id = ?",
                (utc_now(), pending.payment_id, gateway, pending.order_id),
            )
        return {
            "order_id": str(pending.order_id),
            "status": "paid",
            "payment_id": pending.payment_id,
            "gateway": gateway,
        }

    def abandon_payment(self, pending: PendingPayment) -> None:
        """The gateway refused: free the slot so a retry (same key) can pay."""
        with self.db.write() as connection:
            connection.execute("DELETE FROM payments WHERE payment_id = ?", (pending.payment_id,))
            connection.execute(
                "DELETE FROM idempotency_keys WHERE scope = 'pay' AND order_id = ?",
                (pending.order_id,),
            )
