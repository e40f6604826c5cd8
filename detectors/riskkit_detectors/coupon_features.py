"""Per-account facts of coupon abuse (薅羊毛).

An abuse ring registers a batch of fresh accounts within minutes, each places
one order just over the new-user coupon's threshold, redeems the coupon and
is never used again.  Per account: when it was registered, its first order,
how many orders it placed, whether it redeemed a new-user coupon, on what
order value, and whether it came back afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskkit_detectors.order_view import OrderView, known, order_discount

__all__ = ["AccountFacts", "account_facts", "new_user_coupons"]

DAY = 86_400.0
# Accounts on one exact registration second beyond which it is a placeholder
# (the identity links' default cap: a value shared wider links no one).
_PLACEHOLDER_ACCOUNTS = 50


@dataclass
class AccountFacts:
    """Arrays indexed by buyer code; ``redeemed_order`` is -1 without redemption."""

    first_order_at: np.ndarray  # seconds since the export's first order
    registered_at: np.ndarray  # seconds, NaN when unknown
    n_orders: np.ndarray
    redeemed: np.ndarray
    order_value: np.ndarray  # value before discount of the redemption order
    near_threshold: np.ndarray
    near_threshold_order: np.ndarray  # per order: a redemption just over the threshold
    redeem_order: np.ndarray  # per order: it redeemed a new-user coupon
    churned: np.ndarray  # no order after the redemption (known only with time left)
    churn_known: np.ndarray
    coupons: list[str]
    threshold: float
    unavailable: dict[str, str]


def _seconds(series: pd.Series, origin: pd.Timestamp) -> np.ndarray:
    return np.asarray((series - origin).dt.total_seconds(), dtype=float)


def new_user_coupons(codes: pd.Series, is_first_order: np.ndarray, min_share: float) -> list[str]:
    """Codes redeemed almost only on an account's first order: new-user coupons."""
    used = codes.notna() & (codes.astype("str").str.strip() != "")
    if not used.any():
        return []
    frame = pd.DataFrame({"code": codes[used].astype("str"), "first": is_first_order[used]})
    stats = frame.groupby("code")["first"].agg(["mean", "size"])
    picked = stats[(stats["mean"] >= min_share) & (stats["size"] >= 5)]
    return sorted(str(c) for c in picked.index)


def account_facts(
    view: OrderView,
    buyer: np.ndarray,
    n_buyers: int,
    coupon_codes: tuple[str, ...] | None,
    near_threshold_ratio: float,
    churn_days: float,
) -> AccountFacts:
    orders = view.orders
    unavailable: dict[str, str] = {}
    created = orders["created_at"]
    origin = created.min() if len(orders) else pd.Timestamp(0)
    t = _seconds(created, origin)
    end = np.nanmax(t) if len(t) else 0.0
    order_rank = pd.Series(t).groupby(buyer).rank(method="first").to_numpy()
    is_first = order_rank == 1
    first_at = np.full(n_buyers, np.nan)
    first_at[buyer[is_first]] = t[is_first]
    n_orders = np.bincount(buyer, minlength=n_buyers)

    registered = np.full(n_buyers, np.nan)
    if known(orders["buyer_registered_at"]):
        reg = _seconds(orders["buyer_registered_at"], origin)
        registered[buyer[is_first]] = reg[is_first]
        # One exact second shared by more accounts than any batch holds is an
        # export's placeholder (accounts older than the system, a default),
        # not a registration time.
        values, counts = np.unique(registered[np.isfinite(registered)], return_counts=True)
        placeholders = values[counts > _PLACEHOLDER_ACCOUNTS]
        if len(placeholders):
            registered[np.isin(registered, placeholders)] = np.nan
    else:
        unavailable["registration_burst"] = (
            "no buyer_registered_at column: bursts are measured on first orders instead"
        )

    value = orders["amount"].to_numpy(dtype=float)
    coupon = orders["coupon_code"]
    discount = order_discount(view)
    if known(coupon):
        codes = (
            list(coupon_codes)
            if coupon_codes is not None
            else new_user_coupons(coupon, is_first, min_share=0.9)
        )
        redeem_order = np.asarray(coupon.astype("str").isin(codes).fillna(False), dtype=bool)
    else:
        # No coupon column (Taobao): the discount's amount stands in for the
        # code -- an amount given almost only on first orders is a new-user
        # coupon's face value (a store-wide ¥15 off ¥150 is given on any
        # order).  Without one, any discounted first order stands in.
        amount = pd.Series(np.round(np.nan_to_num(discount), 2))
        off = amount.where(amount > 0.005).map(lambda v: f"¥{v:.2f} off a first order")
        codes = new_user_coupons(off.astype("object"), is_first, min_share=0.9)
        if codes:
            redeem_order = np.asarray(off.isin(codes).to_numpy(), dtype=bool)
        else:
            redeem_order = is_first & (discount > 0.005)
        unavailable["coupon_code"] = (
            "no coupon_code column: a discount given almost only on first orders "
            "(else any discounted first order) stands in for a new-user coupon"
        )
    gross = value + np.nan_to_num(discount)
    # Only known order values: an all-missing slice has no percentile (and warns).
    redeemed_gross = gross[redeem_order]
    redeemed_gross = redeemed_gross[~np.isnan(redeemed_gross)]
    threshold = float(np.percentile(redeemed_gross, 2)) if len(redeemed_gross) else np.nan
    # Just over the threshold: within the ratio of it, or so close that the
    # coupon brings the payment under the threshold itself (a basket sized to
    # the coupon, whatever its face value).
    sized = (gross <= threshold * near_threshold_ratio) | (value < threshold)
    near = redeem_order & (gross >= threshold) & sized

    redeemed = np.zeros(n_buyers, dtype=bool)
    redeemed[buyer[redeem_order]] = True
    order_value = np.full(n_buyers, np.nan)
    order_value[buyer[redeem_order]] = gross[redeem_order]
    near_acc = np.zeros(n_buyers, dtype=bool)
    near_acc[buyer[near]] = True
    redeemed_at = np.full(n_buyers, np.nan)
    redeemed_at[buyer[redeem_order]] = t[redeem_order]
    last_at = np.full(n_buyers, -np.inf)
    np.maximum.at(last_at, buyer, t)
    churn_known = redeemed & (end - redeemed_at >= churn_days * DAY)
    churned = churn_known & (last_at <= redeemed_at)
    return AccountFacts(
        first_order_at=first_at,
        registered_at=registered,
        n_orders=n_orders,
        redeemed=redeemed,
        order_value=order_value,
        near_threshold=near_acc,
        near_threshold_order=near,
        redeem_order=redeem_order,
        churned=churned,
        churn_known=churn_known,
        coupons=codes,
        threshold=threshold,
        unavailable=unavailable,
    )
