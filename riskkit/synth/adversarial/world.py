"""The adversarial world's calendar, clocks, coupons and label vocabularies.

Times are integer seconds since ``riskkit.synth.config.PERIOD_START``
(2026-09-28 00:00, a Monday), the same origin the standard generator uses, so
the frame helpers and label stamps agree. The world itself covers 30 days,
2026-10-16 .. 2026-11-14, with the 双11 festival near its end: the last
three days are the honest "after the festival" days whose mix differs.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from riskkit.synth.config import PERIOD_START, SECONDS_PER_DAY

__all__ = [
    "COUPONS",
    "DAY",
    "DOUBLE11_DAY",
    "EXPORT_AT",
    "FIRST_DAY",
    "HOUR",
    "LIVE_NIGHTS",
    "LOOKALIKES",
    "POST_FESTIVAL_DAYS",
    "WORLD_DAYS",
    "day_weights",
    "hour_profile",
    "stamp",
]

FloatArray = npt.NDArray[np.float64]

DAY = SECONDS_PER_DAY
HOUR = 3600
FIRST_DAY = 18  # 2026-10-16, a Friday
WORLD_DAYS = 30
LAST_DAY = FIRST_DAY + WORLD_DAYS - 1  # 2026-11-14
EXPORT_AT = (LAST_DAY + 1) * DAY  # the export is taken at 2026-11-15 00:00
WORLD_START = FIRST_DAY * DAY
DOUBLE11_DAY = 44  # 2026-11-11
DOUBLE11_START = (DOUBLE11_DAY - 1) * DAY + 20 * HOUR  # 尾款 night, 2026-11-10 20:00
DOUBLE11_END = (DOUBLE11_DAY + 1) * DAY
POST_FESTIVAL_DAYS = (DOUBLE11_DAY + 1, DOUBLE11_DAY + 2, DOUBLE11_DAY + 3)
# Live-stream nights: the presale kick-off (10-20) and the "second wave" (11-03), 20:00-23:00.
LIVE_NIGHTS: tuple[int, ...] = (22, 36)
LIVE_START_HOUR = 20
LIVE_HOURS = 3

# Coupon table: (code, threshold in cents, discount in cents); 0 = no coupon.
# NEW20 is the new-customer coupon (满59减20); the others are 满减 for everybody.
COUPONS: tuple[tuple[str, int, int], ...] = (
    ("", 0, 0),
    ("NEW20", 5_900, 2_000),
    ("MJ150-15", 15_000, 1_500),
    ("MJ300-40", 30_000, 4_000),
    ("D11-300-50", 30_000, 5_000),
)
NO_COUPON, NEW_USER_COUPON, MJ150, MJ300, D11_COUPON = range(5)
NEW_USER_THRESHOLD = COUPONS[NEW_USER_COUPON][1]

# Honest look-alike kinds. An order carries one tag: the first that applies in this order.
LOOKALIKES: tuple[str, ...] = (
    "",
    "live_stream_newcomer",
    "gift_sender",
    "bulk_buyer",
    "office_reception",
    "student_dorm",
    "family_address",
    "pickup_station",
    "new_account",
    "quick_review",
    "next_day_delivery",
    "cgnat_ip",
    "batch_waybill",
)
LOOKALIKE_CODE: dict[str, int] = {name: code for code, name in enumerate(LOOKALIKES)}

# Mon..Sun; weekends are busier.
WEEKDAY_FACTOR = np.array([0.93, 0.9, 0.92, 0.95, 1.03, 1.24, 1.2])

_BASE_HOURS = np.array(
    [
        2.0,
        1.1,
        0.6,
        0.35,
        0.3,
        0.4,
        0.9,
        1.9,
        2.9,
        3.7,
        4.4,
        4.6,
        4.9,
        4.6,
        4.4,
        4.4,
        4.5,
        4.7,
        4.9,
        5.6,
        6.9,
        7.6,
        6.4,
        4.0,
    ]
)


def day_weights() -> FloatArray:
    """Relative honest volume of each world day (index 0 = 2026-10-16).

    Buyers wait for 双11 in the week before it; the festival day is about three
    ordinary days; the three days after it are quieter.
    """
    days = np.arange(FIRST_DAY, LAST_DAY + 1)
    weights = WEEKDAY_FACTOR[days % 7].astype(np.float64)
    weights[(days >= DOUBLE11_DAY - 6) & (days < DOUBLE11_DAY - 1)] *= 0.85
    weights[days == DOUBLE11_DAY - 1] *= 1.3  # the 尾款 evening
    weights[days == DOUBLE11_DAY] *= 3.2
    for offset, factor in zip(POST_FESTIVAL_DAYS, (0.7, 0.72, 0.85), strict=True):
        weights[days == offset] *= factor
    for night in LIVE_NIGHTS:
        weights[days == night] *= 1.15
    return weights / float(weights.sum())


def hour_profile(kind: str = "base") -> FloatArray:
    """Share of orders per hour of day; ``office`` buyers order in working hours."""
    hours = _BASE_HOURS.copy()
    if kind == "office":
        hours = hours * np.where((np.arange(24) >= 9) & (np.arange(24) < 18), 2.2, 0.6)
    elif kind == "student":
        hours = (
            hours * np.where(np.arange(24) >= 21, 1.6, 1.0) * np.where(np.arange(24) < 2, 2.5, 1.0)
        )
    profile: FloatArray = hours / hours.sum()
    return profile


def stamp(seconds: int) -> str:
    """``YYYY-MM-DD HH:MM:SS`` of a world time, as label files write it."""
    return str(PERIOD_START + np.timedelta64(int(seconds), "s")).replace("T", " ")
