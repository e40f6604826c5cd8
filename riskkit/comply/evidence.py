"""Reading the evidence folder: typed frames with source row numbers, and file hashes.

Every CSV frame gets a ``file_row`` column holding the row number in the file as a
spreadsheet shows it (the header is row 1), so a finding can point an auditor
at the exact lines.  A missing file raises :class:`EvidenceMissing` (the
engine turns it into ``not_checked``); a malformed one raises
:class:`riskkit.errors.InputError` naming the file, row and column.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from riskkit.comply.pages import PageScan, scan_page
from riskkit.errors import InputError, RiskkitError

if TYPE_CHECKING:
    from riskkit.comply.vocabulary import Vocabulary

__all__ = ["FILE_SPECS", "Evidence", "EvidenceMissing", "FileSpec", "sha256_file"]


class EvidenceMissing(Exception):
    """The evidence a rule needs is absent: the rule becomes ``not_checked``."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class FileSpec:
    """The contract of one evidence CSV: required columns and their kinds."""

    name: str
    required: tuple[str, ...]
    dates: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    booleans: tuple[str, ...] = ()
    optional: tuple[str, ...] = field(default=())


FILE_SPECS: dict[str, FileSpec] = {
    "catalog": FileSpec(
        "catalog.csv",
        required=("sku_id", "title", "category", "price"),
        optional=(
            "compare_at_price",
            "compare_basis_label",
            "promo_start",
            "promo_end",
            "unit",
            "unit_quantity",
            "unit_price_shown",
            "returnable",
            "return_exclusion_reason",
            "list_page_price",
            "detail_page_price",
        ),
        dates=("promo_start", "promo_end"),
        numbers=(
            "price",
            "compare_at_price",
            "unit_quantity",
            "unit_price_shown",
            "list_page_price",
            "detail_page_price",
        ),
        booleans=("returnable",),
    ),
    "price_history": FileSpec(
        "price_history.csv", required=("sku_id", "at", "price"), dates=("at",), numbers=("price",)
    ),
    "returns": FileSpec(
        "returns.csv",
        required=("order_id", "sku_id", "category", "signed_at", "requested_at", "status"),
        optional=(
            "return_received_at",
            "refunded_at",
            "amount_paid",
            "refund_amount",
            "payment_method",
            "refund_method",
            "excluded_confirmed",
        ),
        dates=("signed_at", "requested_at", "return_received_at", "refunded_at"),
        numbers=("amount_paid", "refund_amount"),
        booleans=("excluded_confirmed",),
    ),
    "consents": FileSpec(
        "consents.csv",
        required=("user_id", "purpose", "sensitive", "granted_at", "method"),
        optional=("notice_version", "withdrawn_at"),
        dates=("granted_at", "withdrawn_at"),
        booleans=("sensitive",),
    ),
    "price_findings": FileSpec(
        "price-discrimination/findings.csv", required=("sku_id",), optional=("significant",)
    ),
}


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _first_bad(raw: pd.Series, parsed: pd.Series) -> int | None:
    bad = raw.notna() & (raw.str.strip() != "") & parsed.isna()
    if bool(bad.any()):
        return int(bad.to_numpy().nonzero()[0][0])
    return None


