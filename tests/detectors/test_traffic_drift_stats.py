"""The drift statistics: PSI, Jensen-Shannon, scaled Wasserstein and their noise floors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from riskkit_detectors.drift_stats import (
    histogram_ks,
    histogram_quantile,
    histogram_wasserstein,
    jensen_shannon,
    psi,
    psi_noise_floor,
    robust_reference,
    wasserstein_noise_floor,
)


def test_psi_matches_the_textbook_formula() -> None:
    ref = np.array([5000, 3000, 2000])
    cur = np.array([2000, 3000, 5000])
    p, q = ref / ref.sum(), cur / cur.sum()
    expected = float(np.sum((q - p) * np.log(q / p)))
    assert psi(ref, cur) == pytest.approx(expected, rel=1e-3)
    assert psi(ref, ref) == pytest.approx(0.0, abs=1e-12)
    # a category that appears from nothing stays finite
    assert math.isfinite(psi(np.array([100, 0]), np.array([80, 20])))


def test_jensen_shannon_distance_is_bounded() -> None:
    assert jensen_shannon(np.array([1, 0]), np.array([0, 1])) == pytest.approx(1.0)
    assert jensen_shannon(np.array([3, 7]), np.array([3, 7])) == pytest.approx(0.0, abs=1e-9)


def test_noise_floor_holds_under_no_change() -> None:
    rng = np.random.default_rng(0)
    shares = 1 / np.arange(1, 21)
    shares /= shares.sum()
    floor = psi_noise_floor(1400, 200, 20)
    values = [psi(rng.multinomial(1400, shares), rng.multinomial(200, shares)) for _ in range(2000)]
    assert np.mean(np.array(values) >= floor) < 0.005
    assert psi_noise_floor(0, 200, 20) == math.inf


def test_scaled_wasserstein_of_a_shift() -> None:
    edges = np.linspace(0, 10, 101)
    rng = np.random.default_rng(1)
    base = rng.normal(5, 1, 20000)
    ref = np.histogram(base, edges)[0]
    cur = np.histogram(base + 0.5, edges)[0]
    distance, spread = histogram_wasserstein(ref, cur, edges)
    assert distance == pytest.approx(0.5, abs=0.02)
    assert spread == pytest.approx(1.0, abs=0.02)
    statistic, p_value = histogram_ks(ref, cur)
    assert statistic > 0.15 and p_value < 1e-6
    assert histogram_quantile(ref, edges, 0.5) == pytest.approx(5.0, abs=0.05)
    assert wasserstein_noise_floor(1000, 1000) == pytest.approx(4.5 / math.sqrt(500))


def test_robust_reference_ignores_one_odd_window() -> None:
    windows = np.array([[900, 100], [880, 120], [200, 800], [910, 90]])
    ref = robust_reference(windows)
    assert ref.sum() == pytest.approx(windows.sum())
    assert ref[1] / ref.sum() < 0.15  # the burst window does not drag the share up
