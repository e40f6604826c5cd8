"""``riskkit loadtest capacity``: how much can the checkout take before a gate breaks?

The search runs the scenario at a constant arrival rate, one clean run per step, each
held ``step_duration_s`` (default 20 s: long enough for a queue to build and show in
p99).  It multiplies the rate by ``factor`` while the gates pass, then bisects between
the last passing and the first breaching rate until they are within ``precision``.
The capacity is the achieved request rate of the highest passing step.  When a step
is invalid because the GENERATOR saturated, the search stops and says so: the shop was
never the bottleneck, so no capacity is reported.
"""

from __future__ import annotations

import contextlib
import dataclasses
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from riskkit.atomic import write_json
from riskkit.errors import GateFailed, InvalidRun, UsageError
from riskkit.report import line_svg, write_report
from riskkit_loadtests.gates import GateResult, failed_gates
from riskkit_loadtests.plan import LoadTestOptions, check_target
from riskkit_loadtests.runner import RunOutcome, run_loadtest

__all__ = ["CapacityResult", "CapacitySearch", "run_capacity_search"]

_MAX_STEPS = 24
_STALL_RETRIES = 2


@dataclass(frozen=True)
class CapacitySearch:
    start_rate: float = 50.0
    max_rate: float = 5000.0
    step_duration_s: float = 20.0
    factor: float = 2.0
    precision: float = 0.05
    peak_rate: float | None = None
    safety: float = 1.5

    def validate(self) -> None:
        if not 0 < self.start_rate <= self.max_rate:
            raise UsageError("--start must be > 0 and <= --max")
        if self.factor <= 1.05:
            raise UsageError("--factor must be > 1.05")
        if not 0.005 <= self.precision <= 0.5:
            raise UsageError("--precision must be between 0.005 and 0.5")
        if self.step_duration_s < 3:
            raise UsageError("--step-duration must be >= 3s: shorter steps cannot be trusted")
        if self.safety < 1:
            raise UsageError("--safety must be >= 1")


@dataclass
class CapacityResult:
    summary: dict[str, Any]
    steps: list[dict[str, Any]] = field(default_factory=list)

    def raise_for_status(self) -> None:
        status = self.summary["status"]
        if status == "invalid":
            raise InvalidRun(self.summary["headline"])
        if status == "insufficient":
            raise GateFailed(self.summary["headline"])


def _worst_gate(gates: list[GateResult]) -> GateResult | None:
    """The gate that broke hardest (largest overshoot) names what breaks first."""
    failed = [g for g in failed_gates(gates) if g.observed is not None]
    if not failed:
        return None

    def overshoot(gate: GateResult) -> float:
        assert gate.observed is not None
        if gate.kind in ("latency", "error_rate"):
            return gate.observed / gate.limit if gate.limit else float("inf")
        return gate.limit / gate.observed if gate.observed else float("inf")

    return max(failed, key=overshoot)


@contextlib.contextmanager
def _shared_target(base: LoadTestOptions) -> Iterator[str]:
    if base.target:
        yield check_target(base.target, base.allow_remote)
        return
    from riskkit.shop.server import running_shop

    with running_shop() as url:
        yield url


def _step(
    base: LoadTestOptions, target: str, rate: float, duration_s: float, index: int
) -> RunOutcome:
    options = dataclasses.replace(
        base,
        target=target,
        rate=rate,
        users=None,
        duration_s=duration_s,
        compress=1.0,
        out_dir=base.out_dir / "steps" / f"{index:02d}-{rate:.0f}per_s",
        run_id=secrets.token_hex(3),
        metrics_port=None,
        write_html=False,  # capacity.html covers the steps
    )
    return run_loadtest(options)


def _describe(outcome: RunOutcome, rate: float) -> dict[str, Any]:
    summary = outcome.summary
    worst = _worst_gate(outcome.gates)
    return {
        "rate_per_s": round(rate, 2),
        "status": outcome.status,
        "achieved_per_s": summary["rate"]["achieved_per_s"],
        "requests_per_s": summary["rate"]["requests_per_s"],
        "dropped": summary["iterations"]["dropped"],
        "breached_gates": summary["breached_gates"],
        "first_breach": worst.verdict() if worst else None,
        "breaking_subject": worst.subject if worst else None,
        "invalid_reasons": summary["invalid_reasons"],
        "generator_saturated": any("saturated" in r for r in summary["invalid_reasons"]),
        "generator_stalled_seconds": summary["generator"]["stalled_seconds"],
        "status_note": None,
    }


