"""The reference shop as a Starlette ASGI application."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from riskkit.shop.admin import admin_routes
from riskkit.shop.api import public_routes
from riskkit.shop.config import ShopConfig
from riskkit.shop.db import DatabaseLost
from riskkit.shop.middleware import ShopMiddleware
from riskkit.shop.state import ShopState, shop_state
from riskkit.shop.store import ShopError

__all__ = ["create_app"]

log = logging.getLogger("riskkit.shop")


async def _shop_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ShopError)
    return JSONResponse(exc.to_json(), status_code=exc.status)


async def _database_error(request: Request, exc: Exception) -> Response:
    # While the database is lost, any SQLite failure is that loss, not a bug.
    if isinstance(exc, DatabaseLost) or shop_state(request).database.lost:
        return JSONResponse({"error": "database_unavailable"}, status_code=503)
    log.exception("database error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"error": "internal_error"}, status_code=500)


async def _backup_periodically(shop: ShopState, interval_s: float, stop: asyncio.Event) -> None:
    """Back up every ``interval_s`` until ``stop`` is set (a running backup is finished, not
    cancelled: its worker thread could not be stopped anyway)."""
    while True:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval_s)
        if stop.is_set():
            return
        if shop.database.lost:
            continue  # nothing to back up; keep the last good backup as the newest
        try:
            path, orders = await run_in_threadpool(shop.database.backup)
        except (OSError, sqlite3.Error, DatabaseLost) as problem:
            log.warning("automatic backup failed: %s", problem)
        else:
            log.info("backup %s (%d orders)", path, orders)


def create_app(config: ShopConfig) -> Starlette:
    """Build the shop: open (and seed) the database, wire routes, faults and metrics.

    Parameters
    ----------
    config : ShopConfig
        Database location, seed size, backups, admin token.

    Returns
    -------
    Starlette
        The ASGI app; ``app.state.shop`` is its :class:`ShopState`. The database closes
        when the app's lifespan ends.
    """
    shop = ShopState(config)
    routes = [*public_routes(), *admin_routes()]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task: asyncio.Task[None] | None = None
        if config.backup_interval_s > 0:
            task = asyncio.create_task(_backup_periodically(shop, config.backup_interval_s, stop))
        try:
            yield
        finally:
            stop.set()
            if task is not None:
                await task
            shop.database.close()

    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(ShopMiddleware, routes=routes, faults=shop.faults, metrics=shop.metrics)
        ],
        exception_handlers={
            ShopError: _shop_error,
            DatabaseLost: _database_error,
            sqlite3.Error: _database_error,
        },
        lifespan=lifespan,
    )
    app.state.shop = shop
    return app
