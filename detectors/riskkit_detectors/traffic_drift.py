"""Traffic drift: shifts in who is buying and from where.

Each time window is compared with earlier windows only.  Category mixes of a
daily window use the last ``reference_windows`` eligible days; order volume
and the hour-of-day profile compare weekday with weekday and weekend with
weekend; windows shorter than a day compare every feature with the same time
of day on the same kind of day.  So a weekly cycle is the reference, not
drift.  Windows that drifted, and calendar windows that moved, are left out
of later references (one bad day does not become the new normal) unless the
shift persists.  The whole marketplace and every busy shop are separate
scopes.

Features: channel, platform, share of new accounts, hour-of-day profile,
basket value, province (from the shipping address), coupon use and order
volume.  Categorical features are tested with PSI (Jensen-Shannon reported),
basket value with the Wasserstein-1 distance scaled by the reference spread
(KS reported), volume against the median of the reference windows.  See
``docs/drift.md`` for thresholds and the severity mapping.
"""

from __future__ import annotations

from collections import deque
from dataclasses import replace
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd

from riskkit.detection import DetectorOption, PartitionedDetector
from riskkit.errors import InputError
from riskkit_detectors.drift_calendar import Promotion, PromotionCalendar, load_calendar
from riskkit_detectors.drift_checks import (
    DriftThresholds,
    FeatureTest,
    check_categorical,
    check_numeric,
    check_volume,
)
from riskkit_detectors.drift_control import control_false_discoveries
from riskkit_detectors.drift_features import parse_window, timestamps
from riskkit_detectors.drift_partitions import (
    DriftScan,
    merge_windowed,
    plan_windows,
    scan_lines,
)
from riskkit_detectors.drift_results import Scope, WindowOutcome, assemble_result, traffic_severity
from riskkit_detectors.drift_stats import robust_reference, settled_rows
from riskkit_detectors.drift_windows import (
    OrderLines,
    WindowedOrders,
    WindowPlan,
    count_windows,
    encode_orders,
    order_lines,
)

__all__ = ["TrafficDriftDetector", "traffic_severity"]

NAME = "traffic-drift"
# Fewer same-season reference windows than this: the window is warm-up, not tested.
MIN_REFERENCE_WINDOWS = 2
# This many drifted same-season windows in a row are a level shift, admitted to references.
PERSISTENT_SHIFT_WINDOWS = 3
# At most this many shops get a scope of their own (the busiest).
MAX_SHOP_SCOPES = 100
# Features that follow the weekly cycle: only compared within the same season.
SEASONAL_FEATURES = frozenset({"hour_of_day"})
# Promotion kinds that are expected traffic spikes (annotated, not alarmed).
SPIKE_KINDS = frozenset({"festival", "flash_sale", "other"})


def _promotion_pattern(promo: Promotion) -> tuple[object, ...]:
    # Recurring promotions (a flash sale every evening) share this key: when
    # they also run in the reference windows they are routine, not a spike.
    return (promo.kind, promo.skus, promo.audience, promo.start.time(), promo.end - promo.start)


