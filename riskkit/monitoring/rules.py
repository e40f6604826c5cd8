"""Prometheus alerting rules over the metrics riskkit exports.

Two facts about how batch metrics arrive shape every expression here:

* each run builds a fresh registry and ``pushadd``-s it (or writes a textfile), so
  a "counter" such as ``riskkit_detect_flagged_orders_total`` holds *that run's*
  count until the next run replaces it.  ``rate()``/``increase()`` would misread
  every new run as a counter reset, so the rules compare values over time instead;
* a failed run leaves ``*_last_success_timestamp_seconds`` out: the Pushgateway
  keeps the previous success, but a textfile from a failed run has none.  Staleness therefore looks at the highest
  timestamp seen over the whole window, not the current value, so it means
  exactly "no success within N hours".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from riskkit import __version__
from riskkit.errors import UsageError
from riskkit.monitoring.catalogue import BATCH_COMMANDS, last_success_metric
from riskkit.monitoring.promql import Scope, check_duration, select

__all__ = ["RuleOptions", "alerting_rules", "render_rules"]

# The flagged-orders baseline ends this long ago, so the run being judged (whose
# value stays in the Pushgateway until the next daily run) is not part of it.
BASELINE_OFFSET = "1d"
# Names the Pushgateway group (``run``: detector, policy, ...) when the series has one.
_RUN_SUFFIX = "{{ with $labels.run }} ({{ . }}){{ end }}"


@dataclass(frozen=True)
class RuleOptions:
    """Thresholds of the generated rules (the CLI flags of ``riskkit metrics rules``)."""

    stale_hours: int = 26  # a daily job plus two hours of slack
    stale_jobs: tuple[str, ...] = ("detect",)
    for_duration: str = "5m"
    flagged_factor: float = 2.0
    flagged_min: int = 20
    baseline: str = "7d"
    scope: Scope = field(default_factory=Scope)
    group: str = "riskkit"

    def validated(self) -> RuleOptions:
        if self.stale_hours < 1:
            raise UsageError(f"--stale-hours must be at least 1, not {self.stale_hours}")
        if not self.stale_jobs:
            raise UsageError("at least one --stale-job is needed")
        for job in self.stale_jobs:
            last_success_metric(job)  # raises UsageError for an unknown job
        check_duration(self.for_duration, "--for", allow_zero=True)
        check_duration(self.baseline, "--baseline")
        if self.flagged_factor <= 1:
            raise UsageError(f"--flagged-factor must be above 1, not {self.flagged_factor}")
        if self.flagged_min < 1:
            raise UsageError(f"--flagged-min must be at least 1, not {self.flagged_min}")
        if not self.group.strip():
            raise UsageError("--group must not be empty")
        return self


def _alert(
    name: str, expr: str, options: RuleOptions, summary: str, description: str, **labels: str
) -> dict[str, Any]:
    return {
        "alert": name,
        "expr": expr,
        "for": options.for_duration,
        "labels": {"severity": "warning", **labels},
        "annotations": {"summary": summary, "description": description},
    }


def stale_job_rule(group: str, options: RuleOptions) -> dict[str, Any]:
    metric = select(last_success_metric(group), options.scope)
    hours = options.stale_hours
    command = BATCH_COMMANDS[group]
    # absent_over_time covers a Pushgateway restarted without persistence, or a job
    # that never reported: no sample at all is also "no success within N hours".
    expr = (
        f"time() - max_over_time({metric}[{hours}h]) > {hours * 3600}\n"
        f"or\nabsent_over_time({metric}[{hours}h])"
    )
    return _alert(
        "RiskkitJobStale",
        expr,
        options,
        f"`{command}`{_RUN_SUFFIX} has not succeeded for {hours}h",
        f"No successful `{command}` run{_RUN_SUFFIX} within {hours}h "
        f"({last_success_metric(group)}). Check the scheduler and the job's exit code: "
        "a failed run still pushes its other metrics, without a success timestamp.",
        riskkit_job=f"riskkit_{group}",
    )


def flagged_jump_rule(options: RuleOptions) -> dict[str, Any]:
    flagged = select("riskkit_detect_flagged_orders_total", options.scope)
    factor = f"{options.flagged_factor:g}"
    expr = (
        f"{flagged} >= {options.flagged_min}\nand\n"
        f"{flagged} > {factor} * avg_over_time({flagged}[{options.baseline}] "
        f"offset {BASELINE_OFFSET})"
    )
    return _alert(
        "RiskkitFlaggedOrdersJump",
        expr,
        options,
        "{{ $labels.detector }} flagged over " + factor + "x its usual number of orders",
        "The last `riskkit detect` run flagged {{ $value }} orders with "
        "{{ $labels.detector }}, more than "
        f"{factor}x its average over the {options.baseline} before the last {BASELINE_OFFSET} "
        f"(and at least {options.flagged_min}). Review its findings.csv before acting.",
    )


def _failed_alert(
    name: str, metric: str, options: RuleOptions, summary: str, description: str
) -> dict[str, Any]:
    """A 0/1 gauge of the last run that reads 0: the run's own verdict was "failed"."""
    return _alert(name, f"{select(metric, options.scope)} == 0", options, summary, description)


