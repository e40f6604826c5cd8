"""Links between redeeming accounts that share no device, IP or phone.

A coupon farm that resets device ids and rotates residential proxies still
registers its accounts in one sitting and ships to one locker.  These keys
link redemptions at one shop that were registered (or, without registration
times, placed) within the same window, or shipped to one parcel station; the
lines of evidence then weigh them against the export's background.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskkit_detectors.coupon_features import AccountFacts
from riskkit_detectors.identity import IdentityKey
from riskkit_detectors.order_view import OrderView

__all__ = ["redemption_batch_keys", "shop_codes", "station_redemption_key"]


def shop_codes(view: OrderView) -> np.ndarray:
    """Per order: its shop's code (a missing shop is one shop, ``<none>``)."""
    codes, _ = pd.factorize(view.orders["shop_id"].astype("object").fillna("<none>"))
    return np.asarray(codes, dtype=np.int64)


def redemption_batch_keys(
    view: OrderView, buyer: np.ndarray, facts: AccountFacts, window_seconds: float, cap: int
) -> list[IdentityKey]:
    """Redemptions at one shop whose accounts were registered in one window.

    Two grids half a window apart keep a batch that straddles a boundary.
    A window with more than ``cap`` accounts (a live-stream's rush) links no one.
    """
    redeem = facts.redeem_order
    # Without registration times the window would be of first orders: at a
    # busy shop every hour holds several discounted first orders, and such
    # windows would chain half the export together.
    if not redeem.any() or not np.isfinite(facts.registered_at).any():
        return []
    times = facts.registered_at[buyer]
    times = np.where(np.isfinite(times), times, facts.first_order_at[buyer])
    usable = redeem & np.isfinite(times)
    shop_names = view.orders["shop_id"].astype("object").fillna("<none>").to_numpy()
    origin = view.orders["created_at"].min()
    what = "registered" if np.isfinite(facts.registered_at).any() else "first ordering"
    keys: list[IdentityKey] = []
    for shift, kind in ((0.0, "redeem_batch"), (0.5, "redeem_batch_shifted")):
        bucket = np.floor(np.nan_to_num(times) / window_seconds + shift).astype(np.int64)
        frame = pd.DataFrame({"shop": shop_names[usable], "bucket": bucket[usable]})
        codes, values = pd.factorize(pd.MultiIndex.from_frame(frame))
        all_codes = np.full(len(usable), -1, dtype=np.int64)
        all_codes[usable] = np.asarray(codes, dtype=np.int64)
        labels = [
            f"at shop {shop} by accounts {what} from "
            f"{origin + pd.Timedelta(seconds=(float(start) - shift) * window_seconds):%Y-%m-%d %H:%M}"
            for shop, start in values
        ]
        keys.append(
            IdentityKey(kind, buyer, all_codes, pd.Index(labels), cap, counts_toward_degree=False)
        )
    return keys


def station_redemption_key(
    view: OrderView,
    buyer: np.ndarray,
    facts: AccountFacts,
    station: np.ndarray,
    station_names: pd.Index,
    cap: int,
) -> list[IdentityKey]:
    """Redemptions at one shop shipped to one parcel station or locker."""
    usable = facts.redeem_order & (station >= 0)
    if not usable.any():
        return []
    shop = shop_codes(view)
    pair = np.where(usable, shop * (len(station_names) + 1) + station, -1)
    codes, values = pd.factorize(pair[usable])
    all_codes = np.full(len(pair), -1, dtype=np.int64)
    all_codes[usable] = codes
    names = pd.Index(
        [str(station_names[int(v) % (len(station_names) + 1)]) for v in values], dtype=object
    )
    return [IdentityKey("station_redeem", buyer, all_codes, names, cap)]
