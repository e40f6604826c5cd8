"""Atomic output: write to a temporary file beside the target, then rename.

A crash (or Ctrl-C) never leaves a half-written report: either the previous
file or the complete new one is there.  CSV exports go through
:func:`neutralise_formula` so a cell such as ``=HYPERLINK(...)`` coming from
order data cannot run as a formula in a spreadsheet.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import pandas as pd

__all__ = [
    "atomic_open",
    "neutralise_formula",
    "neutralise_frame",
    "write_bytes",
    "write_csv_frame",
    "write_csv_rows",
    "write_json",
    "write_jsonl",
    "write_text",
]

_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(value: object) -> object:
    """Prefix a string that a spreadsheet would evaluate with ``'``.

    Numbers are left alone (``-3.5`` is a number, not a formula); only
    strings that start with ``= + - @`` (or tab / CR, OWASP's list) change.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        return "'" + value
    return value


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``frame`` whose text cells are formula-safe."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_string_dtype(series.dtype) and series.dtype != object:
            text = series
        elif series.dtype == object:
            # Only real strings can be formulas: numbers in an object column stay numbers.
            text = series.where(series.map(lambda value: isinstance(value, str))).astype("str")
        else:
            continue
        mask = text.str.startswith(_FORMULA_PREFIXES).fillna(False).astype(bool)
        if bool(mask.any()):
            out[column] = series.astype(object)
            out.loc[mask, column] = "'" + series[mask].astype(str)
    return out


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_open(
    path: str | Path, mode: str = "w", encoding: str | None = "utf-8"
) -> Iterator[IO[Any]]:
    """Open a temporary file next to ``path``; rename it over ``path`` on success."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    binary = "b" in mode
    try:
        with os.fdopen(
            fd, mode, encoding=None if binary else encoding, newline=None if binary else ""
        ) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp creates 0600 files; a report should get the usual permissions.
        os.chmod(tmp_name, 0o666 & ~_current_umask())
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def write_text(path: str | Path, text: str) -> Path:
    with atomic_open(path, "w") as handle:
        handle.write(text)
    return Path(path)


def write_bytes(path: str | Path, data: bytes) -> Path:
    with atomic_open(path, "wb", encoding=None) as handle:
        handle.write(data)
    return Path(path)


def write_json(path: str | Path, payload: Any) -> Path:
    text = json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=False, default=str)
    return write_text(path, text + "\n")


def write_jsonl(path: str | Path, rows: Iterable[Mapping[str, Any]]) -> Path:
    with atomic_open(path, "w") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False, default=str))
            handle.write("\n")
    return Path(path)


def write_csv_frame(path: str | Path, frame: pd.DataFrame) -> Path:
    """Write a DataFrame as UTF-8 CSV, formula-safe, atomically."""
    buffer = io.StringIO()
    neutralise_frame(frame).to_csv(buffer, index=False)
    return write_text(path, buffer.getvalue())


def write_csv_rows(
    path: str | Path, header: Sequence[str], rows: Iterable[Sequence[object]]
) -> Path:
    """Write rows as UTF-8 CSV, formula-safe, atomically."""
    with atomic_open(path, "w") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            writer.writerow([neutralise_formula(cell) for cell in row])
    return Path(path)
