"""One row per order from the canonical one-row-per-line frame.

Detectors score orders, not lines.  Order-level fields are taken from the
order's first line (where the readers put them); amounts are summed over
lines.  Every column a detector may use is present in the view, all-missing
when the export lacks it, and :func:`known` says whether it holds any value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "ItemIndex",
    "OrderView",
    "build_order_view",
    "known",
    "order_discount",
    "seconds_between",
    "text_column",
]

_TIMESTAMPS = (
    "created_at",
    "paid_at",
    "buyer_registered_at",
    "shipped_at",
    "received_at",
    "reviewed_at",
)
_TEXT = (
    "buyer_id",
    "shop_id",
    "sku_id",
    "coupon_code",
    "ip",
    "device_id",
    "ship_name",
    "ship_phone",
    "ship_address",
    "carrier",
    "tracking_no",
    "channel",
)
_NUMBERS = ("review_rating",)


class OrderView:
    """Orders (one row each, positional index 0..n-1) and their line items.

    Attributes
    ----------
    orders
        One row per ``order_id`` in first-seen order.
    lines
        ``order_pos`` (row of ``orders``), ``sku_id``, ``shop_id`` per line.
    """

    def __init__(self, orders: pd.DataFrame, lines: pd.DataFrame) -> None:
        self.orders = orders
        self.lines = lines

    def __len__(self) -> int:
        return len(self.orders)


def text_column(frame: pd.DataFrame, name: str) -> pd.Series:
    """The column as given (absent: all missing).  Blank strings are treated as
    missing where values are factorised (:func:`riskkit_detectors.strings.factorize_text`)."""
    if name not in frame.columns:
        return pd.Series(pd.NA, index=frame.index, dtype="str")
    series = frame[name]
    if series.dtype == object:
        series = series.astype("str")
    return series


def _timestamp_column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name not in frame.columns:
        return pd.Series(pd.NaT, index=frame.index, dtype="datetime64[s]")
    series = frame[name]
    if not pd.api.types.is_datetime64_any_dtype(series.dtype):
        series = pd.to_datetime(series, errors="coerce", format="mixed")
    if getattr(series.dt, "tz", None) is not None:
        series = series.dt.tz_localize(None)
    return series


def _number_column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name not in frame.columns:
        return pd.Series(np.nan, index=frame.index, dtype="float64")
    return pd.to_numeric(frame[name], errors="coerce").astype("float64")


def known(series: pd.Series) -> bool:
    """Whether a column holds at least one value."""
    return bool(series.notna().any())


def seconds_between(start: pd.Series, end: pd.Series) -> np.ndarray:
    """``end - start`` in seconds as float (NaN where either is missing)."""
    delta = end - start
    return np.asarray(delta.dt.total_seconds(), dtype="float64")


def _order_amount(frame: pd.DataFrame, codes: np.ndarray, n_orders: int) -> np.ndarray:
    """What the buyer paid per order: ``amount_paid`` summed over lines, else
    price x quantity minus the discount."""
    paid = _number_column(frame, "amount_paid").to_numpy()
    if np.isfinite(paid).any():
        total = np.bincount(codes, weights=np.nan_to_num(paid), minlength=n_orders)
        has = np.bincount(codes, weights=np.isfinite(paid), minlength=n_orders) > 0
        return np.where(has, total, np.nan)
    price = _number_column(frame, "unit_price").to_numpy()
    quantity = _number_column(frame, "quantity").fillna(1.0).to_numpy()
    discount = np.nan_to_num(_number_column(frame, "discount_amount").to_numpy())
    value = np.nan_to_num(price * quantity) - discount
    total = np.bincount(codes, weights=value, minlength=n_orders)
    has = np.bincount(codes, weights=np.isfinite(price), minlength=n_orders) > 0
    return np.where(has, total, np.nan)


def _order_discount(
    frame: pd.DataFrame, codes: np.ndarray, n_orders: int, amount: np.ndarray
) -> np.ndarray:
    """Discount per order: the export's own, else list value minus what was paid."""
    given = _number_column(frame, "discount_amount").to_numpy()
    if np.isfinite(given).any():
        return np.bincount(codes, weights=np.nan_to_num(given), minlength=n_orders)
    price = _number_column(frame, "unit_price").to_numpy()
    if not np.isfinite(price).any():
        return np.zeros(n_orders)
    quantity = _number_column(frame, "quantity").fillna(1.0).to_numpy()
    gross = np.bincount(codes, weights=np.nan_to_num(price * quantity), minlength=n_orders)
    return np.clip(np.nan_to_num(gross - amount), 0.0, None)


def order_discount(view: OrderView) -> np.ndarray:
    return np.asarray(view.orders["discount"].to_numpy(dtype=float))


def build_order_view(frame: pd.DataFrame) -> OrderView:
    """Collapse order lines into orders (vectorised; no loop over orders)."""
    frame = frame.reset_index(drop=True)
    codes, uniques = pd.factorize(frame["order_id"] if len(frame) else pd.Series([], dtype="str"))
    codes = codes.astype(np.int64)
    n_orders = len(uniques)
    _, first_index = np.unique(codes, return_index=True)
    single_line = len(first_index) == len(frame)
    needed = [c for c in (*_TEXT, *_TIMESTAMPS, *_NUMBERS) if c in frame.columns]
    head = frame if single_line else frame[needed].take(np.sort(first_index)).reset_index(drop=True)
    data: dict[str, pd.Series] = {"order_id": pd.Series(uniques, dtype="str")}
    for name in _TEXT:
        data[name] = text_column(head, name)
    for name in _TIMESTAMPS:
        data[name] = _timestamp_column(head, name)
    for name in _NUMBERS:
        data[name] = _number_column(head, name)
    orders = pd.DataFrame(data)
    orders["amount"] = _order_amount(frame, codes, n_orders)
    orders["discount"] = _order_discount(frame, codes, n_orders, orders["amount"].to_numpy())
    orders["n_lines"] = np.bincount(codes, minlength=n_orders)
    lines = pd.DataFrame(
        {
            "order_pos": codes,
            "sku_id": text_column(frame, "sku_id"),
            "shop_id": text_column(frame, "shop_id"),
        }
    )
    return OrderView(orders, lines)


class ItemIndex:
    """Items (shop + SKU) as integer codes per line, and their readable labels."""

    def __init__(self, view: OrderView) -> None:
        from riskkit_detectors.strings import factorize_text

        self._shop = factorize_text(view.lines["shop_id"])
        self._sku = factorize_text(view.lines["sku_id"])
        self._width = len(self._sku) + 1
        combined = (self._shop.codes + 1) * self._width + (self._sku.codes + 1)
        self._combined, inverse = np.unique(combined, return_inverse=True)
        self.codes = inverse.astype(np.int64)

    def __len__(self) -> int:
        return len(self._combined)

    def __getitem__(self, code: int) -> str:
        shop, sku = divmod(int(self._combined[code]), self._width)
        shop_text = self._shop.value(shop - 1) if shop > 0 else ""
        sku_text = self._sku.value(sku - 1) if sku > 0 else ""
        return f"{sku_text} (shop {shop_text})" if shop_text else sku_text