def loadtest_gate_rule(options: RuleOptions) -> dict[str, Any]:
    return _failed_alert(
        "RiskkitLoadTestGateFailing",
        "riskkit_loadtest_gate_passed",
        options,
        "Load-test gate {{ $labels.gate }} is failing",
        "The last `riskkit loadtest run` breached SLO gate {{ $labels.gate }}; "
        "see its summary.json and report.html.",
    )


def drill_target_rule(options: RuleOptions) -> dict[str, Any]:
    return _failed_alert(
        "RiskkitDrillTargetMissed",
        "riskkit_drill_target_met",
        options,
        "Drill {{ $labels.runbook }} ({{ $labels.tier }}) missed its {{ $labels.phase }} target",
        "The last `riskkit drill run {{ $labels.runbook }} --tier {{ $labels.tier }}` "
        "took longer than the tier target for phase {{ $labels.phase }}; "
        "the drill's journal.json lists the action items.",
    )


def compliance_rising_rule(options: RuleOptions) -> dict[str, Any]:
    failing = select("riskkit_compliance_findings", options.scope, 'status="fail"')
    rising = f"{failing} > min_over_time({failing}[{options.baseline}])"
    # The findings carry their own severity (low/medium/high); the alert's
    # ``severity: warning`` label would overwrite it, so it moves to finding_severity.
    expr = f'label_replace(\n  {rising},\n  "finding_severity", "$1", "severity", "(.*)"\n)'
    return _alert(
        "RiskkitComplianceFindingsRising",
        expr,
        options,
        "Failing {{ $labels.finding_severity }} findings of {{ $labels.policy }} are rising",
        "`riskkit comply run` now reports {{ $value }} failing {{ $labels.finding_severity }} "
        "findings for policy {{ $labels.policy }}, more than at some point in the last "
        f"{options.baseline}. Compare results.json with an earlier run (--baseline).",
    )


def alerting_rules(options: RuleOptions) -> dict[str, Any]:
    """The ``groups:`` document Prometheus loads from ``rule_files``."""
    options = options.validated()
    rules = [stale_job_rule(group, options) for group in dict.fromkeys(options.stale_jobs)]
    rules += [
        flagged_jump_rule(options),
        loadtest_gate_rule(options),
        drill_target_rule(options),
        compliance_rising_rule(options),
    ]
    return {"groups": [{"name": options.group, "rules": rules}]}


class _RulesDumper(yaml.SafeDumper):
    """SafeDumper that writes multi-line expressions as ``|`` blocks, readable in review."""


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_RulesDumper.add_representer(str, _represent_text)


def render_rules(options: RuleOptions) -> str:
    """The rules as YAML, headed by where they come from."""
    document = alerting_rules(options)
    header = (
        f"# Generated by `riskkit metrics rules` (riskkit {__version__}).\n"
        "# Regenerate with the same flags rather than edit: docs/metrics.md.\n"
    )
    body = yaml.dump(document, Dumper=_RulesDumper, sort_keys=False, allow_unicode=True, width=120)
    return header + body
