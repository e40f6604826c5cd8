"""One window against its reference: the per-feature drift tests and the
sentences that say what moved."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from riskkit_detectors.drift_control import (
    NullStatistic,
    categorical_statistic,
    volume_statistic,
    wasserstein_statistic,
)
from riskkit_detectors.drift_stats import (
    effective_size,
    histogram_ks,
    histogram_quantile,
    histogram_wasserstein,
    jensen_shannon,
    psi,
    psi_noise_floor,
    small_median,
    wasserstein_noise_floor,
)
from riskkit_detectors.drift_windows import FeatureCounts

__all__ = ["DriftThresholds", "FeatureTest", "check_categorical", "check_numeric", "check_volume"]

_FEATURE_TEXT = {
    "channel": "channel",
    "platform": "platform",
    "province": "province",
}


@dataclass(frozen=True)
class DriftThresholds:
    """Effect sizes at which a feature counts as drifted (see docs/drift.md)."""

    psi: float = 0.2
    wasserstein: float = 0.1
    volume_ratio: float = 0.5
    volume_z: float = 4.0
    min_orders: int = 100


@dataclass
class FeatureTest:
    """The outcome of one feature's test in one window."""

    feature: str
    test: str
    value: float
    threshold: float
    drifted: bool
    top_movers: str
    extra: dict[str, float]
    # the statistic on its null scale, for the false-discovery control
    null: NullStatistic | None = None
    # the effect size that matters (the option's threshold, without noise floors)
    material: float = math.nan

    @property
    def score(self) -> float:
        """Value relative to its threshold (1 = at the threshold)."""
        if self.test == "volume_ratio":
            if self.value <= 0 or self.threshold <= 0:
                return math.inf if self.drifted else 0.0
            ratio_score = abs(math.log(self.value)) / math.log(self.threshold)
            return min(ratio_score, abs(self.extra["robust_z"]) / self.extra["z_threshold"])
        return self.value / self.threshold if self.threshold > 0 else 0.0


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def _category_movers(feature: FeatureCounts, ref: np.ndarray, cur: np.ndarray) -> str:
    ref_share = ref / ref.sum()
    cur_share = cur / cur.sum()
    diff = cur_share - ref_share
    if feature.name == "hour_of_day":
        return _hour_movers(ref_share, cur_share)
    if feature.name in ("new_accounts", "coupon_use"):
        label = (
            "orders from new accounts" if feature.name == "new_accounts" else "orders with a coupon"
        )
        return f"{label} {_pct(ref_share[1])} → {_pct(cur_share[1])}"
    order = np.argsort(-np.abs(diff))
    parts = [
        f"{_FEATURE_TEXT.get(feature.name, feature.name)}={feature.labels[i]} "
        f"{_pct(ref_share[i])} → {_pct(cur_share[i])}"
        for i in order[:3]
        if abs(diff[i]) >= 0.005
    ]
    return "; ".join(parts)


def _hour_movers(ref_share: np.ndarray, cur_share: np.ndarray) -> str:
    """Merge neighbouring hours that moved the same way: ``orders 00:00–05:00 3% → 19%``."""
    diff = cur_share - ref_share
    used = np.zeros(24, dtype=bool)
    runs: list[tuple[float, str]] = []
    for _ in range(3):
        candidates = np.where(used, 0.0, np.abs(diff))
        peak = int(np.argmax(candidates))
        if candidates[peak] < 0.005:
            break
        sign = np.sign(diff[peak])
        floor = 0.25 * abs(diff[peak])
        hours = [peak]
        used[peak] = True
        for step in (-1, 1):
            hour = (peak + step) % 24
            while not used[hour] and np.sign(diff[hour]) == sign and abs(diff[hour]) >= floor:
                hours.append(hour)
                used[hour] = True
                hour = (hour + step) % 24
        run = set(hours)
        first = next((h for h in hours if (h - 1) % 24 not in run), peak)
        last = (first + len(hours)) % 24
        span = [(first + i) % 24 for i in range(len(hours))]
        before, after = float(ref_share[span].sum()), float(cur_share[span].sum())
        text = f"orders {first:02d}:00–{last:02d}:00 {_pct(before)} → {_pct(after)}"
        runs.append((abs(after - before), text))
    # the run that moved the most share first, whatever its peak hour
    return "; ".join(text for _, text in sorted(runs, key=lambda r: -r[0])[:2])


