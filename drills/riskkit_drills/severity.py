"""Pick an incident's tier from its impact metrics.

A tier matches when any metric it names reaches its threshold; the highest
matching tier wins.  "When unsure, pick the higher tier": if a metric that
could have put the incident one tier higher is unknown, the incident goes
one tier up, and the reason says which metric was missing.
"""

from __future__ import annotations

from dataclasses import dataclass

from riskkit_drills.models import TIERS, Runbook, SeverityCriteria, Tier

__all__ = ["ImpactMetrics", "TierDecision", "classify_tier"]

METRIC_NAMES: tuple[str, ...] = tuple(SeverityCriteria.model_fields)


@dataclass(frozen=True)
class ImpactMetrics:
    """What is known about the incident's impact; ``None`` = unknown."""

    checkout_failure_share: float | None = None
    gmv_lost_yuan_per_minute: float | None = None
    records_exposed: int | None = None
    negative_posts_per_hour: int | None = None


@dataclass(frozen=True)
class TierDecision:
    tier: Tier
    reasons: tuple[str, ...]


def _reached(criteria: SeverityCriteria, impact: ImpactMetrics) -> list[str]:
    reasons: list[str] = []
    for name in METRIC_NAMES:
        threshold = getattr(criteria, name)
        observed = getattr(impact, name)
        if threshold is not None and observed is not None and observed >= threshold:
            reasons.append(f"{name} {observed:g} >= {threshold:g}")
    return reasons


def _unknown(criteria: SeverityCriteria, impact: ImpactMetrics) -> list[str]:
    return [
        name
        for name in METRIC_NAMES
        if getattr(criteria, name) is not None and getattr(impact, name) is None
    ]


def classify_tier(runbook: Runbook, impact: ImpactMetrics) -> TierDecision:
    """The tier of an incident with this impact under ``runbook``'s definitions."""
    matched_index = len(TIERS) - 1
    reasons: tuple[str, ...] = ("no threshold reached: lowest tier",)
    for index, tier in enumerate(TIERS):
        hits = _reached(runbook.tiers[tier].criteria, impact)
        if hits:
            matched_index, reasons = index, tuple(hits)
            break
    if matched_index > 0:
        higher = TIERS[matched_index - 1]
        unknown = _unknown(runbook.tiers[higher].criteria, impact)
        if unknown:
            return TierDecision(
                higher,
                (
                    *reasons,
                    f"unsure ({', '.join(unknown)} unknown): picked the higher tier {higher}",
                ),
            )
    return TierDecision(TIERS[matched_index], reasons)
