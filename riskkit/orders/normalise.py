"""From canonical columns as text to typed columns, quarantining bad cells.

A row with a cell that cannot be read (an unparseable timestamp, a
non-numeric amount, a missing required value, a duplicate order line) is
not dropped: it goes to the rejected rows with its file, row, column and
reason, and the run goes on with the rest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from riskkit.errors import InputError
from riskkit.orders.schema import COLUMN_KIND, IDENTITY_COLUMNS, REQUIRED_COLUMNS

__all__ = ["OUT_OF_RANGE_REASON", "Normalised", "normalise", "strip_guard"]

OUT_OF_RANGE_REASON = (
    "timestamp outside the readable range 1677-09-22 .. 2262-04-11 "
    "(a placeholder date such as 9999-12-31?)"
)

_COMMON_LAYOUT = "%Y-%m-%d %H:%M:%S"
_OFFSET = re.compile(r"\s*(?:Z|[+-]\d{2}:?\d{2}|UTC|GMT)$")
_FALLBACK_FORMATS = (
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y-%m-%d %H:%M",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日",
    "%Y%m%d%H%M%S",
)
# Larger than any real quantity, and every whole number up to it is exact in a float.
_LARGEST_COUNT = 2**53
_MASKED = re.compile(r"\*{3,}")
_MONEY_JUNK = r"[¥￥$,元\s]"


@dataclass
class Normalised:
    frame: pd.DataFrame
    rejected: pd.DataFrame
    masked: dict[str, int] = field(default_factory=dict)
    # Optional timestamp columns -> cells with a placeholder date read as missing.
    out_of_range: dict[str, int] = field(default_factory=dict)


def strip_guard(series: pd.Series) -> pd.Series:
    """``="3100000004440793"``, ``'13812345678`` and tab-prefixed cells -> the bare text."""
    text = series.astype("str") if series.dtype != "str" else series
    text = text.str.strip()
    guarded = text.str.startswith(('="', "'", "\t")).fillna(False).astype(bool)
    if bool(guarded.any()):
        bare = text[guarded].str.replace(r'(?s)^="(.*)"$', r"\1", regex=True)
        bare = bare.str.replace(r"^['\t]+", "", regex=True)
        text = text.copy()
        text[guarded] = bare.str.strip()
    return text.where(text != "")


def _as_text(values: pd.Series) -> pd.Series:
    """Cells as text for the quarantine, whatever their type.

    A Parquet timestamp in year 9999 UTC is year 10000 on a UTC+8 clock,
    which Python's datetime (and so pandas' formatting) cannot show; numpy can.
    """
    if not pd.api.types.is_datetime64_any_dtype(values.dtype):
        return values.astype("string")
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_localize(None)
    shown = np.datetime_as_string(values.to_numpy())
    return pd.Series(shown, index=values.index, dtype="string").where(values.notna())


def _blank(raw: pd.Series) -> pd.Series:
    """True where a raw cell holds nothing (missing or only white space)."""
    blank = raw.isna()
    present = ~blank
    typed = pd.api.types.is_numeric_dtype(raw.dtype) or pd.api.types.is_datetime64_any_dtype(
        raw.dtype
    )
    if bool(present.any()) and not typed:
        stripped = raw[present].astype("str").str.strip()
        blank[present] = (stripped == "").to_numpy()
    return blank


_NS_PER_TICK = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}


