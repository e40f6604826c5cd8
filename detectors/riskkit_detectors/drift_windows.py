"""Bin an order stream into time windows: one count vector per window and feature.

Every feature becomes a matrix ``counts[window, category]`` built with a
single ``np.bincount``; the drift tests then only touch these small
matrices.  Features are order-level (the first line of each order carries
the order's channel, platform, address ...; the basket value is the sum of
its lines).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from riskkit_detectors.drift_features import (
    money,
    normalised_text,
    province_of,
    timestamps,
)

__all__ = [
    "EncodedOrders",
    "FeatureCounts",
    "OrderLines",
    "WindowPlan",
    "WindowedOrders",
    "basket_edges",
    "basket_logs",
    "basket_source",
    "count_windows",
    "encode_orders",
    "order_lines",
]

BASKET_BINS = 60
# Orders placed within this many days of the account's registration count as
# orders from new accounts (bursts of fresh accounts are a classic bot signal).
NEW_ACCOUNT_DAYS = 7.0
# A Chinese-address share below this means the addresses are not Chinese (or
# are masked): the province feature would describe the parser, not the buyers.
MIN_PROVINCE_PARSE_SHARE = 0.5
_ORDER_COLUMNS = ("shop_id", "channel", "platform", "buyer_registered_at", "ship_address")
_USED_COLUMNS = (
    "order_id",
    "buyer_id",
    "created_at",
    "shop_id",
    "channel",
    "platform",
    "buyer_registered_at",
    "ship_address",
    "unit_price",
    "quantity",
    "amount_paid",
    "coupon_code",
    "discount_amount",
)


@dataclass
class FeatureCounts:
    """Counts of one feature per window.

    ``kind`` is ``categorical`` (``labels`` name the columns) or ``numeric``
    (a histogram over ``edges``, in the ``transform`` space).
    """

    name: str
    kind: str
    counts: np.ndarray
    labels: list[str] = field(default_factory=list)
    edges: np.ndarray | None = None
    description: str = ""


@dataclass
class WindowedOrders:
    """The order stream cut into windows of equal length."""

    starts: pd.DatetimeIndex
    window: pd.Timedelta
    orders: np.ndarray
    features: dict[str, FeatureCounts]
    unavailable: dict[str, str]
    first_order_at: pd.Timestamp
    last_order_at: pd.Timestamp
    set_aside: np.ndarray  # per window: orders of declared SKU promotions left out

    @property
    def ends(self) -> pd.DatetimeIndex:
        return self.starts + self.window


@dataclass
class EncodedFeature:
    """One feature as a code per order (``-1`` unknown)."""

    name: str
    kind: str
    codes: np.ndarray
    labels: list[str]
    edges: np.ndarray | None = None
    description: str = ""


@dataclass
class EncodedOrders:
    """Every order (first line) encoded once: window number, shop and feature codes.

    Scopes (the whole marketplace, one shop) only count these codes, so a
    run over many shops never touches the text columns again.
    """

    window_index: np.ndarray
    starts: pd.DatetimeIndex
    window: pd.Timedelta
    set_aside: np.ndarray
    features: list[EncodedFeature]
    unavailable: dict[str, str]
    shop: np.ndarray | None
    shops: list[str]
    first_order_at: pd.Timestamp
    last_order_at: pd.Timestamp


def _codes(labels: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Codes of ``labels`` and the labels in plain string order.

    Plain string order, not the order categories were met in: partitions
    meet labels in different orders, and their counts must line up when
    they are added (:func:`riskkit_detectors.drift_partitions.merge_windowed`).
    """
    if isinstance(labels.dtype, pd.CategoricalDtype):
        categories = labels.cat.categories
        labels = labels.cat.reorder_categories(sorted(categories, key=str))
    codes, uniques = pd.factorize(labels, sort=True)
    return codes.astype(np.int64), [str(u) for u in uniques]


@dataclass
class OrderLines:
    """The lines with an order time, and each order's first line."""

    frame: pd.DataFrame
    order_codes: np.ndarray
    n_orders: int
    orders: pd.DataFrame
    order_created: pd.Series
    aside: np.ndarray  # per order: a line of a declared SKU promotion
    first_at: pd.Timestamp | None
    last_at: pd.Timestamp | None


