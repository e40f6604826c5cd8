"""Loading one input file into a raw frame of strings, whatever its container.

Text exports are decoded as UTF-8 (with or without BOM) and, failing that,
as GB18030 (a superset of GBK and GB2312).  GBK bytes almost never form
valid UTF-8, so that order is safe; a file that is partly one and partly the
other is refused with the first line that disagrees.  Every cell stays a
string here: typing happens in :mod:`riskkit.orders.normalise`, where a bad
cell can be quarantined with its row and column.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from riskkit.errors import InputError

__all__ = ["RawTable", "detect_encoding", "load_raw"]

_CHUNK = 1 << 24
_HEADER_JUNK = "\ufeff\"' \t\r\n"


@dataclass
class RawTable:
    """One input file as strings (or, for Parquet, as stored), with its header."""

    path: Path
    frame: pd.DataFrame
    kind: str  # csv, jsonl, xlsx, parquet
    encoding: str | None = None
    # The file ends in the middle of its last row (an interrupted download).
    truncated_last_row: bool = False

    @property
    def header(self) -> list[str]:
        return [str(c) for c in self.frame.columns]

    def file_row(self, index: int) -> int:
        """The 1-based record number in the file of frame row ``index`` (header = 1)."""
        return index + 2 if self.kind in {"csv", "xlsx"} else index + 1


def _kind_of(path: Path) -> str:
    if path.is_dir():
        return "parquet"
    suffix = path.suffix.lower()
    if suffix in {".parquet", ".pq"}:
        return "parquet"
    if suffix in {".jsonl", ".ndjson"}:
        return "jsonl"
    if suffix in {".xlsx", ".xlsm"}:
        return "xlsx"
    with path.open("rb") as handle:
        head = handle.read(8)
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    return "csv"


def _is_valid_utf8(path: Path) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(path: Path) -> str:
    """``utf-8-sig`` or ``gb18030``; raise on binary data or mixed encodings."""
    with path.open("rb") as handle:
        head = handle.read(65536)
    if not head.strip():
        raise InputError("the file is empty", file=path)
    if b"\x00" in head:
        raise InputError("binary data (NUL bytes): not a CSV order export", file=path)
    if _is_valid_utf8(path):
        return "utf-8-sig"
    # Not UTF-8 as a whole: find out whether it is GB18030 throughout or a mix.
    utf8_line: int | None = None
    other_line: int | None = None
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if line.isascii():
                continue
            try:
                line.decode("utf-8")
                utf8_line = utf8_line or number
            except UnicodeDecodeError:
                other_line = other_line or number
                try:
                    line.decode("gb18030")
                except UnicodeDecodeError as exc:
                    raise InputError(
                        f"undecodable bytes (neither UTF-8 nor GB18030) at byte {exc.start}: "
                        "binary data or a damaged file",
                        file=path,
                        row=number,
                    ) from None
            if utf8_line and other_line:
                raise InputError(
                    f"mixed encodings: row {utf8_line} is UTF-8 but row {other_line} is not "
                    "(GBK/GB18030?); re-export the file in one encoding",
                    file=path,
                    row=max(utf8_line, other_line),
                )
    return "gb18030"


def _clean_header(names: list[str]) -> list[str]:
    return [str(name).strip(_HEADER_JUNK) for name in names]


def _read_header(path: Path, encoding: str) -> tuple[list[str], bool]:
    """The cleaned header cells, and whether the header line held a stray quote."""
    with path.open("r", encoding=encoding, newline="") as handle:
        first = handle.readline()
    stray = first.count('"') % 2 == 1
    if stray:
        # A stray quote in a header cell ("订单编号) would swallow the following
        # cells as one quoted field; header cells never legitimately hold quotes.
        first = first.replace('"', "")
    row = next(csv.reader(io.StringIO(first)), [])
    return _clean_header(row), stray


def _load_csv(path: Path) -> RawTable:
    encoding = detect_encoding(path)
    header, stray_quote = _read_header(path, encoding)
    if not any(header):
        raise InputError("no header row", file=path, row=1)
    duplicates = sorted({h for h in header if h and header.count(h) > 1})
    if duplicates:
        raise InputError(f"duplicate column names in the header: {duplicates}", file=path, row=1)
    options: dict[str, Any] = {
        "index_col": False,
        "dtype": str,
        "keep_default_na": False,
        "na_values": [""],
        "skip_blank_lines": True,
        "engine": "c",
    }
    try:
        with warnings.catch_warnings():
            # pandas only warns when a row has more fields than the header and
            # drops the extra cells: that is data loss, so it is an error here.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            try:
                if stray_quote:
                    # The parser would read the stray quote even in a skipped
                    # line: hand it the data after the header line instead.
                    with path.open("r", encoding=encoding, newline="") as handle:
                        handle.readline()
                        frame = pd.read_csv(handle, header=None, names=header, **options)
                else:
                    frame = _read_csv_fast(path, encoding, options)
                    frame.columns = pd.Index(_clean_header([str(c) for c in frame.columns]))
            except pd.errors.ParserWarning:
                raise InputError(
                    f"more fields than the header's {len(header)} columns",
                    file=path,
                    row=_first_overlong_row(path, encoding, len(header)),
                ) from None
    except pd.errors.EmptyDataError:
        frame = pd.DataFrame(columns=header, dtype=str)
    except pd.errors.ParserError as exc:
        message = _parser_message(exc)
        line = re.search(r"(?:line|row) (\d+)", message)
        raise InputError(
            f"malformed CSV: {message}", file=path, row=int(line.group(1)) if line else None
        ) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"undecodable bytes at offset {exc.start}", file=path) from None
    except ValueError as exc:
        raise InputError(f"malformed CSV: {exc}", file=path) from None
    return RawTable(path, frame, "csv", encoding, _ends_mid_row(path, encoding, len(header)))


def _read_csv_fast(path: Path, encoding: str, options: dict[str, Any]) -> pd.DataFrame:
    """pyarrow's multi-threaded reader; on any complaint, the C reader, whose
    errors name the line (and which handles newlines inside quoted cells)."""
    try:
        frame: pd.DataFrame = pd.read_csv(
            path,
            encoding=encoding,
            header=0,
            engine="pyarrow",
            dtype=str,
            keep_default_na=False,
            na_values=[""],
        )
    except (pd.errors.ParserError, ValueError, TypeError, OSError):
        frame = pd.read_csv(path, encoding=encoding, header=0, **options)
    return frame


def _first_overlong_row(path: Path, encoding: str, n_columns: int) -> int | None:
    with path.open("r", encoding=encoding, newline="") as handle:
        handle.readline()
        for number, row in enumerate(csv.reader(handle), start=2):
            if len(row) > n_columns:
                return number
    return None


def _ends_mid_row(path: Path, encoding: str, n_columns: int) -> bool:
    with path.open("rb") as handle:
        handle.seek(max(path.stat().st_size - 65536, 0))
        tail = handle.read()
    if not tail or tail.endswith((b"\n", b"\r")):
        return False
    last_line = tail.splitlines()[-1].decode(encoding, errors="replace")
    fields = next(csv.reader(io.StringIO(last_line)), [])
    return len(fields) < n_columns


def _parser_message(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[-1]
    return text.replace("Error tokenizing data. C error: ", "")


def _load_jsonl(path: Path) -> RawTable:
    encoding = detect_encoding(path)
    records: list[dict[str, object]] = []
    with path.open("r", encoding=encoding) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                # Numbers stay text: a 19-digit id must never pass through a float.
                record = json.loads(line, parse_int=str, parse_float=str)
            except json.JSONDecodeError as exc:
                raise InputError(f"invalid JSON: {exc.msg}", file=path, row=number) from None
            if not isinstance(record, dict):
                raise InputError("each line must be a JSON object", file=path, row=number)
            records.append(
                {
                    str(k): (None if v is None else v if isinstance(v, str) else json.dumps(v))
                    for k, v in record.items()
                }
            )
    frame = pd.DataFrame.from_records(records)
    frame.columns = _clean_header(list(frame.columns))
    return RawTable(path, frame.astype("str").where(frame.notna()), "jsonl", encoding)


def _load_xlsx(path: Path) -> RawTable:
    try:
        frame = pd.read_excel(
            path, engine="openpyxl", dtype=str, keep_default_na=False, na_values=[""]
        )
    except Exception as exc:  # openpyxl raises many types for damaged workbooks
        raise InputError(
            f"unreadable .xlsx workbook: {type(exc).__name__}: {exc}", file=path
        ) from None
    frame.columns = _clean_header([str(c) for c in frame.columns])
    return RawTable(path, frame, "xlsx", None)


def _load_parquet(path: Path) -> RawTable:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError ... for damaged files
        raise InputError(f"unreadable Parquet data: {exc}", file=path) from None
    frame = table.to_pandas()
    frame.columns = _clean_header([str(c) for c in frame.columns])
    return RawTable(path, frame, "parquet", None)


def load_raw(path: str | Path) -> RawTable:
    """Load one export file (CSV, JSON Lines, .xlsx, Parquet file or directory)."""
    source = Path(path)
    if not source.exists():
        raise InputError("no such file or directory", file=source)
    kind = _kind_of(source)
    if kind != "parquet" and source.stat().st_size == 0:
        raise InputError("the file is empty", file=source)
    loaders = {"csv": _load_csv, "jsonl": _load_jsonl, "xlsx": _load_xlsx, "parquet": _load_parquet}
    return loaders[kind](source)
