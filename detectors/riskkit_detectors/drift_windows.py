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
    has_values,
    money,
    normalised_text,
    province_of,
    timestamps,
)

__all__ = ["EncodedOrders", "FeatureCounts", "WindowedOrders", "count_windows", "encode_orders"]

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
    codes, uniques = pd.factorize(labels, sort=True)
    return codes.astype(np.int64), [str(u) for u in uniques]


def encode_orders(
    frame: pd.DataFrame, window: pd.Timedelta, set_aside: np.ndarray | None = None
) -> EncodedOrders:
    """Encode the canonical order frame, order by order (see :class:`EncodedOrders`).

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
    orders = frame.loc[first_line, order_level]  # only what is read per order: a cheaper take
    order_created = created[first_line]
    first_at, last_at = created.min(), created.max()
    origin = first_at.floor("D")  # windows align to midnight, so hours line up across days
    n_windows = int((last_at - origin) // window) + 1
    index = ((order_created - origin) // window).to_numpy(dtype=np.int64)
    starts = pd.DatetimeIndex([origin + window * i for i in range(n_windows)])

    features: list[EncodedFeature] = []
    unavailable: dict[str, str] = {}
    for column in ("channel", "platform"):
        if has_values(orders, column):
            codes, labels = _codes(normalised_text(orders[column]))
            features.append(EncodedFeature(column, "categorical", codes, labels))
        else:
            unavailable[column] = f"the export has no {column} values"

    if window > pd.Timedelta(hours=1):
        hours = order_created.dt.hour.to_numpy(dtype=np.int64)
        features.append(
            EncodedFeature("hour_of_day", "categorical", hours, [f"{h:02d}" for h in range(24)])
        )
    else:
        unavailable["hour_of_day"] = "windows of one hour or less have no hour-of-day profile"

    if has_values(orders, "buyer_registered_at"):
        registered = timestamps(orders, "buyer_registered_at", strict=False)
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

    basket = _basket_values(frame, order_codes, n_orders)
    if basket is not None:
        known = np.isfinite(basket) & (basket >= 0)
        logged = np.log1p(np.where(known, basket, 0.0))
        top = float(np.quantile(logged[known], 0.999)) if known.any() else 1.0
        edges = np.linspace(0.0, max(top, 1e-6) * 1.05, BASKET_BINS + 1)
        bins = np.clip(np.searchsorted(edges, logged, side="right") - 1, 0, BASKET_BINS - 1)
        features.append(
            EncodedFeature(
                "basket_value",
                "numeric",
                np.where(known, bins, -1).astype(np.int64),
                [],
                edges=edges,
                description="order value before coupons, compared on a log scale",
            )
        )
    else:
        unavailable["basket_value"] = "the export has neither unit prices nor amounts paid"

    if has_values(orders, "ship_address"):
        province = province_of(orders["ship_address"])
        share = float(province.notna().mean())
        if share >= MIN_PROVINCE_PARSE_SHARE:
            codes, labels = _codes(province)
            features.append(EncodedFeature("province", "categorical", codes, labels))
        else:
            unavailable["province"] = (
                f"only {share:.0%} of shipping addresses name a Chinese province "
                "(masked or non-Chinese addresses)"
            )
    else:
        unavailable["province"] = "the export has no shipping addresses"

    coupon = _coupon_used(frame, order_codes, n_orders)
    if coupon is not None:
        features.append(
            EncodedFeature("coupon_use", "categorical", coupon.astype(np.int64), ["none", "coupon"])
        )
    else:
        unavailable["coupon_use"] = "the export has no coupon codes or discount amounts"

    shop: np.ndarray | None = None
    shops: list[str] = []
    if has_values(orders, "shop_id"):
        shop, shops = _codes(orders["shop_id"].astype("string"))
    return EncodedOrders(
        index, starts, window, aside, features, unavailable, shop, shops, first_at, last_at
    )


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
    frame: pd.DataFrame, order_codes: np.ndarray, n_orders: int
) -> np.ndarray | None:
    """Order value before coupons (sum of unit price x quantity), else amount paid."""
    if has_values(frame, "unit_price"):
        price = money(frame, "unit_price").to_numpy()
        quantity = (
            money(frame, "quantity").fillna(1.0).to_numpy()
            if "quantity" in frame.columns
            else np.ones(len(frame))
        )
        line = price * quantity
    elif has_values(frame, "amount_paid"):
        line = money(frame, "amount_paid").to_numpy()
    else:
        return None
    known = np.isfinite(line)
    total = np.bincount(order_codes[known], weights=line[known], minlength=n_orders)
    seen = np.bincount(order_codes[known], minlength=n_orders) > 0
    return np.where(seen, total, np.nan)


def _coupon_used(frame: pd.DataFrame, order_codes: np.ndarray, n_orders: int) -> np.ndarray | None:
    """Per order: a coupon code on any line or a positive discount amount."""
    used = np.zeros(len(frame), dtype=bool)
    available = False
    if has_values(frame, "coupon_code"):
        available = True
        used |= normalised_text(frame["coupon_code"]).notna().to_numpy()
    if has_values(frame, "discount_amount"):
        available = True
        used |= (money(frame, "discount_amount").fillna(0.0) > 0).to_numpy()
    if not available:
        return None
    return np.bincount(order_codes, weights=used.astype(float), minlength=n_orders) > 0