def order_lines(frame: pd.DataFrame, set_aside: np.ndarray | None = None) -> OrderLines:
    """Lines that can sit in a window, grouped into orders (first line each).

    ``set_aside`` marks lines of a declared SKU promotion: their orders are
    counted apart and left out of every feature.
    """
    frame = frame[[c for c in _USED_COLUMNS if c in frame.columns]]
    created = timestamps(frame, "created_at")
    if created.isna().any():  # lines without a time cannot sit in a window
        known_time = created.notna().to_numpy()
        frame, created = frame.loc[known_time], created[known_time]
        if set_aside is not None:
            set_aside = set_aside[known_time]
    order_codes, _ = pd.factorize(frame["order_id"])
    first_line = ~pd.Series(order_codes).duplicated().to_numpy()
    # pd.factorize numbers orders by first appearance: code k is the k-th order
    n_orders = int(first_line.sum())
    aside = np.zeros(n_orders, dtype=bool)
    if set_aside is not None and set_aside.any():
        aside = np.bincount(order_codes, weights=set_aside.astype(float), minlength=n_orders) > 0
    order_level = [c for c in _ORDER_COLUMNS if c in frame.columns]
    return OrderLines(
        frame=frame,
        order_codes=order_codes.astype(np.int64),
        n_orders=n_orders,
        orders=frame.loc[first_line, order_level],  # only what is read per order
        order_created=created[first_line],
        aside=aside,
        first_at=created.min() if len(created) else None,
        last_at=created.max() if len(created) else None,
    )


@dataclass
class WindowPlan:
    """What every partition must agree on before counting: the window grid,
    which features exist anywhere in the data, the basket histogram's edges
    and the shops with a scope of their own (busiest first)."""

    window: pd.Timedelta
    origin: pd.Timestamp
    n_windows: int
    first_at: pd.Timestamp
    last_at: pd.Timestamp
    order_columns: frozenset[str]  # order-level columns holding values
    line_columns: frozenset[str]  # line-level columns holding values
    province_share: float
    basket_edges: np.ndarray | None
    shops: list[str]

    @property
    def starts(self) -> pd.DatetimeIndex:
        return pd.DatetimeIndex([self.origin + self.window * i for i in range(self.n_windows)])


def basket_source(line_columns: frozenset[str]) -> str | None:
    """Basket value from unit prices when there are any, else from amounts paid."""
    if "unit_price" in line_columns:
        return "price"
    return "paid" if "amount_paid" in line_columns else None


def basket_logs(lines: OrderLines, source: str) -> np.ndarray:
    """``log1p`` of each order's basket value (NaN when unknown) from ``source``
    (``price`` or ``paid``, see :func:`basket_source`)."""
    basket = _basket_values(lines.frame, lines.order_codes, lines.n_orders, source)
    known = np.isfinite(basket) & (basket >= 0)
    return np.where(known, np.log1p(np.where(known, basket, 0.0)), np.nan)


def basket_edges(logged: np.ndarray) -> np.ndarray:
    """Histogram edges over the known log basket values of the whole data."""
    top = float(np.quantile(logged, 0.999)) if len(logged) else 1.0
    return np.linspace(0.0, max(top, 1e-6) * 1.05, BASKET_BINS + 1)


