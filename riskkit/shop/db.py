"""SQLite plumbing for the shop: one guarded writer, per-thread readers, backup and restore.

Writes go through a single connection behind a lock and run as ``BEGIN IMMEDIATE``
transactions, so two checkouts never interleave; readers use their own connection per
thread and, thanks to WAL, never wait for the writer. The ``db_lost`` disaster closes every
connection and replaces the file with garbage; only :meth:`Database.restore` brings it back.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["SCHEMA", "Database", "DatabaseLost", "NoBackup"]

BUSY_TIMEOUT_S = 5.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS products (
    sku_id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    price_cents INTEGER NOT NULL CHECK (price_cents > 0),
    stock INTEGER NOT NULL CHECK (stock >= 0),
    sold INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS users (
    user_id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS cart_items (
    user_id TEXT NOT NULL,
    sku_id TEXT NOT NULL REFERENCES products (sku_id),
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (user_id, sku_id)
);
CREATE TABLE IF NOT EXISTS cart_coupons (
    user_id TEXT PRIMARY KEY,
    code TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS orders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL,
    status TEXT NOT NULL,
    subtotal_cents INTEGER NOT NULL,
    discount_cents INTEGER NOT NULL,
    total_cents INTEGER NOT NULL,
    coupon TEXT,
    created_at TEXT NOT NULL,
    paid_at TEXT,
    payment_id TEXT,
    gateway TEXT
);
CREATE INDEX IF NOT EXISTS orders_by_user ON orders (user_id);
CREATE TABLE IF NOT EXISTS order_items (
    order_id INTEGER NOT NULL REFERENCES orders (id),
    sku_id TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    unit_price_cents INTEGER NOT NULL,
    PRIMARY KEY (order_id, sku_id)
);
CREATE TABLE IF NOT EXISTS coupon_redemptions (
    user_id TEXT NOT NULL,
    code TEXT NOT NULL,
    order_id INTEGER NOT NULL,
    one_per_account INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS one_redemption_per_account
    ON coupon_redemptions (user_id, code) WHERE one_per_account = 1;
CREATE TABLE IF NOT EXISTS idempotency_keys (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    owner TEXT NOT NULL,
    order_id INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE TABLE IF NOT EXISTS payments (
    payment_id TEXT PRIMARY KEY,
    order_id INTEGER NOT NULL UNIQUE REFERENCES orders (id),
    idempotency_key TEXT NOT NULL,
    method TEXT NOT NULL,
    gateway TEXT,
    status TEXT NOT NULL,
    amount_cents INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
"""

# What the db_lost disaster leaves behind: not a SQLite header, so any open fails.
_LOST_CONTENT = b"riskkit shop: this database was destroyed by a db_lost drill\n"


class DatabaseLost(RuntimeError):
    """The database file is gone (``db_lost`` disaster) until a restore."""


class NoBackup(RuntimeError):
    """A restore was asked for but no backup exists (or the path is outside the backup dir)."""


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
    )
    connection.row_factory = sqlite3.Row
    connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    connection.execute("PRAGMA journal_mode = WAL")
    # NORMAL is durable against process crashes in WAL mode; only power loss can drop the
    # last transactions, which is acceptable for a rehearsal shop.
    connection.execute("PRAGMA synchronous = NORMAL")
    connection.execute("PRAGMA foreign_keys = ON")
    return connection


