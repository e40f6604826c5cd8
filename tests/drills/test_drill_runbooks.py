"""Every shipped runbook validates, its schema is committed and current, and
``--dry-run`` prints its plan without changing anything."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from drill_helpers import ROOT, TEST_ROLES, invoke, tiers_yaml

from riskkit_drills import ImpactMetrics, classify_tier, load_runbooks, runbook_json_schema
from riskkit_drills.catalog import SCHEMA_FILE, shipped_runbooks_dir

REQUIRED = {
    "checkout-outage",
    "payment-gateway-failure",
    "flash-sale-oversell",
    "coupon-abuse-outbreak",
    "data-leak",
    "public-opinion-crisis",
    "cdn-dns-failure",
    "disaster-recovery",
}
SHIPPED = sorted(load_runbooks())


def test_every_required_runbook_is_shipped_and_valid() -> None:
    runbooks = load_runbooks()
    assert set(runbooks) >= REQUIRED
    for loaded in runbooks.values():
        assert loaded.source.parent == shipped_runbooks_dir()
        assert set(loaded.runbook.tiers) == {"P0", "P1", "P2", "P3"}
        assert "higher tier" in loaded.runbook.severity_rule


def test_committed_schema_is_current() -> None:
    committed = (shipped_runbooks_dir() / SCHEMA_FILE).read_text(encoding="utf-8")
    assert committed == runbook_json_schema(), (
        "run: riskkit drill schema > runbooks/riskkit_runbooks/runbook.schema.json"
    )
    assert json.loads(committed)["title"] == "Runbook"


def test_schema_command_prints_the_committed_schema() -> None:
    result = invoke("drill", "schema")
    assert result.exit_code == 0
    assert result.output == (shipped_runbooks_dir() / SCHEMA_FILE).read_text(encoding="utf-8")


@pytest.mark.parametrize("runbook_id", SHIPPED)
def test_dry_run_prints_the_plan_and_changes_nothing(runbook_id: str, tmp_path: Path) -> None:
    runbook = load_runbooks()[runbook_id].runbook
    out = tmp_path / "out"
    for mode in runbook.modes():
        result = invoke(
            "drill", "run", runbook_id, "--tier", "P1", "--mode", mode, "--dry-run",
            "--target", "http://127.0.0.1:9", "--out", str(out),
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        assert result.output.startswith("DRY RUN")
        for step in runbook.steps_for(mode):
            assert step.id in result.output
        assert "rollbacks run" in result.output
    assert not out.exists()


def test_dry_run_refuses_a_remote_target() -> None:
    result = invoke(
        "drill",
        "run",
        "checkout-outage",
        "--tier",
        "P0",
        "--dry-run",
        "--target",
        "http://10.1.2.3:8089",
    )
    assert result.exit_code == 2
    assert "--allow-remote" in result.output


def test_live_without_execute_is_refused(tmp_path: Path) -> None:
    result = invoke(
        "drill", "run", "checkout-outage", "--tier", "P0", "--mode", "live",
        "--target", "http://127.0.0.1:9", "--out", str(tmp_path / "o"),
    )  # fmt: skip
    assert result.exit_code == 2
    assert "--execute" in result.output


def test_tabletop_only_runbook_refuses_simulated(tmp_path: Path) -> None:
    result = invoke("drill", "run", "data-leak", "--tier", "P1", "--out", str(tmp_path / "o"))
    assert result.exit_code == 2
    assert "no steps for mode simulated" in result.output


def test_list_shows_every_runbook() -> None:
    result = invoke("drill", "list", "--json")
    assert result.exit_code == 0
    assert {row["id"] for row in json.loads(result.output)} == set(SHIPPED)


def _write(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.write_text(body, encoding="utf-8")
    return path


BASE = """
schema_version: 1
id: custom
title: Custom
incident_type: test
summary: a test runbook
blast_radius: {description: checkout only, endpoints: [checkout], max_fault_duration_s: 60}
max_duration_s: 60
"""


def test_user_runbook_is_listed_and_validated(runbooks_dir: Path) -> None:
    steps = """
