"""``write_dataset``: a generated marketplace as platform export files plus ground truth."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import yaml

from riskkit.atomic import write_text
from riskkit.errors import UsageError
from riskkit.orders.schema import ALL_COLUMNS, COLUMN_KIND
from riskkit.synth.config import SynthConfig
from riskkit.synth.csvout import (
    CHUNK_ROWS,
    money_text,
    text_column,
    timestamp_text,
    write_csv_chunks,
    write_csv_columns,
)
from riskkit.synth.generate import SynthData, generate
from riskkit.synth.platforms import shopify_export, taobao_export

__all__ = [
    "FORMATS",
    "LABEL_FILES",
    "WORLDS",
    "canonical_columns",
    "readme_text",
    "summarise",
    "write_dataset",
    "write_labels",
]

FORMATS: tuple[str, ...] = ("riskkit", "shopify", "taobao")
WORLDS: tuple[str, ...] = ("standard", "adversarial")
LABEL_FILES: tuple[str, ...] = (
    "labels.csv",
    "labels_drift.csv",
    "labels_price.csv",
    "labels_groups.csv",
    "promotions.yaml",
    "README.txt",
)


PLAIN_KINDS = frozenset({"timestamp", "money", "integer", "number"})


def canonical_columns(orders: pd.DataFrame) -> dict[str, pa.Array]:
    """The canonical frame as CSV text columns (timestamps to the second, money to the cent)."""
    out: dict[str, pa.Array] = {}
    for name in ALL_COLUMNS:
        kind = COLUMN_KIND[name]
        if kind == "timestamp":
            out[name] = timestamp_text(orders[name])
        elif kind == "money":
            out[name] = money_text(orders[name])
        elif kind == "number":
            out[name] = text_column(orders[name].astype("Int64"))
        else:
            out[name] = text_column(orders[name])
    return out


def _frame_columns(frame: pd.DataFrame) -> dict[str, pa.Array]:
    return {str(name): text_column(frame[name].astype("str")) for name in frame.columns}


def write_labels(out_dir: Path, data: SynthData, order_ids: pd.Series, fmt: str) -> list[str]:
    """Ground-truth files; ``order_ids`` are the ids as that format's export shows them."""
    labels = data.labels.assign(order_id=order_ids.to_numpy())
    write_csv_columns(out_dir / "labels.csv", _frame_columns(labels))
    write_csv_columns(out_dir / "labels_drift.csv", _frame_columns(data.drift))
    write_csv_columns(out_dir / "labels_price.csv", _frame_columns(data.price))
    write_csv_columns(out_dir / "labels_groups.csv", _frame_columns(data.groups))
    calendar = {"promotions": data.promotions}
    write_text(
        out_dir / "promotions.yaml",
        yaml.safe_dump(calendar, allow_unicode=True, sort_keys=False, width=120),
    )
    write_text(out_dir / "README.txt", readme_text(fmt, data))
    return list(LABEL_FILES)


def _write_riskkit(out_dir: Path, data: SynthData) -> tuple[list[str], pd.Series]:
    plain = [name for name in ALL_COLUMNS if COLUMN_KIND[name] in PLAIN_KINDS]
    orders = data.orders
    chunks = (
        canonical_columns(orders.iloc[start : start + CHUNK_ROWS])
        for start in range(0, len(orders), CHUNK_ROWS)
    )
    write_csv_chunks(out_dir / "orders.csv", ALL_COLUMNS, chunks, raw=plain)
    return ["orders.csv"], data.labels["order_id"]


Writer = Callable[[Path, SynthData], tuple[list[str], pd.Series]]
_WRITERS: dict[str, Writer] = {
    "riskkit": _write_riskkit,
    "shopify": shopify_export,
    "taobao": taobao_export,
}