def parse_frame(
    raw: pd.DataFrame, spec: FileSpec, path: Path, vocabulary: Vocabulary
) -> pd.DataFrame:
    """Check the columns of ``raw`` (all strings) and convert them to their kinds
    (booleans by the vocabulary's ``boolean`` wordings)."""
    frame = raw.copy()
    missing = [c for c in spec.required if c not in frame.columns]
    if missing:
        raise InputError(
            f"required column missing (has: {list(frame.columns)})", file=path, column=missing[0]
        )
    for column in (*spec.required, *spec.optional):
        if column not in frame.columns:
            frame[column] = pd.NA
    frame["file_row"] = range(2, len(frame) + 2)
    for column in spec.dates:
        text = frame[column].astype("string")
        parsed = pd.to_datetime(text, errors="coerce", format="mixed")
        bad = _first_bad(text, parsed)
        if bad is not None:
            raise InputError(
                f"not a date/time: {text.iloc[bad]!r}", file=path, row=bad + 2, column=column
            )
        frame[column] = parsed.astype("datetime64[ns]")
    for column in spec.numbers:
        text = frame[column].astype("string")
        parsed = pd.to_numeric(text.str.strip(), errors="coerce")
        bad = _first_bad(text, parsed)
        if bad is not None:
            raise InputError(
                f"not a number: {text.iloc[bad]!r}", file=path, row=bad + 2, column=column
            )
        frame[column] = parsed.astype("float64")
    for column in spec.booleans:
        text = frame[column].astype("string").fillna("").str.strip()
        flags = vocabulary.booleans(text)
        unknown = flags.isna()
        if bool(unknown.any()):
            bad = int(unknown.to_numpy().nonzero()[0][0])
            raise InputError(
                f"not a boolean (true/false): {text.iloc[bad]!r}; add its wording under "
                "wordings.boolean in a policy file (--policies-dir)",
                file=path,
                row=bad + 2,
                column=column,
            )
        frame[column] = flags.astype(bool).to_numpy()
    return frame


def _rows_line_up(table: Any, paths: list[Path]) -> bool:
    """True when frame position + 2 is the CSV row: one CSV file, one row per line, none dropped."""
    rejected = getattr(table, "rejected", None)
    return (
        len(paths) == 1
        and paths[0].suffix.lower() == ".csv"
        and getattr(table, "format", "") in {"riskkit", "shopify"}
        and (rejected is None or len(rejected) == 0)
    )


