"""Compliance checklists: policy files (YAML data) + check templates (Python) over an evidence folder.

``riskkit comply run`` loads the rules, runs each rule's template on the
evidence, applies waivers and a baseline, and writes results.json,
report.html, report.md and junit.xml.  See docs/compliance.md.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

from riskkit.comply.evidence import Evidence, EvidenceMissing
from riskkit.comply.loader import load_policies, policy_json_schema, select_rules
from riskkit.comply.models import Finding, PolicyFile, Rule
from riskkit.comply.outputs import write_outputs
from riskkit.comply.run import RunOptions, RunResult, gate_failures, run_compliance
from riskkit.comply.waivers import Waiver, load_waivers

__all__ = [
    "Evidence",
    "EvidenceMissing",
    "Finding",
    "PolicyFile",
    "Rule",
    "RunOptions",
    "RunResult",
    "Waiver",
    "gate_failures",
    "load_policies",
    "load_waivers",
    "policy_json_schema",
    "run_compliance",
    "sample_evidence_dir",
    "select_rules",
    "write_outputs",
]


def sample_evidence_dir() -> Path:
    """The shipped sample evidence folder (compliant and violating rows for every rule)."""
    return Path(str(importlib.resources.files("riskkit_policies") / "examples" / "evidence"))