def write_dataset(
    out_dir: Path,
    rows: int,
    seed: int,
    fmt: str,
    config: SynthConfig | None = None,
    world: str = "standard",
) -> dict[str, Any]:
    """Generate ``rows`` order lines and write them as ``fmt`` with the label files.

    ``world`` is ``standard`` (:func:`riskkit.synth.generate`) or
    ``adversarial`` (:func:`riskkit.synth.adversarial.generate_adversarial`,
    which takes no ``config``). Returns a JSON-able summary: files written,
    line/order counts, labels and injected groups by kind.
    """
    if fmt not in _WRITERS:
        raise UsageError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if world not in WORLDS:
        raise UsageError(f"unknown world {world!r}; choose one of {', '.join(WORLDS)}")
    if world == "adversarial" and config is not None:
        raise UsageError("the adversarial world has no SynthConfig; leave config out")
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"--out {out_dir} exists and is not a folder")
    if world == "adversarial":
        from riskkit.synth.adversarial import generate_adversarial

        data = generate_adversarial(rows, seed)
    else:
        data = generate(rows, seed, config)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        files, order_ids = _WRITERS[fmt](out_dir, data)
        files += write_labels(out_dir, data, order_ids, fmt)
    except OSError as exc:
        raise UsageError(f"cannot write to {out_dir}: {exc.strerror or exc}") from None
    return summarise(data, out_dir, files, fmt)


def summarise(data: SynthData, out_dir: Path, files: list[str], fmt: str) -> dict[str, Any]:
    groups = data.groups
    return {
        "format": fmt,
        "world": str(data.stats.get("world", "standard")),
        "seed": data.seed,
        "out_dir": str(out_dir),
        "files": files,
        "rows": len(data.orders),
        "orders": len(data.labels),
        "buyers": int(data.stats["buyers"]),
        "orders_by_label": {str(k): int(v) for k, v in data.labels["label"].value_counts().items()},
        "groups_by_kind": {str(k): int(v) for k, v in groups["kind"].value_counts().items()},
        "ring_accounts_by_kind": {
            str(k): int(v) for k, v in groups.groupby("kind")["accounts"].sum().items()
        },
        "lookalike_orders": {
            str(k): int(v)
            for k, v in data.labels["lookalike"].value_counts().items()
            if str(k) != ""
        },
        "drift_windows": len(data.drift),
        "price_rules_by_kind": {
            str(k): int(v) for k, v in data.price["kind"].value_counts().items()
        },
        "promotions": len(data.promotions),
    }


STANDARD_LOOKALIKES = (
    "family_address, cgnat_ip, parcel_locker, double11_rush, loyal_repeat,\n"
    "new_user_coupon, flash_sale"
)
ADVERSARIAL_LOOKALIKES = (
    "live_stream_newcomer, gift_sender, bulk_buyer, office_reception,\n"
    "student_dorm, family_address, pickup_station, new_account, quick_review,\n"
    "next_day_delivery, cgnat_ip, batch_waybill"
)


def readme_text(fmt: str, data: SynthData) -> str:
    main = {
        "riskkit": "orders.csv          canonical riskkit columns, one row per order line (UTF-8)",
        "shopify": "orders_export.csv   Shopify orders export; extra line items repeat Name (UTF-8)",
        "taobao": (
            "taobao_orders.csv   Taobao/Tmall 订单报表, one row per order (GB18030)\n"
            "taobao_items.csv    Taobao/Tmall 宝贝报表, one row per item, join on 订单编号 (GB18030)"
        ),
    }[fmt]
    adversarial = data.stats.get("world") == "adversarial"
    world = "the adversarial world (--world adversarial)" if adversarial else "the standard world"
    period = str(data.stats.get("period", "2026-09-28 .. 2026-11-22"))
    lookalikes = ADVERSARIAL_LOOKALIKES if adversarial else STANDARD_LOOKALIKES
    calendar = "双11 and live-stream nights" if adversarial else "双11 and evening flash sales"
    return f"""Synthetic marketplace generated by `riskkit orders synth` (seed {data.seed}), {world}.
All data is invented. Period {period}, shop-local time (UTC+8).

{main}
labels.csv          order_id, label (honest|brushing|coupon_abuse), group_id, lookalike
                    one row per order; order_id exactly as in the export
labels_groups.csv   one row per injected ring: group_id, kind, shop_id, sku_ids,
                    window_start, window_end, accounts, signals
labels_drift.csv    window_start, window_end, scope (shop id or "all"), feature, description
labels_price.csv    sku_id, attribute, cohort, reference_cohort, kind
                    (discriminated | flash_sale_trap)
promotions.yaml     promotions calendar ({calendar}) for --calendar
README.txt          this file

Look-alikes are honest orders that resemble fraud and must not be flagged:
{lookalikes}. See docs/synth.md for the full contract.
"""
