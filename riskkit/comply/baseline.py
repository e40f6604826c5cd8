"""Diff a run against a previous ``results.json``: new, still failing, fixed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from riskkit.comply.models import Finding
from riskkit.datafile import decode_text
from riskkit.errors import InputError

__all__ = ["RESULTS_SCHEMA", "apply_baseline", "load_baseline"]

RESULTS_SCHEMA = "riskkit.comply.results/1"
_FAILING = {"fail", "waived"}


def load_baseline(path: str | Path) -> dict[tuple[str, str], str]:
    """(rule, subject) -> status of a previous run's results.json."""
    file = Path(path)
    try:
        raw = file.read_bytes()
    except FileNotFoundError as exc:
        raise InputError("baseline results not found", file=file) from exc
    text = decode_text(raw, file, "baseline results file")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"not JSON: {exc.msg}", file=file, row=exc.lineno) from None
    except RecursionError:
        raise InputError("not JSON: nested too deeply", file=file, row=1) from None
    if not isinstance(data, dict) or data.get("schema_version") != RESULTS_SCHEMA:
        raise InputError(
            f"not a riskkit comply results.json (schema_version must be {RESULTS_SCHEMA!r})",
            file=file,
            column="schema_version",
        )
    findings = data.get("findings", [])
    if not isinstance(findings, list):
        raise InputError("findings must be a list", file=file, column="findings")
    statuses: dict[tuple[str, str], str] = {}
    for index, item in enumerate(findings):
        if not isinstance(item, dict) or not all(
            isinstance(item.get(key), str) for key in ("rule", "subject", "status")
        ):
            raise InputError(
                f"finding {index} lacks rule/subject/status (text)",
                file=file,
                column=f"findings.{index}",
            )
        statuses[(item["rule"], item["subject"])] = item["status"]
    return statuses


def apply_baseline(findings: list[Finding], previous: dict[tuple[str, str], str]) -> dict[str, Any]:
    """Mark each finding's ``change`` (in place); return counts and previous failures now gone."""
    counts = {"new": 0, "still_failing": 0, "fixed": 0}
    seen: set[tuple[str, str]] = set()
    for finding in findings:
        seen.add(finding.key)
        before = previous.get(finding.key)
        if finding.status in _FAILING:
            finding.change = "still_failing" if before in _FAILING else "new"
        elif before in _FAILING and finding.status == "pass":
            finding.change = "fixed"
        else:
            continue
        counts[finding.change] += 1
    gone = [
        {"rule": rule, "subject": subject, "previous_status": status}
        for (rule, subject), status in sorted(previous.items())
        if status in _FAILING and (rule, subject) not in seen
    ]
    return {**counts, "no_longer_reported": gone}
