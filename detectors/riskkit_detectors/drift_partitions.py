"""Traffic drift over partitions: scan, plan, count, merge.

The window counts of :mod:`riskkit_detectors.drift_windows` add up across
partitions of the order stream, once every partition agrees on the window
grid, the features that exist anywhere in the data, the basket histogram's
edges and the shops with a scope of their own.  So the detector works in
four steps, each but the plan on one partition at a time:

1. :func:`scan_lines` — the facts a plan needs (time range, columns with
   values, province parse counts, log basket values, orders per shop);
2. :func:`plan_windows` — the plan, from all scans;
3. ``count_windows`` per scope on each partition (the detector's
   ``summarise_partition``);
4. :func:`merge_windowed` — the per-partition counts added up.

A single frame is the one-partition case of the same steps, so the pandas
and Dask engines give the same windows.  Orders must not be split across
partitions (the engine checks).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from riskkit_detectors.drift_features import has_values, province_of
from riskkit_detectors.drift_windows import (
    FeatureCounts,
    OrderLines,
    WindowedOrders,
    WindowPlan,
    basket_edges,
    basket_logs,
    basket_source,
)

__all__ = ["DriftScan", "merge_windowed", "plan_windows", "scan_lines"]

ORDER_COLUMNS = ("shop_id", "channel", "platform", "buyer_registered_at", "ship_address")
LINE_COLUMNS = ("unit_price", "amount_paid", "coupon_code", "discount_amount")


@dataclass
class DriftScan:
    """What one partition tells the plan."""

    first_at: pd.Timestamp | None
    last_at: pd.Timestamp | None
    order_columns: frozenset[str]
    line_columns: frozenset[str]
    orders: int
    provinces_named: int
    basket_source: str | None
    basket_logs: np.ndarray  # the known log basket values under basket_source
    shop_orders: dict[str, int] = field(default_factory=dict)


def scan_lines(lines: OrderLines) -> DriftScan:
    order_columns = frozenset(c for c in ORDER_COLUMNS if has_values(lines.orders, c))
    line_columns = frozenset(c for c in LINE_COLUMNS if has_values(lines.frame, c))
    named = 0
    if "ship_address" in order_columns:
        named = int(province_of(lines.orders["ship_address"]).notna().sum())
    source = basket_source(line_columns)
    logged = basket_logs(lines, source) if source is not None else None
    shops: dict[str, int] = {}
    if "shop_id" in order_columns:
        counts = lines.orders["shop_id"].astype("string").value_counts(dropna=True)
        shops = {str(k): int(v) for k, v in counts.items()}
    return DriftScan(
        first_at=lines.first_at,
        last_at=lines.last_at,
        order_columns=order_columns,
        line_columns=line_columns,
        orders=lines.n_orders,
        provinces_named=named,
        basket_source=source,
        basket_logs=np.zeros(0) if logged is None else logged[np.isfinite(logged)],
        shop_orders=shops,
    )


def plan_windows(
    scans: list[DriftScan],
    window: pd.Timedelta,
    by_shop: bool,
    min_orders: int,
    max_shops: int,
) -> WindowPlan | None:
    """The plan every partition counts by; None when no order has a time."""
    timed = [s for s in scans if s.first_at is not None and s.last_at is not None]
    if not timed:
        return None
    first_at = min(s.first_at for s in timed if s.first_at is not None)
    last_at = max(s.last_at for s in timed if s.last_at is not None)
    origin = first_at.floor("D")  # windows align to midnight, so hours line up across days
    n_windows = int((last_at - origin) // window) + 1
    order_columns = frozenset().union(*(s.order_columns for s in scans))
    line_columns = frozenset().union(*(s.line_columns for s in scans))
    orders = sum(s.orders for s in scans)
    named = sum(s.provinces_named for s in scans)
    source = basket_source(line_columns)
    edges = None
    if source is not None:
        edges = basket_edges(
            np.concatenate([s.basket_logs for s in scans if s.basket_source == source])
        )
    return WindowPlan(
        window=window,
        origin=origin,
        n_windows=n_windows,
        first_at=first_at,
        last_at=last_at,
        order_columns=order_columns,
        line_columns=line_columns,
        province_share=named / orders if orders else 0.0,
        basket_edges=edges,
        shops=_busy_shops(scans, n_windows, min_orders, max_shops) if by_shop else [],
    )


def _busy_shops(
    scans: list[DriftScan], n_windows: int, min_orders: int, max_shops: int
) -> list[str]:
    """Shops busy enough that their average window could be tested, busiest
    first (ties in shop-id order); a cap keeps the run linear in the data."""
    per_shop: dict[str, int] = {}
    for scan in scans:
        for shop, count in scan.shop_orders.items():
            per_shop[shop] = per_shop.get(shop, 0) + count
    if len(per_shop) < 2:
        return []
    busy = [
        (shop, count) for shop, count in per_shop.items() if count / max(n_windows, 1) >= min_orders
    ]
    busy.sort(key=lambda item: (-item[1], item[0]))
    return [shop for shop, _ in busy[:max_shops]]


def merge_windowed(parts: list[WindowedOrders]) -> WindowedOrders:
    """Add up the window counts of one scope over partitions."""
    first = parts[0]
    if len(parts) == 1:
        return first
    features: dict[str, FeatureCounts] = {}
    for name, feature in first.features.items():
        pieces = [p.features[name] for p in parts]
        if all(p.labels == feature.labels for p in pieces):
            labels, counts = list(feature.labels), sum(p.counts for p in pieces)
        else:  # data-derived labels, each partition's in plain string order
            labels = sorted({label for p in pieces for label in p.labels})
            counts = np.zeros((len(first.starts), len(labels)))
            position = {label: k for k, label in enumerate(labels)}
            for piece in pieces:
                columns = [position[label] for label in piece.labels]
                counts[:, columns] += piece.counts
        features[name] = FeatureCounts(
            name,
            feature.kind,
            np.asarray(counts, dtype=float),
            labels,
            edges=feature.edges,
            description=feature.description,
        )
    return WindowedOrders(
        first.starts,
        first.window,
        np.asarray(sum(p.orders for p in parts), dtype=float),
        features,
        dict(first.unavailable),
        first.first_order_at,
        first.last_order_at,
        np.asarray(sum(p.set_aside for p in parts), dtype=float),
    )
