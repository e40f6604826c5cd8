"""README command 1: `riskkit demo` produces the demo report with every stage ok."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from riskkit.cli.main import cli


@pytest.mark.slow
@pytest.mark.integration
@pytest.mark.loadtest
def test_demo_runs_every_capability(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(cli, ["demo", "--out", str(out), "--rows", "20000"])
    assert result.exit_code == 0, result.output
    payload = json.loads((out / "demo.json").read_text(encoding="utf-8"))
    assert [s["name"] for s in payload["stages"]] == [
        "synth",
        "detect",
        "comply",
        "drill",
        "loadtest",
    ]
    for stage in payload["stages"]:
        assert stage["ok"], stage
        assert stage["report"] and (out / stage["report"]).exists(), stage
    audit = json.loads((out / "comply" / "results.json").read_text(encoding="utf-8"))
    assert audit["run"]["as_of"].startswith("2026-11-22T12:00"), audit["run"]
    drill = json.loads((out / "drill" / "journal.json").read_text(encoding="utf-8"))
    assert drill["outcome"] == "targets_met", drill["outcome"]
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "detect/report.html" in index
    assert f"report: {(out / 'index.html').resolve()}" in result.stdout


def test_demo_skip_and_bad_stage(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["demo", "--skip", "nope"])
    assert result.exit_code == 2


def test_stage_exit_codes_are_the_commands_own(tmp_path: Path) -> None:
    from riskkit.demo import _run_stage

    code, message = _run_stage(["orders", "check", str(tmp_path / "missing.csv")])
    assert code == 2
    assert message == ""  # the error went to stderr; stdout was empty
    code, _ = _run_stage(["orders", "formats"])
    assert code == 0
