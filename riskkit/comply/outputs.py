"""Writing a run: results.json (the contract), report.html, report.md, junit.xml, metrics."""

from __future__ import annotations

import html
import json
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

from riskkit import __version__
from riskkit.atomic import write_bytes, write_json, write_text
from riskkit.comply.baseline import RESULTS_SCHEMA
from riskkit.comply.models import SEVERITY_RANK, STATUSES
from riskkit.comply.report_sections import failures_by_law, failures_by_severity, rule_sections
from riskkit.comply.run import RunResult
from riskkit.metrics import RunMetrics
from riskkit.report import write_report

__all__ = ["record_metrics", "results_payload", "summary", "write_outputs"]

_ORDER = {"fail": 0, "error": 1, "waived": 2, "not_checked": 3, "not_applicable": 4, "pass": 5}


def summary(result: RunResult) -> dict[str, Any]:
    """Counts by status, and by policy × severity × status."""
    by_status: Counter[str] = Counter(f.status for f in result.findings)
    table: dict[str, dict[str, dict[str, int]]] = {}
    for (policy, severity, status), count in sorted(result.counts().items()):
        table.setdefault(policy, {}).setdefault(severity, dict.fromkeys(STATUSES, 0))
        table[policy][severity][status] = count
    return {
        "by_status": {s: by_status.get(s, 0) for s in STATUSES},
        "by_policy": table,
        "rules": len(result.rules),
        "findings": len(result.findings),
    }


def results_payload(result: RunResult, fail_on: str | None) -> dict[str, Any]:
    options = result.options
    return {
        "schema_version": RESULTS_SCHEMA,
        "riskkit_version": __version__,
        "run": {
            "started_at": result.started_at.isoformat(),
            "as_of": result.as_of.isoformat(),
            "duration_seconds": round(result.duration_seconds, 3),
            "evidence_dir": str(options.evidence_dir),
            "policy": options.policy,
            "jurisdiction": options.jurisdiction,
            "policies_dir": str(options.policies_dir) if options.policies_dir else None,
            "waivers_file": str(options.waivers_file) if options.waivers_file else None,
            "baseline_file": str(options.baseline_file) if options.baseline_file else None,
            "fail_on": fail_on,
            "pii_masked": not options.show_pii,
        },
        "evidence_files": result.evidence_files,
        "summary": summary(result),
        "baseline": result.baseline,
        "waivers": result.waivers,
        "rules": [
            {
                "id": r.rule.id,
                "policy": r.policy,
                "title": r.rule.title,
                "jurisdiction": r.rule.jurisdiction,
                "severity": r.rule.severity,
                "source": r.rule.source.model_dump(mode="json"),
                "file": r.file,
            }
            for r in result.rules
        ],
        "findings": [f.model_dump(mode="json") for f in result.findings],
    }


def _junit(result: RunResult) -> bytes:
    suites = ET.Element("testsuites", name="riskkit comply")
    by_policy: dict[str, list[Any]] = {}
    for finding in result.findings:
        by_policy.setdefault(finding.policy, []).append(finding)
    for policy, findings in by_policy.items():
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=policy,
            tests=str(len(findings)),
            failures=str(sum(f.status == "fail" for f in findings)),
            errors=str(sum(f.status == "error" for f in findings)),
            skipped=str(
                sum(f.status in {"not_checked", "not_applicable", "waived"} for f in findings)
            ),
        )
        for finding in findings:
            case = ET.SubElement(suite, "testcase", classname=finding.rule, name=finding.subject)
            text = json.dumps(finding.evidence, ensure_ascii=False, default=str)
            citation = f"{finding.citation['law']} {finding.citation['article']}"
            if finding.status == "fail":
                node = ET.SubElement(
                    case, "failure", message=finding.message, type=finding.severity
                )
                node.text = f"{citation}\nRemediation: {finding.remediation}\nEvidence: {text}"
            elif finding.status == "error":
                ET.SubElement(case, "error", message=finding.message)
            elif finding.status != "pass":
                ET.SubElement(case, "skipped", message=f"{finding.status}: {finding.message}")
    data: bytes = ET.tostring(suites, encoding="utf-8", xml_declaration=True)
    return data


