"""Simulated drills against the real reference shop (its own process, loopback):
fault injected, detected by a probe, mitigated through the admin API, rolled back."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from drill_helpers import TEST_ROLES, invoke, read_journal, tiers_yaml

pytestmark = pytest.mark.integration


def _milestones(journal: dict) -> dict[str, float]:
    return {m["name"]: m["offset_s"] for m in journal["milestones"]}


def _step(journal: dict, step_id: str) -> dict:
    return next(s for s in journal["steps"] if s["id"] == step_id)


def test_payment_gateway_failure_p1_end_to_end(
    shop_url: str, shop: httpx.Client, tmp_path: Path
) -> None:
    out = tmp_path / "drill"
    textfile = tmp_path / "drill.prom"
    result = invoke(
        "drill", "run", "payment-gateway-failure", "--tier", "P1", "--target", shop_url,
        "--auto-answer", "--out", str(out), "--metrics-textfile", str(textfile),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    journal = read_journal(out)
    assert journal["status"] == "completed" and journal["outcome"] == "targets_met"

    # the fault was injected, the probe saw the payment fail, the backup gateway fixed it
    inject = _step(journal, "primary-gateway-down")
    detect = _step(journal, "synthetic-buyer-cannot-pay")
    mitigate = _step(journal, "switch-to-backup-gateway")
    recover = _step(journal, "synthetic-buyer-pays")
    assert all(s["status"] == "ok" for s in journal["steps"])
    assert "HTTP 201" in inject["detail"]
    assert detect["detail"].startswith("payment_failed") and "502" in detect["detail"]
    assert recover["detail"].startswith("paid") and "via backup" in recover["detail"]

    # timings: each milestone is the end of its phase's step, each phase the difference
    end = {s["id"]: s["started_offset_s"] + s["duration_s"] for s in journal["steps"]}
    t = _milestones(journal)
    assert t["T0"] == pytest.approx(end["primary-gateway-down"], abs=0.002)
    assert t["T1"] == pytest.approx(end["synthetic-buyer-cannot-pay"], abs=0.002)
    assert t["T2"] == pytest.approx(end["acknowledge-page"], abs=0.002)
    assert t["T3"] == pytest.approx(end["switch-to-backup-gateway"], abs=0.002)
    assert t["T4"] == pytest.approx(end["synthetic-buyer-pays"], abs=0.002)
    assert t["T0"] < t["T1"] <= t["T2"] <= t["T3"] < t["T4"]
    phases = {p["phase"]: p for p in journal["phases"]}
    assert phases["detect"]["seconds"] == pytest.approx(t["T1"] - t["T0"], abs=0.002)
    assert phases["acknowledge"]["seconds"] == pytest.approx(t["T2"] - t["T1"], abs=0.002)
    assert phases["mitigate"]["seconds"] == pytest.approx(t["T3"] - t["T0"], abs=0.002)
    assert phases["recover"]["seconds"] == pytest.approx(t["T4"] - t["T0"], abs=0.002)
    assert phases["detect"]["target"] == 120 and phases["detect"]["met"] is True
    assert phases["recover"]["seconds"] >= detect["duration_s"] + mitigate["duration_s"]
    # the detection probe really polled until the fault was visible (at least one attempt)
    assert detect["attempts"] >= 1 and detect["duration_s"] > 0

    # the rollbacks ran: gateway back on primary, fault deleted
    assert [r["ok"] for r in journal["rollbacks"]] == [True, True]
    assert shop.get("/admin/faults").json()["faults"] == []
    assert shop.get("/admin/payment-gateway").json()["active"] == "primary"
    assert {p["when"] for p in journal["steady_state"]} == {"before", "during", "after"}
    assert journal["escalations_triggered"] == []  # recovered long before 900 s

    report = (out / "report.html").read_text(encoding="utf-8")
    assert "<svg" in report and "switch-to-backup-gateway" in report
    metrics = textfile.read_text(encoding="utf-8")
    assert (
        'riskkit_drill_phase_seconds{phase="detect",run="payment-gateway-failure:P1",runbook="payment-gateway-failure",tier="P1"}'
        in metrics
    )
    assert (
        'riskkit_drill_target_met{phase="recover",run="payment-gateway-failure:P1",runbook="payment-gateway-failure",tier="P1"} 1.0'
        in metrics
    )
    assert "riskkit_drill_last_success_timestamp_seconds" in metrics

    # the HTML can be re-rendered from the journal alone
    again = tmp_path / "again.html"
    rerender = invoke("drill", "report", str(out / "journal.json"), "--out", str(again))
    assert rerender.exit_code == 0 and "switch-to-backup-gateway" in again.read_text(
        encoding="utf-8"
    )


STOP_RUNBOOK = """
schema_version: 1
id: stop-test
title: Stop condition test
incident_type: test
summary: the fault breaks the guard metric, which must abort the drill
blast_radius: {description: catalogue, endpoints: [catalog], max_fault_duration_s: 120}
max_duration_s: 60
stop_conditions:
  - name: catalogue-fast
    probe: {kind: http, name: catalogue, path: "/api/products?limit=2", max_latency_s: 0.5}
    interval_s: 0.3
    consecutive: 2
