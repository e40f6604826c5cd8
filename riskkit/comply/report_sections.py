"""The HTML report's shape: findings grouped by rule, a sortable table per rule, summaries.

An auditor reads one section per rule: its citation, remediation and counts
once, then one table row per subject with the evidence flattened into columns.
Sorting needs no script: every row carries its rank in each column (CSS custom
properties), and a radio button per column and direction picks which rank the
grid orders by; without CSS the table reads in the default order (failures
first, then by subject).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from riskkit.comply.models import SEVERITY_RANK, STATUSES, Finding

__all__ = [
    "RuleSection",
    "SubjectRow",
    "failures_by_law",
    "failures_by_severity",
    "rule_sections",
]

_STATUS_ORDER = {
    "fail": 0,
    "error": 1,
    "waived": 2,
    "not_checked": 3,
    "not_applicable": 4,
    "pass": 5,
}
_MAX_COLUMNS = 12  # evidence columns per rule; further fields go to the "other evidence" cell
_SEVERITIES = sorted(SEVERITY_RANK, key=SEVERITY_RANK.__getitem__, reverse=True)  # high first
_ROW_LIMIT = 40  # evidence rows listed in one cell (the finding's own limit is the same)


@dataclass(frozen=True)
class SubjectRow:
    """One finding as a table row: display text per column and its rank per column."""

    status: str
    cells: list[str]
    ranks: list[int]
    evidence_rows: list[str]
    other: str
    waiver: str

    @property
    def style(self) -> str:
        """``--k0:3;--k1:0;...``: the row's rank in each sortable column (integers only)."""
        return ";".join(f"--k{i}:{rank}" for i, rank in enumerate(self.ranks))


@dataclass(frozen=True)
class RuleSection:
    """Everything the report shows for one rule."""

    rule: str
    title: str
    policy: str
    jurisdiction: str
    severity: str
    citation: dict[str, Any]
    remediation: str
    counts: dict[str, int]
    columns: list[str]
    shared: dict[str, str] = field(default_factory=dict)
    rows: list[SubjectRow] = field(default_factory=list)

    @property
    def failures(self) -> int:
        return self.counts["fail"]

    @property
    def needs_action(self) -> bool:
        return any(self.counts[s] for s in ("fail", "error", "waived", "not_checked"))

    @property
    def has_waivers(self) -> bool:
        return any(r.waiver for r in self.rows)


def _flatten(
    evidence: dict[str, Any],
) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
    """(scalar fields, nested ones as ``a.b``; evidence rows; everything else)."""
    scalars: dict[str, Any] = {}
    rows: list[dict[str, Any]] = []
    other: dict[str, Any] = {}
    for key, value in evidence.items():
        if isinstance(value, list) and not value:
            continue  # no evidence rows: the empty cell says so
        if isinstance(value, dict) and all(not isinstance(v, dict | list) for v in value.values()):
            scalars.update({f"{key}.{k}": v for k, v in value.items()})
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            rows += value
        elif isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
            scalars[key] = ", ".join(str(v) for v in value)
        elif isinstance(value, dict | list):
            other[key] = value
        else:
            scalars[key] = value
    return scalars, rows, other


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _sort_key(value: Any) -> tuple[int, float, str]:
    """Numbers by value, then text, then empty cells."""
    if isinstance(value, bool):
        return (1, 0.0, str(value))
    if isinstance(value, int | float) and value == value:
        return (0, float(value), "")
    if value is None or value == "" or value != value:
        return (2, 0.0, "")
    return (1, 0.0, str(value))


def _ranks(values: list[Any]) -> list[int]:
    order = sorted(range(len(values)), key=lambda i: _sort_key(values[i]))
    ranks = [0] * len(values)
    for rank, index in enumerate(order):
        ranks[index] = rank
    return ranks


def _row_text(row: dict[str, Any]) -> str:
    return " · ".join(f"{k} {_text(v)}" if k != "file_row" else f"row {v}" for k, v in row.items())