def _within_ns(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parsed timestamps of any resolution -> nanoseconds, and where they did not fit.

    Placeholder dates (``9999-12-31 23:59:59`` "never expires", ``1600-01-01``
    "not yet signed") parse, but lie outside the nanosecond range pandas
    computes in (1677-09-21 .. 2262-04-11).  They become NaT here and are
    flagged, so the caller can read them as missing or quarantine the row.
    """
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_localize(None)  # the wall clock of the export's offset
    stamps = values.to_numpy()
    unit = str(np.datetime_data(stamps.dtype)[0])
    ticks = stamps.view("i8")
    per_tick = _NS_PER_TICK[unit]
    lowest = -(-pd.Timestamp.min.value // per_tick)  # ceiling division
    highest = pd.Timestamp.max.value // per_tick
    known = ~np.isnat(stamps)
    outside = known & ((ticks < lowest) | (ticks > highest))
    fitting = np.where(outside, np.array("NaT", dtype=stamps.dtype), stamps)
    fitting = fitting.astype("datetime64[ns]")
    return (
        pd.Series(fitting, index=values.index, dtype="datetime64[ns]"),
        pd.Series(outside, index=values.index, dtype=bool),
    )


def _parse_timestamps(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Naive nanosecond timestamps, and the cells that held a date outside that range."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return _within_ns(series)
    text = series.astype("str") if series.dtype != "str" else series
    outside = pd.Series(False, index=text.index, dtype=bool)
    # Most exports write one layout; pyarrow parses it without building ten
    # million Python strings (a date it cannot hold in nanoseconds is null
    # there).  Any other cell goes through pandas below.
    parsed = _parse_common_layout(text)
    pending = parsed.isna() & text.notna()
    if not bool(pending.any()):
        return parsed, outside
    try:
        iso = pd.to_datetime(text[pending], format="ISO8601", errors="coerce")
    except ValueError:  # mixed UTC offsets: take every cell's wall clock below
        iso = pd.Series(pd.NaT, index=text.index[pending], dtype="datetime64[ns]")
    parsed[pending], outside[pending] = _within_ns(iso)
    pending = parsed.isna() & text.notna() & ~outside
    if not bool(pending.any()):
        return parsed, outside
    # The wall clock as written: an offset is dropped, not applied (hour-of-day
    # patterns are about the buyer's clock). See riskkit.orders.schema.
    rest = text[pending].str.strip().str.replace(_OFFSET.pattern, "", regex=True)
    retry, retry_outside = _within_ns(pd.to_datetime(rest, format="ISO8601", errors="coerce"))
    for fmt in _FALLBACK_FORMATS:
        missing = retry.isna() & ~retry_outside
        if not bool(missing.any()):
            break
        retry[missing], retry_outside[missing] = _within_ns(
            pd.to_datetime(rest[missing], format=fmt, errors="coerce")
        )
    parsed[pending] = retry
    outside[pending] = retry_outside
    return parsed, outside


def _parse_common_layout(text: pd.Series) -> pd.Series:
    """``YYYY-MM-DD HH:MM:SS`` cells parsed by pyarrow; NaT for every other cell."""
    try:
        cells = pa.array(text.array)
        parsed = pc.strptime(cells, format=_COMMON_LAYOUT, unit="ns", error_is_null=True)
        values = parsed.to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, TypeError):
        values = np.full(len(text), np.datetime64("NaT"), dtype="datetime64[ns]")
    return pd.Series(values, index=text.index, dtype="datetime64[ns]")


def _parse_numbers(series: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(series.dtype):
        return series.astype("float64")
    try:
        return series.astype("float64")
    except (ValueError, TypeError):
        pass
    numbers = pd.to_numeric(series, errors="coerce").astype("float64")
    pending = numbers.isna() & series.notna()
    if bool(pending.any()):
        cleaned = series[pending].astype("str").str.replace(_MONEY_JUNK, "", regex=True)
        numbers[pending] = pd.to_numeric(cleaned.where(cleaned != ""), errors="coerce")
    return numbers


def _id_column(series: pd.Series, name: str, source: str) -> pd.Series:
    if pd.api.types.is_float_dtype(series.dtype):
        raise InputError(
            "ids stored as floating-point numbers may already be corrupted "
            "(a 19-digit order number does not survive a float); export ids as text",
            file=source,
            column=name,
        )
    if pd.api.types.is_integer_dtype(series.dtype):
        return series.astype("str")
    return strip_guard(series)


def normalise(
    text: pd.DataFrame,
    source: str,
    row_numbers: np.ndarray,
    amounts_repeat_per_line: bool = False,
    original: pd.DataFrame | None = None,
    truncated_last_row: bool = False,
) -> Normalised:
    """Type the canonical columns of ``text``; return the good rows and the rejected ones."""
    missing = [c for c in REQUIRED_COLUMNS if c not in text.columns]
    if missing:
        raise InputError(
            f"missing required column(s) {missing} (after mapping the export's headers)",
            file=source,
            row=1,
            column=missing[0],
        )
    frame = pd.DataFrame(index=text.index)
    problems: list[pd.DataFrame] = []
    masked: dict[str, int] = {}
    out_of_range: dict[str, int] = {}

    def reject(mask: pd.Series, column: str, reason: str, values: pd.Series) -> None:
        if bool(mask.any()):
            problems.append(
                pd.DataFrame(
                    {"column": column, "reason": reason, "value": _as_text(values[mask])},
                    index=text.index[mask.to_numpy()],
                )
            )

    if truncated_last_row and len(text):
        last = pd.Series(False, index=text.index)
        last.iloc[-1] = True
        reject(
            last,
            str(text.columns[-1]),
            "truncated row (the file ends in the middle of it)",
            text[text.columns[-1]],
        )

    for column in text.columns:
        kind = COLUMN_KIND.get(column)
        if kind is None:
            continue
        raw = text[column]
        if kind == "id":
            values: pd.Series = _id_column(raw, column, source)
        elif kind == "text":
            values = (raw.astype("str") if raw.dtype != "str" else raw).str.strip()
            values = values.where(values != "")
        elif kind == "timestamp":
            values, outside = _parse_timestamps(raw)
            if bool(outside.any()):
                if column in REQUIRED_COLUMNS:
                    reject(outside, column, OUT_OF_RANGE_REASON, raw)
                else:
                    # An optional time with a placeholder date is simply unknown.
                    out_of_range[column] = int(outside.sum())
            bad = values.isna() & raw.notna() & ~outside
            if bool(bad.any()):
                bad &= ~_blank(raw)
            reject(bad, column, "unparseable timestamp", raw)
        else:
            values = _parse_numbers(raw)
            bad = values.isna() & raw.notna()
            if bool(bad.any()):
                bad &= ~_blank(raw)
            reject(bad, column, "not a number", raw)
            # "1e400" parses as infinity: no amount or count is infinite.
            infinite = pd.Series(np.isinf(values.to_numpy()), index=values.index)
            reject(infinite, column, "not a finite number", raw)
            values = values.where(~infinite)
            if kind == "integer":
                fractional = values.notna() & (values != np.floor(values))
                reject(fractional, column, "not a whole number", raw)
                huge = values.abs() > _LARGEST_COUNT
                reject(huge, column, f"a count above {_LARGEST_COUNT:,}", raw)
                values = values.where(~fractional & ~huge).round().astype("Int64")
        if column in IDENTITY_COLUMNS:
            # Masked values (138****5678, ****) are unknown, not one shared identity.
            hidden = values.str.contains("***", regex=False).fillna(False).astype(bool)
            if bool(hidden.any()):
                masked[column] = int(hidden.sum())
                values = values.where(~hidden)
        frame[column] = values

    for column in REQUIRED_COLUMNS:
        absent = frame[column].isna()
        if COLUMN_KIND[column] == "timestamp" and bool(absent.any()):
            absent &= _blank(text[column])
        reject(absent, column, "missing required value", text[column])

    if truncated_last_row and len(text):
        last = pd.Series(False, index=text.index)
        last.iloc[-1] = True
        reject(
            last,
            text.columns[-1],
            "truncated row (the file ends in the middle of it)",
            text[text.columns[-1]],
        )

    if amounts_repeat_per_line:
        later_line = frame.duplicated("order_id", keep="first")
        for column in ("amount_paid", "discount_amount", "refund_amount"):
            if column in frame:
                frame.loc[later_line, column] = np.nan

    key = ["order_id", "sku_id"] if "sku_id" in frame else ["order_id"]
    duplicate = frame.duplicated(key, keep="first") & frame["order_id"].notna()
    if bool(duplicate.any()):
        first_index = frame.drop_duplicates(key).reset_index().set_index(key)["index"]
        firsts = frame.loc[duplicate, key].merge(
            first_index.rename("first"), left_on=key, right_index=True, how="left"
        )["first"]
        first_rows = pd.Series(row_numbers, index=text.index)[firsts.to_numpy()].to_numpy()
        reasons = pd.Series(
            [f"duplicate order line {'/'.join(key)} (first at row {r})" for r in first_rows],
            index=frame.index[duplicate.to_numpy()],
        )
        problems.append(
            pd.DataFrame(
                {"column": key[-1], "reason": reasons, "value": frame.loc[duplicate, "order_id"]},
                index=reasons.index,
            )
        )

    frame["source_row"] = row_numbers
    rejected = _rejected_frame(
        problems, text if original is None else original, source, row_numbers
    )
    good = frame.drop(index=rejected.attrs.get("index", []))
    return Normalised(good.reset_index(drop=True), rejected, masked, out_of_range)


def _rejected_frame(
    problems: list[pd.DataFrame], text: pd.DataFrame, source: str, row_numbers: np.ndarray
) -> pd.DataFrame:
    columns = ["file", "row", "column", "reason", "value"]
    if not problems:
        empty = pd.DataFrame(columns=columns)
        empty.attrs["index"] = []
        return empty
    issues = pd.concat(problems)
    issues = issues[~issues.index.duplicated(keep="first")].sort_index()
    rows = pd.Series(row_numbers, index=text.index)
    out = pd.DataFrame(
        {
            "file": source,
            "row": rows[issues.index].to_numpy(),
            "column": issues["column"].to_numpy(),
            "reason": issues["reason"].to_numpy(),
            "value": issues["value"].to_numpy(),
        }
    )
    # Keep the whole original row (every column of the export) so nothing is lost.
    originals = text.loc[issues.index].reset_index(drop=True)
    originals = pd.DataFrame({c: _as_text(originals[c]) for c in originals.columns})
    out = pd.concat([out, originals.add_prefix("source:")], axis=1)
    out.attrs["index"] = list(issues.index)
    return out
