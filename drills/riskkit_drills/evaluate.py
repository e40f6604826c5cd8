"""From step records to the incident timeline, targets met or missed, and
action items.

A milestone (T0-T4) is the end of the last step of its phase, and is only
reached when every step of that phase that ran succeeded.  The first public
statement is the end of the first successful ``public_statement`` step.
"""

from __future__ import annotations

from collections.abc import Collection

from riskkit_drills.journal import Journal, MilestoneRecord, PhaseResult, StepRecord
from riskkit_drills.models import MILESTONE_PHASES, Targets

__all__ = [
    "MILESTONE_LABELS",
    "escalations_triggered",
    "evaluate_journal",
    "milestones_from_steps",
    "phase_results",
]

MILESTONE_LABELS: dict[str, str] = {
    "T0": "fault injected",
    "T1": "detected",
    "T2": "acknowledged",
    "T3": "mitigated",
    "T4": "recovered",
    "first_public_statement": "first public statement",
    "regulator_notified": "regulator notified",
    "users_notified": "users notified",
}
_COMMUNICATION_PHASES = {
    "first_public_statement": ("public_statement", "first"),
    "regulator_notified": ("regulator_notification", "last"),
    "users_notified": ("user_notification", "last"),
}
_COMMUNICATION_MEASURES = ("first_public_statement", "regulator_notification", "user_notification")
# (phase name, start milestone, end milestone, Targets field)
_MEASURES: tuple[tuple[str, str, str, str], ...] = (
    ("detect", "T0", "T1", "detect_s"),
    ("acknowledge", "T1", "T2", "acknowledge_s"),
    ("mitigate", "T0", "T3", "mitigate_s"),
    ("recover", "T0", "T4", "recover_s"),
    ("rto", "T0", "T4", "rto_s"),
    ("first_public_statement", "T1", "first_public_statement", "first_public_statement_s"),
    ("regulator_notification", "T1", "regulator_notified", "regulator_notification_s"),
    ("user_notification", "T1", "users_notified", "user_notification_s"),
)


def _end(step: StepRecord) -> float:
    return step.started_offset_s + step.duration_s


def milestones_from_steps(steps: list[StepRecord], started_at_wall: float) -> list[MilestoneRecord]:
    """Milestones reached by these steps; ``started_at_wall`` is the drill's Unix start."""
    import datetime as dt

    def record(name: str, offset: float) -> MilestoneRecord:
        at = dt.datetime.fromtimestamp(started_at_wall + offset, dt.UTC)
        return MilestoneRecord(
            name=name,
            label=MILESTONE_LABELS[name],
            offset_s=round(offset, 3),
            at=at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        )

    found: list[MilestoneRecord] = []
    for name, phase in MILESTONE_PHASES.items():
        ran = [s for s in steps if s.phase == phase and s.status != "skipped"]
        if ran and all(s.status == "ok" for s in ran):
            found.append(record(name, max(_end(s) for s in ran)))
    for name, (phase_name, which) in _COMMUNICATION_PHASES.items():
        done = [_end(s) for s in steps if s.phase == phase_name and s.status == "ok"]
        if done:
            found.append(record(name, min(done) if which == "first" else max(done)))
    return found


def phase_results(
    journal: Journal, targets: Targets, rehearsed_phases: Collection[str]
) -> list[PhaseResult]:
    """Each measured interval against its tier target.  An interval whose end
    was rehearsed but never reached counts as missed; one the runbook does not
    rehearse in this mode is reported without a verdict."""
    offsets = {m.name: m.offset_s for m in journal.milestones}
    end_phase = {**MILESTONE_PHASES, **{k: v[0] for k, v in _COMMUNICATION_PHASES.items()}}
    results: list[PhaseResult] = []
    for phase, start, end, field in _MEASURES:
        target = getattr(targets, field)
        if phase == "rto" and target is None:
            continue
        communication = phase in _COMMUNICATION_MEASURES
        if communication and target is None and end_phase[end] not in rehearsed_phases:
            continue
        rehearsed = end_phase[end] in rehearsed_phases
        if start in offsets and end in offsets:
            seconds: float | None = round(offsets[end] - offsets[start], 3)
        else:
            seconds = None
        if target is None or not rehearsed:
            met: bool | None = None
        else:
            met = seconds is not None and seconds <= target
        results.append(
            PhaseResult(phase=phase, start=start, end=end, seconds=seconds, target=target, met=met)
        )
    if journal.rpo is not None:
        results.append(
            PhaseResult(
                phase="rpo",
                start="T0",
                end="restore",
                seconds=None if journal.rpo.orders_lost is None else float(journal.rpo.orders_lost),
                target=journal.rpo.target_orders,
                unit="orders",
                met=journal.rpo.met,
            )
        )
    return results