def check_categorical(
    feature: FeatureCounts, ref: np.ndarray, cur: np.ndarray, thresholds: DriftThresholds
) -> FeatureTest | None:
    """PSI decides (threshold raised to the 99.9% noise floor); Jensen-Shannon is reported."""
    n_ref, n_cur = float(ref.sum()), float(cur.sum())
    if n_ref < thresholds.min_orders or n_cur < thresholds.min_orders:
        return None
    present = (ref + cur) > 0
    if int(present.sum()) < 2:
        return None
    value = psi(ref[present], cur[present])
    threshold = max(thresholds.psi, psi_noise_floor(n_ref, n_cur, int(present.sum())))
    drifted = value >= threshold
    return FeatureTest(
        feature=feature.name,
        test="psi",
        value=value,
        threshold=threshold,
        drifted=drifted,
        # the sentence is only needed for findings: skip it for the quiet majority
        top_movers=_category_movers(feature, ref, cur) if drifted else "",
        # secondary statistics are reported with findings only (thousands of quiet tests)
        extra={
            "jensen_shannon": jensen_shannon(ref[present], cur[present]) if drifted else math.nan,
            "n_reference": n_ref,
            "n": n_cur,
            "categories": float(present.sum()),
        },
        null=categorical_statistic(ref[present], cur[present]),
        material=thresholds.psi,
    )


def _yuan(log_value: float) -> str:
    return f"¥{math.expm1(log_value):,.0f}"


def check_numeric(
    feature: FeatureCounts, ref: np.ndarray, cur: np.ndarray, thresholds: DriftThresholds
) -> FeatureTest | None:
    """Wasserstein-1 on the log scale, scaled by the reference spread; KS reported."""
    n_ref, n_cur = float(ref.sum()), float(cur.sum())
    if n_ref < thresholds.min_orders or n_cur < thresholds.min_orders or feature.edges is None:
        return None
    distance, spread = histogram_wasserstein(ref, cur, feature.edges)
    if spread <= 0:
        return None
    value = distance / spread
    threshold = max(thresholds.wasserstein, wasserstein_noise_floor(n_ref, n_cur))
    drifted = value >= threshold
    movers = ""
    ks, ks_p = math.nan, math.nan
    if drifted:
        ks, ks_p = histogram_ks(ref, cur)
        quantiles = {
            q: (
                histogram_quantile(ref, feature.edges, q),
                histogram_quantile(cur, feature.edges, q),
            )
            for q in (0.5, 0.9)
        }
        movers = "; ".join(
            f"basket {name} ≈{_yuan(quantiles[q][0])} → ≈{_yuan(quantiles[q][1])}"
            for q, name in ((0.5, "median"), (0.9, "p90"))
        )
    return FeatureTest(
        feature=feature.name,
        test="wasserstein_scaled",
        value=value,
        threshold=threshold,
        drifted=drifted,
        top_movers=movers,
        extra={"ks": ks, "ks_p_value": ks_p, "n_reference": n_ref, "n": n_cur},
        null=wasserstein_statistic(value, effective_size(n_ref, n_cur)),
        material=thresholds.wasserstein,
    )


def check_volume(
    orders: float, reference_counts: np.ndarray, season: str, thresholds: DriftThresholds
) -> FeatureTest | None:
    """Orders in the window against the median of its same-season reference windows.

    Drifted when the ratio is beyond ``1 ± volume_ratio`` (a drop counts at
    ``1 / (1 + volume_ratio)``) *and* the robust z-score (MAD of the
    reference, at least Poisson noise) is beyond ``volume_z``.
    """
    if reference_counts.size == 0:
        return None
    counts = reference_counts.tolist()
    expected = small_median(counts)
    if max(expected, orders) < thresholds.min_orders / 2:
        return None  # a handful of night orders: Poisson noise, not a level
    mad = small_median([abs(c - expected) for c in counts]) * 1.4826
    spread = max(mad, math.sqrt(max(expected, 1.0)))
    z = (orders - expected) / spread
    ratio = orders / expected if expected > 0 else math.inf
    limit = 1.0 + thresholds.volume_ratio
    beyond = ratio >= limit or (ratio <= 1.0 / limit)
    drifted = beyond and abs(z) >= thresholds.volume_z
    movers = (
        f"orders {orders:,.0f} vs {expected:,.0f} expected ({season} level), ×{ratio:.2f}"
        if math.isfinite(ratio)
        else f"orders {orders:,.0f} vs none expected ({season} level)"
    )
    return FeatureTest(
        feature="volume",
        test="volume_ratio",
        value=ratio if math.isfinite(ratio) else 1e9,
        threshold=limit,
        drifted=drifted,
        top_movers=movers,
        extra={
            "expected": expected,
            "robust_z": z,
            "z_threshold": thresholds.volume_z,
            "n_reference": float(len(counts)),
        },
        null=volume_statistic(orders, expected, len(counts)),
        material=limit,
    )
