"""Column preparation shared by the drift and pricing detectors.

Canonical frames may come straight from a reader (typed) or from a CSV read
as text; these helpers coerce what they need, treat blanks and masked
values (``****``) as unknown, and stay vectorised: each works on the unique
values of a column and maps back, so ten million rows cost little more than
the number of distinct values.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np
import pandas as pd

from riskkit.errors import InputError

__all__ = [
    "PROVINCES",
    "buyer_is_returning",
    "has_values",
    "money",
    "normalised_text",
    "parse_window",
    "province_of",
    "timestamps",
]

# Province-level divisions of China by their first two characters (unique
# among the 34; 黑龙江 and 内蒙古 are the only three-character short names).
PROVINCES: dict[str, str] = {
    prefix: name
    for prefix, name in (
        ("北京", "北京"),
        ("天津", "天津"),
        ("上海", "上海"),
        ("重庆", "重庆"),
        ("河北", "河北"),
        ("山西", "山西"),
        ("辽宁", "辽宁"),
        ("吉林", "吉林"),
        ("黑龙", "黑龙江"),
        ("江苏", "江苏"),
        ("浙江", "浙江"),
        ("安徽", "安徽"),
        ("福建", "福建"),
        ("江西", "江西"),
        ("山东", "山东"),
        ("河南", "河南"),
        ("湖北", "湖北"),
        ("湖南", "湖南"),
        ("广东", "广东"),
        ("海南", "海南"),
        ("四川", "四川"),
        ("贵州", "贵州"),
        ("云南", "云南"),
        ("陕西", "陕西"),
        ("甘肃", "甘肃"),
        ("青海", "青海"),
        ("台湾", "台湾"),
        ("内蒙", "内蒙古"),
        ("广西", "广西"),
        ("西藏", "西藏"),
        ("宁夏", "宁夏"),
        ("新疆", "新疆"),
        ("香港", "香港"),
        ("澳门", "澳门"),
    )
}
_WINDOW = re.compile(r"^\s*(\d+)\s*(d|h|min)\s*$", re.IGNORECASE)


def has_values(frame: pd.DataFrame, column: str) -> bool:
    """True when ``column`` exists and holds at least one non-blank value."""
    if column not in frame.columns:
        return False
    series = frame[column].dropna()
    if series.empty:
        return False
    if series.dtype == object or pd.api.types.is_string_dtype(series):
        # a sample settles almost every real column; scan the rest only if it is all blank
        head = series.head(10_000).astype(str).str.strip().ne("")
        return bool(head.any()) or bool(series.astype(str).str.strip().ne("").any())
    return True


def _map_distinct(series: pd.Series, labels_of: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """Apply ``labels_of`` to the distinct values of ``series`` and map back."""
    categorical = series.astype("category")
    categories = pd.Series(categorical.cat.categories.astype(str))
    labels = labels_of(categories).to_numpy(dtype=object)
    codes = np.asarray(categorical.cat.codes.to_numpy())
    return _take_labels(labels, codes, series.index)


def _take_labels(labels: np.ndarray, codes: np.ndarray, index: pd.Index) -> pd.Series:
    """``labels[codes]`` as a categorical Series, NA where the code is -1 or the
    label is None.  Categorical, not strings: building ten million Python
    strings costs seconds, re-coding ten million integers costs milliseconds."""
    label_codes, uniques = pd.factorize(pd.Series(labels, dtype=object))
    if len(label_codes) == 0:
        mapped = np.full(len(codes), -1, dtype=np.int64)
    else:
        mapped = np.where(codes >= 0, label_codes[np.clip(codes, 0, None)], -1)
    categories = pd.Index([str(u) for u in uniques], dtype=object)
    return pd.Series(pd.Categorical.from_codes(mapped, categories=categories), index=index)


def normalised_text(series: pd.Series) -> pd.Series:
    """Lower-cased, stripped category labels; blank and masked values become NA."""

    def labels_of(categories: pd.Series) -> pd.Series:
        labels = categories.str.strip().str.lower()
        return labels.where(~labels.str.fullmatch(r"\**"), None)

    return _map_distinct(series, labels_of)


def province_of(addresses: pd.Series) -> pd.Series:
    """Province of each Chinese shipping address (NA when it names none)."""
    prefix = addresses.astype("string").str.strip().str.slice(0, 2)
    codes, uniques = pd.factorize(prefix)
    names = pd.Series(uniques, dtype=object).map(PROVINCES).to_numpy(dtype=object)
    return _take_labels(names, codes, addresses.index)


def timestamps(frame: pd.DataFrame, column: str, strict: bool = True) -> pd.Series:
    """``column`` as naive ``datetime64[ns]``.  With ``strict`` a value that
    will not parse raises :class:`InputError` naming the first bad row;
    otherwise it becomes NaT."""
    series: pd.Series = frame[column]
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        wall_clock: pd.Series = series.dt.tz_localize(None)
        return wall_clock.astype("datetime64[ns]")
    if pd.api.types.is_datetime64_any_dtype(series):
        return series.astype("datetime64[ns]")
    parsed = pd.to_datetime(series, errors="coerce", format="mixed")
    if strict:
        bad = parsed.isna() & series.notna() & series.astype(str).str.strip().ne("")
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(f"not a timestamp: {series.iloc[row]!r}", row=row + 1, column=column)
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_localize(None)
    return parsed.astype("datetime64[ns]")


def money(frame: pd.DataFrame, column: str) -> pd.Series:
    """A money or number column as float (unparseable values become NaN)."""
    series = frame[column]
    if pd.api.types.is_numeric_dtype(series):
        return series.astype(float)
    return pd.to_numeric(series, errors="coerce").astype(float)


def buyer_is_returning(frame: pd.DataFrame, created_at: pd.Series) -> pd.Series:
    """True for a line whose buyer placed an earlier order in the data.

    Registration dates are deliberately not used: an account opened long ago
    whose first order this is has no purchase history a price engine could
    exploit, and the export is the only history riskkit sees.
    """
    buyer_codes, _ = pd.factorize(frame["buyer_id"])
    times = created_at.to_numpy(dtype="datetime64[ns]").view(np.int64)
    # a grouped minimum (hash-based, one pass) beats sorting ten million lines
    first_time = (
        pd.Series(times).groupby(buyer_codes).transform("min").to_numpy() if len(times) else times
    )
    returning = (times > first_time) & (buyer_codes >= 0)
    return pd.Series(returning, index=frame.index)


def parse_window(text: str) -> pd.Timedelta:
    """``1D``, ``1H``, ``6h``, ``30min`` -> a Timedelta (``UsageError`` otherwise)."""
    from riskkit.errors import UsageError

    match = _WINDOW.match(str(text))
    if not match:
        raise UsageError(f"--window must look like 1D, 6H or 30min, not {text!r}")
    amount, unit = int(match.group(1)), match.group(2).lower()
    if amount <= 0:
        raise UsageError("--window must be positive")
    window = pd.Timedelta(f"{amount}{ {'d': 'D', 'h': 'h', 'min': 'min'}[unit] }")
    if window < pd.Timedelta(minutes=10):
        raise UsageError("--window must be at least 10min")
    return window
