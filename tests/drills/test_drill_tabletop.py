"""Tabletop drills: timed prompts for people, driven through stdin."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from drill_helpers import TEST_ROLES, invoke, read_journal, start_drill, tiers_yaml

TABLETOP = """
schema_version: 1
id: tabletop-test
title: Tabletop test
incident_type: test
summary: four prompts, a 1 s acknowledgement target
blast_radius: {description: nothing, endpoints: ["*"]}
max_duration_s: 60
steps:
  - {id: scenario, kind: manual, phase: inject, title: Scenario, prompt: 'Checkout fails. Ready?', expected: ready, budget_s: 30}
  - {id: spot-it, kind: manual, phase: detect, title: Spot it, prompt: 'Which alert fires?', expected: alert named, budget_s: 30}
  - {id: ack, kind: manual, phase: acknowledge, owner: incident_commander, title: Acknowledge, prompt: 'Acknowledge (type ack)', accept: '^ack', expected: acknowledged, budget_s: 30}
  - {id: fix, kind: http, phase: mitigate, title: Roll back, path: /admin/faults, prompt: 'How do you roll back?', expected: rolled back, budget_s: 30}
  - {id: verify, kind: journey, phase: recover, title: Verify, expect_outcome: created, expected: checkout works, budget_s: 30}
"""


def _write(folder: Path) -> None:
    (folder / "tabletop.yaml").write_text(
        TABLETOP + TEST_ROLES + tiers_yaml(acknowledge_s=1.0, detect_s=30), encoding="utf-8"
    )


def test_tabletop_answers_from_stdin_meet_targets(runbooks_dir: Path, tmp_path: Path) -> None:
    _write(runbooks_dir)
    out = tmp_path / "drill"
    answers = "go\nthe checkout 5xx alert\nack, IC here\nrevert the release\nsynthetic checkout\n"
    result = invoke(
        "drill", "run", "tabletop-test", "--tier", "P1", "--mode", "tabletop",
        "--runbooks-dir", str(runbooks_dir), "--out", str(out), input=answers,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    journal = read_journal(out)
    steps = {s["id"]: s for s in journal["steps"]}
    assert steps["spot-it"]["answer"] == "the checkout 5xx alert"
    assert steps["fix"]["answer"] == "revert the release"
    assert all(s["answered_at"].endswith("Z") for s in steps.values())
    assert [m["name"] for m in journal["milestones"]] == ["T0", "T1", "T2", "T3", "T4"]
    assert journal["rollbacks"] == []  # nothing was touched
    assert "How do you roll back?" in result.output  # the tabletop prompt, not the HTTP call


def test_tabletop_slow_acknowledgement_misses_target_exit_3(
    runbooks_dir: Path, tmp_path: Path
) -> None:
    _write(runbooks_dir)
    out = tmp_path / "drill"
    process = start_drill(
        [
            "tabletop-test",
            "--tier",
            "P1",
            "--mode",
            "tabletop",
            "--runbooks-dir",
            str(runbooks_dir),
            "--out",
            str(out),
        ],
        stdin=subprocess.PIPE,
    )
    try:
        assert process.stdin is not None
        process.stdin.write("go\nthe checkout alert\n")
        process.stdin.flush()
        assert process.stderr is not None
        seen = ""
        for _ in range(50):  # the prompts before the acknowledgement (bounded)
            seen = process.stderr.readline()
            if "Acknowledge (type ack)" in seen or not seen:
                break
        assert "Acknowledge (type ack)" in seen
        time.sleep(1.6)  # the incident commander takes longer than the 1 s target
        stdout, stderr = process.communicate(input="ack\nrevert\nverified\n", timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 3, stderr
    assert "acknowledge" in stdout and "MISSED" in stdout
    journal = read_journal(out)
    phases = {p["phase"]: p for p in journal["phases"]}
    assert phases["acknowledge"]["met"] is False
    assert 1.0 < phases["acknowledge"]["seconds"] < 10
    assert phases["detect"]["met"] is True
    assert any("Cut acknowledge time" in item for item in journal["action_items"])
    assert (out / "report.html").exists()


def test_tabletop_wrong_or_missing_answers_fail(runbooks_dir: Path, tmp_path: Path) -> None:
    _write(runbooks_dir)
    out = tmp_path / "drill"
    result = invoke(
        "drill", "run", "tabletop-test", "--tier", "P1", "--mode", "tabletop",
        "--runbooks-dir", str(runbooks_dir), "--out", str(out), input="go\nalert\nnope\n",
    )  # fmt: skip
    assert result.exit_code == 3
    steps = {s["id"]: s["status"] for s in read_journal(out)["steps"]}
    assert steps == {
        "scenario": "ok",
        "spot-it": "ok",
        "ack": "failed",
        "fix": "no_answer",
        "verify": "no_answer",
    }
