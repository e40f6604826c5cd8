"""Live mode against a loopback target with a real Prometheus scraping the shop:
PromQL steady state and detection, a shell step and its rollback (only with
--execute), metrics pushed to a real Pushgateway."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest
from drill_helpers import TEST_ROLES, invoke, read_journal, tiers_yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import promstack

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.skipif(
        not promstack.binaries_present(), reason="install Debian prometheus packages"
    ),
]

LIVE = """
schema_version: 1
id: live-test
title: Live test
incident_type: test
summary: checkout errors seen through Prometheus
blast_radius: {description: checkout, endpoints: [checkout], max_fault_duration_s: 120}
max_duration_s: 90
steady_state:
  title: Prometheus scrapes the shop
  probes:
    - {kind: promql, name: scraped, query: 'sum(up)', expect: {op: '>=', value: 1}}
    - {kind: scrape, name: no faults, metric: riskkit_shop_faults_active, expect: {op: '==', value: 0}}
  check_during: false
traffic: {rate_per_s: 10, workers: 2}
steps:
  - {id: break-checkout, kind: fault, phase: inject, title: Break checkout, fault: error_rate, endpoint: checkout, value: 1.0, duration_s: 60, expected: 500s, budget_s: 10}
  - id: error-ratio
    kind: promql
    phase: detect
    title: Prometheus sees checkout 5xx
    query: 'sum(rate(riskkit_shop_http_request_duration_seconds_count{endpoint="/api/checkout",status_class="5xx"}[10s]))'
    expect: {op: '>', value: 0}
    poll_interval_s: 0.5
    expected: a 5xx rate above zero
    budget_s: 40
  - id: page
    kind: shell
    phase: acknowledge
    title: Page the on-call
    command: [PYTHON, -c, "print('paged')"]
    rollback_command: [PYTHON, -c, "open(r'MARKER', 'w').write('undone')"]
    expected: exit 0
    budget_s: 20
  - {id: revert, kind: http, phase: mitigate, title: Revert, method: DELETE, path: '/admin/faults/${fault_id}', expect_status: [200, 404], expected: fault gone, budget_s: 10}
  - {id: verify, kind: journey, phase: recover, title: Verify, expect_outcome: created, pay: false, expected: checkout works, budget_s: 30}
"""


def test_live_drill_with_prometheus_and_pushgateway(
    shop_url: str, shop: httpx.Client, runbooks_dir: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "rolled-back.txt"
    text = LIVE.replace("PYTHON", sys.executable).replace("MARKER", str(marker))
    (runbooks_dir / "live.yaml").write_text(
        text + TEST_ROLES + tiers_yaml(detect_s=60), encoding="utf-8"
    )
    with (
        promstack.pushgateway(tmp_path) as gateway,
        promstack.prometheus(tmp_path, shop_url) as prom,
    ):
        promstack.poll_query(prom, "up")
        out = tmp_path / "drill"
        common = ["drill", "run", "live-test", "--tier", "P1", "--mode", "live", "--target", shop_url,
                  "--runbooks-dir", str(runbooks_dir), "--prometheus", prom]  # fmt: skip
        refused = invoke(*common, "--out", str(out))
        assert refused.exit_code == 2 and "--execute" in refused.output
        assert not (out / "journal.json").exists()

        result = invoke(*common, "--execute", "--pushgateway", gateway, "--out", str(out))
        assert result.exit_code == 0, result.output
        pushed = httpx.get(f"{gateway}/metrics").text
    journal = read_journal(out)
    steps = {s["id"]: s for s in journal["steps"]}
    assert (
        steps["error-ratio"]["status"] == "ok"
        and float(steps["error-ratio"]["detail"].split()[0]) > 0
    )
    assert "paged" in steps["page"]["detail"]
    assert marker.read_text(encoding="utf-8") == "undone"  # the shell rollback ran
    assert all(r["ok"] for r in journal["rollbacks"])
    assert shop.get("/admin/faults").json()["faults"] == []
    assert (
        'riskkit_drill_phase_seconds{instance="",job="riskkit_drill",phase="detect",run="live-test:P1",runbook="live-test",tier="P1"}'
        in pushed
    )
    assert "riskkit_drill_last_success_timestamp_seconds" in pushed
