"""False-discovery control of the drift alarms over every scope x feature x window.

A run tests thousands of (scope, feature, window) cells: a hundred shops,
eight features, every day.  The effect-size thresholds of
:mod:`riskkit_detectors.drift_checks` say how large a move must be to
matter; they do not say how often noise makes a small shop's window look
that large somewhere in the run.  So every test also carries a p-value and
an alarm needs both:

* the effect at or beyond its threshold (and the per-test noise floor), and
* a Benjamini-Hochberg q-value at most ``fdr`` over **all** tests of the run
  (every scope, feature and window, quiet ones included).

The p-values are weighed against the export's own background.  Each test
reduces to a statistic with a known null under independent orders (Pearson
chi-squared for a category mix, the standardised Wasserstein distance for
the basket, a Poisson z for volume), but real traffic varies more from day
to day than independent orders would.  That extra variation is measured on
the scope itself: the dispersion of a scope x feature is the mean, over
its tested windows that did not move materially, of the (squared) statistic
divided by its null mean (Pearson's X^2/df; at least 1, and 1 with fewer than
five such windows), and the squared statistic is divided by it before the
p-value is read, as in quasi-likelihood tests of over-dispersed counts.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from scipy import stats

from riskkit_detectors.drift_stats import benjamini_hochberg

__all__ = [
    "NullStatistic",
    "categorical_statistic",
    "control_false_discoveries",
    "effect_beyond_noise",
    "p_values",
    "volume_statistic",
    "wasserstein_statistic",
]

# Cells of a category mix whose expected count in the window is below this are
# merged before the chi-squared test (Cochran's rule): the chi-squared law is
# not a fair null for a cell expecting one order.
MIN_EXPECTED_COUNT = 5.0
# Fewer quiet windows than this in a scope x feature: no dispersion estimate
# (taken as 1, independent orders); the mean of fewer is mostly noise.
MIN_DISPERSION_WINDOWS = 5
# Mean of sqrt(n_eff) * scaled Wasserstein-1 under no change (simulated on
# log-normal, bimodal and exponential baskets with the detector's binning:
# 1.1-1.3, sd 0.45): what noise adds to the distance.
WASSERSTEIN_NULL_MEAN = 1.26
# Mean of its square (1.26^2 + 0.45^2): the dispersion divides by it.
WASSERSTEIN_NULL_MEAN_SQUARE = 1.79
# A volume change counts when its one-sided bound at this confidence is beyond the ratio.
VOLUME_CONFIDENCE = 0.95
_VOLUME_Z = float(stats.norm.ppf(VOLUME_CONFIDENCE))


@dataclass(frozen=True)
class NullStatistic:
    """A test's statistic on its null scale: ``chi2`` (value, ``df``),
    ``wasserstein`` (t = sqrt(n_eff) x scaled distance) or ``normal`` (z)."""

    family: str
    value: float
    df: int = 1

    def dispersion_ratio(self) -> float:
        """The (squared) statistic over its null mean: about 1 for sampling noise."""
        if self.family == "chi2":
            return self.value / self.df
        if self.family == "wasserstein":
            return self.value**2 / WASSERSTEIN_NULL_MEAN_SQUARE
        return self.value**2

    def p_value(self, dispersion: float = 1.0) -> float:
        """p-value after dividing the squared statistic by ``dispersion`` (>= 1)."""
        if not math.isfinite(self.value):
            return 0.0 if self.value > 0 else 1.0
        if self.family == "chi2":
            return float(stats.chi2.sf(self.value / dispersion, self.df))
        if self.family == "wasserstein":
            # sqrt(n_eff) W1 / sd is the L1 norm of a Gaussian process whose
            # one-dimensional projections have variance at most 1 (the
            # variance of a 1-Lipschitz function of X is at most Var X), so
            # its tail is sub-Gaussian with variance proxy 1 (Borell-TIS).
            # exp(-t^2/2) is above the simulated tail exp(-(t + 0.35)^2/2)
            # at every t: conservative.
            t = self.value / math.sqrt(dispersion)
            return min(1.0, math.exp(-t * t / 2.0))
        return float(2.0 * stats.norm.sf(abs(self.value) / math.sqrt(dispersion)))


def categorical_statistic(reference: np.ndarray, current: np.ndarray) -> NullStatistic:
    """Pearson chi-squared of homogeneity of the window's mix and the reference's.

    Categories whose expected count in the window is below
    :data:`MIN_EXPECTED_COUNT` are pooled into one cell (and the smallest
    of the others join it while it is still too small).
    """
    ref = np.asarray(reference, dtype=float)
    cur = np.asarray(current, dtype=float)
    n_ref, n_cur = float(ref.sum()), float(cur.sum())
    if n_ref <= 0 or n_cur <= 0:
        return NullStatistic("chi2", 0.0, 1)
    both = ref + cur
    expected = both * (n_cur / (n_ref + n_cur))
    small = expected < MIN_EXPECTED_COUNT
    if small.any():
        big = np.flatnonzero(~small)
        big = big[np.argsort(expected[big])]
        pooled = float(expected[small].sum())
        joined = 0
        while pooled < MIN_EXPECTED_COUNT and joined < len(big) - 1:
            pooled += float(expected[big[joined]])
            joined += 1
        keep = big[joined:]
        rest = np.ones(len(ref), dtype=bool)
        rest[keep] = False
        ref = np.append(ref[keep], ref[rest].sum())
        cur = np.append(cur[keep], cur[rest].sum())
        both = ref + cur
    seen = both > 0
    if int(seen.sum()) < 2:
        return NullStatistic("chi2", 0.0, 1)
    ref, cur = ref[seen], cur[seen]
    share = both[seen] / (n_ref + n_cur)
    # sum over both rows of (observed - fitted)^2 / fitted, fitted = row total x share
    deviation = cur - n_cur * share
    value = float(np.sum(deviation**2 / share) * (1.0 / n_cur + 1.0 / n_ref))
    return NullStatistic("chi2", value, len(ref) - 1)


def p_values(nulls: list[NullStatistic], dispersion: float = 1.0) -> np.ndarray:
    """:meth:`NullStatistic.p_value` of many statistics at once (one scipy call a family)."""
    out = np.ones(len(nulls))
    families: dict[str, list[int]] = {}
    for i, null in enumerate(nulls):
        families.setdefault(null.family, []).append(i)
    for family, index in families.items():
        values = np.array([nulls[i].value for i in index], dtype=float)
        if family == "chi2":
            df = np.array([nulls[i].df for i in index], dtype=float)
            p = stats.chi2.sf(values / dispersion, df)
        elif family == "wasserstein":
            t = values / math.sqrt(dispersion)
            p = np.minimum(1.0, np.exp(-(t**2) / 2.0))
        else:
            p = 2.0 * stats.norm.sf(np.abs(values) / math.sqrt(dispersion))
        p = np.where(np.isnan(values), 1.0, np.where(np.isposinf(values), 0.0, p))
        out[index] = p
    return out


def wasserstein_statistic(scaled_distance: float, n_eff: float) -> NullStatistic:
    """``sqrt(n_eff)`` times the scaled Wasserstein-1 distance."""
    return NullStatistic("wasserstein", scaled_distance * math.sqrt(max(n_eff, 0.0)))


def volume_statistic(orders: float, expected: float, n_reference: int) -> NullStatistic:
    """Poisson z of the window's order count against the reference median
    (the median of ``n`` windows adds about pi/2n of the count's variance)."""
    variance = max(expected, 1.0) * (1.0 + math.pi / (2.0 * max(n_reference, 1)))
    return NullStatistic("normal", (orders - expected) / math.sqrt(variance))


class ControlledTest(Protocol):
    """What :func:`control_false_discoveries` needs of a feature test."""

    feature: str
    test: str
    value: float
    material: float
    drifted: bool
    null: NullStatistic | None
    extra: dict[str, float]


def effect_beyond_noise(test: ControlledTest, dispersion: float) -> float:
    """The test's effect size after taking out what sampling noise adds to it.

    * PSI: ``n_eff * PSI`` is about chi-squared with ``k - 1`` degrees of
      freedom plus ``n_eff`` times the true PSI, so noise adds
      ``(k - 1) / n_eff`` (times the dispersion) on average; it is subtracted.
      A 200-order window's hour profile (24 hours) reads PSI 0.11 on noise alone.
    * Scaled Wasserstein: a distance, so noise adds in quadrature: the null
      mean ``1.26 / sqrt(n_eff)`` (simulated, see
      :func:`~riskkit_detectors.drift_stats.wasserstein_noise_floor`) is
      taken out as ``sqrt(W^2 - mean^2)``.
    * Volume: the one-sided :data:`VOLUME_CONFIDENCE` bound of the ratio on
      the side away from 1 (the count is Poisson times the dispersion, the
      reference median adds ``pi / 2n`` of its variance).
    """
    extra = test.extra
    if test.test == "volume_ratio":
        expected = extra.get("expected", 0.0)
        if expected <= 0 or test.value <= 0:
            return test.value
        orders = test.value * expected
        n_ref = max(extra.get("n_reference", 1.0), 1.0)
        variance = dispersion * (1.0 / max(orders, 1.0) + math.pi / (2.0 * n_ref * expected))
        step = _VOLUME_Z * math.sqrt(variance)
        log_ratio = math.log(test.value)
        bound = log_ratio - step if log_ratio > 0 else min(log_ratio + step, 0.0)
        return math.exp(max(bound, 0.0) if log_ratio > 0 else bound)
    n_eff = 1.0 / (
        1.0 / max(extra.get("n_reference", 0.0), 1e-9) + 1.0 / max(extra.get("n", 0.0), 1e-9)
    )
    if test.test == "psi":
        return test.value - dispersion * (extra.get("categories", 2.0) - 1.0) / n_eff
    if test.test == "wasserstein_scaled":
        noise = dispersion * WASSERSTEIN_NULL_MEAN**2 / n_eff
        return math.sqrt(max(test.value**2 - noise, 0.0))
    return test.value


def _material(test: ControlledTest, effect: float) -> bool:
    if test.test == "volume_ratio":
        return effect >= test.material or effect <= 1.0 / test.material
    return effect >= test.material


def control_false_discoveries(
    scopes: Iterable[tuple[str, Iterable[Iterable[ControlledTest]]]], fdr: float
) -> int:
    """Keep an alarm only where its q-value over every test of the run is <= ``fdr``.

    ``scopes`` yields ``(scope name, windows)``, each window an iterable of
    its feature tests.  Every test gets ``extra["dispersion"]``,
    ``extra["p_value"]`` and ``extra["q_value"]``; a drifted test whose
    q-value is above ``fdr`` is no longer drifted (``extra["held_back"] = 1``).
    Returns the number of alarms held back.
    """
    tests: list[ControlledTest] = []
    for _name, windows in scopes:
        by_feature: dict[str, list[ControlledTest]] = {}
        for window in windows:
            for test in window:
                if test.null is not None:
                    by_feature.setdefault(test.feature, []).append(test)
        for feature_tests in by_feature.values():
            # the background: windows that did not move materially
            ratios = [
                t.null.dispersion_ratio()
                for t in feature_tests
                if t.null is not None and not t.drifted
            ]
            enough = len(ratios) >= MIN_DISPERSION_WINDOWS
            dispersion = max(1.0, float(np.mean(ratios))) if enough else 1.0
            nulls = [t.null for t in feature_tests if t.null is not None]
            for test, p in zip(feature_tests, p_values(nulls, dispersion), strict=True):
                test.extra["dispersion"] = dispersion
                test.extra["p_value"] = float(p)
            tests.extend(feature_tests)
    if not tests:
        return 0
    q_values = benjamini_hochberg(np.array([t.extra["p_value"] for t in tests]))
    held_back = 0
    for test, q in zip(tests, q_values, strict=True):
        test.extra["q_value"] = float(q)
        if not test.drifted:
            continue
        effect = effect_beyond_noise(test, test.extra["dispersion"])
        test.extra["effect_beyond_noise"] = effect
        if not (q <= fdr and _material(test, effect)):
            test.drifted = False
            test.extra["held_back"] = 1.0
            held_back += 1
    return held_back