def _md_cell(value: object) -> str:
    """Markdown-safe text: no table breaks, no raw HTML (renderers may pass it through)."""
    return html.escape(str(value), quote=False).replace("|", "\\|").replace("\n", " ")


def _markdown(result: RunResult, payload: dict[str, Any]) -> str:
    lines = [
        "# riskkit compliance report",
        "",
        f"riskkit {__version__} · run {payload['run']['started_at']} · evidence "
        f"`{payload['run']['evidence_dir']}` · "
        + ("personal data masked" if payload["run"]["pii_masked"] else "PII NOT MASKED"),
        "",
        "| policy | severity | " + " | ".join(STATUSES) + " |",
        "|---|---|" + "---|" * len(STATUSES),
    ]
    for policy, severities in payload["summary"]["by_policy"].items():
        for severity, counts in sorted(severities.items(), key=lambda kv: -SEVERITY_RANK[kv[0]]):
            lines.append(
                f"| {policy} | {severity} | " + " | ".join(str(counts[s]) for s in STATUSES) + " |"
            )
    if result.baseline is not None:
        lines += [
            "",
            f"Against the baseline: {result.baseline['new']} new, "
            f"{result.baseline['still_failing']} still failing, "
            f"{result.baseline['fixed']} fixed.",
        ]
    lines += ["", "## Findings needing action", ""]
    shown = [f for f in result.findings if f.status in {"fail", "error", "waived", "not_checked"}]
    shown.sort(key=lambda f: (_ORDER[f.status], -SEVERITY_RANK[f.severity], f.rule, f.subject))
    for f in shown:
        lines += [
            f"### {_md_cell(f.status.upper())} · {f.rule} · {_md_cell(f.subject)}",
            "",
            f"- {_md_cell(f.message)}",
            f"- Severity: {f.severity}" + (f"; change: {f.change}" if f.change else ""),
            f"- Citation: {_md_cell(f.citation['law'])} {_md_cell(f.citation['article'])}"
            f" <{f.citation['url']}>",
            f"- Remediation: {_md_cell(f.remediation)}",
        ]
        if f.waiver:
            lines.append(
                f"- Waiver: {f.waiver['ticket']} by {f.waiver['owner']} until "
                f"{f.waiver['expires']}" + (" (EXPIRED)" if f.waiver["expired"] else "")
            )
        lines += [
            "",
            "```json",
            json.dumps(f.evidence, ensure_ascii=False, indent=1, default=str).replace("```", "'''"),
            "```",
            "",
        ]
    lines += ["## Evidence files (SHA-256)", ""]
    lines += [f"- `{name}` {digest}" for name, digest in payload["evidence_files"].items()]
    return "\n".join(lines) + "\n"


def write_outputs(result: RunResult, out_dir: str | Path, fail_on: str | None) -> dict[str, Path]:
    """Write every output file of a run and return their paths by kind."""
    out = Path(out_dir)
    payload = results_payload(result, fail_on)
    paths = {
        "results": out / "results.json",
        "report_html": out / "report.html",
        "report_md": out / "report.md",
        "junit": out / "junit.xml",
    }
    write_json(paths["results"], payload)
    write_bytes(paths["junit"], _junit(result))
    write_text(paths["report_md"], _markdown(result, payload))
    sections = rule_sections(result.findings)
    write_report(
        paths["report_html"],
        "comply_report.html",
        {
            "payload": payload,
            "statuses": STATUSES,
            "sections": sections,
            "by_law": failures_by_law(sections),
            "by_severity": failures_by_severity(sections),
            "max_columns": max((len(s.columns) for s in sections), default=0),
        },
        show_pii=result.options.show_pii,
    )
    return paths


def record_metrics(metrics: RunMetrics, result: RunResult) -> None:
    gauge = metrics.gauge(
        "riskkit_compliance_findings",
        "Compliance findings of the last run by policy, severity and status.",
        ("policy", "severity", "status"),
    )
    for policy in sorted({r.policy for r in result.rules}):
        for severity in SEVERITY_RANK:
            for status in STATUSES:
                gauge.labels(policy=policy, severity=severity, status=status).set(
                    result.counts().get((policy, severity, status), 0)
                )
    metrics.gauge(
        "riskkit_compliance_duration_seconds", "Wall time of the last compliance run."
    ).set(result.duration_seconds)
