"""Helpers for the monitoring tests: run ``riskkit metrics``, read names out of PromQL."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from riskkit.cli.main import cli

needs_promtool = pytest.mark.skipif(
    shutil.which("promtool") is None, reason="install Debian's prometheus package (promtool)"
)

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
# A metric name is an identifier followed by a selector, a range, or nothing that
# makes it a function call or a label list; riskkit's all start with riskkit_.
_IDENTIFIER = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_NOT_METRICS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right",
    "offset", "bool", "le", "inf", "nan",
}  # fmt: skip


def metric_names(expr: str) -> set[str]:
    """Metric names selected by ``expr``: identifiers that are neither functions
    (followed by ``(``), label names (inside ``{}`` or ``by (...)``), keywords nor
    durations.  Deliberately independent of riskkit.monitoring."""
    text = _STRING.sub('""', expr)
    text = re.sub(r"\{[^}]*\}", "{}", text)  # label matchers
    text = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", " ", text)  # grouping labels
    text = re.sub(r"\[[^\]]*\]", "[]", text)  # ranges
    text = re.sub(r"\$\w+", " ", text)  # Grafana variables
    names = set()
    for match in _IDENTIFIER.finditer(text):
        name = match.group()
        rest = text[match.end() :].lstrip()
        if rest.startswith("(") or name.lower() in _NOT_METRICS:
            continue
        if text[max(0, match.start() - 1)].isdigit():  # the "d" of "7d", the "h" of "26h"
            continue
        names.add(name)
    return names


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["metrics", *args], catch_exceptions=False)


def generated(*args: str) -> Any:
    """``riskkit metrics ARGS`` must succeed; its stdout parsed (YAML is a superset of JSON)."""
    result = run(*args)
    assert result.exit_code == 0, result.output
    return yaml.safe_load(result.stdout)


def promtool(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["promtool", *map(str, args)], capture_output=True, text=True, timeout=120, check=False
    )
