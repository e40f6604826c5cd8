"""Knobs of the synthetic marketplace and the fixed vocabularies it draws from."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from riskkit.errors import UsageError

__all__ = [
    "CARRIERS",
    "CHANNELS",
    "COUPONS",
    "LABELS",
    "LOOKALIKES",
    "NEW_USER_COUPON",
    "PLATFORMS",
    "TIERS",
    "SynthConfig",
]

PLATFORMS: tuple[str, ...] = ("ios", "android", "web", "mini_program")
IOS, ANDROID, WEB, MINI = 0, 1, 2, 3
CHANNELS: tuple[str, ...] = ("search", "recommend", "live_stream", "affiliate", "direct")
AFFILIATE = 3
TIERS: tuple[str, ...] = ("normal", "silver", "gold", "platinum")
GOLD = 2
LABELS: tuple[str, ...] = ("honest", "brushing", "coupon_abuse")
HONEST, BRUSHING, COUPON_ABUSE = 0, 1, 2
# Priority order: an order that is several look-alikes at once gets the first that applies.
LOOKALIKES: tuple[str, ...] = (
    "",
    "new_user_coupon",
    "loyal_repeat",
    "family_address",
    "parcel_locker",
    "flash_sale",
    "double11_rush",
    "cgnat_ip",
)
(
    NO_LOOKALIKE,
    NEW_USER_COUPON_LOOKALIKE,
    LOYAL_REPEAT,
    FAMILY_ADDRESS,
    PARCEL_LOCKER,
    FLASH_SALE,
    DOUBLE11_RUSH,
    CGNAT_IP,
) = range(8)

NEW_USER_COUPON = "NEW30"
# (code, threshold in cents, discount in cents); index 0 means "no coupon".
COUPONS: tuple[tuple[str, int, int], ...] = (
    ("", 0, 0),
    (NEW_USER_COUPON, 9_900, 3_000),
    ("MJ99-10", 9_900, 1_000),
    ("MJ199-20", 19_900, 2_000),
    ("MJ299-40", 29_900, 4_000),
    ("MJ399-60", 39_900, 6_000),
    ("D11-300-50", 30_000, 5_000),
)
NEW30_CODE = 1
D11_COUPON_CODE = 6

# (name, waybill prefix, digits after the prefix)
CARRIERS: tuple[tuple[str, str, int], ...] = (
    ("中通快递", "7", 13),
    ("圆通速递", "YT", 13),
    ("韵达快递", "43", 11),
    ("申通快递", "77", 11),
    ("极兔速递", "JT", 13),
    ("顺丰速运", "SF", 13),
    ("京东物流", "JDX", 12),
    ("邮政EMS", "98", 11),
)
CARRIER_SHARE = np.array([0.26, 0.2, 0.17, 0.1, 0.12, 0.08, 0.04, 0.03])

SECONDS_PER_DAY = 86_400
PERIOD_START = np.datetime64("2026-09-28T00:00:00", "s")
PERIOD_DAYS = 56  # through 2026-11-22
DOUBLE11_DAY = int((np.datetime64("2026-11-11") - np.datetime64("2026-09-28")).astype(int))
DOUBLE11_START = (DOUBLE11_DAY - 1) * SECONDS_PER_DAY + 20 * 3600  # 2026-11-10 20:00
DOUBLE11_END = (DOUBLE11_DAY + 1) * SECONDS_PER_DAY  # 2026-11-12 00:00
# The export is taken at the end of the period: later receipts/reviews have not happened yet.
EXPORT_AT = PERIOD_DAYS * SECONDS_PER_DAY


@dataclass(frozen=True)
class SynthConfig:
    """Rates and sizes of the synthetic marketplace.

    Parameters
    ----------
    brushing_order_share
        Target share of orders that belong to brushing rings (at least
        ``min_groups`` rings are always injected).
    coupon_abuse_order_share
        Target share of orders placed by coupon-abuse rings.
    min_groups
        Minimum number of rings of each fraud kind, whatever the size.
    virtual_phone_share
        Share of honest buyers on virtual-operator numbers (170/171/16x).
    new_buyer_share
        Share of honest buyers whose account is created during the period.
    family_share
        Share of honest buyers living in a 2-5 person household sharing an address.
    locker_share
        Share of honest buyers shipping to their district's parcel station.
    cgnat_share
        Share of mobile orders leaving through a carrier-grade NAT address.
    refund_share
        Share of honest orders refunded (fully or partly).
    review_share
        Share of received honest orders that get a review.
    double11_multiplier
        Volume of 2026-11-11 00:00-02:00 relative to an ordinary night.
    loyal_buyer_share
        Share of honest buyers who buy the same SKU every week.
    flash_sale_skus, discriminated_skus
        How many SKUs get evening flash sales / cohort price discrimination.
    drift_windows
        How many drift windows to inject (kinds repeat beyond five).
    brushing_min_signals
        Fewest signals a brushing ring shows (1 makes harder benchmarks).
    """

    brushing_order_share: float = 0.015
    coupon_abuse_order_share: float = 0.004
    min_groups: int = 3
    virtual_phone_share: float = 0.03
    new_buyer_share: float = 0.15
    family_share: float = 0.04
    locker_share: float = 0.03
    cgnat_share: float = 0.3
    refund_share: float = 0.03
    review_share: float = 0.35
    double11_multiplier: float = 15.0
    loyal_buyer_share: float = 0.004
    flash_sale_skus: int = 3
    discriminated_skus: int = 4
    drift_windows: int = 5
    brushing_min_signals: int = 2

    def __post_init__(self) -> None:
        shares = {
            "brushing_order_share": (self.brushing_order_share, 0.0, 0.2),
            "coupon_abuse_order_share": (self.coupon_abuse_order_share, 0.0, 0.2),
            "virtual_phone_share": (self.virtual_phone_share, 0.0, 1.0),
            "new_buyer_share": (self.new_buyer_share, 0.0, 1.0),
            "family_share": (self.family_share, 0.0, 0.5),
            "locker_share": (self.locker_share, 0.0, 0.2),
            "cgnat_share": (self.cgnat_share, 0.0, 0.75),
            "refund_share": (self.refund_share, 0.0, 0.5),
            "review_share": (self.review_share, 0.0, 1.0),
            "loyal_buyer_share": (self.loyal_buyer_share, 0.0, 0.1),
            "double11_multiplier": (self.double11_multiplier, 1.0, 50.0),
            "min_groups": (self.min_groups, 1, 50),
            "flash_sale_skus": (self.flash_sale_skus, 1, 20),
            "discriminated_skus": (self.discriminated_skus, 1, 20),
            "drift_windows": (self.drift_windows, 1, 20),
            "brushing_min_signals": (self.brushing_min_signals, 1, 9),
        }
        for name, (value, low, high) in shares.items():
            if not low <= value <= high:
                raise UsageError(f"SynthConfig.{name} must be in [{low}, {high}] (got {value})")
