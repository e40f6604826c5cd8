"""Settings of one reference-shop process."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "ShopConfig"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8089


@dataclass(frozen=True)
class ShopConfig:
    """Everything ``riskkit shop serve`` can set.

    Attributes
    ----------
    db_path : Path
        SQLite database file (created and seeded when missing or empty).
    backup_dir : Path or None
        Where backups go; default ``<db_path>.backups`` beside the database.
    seed_catalog : int
        Number of products seeded into an empty database, ``HOT-001`` included.
    hot_stock : int
        Initial stock of the flash-sale SKU ``HOT-001``.
    backup_interval_s : float
        Seconds between automatic backups; 0 turns them off.
    admin_token : str or None
        When set, admin requests need header ``X-Admin-Token``; when not, admin answers
        loopback clients only.
    gateway_latency_s : float
        Simulated round trip of a payment charge.
    fault_seed : int
        Seed deciding which requests an ``error_rate`` fault fails.
    """

    db_path: Path
    backup_dir: Path | None = None
    seed_catalog: int = 200
    hot_stock: int = 100
    backup_interval_s: float = 0.0
    admin_token: str | None = None
    gateway_latency_s: float = 0.0
    fault_seed: int = 0

    @property
    def resolved_backup_dir(self) -> Path:
        if self.backup_dir is not None:
            return self.backup_dir
        return self.db_path.with_name(self.db_path.name + ".backups")
