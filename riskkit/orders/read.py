"""Placeholder replaced in this session by the real reader (see formats.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

__all__ = ["OrderTable", "read_orders"]


@dataclass
class OrderTable:
    frame: pd.DataFrame
    rejected: pd.DataFrame
    format: str
    files: list[Path] = field(default_factory=list)


def read_orders(paths: list[str | Path], fmt: str | None = None) -> OrderTable:
    frame = pd.concat([pd.read_csv(p, dtype=str) for p in paths])
    frame["created_at"] = pd.to_datetime(frame["created_at"])
    return OrderTable(frame, pd.DataFrame(), fmt or "riskkit", [Path(p) for p in paths])
