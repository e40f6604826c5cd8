"""Price discrimination: the same SKU sold at different prices to different buyers.

PIPL Art. 24 forbids unreasonable differential treatment in transaction
prices by automated decision; 消费者权益保护法实施条例 Art. 9 forbids
different prices for the same goods under the same trading conditions
without the consumer knowing (大数据杀熟).

The detector compares like with like: inside each stratum (one SKU, one
hour or day, one promotion state, one quantity tier) it compares the
*pre-coupon* unit price of each cohort of an attribute (platform, member
tier, new vs returning buyer, province) with the other cohorts.  Coupons
come after ``unit_price`` and declared promotions are strata of their own,
so neither reads as discrimination; comparing within the hour defuses
Simpson's paradox (an evening flash sale while one cohort shops in the
evening).  Strata are combined with the van Elteren test, the false
discovery rate is controlled across cells with Benjamini-Hochberg, and a
cell is flagged only for a material gap that recurs on several days.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd

from riskkit.detection import Detector, DetectorOption
from riskkit.errors import InputError, UsageError
from riskkit_detectors.drift_calendar import PromotionCalendar, load_calendar
from riskkit_detectors.drift_features import (
    buyer_is_returning,
    has_values,
    money,
    normalised_text,
    province_of,
    timestamps,
)
from riskkit_detectors.drift_stats import benjamini_hochberg
from riskkit_detectors.pricing_cells import compare_cohorts
from riskkit_detectors.pricing_findings import assemble_findings
from riskkit_detectors.pricing_strata import build_strata, quantity_tier, rank_within

__all__ = ["ATTRIBUTES", "PriceDiscriminationDetector", "price_severity"]

NAME = "price-discrimination"
ATTRIBUTES = ("platform", "member_tier", "new_vs_returning", "province")
MIN_PROVINCE_PARSE_SHARE = 0.5
_NS_PER_HOUR = 3_600_000_000_000
_USED_COLUMNS = (
    "order_id",
    "buyer_id",
    "created_at",
    "sku_id",
    "unit_price",
    "quantity",
    "platform",
    "member_tier",
    "ship_address",
    "buyer_registered_at",
)


def price_severity(gap_ratio: float) -> str:
    """Severity of a flagged cell from its relative price gap."""
    if gap_ratio >= 0.05:
        return "high"
    if gap_ratio >= 0.02:
        return "medium"
    return "low"


class PriceDiscriminationDetector(Detector):
    """Same SKU, same hour, same promotion, same quantity tier: do cohorts pay different prices?

    Parameters
    ----------
    attributes : str
        Comma-separated attributes whose cohorts are compared (``platform``,
        ``member_tier``, ``new_vs_returning``, ``province``).
    min_gap_pct, min_gap_yuan : float
        A gap is material when it is at least this percentage of the
        reference price *and* at least this many yuan per unit.
    fdr : float
        False discovery rate across all SKU x attribute x cohort cells (BH).
    bucket : str
        ``hour`` (default) or ``day``: the time bucket of a stratum.
    min_days : int
        Days with a material gap a cell needs before it is flagged.
    min_orders : int
        Comparable order lines the cohort and the reference each need.
    calendar : str or None
        Promotions calendar (YAML): declared promotions become strata.

    Attributes
    ----------
    result_ : DetectionResult
        ``findings.csv`` (every tested cell), JSONL findings (flagged cells,
        with example order pairs), report section.
    cells_ : pandas.DataFrame
        The ``findings.csv`` table.
    """

    name: ClassVar[str] = NAME
    description: ClassVar[str] = "Same SKU, same conditions, different price by buyer cohort"
    options: ClassVar[tuple[DetectorOption, ...]] = (
        DetectorOption(
            "attributes",
            str,
            ",".join(ATTRIBUTES),
            "Comma-separated cohort attributes to compare.",
        ),
        DetectorOption("min_gap_pct", float, 1.0, "Smallest material gap, percent of the price."),
        DetectorOption("min_gap_yuan", float, 0.5, "Smallest material gap per unit, in yuan."),
        DetectorOption(
            "fdr", float, 0.05, "False discovery rate across cells (Benjamini-Hochberg)."
        ),
        DetectorOption("bucket", str, "hour", "Time bucket of a stratum: hour or day."),
        DetectorOption("min_days", int, 3, "Days with a material gap needed to flag a cell."),
        DetectorOption("min_orders", int, 20, "Comparable lines each side needs to be tested."),
        DetectorOption("calendar", str, None, "Promotions calendar YAML (declared promotions)."),
    )

    def __init__(
        self,
        attributes: str = ",".join(ATTRIBUTES),
        min_gap_pct: float = 1.0,
        min_gap_yuan: float = 0.5,
        fdr: float = 0.05,
        bucket: str = "hour",
        min_days: int = 3,
        min_orders: int = 20,
        calendar: str | None = None,
    ) -> None:
        self.attributes = attributes
        self.min_gap_pct = min_gap_pct
        self.min_gap_yuan = min_gap_yuan
        self.fdr = fdr
        self.bucket = bucket
        self.min_days = min_days
        self.min_orders = min_orders
        self.calendar = calendar

    def _attribute_list(self) -> list[str]:
        names = [a.strip() for a in str(self.attributes).split(",") if a.strip()]
        unknown = [a for a in names if a not in ATTRIBUTES]
        if unknown or not names:
            raise UsageError(
                f"--attributes: unknown {', '.join(unknown) or '(none given)'}; "
                f"choose from {', '.join(ATTRIBUTES)}"
            )
        return list(dict.fromkeys(names))

    def _check_parameters(self) -> int:
        if self.bucket not in ("hour", "day"):
            raise UsageError("--bucket must be hour or day")
        if not 0 < self.fdr < 1:
            raise UsageError("--fdr must be between 0 and 1")
        if self.min_gap_pct < 0 or self.min_gap_yuan < 0:
            raise UsageError("--min-gap-pct and --min-gap-yuan cannot be negative")
        if self.min_days < 1 or self.min_orders < 1:
            raise UsageError("--min-days and --min-orders must be at least 1")
        return 24 if self.bucket == "hour" else 1

    def fit(self, orders: pd.DataFrame) -> Self:
        """Compare cohort prices within strata and flag material, recurring, significant gaps."""
        attributes = self._attribute_list()
        buckets_per_day = self._check_parameters()
        for column in ("order_id", "buyer_id", "created_at"):
            if column not in orders.columns:
                raise InputError(f"the order frame has no {column!r} column", column=column)
        calendar = load_calendar(self.calendar) if self.calendar else PromotionCalendar()
        unavailable: dict[str, str] = {}
        for column in ("sku_id", "unit_price"):
            if not has_values(orders, column):
                unavailable[NAME] = f"the export has no {column} values: no prices to compare"
        if unavailable:
            return self._finish(None, unavailable, {})

        price = money(orders, "unit_price").to_numpy()
        created = timestamps(orders, "created_at")
        usable = np.isfinite(price) & (price > 0) & orders["sku_id"].notna().to_numpy()
        usable &= created.notna().to_numpy()
        wanted = [c for c in _USED_COLUMNS if c in orders.columns]
        if usable.all():  # the common case: no copy of ten million rows
            frame = orders[wanted].reset_index(drop=True)
        else:
            frame = orders.loc[usable, wanted].reset_index(drop=True)
        price = price[usable]
        created = created[usable].reset_index(drop=True)
        returning = buyer_is_returning(frame, created)
        labels = self._cohort_labels(frame, returning, attributes, unavailable)

        audiences: dict[str, pd.Series] = {"new": ~returning, "returning": returning}
        if any(p.audience for p in calendar.promotions):  # masks only when a promotion needs them
            for attribute in ("member_tier", "platform"):
                if attribute in labels:
                    for value in labels[attribute].dropna().unique():
                        audiences.setdefault(str(value), labels[attribute] == value)
        sku_code, sku_labels = pd.factorize(frame["sku_id"])
        hours = created.to_numpy(dtype="datetime64[ns]").view(np.int64) // _NS_PER_HOUR
        bucket = hours if buckets_per_day == 24 else hours // 24
        promotion = calendar.promotion_codes(created, frame["sku_id"], audiences)
        quantity = (
            money(frame, "quantity").to_numpy()
            if "quantity" in frame.columns
            else np.ones(len(frame))
        )
        strata = build_strata(
            sku_code.astype(np.int64),
            bucket,
            promotion.astype(np.int64),
            quantity_tier(quantity),
            buckets_per_day,
        )
        ranks = rank_within(strata.code, price, strata.n_strata)
        all_cells: list[pd.DataFrame] = []
        context: dict[str, Any] = {
            "frame": frame,
            "price": price,
            "strata": strata,
            "sku_labels": sku_labels,
            "buckets_per_day": buckets_per_day,
            "daily": {},
            "pairs": {},
            "cohorts": {},
        }
        for attribute, series in labels.items():
            cohort_code, cohort_labels = pd.factorize(series)
            # Lines whose cohort is unknown (a masked address) count among "the rest"
            # for every cohort but are never a cohort themselves: one ranking serves all.
            unknown = len(cohort_labels)
            cohort_code = np.where(cohort_code >= 0, cohort_code, unknown).astype(np.int64)
            tables = compare_cohorts(
                strata,
                ranks,
                strata.code,
                cohort_code,
                price,
                self.min_gap_yuan,
                self.min_gap_pct / 100,
            )
            cells = tables.cells[tables.cells["cohort"] != unknown].reset_index(drop=True)
            cells["attribute"] = attribute
            names = np.asarray(cohort_labels, dtype=object)
            cells["cohort_label"] = names[cells["cohort"].to_numpy()]
            cells["reference_cohort"] = (
                names[1 - cells["cohort"].to_numpy()] if len(names) == 2 else "others"
            )
            all_cells.append(cells)
            context["daily"][attribute] = tables.daily
            context["pairs"][attribute] = tables.pairs
            context["cohorts"][attribute] = (cohort_code, names)
        return self._finish(
            pd.concat(all_cells, ignore_index=True) if all_cells else None, unavailable, context
        )

    def _cohort_labels(
        self,
        frame: pd.DataFrame,
        returning: pd.Series,
        attributes: list[str],
        unavailable: dict[str, str],
    ) -> dict[str, pd.Series]:
        labels: dict[str, pd.Series] = {}
        for attribute in attributes:
            if attribute == "new_vs_returning":
                series = pd.Series(
                    pd.Categorical.from_codes(
                        returning.to_numpy().astype(np.int64),
                        categories=pd.Index(["new", "returning"]),
                    ),
                    index=frame.index,
                )
            elif attribute == "province":
                if not has_values(frame, "ship_address"):
                    unavailable[attribute] = "the export has no shipping addresses"
                    continue
                series = province_of(frame["ship_address"])
                share = float(series.notna().mean())
                if share < MIN_PROVINCE_PARSE_SHARE:
                    unavailable[attribute] = (
                        f"only {share:.0%} of shipping addresses name a Chinese province "
                        "(masked or non-Chinese addresses)"
                    )
                    continue
            else:
                if not has_values(frame, attribute):
                    unavailable[attribute] = (
                        f"the export has no {attribute} values "
                        "(Shopify and Taobao order exports do not carry it)"
                    )
                    continue
                series = normalised_text(frame[attribute])
            distinct = series.dropna().nunique()
            if distinct < 2:
                unavailable[attribute] = (
                    f"only {distinct} {attribute} value(s) in the data: nothing to compare"
                )
                continue
            labels[attribute] = series
        return labels

    def _finish(
        self, cells: pd.DataFrame | None, unavailable: dict[str, str], context: dict[str, Any]
    ) -> Self:
        if cells is not None and len(cells):
            tested = (cells["m"] >= self.min_orders) & (cells["n"] >= self.min_orders)
            cells = cells.loc[tested].reset_index(drop=True)
            cells["q_value"] = benjamini_hochberg(cells["p_value"].to_numpy())
            gap_ratio = cells["price_ratio"] - 1
            cells["material"] = (cells["gap_yuan"] >= self.min_gap_yuan) & (
                gap_ratio >= self.min_gap_pct / 100
            )
            cells["recurring"] = cells["material_days"] >= self.min_days
            cells["significant"] = cells["q_value"] <= self.fdr
            cells["flagged"] = cells["material"] & cells["recurring"] & cells["significant"]
        self.result_ = assemble_findings(self, cells, unavailable, context)
        self.cells_ = self.result_.tables["findings.csv"]
        return self

    def export_metrics(self, metrics: Any) -> None:
        """``riskkit_price_discrimination_cells{flagged}`` and ``riskkit_drift_flagged_total``."""
        cells = metrics.gauge(
            "riskkit_price_discrimination_cells",
            "SKU x attribute x cohort cells tested for price discrimination.",
            ("flagged",),
        )
        flagged = int(self.result_.summary.get("cells_flagged", 0))
        tested = int(self.result_.summary.get("cells_tested", 0))
        cells.labels(flagged="true").set(flagged)
        cells.labels(flagged="false").set(tested - flagged)
        metrics.counter(
            "riskkit_drift_flagged_total", "Windows or cells flagged as drifted.", ("detector",)
        ).labels(detector=NAME).inc(flagged)
