"""Admin endpoints: faults, payment gateway switch, stock, stats, backup, disaster, restore.

Access: with ``--admin-token`` every admin request must carry ``X-Admin-Token``; without
one, only loopback clients are served, so a shop bound to a public address cannot be
broken from outside.
"""

from __future__ import annotations

import hmac
import ipaddress
import math
from collections.abc import Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from riskkit.shop.api import read_json_object, require_int, require_str
from riskkit.shop.db import NoBackup
from riskkit.shop.faults import ANY_ENDPOINT, FaultSpecError
from riskkit.shop.gateway import GATEWAYS
from riskkit.shop.state import shop_state
from riskkit.shop.store import ShopError

__all__ = ["DEFAULT_FAULT_DURATION_S", "DISASTER_KINDS", "admin_routes", "is_loopback"]

DEFAULT_FAULT_DURATION_S = 60.0
DISASTER_KINDS = ("db_lost",)
MAX_STOCK = 10**9
MAX_ORDER_LIST = 10_000_000
Handler = Callable[[Request], Awaitable[Response]]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded(handler: Handler) -> Handler:
    async def guarded(request: Request) -> Response:
        token = shop_state(request).config.admin_token
        if token is not None:
            supplied = request.headers.get("x-admin-token", "")
            if not hmac.compare_digest(supplied.encode(), token.encode()):
                return JSONResponse({"error": "admin_token_required"}, status_code=401)
        elif request.client is None or not is_loopback(request.client.host):
            return JSONResponse({"error": "admin_loopback_only"}, status_code=403)
        return await handler(request)

    return guarded


def _number(body: dict[str, object], name: str, default: float) -> float:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ShopError(422, "invalid_request", detail=f"{name!r} must be a number")
    return float(value)


async def add_fault(request: Request) -> Response:
    body = await read_json_object(request)
    endpoint = body.get("endpoint", ANY_ENDPOINT)
    if not isinstance(endpoint, str):
        raise ShopError(422, "invalid_request", detail="'endpoint' must be a string")
    try:
        fault = shop_state(request).faults.add(
            kind=require_str(body, "kind"),
            endpoint=endpoint,
            value=_number(body, "value", 0.0),
            duration_s=_number(body, "duration_s", DEFAULT_FAULT_DURATION_S),
        )
    except FaultSpecError as problem:
        raise ShopError(422, "invalid_fault", detail=str(problem)) from None
    return JSONResponse(fault.to_json(), status_code=201)


async def list_faults(request: Request) -> Response:
    return JSONResponse(
        {"faults": [fault.to_json() for fault in shop_state(request).faults.active()]}
    )


async def delete_fault(request: Request) -> Response:
    fault_id = request.path_params["fault_id"]
    if not shop_state(request).faults.remove(fault_id):
        raise ShopError(404, "fault_not_found", fault_id=fault_id)
    return JSONResponse({"deleted": fault_id})


async def clear_faults(request: Request) -> Response:
    return JSONResponse({"cleared": shop_state(request).faults.clear()})


async def get_gateway(request: Request) -> Response:
    gateways = shop_state(request).gateways
    return JSONResponse({"active": gateways.active, "primary_down": gateways.primary_down(["*"])})


async def set_gateway(request: Request) -> Response:
    active = require_str(await read_json_object(request), "active")
    if active not in GATEWAYS:
        raise ShopError(
            422, "invalid_request", detail=f"'active' must be one of {', '.join(GATEWAYS)}"
        )
    return JSONResponse({"active": shop_state(request).gateways.switch(active)})


async def set_stock(request: Request) -> Response:
    body = await read_json_object(request)
    sku_id = require_str(body, "sku_id")
    stock = require_int(body, "stock", 0, MAX_STOCK)
    reset_sold = bool(body.get("reset_sold", False))
    store = shop_state(request).store
    return JSONResponse(await run_in_threadpool(store.set_stock, sku_id, stock, reset_sold))


async def stats(request: Request) -> Response:
    return JSONResponse(shop_state(request).store.stats())


async def list_orders(request: Request) -> Response:
    try:
        since_id = int(request.query_params.get("since_id") or 0)
        limit = int(request.query_params.get("limit") or MAX_ORDER_LIST)
    except ValueError:
        raise ShopError(400, "invalid_query", detail="since_id and limit are integers") from None
    if not 0 <= since_id < 2**63 or not 0 < limit <= MAX_ORDER_LIST:
        raise ShopError(400, "invalid_query", detail=f"since_id >= 0, limit 1..{MAX_ORDER_LIST}")
    ids = shop_state(request).store.order_ids(since_id, limit)
    return JSONResponse(
        {
            "order_ids": ids,
            "orders": ids,
            "count": len(ids),
            "since_id": str(since_id),
            "last_id": ids[-1] if ids else None,
        }
    )


async def backup(request: Request) -> Response:
    path, orders = await run_in_threadpool(shop_state(request).database.backup)
    return JSONResponse({"path": str(path), "orders": orders})


async def disaster(request: Request) -> Response:
    kind = require_str(await read_json_object(request), "kind")
    if kind not in DISASTER_KINDS:
        raise ShopError(422, "unknown_disaster", detail=f"one of {', '.join(DISASTER_KINDS)}")
    await run_in_threadpool(shop_state(request).database.destroy)
    return JSONResponse({"kind": kind, "database": "lost"})


async def restore(request: Request) -> Response:
    body = await read_json_object(request, allow_empty=True)
    requested = body.get("path")
    if requested is not None and not isinstance(requested, str):
        raise ShopError(422, "invalid_request", detail="'path' must be a string")
    shop = shop_state(request)
    try:
        source = shop.database.resolve_backup(requested)
    except NoBackup as missing:
        raise ShopError(409, "no_backup", detail=str(missing)) from None
    orders = await run_in_threadpool(shop.store.restore, source)
    return JSONResponse({"restored_from": str(source), "orders": orders})


def admin_routes() -> list[Route]:
    table: list[tuple[str, Handler, str]] = [
        ("/admin/faults", add_fault, "POST"),
        ("/admin/faults", list_faults, "GET"),
        ("/admin/faults", clear_faults, "DELETE"),
        ("/admin/faults/{fault_id}", delete_fault, "DELETE"),
        ("/admin/payment-gateway", get_gateway, "GET"),
        ("/admin/payment-gateway", set_gateway, "POST"),
        ("/admin/stock", set_stock, "POST"),
        ("/admin/stats", stats, "GET"),
        ("/admin/orders", list_orders, "GET"),
        ("/admin/backup", backup, "POST"),
        ("/admin/disaster", disaster, "POST"),
        ("/admin/restore", restore, "POST"),
    ]
    return [Route(path, _guarded(handler), methods=[method]) for path, handler, method in table]