def _section(findings: list[Finding]) -> RuleSection:
    first = findings[0]
    findings = sorted(findings, key=lambda f: (_STATUS_ORDER[f.status], f.subject))
    flat = [_flatten(f.evidence) for f in findings]
    names: dict[str, None] = {}
    for scalars, _, _ in flat:
        names.update(dict.fromkeys(scalars))
    # a field with one value for every subject is said once, above the table
    shared = {
        name: flat[0][0][name]
        for name in names
        if len(flat) > 1 and all(name in f[0] and f[0][name] == flat[0][0][name] for f in flat)
    }
    evidence_columns = [n for n in names if n not in shared][:_MAX_COLUMNS]
    base = [[f.status, f.subject, f.message] for f in findings]
    values = [
        [*row, *(scalars.get(c) for c in evidence_columns)]
        for row, (scalars, _, _) in zip(base, flat, strict=True)
    ]
    columns = ["status", "subject", "finding", *evidence_columns]
    by_column = [_ranks([v[i] for v in values]) for i in range(len(columns))]
    by_column[0] = _ranks([_STATUS_ORDER[f.status] for f in findings])
    rows = []
    for index, (finding, row_values, (scalars, evidence_rows, other)) in enumerate(
        zip(findings, values, flat, strict=True)
    ):
        spill = {
            k: v for k, v in scalars.items() if k not in evidence_columns and k not in shared
        } | other
        waiver = finding.waiver or {}
        rows.append(
            SubjectRow(
                status=finding.status,
                cells=[_text(v) for v in row_values],
                ranks=[ranks[index] for ranks in by_column],
                evidence_rows=[_row_text(r) for r in evidence_rows[:_ROW_LIMIT]],
                other=json.dumps(spill, ensure_ascii=False, default=str) if spill else "",
                waiver=(
                    f"{waiver['ticket']} · {waiver['owner']} · until {waiver['expires']}"
                    + (" (EXPIRED)" if waiver.get("expired") else "")
                    if waiver
                    else ""
                ),
            )
        )
    counts: Counter[str] = Counter(f.status for f in findings)
    return RuleSection(
        rule=first.rule,
        title=str(first.citation.get("title", "")),
        policy=first.policy,
        jurisdiction=first.jurisdiction,
        severity=first.severity,
        citation=first.citation,
        remediation=first.remediation,
        counts={s: counts.get(s, 0) for s in STATUSES},
        columns=columns,
        shared={name: _text(value) for name, value in shared.items()},
        rows=rows,
    )


def rule_sections(findings: list[Finding]) -> list[RuleSection]:
    """One section per rule: rules with failures first (by severity, then count), then
    the other rules needing action, then the rest, each by rule id."""
    by_rule: dict[str, list[Finding]] = {}
    for finding in findings:
        by_rule.setdefault(finding.rule, []).append(finding)
    sections = [_section(group) for group in by_rule.values()]
    return sorted(
        sections,
        key=lambda s: (
            not s.failures,
            not s.needs_action,
            -SEVERITY_RANK[s.severity],
            -s.failures,
            s.rule,
        ),
    )


def failures_by_law(sections: list[RuleSection]) -> list[tuple[str, str, dict[str, int]]]:
    """(law, jurisdiction, failures per severity and ``total``), most failures first."""
    table: dict[tuple[str, str], dict[str, int]] = {}
    for section in sections:
        key = (str(section.citation.get("law", "")), section.jurisdiction)
        counts = table.setdefault(key, dict.fromkeys([*_SEVERITIES, "total"], 0))
        counts[section.severity] += section.failures
        counts["total"] += section.failures
    return sorted(
        ((law, jurisdiction, counts) for (law, jurisdiction), counts in table.items()),
        key=lambda item: (-item[2]["total"], item[0]),
    )


def failures_by_severity(sections: list[RuleSection]) -> dict[str, int]:
    """Failures per severity, high first, and ``total``."""
    counts = dict.fromkeys([*_SEVERITIES, "total"], 0)
    for section in sections:
        counts[section.severity] += section.failures
        counts["total"] += section.failures
    return counts