steps:
  - {id: go, kind: manual, phase: inject, title: Go, prompt: 'go now',  expected: go, budget_s: 5}
"""
    _write(runbooks_dir, "custom.yaml", BASE + TEST_ROLES + tiers_yaml() + steps)
    result = invoke("drill", "list", "--runbooks-dir", str(runbooks_dir))
    assert result.exit_code == 0 and "custom" in result.output


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        (
            "steps:\n  - {id: f, kind: fault, phase: inject, title: F, fault: latency, endpoint: pay, expected: x, budget_s: 5}\n",
            "outside the declared blast radius",
        ),
        (
            "steps:\n  - {id: h, kind: http, phase: mitigate, title: H, path: '/admin/faults/${nope}', expected: x, budget_s: 5}\n",
            "before any step captures it",
        ),
        (
            "steps:\n  - {id: w, kind: warp, phase: inject, title: W, expected: x, budget_s: 5}\n",
            "does not match any of the expected tags",
        ),
        (
            "steps:\n  - {id: f, kind: fault, phase: inject, title: F, fault: latency, endpoint: checkout, duration_s: 600, expected: x, budget_s: 5}\n",
            "exceeds the blast radius limit",
        ),
    ],
)
def test_invalid_runbooks_name_file_and_problem(
    runbooks_dir: Path, steps: str, message: str
) -> None:
    path = _write(runbooks_dir, "bad.yaml", BASE + TEST_ROLES + tiers_yaml() + steps)
    result = invoke("drill", "run", str(path), "--tier", "P1", "--dry-run")
    assert result.exit_code == 2
    assert str(path) in result.output
    assert message in result.output


def test_missing_tier_is_rejected(runbooks_dir: Path) -> None:
    text = (
        BASE
        + TEST_ROLES
        + tiers_yaml().split("  P3:")[0]
        + (
            "steps:\n  - {id: go, kind: manual, phase: inject, title: Go, prompt: 'go now',  expected: go, budget_s: 5}\n"
        )
    )
    path = _write(runbooks_dir, "bad.yaml", text)
    result = invoke("drill", "run", str(path), "--tier", "P1", "--dry-run")
    assert result.exit_code == 2
    assert "P3" in result.output


def test_unsafe_yaml_is_refused(runbooks_dir: Path) -> None:
    path = _write(runbooks_dir, "evil.yaml", "!!python/object/apply:os.system ['true']\n")
    result = invoke("drill", "run", str(path), "--tier", "P1", "--dry-run")
    assert result.exit_code == 2
    assert "not valid YAML" in result.output


def test_tier_from_impact_picks_the_higher_tier_when_unsure() -> None:
    runbook = load_runbooks()["payment-gateway-failure"].runbook
    # both metrics known, P1 thresholds reached, P0 not: P1
    known = classify_tier(
        runbook, ImpactMetrics(checkout_failure_share=0.15, gmv_lost_yuan_per_minute=12000)
    )
    assert known.tier == "P1"
    # the GMV loss is unknown and could make it P0: pick P0
    unsure = classify_tier(runbook, ImpactMetrics(checkout_failure_share=0.15))
    assert unsure.tier == "P0"
    assert "unsure" in unsure.reasons[-1]
    # a P0 threshold reached is P0 whatever else is unknown
    assert classify_tier(runbook, ImpactMetrics(checkout_failure_share=0.5)).tier == "P0"


def test_data_leak_targets_cite_the_notification_deadlines() -> None:
    runbook = load_runbooks()["data-leak"].runbook
    for spec in runbook.tiers.values():
        assert spec.targets.regulator_notification_s is not None
        assert spec.targets.regulator_notification_s <= 72 * 3600  # GDPR Art. 33
    text = " ".join(runbook.references)
    assert "PIPL" in text and "Art. 57" in text and "GDPR Art. 33" in text


def test_docs_mention_every_runbook() -> None:
    docs = (ROOT / "docs" / "drills.md").read_text(encoding="utf-8")
    for runbook_id in SHIPPED:
        assert f"`{runbook_id}`" in docs, runbook_id