steps:
  - {id: slow-catalogue, kind: fault, phase: inject, title: Slow catalogue, fault: latency, endpoint: catalog, value: 1.0, duration_s: 100, expected: slow, budget_s: 10}
  - {id: long-wait, kind: wait, phase: detect, title: Wait, seconds: 40, expected: aborted before, budget_s: 45}
"""


def test_stop_condition_aborts_with_exit_4_and_rolls_back(
    shop_url: str, shop: httpx.Client, runbooks_dir: Path, tmp_path: Path
) -> None:
    (runbooks_dir / "stop.yaml").write_text(
        STOP_RUNBOOK + TEST_ROLES + tiers_yaml(), encoding="utf-8"
    )
    out = tmp_path / "drill"
    result = invoke(
        "drill", "run", "stop-test", "--tier", "P2", "--target", shop_url,
        "--runbooks-dir", str(runbooks_dir), "--out", str(out),
    )  # fmt: skip
    assert result.exit_code == 4, result.output
    assert "stop condition 'catalogue-fast'" in result.output
    journal = read_journal(out)
    assert journal["status"] == "aborted" and journal["outcome"] == "aborted"
    assert journal["stop_conditions"][0]["breached"] is True
    assert _step(journal, "long-wait")["status"] == "aborted"
    assert journal["duration_s"] < 20  # the 40 s wait was cut short
    assert journal["rollbacks"][0]["ok"] is True
    assert shop.get("/admin/faults").json()["faults"] == []


def test_crashing_step_still_rolls_back(
    shop_url: str, shop: httpx.Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import riskkit_drills.engine as engine

    real = engine.run_step

    def crash_on_acknowledge(ctx, step):  # type: ignore[no-untyped-def]
        if step.phase == "acknowledge":
            raise RuntimeError("boom")
        return real(ctx, step)

    monkeypatch.setattr(engine, "run_step", crash_on_acknowledge)
    out = tmp_path / "drill"
    result = invoke(
        "drill", "run", "payment-gateway-failure", "--tier", "P1", "--target", shop_url,
        "--auto-answer", "--out", str(out),
    )  # fmt: skip
    assert result.exit_code == 3, result.output
    journal = read_journal(out)
    crashed = _step(journal, "acknowledge-page")
    assert crashed["status"] == "error" and "boom" in crashed["detail"]
    assert _step(journal, "synthetic-buyer-pays")["status"] == "ok"
    met = {p["phase"]: p["met"] for p in journal["phases"]}
    assert met["acknowledge"] is False and met["recover"] is True
    assert journal["rollbacks"] and all(r["ok"] for r in journal["rollbacks"])
    assert shop.get("/admin/faults").json()["faults"] == []


def test_simulated_without_target_starts_the_reference_shop(tmp_path: Path) -> None:
    out = tmp_path / "drill"
    result = invoke(
        "drill", "run", "checkout-outage", "--tier", "P0", "--auto-answer", "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    journal = read_journal(out)
    assert journal["target"].startswith("http://127.0.0.1:")
    assert _step(journal, "synthetic-buyer-cannot-check-out")["detail"].startswith(
        "checkout_failed"
    )
    assert _step(journal, "roll-back-release")["status"] == "ok"
    assert "roll-back-release-live" not in {s["id"] for s in journal["steps"]}  # live only
    # the shop is gone with the drill: nothing left listening
    with pytest.raises(httpx.ConnectError):
        httpx.get(journal["target"] + "/healthz", timeout=2)


def test_admin_token_is_sent_to_a_protected_shop(tmp_path: Path) -> None:
    from riskkit.shop.server import running_shop

    with running_shop(extra_args=["--admin-token", "s3cret"]) as url:
        out = tmp_path / "drill"
        result = invoke(
            "drill", "run", "payment-gateway-failure", "--tier", "P1", "--target", url,
            "--admin-token", "s3cret", "--auto-answer", "--out", str(out),
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        faults = httpx.get(f"{url}/admin/faults", headers={"X-Admin-Token": "s3cret"})
        assert faults.json()["faults"] == []
        assert httpx.get(f"{url}/admin/faults").status_code == 401


def test_broken_steady_state_before_aborts_without_touching_anything(
    shop_url: str, shop: httpx.Client, tmp_path: Path
) -> None:
    already = shop.post(
        "/admin/faults",
        json={"kind": "latency", "endpoint": "catalog", "value": 1.0, "duration_s": 60},
    ).json()
    out = tmp_path / "drill"
    result = invoke(
        "drill", "run", "cdn-dns-failure", "--tier", "P1", "--target", shop_url,
        "--auto-answer", "--out", str(out),
    )  # fmt: skip
    assert result.exit_code == 4, result.output
    journal = read_journal(out)
    assert journal["abort_reason"] == "steady state did not hold before the drill"
    assert journal["steps"] == [] and journal["rollbacks"] == []
    # the drill did not remove a fault it did not inject
    assert [f["fault_id"] for f in shop.get("/admin/faults").json()["faults"]] == [
        already["fault_id"]
    ]
