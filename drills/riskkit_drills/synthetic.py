"""A synthetic buyer: list products, add one to a cart, check out, pay.

Used by ``journey`` steps (detect the incident, verify recovery) and by the
traffic driver (which records every order id the shop confirmed).
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from riskkit_drills.context import DrillContext
    from riskkit_drills.models import JourneyStep

__all__ = ["JourneyResult", "place_order", "run_journey"]


@dataclass(frozen=True)
class JourneyResult:
    """``outcome``: paid, created, payment_failed, checkout_failed, refused (out of stock)."""

    outcome: str
    order_id: str | None
    detail: str


def _pick_sku(client: httpx.Client, index: int) -> str | None:
    response = client.get("/api/products", params={"limit": 20})
    if response.status_code != 200:
        return None
    items = [p for p in response.json().get("items", []) if int(p.get("stock", 0)) > 0]
    if not items:
        return None
    return str(items[index % len(items)]["sku_id"])


def place_order(
    client: httpx.Client,
    user_id: str,
    *,
    pay: bool,
    payment_method: str = "alipay",
    sku_index: int = 0,
    sku_id: str | None = None,
) -> JourneyResult:
    """One buyer journey; network errors are outcomes, not exceptions."""
    try:
        sku = sku_id or _pick_sku(client, sku_index)
        if sku is None:
            return JourneyResult("checkout_failed", None, "no product in stock (or catalogue down)")
        added = client.post(f"/api/cart/{user_id}/items", json={"sku_id": sku, "quantity": 1})
        if added.status_code != 200:
            return JourneyResult(
                "checkout_failed", None, f"add to cart -> HTTP {added.status_code}"
            )
        checkout = client.post(
            "/api/checkout",
            json={"user_id": user_id},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        if checkout.status_code == 409:
            return JourneyResult("refused", None, "checkout -> 409 out of stock")
        if checkout.status_code not in (200, 201):
            return JourneyResult(
                "checkout_failed", None, f"checkout -> HTTP {checkout.status_code}"
            )
        order_id = str(checkout.json()["order_id"])
        if not pay:
            return JourneyResult("created", order_id, f"order {order_id} created")
        paid = client.post(
            f"/api/orders/{order_id}/pay",
            json={"method": payment_method},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        if paid.status_code == 200:
            gateway = paid.json().get("gateway", "?")
            return JourneyResult("paid", order_id, f"order {order_id} paid via {gateway}")
        return JourneyResult(
            "payment_failed", order_id, f"pay -> HTTP {paid.status_code} {paid.text[:120]}"
        )
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        return JourneyResult("checkout_failed", None, f"{type(exc).__name__}: {exc}")


def run_journey(ctx: DrillContext, step: JourneyStep) -> tuple[bool, str]:
    """One attempt of a journey step: did the buyer see the expected outcome?"""
    client = ctx.require_client()
    user = f"drill-{step.id}-{uuid.uuid4().hex[:10]}"
    result = place_order(
        client,
        user,
        pay=step.pay,
        payment_method=step.payment_method,
        sku_index=random.randrange(1, 1000),  # spread over the catalogue (index 0 is the hot SKU)
    )
    return result.outcome == step.expect_outcome, f"{result.outcome}: {result.detail}"
