"""Distribution-shift statistics shared by the drift and pricing detectors.

Everything works on count vectors (histograms), never on raw rows, so a
window of a million orders costs the same as one of a hundred: the detector
bins each window once with ``np.bincount`` and the statistics below compare
the binned vectors.

Effect sizes decide; sampling noise only raises the bar.  Each effect-size
statistic has a documented fixed threshold (PSI 0.2, Jensen-Shannon 0.1,
scaled Wasserstein 0.1), and :func:`psi_noise_floor` /
:func:`wasserstein_noise_floor` give the value that pure sampling noise
would rarely exceed (see each function) for the window's
sample sizes.  The threshold used is the larger of the two, so a tiny
window cannot raise an alarm on noise and a huge one does not alarm on a
real but negligible change.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy import stats

__all__ = [
    "benjamini_hochberg",
    "effective_size",
    "histogram_ks",
    "histogram_quantile",
    "histogram_wasserstein",
    "jensen_shannon",
    "psi",
    "psi_noise_floor",
    "robust_reference",
    "settled_rows",
    "small_median",
    "smoothed_shares",
    "wasserstein_noise_floor",
]

# Additive smoothing for shares: half an observation per category keeps a
# category that is empty on one side finite in PSI without inventing mass.
_SMOOTHING = 0.5


def smoothed_shares(counts: np.ndarray) -> np.ndarray:
    """Category shares with half an observation added to every category."""
    counts = np.asarray(counts, dtype=float)
    return np.asarray((counts + _SMOOTHING) / (counts.sum() + _SMOOTHING * counts.size))


def psi(reference: np.ndarray, current: np.ndarray) -> float:
    """Population stability index of two count vectors over the same categories.

    ``sum((c - r) * ln(c / r))`` on smoothed shares.  Read as: < 0.1 stable,
    0.1-0.25 moderate shift, > 0.25 major shift.
    """
    ref = smoothed_shares(reference)
    cur = smoothed_shares(current)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def jensen_shannon(reference: np.ndarray, current: np.ndarray) -> float:
    """Jensen-Shannon *distance* (base 2, in [0, 1]) of two count vectors."""
    ref = np.asarray(reference, dtype=float)
    cur = np.asarray(current, dtype=float)
    if ref.sum() == 0 or cur.sum() == 0:
        return 0.0
    p = ref / ref.sum()
    q = cur / cur.sum()
    m = (p + q) / 2

    def kl(a: np.ndarray, b: np.ndarray) -> float:
        mask = a > 0
        return float(np.sum(a[mask] * np.log2(a[mask] / b[mask])))

    divergence = max((kl(p, m) + kl(q, m)) / 2, 0.0)
    return math.sqrt(divergence)


def effective_size(n_reference: float, n_current: float) -> float:
    """The two-sample effective size ``1 / (1/n + 1/m)`` (0 when a side is empty)."""
    if n_reference <= 0 or n_current <= 0:
        return 0.0
    return 1.0 / (1.0 / n_reference + 1.0 / n_current)


def psi_noise_floor(n_reference: float, n_current: float, categories: int) -> float:
    """PSI that sampling noise alone exceeds with probability ~0.0001.

    Under no change, ``n_eff * PSI`` is approximately chi-squared with
    ``k - 1`` degrees of freedom (PSI is the symmetric Kullback-Leibler
    divergence, whose scaled sample version is asymptotically chi-squared;
    checked by simulation: the 99.9% quantile of simulated PSI for 2-31
    Zipf-distributed categories and 100-2,000 orders is within 10% of the
    chi-squared one).  The 99.99% quantile is used because a run makes
    thousands of comparisons (features x windows x shops).
    """
    n_eff = effective_size(n_reference, n_current)
    if n_eff == 0 or categories < 2:
        return math.inf
    return _chi2_quantile(categories - 1) / n_eff


@lru_cache(maxsize=256)
def _chi2_quantile(degrees: int) -> float:
    return float(stats.chi2.ppf(0.9999, degrees))


def _cdf(counts: np.ndarray) -> np.ndarray:
    counts = np.asarray(counts, dtype=float)
    total = counts.sum()
    return np.cumsum(counts) / total if total > 0 else np.zeros_like(counts)


def histogram_wasserstein(
    reference: np.ndarray, current: np.ndarray, edges: np.ndarray
) -> tuple[float, float]:
    """Wasserstein-1 distance of two histograms over ``edges``, and the
    reference standard deviation (from bin mid-points) that scales it."""
    widths = np.diff(edges)
    distance = float(np.sum(np.abs(_cdf(reference) - _cdf(current))[:-1] * widths[1:]))
    mids = (edges[:-1] + edges[1:]) / 2
    ref = np.asarray(reference, dtype=float)
    total = ref.sum()
    if total == 0:
        return distance, 0.0
    mean = float(np.sum(ref * mids) / total)
    spread = math.sqrt(max(float(np.sum(ref * (mids - mean) ** 2) / total), 0.0))
    return distance, spread


def wasserstein_noise_floor(n_reference: float, n_current: float) -> float:
    """Scaled Wasserstein-1 that sampling noise exceeds with probability < 0.001.

    Simulated on log-normal basket values (the binning the detector uses),
    the scaled distance between two samples of one distribution averages
    ``1.26 / sqrt(n_eff)`` and its 99.9% quantile is ``3.5 / sqrt(n_eff)``
    for n_eff from 90 to 1,750; 4.5 leaves a margin for other shapes and
    for the many comparisons of a run.
    """
    n_eff = effective_size(n_reference, n_current)
    return 4.5 / math.sqrt(n_eff) if n_eff > 0 else math.inf


def histogram_ks(reference: np.ndarray, current: np.ndarray) -> tuple[float, float]:
    """Kolmogorov-Smirnov statistic of two histograms and its asymptotic p-value
    (conservative with ties: binning only merges values)."""
    statistic = float(np.max(np.abs(_cdf(reference) - _cdf(current)))) if len(reference) else 0.0
    n_eff = effective_size(float(np.sum(reference)), float(np.sum(current)))
    if n_eff == 0:
        return statistic, 1.0
    return statistic, float(stats.kstwobign.sf(statistic * math.sqrt(n_eff)))


def histogram_quantile(counts: np.ndarray, edges: np.ndarray, q: float) -> float:
    """The ``q`` quantile of a histogram, interpolated linearly within its bin."""
    counts = np.asarray(counts, dtype=float)
    total = counts.sum()
    if total == 0:
        return math.nan
    cumulative = np.cumsum(counts) / total
    index = int(np.searchsorted(cumulative, q, side="left"))
    index = min(index, counts.size - 1)
    below = cumulative[index - 1] if index > 0 else 0.0
    inside = counts[index] / total
    fraction = (q - below) / inside if inside > 0 else 0.5
    return float(edges[index] + fraction * (edges[index + 1] - edges[index]))


def benjamini_hochberg(p_values: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values); NaN stays NaN."""
    p = np.asarray(p_values, dtype=float)
    q = np.full(p.shape, np.nan)
    valid = ~np.isnan(p)
    m = int(valid.sum())
    if m == 0:
        return q
    pv = p[valid]
    order = np.argsort(pv)
    ranked = pv[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    result = np.empty(m)
    result[order] = np.minimum(adjusted, 1.0)
    q[valid] = result
    return q


def small_median(values: list[float]) -> float:
    """Median of a short list (a reference of a few windows), without numpy's
    per-call overhead, which dominates when it runs for every window and shop."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[middle])
    return (ordered[middle - 1] + ordered[middle]) / 2.0


def robust_reference(counts: np.ndarray) -> np.ndarray:
    """Reference counts of a two-category feature (new accounts, coupon use): the
    *median* of the reference windows' shares, scaled to their total, so one
    odd window (a burst of fresh accounts in a warm-up window) cannot move the
    reference.  (Many-category mixes are pooled: a median share of a rare
    category is zero, which would read every occurrence as drift.)"""
    totals = counts.sum(axis=1)
    used = totals > 0
    if not used.any():
        return np.asarray(counts.sum(axis=0), dtype=float)
    second = small_median((counts[used, 1] / totals[used]).tolist())
    total = float(totals.sum())
    return np.array([(1.0 - second) * total, second * total])


def settled_rows(counts: np.ndarray, psi_threshold: float) -> np.ndarray:
    """Which reference windows agree with the others: a mask over the rows of
    ``counts[window, category]``.

    Each window is compared with the pool of the other reference windows by
    the same rule that makes a window drifted (PSI at or beyond
    ``max(psi_threshold, psi_noise_floor)``); windows that would have drifted
    against the rest are no reference.  This catches a window that was
    admitted untested (a night of bot traffic during warm-up) before it
    poisons every later comparison; two windows that disagree with each
    other both fail, leaving no settled reference at all.
    """
    counts = np.asarray(counts, dtype=float)
    present = counts.sum(axis=0) > 0
    k = int(present.sum())
    keep = np.ones(counts.shape[0], dtype=bool)
    if k < 2 or counts.shape[0] < 2:
        return keep
    rows = counts[:, present]
    others = rows.sum(axis=0)[None, :] - rows
    n_row, n_other = rows.sum(axis=1), others.sum(axis=1)
    own = (rows + _SMOOTHING) / (n_row[:, None] + _SMOOTHING * k)
    rest = (others + _SMOOTHING) / (n_other[:, None] + _SMOOTHING * k)
    value = np.sum((own - rest) * np.log(own / rest), axis=1)
    used = (n_row > 0) & (n_other > 0)
    n_eff = np.where(used, n_row * n_other / np.maximum(n_row + n_other, 1.0), 0.0)
    floor = np.where(used, _chi2_quantile(k - 1) / np.maximum(n_eff, 1e-12), np.inf)
    keep &= ~(used & (value >= np.maximum(psi_threshold, floor)))
    return keep
