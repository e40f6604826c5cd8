"""ASGI middleware: per-route latency metrics and the request-level faults.

It resolves each request to its route template (``/api/orders/{order_id}/pay``) first, so
metrics never carry ids and faults can be scoped to one route or step.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from riskkit.shop.faults import ANY_ENDPOINT, FaultRegistry
from riskkit.shop.metrics import ShopMetrics

__all__ = ["STEP_NAMES", "ShopMiddleware", "fault_scopes"]

# Step names a fault may target instead of a route template.
STEP_NAMES: dict[str, str] = {
    "/healthz": "health",
    "/api/products": "catalog",
    "/api/products/{sku_id}": "product",
    "/api/cart/{user_id}": "cart",
    "/api/cart/{user_id}/items": "cart",
    "/api/cart/{user_id}/coupon": "coupon",
    "/api/checkout": "checkout",
    "/api/orders/{order_id}/pay": "pay",
    "/api/orders/{order_id}": "order",
}
UNMATCHED = "unmatched"
_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})


def fault_scopes(template: str) -> tuple[str, ...]:
    """The ``endpoint`` values of the faults that hit ``template``.

    Its template, its step name, and ``*`` for the public API only: admin and metrics are
    never faulted and health only by name, so the drill that starts a fault can always end
    it and watch the shop recover.
    """
    if not (template.startswith("/api/") or template == "/healthz"):
        return ()
    step = STEP_NAMES.get(template)
    names = (template, step) if step is not None else (template,)
    return (*names, ANY_ENDPOINT) if template.startswith("/api/") else names


class ShopMiddleware:
    """Time every request, label it by route template, and apply request-level faults.

    Parameters
    ----------
    app : ASGIApp
        The wrapped application.
    routes : sequence of BaseRoute
        The application's routes, matched in order to find the template.
    faults : FaultRegistry
        Active faults: ``stall``, ``capacity_limit``, ``latency`` and ``error_rate`` act here.
    metrics : ShopMetrics
        Where the request duration is observed.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        routes: Sequence[BaseRoute],
        faults: FaultRegistry,
        metrics: ShopMetrics,
    ) -> None:
        self.app = app
        self.routes = [route for route in routes if isinstance(route, Route)]
        self.faults = faults
        self.metrics = metrics

    def template(self, scope: Scope) -> str:
        partial: str | None = None
        for route in self.routes:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                return route.path
            if match is Match.PARTIAL and partial is None:
                partial = route.path  # right path, wrong method: still that route's metrics
        return partial if partial is not None else UNMATCHED

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        template = self.template(scope)
        status = 500  # what a request that dies before answering counts as

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            scopes = fault_scopes(template)
            faulted = scopes and self.faults.any_active()
            refusal = await self._apply_faults(scopes) if faulted else None
            if refusal is not None:
                await refusal(scope, receive, send_and_record)
            else:
                await self.app(scope, receive, send_and_record)
        finally:
            method = scope["method"] if scope["method"] in _METHODS else "other"
            self.metrics.observe_request(template, method, status, time.perf_counter() - started)

    async def _apply_faults(self, scopes: tuple[str, ...]) -> JSONResponse | None:
        delay = self.faults.total("stall", scopes) + self.faults.total("latency", scopes)
        admission = self.faults.admission_delay(scopes)
        if admission is None:
            return JSONResponse({"error": "over_capacity"}, status_code=503)
        delay += admission
        if delay > 0:
            await asyncio.sleep(delay)
        if self.faults.should_fail(scopes):
            return JSONResponse({"error": "injected_fault"}, status_code=500)
        return None
