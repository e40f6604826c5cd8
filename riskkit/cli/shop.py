"""``riskkit shop``: run the reference shop (thin: parse, call riskkit.shop, report)."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import click

from riskkit.errors import UsageError

__all__ = ["shop"]


@click.group()
def shop() -> None:
    """The reference shop that load tests and drills run against."""


@shop.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--port",
    default=8089,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to bind; 0 picks a free one (printed on stdout).",
)
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="SQLite database file (created and seeded when new). Default: a temporary "
    "file removed at exit.",
)
@click.option(
    "--seed-catalog",
    default=200,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="Products seeded into a new database, HOT-001 included.",
)
@click.option(
    "--hot-stock",
    default=100,
    show_default=True,
    type=click.IntRange(0),
    help="Initial stock of the flash-sale SKU HOT-001.",
)
@click.option(
    "--backup-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory for backups. Default: <db>.backups beside the database.",
)
@click.option(
    "--backup-interval",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0),
    help="Seconds between automatic backups; 0 turns them off.",
)
@click.option(
    "--admin-token",
    envvar="RISKKIT_SHOP_ADMIN_TOKEN",
    default=None,
    help="Require header X-Admin-Token on /admin (env RISKKIT_SHOP_ADMIN_TOKEN). "
    "Without it, admin answers loopback clients only.",
)
@click.option(
    "--gateway-latency",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0, 10),
    help="Simulated payment gateway round trip, seconds.",
)
@click.option(
    "--log-level",
    default="warning",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
)
@click.option(
    "--parent-pid",
    type=int,
    default=None,
    hidden=True,
    help="Exit when this process is no longer our parent (used by running_shop).",
)
@click.option(
    "--cleanup-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    hidden=True,
    help="Directory to remove at exit (running_shop's temporary directory).",
)
def serve(
    host: str,
    port: int,
    db_path: Path | None,
    seed_catalog: int,
    hot_stock: int,
    backup_dir: Path | None,
    backup_interval: float,
    admin_token: str | None,
    gateway_latency: float,
    log_level: str,
    parent_pid: int | None,
    cleanup_dir: Path | None,
) -> None:
    """Serve the shop over HTTP until interrupted (uvicorn + Starlette, SQLite in WAL mode)."""
    from riskkit.shop.config import ShopConfig
    from riskkit.shop.server import serve as serve_shop

    workdir = tempfile.mkdtemp(prefix="riskkit-shop-") if db_path is None else None
    config = ShopConfig(
        db_path=db_path if db_path is not None else Path(workdir or ".") / "shop.db",
        backup_dir=backup_dir,
        seed_catalog=seed_catalog,
        hot_stock=hot_stock,
        backup_interval_s=backup_interval,
        admin_token=admin_token or None,
        gateway_latency_s=gateway_latency,
    )
    try:
        serve_shop(config, host, port, log_level=log_level, announce=sys.stdout,
                   parent_pid=parent_pid)  # fmt: skip
    except OSError as problem:
        raise UsageError(f"cannot serve on {host}:{port}: {problem}") from None
    finally:
        for directory in (workdir, cleanup_dir):
            if directory is not None:
                shutil.rmtree(directory, ignore_errors=True)
