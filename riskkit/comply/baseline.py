"""Diff a run against a previous ``results.json``: new, still failing, fixed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from riskkit.comply.models import Finding
from riskkit.errors import InputError

__all__ = ["RESULTS_SCHEMA", "apply_baseline", "load_baseline"]

RESULTS_SCHEMA = "riskkit.comply.results/1"
_FAILING = {"fail", "waived"}


def load_baseline(path: str | Path) -> dict[tuple[str, str], str]:
    """(rule, subject) -> status of a previous run's results.json."""
    file = Path(path)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError("baseline results not found", file=file) from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not JSON: {exc}", file=file) from exc
    if not isinstance(data, dict) or data.get("schema_version") != RESULTS_SCHEMA:
        raise InputError(
            f"not a riskkit comply results.json (schema_version must be {RESULTS_SCHEMA!r})",
            file=file,
            column="schema_version",
        )
    statuses: dict[tuple[str, str], str] = {}
    for index, item in enumerate(data.get("findings", [])):
        try:
            statuses[(str(item["rule"]), str(item["subject"]))] = str(item["status"])
        except (KeyError, TypeError) as exc:
            raise InputError(f"finding {index} lacks rule/subject/status", file=file) from exc
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
