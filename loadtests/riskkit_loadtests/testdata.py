"""Test data for the scenarios: users, SKUs and coupons from CSV.

``--data-dir DIR`` may hold any of ``users.csv`` (column ``user_id``), ``skus.csv``
(``sku_id``) and ``coupons.csv`` (``code``, ``once_per_user`` true/false); the
reference shop's SKUs and coupons ship as defaults, and users are generated fresh per
run (``lt-<run id>-000001``...) when no ``users.csv`` is given, so a rerun against a
long-lived staging shop never reuses an account.  Users are split across workers
(worker ``i`` of ``n`` takes rows ``i, i+n, ...``): no two workers share a user.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from riskkit.errors import InputError

__all__ = ["TestData", "load_test_data", "split_users"]

_TRUE = {"1", "true", "yes", "y"}


@dataclass
class TestData:
    users: list[str] = field(default_factory=list)
    skus: list[str] = field(default_factory=list)
    coupons: list[dict[str, object]] = field(default_factory=list)
    users_generated: bool = False

    def to_json(self) -> dict[str, object]:
        return {"users": self.users, "skus": self.skus, "coupons": self.coupons}


def _read_column(path: Path, column: str) -> list[dict[str, str]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames is None or column not in reader.fieldnames:
                raise InputError(f"missing column {column!r}", file=path, row=1)
            rows = []
            for number, row in enumerate(reader, start=2):
                value = (row.get(column) or "").strip()
                if not value:
                    raise InputError("empty value", file=path, row=number, column=column)
                rows.append({key: (val or "").strip() for key, val in row.items() if key})
            return rows
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=path) from exc


def _packaged(name: str) -> Path:
    return Path(str(resources.files("riskkit_loadtests") / "data" / name))


def load_test_data(data_dir: str | Path | None, run_id: str, users_needed: int) -> TestData:
    """Read the CSVs of ``data_dir`` (defaults for the missing ones)."""
    folder = Path(data_dir) if data_dir is not None else None
    if folder is not None and not folder.is_dir():
        raise InputError("--data-dir is not a directory", file=folder)

    def pick(name: str) -> Path | None:
        if folder is not None and (folder / name).exists():
            return folder / name
        return None

    skus_file = pick("skus.csv") or _packaged("skus.csv")
    coupons_file = pick("coupons.csv") or _packaged("coupons.csv")
    skus = [row["sku_id"] for row in _read_column(skus_file, "sku_id")]
    coupons: list[dict[str, object]] = [
        {"code": row["code"], "once_per_user": row.get("once_per_user", "").lower() in _TRUE}
        for row in _read_column(coupons_file, "code")
    ]
    users_file = pick("users.csv")
    if users_file is not None:
        users = [row["user_id"] for row in _read_column(users_file, "user_id")]
        if len(set(users)) != len(users):
            raise InputError("duplicate user_id values: every user must be unique", file=users_file)
        generated = False
    else:
        users = [f"lt-{run_id}-{n:06d}" for n in range(1, users_needed + 1)]
        generated = True
    if not skus:
        raise InputError("no SKUs", file=skus_file)
    return TestData(users=users, skus=skus, coupons=coupons, users_generated=generated)


def split_users(users: list[str], index: int, count: int) -> list[str]:
    """Worker ``index`` of ``count``'s users (disjoint, together all of them)."""
    return users[index::count]
