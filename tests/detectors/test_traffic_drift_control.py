"""False-discovery control of traffic-drift alarms over scopes x features x windows."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from riskkit_detectors.drift_checks import DriftThresholds, check_categorical, check_volume
from riskkit_detectors.drift_control import (
    categorical_statistic,
    control_false_discoveries,
    effect_beyond_noise,
    p_values,
)
from riskkit_detectors.drift_windows import FeatureCounts
from riskkit_detectors.traffic_drift import TrafficDriftDetector

START = pd.Timestamp("2026-09-07")  # a Monday
CHANNELS = ["search", "recommend", "live", "affiliate", "direct"]
CHANNEL_SHARES = np.array([0.45, 0.28, 0.15, 0.02, 0.10])


def many_small_shops(
    shops: int = 60,
    days: int = 35,
    orders_per_day: float = 70.0,
    seed: int = 3,
    hijack: tuple[int, int] | None = None,
) -> pd.DataFrame:
    """Small shops whose traffic only varies from day to day as real traffic
    does (daily demand and mix wobble around a fixed level): no drift at all,
    unless ``hijack = (shop, day)`` gives one shop's day a 30% affiliate share."""
    rng = np.random.default_rng(seed)
    frames = []
    for shop in range(shops):
        for d in range(days):
            day = START + pd.Timedelta(days=d)
            n = rng.poisson(orders_per_day * rng.gamma(100.0, 1 / 100.0))
            shares = rng.dirichlet(CHANNEL_SHARES * 150.0)
            channels = rng.choice(CHANNELS, n, p=shares)
            if hijack == (shop, d):
                channels[: int(n * 0.3)] = "affiliate"
            created = day + pd.to_timedelta(rng.integers(8 * 3600, 23 * 3600, n), unit="s")
            frames.append(
                pd.DataFrame(
                    {
                        "order_id": [f"S{shop}-{d}-{i}" for i in range(n)],
                        "buyer_id": [f"B{b}" for b in rng.integers(0, 10**6, n)],
                        "created_at": created,
                        "shop_id": f"S{shop:03d}",
                        "channel": channels,
                        "unit_price": np.round(rng.lognormal(4.0, 0.6, n), 2),
                        "quantity": 1,
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def alarms(detector: TrafficDriftDetector) -> pd.DataFrame:
    windows = detector.result_.tables["windows.csv"]
    return windows[windows["drifted"]]


@pytest.fixture(scope="module")
def noise() -> pd.DataFrame:
    return many_small_shops()


def test_many_small_shop_windows_of_noise_raise_at_most_the_fdr_expected_alarms(
    noise: pd.DataFrame,
) -> None:
    """With every hypothesis null, Benjamini-Hochberg at 0.05 keeps the chance
    of any alarm in the run near 5%: 60 shops x 35 days x 4 features (about
    8,000 tests) give at most one.  Without the control (fdr=1) the effect
    thresholds alone alarm on the day-to-day wobble of small shops."""
    controlled = TrafficDriftDetector(fdr=0.05).fit(noise)
    assert len(controlled.result_.summary["scopes"]) == 61
    assert controlled.result_.summary["windows_tested"] >= 60 * 28
    assert len(alarms(controlled)) <= 1
    uncontrolled = TrafficDriftDetector(fdr=1.0).fit(noise)
    assert len(alarms(uncontrolled)) >= 5


def test_a_real_shift_among_many_noisy_shops_is_still_found() -> None:
    orders = many_small_shops(hijack=(17, 25))
    detector = TrafficDriftDetector().fit(orders)
    found = alarms(detector)
    hijacked = found[found["scope"] == "S017"]
    assert list(hijacked["window_start"]) == [START + pd.Timedelta(days=25)]
    assert len(found) <= 2
    finding = next(f for f in detector.result_.findings if f["scope"] == "S017")
    assert finding["feature"] == "channel"
    assert "channel=affiliate" in finding["top_movers"]
    assert finding["q_value"] <= 0.05
    assert finding["effect_beyond_noise"] >= 0.2


def test_held_back_alarm_says_why(noise: pd.DataFrame) -> None:
    windows = TrafficDriftDetector().fit(noise).result_.tables["windows.csv"]
    notes = windows.loc[windows["annotation"].str.contains("not alarmed"), "annotation"]
    assert len(notes) >= 1
    assert "> fdr 0.05" in notes.iloc[0]


def write_calendar(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "promotions.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def one_shop(days: int = 42, seed: int = 5, spike_day: int | None = None) -> pd.DataFrame:
    """One busy shop, steady traffic; ``spike_day`` triples the orders, mostly late
    evening and through affiliates (a shop-wide flash sale)."""
    rng = np.random.default_rng(seed)
    frames = []
    for d in range(days):
        day = START + pd.Timedelta(days=d)
        n = int(rng.poisson(400))
        hours = rng.integers(8, 23, n)
        channels = rng.choice(CHANNELS, n, p=CHANNEL_SHARES)
        if d == spike_day:
            extra = 2 * n
            hours = np.concatenate([hours, rng.integers(20, 24, extra)])
            channels = np.concatenate([channels, rng.choice(["affiliate", "live"], extra)])
            n += extra
        created = (
            day
            + pd.to_timedelta(hours, unit="h")
            + pd.to_timedelta(rng.integers(0, 3600, n), unit="s")
        )
        frames.append(
            pd.DataFrame(
                {
                    "order_id": [f"O{d}-{i}" for i in range(n)],
                    "buyer_id": [f"B{b}" for b in rng.integers(0, 10**6, n)],
                    "created_at": created,
                    "channel": channels,
                    "unit_price": np.round(rng.lognormal(4.0, 0.6, n), 2),
                    "quantity": 1,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


@pytest.mark.parametrize("kind", ["flash_sale", "festival"])
def test_quiet_days_after_a_promotion_raise_no_alarm(tmp_path: Path, kind: str) -> None:
    """The promotion's day is expected, and it never becomes the reference: the
    ordinary days after it (no aftermath declared) are not read as a drop."""
    orders = one_shop(spike_day=30)
    assert sorted(
        int((ts - START) / pd.Timedelta(days=1))
        for ts in alarms(TrafficDriftDetector(by_shop=False).fit(orders))["window_start"]
    ) == [30]
    calendar = write_calendar(
        tmp_path,
        "promotions:\n"
        "  - name: evening sale\n"
        "    start: 2026-10-07 20:00\n"
        "    end: 2026-10-08 00:00\n"
        f"    kind: {kind}\n"
        "    aftermath_days: 0\n",
    )
    detector = TrafficDriftDetector(calendar=str(calendar), by_shop=False).fit(orders)
    assert alarms(detector).empty
    windows = detector.result_.tables["windows.csv"]
    note = windows.loc[windows["window_start"] == START + pd.Timedelta(days=30), "annotation"]
    assert note.iloc[0].startswith("promotion evening sale")
    after = windows[windows["window_start"] > START + pd.Timedelta(days=30)]
    assert not after["annotation"].str.contains("after evening sale").any()
    assert len(after) == 11


def test_pearson_statistic_matches_scipy_without_sparse_cells() -> None:
    ref = np.array([400.0, 300.0, 200.0, 100.0])
    cur = np.array([30.0, 40.0, 20.0, 10.0])
    expected = stats.chi2_contingency(np.vstack([ref, cur]), correction=False)[0]
    statistic = categorical_statistic(ref, cur)
    assert statistic.value == pytest.approx(expected)
    assert statistic.df == 3


def test_sparse_cells_are_pooled_before_the_chi_squared_test() -> None:
    # 20 rare categories expecting a fraction of an order each would make a
    # 60-order window's chi-squared read hundreds on noise alone
    ref = np.array([600.0, 300.0] + [2.0] * 20)
    cur = np.array([40.0, 18.0] + [0.0] * 19 + [2.0])
    statistic = categorical_statistic(ref, cur)
    assert statistic.df <= 2
    assert statistic.p_value() > 0.01


def test_p_values_are_calibrated_for_small_windows() -> None:
    """Under no change, p-values of 80-order windows against a 7-day reference
    are at worst slightly conservative: about 1% of them fall below 0.01."""
    rng = np.random.default_rng(11)
    shares = np.array([0.45, 0.28, 0.15, 0.02, 0.07, 0.03])
    nulls = [
        categorical_statistic(rng.multinomial(560, shares), rng.multinomial(80, shares))
        for _ in range(4000)
    ]
    p = p_values(nulls)
    assert np.mean(p < 0.01) <= 0.015
    assert np.mean(p < 0.1) >= 0.05


def _feature(counts: int, name: str = "hour_of_day") -> FeatureCounts:
    return FeatureCounts(
        name, "categorical", np.zeros((1, counts)), [str(c) for c in range(counts)]
    )


def test_effect_beyond_noise_takes_out_what_noise_adds_to_psi() -> None:
    """A 200-order window's 24-hour profile reads PSI ~0.1 on noise alone; with
    a real shift of PSI ~0.3 the corrected effect stays near 0.3."""
    rng = np.random.default_rng(2)
    shares = np.full(24, 1 / 24)
    thresholds = DriftThresholds(psi=0.0, min_orders=50)
    raw, corrected = [], []
    for _ in range(300):
        test = check_categorical(
            _feature(24), rng.multinomial(1400, shares), rng.multinomial(200, shares), thresholds
        )
        assert test is not None
        raw.append(test.value)
        corrected.append(effect_beyond_noise(test, 1.0))
    assert np.mean(raw) > 0.08
    assert abs(np.mean(corrected)) < 0.02
    moved = shares.copy()
    moved[:5] *= 5
    moved /= moved.sum()
    true_psi = float(np.sum((moved - shares) * np.log(moved / shares)))
    shifted = [
        effect_beyond_noise(
            check_categorical(
                _feature(24), rng.multinomial(1400, shares), rng.multinomial(200, moved), thresholds
            ),
            1.0,
        )
        for _ in range(100)
    ]
    assert np.mean(shifted) == pytest.approx(true_psi, rel=0.2)


def test_volume_counts_only_when_its_confidence_bound_is_beyond_the_ratio() -> None:
    thresholds = DriftThresholds(min_orders=50)
    reference = np.array([60.0, 63.0, 58.0, 61.0, 64.0, 59.0, 62.0])
    small = check_volume(101.0, reference, "weekday", thresholds)
    assert small is not None and small.drifted  # x1.66, z > 4: the old rule alarmed
    assert effect_beyond_noise(small, 1.0) < 1.5  # but x1.66 on 101 orders may be x1.3
    large = check_volume(1010.0, reference * 10, "weekday", thresholds)
    assert large is not None and effect_beyond_noise(large, 1.0) >= 1.5
    drop = check_volume(200.0, reference * 10, "weekday", thresholds)
    assert drop is not None and effect_beyond_noise(drop, 1.0) <= 1 / 1.5


def test_dispersion_comes_from_the_scope_s_quiet_windows() -> None:
    """Real traffic varies more than independent orders: a scope whose quiet
    windows read chi-squared 3x their null median gets dispersion ~3, and a
    window at 5x is then no discovery."""
    rng = np.random.default_rng(4)
    thresholds = DriftThresholds(psi=0.0, min_orders=10)
    shares = CHANNEL_SHARES

    def wobbly() -> np.ndarray:
        return rng.multinomial(300, rng.dirichlet(shares * 60.0)).astype(float)

    reference = rng.multinomial(2100, shares).astype(float)
    windows = []
    for _ in range(40):
        test = check_categorical(_feature(5, "channel"), reference, wobbly(), thresholds)
        assert test is not None
        test.drifted = False
        windows.append([test])
    dispersion = windows[0][0].extra
    control_false_discoveries([("S1", windows)], fdr=0.05)
    assert 1.5 < dispersion["dispersion"] < 8
    assert all(math.isfinite(w[0].extra["p_value"]) for w in windows)


def test_late_orders_of_a_sku_promotion_are_set_aside_through_its_aftermath(
    tmp_path: Path,
) -> None:
    """A live-stream sale's SKU keeps selling the next morning (late payments,
    buyers who watched the replay): with ``aftermath_days`` declared, those
    orders are set aside as well, not read as a basket and channel shift."""
    orders = one_shop()
    rng = np.random.default_rng(8)
    n = 500
    late = pd.DataFrame(
        {
            "order_id": [f"LATE-{i}" for i in range(n)],
            "buyer_id": [f"L{i}" for i in range(n)],
            "created_at": START
            + pd.Timedelta(days=31, hours=9)
            + pd.to_timedelta(rng.integers(0, 3 * 3600, n), unit="s"),
            "channel": "live",
            "unit_price": 9.9,
            "quantity": 1,
            "sku_id": "SKU-LIVE",
        }
    )
    orders = pd.concat([orders.assign(sku_id="SKU-1"), late], ignore_index=True)

    def calendar(aftermath: str) -> str:
        return str(
            write_calendar(
                tmp_path,
                "promotions:\n"
                "  - name: live-stream\n"
                "    start: 2026-10-07 20:00\n"
                "    end: 2026-10-07 23:00\n"
                "    kind: flash_sale\n"
                "    sku_ids: [SKU-LIVE]\n" + aftermath,
            )
        )

    day_31 = START + pd.Timedelta(days=31)
    without = TrafficDriftDetector(calendar=calendar(""), by_shop=False).fit(orders)
    assert day_31 in set(alarms(without)["window_start"])
    declared = TrafficDriftDetector(calendar=calendar("    aftermath_days: 1\n"), by_shop=False)
    windows = declared.fit(orders).result_.tables["windows.csv"]
    assert alarms(declared).empty
    note = windows.loc[windows["window_start"] == day_31, "annotation"].iloc[0]
    assert "500 orders of declared SKU promotions set aside" in note


def test_a_night_of_bots_during_warm_up_does_not_poison_later_references() -> None:
    """The first days are warm-up (too few earlier days to test), so a night of
    bot traffic on the second day enters the reference untested.  A reference
    window that would itself drift against the other reference windows is left
    out: the ordinary days after it are not read as "night orders dropped"."""
    orders = one_shop(days=28)
    rng = np.random.default_rng(9)
    n = 300
    bots = pd.DataFrame(
        {
            "order_id": [f"BOT-{i}" for i in range(n)],
            "buyer_id": [f"X{i}" for i in range(n)],
            "created_at": START
            + pd.Timedelta(days=1, hours=1)
            + pd.to_timedelta(rng.integers(0, 4 * 3600, n), unit="s"),
            "channel": rng.choice(CHANNELS, n, p=CHANNEL_SHARES),
            "unit_price": np.round(rng.lognormal(4.0, 0.6, n), 2),
            "quantity": 1,
        }
    )
    detector = TrafficDriftDetector(by_shop=False).fit(pd.concat([orders, bots]))
    windows = detector.result_.tables["windows.csv"]
    assert windows.loc[1, "annotation"].startswith("warm-up")
    assert alarms(detector).empty