def encode_orders(lines: OrderLines, plan: WindowPlan) -> EncodedOrders:
    """Encode the orders of ``lines`` on the plan's window grid (see :class:`EncodedOrders`)."""
    orders, order_created = lines.orders, lines.order_created
    index = ((order_created - plan.origin) // plan.window).to_numpy(dtype=np.int64)

    features: list[EncodedFeature] = []
    unavailable: dict[str, str] = {}
    for column in ("channel", "platform"):
        if column in plan.order_columns:
            codes, labels = _codes(normalised_text(_column(orders, column)))
            features.append(EncodedFeature(column, "categorical", codes, labels))
        else:
            unavailable[column] = f"the export has no {column} values"

    if plan.window > pd.Timedelta(hours=1):
        hours = order_created.dt.hour.to_numpy(dtype=np.int64)
        features.append(
            EncodedFeature("hour_of_day", "categorical", hours, [f"{h:02d}" for h in range(24)])
        )
    else:
        unavailable["hour_of_day"] = "windows of one hour or less have no hour-of-day profile"

    if "buyer_registered_at" in plan.order_columns:
        registered = timestamps(
            orders.assign(buyer_registered_at=_column(orders, "buyer_registered_at")),
            "buyer_registered_at",
            strict=False,
        )
        age = (order_created - registered).dt.total_seconds().to_numpy() / 86400
        is_new = np.where(np.isnan(age), -1, (age <= NEW_ACCOUNT_DAYS).astype(np.int64))
        description = f"orders from accounts registered ≤ {NEW_ACCOUNT_DAYS:g} days before"
        features.append(
            EncodedFeature(
                "new_accounts", "categorical", is_new, ["existing", "new"], description=description
            )
        )
    else:
        # A buyer's first order in the export is no substitute: that share falls
        # steadily as the export accumulates history, which reads as drift.
        unavailable["new_accounts"] = (
            "the export has no registration dates (buyer_registered_at); a buyer's first "
            "order in the data is not a new account"
        )

    source = basket_source(plan.line_columns)
    if plan.basket_edges is not None and source is not None:
        logged = basket_logs(lines, source)
        known = np.isfinite(logged)
        bins = np.searchsorted(plan.basket_edges, np.where(known, logged, 0.0), side="right")
        bins = np.clip(bins - 1, 0, BASKET_BINS - 1)
        features.append(
            EncodedFeature(
                "basket_value",
                "numeric",
                np.where(known, bins, -1).astype(np.int64),
                [],
                edges=plan.basket_edges,
                description="order value before coupons, compared on a log scale",
            )
        )
    else:
        unavailable["basket_value"] = "the export has neither unit prices nor amounts paid"

    if "ship_address" in plan.order_columns:
        if plan.province_share >= MIN_PROVINCE_PARSE_SHARE:
            codes, labels = _codes(province_of(_column(orders, "ship_address")))
            features.append(EncodedFeature("province", "categorical", codes, labels))
        else:
            unavailable["province"] = (
                f"only {plan.province_share:.0%} of shipping addresses name a Chinese province "
                "(masked or non-Chinese addresses)"
            )
    else:
        unavailable["province"] = "the export has no shipping addresses"

    coupon = _coupon_used(lines.frame, lines.order_codes, lines.n_orders, plan.line_columns)
    if coupon is not None:
        features.append(
            EncodedFeature("coupon_use", "categorical", coupon.astype(np.int64), ["none", "coupon"])
        )
    else:
        unavailable["coupon_use"] = "the export has no coupon codes or discount amounts"

    shop: np.ndarray | None = None
    if plan.shops:
        shop_labels = _column(orders, "shop_id").astype("string")
        shop = pd.Index(plan.shops).get_indexer(shop_labels.fillna("").to_numpy(dtype=object))
        shop = np.where(shop_labels.notna().to_numpy(), shop, -1).astype(np.int64)
    return EncodedOrders(
        index,
        plan.starts,
        plan.window,
        lines.aside,
        features,
        unavailable,
        shop,
        list(plan.shops),
        plan.first_at,
        plan.last_at,
    )


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    """A column this partition may lack although others have it (all missing)."""
    if name in frame.columns:
        return frame[name]
    return pd.Series(pd.NA, index=frame.index, dtype="string")


def count_windows(encoded: EncodedOrders, rows: np.ndarray | None = None) -> WindowedOrders:
    """Count every feature per window over the orders ``rows`` (default: all)."""
    n_windows = len(encoded.starts)
    window_index = encoded.window_index if rows is None else encoded.window_index[rows]
    aside = encoded.set_aside if rows is None else encoded.set_aside[rows]
    aside_counts = np.bincount(window_index[aside], minlength=n_windows).astype(float)
    kept = ~aside
    index = window_index[kept]
    volume = np.bincount(index, minlength=n_windows).astype(float)
    features: dict[str, FeatureCounts] = {}
    for feature in encoded.features:
        codes = feature.codes if rows is None else feature.codes[rows]
        codes = codes[kept]
        known = codes >= 0
        k = len(feature.labels) if feature.kind == "categorical" else BASKET_BINS
        k = max(k, 1)
        flat = np.bincount(index[known] * k + codes[known], minlength=n_windows * k)
        features[feature.name] = FeatureCounts(
            feature.name,
            feature.kind,
            flat.reshape(n_windows, k).astype(float),
            list(feature.labels),
            edges=feature.edges,
            description=feature.description,
        )
    return WindowedOrders(
        encoded.starts,
        encoded.window,
        volume,
        features,
        dict(encoded.unavailable),
        encoded.first_order_at,
        encoded.last_order_at,
        aside_counts,
    )


def _basket_values(
    frame: pd.DataFrame, order_codes: np.ndarray, n_orders: int, source: str
) -> np.ndarray:
    """Order value before coupons (sum of unit price x quantity) when ``source``
    is ``price``, else the amount paid."""
    if source == "price" and "unit_price" in frame.columns:
        price = money(frame, "unit_price").to_numpy()
        quantity = (
            money(frame, "quantity").fillna(1.0).to_numpy()
            if "quantity" in frame.columns
            else np.ones(len(frame))
        )
        line = price * quantity
    elif source == "paid" and "amount_paid" in frame.columns:
        line = money(frame, "amount_paid").to_numpy()
    else:
        return np.full(n_orders, np.nan)
    known = np.isfinite(line)
    total = np.bincount(order_codes[known], weights=line[known], minlength=n_orders)
    seen = np.bincount(order_codes[known], minlength=n_orders) > 0
    return np.where(seen, total, np.nan)


def _coupon_used(
    frame: pd.DataFrame, order_codes: np.ndarray, n_orders: int, line_columns: frozenset[str]
) -> np.ndarray | None:
    """Per order: a coupon code on any line or a positive discount amount."""
    if not {"coupon_code", "discount_amount"} & line_columns:
        return None
    used = np.zeros(len(frame), dtype=bool)
    if "coupon_code" in line_columns and "coupon_code" in frame.columns:
        used |= normalised_text(frame["coupon_code"]).notna().to_numpy()
    if "discount_amount" in line_columns and "discount_amount" in frame.columns:
        used |= (money(frame, "discount_amount").fillna(0.0) > 0).to_numpy()
    return np.bincount(order_codes, weights=used.astype(float), minlength=n_orders) > 0
