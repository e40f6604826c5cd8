"""Fast, formula-safe CSV output of string columns, written atomically.

Lines are built with pyarrow kernels: each column is quoted only when it
needs to be (comma, quote or line break), cells a spreadsheet would evaluate
get a leading ``'`` (the same rule as :func:`riskkit.atomic.neutralise_formula`),
and the encoded chunk is written through :func:`riskkit.atomic.atomic_open`.
Columns listed as ``raw`` are written byte for byte: that is how a Taobao
export's Excel guard ``="3100000004440793"`` stays unquoted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from riskkit.atomic import atomic_open
from riskkit.synth import geo

__all__ = [
    "CHUNK_ROWS",
    "money_text",
    "text_column",
    "timestamp_text",
    "write_csv_chunks",
    "write_csv_columns",
]

CHUNK_ROWS = 100_000
_NEEDS_QUOTES = ('"', ",", "\r", "\n")
_FORMULA_MARKS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_PREFIXES = pa.array(_FORMULA_MARKS)


def text_column(values: pd.Series | pa.Array | pa.ChunkedArray) -> pa.Array:
    """Any column as a pyarrow string array (nulls stay null)."""
    if isinstance(values, pd.Series):
        values = pa.array(values, from_pandas=True)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        values = pc.cast(values, pa.string())
    return pc.cast(values, pa.string())


def timestamp_text(values: pd.Series, suffix: str = "") -> pa.Array:
    """``YYYY-mm-dd HH:MM:SS`` (+ ``suffix``, e.g. `` +0800``); NaT becomes empty."""
    seconds = pa.array(values.to_numpy(dtype="datetime64[s]"), type=pa.timestamp("s"))
    text = pc.cast(seconds, pa.string())  # ISO with a space; much faster than strftime
    return geo.concat(text, suffix) if suffix else text


def money_text(values: pd.Series | npt.NDArray[np.float64]) -> pa.Array:
    """Amounts with two decimals (``99.90``); NaN becomes empty."""
    amount = np.asarray(values, dtype=np.float64)
    missing = np.isnan(amount)
    cents = np.round(np.where(missing, 0, amount) * 100).astype(np.int64)
    text = geo.concat(geo.numbers(cents // 100), ".", geo.digits(cents % 100, 2))
    return pc.if_else(pa.array(missing), pa.scalar(None, pa.string()), text)


def _cell(values: pa.Array, raw: bool) -> pa.Array:
    text = pc.fill_null(values, "")
    if raw:
        return text
    # This runs on every cell of ten-million-row files: a memchr over the whole
    # column's bytes first, per-cell kernels only when a marker occurs at all.
    content = _utf8_bytes(text)
    if any(mark.encode() in content for mark in _FORMULA_MARKS):
        formula = pc.is_in(pc.utf8_slice_codeunits(text, 0, 1), value_set=_FORMULA_PREFIXES)
        if pc.any(formula).as_py():
            text = pc.if_else(formula, geo.concat("'", text), text)
            content = _utf8_bytes(text)
    if not any(mark.encode() in content for mark in _NEEDS_QUOTES):
        return text
    needs_quotes = pc.match_substring(text, _NEEDS_QUOTES[0])
    for mark in _NEEDS_QUOTES[1:]:
        needs_quotes = pc.or_(needs_quotes, pc.match_substring(text, mark))
    quoted = geo.concat('"', pc.replace_substring(text, '"', '""'), '"')
    return pc.if_else(needs_quotes, quoted, text)


def _header(names: Iterable[str]) -> str:
    cells = []
    for name in names:
        cells.append(
            '"' + name.replace('"', '""') + '"' if any(c in name for c in ',"\n') else name
        )
    return ",".join(cells) + "\n"


def write_csv_columns(
    path: str | Path,
    columns: Mapping[str, pa.Array],
    encoding: str = "utf-8",
    raw: Iterable[str] = (),
) -> Path:
    """Write equal-length string columns as CSV (``\\n`` line ends) in ``encoding``.

    Columns named in ``raw`` are written as they are: no quoting, no formula
    guard. Use it only for cells the caller built itself (digits, dates,
    amounts, deliberate Excel guards).
    """
    lengths = {len(array) for array in columns.values()}
    if len(lengths) > 1:
        raise ValueError("CSV columns differ in length")
    total = lengths.pop() if lengths else 0
    chunks = (
        {name: array.slice(start, CHUNK_ROWS) for name, array in columns.items()}
        for start in range(0, total, CHUNK_ROWS)
    )
    return write_csv_chunks(path, list(columns), chunks, encoding, raw)


def write_csv_chunks(
    path: str | Path,
    header: Sequence[str],
    chunks: Iterable[Mapping[str, pa.Array]],
    encoding: str = "utf-8",
    raw: Iterable[str] = (),
) -> Path:
    """Like :func:`write_csv_columns`, for columns produced a chunk at a time.

    Only one chunk's strings exist at once, so a ten-million-row file costs
    the memory of ``CHUNK_ROWS`` rows.
    """
    raw_names = set(raw)
    with atomic_open(path, "wb", encoding=None) as handle:
        handle.write(_header(header).encode(encoding))
        for chunk in chunks:
            cells = [_cell(chunk[name], name in raw_names) for name in header]
            lines = geo.concat(pc.binary_join_element_wise(*cells, ","), "\n")
            data = _utf8_bytes(lines)
            handle.write(data if encoding == "utf-8" else data.decode("utf-8").encode(encoding))
    return Path(path)


def _utf8_bytes(lines: pa.Array) -> bytes:
    """The concatenated UTF-8 bytes of a string array, read straight from its value buffer."""
    array = pc.cast(lines, pa.string())
    if len(array) == 0:
        return b""
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int32)
    first, last = int(offsets[array.offset]), int(offsets[array.offset + len(array)])
    values = array.buffers()[2]
    return b"" if values is None else memoryview(values)[first:last].tobytes()
