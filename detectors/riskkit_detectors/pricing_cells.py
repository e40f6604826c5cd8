"""Cohort-against-the-rest price comparisons per SKU, combined across strata.

For one attribute (platform, member tier ...) every cohort is compared with
all other cohorts of that attribute inside each stratum where both occur.

* Test: the van Elteren stratified Wilcoxon rank-sum test (weights
  ``1 / (N_s + 1)``, tie-corrected), one-sided: does the cohort pay more?
* Effect: the stratum-weighted price gap ``D = sum w_s (mean_cohort_s -
  mean_rest_s) / sum w_s`` with ``w_s = m_s n_s / N_s``, as a ratio to the
  weighted reference price, with a normal 95% interval from the pooled
  within-stratum variance.
* Recurrence: the same gap computed per day; a day is material when its gap
  passes both materiality floors.

All sums are ``np.bincount`` over dense (stratum, cohort) pair codes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from riskkit_detectors.pricing_strata import Strata, StratumRanks

__all__ = ["CellTables", "compare_cohorts"]

_Z95 = 1.959963984540054


@dataclass
class CellTables:
    """``cells``: one row per (SKU, cohort); ``daily``: one row per (cell, day);
    ``pairs``: arrays with one entry per (stratum, cohort) compared (examples, charts)."""

    cells: pd.DataFrame
    daily: pd.DataFrame
    pairs: dict[str, np.ndarray]


def compare_cohorts(
    strata: Strata,
    ranks: StratumRanks,
    line_stratum: np.ndarray,
    cohort: np.ndarray,
    price: np.ndarray,
    min_gap_yuan: float,
    min_gap_ratio: float,
) -> CellTables:
    """Compare each cohort (codes ``>= 0``) with the rest, per SKU."""
    n_cohorts = int(cohort.max()) + 1 if len(cohort) else 1
    pair_key = line_stratum * n_cohorts + cohort
    pair_code, pair_uniques = pd.factorize(pair_key)
    n_pairs = len(pair_uniques)
    m = np.bincount(pair_code, minlength=n_pairs).astype(float)
    rank_sum = np.bincount(pair_code, weights=ranks.rank, minlength=n_pairs)
    price_sum = np.bincount(pair_code, weights=price, minlength=n_pairs)
    stratum = pair_uniques // n_cohorts
    pair_cohort = pair_uniques % n_cohorts

    size = ranks.size[stratum]
    n_rest = size - m
    comparable = n_rest > 0
    stratum, pair_cohort = stratum[comparable], pair_cohort[comparable]
    m, n_rest, size = m[comparable], n_rest[comparable], size[comparable]
    rank_sum, price_sum = rank_sum[comparable], price_sum[comparable]

    # van Elteren: each stratum's rank-sum deviation weighted by 1 / (N + 1)
    deviation = (rank_sum - m * (size + 1) / 2) / (size + 1)
    tie_term = ranks.tie_term[stratum]
    variance = m * n_rest / 12.0 * ((size + 1) - tie_term / (size * (size - 1))) / (size + 1) ** 2

    mean_cohort = price_sum / m
    mean_rest = (ranks.price_sum[stratum] - price_sum) / n_rest
    weight = m * n_rest / size
    pooled = np.where(
        size > 1,
        (ranks.price_sq_sum[stratum] - ranks.price_sum[stratum] ** 2 / size)
        / np.maximum(size - 1, 1),
        0.0,
    )
    pooled = np.maximum(pooled, 0.0)

    pairs = {
        "stratum": stratum,
        "sku": strata.sku[stratum],
        "cohort": pair_cohort,
        "day": strata.day[stratum],
        "bucket": strata.bucket[stratum],
        "m": m,
        "n": n_rest,
        "deviation": deviation,
        "variance": variance,
        "weight": weight,
        "w_gap": weight * (mean_cohort - mean_rest),
        "w_ref": weight * mean_rest,
        "w_var": weight * pooled,
    }
    cell_key = pairs["sku"] * n_cohorts + pair_cohort
    cell_code, cell_uniques = pd.factorize(cell_key)
    cells = _sum_by(cell_code, len(cell_uniques), pairs, _CELL_SUMS)
    cells["sku"] = cell_uniques // n_cohorts
    cells["cohort"] = cell_uniques % n_cohorts
    cells["strata"] = np.bincount(cell_code, minlength=len(cell_uniques))
    cells["bucket_min"], cells["bucket_max"] = _range_by(
        cell_code, len(cell_uniques), pairs["bucket"]
    )

    with np.errstate(divide="ignore", invalid="ignore"):
        z = cells["deviation"] / np.sqrt(cells["variance"])
        cells["z"] = np.where(cells["variance"] > 0, z, 0.0)
        cells["p_value"] = np.where(cells["variance"] > 0, stats.norm.sf(cells["z"]), 1.0)
        gap = cells["w_gap"] / cells["weight"]
        reference_price = cells["w_ref"] / cells["weight"]
        se = np.sqrt(cells["w_var"]) / cells["weight"]
        cells["gap_yuan"] = gap
        cells["reference_price"] = reference_price
        cells["price_ratio"] = (reference_price + gap) / reference_price
        cells["ci_low"] = (reference_price + gap - _Z95 * se) / reference_price
        cells["ci_high"] = (reference_price + gap + _Z95 * se) / reference_price

    day_offset = int(pairs["day"].min()) if len(stratum) else 0
    n_days = int(pairs["day"].max()) - day_offset + 1 if len(stratum) else 1
    daily_code, daily_uniques = pd.factorize(
        cell_code.astype(np.int64) * n_days + pairs["day"] - day_offset
    )
    daily = _sum_by(daily_code, len(daily_uniques), pairs, ("m", "n", "weight", "w_gap", "w_ref"))
    daily["cell"] = daily_uniques // n_days
    daily["day"] = daily_uniques % n_days + day_offset
    with np.errstate(divide="ignore", invalid="ignore"):
        daily["gap_yuan"] = daily["w_gap"] / daily["weight"]
        daily["reference_price"] = daily["w_ref"] / daily["weight"]
    daily["material"] = (daily["gap_yuan"] >= min_gap_yuan) & (
        daily["gap_yuan"] >= min_gap_ratio * daily["reference_price"]
    )
    cells["days"] = np.bincount(daily["cell"], minlength=len(cell_uniques))
    cells["material_days"] = np.bincount(
        daily["cell"], weights=daily["material"].astype(float), minlength=len(cell_uniques)
    ).astype(np.int64)
    pairs["cell"] = cell_code
    return CellTables(cells=cells, daily=daily, pairs=pairs)


_CELL_SUMS = ("m", "n", "deviation", "variance", "weight", "w_gap", "w_ref", "w_var")


def _sum_by(
    code: np.ndarray, size: int, columns: dict[str, np.ndarray], names: tuple[str, ...]
) -> pd.DataFrame:
    return pd.DataFrame(
        {name: np.bincount(code, weights=columns[name], minlength=size) for name in names}
    )


def _range_by(code: np.ndarray, size: int, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Minimum and maximum of ``values`` per code (codes dense, all present)."""
    if len(code) == 0:
        return np.zeros(size, dtype=values.dtype), np.zeros(size, dtype=values.dtype)
    order = np.argsort(code, kind="stable")
    sorted_code = code[order]
    starts = np.flatnonzero(np.r_[True, sorted_code[1:] != sorted_code[:-1]])
    sorted_values = values[order]
    low = np.zeros(size, dtype=values.dtype)
    high = np.zeros(size, dtype=values.dtype)
    low[sorted_code[starts]] = np.minimum.reduceat(sorted_values, starts)
    high[sorted_code[starts]] = np.maximum.reduceat(sorted_values, starts)
    return low, high
