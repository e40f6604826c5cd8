"""Prometheus metrics of a drill run (job ``riskkit_drill``)."""

from __future__ import annotations

from riskkit.metrics import RunMetrics
from riskkit_drills.journal import Journal

__all__ = ["record_drill_metrics"]


def record_drill_metrics(metrics: RunMetrics, journal: Journal) -> None:
    """Phase durations, targets met, aborts; labels: runbook, tier, phase only."""
    seconds = metrics.gauge(
        "riskkit_drill_phase_seconds",
        "Measured duration of a drill phase (detect, acknowledge, mitigate, recover, rto...).",
        ("runbook", "tier", "phase"),
    )
    met = metrics.gauge(
        "riskkit_drill_target_met",
        "1 when the phase met its tier target, 0 when it missed it.",
        ("runbook", "tier", "phase"),
    )
    aborts = metrics.counter(
        "riskkit_drill_aborts_total",
        "Drills aborted by a stop condition, the maximum duration or a signal.",
        ("runbook", "tier"),
    )
    lost = metrics.gauge(
        "riskkit_drill_rpo_orders_lost",
        "Confirmed orders lost in a disaster-recovery drill.",
        ("runbook", "tier"),
    )
    runbook, tier = journal.runbook["id"], journal.tier
    aborts.labels(runbook=runbook, tier=tier).inc(0)
    for phase in journal.phases:
        if phase.unit == "seconds" and phase.seconds is not None:
            seconds.labels(runbook=runbook, tier=tier, phase=phase.phase).set(phase.seconds)
        if phase.met is not None:
            met.labels(runbook=runbook, tier=tier, phase=phase.phase).set(1 if phase.met else 0)
    if journal.rpo is not None and journal.rpo.orders_lost is not None:
        lost.labels(runbook=runbook, tier=tier).set(journal.rpo.orders_lost)
    if journal.outcome == "aborted":
        aborts.labels(runbook=runbook, tier=tier).inc()
