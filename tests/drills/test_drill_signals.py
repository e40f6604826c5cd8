"""SIGTERM in the middle of a drill: the rollbacks still run and the journal says so."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx
import pytest
from drill_helpers import TEST_ROLES, read_journal, start_drill, tiers_yaml

pytestmark = pytest.mark.integration

LONG_RUNBOOK = """
schema_version: 1
id: sigterm-test
title: SIGTERM test
incident_type: test
summary: injects a fault, then waits long enough to be interrupted
blast_radius: {description: checkout, endpoints: [checkout], max_fault_duration_s: 300}
max_duration_s: 120
steps:
  - {id: break-checkout, kind: fault, phase: inject, title: Break checkout, fault: error_rate, endpoint: checkout, value: 1.0, duration_s: 300, expected: 500s, budget_s: 10}
  - {id: switch-backup, kind: http, phase: mitigate, title: Backup gateway, method: POST, path: /admin/payment-gateway, body: {active: backup}, rollback: {method: POST, path: /admin/payment-gateway, body: {active: primary}}, expected: backup, budget_s: 10}
  - {id: long-wait, kind: wait, phase: recover, title: Wait, seconds: 60, expected: interrupted, budget_s: 70}
"""


def _wait_for_step(out: Path, step_id: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        journal_file = out / "journal.json"
        if journal_file.exists():
            try:
                if any(s["id"] == step_id for s in read_journal(out)["steps"]):
                    return
            except ValueError:
                pass  # replaced while we read it
        time.sleep(0.1)
    raise AssertionError(f"step {step_id} never finished")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "ctrl-c"])
def test_signal_mid_drill_rolls_back(
    signum: signal.Signals, shop_url: str, shop: httpx.Client, runbooks_dir: Path, tmp_path: Path
) -> None:
    (runbooks_dir / "long.yaml").write_text(
        LONG_RUNBOOK + TEST_ROLES + tiers_yaml(), encoding="utf-8"
    )
    out = tmp_path / "drill"
    process = start_drill(
        [
            "sigterm-test",
            "--tier",
            "P1",
            "--target",
            shop_url,
            "--runbooks-dir",
            str(runbooks_dir),
            "--out",
            str(out),
        ]
    )
    try:
        _wait_for_step(out, "switch-backup")
        faults = shop.get("/admin/faults").json()["faults"]
        assert [f["kind"] for f in faults] == ["error_rate"]  # the fault is really there
        assert shop.get("/admin/payment-gateway").json()["active"] == "backup"
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 4, stderr
    assert f"interrupted by {signum.name}" in stderr
    assert shop.get("/admin/faults").json()["faults"] == []
    assert shop.get("/admin/payment-gateway").json()["active"] == "primary"
    journal = read_journal(out)
    assert (
        journal["status"] == "aborted"
        and journal["abort_reason"] == f"interrupted by {signum.name}"
    )
    assert [r["ok"] for r in journal["rollbacks"]] == [True, True]
    assert "payment-gateway" in journal["rollbacks"][0]["action"]  # newest first
    assert next(s for s in journal["steps"] if s["id"] == "long-wait")["status"] == "aborted"
    assert (out / "report.html").exists()
