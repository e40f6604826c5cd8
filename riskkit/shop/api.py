"""Public HTTP endpoints of the reference shop (the contract in docs/shop.md).

Reads are single indexed SQLite lookups and run on the event loop; anything that writes
runs in Starlette's threadpool because it may wait for the write lock.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from riskkit.shop.gateway import GatewayUnavailable
from riskkit.shop.metrics import CONTENT_TYPE_LATEST
from riskkit.shop.middleware import fault_scopes
from riskkit.shop.state import shop_state
from riskkit.shop.store import ShopError

__all__ = ["PAYMENT_METHODS", "public_routes", "read_json_object", "require_int", "require_str"]

PAYMENT_METHODS = ("alipay", "wechat", "card")
MAX_CART_QUANTITY = 100
MAX_PAGE = 100
_USER_ID = re.compile(r"[A-Za-z0-9_.:@-]{1,64}")
_MAX_KEY_LENGTH = 200


async def read_json_object(request: Request, *, allow_empty: bool = False) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip() and allow_empty:
        return {}
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ShopError(400, "invalid_json") from None
    if not isinstance(body, dict):
        raise ShopError(400, "invalid_json", detail="the body must be a JSON object")
    return body


def require_str(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise ShopError(422, "invalid_request", detail=f"{name!r} must be a non-empty string")
    return value


def require_int(body: dict[str, Any], name: str, minimum: int, maximum: int) -> int:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise ShopError(
            422, "invalid_request", detail=f"{name!r} must be an integer in {minimum}..{maximum}"
        )
    return value


def _user_id(raw: str) -> str:
    if not _USER_ID.fullmatch(raw):
        raise ShopError(400, "invalid_user_id", detail="1-64 of A-Z a-z 0-9 _ . : @ -")
    return raw


def _idempotency_key(request: Request) -> str | None:
    key = request.headers.get("idempotency-key")
    if key is not None and not 0 < len(key) <= _MAX_KEY_LENGTH:
        raise ShopError(400, "invalid_idempotency_key", detail=f"1-{_MAX_KEY_LENGTH} characters")
    return key


def _query_int(request: Request, name: str, default: int, minimum: int, maximum: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ShopError(400, "invalid_query", detail=f"{name} must be an integer") from None
    if not minimum <= value <= maximum:
        raise ShopError(400, "invalid_query", detail=f"{name} must be in {minimum}..{maximum}")
    return value


async def healthz(request: Request) -> Response:
    shop = shop_state(request)
    if shop.database.lost:
        return JSONResponse({"status": "degraded", "reason": "database_lost"}, status_code=503)
    shop.database.reader().execute("SELECT 1").fetchone()
    return JSONResponse({"status": "ok"})


async def metrics(request: Request) -> Response:
    return Response(shop_state(request).metrics.render(), media_type=CONTENT_TYPE_LATEST)


async def list_products(request: Request) -> Response:
    limit = _query_int(request, "limit", 20, 1, MAX_PAGE)
    offset = _query_int(request, "offset", 0, 0, 10**9)
    return JSONResponse({"items": shop_state(request).store.list_products(limit, offset)})


async def get_product(request: Request) -> Response:
    return JSONResponse(shop_state(request).store.get_product(request.path_params["sku_id"]))


async def get_cart(request: Request) -> Response:
    user_id = _user_id(request.path_params["user_id"])
    return JSONResponse(await run_in_threadpool(shop_state(request).store.get_cart, user_id))


async def add_cart_item(request: Request) -> Response:
    user_id = _user_id(request.path_params["user_id"])
    body = await read_json_object(request)
    sku_id = require_str(body, "sku_id")
    quantity = require_int(body, "quantity", 1, MAX_CART_QUANTITY)
    store = shop_state(request).store
    return JSONResponse(await run_in_threadpool(store.add_to_cart, user_id, sku_id, quantity))


async def clear_cart(request: Request) -> Response:
    user_id = _user_id(request.path_params["user_id"])
    return JSONResponse(await run_in_threadpool(shop_state(request).store.clear_cart, user_id))


async def apply_coupon(request: Request) -> Response:
    shop = shop_state(request)
    user_id = _user_id(request.path_params["user_id"])
    body = await read_json_object(request)
    code = require_str(body, "code")
    if shop.faults.is_active("coupon_5xx", fault_scopes("/api/cart/{user_id}/coupon")):
        return JSONResponse({"error": "coupon_service_unavailable"}, status_code=503)
    return JSONResponse(await run_in_threadpool(shop.store.apply_coupon, user_id, code))


async def checkout(request: Request) -> Response:
    shop = shop_state(request)
    key = _idempotency_key(request)
    user_id = _user_id(require_str(await read_json_object(request), "user_id"))
    scopes = fault_scopes("/api/checkout")
    slow_stock_s = shop.faults.total("slow_stock", scopes)
    if slow_stock_s > 0:
        await asyncio.sleep(slow_stock_s)  # the stock service answers late
    hold_lock_s = shop.faults.total("lock_contention", scopes)
    try:
        summary, replayed, coupon = await run_in_threadpool(
            shop.store.checkout, user_id, key, hold_lock_s
        )
    except ShopError as refusal:
        if refusal.error == "out_of_stock":
            shop.metrics.oversell_refused.inc()
        raise
    if replayed:
        return JSONResponse(summary, status_code=200)
    shop.metrics.orders.inc()
    if coupon is not None:
        shop.metrics.coupon_redemptions.labels(coupon=coupon).inc()
    return JSONResponse(summary, status_code=201)


async def pay_order(request: Request) -> Response:
    shop = shop_state(request)
    key = _idempotency_key(request)
    body = await read_json_object(request, allow_empty=True)
    method = body.get("method", "alipay")
    if method not in PAYMENT_METHODS:
        raise ShopError(422, "invalid_method", detail=f"one of {', '.join(PAYMENT_METHODS)}")
    reserved = await run_in_threadpool(
        shop.payments.reserve_payment, request.path_params["order_id"], key, method
    )
    if isinstance(reserved, dict):  # this key already paid this order
        return JSONResponse(reserved)
    try:
        gateway = await shop.gateways.charge(fault_scopes("/api/orders/{order_id}/pay"))
    except GatewayUnavailable as down:
        shop.metrics.payments.labels(gateway=down.gateway, result="unavailable").inc()
        await run_in_threadpool(shop.payments.abandon_payment, reserved)
        return JSONResponse(
            {"error": "payment_gateway_unavailable", "gateway": down.gateway}, status_code=502
        )
    shop.metrics.payments.labels(gateway=gateway, result="success").inc()
    return JSONResponse(await run_in_threadpool(shop.payments.complete_payment, reserved, gateway))


async def get_order(request: Request) -> Response:
    return JSONResponse(shop_state(request).store.get_order(request.path_params["order_id"]))


def public_routes() -> list[Route]:
    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/api/products", list_products, methods=["GET"]),
        Route("/api/products/{sku_id}", get_product, methods=["GET"]),
        Route("/api/cart/{user_id}", get_cart, methods=["GET"]),
        Route("/api/cart/{user_id}", clear_cart, methods=["DELETE"]),
        Route("/api/cart/{user_id}/items", add_cart_item, methods=["POST"]),
        Route("/api/cart/{user_id}/coupon", apply_coupon, methods=["POST"]),
        Route("/api/checkout", checkout, methods=["POST"]),
        Route("/api/orders/{order_id}/pay", pay_order, methods=["POST"]),
        Route("/api/orders/{order_id}", get_order, methods=["GET"]),
    ]
