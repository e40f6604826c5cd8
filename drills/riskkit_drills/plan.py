"""``--dry-run``: what a drill would do, step by step, without doing any of it."""

from __future__ import annotations

from riskkit_drills.models import (
    DetectorStep,
    FaultStep,
    HttpStep,
    JourneyStep,
    ManualStep,
    MetricStep,
    Mode,
    PromqlStep,
    Runbook,
    ShellStep,
    Step,
    Tier,
    WaitStep,
)
from riskkit_drills.probes import describe_probe

__all__ = ["describe_plan", "describe_step"]


def describe_step(step: Step, mode: Mode) -> str:
    """What the step does, in one line."""
    if mode == "tabletop":
        return f"prompt {step.owner}: {step.tabletop_prompt()}"
    if isinstance(step, ManualStep):
        return f"prompt {step.owner}: {step.prompt}"
    if isinstance(step, HttpStep):
        poll = f", polling every {step.poll_interval_s:g} s" if step.poll_interval_s else ""
        undo = f"; rollback {step.rollback.method} {step.rollback.path}" if step.rollback else ""
        return f"{step.method} {step.path} expecting {step.expect_status}{poll}{undo}"
    if isinstance(step, MetricStep):
        return f"read {step.metric}{step.labels or ''} from {step.path} until {step.expect}"
    if isinstance(step, PromqlStep):
        return f"PromQL {step.query} {step.expect}"
    if isinstance(step, ShellStep):
        undo = f"; rollback {' '.join(step.rollback_command)}" if step.rollback_command else ""
        return f"run {' '.join(step.command)} (only with --execute){undo}"
    if isinstance(step, FaultStep):
        if step.fault == "db_lost":
            return "POST /admin/disaster db_lost; rollback POST /admin/restore if still lost"
        return (
            f"inject {step.fault}={step.value:g} on {step.endpoint} for at most "
            f"{step.duration_s:g} s; rollback DELETE /admin/faults/{{id}}"
        )
    if isinstance(step, WaitStep):
        return f"wait {step.seconds:g} s"
    if isinstance(step, JourneyStep):
        return f"synthetic buyer checks out{' and pays' if step.pay else ''} until the outcome is {step.expect_outcome}"
    assert isinstance(step, DetectorStep)
    return f"run detectors {', '.join(step.detectors)} on {', '.join(step.inputs)} (>= {step.min_findings} findings)"


def describe_plan(
    runbook: Runbook, tier: Tier, mode: Mode, target: str | None, execute: bool
) -> list[str]:
    """The plan as printable lines (``riskkit drill run --dry-run``)."""
    spec = runbook.tiers[tier]
    targets = spec.targets.model_dump(exclude_none=True)
    lines = [
        f"DRY RUN — nothing is changed. Runbook {runbook.id}: {runbook.title}",
        f"tier {tier}: {spec.description}",
        f"mode {mode}; target {target or ('reference shop on loopback' if mode == 'simulated' else 'none')}"
        f"; execute={'yes' if execute else 'no'}",
        "targets: " + ", ".join(f"{k}={v:g}" for k, v in targets.items()),
        f"blast radius: {runbook.blast_radius.description} "
        f"(endpoints {', '.join(runbook.blast_radius.endpoints)}); "
        f"maximum duration {runbook.max_duration_s:g} s",
        "roles: "
        + "; ".join(f"{name.replace('_', ' ')} = {role.title}" for name, role in runbook.roles),
    ]
    if runbook.steady_state is not None and mode != "tabletop":
        lines.append(f"steady state ({runbook.steady_state.title}), before/during/after:")
        lines += [f"  - {describe_probe(p)}" for p in runbook.steady_state.probes]
    if runbook.stop_conditions and mode != "tabletop":
        lines.append("stop conditions (abort and roll back):")
        lines += [
            f"  - {describe_probe(c.probe)} (every {c.interval_s:g} s, {c.consecutive}x)"
            for c in runbook.stop_conditions
        ]
    if runbook.traffic is not None and mode != "tabletop":
        rpo = ", RPO counted" if runbook.traffic.measure_rpo else ""
        lines.append(
            f"load run: {runbook.traffic.rate_per_s:g} checkouts/s from "
            f"{runbook.traffic.workers} threads{rpo}"
        )
    lines.append("steps:")
    for number, step in enumerate(runbook.steps, start=1):
        if mode not in step.modes:
            lines.append(f"  {number:2d}. [{step.phase}] {step.id}: not in {mode} mode")
            continue
        skipped = (
            " (SKIPPED without --execute)" if isinstance(step, ShellStep) and not execute else ""
        )
        lines.append(
            f"  {number:2d}. [{step.phase}] {step.id} ({step.owner}, budget {step.budget_s:g} s)"
            f": {describe_step(step, mode)}{skipped}"
        )
        lines.append(f"      expected: {step.expected}")
    lines.append("rollbacks run in reverse order at the end, on abort, Ctrl-C or SIGTERM.")
    for escalation in spec.escalation:
        lines.append(f"escalate after {escalation.after_s:g} s to {', '.join(escalation.notify)}")
    return lines