class Evidence:
    """Lazy, cached access to one evidence folder."""

    def __init__(self, root: str | Path, vocabulary: Vocabulary | None = None) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise InputError("evidence folder does not exist", file=self.root)
        self._cache: dict[str, Any] = {}
        self._vocabulary = vocabulary

    @property
    def vocabulary(self) -> Vocabulary:
        """How values are written (the shipped policy files' wordings unless given)."""
        if self._vocabulary is None:
            # imported here: the loader imports the templates, which import this module
            from riskkit.comply.loader import builtin_vocabulary

            self._vocabulary = builtin_vocabulary()
        return self._vocabulary

    def preload(self, key: str, frame: pd.DataFrame) -> None:
        """Use an in-memory frame (typed columns) instead of reading ``key``'s file.

        For programmatic use and benchmarks; missing optional columns are added
        empty and ``file_row`` numbers the rows as a CSV would (header = row 1).
        """
        if key == "orders":
            out = frame.copy()
            out["file_row"] = range(2, len(out) + 2)
            out["_file"] = "orders (in memory)"
            self._cache[key] = out
            return
        spec = FILE_SPECS[key]
        out = frame.copy()
        for column in (*spec.required, *spec.optional):
            if column not in out.columns:
                out[column] = pd.NA
        out["file_row"] = range(2, len(out) + 2)
        self._cache[key] = out

    def path(self, name: str) -> Path:
        return self.root / name

    def file_hashes(self) -> dict[str, str]:
        """SHA-256 of every file in the folder (relative path -> hex digest)."""
        return {
            p.relative_to(self.root).as_posix(): sha256_file(p)
            for p in sorted(self.root.rglob("*"))
            if p.is_file()
        }

    def _csv(self, key: str) -> pd.DataFrame:
        if key in self._cache:
            frame: pd.DataFrame = self._cache[key]
            return frame
        spec = FILE_SPECS[key]
        path = self.path(spec.name)
        if not path.is_file():
            raise EvidenceMissing(f"{spec.name} not found in the evidence folder")
        try:
            raw = pd.read_csv(
                path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig"
            )
        except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
            raise InputError(f"cannot parse CSV: {exc}", file=path) from exc
        frame = parse_frame(raw, spec, path, self.vocabulary)
        if key == "catalog":
            duplicated = frame["sku_id"].duplicated()
            if bool(duplicated.any()):
                row = int(frame.loc[duplicated, "file_row"].iloc[0])
                raise InputError(
                    "duplicate sku_id (one row per SKU)", file=path, row=row, column="sku_id"
                )
        self._cache[key] = frame
        return frame

    def catalog(self) -> pd.DataFrame:
        return self._csv("catalog")

    def price_history(self) -> pd.DataFrame:
        return self._csv("price_history")

    def returns(self) -> pd.DataFrame:
        return self._csv("returns")

    def consents(self) -> pd.DataFrame:
        return self._csv("consents")

    def price_findings(self) -> pd.DataFrame:
        return self._csv("price_findings")

    def orders(self) -> pd.DataFrame:
        """Order lines in riskkit's canonical schema, read by :func:`riskkit.orders.read_orders`."""
        if "orders" in self._cache:
            cached: pd.DataFrame = self._cache["orders"]
            return cached
        paths = sorted(p for p in self.root.glob("orders.*") if p.is_file())
        if not paths:
            raise EvidenceMissing("no orders.* export found in the evidence folder")
        from riskkit.orders import read_orders

        try:
            table = read_orders(list(paths))
        except RiskkitError:
            raise
        except Exception as exc:  # the reader's own parse failure: name the file
            raise InputError(f"cannot read orders: {exc}", file=paths[0]) from exc
        frame = table.frame.reset_index(drop=True).copy()
        for column in ("sku_id", "unit_price", "created_at"):
            if column not in frame.columns:
                raise InputError("order export has no such column", file=paths[0], column=column)
        frame["unit_price"] = pd.to_numeric(frame["unit_price"], errors="coerce")
        created = pd.to_datetime(frame["created_at"], errors="coerce")
        if getattr(created.dt, "tz", None) is not None:
            created = created.dt.tz_localize(None)
        frame["created_at"] = created.astype("datetime64[ns]")
        frame["sku_id"] = frame["sku_id"].astype("string").astype(object)
        if "source_row" in frame.columns:
            frame["file_row"] = frame["source_row"]
        elif _rows_line_up(table, paths):
            frame["file_row"] = range(2, len(frame) + 2)
        else:  # joined or filtered exports: 0 = row unknown, the order_id identifies the line
            frame["file_row"] = 0
        frame["_file"] = paths[0].name if len(paths) == 1 else ",".join(p.name for p in paths)
        self._cache["orders"] = frame
        return frame

    def settings(self) -> dict[str, Any]:
        if "settings" in self._cache:
            cached: dict[str, Any] = self._cache["settings"]
            return cached
        path = self.path("settings.json")
        if not path.is_file():
            raise EvidenceMissing("settings.json not found in the evidence folder")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            row = getattr(exc, "lineno", None)
            raise InputError(f"invalid JSON: {exc}", file=path, row=row) from exc
        if not isinstance(data, dict):
            raise InputError("settings.json must hold a JSON object", file=path)
        self._cache["settings"] = data
        return data

    def setting(self, key: str) -> Any:
        settings = self.settings()
        if key not in settings:
            raise EvidenceMissing(f"settings.json has no {key!r}")
        return settings[key]

    def pages(self) -> dict[str, PageScan]:
        if "pages" in self._cache:
            cached: dict[str, PageScan] = self._cache["pages"]
            return cached
        folder = self.path("pages")
        files = sorted(folder.glob("*.html")) + sorted(folder.glob("*.htm"))
        if not files:
            raise EvidenceMissing("no pages/*.html saved in the evidence folder")
        scans: dict[str, PageScan] = {}
        for path in files:
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(f"page is not UTF-8: {exc}", file=path) from exc
            scans[f"pages/{path.name}"] = scan_page(text)
        self._cache["pages"] = scans
        return scans