class Database:
    """The shop's SQLite database file, its connections and its backups.

    Parameters
    ----------
    path : Path
        Database file; created with the schema when missing.
    backup_dir : Path
        Where :meth:`backup` writes and :meth:`restore` looks.
    keep_backups : int
        Newest backups kept; older ones are deleted after each backup.
    """

    def __init__(self, path: Path, backup_dir: Path, keep_backups: int = 48) -> None:
        self.path = path
        self.backup_dir = backup_dir
        self.keep_backups = keep_backups
        self._writer_lock = threading.Lock()
        self._registry_lock = threading.Lock()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._generation = 0
        self._lost = False
        self._backup_sequence = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = _connect(path)
        self._writer.executescript(SCHEMA)

    @property
    def lost(self) -> bool:
        return self._lost

    def _check(self) -> None:
        if self._lost:
            raise DatabaseLost("database lost; restore from a backup")

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` transaction on the writer; commits, or rolls back on error."""
        with self._writer_lock:
            self._check()
            connection = self._writer
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def reader(self) -> sqlite3.Connection:
        """This thread's read connection (autocommit: each statement sees a committed snapshot)."""
        self._check()
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None or getattr(self._local, "generation", -1) != self._generation:
            if connection is not None:
                # Only the owning thread closes its reader: never close under a running query.
                with self._registry_lock:
                    if connection in self._readers:
                        self._readers.remove(connection)
                connection.close()
            connection = _connect(self.path)
            with self._registry_lock:
                self._readers.append(connection)
            self._local.connection = connection
            self._local.generation = self._generation
        return connection

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: several statements see the same committed state."""
        connection = self.reader()
        connection.execute("BEGIN")
        try:
            yield connection
        finally:
            connection.execute("COMMIT")

    def _retire_connections(self) -> None:
        """Close the writer; readers see the new generation and reopen on next use."""
        with self._registry_lock:
            self._generation += 1
        self._writer.close()

    def close(self) -> None:
        """Close every connection (at shutdown, when no request is running)."""
        with self._writer_lock:
            with self._registry_lock:
                readers, self._readers = self._readers, []
                self._generation += 1
            for connection in readers:
                connection.close()
            if not self._lost:
                self._writer.close()

    def backup(self) -> tuple[Path, int]:
        """Copy the live database with SQLite's online backup API; returns (path, orders)."""
        self._check()
        self.backup_dir.mkdir(parents=True, exist_ok=True)
        now = time.time()
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + f"{int(now % 1 * 1e6):06d}Z"
        with self._registry_lock:
            self._backup_sequence += 1
            sequence = self._backup_sequence
        target = self.backup_dir / f"shop-{stamp}-{os.getpid()}-{sequence:05d}.db"
        partial = target.with_suffix(".db.partial")
        source = _connect(self.path)
        try:
            destination = sqlite3.connect(partial)
            try:
                source.backup(destination)
                orders = int(destination.execute("SELECT COUNT(*) FROM orders").fetchone()[0])
            finally:
                destination.close()
        finally:
            source.close()
        # The backup appears under its final name only once complete.
        os.replace(partial, target)
        for stale in self._backups()[: -self.keep_backups]:
            stale.unlink(missing_ok=True)
        return target, orders

    def _backups(self) -> list[Path]:
        """Backups, oldest first."""
        # Names start with a UTC timestamp to the microsecond, so name order is time order.
        return sorted(self.backup_dir.glob("shop-*.db"), key=lambda p: p.name)

    def latest_backup(self) -> Path | None:
        backups = self._backups()
        return backups[-1] if backups else None

    def resolve_backup(self, requested: str | None) -> Path:
        """The backup to restore: ``requested`` (inside the backup dir) or the latest one."""
        if requested is None:
            latest = self.latest_backup()
            if latest is None:
                raise NoBackup(f"no backup in {self.backup_dir}")
            return latest
        candidate = Path(requested)
        if not candidate.is_absolute():
            candidate = self.backup_dir / candidate
        candidate = candidate.resolve()
        if candidate.parent != self.backup_dir.resolve() or not candidate.is_file():
            raise NoBackup(f"{requested} is not a backup in {self.backup_dir}")
        return candidate

    def destroy(self) -> None:
        """The ``db_lost`` disaster: close everything and leave an unusable file behind."""
        with self._writer_lock:
            if self._lost:
                return
            self._lost = True
            self._retire_connections()
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            self.path.write_bytes(_LOST_CONTENT)

    def restore(self, backup: Path, order_id_floor: int = 0) -> int:
        """Replace the live database with ``backup``; returns the number of orders restored.

        New order ids will be above ``order_id_floor`` (set before any write can run), so
        ids issued before the loss are never handed out again.
        """
        with self._writer_lock:
            if not self._lost:
                self._retire_connections()
            self._lost = True
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            source = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
            try:
                destination = sqlite3.connect(self.path)
                try:
                    source.backup(destination)
                finally:
                    destination.close()
            finally:
                source.close()
            self._writer = _connect(self.path)
            self._writer.executescript(SCHEMA)
            self._writer.execute("BEGIN IMMEDIATE")
            self._writer.execute(
                "INSERT INTO sqlite_sequence (name, seq) SELECT 'orders', 0 "
                "WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'orders')"
            )
            self._writer.execute(
                "UPDATE sqlite_sequence SET seq = MAX(seq, ?) WHERE name = 'orders'",
                (order_id_floor,),
            )
            self._writer.execute("COMMIT")
            orders = int(self._writer.execute("SELECT COUNT(*) FROM orders").fetchone()[0])
            self._lost = False
            return orders