def run_capacity_search(base: LoadTestOptions, search: CapacitySearch) -> CapacityResult:
    """Run the search; write ``capacity.json`` and ``capacity.html`` into ``base.out_dir``."""
    search.validate()
    steps: list[dict[str, Any]] = []
    passing: dict[str, Any] | None = None
    breaching: dict[str, Any] | None = None
    generator_limited = False
    with _shared_target(base) as target:

        def attempt(rate: float) -> dict[str, Any]:
            # A step during which the generator itself stalled (scheduler lag) measured
            # the machine, not the shop: run it again, at most twice.
            for _ in range(1 + _STALL_RETRIES):
                outcome = _step(base, target, rate, search.step_duration_s, len(steps))
                described = _describe(outcome, rate)
                steps.append(described)
                if not described["generator_stalled_seconds"]:
                    break
                described["status_note"] = "generator stalled: step repeated"
            return described

        rate = search.start_rate
        while rate <= search.max_rate and len(steps) < _MAX_STEPS:
            result = attempt(rate)
            if result["status"] == "pass":
                passing = result
                rate *= search.factor
                continue
            if result["status"] == "invalid":
                generator_limited = result["generator_saturated"]
                if not generator_limited:
                    breaching = result  # the shop made the run untrustworthy: treat as broken
            else:
                breaching = result
            break
        while (
            passing is not None
            and breaching is not None
            and breaching["rate_per_s"] / passing["rate_per_s"] > 1 + search.precision
            and len(steps) < _MAX_STEPS
        ):
            middle = (passing["rate_per_s"] + breaching["rate_per_s"]) / 2.0
            result = attempt(middle)
            if result["status"] == "pass":
                passing = result
            elif result["generator_saturated"]:
                generator_limited = True
                break
            else:
                breaching = result
    summary = _summarise(base, search, steps, passing, breaching, generator_limited)
    out = base.out_dir
    write_json(out / "capacity.json", summary)
    chart = None
    if steps:
        chart = line_svg(
            list(range(len(steps))),
            {
                "target iterations/s": [float(s["rate_per_s"]) for s in steps],
                "achieved requests/s": [float(s["requests_per_s"] or 0.0) for s in steps],
            },
            "Capacity search steps",
        )
    write_report(
        out / "capacity.html", "capacity_report.html", {"capacity": summary, "chart": chart}
    )
    return CapacityResult(summary=summary, steps=steps)


def _summarise(
    base: LoadTestOptions,
    search: CapacitySearch,
    steps: list[dict[str, Any]],
    passing: dict[str, Any] | None,
    breaching: dict[str, Any] | None,
    generator_limited: bool,
) -> dict[str, Any]:
    capacity = float(passing["requests_per_s"]) if passing else None
    gates_text = _gate_text(base)
    summary: dict[str, Any] = {
        "scenario": base.scenario,
        "search": dataclasses.asdict(search),
        "steps": steps,
        "capacity_requests_per_s": capacity,
        "capacity_iterations_per_s": float(passing["achieved_per_s"]) if passing else None,
        "highest_passing_rate_per_s": passing["rate_per_s"] if passing else None,
        "lowest_breaching_rate_per_s": breaching["rate_per_s"] if breaching else None,
        "breaks_first": breaching["breaking_subject"] if breaching else None,
        "first_breach": breaching["first_breach"] if breaching else None,
        "generator_limited": generator_limited,
        "peak_rate_per_s": search.peak_rate,
        "safety": search.safety,
        "headroom": None,
    }
    if generator_limited:
        summary["status"] = "invalid"
        summary["headline"] = (
            "the generator saturated before the shop did"
            + (f" (at {steps[-1]['rate_per_s']:,.0f}/s)" if steps else "")
            + ": no capacity can be reported; add --workers or machines"
        )
        return summary
    if passing is None:
        summary["status"] = "insufficient" if breaching else "invalid"
        summary["headline"] = f"{base.scenario} breaks already at {search.start_rate:,.0f}/s" + (
            f": {breaching['first_breach']}" if breaching and breaching["first_breach"] else ""
        )
        return summary
    assert capacity is not None
    parts = [f"{base.scenario} holds {capacity:,.0f} requests/s{gates_text}"]
    if breaching is not None and breaching["breaking_subject"]:
        parts.append(f"{breaching['breaking_subject']} breaks first")
    elif breaching is None:
        parts.append(f"nothing broke up to --max {search.max_rate:,.0f}/s")
    status = "ok"
    if search.peak_rate is not None:
        needed = search.peak_rate * search.safety
        ratio = needed / capacity if capacity else float("inf")
        summary["headroom"] = round(capacity / needed, 3) if needed else None
        if ratio > 1:
            parts.append(f"the peak needs {ratio:.1f}× more")
            status = "insufficient"
        else:
            parts.append(f"{1 / ratio:.1f}× headroom over the peak with safety {search.safety:g}")
    summary["status"] = status
    summary["headline"] = "; ".join(parts)
    return summary


def _gate_text(base: LoadTestOptions) -> str:
    limits = [
        f"{name} < {limit:g} ms"
        for step, per in base.slo.latency_ms.items()
        for name, limit in per.items()
    ]
    return f" at {', '.join(sorted(set(limits)))}" if limits else ""
