"""Running rules against an evidence folder: the engine behind ``riskkit comply run``."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from riskkit.comply.baseline import apply_baseline, load_baseline
from riskkit.comply.evidence import Evidence, EvidenceMissing
from riskkit.comply.loader import LoadedRule, load_policy_set, select_rules
from riskkit.comply.models import SEVERITY_RANK, Finding, Outcome
from riskkit.comply.templates import CheckContext, load_templates
from riskkit.comply.waivers import apply_waivers, load_waivers
from riskkit.errors import RiskkitError

__all__ = ["RunOptions", "RunResult", "gate_failures", "mask_subject", "run_compliance"]

log = logging.getLogger(__name__)

PASS_DETAIL_LIMIT = 5000  # passes per rule listed one by one; more are summarised
_FAILING = {"fail", "waived"}


@dataclass(frozen=True)
class RunOptions:
    """Everything that selects and shapes a compliance run."""

    evidence_dir: Path
    policy: str = "all"
    jurisdiction: str | None = None
    waivers_file: Path | None = None
    baseline_file: Path | None = None
    policies_dir: Path | None = None
    as_of: dt.datetime | None = None
    show_pii: bool = False
    rule_ids: tuple[str, ...] = ()  # only these rules (empty: every selected rule)
    pass_detail_limit: int = PASS_DETAIL_LIMIT


@dataclass
class RunResult:
    """The findings of one run with what is needed to reproduce and audit it."""

    options: RunOptions
    rules: list[LoadedRule]
    findings: list[Finding]
    evidence_files: dict[str, str]
    started_at: dt.datetime
    as_of: dt.datetime
    duration_seconds: float
    baseline: dict[str, Any] | None = None
    waivers: list[dict[str, Any]] = field(default_factory=list)

    def counts(self) -> Counter[tuple[str, str, str]]:
        """(policy, severity, status) -> number of findings."""
        return Counter((f.policy, f.severity, f.status) for f in self.findings)


def _pseudonym(value: str) -> str:
    return "anon-" + hashlib.sha256(value.encode("utf-8")).hexdigest()[:10]


def mask_subject(subject: str) -> str:
    """Replace the user id in ``user:<id> ...`` by a stable pseudonym (same id, same mask)."""
    parts = []
    for part in subject.split(" "):
        kind, sep, value = part.partition(":")
        parts.append(f"{kind}:{_pseudonym(value)}" if sep and kind == "user" else part)
    return " ".join(parts)


def _mask_outcome(outcome: Outcome) -> None:
    outcome.subject = mask_subject(outcome.subject)
    if "user_id" in outcome.evidence and outcome.evidence["user_id"] is not None:
        outcome.evidence["user_id"] = _pseudonym(str(outcome.evidence["user_id"]))


def _markets_apply(loaded: LoadedRule, evidence: Evidence) -> bool:
    wanted = loaded.rule.applies_when.markets
    if not wanted:
        return True
    try:
        markets = evidence.setting("markets")
    except EvidenceMissing:
        return True  # unknown markets: judge the rule rather than silently skip it
    return bool(set(wanted) & {str(m) for m in markets})


def _run_rule(loaded: LoadedRule, evidence: Evidence, as_of: dt.datetime) -> list[Outcome]:
    rule = loaded.rule
    if as_of.date() < rule.source.effective:
        return [
            Outcome(
                subject="*",
                status="not_applicable",
                message=f"run date {as_of.date()} is before the rule's effective date "
                f"{rule.source.effective}",
            )
        ]
    if not _markets_apply(loaded, evidence):
        return [
            Outcome(
                subject="*",
                status="not_applicable",
                message=f"the shop does not sell in {rule.applies_when.markets}",
            )
        ]
    context = CheckContext(evidence, loaded.params, rule.source.effective, as_of)
    try:
        return load_templates()[rule.check.template].run(context)
    except EvidenceMissing as missing:
        return [Outcome(subject="*", status="not_checked", message=missing.reason)]
    except RiskkitError:
        raise  # malformed evidence: the whole run stops with exit 2
    except Exception as exc:  # a check crashed: record it, keep auditing the other rules
        log.error("rule %s: check failed: %s: %s", rule.id, type(exc).__name__, exc)
        log.debug("traceback of rule %s", rule.id, exc_info=True)
        return [
            Outcome(
                subject="*", status="error", message=f"check failed: {type(exc).__name__}: {exc}"
            )
        ]


def _finding(loaded: LoadedRule, outcome: Outcome) -> Finding:
    rule = loaded.rule
    return Finding(
        rule=rule.id,
        policy=loaded.policy,
        jurisdiction=rule.jurisdiction,
        severity=rule.severity,
        subject=outcome.subject,
        status=outcome.status,
        message=outcome.message,
        evidence=outcome.evidence,
        citation={"title": rule.title, **rule.source.model_dump(mode="json")},
        remediation=rule.remediation,
    )


def _findings_of(
    loaded: LoadedRule,
    outcomes: list[Outcome],
    options: RunOptions,
    failing_before: set[tuple[str, str]],
) -> list[Finding]:
    """Findings of one rule; beyond ``pass_detail_limit`` passes, one summary pass finding.

    A pass that fixes a failure of the baseline is always listed on its own.
    """
    passes = sum(o.status == "pass" for o in outcomes)
    detailed = passes <= options.pass_detail_limit
    findings: list[Finding] = []
    summarised: list[str] = []
    for outcome in outcomes:
        if not options.show_pii:
            _mask_outcome(outcome)
        if (
            not detailed
            and outcome.status == "pass"
            and (loaded.rule.id, outcome.subject) not in failing_before
        ):
            summarised.append(outcome.subject)
            continue
        findings.append(_finding(loaded, outcome))
    if summarised:
        summary = Outcome(
            subject="*",
            status="pass",
            message=f"{len(summarised):,} subjects pass (listed one by one only up to "
            f"{options.pass_detail_limit:,} passes per rule)",
            evidence={"subjects": len(summarised), "sample": summarised[:20]},
        )
        findings.append(_finding(loaded, summary))
    return findings


def run_compliance(options: RunOptions) -> RunResult:
    """Load and select rules, run them on the evidence, apply waivers and the baseline."""
    started = dt.datetime.now(dt.UTC)
    clock = time.perf_counter()
    as_of = options.as_of or dt.datetime.now()
    policy_set = load_policy_set(options.policies_dir)
    rules = select_rules(policy_set.rules, options.policy, options.jurisdiction)
    if options.rule_ids:
        rules = [r for r in rules if r.rule.id in options.rule_ids]
    waivers = load_waivers(options.waivers_file, as_of.date()) if options.waivers_file else []
    previous = load_baseline(options.baseline_file) if options.baseline_file else None
    evidence = Evidence(options.evidence_dir, policy_set.vocabulary)
    failing_before = {k for k, status in (previous or {}).items() if status in _FAILING}
    findings: list[Finding] = []
    for loaded in rules:
        outcomes = _run_rule(loaded, evidence, as_of)
        findings += _findings_of(loaded, outcomes, options, failing_before)
    apply_waivers(findings, waivers, as_of.date())
    baseline = apply_baseline(findings, previous) if previous is not None else None
    return RunResult(
        options=options,
        rules=rules,
        findings=findings,
        evidence_files=evidence.file_hashes(),
        started_at=started,
        as_of=as_of,
        duration_seconds=time.perf_counter() - clock,
        baseline=baseline,
        waivers=[w.model_dump(mode="json") | {"expired": w.expired(as_of.date())} for w in waivers],
    )


def gate_failures(result: RunResult, fail_on: str | None) -> list[Finding]:
    """Non-waived failures at or above ``fail_on`` (none when no gate is set)."""
    if fail_on is None:
        return []
    floor = SEVERITY_RANK[fail_on]
    return [f for f in result.findings if f.status == "fail" and SEVERITY_RANK[f.severity] >= floor]
