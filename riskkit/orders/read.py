"""``read_orders``: any supported export(s) in, one canonical frame out."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from riskkit.atomic import write_csv_frame
from riskkit.errors import InputError, UsageError
from riskkit.orders.formats import FORMATS, FormatSpec, detect_format, map_columns
from riskkit.orders.mapping import load_mapping
from riskkit.orders.normalise import normalise, strip_guard
from riskkit.orders.schema import ALL_COLUMNS, SOURCE_ROW, signals_present
from riskkit.orders.sources import RawTable, load_raw

__all__ = ["DEFAULT_MAX_REJECTED", "OrderTable", "read_orders"]

log = logging.getLogger(__name__)

# Above this share of bad rows the file is almost certainly the wrong format
# or badly damaged: stop (exit 2) instead of analysing the remainder.
DEFAULT_MAX_REJECTED = 0.05


@dataclass
class OrderTable:
    """The canonical orders of one or more input files, and what was set aside."""

    frame: pd.DataFrame
    rejected: pd.DataFrame
    format: str
    files: list[Path] = field(default_factory=list)
    masked: dict[str, int] = field(default_factory=dict)
    rows_read: int = 0
    # Optional timestamp column -> placeholder dates (9999-12-31 ...) read as missing.
    out_of_range_dates: dict[str, int] = field(default_factory=dict)

    def signals(self) -> dict[str, bool]:
        with_values = {c for c in self.frame.columns if bool(self.frame[c].notna().any())}
        return signals_present(with_values)

    def date_range(self) -> tuple[str | None, str | None]:
        created = self.frame["created_at"]
        if created.empty or created.isna().all():
            return None, None
        return str(created.min()), str(created.max())

    def summary(self) -> dict[str, Any]:
        start, end = self.date_range()
        return {
            "files": [str(p) for p in self.files],
            "format": self.format,
            "rows_read": self.rows_read,
            "rows": len(self.frame),
            "orders": int(self.frame["order_id"].nunique()),
            "buyers": int(self.frame["buyer_id"].nunique()),
            "rejected_rows": len(self.rejected),
            "date_range": {"start": start, "end": end},
            "signals": self.signals(),
            "masked_values": self.masked,
            "out_of_range_dates": self.out_of_range_dates,
        }

    def write_rejected(self, out_dir: str | Path) -> Path | None:
        """``OUT/rejected_rows.csv`` when any row was quarantined."""
        if self.rejected.empty:
            return None
        return write_csv_frame(Path(out_dir) / "rejected_rows.csv", self.rejected)


def _resolve_spec(raw: RawTable, fmt: str | None, mapping: FormatSpec | None) -> FormatSpec:
    if mapping is not None:
        return mapping
    if fmt is not None:
        if fmt not in FORMATS:
            raise UsageError(f"unknown --format {fmt!r} (known: {', '.join(FORMATS)})")
        return FORMATS[fmt]
    return detect_format(raw.header, raw.path)


def _row_numbers(raw: RawTable) -> np.ndarray:
    return np.arange(len(raw.frame)) + (2 if raw.kind in {"csv", "xlsx"} else 1)


def _join_taobao_items(orders: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """Order report (one row per order) x item report (one row per item)."""
    line_columns = ["order_id", *[c for c in ("sku_id", "unit_price", "quantity") if c in items]]
    order_columns = [c for c in orders.columns if c not in line_columns or c == "order_id"]
    merged = items[line_columns].merge(orders[order_columns], on="order_id", how="right")
    later = merged.duplicated("order_id", keep="first")
    for column in ("amount_paid", "discount_amount", "refund_amount"):
        if column in merged:
            merged[column] = merged[column].astype("string").where(~later)
    return merged


def read_orders(
    paths: list[str | Path] | tuple[str | Path, ...],
    fmt: str | None = None,
    columns: str | Path | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    max_rejected: float = DEFAULT_MAX_REJECTED,
) -> OrderTable:
    """Read order exports into the canonical schema.

    Parameters
    ----------
    paths
        Files or Parquet directories. A Taobao 订单报表 and its 宝贝报表 item
        report given together are joined on 订单编号.
    fmt
        Force a format (``riskkit``, ``shopify``, ``taobao``, ``taobao-items``,
        ``jd``, ``pinduoduo``) instead of detecting it from the header.
    columns
        A column-mapping YAML for any other export.
    since, until
        Keep orders created in ``[since, until)``.
    max_rejected
        Largest share of quarantined rows before the input is refused (exit 2).
    """
    if not paths:
        raise UsageError("no input files given")
    mapping = load_mapping(columns).to_spec() if columns is not None else None
    texts: list[tuple[RawTable, FormatSpec, pd.DataFrame]] = []
    for path in paths:
        raw = load_raw(path)
        spec = _resolve_spec(raw, fmt, mapping)
        texts.append((raw, spec, map_columns(raw.frame, spec)))

    item_reports = [t for t in texts if t[1].needs]
    others = [t for t in texts if not t[1].needs]
    for raw, spec, _ in item_reports:
        if not any(s.name == spec.needs for _, s, _ in others):
            raise InputError(
                f"this is a {spec.title}; it has no buyers or order times: "
                f"pass it together with its {FORMATS[spec.needs or ''].title} file",
                file=raw.path,
            )

    frames: list[pd.DataFrame] = []
    rejected: list[pd.DataFrame] = []
    masked: dict[str, int] = {}
    out_of_range: dict[str, int] = {}
    rows_read = 0
    for raw, spec, text in others:
        if spec.name == "taobao" and item_reports:
            items = pd.concat([t[2] for t in item_reports], ignore_index=True)
            # Both reports' ids read exactly as normalise reads them (guards
            # stripped, nothing else), so the join key is the id byte for byte.
            items["order_id"] = strip_guard(items["order_id"])
            keyed = text.copy()
            keyed["order_id"] = strip_guard(keyed["order_id"])
            keyed["_row"] = _row_numbers(raw)
            text = _join_taobao_items(keyed, items)
            row_numbers = text.pop("_row").to_numpy()
            original = None
        else:
            row_numbers = _row_numbers(raw)
            original = raw.frame
        rows_read += len(text)
        result = normalise(
            text,
            str(raw.path),
            row_numbers,
            amounts_repeat_per_line=spec.order_amounts_repeat,
            original=original,
            truncated_last_row=raw.truncated_last_row and original is not None,
        )
        frames.append(result.frame)
        rejected.append(result.rejected)
        for column, count in result.masked.items():
            masked[column] = masked.get(column, 0) + count
        for column, count in result.out_of_range.items():
            out_of_range[column] = out_of_range.get(column, 0) + count
        _check_rejections(
            raw.path, rows_read=len(text), rejected=result.rejected, limit=max_rejected
        )

    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    frame = frame[[c for c in ALL_COLUMNS if c in frame.columns] + [SOURCE_ROW]]
    if since is not None:
        frame = frame[frame["created_at"] >= pd.Timestamp(since)]
    if until is not None:
        frame = frame[frame["created_at"] < pd.Timestamp(until)]
    frame = frame.reset_index(drop=True)
    all_rejected = pd.concat(
        [r for r in rejected if not r.empty] or [rejected[0]], ignore_index=True
    )
    formats = sorted({spec.name for _, spec, _ in texts})
    table = OrderTable(
        frame=frame,
        rejected=all_rejected,
        format="+".join(formats),
        files=[Path(p) for p in paths],
        masked=masked,
        rows_read=rows_read,
        out_of_range_dates=out_of_range,
    )
    for column, count in out_of_range.items():
        log.warning(
            "%d %s value(s) outside the readable date range (placeholders such as "
            "9999-12-31) read as missing",
            count,
            column,
        )
    if not all_rejected.empty:
        log.warning("%d row(s) quarantined with their reasons", len(all_rejected))
    return table


def _check_rejections(path: Path, rows_read: int, rejected: pd.DataFrame, limit: float) -> None:
    if rows_read == 0:
        raise InputError("no order rows (the file has a header but no data)", file=path, row=2)
    if rejected.empty:
        return
    share = len(rejected) / rows_read
    if len(rejected) == rows_read or share > limit:
        first = rejected.iloc[0]
        value = "" if pd.isna(first["value"]) else f" {first['value']!r}"
        raise InputError(
            f"{first['reason']}{value} — {len(rejected)} of {rows_read} rows are bad "
            f"({share:.0%}, limit {limit:.0%}): wrong format or a damaged file?",
            file=path,
            row=int(first["row"]),
            column=str(first["column"]),
        )