class TrafficDriftDetector(PartitionedDetector):
    """Shifts in channel, platform, new accounts, hours, basket, region, coupons, volume.

    Parameters
    ----------
    window : str
        Window length: ``1D`` (default), ``1H``, ``6H``, ``30min``.
    reference_windows : int
        Number of earlier windows forming each window's reference (the last
        days for daily category mixes; the same kind of day, and time of day
        for shorter windows, for volume and the hour profile).
    calendar : str or None
        Promotions calendar (YAML); windows overlapping a shop-wide promotion
        that does not also run in the reference are annotated instead of
        alarmed; orders of SKU promotions are set aside.
    psi_threshold, wasserstein_threshold, volume_ratio : float
        Effect sizes at which a feature drifts (PSI; scaled Wasserstein;
        relative change of the order count).
    min_orders : int
        Orders a window (and its reference) needs before a feature is tested;
        also the average orders per window a shop needs for a scope of its own.
    by_shop : bool
        Test every busy shop on its own as well as the whole marketplace.
    fdr : float
        False discovery rate: an alarm also needs a Benjamini-Hochberg
        q-value at most this over every scope x feature x window tested, and
        an effect beyond its threshold once sampling noise is taken out
        (:mod:`riskkit_detectors.drift_control`).

    Attributes
    ----------
    result_ : DetectionResult
        ``windows.csv`` and ``findings.csv`` tables, JSONL findings, report section.
    windows_ : pandas.DataFrame
        One row per window and scope (the ``windows.csv`` table).
    """

    name: ClassVar[str] = NAME
    description: ClassVar[str] = "Shifts in who buys and from where, window by window"
    options: ClassVar[tuple[DetectorOption, ...]] = (
        DetectorOption("window", str, "1D", "Window length: 1D, 1H, 6H, 30min.", flag="--window"),
        DetectorOption(
            "reference_windows",
            int,
            7,
            "Earlier windows in each reference (volume and hours: same kind of day).",
            flag="--reference",
        ),
        DetectorOption(
            "calendar", str, None, "Promotions calendar YAML (expected spikes).", flag="--calendar"
        ),
        DetectorOption("psi_threshold", float, 0.2, "PSI at which a category mix has drifted."),
        DetectorOption(
            "wasserstein_threshold",
            float,
            0.1,
            "Scaled Wasserstein distance at which basket value has drifted.",
        ),
        DetectorOption(
            "volume_ratio", float, 0.5, "Relative change of order volume that counts as drift."
        ),
        DetectorOption("min_orders", int, 50, "Orders a window needs before it is tested."),
        DetectorOption(
            "by_shop",
            bool,
            True,
            "Also test every shop with enough orders on its own (scope = shop id).",
        ),
        DetectorOption(
            "fdr",
            float,
            0.05,
            "False discovery rate over every scope x feature x window.",
            flag="--fdr",
        ),
    )

    def __init__(
        self,
        window: str = "1D",
        reference_windows: int = 7,
        calendar: str | None = None,
        psi_threshold: float = 0.2,
        wasserstein_threshold: float = 0.1,
        volume_ratio: float = 0.5,
        min_orders: int = 50,
        by_shop: bool = True,
        fdr: float = 0.05,
    ) -> None:
        self.window = window
        self.reference_windows = reference_windows
        self.calendar = calendar
        self.psi_threshold = psi_threshold
        self.wasserstein_threshold = wasserstein_threshold
        self.volume_ratio = volume_ratio
        self.min_orders = min_orders
        self.by_shop = by_shop
        self.fdr = fdr

    def _season(self, start: pd.Timestamp, window: pd.Timedelta) -> str:
        day = pd.Timedelta(days=1)
        if window > day:
            return "all"
        kind = "weekend" if start.day_of_week >= 5 else "weekday"
        if window == day:
            return kind
        return f"{kind} {start:%H:%M}"

    def _check(self, orders: pd.DataFrame) -> pd.Timedelta:
        from riskkit.errors import UsageError

        if self.reference_windows < 1:
            raise UsageError("--reference must be at least 1 window")
        if not 0.0 < self.fdr <= 1.0:
            raise UsageError("--fdr must be above 0 and at most 1")
        for column in ("order_id", "buyer_id", "created_at"):
            if column not in orders.columns:
                raise InputError(f"the order frame has no {column!r} column", column=column)
        return parse_window(self.window)

    def _calendar(self) -> PromotionCalendar:
        return load_calendar(self.calendar) if self.calendar else PromotionCalendar()

    def _lines(self, orders: pd.DataFrame) -> OrderLines:
        created = timestamps(orders, "created_at")
        return order_lines(orders, self._set_aside(self._calendar(), orders, created))

    def scan_partition(self, orders: pd.DataFrame) -> DriftScan:
        self._check(orders)
        return scan_lines(self._lines(orders))

    def plan_partitions(self, scans: list[Any]) -> WindowPlan | None:
        window = parse_window(self.window)
        return plan_windows(scans, window, self.by_shop, self.min_orders, MAX_SHOP_SCOPES)

    def summarise_partition(
        self, orders: pd.DataFrame, plan: WindowPlan | None
    ) -> dict[str, WindowedOrders]:
        """Window counts of this partition per scope: ``all`` and each of the plan's shops."""
        self._check(orders)
        if plan is None:
            return {}
        encoded = encode_orders(self._lines(orders), plan)
        scopes: dict[str, WindowedOrders] = {"all": count_windows(encoded)}
        if encoded.shop is not None:
            for code, shop in enumerate(plan.shops):
                scopes[shop] = count_windows(encoded, np.flatnonzero(encoded.shop == code))
        return scopes

    def fit_summaries(
        self, summaries: list[dict[str, WindowedOrders]], plan: WindowPlan | None
    ) -> Self:
        """Add up the partitions' window counts and test every window against its reference."""
        calendar = self._calendar()
        thresholds = DriftThresholds(
            psi=self.psi_threshold,
            wasserstein=self.wasserstein_threshold,
            volume_ratio=self.volume_ratio,
            min_orders=self.min_orders,
        )
        scopes: list[Scope] = []
        if plan is not None:
            for scope in ["all", *plan.shops]:
                binned = merge_windowed([summary[scope] for summary in summaries])
                scopes.append(Scope(scope, binned, self._evaluate(binned, calendar, thresholds)))
        self._control(scopes)
        self.result_ = assemble_result(self.window, self.reference_windows, scopes)
        self.windows_ = self.result_.tables["windows.csv"]
        return self

    def _control(self, scopes: list[Scope]) -> None:
        """Benjamini-Hochberg over every test of the run: an alarm also needs q <= fdr."""
        control_false_discoveries(
            ((scope.name, (outcome.tests for outcome in scope.outcomes)) for scope in scopes),
            self.fdr,
        )
        for scope in scopes:
            for outcome in scope.outcomes:
                if outcome.drifted and not any(t.drifted for t in outcome.tests):
                    outcome.drifted = False
                    held = [t for t in outcome.tests if t.extra.get("held_back")]
                    note = (
                        "moved within the run's noise ("
                        + ", ".join(f"{t.feature} q={t.extra['q_value']:.2g}" for t in held)
                        + f" > fdr {self.fdr:g}): not alarmed"
                    )
                    outcome.annotation = "; ".join(filter(None, [outcome.annotation, note]))

    def _set_aside(
        self, calendar: PromotionCalendar, orders: pd.DataFrame, created: pd.Series
    ) -> np.ndarray:
        """Lines of declared SKU promotions (a flash sale on a few SKUs): expected
        traffic that is set aside instead of excusing the whole window, through
        the promotion's aftermath when one is declared (late orders of its SKUs)."""
        promotions = [
            p.model_copy(update={"end": p.aftermath_end})
            for p in calendar.promotions
            if p.skus and p.kind in SPIKE_KINDS
        ]
        if not promotions or "sku_id" not in orders.columns:
            return np.zeros(len(orders), dtype=bool)
        sku_only = PromotionCalendar(promotions=tuple(promotions))
        return sku_only.promotion_codes(created, orders["sku_id"].astype(str), {}) > 0

    def _evaluate(
        self,
        binned: WindowedOrders,
        calendar: PromotionCalendar,
        thresholds: DriftThresholds,
    ) -> list[WindowOutcome]:
        window = binned.window
        n = len(binned.starts)
        seasons = [self._season(start, window) for start in binned.starts]
        promos = [
            [
                p
                for p in calendar.overlapping(
                    start.to_pydatetime(), (start + window).to_pydatetime()
                )
                if p.kind in SPIKE_KINDS and not p.skus and p.audience is None
            ]
            for start in binned.starts
        ]
        patterns = [{_promotion_pattern(p) for p in window_promos} for window_promos in promos]
        after = [
            [
                p
                for p in calendar.in_aftermath(
                    start.to_pydatetime(), (start + window).to_pydatetime()
                )
                if p.kind in SPIKE_KINDS and p.shop_wide
            ]
            for start in binned.starts
        ]
        # Edge windows the data only partly covers would read as a volume drop.
        slack = window * 0.05
        partial = np.zeros(n, dtype=bool)
        if n:
            partial[0] = binned.first_order_at > binned.starts[0] + slack
            partial[-1] = binned.last_order_at < binned.ends[-1] - slack - pd.Timedelta(seconds=1)
        daily_mixes = window == pd.Timedelta(days=1)
        same_season: dict[str, deque[int]] = {}
        recent: deque[int] = deque(maxlen=self.reference_windows)
        # sub-daily windows: the same time of day on any kind of day, for the first
        # weeks when too few weekend (or weekday) windows exist yet
        same_time: dict[str, deque[int]] = {}
        streaks: dict[str, list[int]] = {}
        outcomes: list[WindowOutcome] = []
        # squared ratio bar: x2.25 / ÷2.25 with the default 0.5
        early_thresholds = replace(thresholds, volume_ratio=(1 + thresholds.volume_ratio) ** 2 - 1)
        for w in range(n):
            history = same_season.setdefault(seasons[w], deque(maxlen=self.reference_windows))
            streak = streaks.setdefault(seasons[w], [])
            seasonal_reference = list(history)
            clock = f"{binned.starts[w]:%H:%M}"
            any_day = same_time.setdefault(clock, deque(maxlen=self.reference_windows))
            notes: list[str] = []
            # Too few windows of this kind of day yet (the first weekend): borrow the
            # same time of day (shorter windows) or the last days (daily windows) of
            # any kind, with a stricter volume bar, since weekend levels differ.
            fallback = any_day if window < pd.Timedelta(days=1) else recent
            early = (
                window <= pd.Timedelta(days=1)
                and len(seasonal_reference) < MIN_REFERENCE_WINDOWS
                and len(fallback) >= MIN_REFERENCE_WINDOWS
            )
            if early:
                seasonal_reference = list(fallback)
                notes.append("early: compared with earlier windows of any kind of day")
            # Daily windows: mixes follow the latest days whatever the weekday (a gradual
            # trend is not drift); volume and hour profile compare weekday with weekday.
            # Shorter windows: every mix depends on the time of day, so all are seasonal.
            mix_reference = list(recent) if daily_mixes else seasonal_reference
            outcome = WindowOutcome()
            if partial[w]:
                notes.append("partial window (data starts or ends inside it)")
            outcome.tests = self._tests(
                binned,
                w,
                seasonal_reference,
                mix_reference,
                seasons[w] + (" (any day)" if early else ""),
                early_thresholds if early else thresholds,
                skip_volume=partial[w],
            )
            outcome.tested = bool(outcome.tests)
            if len(seasonal_reference) < MIN_REFERENCE_WINDOWS:
                notes.append(f"warm-up: {len(seasonal_reference)} earlier {seasons[w]} windows")
            new_patterns = {
                key
                for key in patterns[w]
                if sum(key in patterns[r] for r in seasonal_reference) * 2
                < max(len(seasonal_reference), 1)
            }
            moved = [t.feature for t in outcome.tests if t.drifted]
            if promos[w]:
                names = ", ".join(sorted({p.label() for p in promos[w]}))
                if new_patterns:
                    outcome.excused = True
                    expected = f"promotion {names}: expected"
                    notes.insert(0, expected + (f"; moved: {', '.join(moved)}" if moved else ""))
                else:
                    notes.insert(0, f"routine promotion {names} (also in the reference)")
            elif after[w]:
                names = ", ".join(sorted({p.label() for p in after[w]}))
                outcome.excused = True
                notes.insert(
                    0,
                    f"after {names}: expected" + (f"; moved: {', '.join(moved)}" if moved else ""),
                )
            if binned.set_aside[w]:
                notes.append(
                    f"{binned.set_aside[w]:,.0f} orders of declared SKU promotions set aside"
                )
            outcome.drifted = bool(moved) and not outcome.excused
            if outcome.drifted:
                streak.append(w)
                if len(streak) >= PERSISTENT_SHIFT_WINDOWS:
                    # A shift that lasts is the new normal: admit it, or every later
                    # window would be compared with a reference that no longer exists.
                    history.extend(streak)
                    any_day.extend(streak)
                    recent.extend(streak)
                    streak.clear()
                    notes.append("persistent shift: admitted to later references")
            else:
                streak.clear()
                if not (partial[w] or (outcome.excused and moved)):
                    history.append(w)
                    any_day.append(w)
                    recent.append(w)
            outcome.annotation = "; ".join(notes)
            outcomes.append(outcome)
        return outcomes

    def _tests(
        self,
        binned: WindowedOrders,
        w: int,
        seasonal_reference: list[int],
        mix_reference: list[int],
        season: str,
        thresholds: DriftThresholds,
        skip_volume: bool,
    ) -> list[FeatureTest]:
        tests: list[FeatureTest] = []
        seasonal_ready = len(seasonal_reference) >= MIN_REFERENCE_WINDOWS
        if seasonal_ready and not skip_volume:
            volume = check_volume(
                binned.orders[w], binned.orders[seasonal_reference], season, thresholds
            )
            if volume is not None:
                tests.append(volume)
        for feature in binned.features.values():
            reference = seasonal_reference if feature.name in SEASONAL_FEATURES else mix_reference
            if len(reference) < MIN_REFERENCE_WINDOWS:
                continue
            cur = feature.counts[w]
            ref_counts = feature.counts[reference]
            if feature.kind == "numeric":
                test = check_numeric(feature, ref_counts.sum(axis=0), cur, thresholds)
            elif len(feature.labels) == 2:
                test = check_categorical(feature, robust_reference(ref_counts), cur, thresholds)
            else:
                settled = settled_rows(ref_counts, thresholds.psi)
                if int(settled.sum()) < MIN_REFERENCE_WINDOWS:
                    continue  # the reference windows disagree: nothing settled to compare with
                pooled = ref_counts[settled].sum(axis=0)
                test = check_categorical(feature, pooled, cur, thresholds)
            if test is not None:
                tests.append(test)
        return tests

    def export_metrics(self, metrics: Any) -> None:
        """``riskkit_drift_windows_total`` and ``riskkit_drift_flagged_total`` by detector."""
        windows = metrics.counter(
            "riskkit_drift_windows_total", "Time windows tested for drift.", ("detector",)
        )
        flagged = metrics.counter(
            "riskkit_drift_flagged_total", "Windows or cells flagged as drifted.", ("detector",)
        )
        windows.labels(detector=NAME).inc(self.result_.summary.get("windows", 0))
        flagged.labels(detector=NAME).inc(self.result_.summary.get("windows_drifted", 0))
