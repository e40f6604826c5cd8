"""Like-for-like strata of order lines and the rank statistics inside them.

A stratum is one SKU, one time bucket (hour or day), one promotion state and
one quantity tier: lines inside a stratum were offered the same goods under
the same trading conditions, so a price gap between cohorts inside it is
not explained by a sale, a flash sale or a volume discount.

Everything is sort-based: one ``argsort`` of (stratum, price) gives the
mid-ranks of every line within its stratum and the tie counts, for millions
of strata at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Strata", "StratumRanks", "build_strata", "quantity_tier", "rank_within"]

# Quantity tiers (units on the line): volume pricing differs between them.
QUANTITY_TIER_EDGES = np.array([2, 4, 10])
QUANTITY_TIER_LABELS = ("1", "2-3", "4-9", "10+")


def quantity_tier(quantity: np.ndarray) -> np.ndarray:
    """0 for one unit, 1 for 2-3, 2 for 4-9, 3 for 10 or more (unknown counts as one)."""
    q = np.nan_to_num(quantity.astype(float), nan=1.0)
    return np.asarray(np.searchsorted(QUANTITY_TIER_EDGES, q, side="right"), dtype=np.int64)


@dataclass
class Strata:
    """Per line: its stratum code; per stratum: SKU code and time bucket."""

    code: np.ndarray  # line -> stratum (dense 0..n_strata-1)
    sku: np.ndarray  # stratum -> SKU code
    bucket: np.ndarray  # stratum -> time bucket number (hours or days since the epoch)
    day: np.ndarray  # stratum -> day number since the epoch
    n_strata: int


def build_strata(
    sku_code: np.ndarray,
    bucket: np.ndarray,
    promotion: np.ndarray,
    tier: np.ndarray,
    buckets_per_day: int,
) -> Strata:
    """Dense stratum codes for the (SKU, bucket, promotion, quantity tier) of each line."""
    n_promotions = int(promotion.max()) + 1 if len(promotion) else 1
    n_sku = int(sku_code.max()) + 1 if len(sku_code) else 1
    offset = int(bucket.min()) if len(bucket) else 0
    span = int(bucket.max()) - offset + 1 if len(bucket) else 1
    if span * n_sku * n_promotions * 4 < 2**62:
        combined = (((bucket - offset) * n_sku + sku_code) * n_promotions + promotion) * 4 + tier
        code, uniques = pd.factorize(combined)
        rest = uniques // 4 // n_promotions
        strata_sku = rest % n_sku
        strata_bucket = rest // n_sku + offset
    else:  # astronomically many combinations: let pandas hash the tuples
        frame = pd.DataFrame(
            {"sku": sku_code, "bucket": bucket, "promotion": promotion, "tier": tier}
        )
        code = frame.groupby(["sku", "bucket", "promotion", "tier"], sort=False).ngroup()
        code = code.to_numpy()
        first = pd.Series(np.arange(len(code))).groupby(code).first().to_numpy()
        strata_sku = sku_code[first]
        strata_bucket = bucket[first]
    code = np.asarray(code, dtype=np.int64)
    strata_bucket = np.asarray(strata_bucket, dtype=np.int64)
    return Strata(
        code=code,
        sku=np.asarray(strata_sku, dtype=np.int64),
        bucket=strata_bucket,
        day=strata_bucket // buckets_per_day,
        n_strata=len(strata_bucket),
    )


@dataclass
class StratumRanks:
    """Mid-ranks of prices within strata, with what the rank test needs per stratum."""

    rank: np.ndarray  # per line (lines in the order given)
    size: np.ndarray  # per stratum: lines
    tie_term: np.ndarray  # per stratum: sum of t^3 - t over tied price groups
    price_sum: np.ndarray  # per stratum
    price_sq_sum: np.ndarray  # per stratum


def rank_within(stratum: np.ndarray, price: np.ndarray, n_strata: int) -> StratumRanks:
    """Average ranks (1-based) of ``price`` within each stratum, vectorised."""
    n = len(price)
    price_code, _ = pd.factorize(price, sort=True)
    order = np.argsort(
        stratum * (int(price_code.max()) + 1 if n else 1) + price_code, kind="stable"
    )
    s_sorted = stratum[order]
    p_sorted = price_code[order]
    new_stratum = np.ones(n, dtype=bool)
    new_stratum[1:] = s_sorted[1:] != s_sorted[:-1]
    new_tie = new_stratum.copy()
    new_tie[1:] |= p_sorted[1:] != p_sorted[:-1]
    stratum_start = np.flatnonzero(new_stratum)
    stratum_len = np.diff(np.r_[stratum_start, n])
    position = np.arange(n) - np.repeat(stratum_start, stratum_len) + 1
    tie_start = np.flatnonzero(new_tie)
    tie_len = np.diff(np.r_[tie_start, n])
    first_pos = position[tie_start]
    midrank = first_pos + (tie_len - 1) / 2.0
    rank_sorted = np.repeat(midrank, tie_len)
    rank = np.empty(n)
    rank[order] = rank_sorted
    size = np.bincount(stratum, minlength=n_strata).astype(float)
    tie_term = np.bincount(
        s_sorted[tie_start], weights=tie_len.astype(float) ** 3 - tie_len, minlength=n_strata
    )
    price_sum = np.bincount(stratum, weights=price, minlength=n_strata)
    price_sq_sum = np.bincount(stratum, weights=price * price, minlength=n_strata)
    return StratumRanks(rank, size, tie_term, price_sum, price_sq_sum)