def _action_items(journal: Journal) -> tuple[list[str], list[str]]:
    deviations: list[str] = []
    actions: list[str] = []
    for phase in journal.phases:
        if not phase.missed:
            continue
        if phase.unit == "orders" and phase.seconds is None:
            error = journal.rpo.error if journal.rpo is not None else "unknown"
            deviations.append(f"RPO could not be measured: {error}")
            actions.append("Make the order list available after a restore so RPO can be counted.")
        elif phase.unit == "orders":
            deviations.append(
                f"RPO: {phase.seconds:g} confirmed orders lost (target {phase.target:g})"
            )
            actions.append(
                "Shorten the backup interval or replicate the order database: "
                f"{phase.seconds:g} confirmed orders were lost in the restore."
            )
        elif phase.seconds is None:
            deviations.append(f"{phase.phase}: {phase.end} was never reached")
            actions.append(f"Find out why {phase.phase} never completed and fix the runbook step.")
        else:
            deviations.append(
                f"{phase.phase}: {phase.seconds:.1f} s against a {phase.target:g} s target"
            )
            actions.append(
                f"Cut {phase.phase} time: {phase.seconds:.1f} s ({phase.start}→{phase.end}) "
                f"against {phase.target:g} s."
            )
    for step in journal.steps:
        if step.status in ("failed", "error", "no_answer"):
            deviations.append(f"step {step.id} {step.status}: {step.detail}")
            actions.append(f"Fix step '{step.title}' ({step.owner}): {step.status}.")
        elif step.status == "ok" and not step.within_budget:
            deviations.append(
                f"step {step.id} took {step.duration_s:.1f} s, over its {step.budget_s:g} s budget"
            )
            actions.append(f"Speed up '{step.title}' ({step.owner}) or revisit its budget.")
    for probe in journal.steady_state:
        if probe.when != "during" and not probe.ok:
            deviations.append(f"steady state {probe.when}: {probe.probe} failed ({probe.observed})")
    if any(p.when == "after" and not p.ok for p in journal.steady_state):
        actions.append("The system did not return to its steady state: investigate before 双11.")
    for rollback in journal.rollbacks:
        if not rollback.ok:
            deviations.append(f"rollback failed: {rollback.action}: {rollback.detail}")
            actions.append(f"Rollback '{rollback.action}' failed: clean up by hand and fix it.")
    for event in journal.stop_conditions:
        if event.breached:
            actions.append(f"Stop condition '{event.name}' fired: {event.detail}.")
    return deviations, actions


def escalations_triggered(journal: Journal) -> list[str]:
    """The tier's escalation steps the incident would have triggered: those due
    before recovery (T4), counted from detection (T1); all of them if it never
    recovered."""
    offsets = {m.name: m.offset_s for m in journal.milestones}
    unresolved = (
        offsets["T4"] - offsets["T1"] if "T1" in offsets and "T4" in offsets else float("inf")
    )
    return [
        f"after {float(e['after_s']):g} s: {', '.join(e['notify'])}"
        for e in journal.escalation
        if float(e["after_s"]) <= unresolved
    ]


def evaluate_journal(journal: Journal, targets: Targets, rehearsed_phases: Collection[str]) -> None:
    """Fill phases, deviations, action items and the outcome (in place)."""
    journal.phases = phase_results(journal, targets, rehearsed_phases)
    journal.escalations_triggered = escalations_triggered(journal)
    journal.deviations, journal.action_items = _action_items(journal)
    if journal.status == "aborted":
        journal.outcome = "aborted"
    elif journal.deviations or any(p.missed for p in journal.phases):
        journal.outcome = "targets_missed"
    else:
        journal.outcome = "targets_met"
