"""Evaluate SLO gates against the aggregated run (exact log-bucketed histograms)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from riskkit_loadtests.results import RunData
from riskkit_loadtests.slo import PERCENTILES, SloSpec

__all__ = ["GateResult", "RunTargets", "evaluate_gates", "failed_gates"]

ANY = "*"


@dataclass(frozen=True)
class RunTargets:
    """What the run was asked to do: iterations due and the window they were due in."""

    expected_iterations: float
    window_s: float

    @property
    def target_rate(self) -> float:
        return self.expected_iterations / self.window_s if self.window_s else 0.0


@dataclass(frozen=True)
class GateResult:
    """One gate: ``passed`` unless ``observed`` crosses ``limit``."""

    gate_id: str
    kind: str
    subject: str
    description: str
    limit: float
    observed: float | None
    unit: str
    passed: bool

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def verdict(self) -> str:
        seen = "no samples" if self.observed is None else f"{self.observed:.4g} {self.unit}".strip()
        return f"{self.description}: {'pass' if self.passed else 'BREACH'} (observed {seen})"


def _expand(per_key: dict[str, Any], observed: list[str]) -> dict[str, Any]:
    """``*`` applies to every observed key without its own entry."""
    out: dict[str, Any] = {}
    for key in observed:
        if ANY in per_key:
            out[key] = per_key[ANY]
    for key, value in per_key.items():
        if key == ANY:
            continue
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


def evaluate_gates(
    data: RunData, slo: SloSpec, targets: RunTargets, final: bool = True
) -> list[GateResult]:
    """All gates; mid-run (``final=False``) skips the rate and dropped gates."""
    gates: list[GateResult] = []
    steps = sorted(data.steps)
    for step, limits in sorted(_expand(slo.latency_ms, steps).items()):
        totals = data.steps.get(step)
        for name, limit_ms in sorted(limits.items(), key=lambda item: PERCENTILES[item[0]]):
            observed = totals.histogram.percentile(PERCENTILES[name]) if totals else None
            gates.append(
                GateResult(
                    gate_id=f"latency.{step}.{name}",
                    kind="latency",
                    subject=step,
                    description=f"{step} {name} < {limit_ms:g} ms",
                    limit=limit_ms,
                    observed=observed,
                    unit="ms",
                    passed=observed is not None and observed < limit_ms,
                )
            )
    for step, limit in sorted(_expand(slo.error_rate, steps).items()):
        totals = data.steps.get(step)
        rate = totals.error_rate if totals and totals.requests else None
        gates.append(
            GateResult(
                gate_id=f"error_rate.{step}",
                kind="error_rate",
                subject=step,
                description=f"{step} error rate <= {limit:.2%}",
                limit=limit,
                observed=rate,
                unit="",
                passed=rate is not None and rate <= limit,
            )
        )
    checks = sorted(data.checks)
    for name, minimum in sorted(_expand(slo.checks, checks).items()):
        counts = data.checks.get(name)
        ratio = counts[0] / (counts[0] + counts[1]) if counts and sum(counts) else None
        gates.append(
            GateResult(
                gate_id=f"check.{name}",
                kind="check",
                subject=name,
                description=f"check {name} passes >= {minimum:.2%}",
                limit=minimum,
                observed=ratio,
                unit="",
                passed=ratio is not None and ratio >= minimum,
            )
        )
    if not final:
        return gates
    achieved = data.started / targets.window_s if targets.window_s else 0.0
    if slo.min_achieved_rate_ratio is not None and targets.expected_iterations > 0:
        ratio = data.started / targets.expected_iterations
        gates.append(
            GateResult(
                gate_id="rate.achieved_ratio",
                kind="rate",
                subject="run",
                description=f"achieved rate >= {slo.min_achieved_rate_ratio:.0%} of target "
                f"({targets.target_rate:.4g}/s)",
                limit=slo.min_achieved_rate_ratio,
                observed=ratio,
                unit="",
                passed=ratio >= slo.min_achieved_rate_ratio,
            )
        )
    if slo.min_achieved_rate is not None:
        gates.append(
            GateResult(
                gate_id="rate.achieved",
                kind="rate",
                subject="run",
                description=f"achieved rate >= {slo.min_achieved_rate:g}/s",
                limit=slo.min_achieved_rate,
                observed=achieved,
                unit="/s",
                passed=achieved >= slo.min_achieved_rate,
            )
        )
    scheduled = data.scheduled
    if slo.max_dropped_ratio is not None:
        ratio = data.dropped / scheduled if scheduled else 0.0
        gates.append(
            GateResult(
                gate_id="dropped.ratio",
                kind="dropped",
                subject="run",
                description=f"dropped iterations <= {slo.max_dropped_ratio:.2%}",
                limit=slo.max_dropped_ratio,
                observed=ratio,
                unit="",
                passed=ratio <= slo.max_dropped_ratio,
            )
        )
    if slo.max_dropped_iterations is not None:
        gates.append(
            GateResult(
                gate_id="dropped.count",
                kind="dropped",
                subject="run",
                description=f"dropped iterations <= {slo.max_dropped_iterations}",
                limit=float(slo.max_dropped_iterations),
                observed=float(data.dropped),
                unit="",
                passed=data.dropped <= slo.max_dropped_iterations,
            )
        )
    return gates


def failed_gates(gates: list[GateResult]) -> list[GateResult]:
    return [gate for gate in gates if not gate.passed]
