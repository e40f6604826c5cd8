"""End-to-end load tests against the reference shop on loopback (bounded, seconds each)."""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from loadtest_helpers import add_fault, admin, run_cli, summary_of

pytestmark = [pytest.mark.loadtest, pytest.mark.integration, pytest.mark.slow]
# Never import locust here: it monkey-patches the standard library (gevent) for the
# whole pytest process. Only check that it is installed; the runs use subprocesses.
if importlib.util.find_spec("locust") is None:
    pytest.skip("the loadtest extra (locust) is not installed", allow_module_level=True)


def test_smoke_run_passes_and_hits_the_target_rate(tmp_path: Path) -> None:
    out = tmp_path / "smoke"
    # No --target: the command starts the reference shop itself and stops it afterwards.
    result = run_cli(
        ["loadtest", "run", "--scenario", "checkout", "--rate", "40/s", "--duration", "12s",
         "--metrics-textfile", str(tmp_path / "loadtest.prom"), "--out", str(out)]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = summary_of(out)
    assert summary["status"] == "pass"
    assert summary["reference_shop_started"] is True
    assert abs(summary["rate"]["achieved_per_s"] - 40.0) <= 0.05 * 40.0
    assert summary["iterations"]["dropped"] == 0
    assert set(summary["steps"]) >= {
        "browse",
        "view_cart",
        "add_to_cart",
        "apply_coupon",
        "checkout",
        "pay",
    }
    # the mix holds: browse 10 : checkout 1
    ratio = summary["steps"]["browse"]["requests"] / summary["steps"]["checkout"]["requests"]
    assert 8.0 <= ratio <= 12.0
    assert summary["checks"]["order_created"]["fail"] == 0
    assert summary["checks"]["payment_idempotent"]["pass"] > 0
    cases = ET.parse(out / "junit.xml").getroot().findall(".//testcase")
    assert len(cases) == len(summary["gates"]) + 1
    assert "Target vs achieved" in (out / "report.html").read_text(encoding="utf-8")
    # the metrics are written (and would be pushed) at the end of the run
    pushed = (tmp_path / "loadtest.prom").read_text(encoding="utf-8")
    assert 'riskkit_loadtest_gate_passed{gate="latency.pay.p99",run="checkout"} 1.0' in pushed
    assert "riskkit_loadtest_last_success_timestamp_seconds" in pushed


def test_payment_latency_breaches_and_names_the_payment_step(
    clean_shop: str, tmp_path: Path
) -> None:
    add_fault(clean_shop, "latency", "/api/orders/{order_id}/pay", 2.0, 120)
    out = tmp_path / "slow-pay"
    result = run_cli(
        ["loadtest", "run", "--target", clean_shop, "--scenario", "checkout", "--rate", "30/s",
         "--duration", "8s", "--slo-p95", "*=1s", "--out", str(out)]
    )  # fmt: skip
    assert result.exit_code == 3, result.output
    summary = summary_of(out)
    assert summary["status"] == "breach"
    assert "pay" in summary["breached_steps"]
    assert "browse" not in summary["breached_steps"]
    assert summary["steps"]["pay"]["p95_ms"] >= 2000
    assert "pay p95 &lt; 1000 ms" in (out / "report.html").read_text(encoding="utf-8")
    assert "steps: pay" in result.output


def test_a_stall_shows_in_tail_latency_and_dropped_iterations(
    clean_shop: str, tmp_path: Path
) -> None:
    """Coordinated omission: a closed model would hide this stall; the open model must not."""
    out = tmp_path / "stall"
    stalled_at: list[int] = []

    def stall_at_second_three() -> None:
        # Post the fault when the run itself reaches its 3rd second (not a wall-clock
        # guess), so the expected window of dropped iterations is known.
        records = out / "raw" / "seconds.jsonl"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if records.exists():
                lines = records.read_text(encoding="utf-8").splitlines()
                if any(json.loads(line)["s"] >= 2 for line in lines[:-1] if line):
                    add_fault(clean_shop, "stall", "*", 3.0, 3.0)
                    stalled_at.append(len(lines))
                    return
            time.sleep(0.05)

    watcher = threading.Thread(target=stall_at_second_three, daemon=True)
    watcher.start()
    result = run_cli(
        ["loadtest", "run", "--target", clean_shop, "--rate", "40/s", "--duration", "12s",
         "--max-users", "40", "--out", str(out)]
    )  # fmt: skip
    watcher.join(5)
    assert stalled_at, "the stall was never injected"
    assert result.exit_code == 3, result.output
    summary = summary_of(out)
    everything = [s["p99_ms"] for s in summary["steps"].values() if s["requests"] > 20]
    assert max(everything) >= 2000
    assert summary["steps"]["browse"]["p95_ms"] >= 1000
    assert summary["iterations"]["dropped"] > 0
    stalled = [row for row in summary["timeline"] if row["dropped"] > 0]
    assert stalled and all(3 <= row["s"] <= 10 for row in stalled)
    # before the stall nothing was dropped and latency was low
    assert all(row["dropped"] == 0 and row["p99_ms"] < 1000 for row in summary["timeline"][:2])


def test_flash_sale_never_oversells(clean_shop: str, tmp_path: Path) -> None:
    """Also pushes its metrics to a real Pushgateway at the end of the run."""
    import urllib.request

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import promstack

    if not promstack.binaries_present():
        pytest.skip("prometheus-pushgateway is not installed")
    out = tmp_path / "flash"
    with promstack.pushgateway(tmp_path) as gateway:
        result = run_cli(
            ["loadtest", "run", "--target", clean_shop, "--scenario", "flash-sale",
             "--rate", "100/s", "--duration", "6s", "--flash-stock", "30",
             "--pushgateway", gateway, "--out", str(out)]
        )  # fmt: skip
        with urllib.request.urlopen(gateway + "/metrics", timeout=10) as response:
            pushed = response.read().decode()
    assert result.exit_code == 0, result.output
    flash = summary_of(out)["flash_sale"]
    assert flash["initial_stock"] == 30
    assert flash["sold"] == 30 == flash["orders_created"] == flash["orders_paid"]
    assert flash["stock_left"] == 0
    assert flash["sold_out_refusals"] > 100
    stats = admin(clean_shop, "GET", "/admin/stats")
    assert stats["stock"]["HOT-001"] >= 0
    assert (
        'riskkit_loadtest_gate_passed{gate="flash_sale.not_oversold",instance="",job="riskkit_loadtest",run="flash-sale"} 1'
        in pushed
    )
    assert (
        'riskkit_loadtest_requests_total{instance="",job="riskkit_loadtest",run="flash-sale",step="checkout"}'
        in pushed
    )


def test_two_workers_produce_the_same_outputs_and_live_metrics(
    clean_shop: str, tmp_path: Path
) -> None:
    """A distributed run (Locust master + 2 workers): same outputs; /metrics aggregated on
    the master's side passes promtool."""
    import socket
    import subprocess
    import urllib.request

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    out = tmp_path / "dist"
    scraped: list[bytes] = []

    def scrape() -> None:
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and len(scraped) < 1:
            time.sleep(0.5)
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
                    body = r.read()
            except OSError:
                continue
            if b'riskkit_loadtest_requests_total{step="browse"}' in body:
                scraped.append(body)

    scraper = threading.Thread(target=scrape, daemon=True)
    scraper.start()
    result = run_cli(
        ["loadtest", "run", "--target", clean_shop, "--rate", "40/s", "--duration", "10s",
         "--workers", "2", "--metrics-port", str(port), "--out", str(out)]
    )  # fmt: skip
    scraper.join(5)
    assert result.exit_code == 0, result.output
    summary = summary_of(out)
    assert summary["workers"] == 2
    assert set(summary["generator"]["cpu_max_percent"]) == {"0", "1"}
    assert abs(summary["rate"]["achieved_per_s"] - 40.0) <= 0.05 * 40.0
    for name in ("summary.json", "junit.xml", "report.html"):
        assert (out / name).stat().st_size > 0
    assert scraped, "no live /metrics scrape during the run"
    text = scraped[0]
    for family in (
        b"riskkit_loadtest_request_duration_seconds_bucket",
        b"riskkit_loadtest_dropped_iterations_total",
        b"riskkit_loadtest_target_iterations_per_second",
        b"riskkit_loadtest_achieved_iterations_per_second",
        b"riskkit_loadtest_users",
    ):
        assert family in text
    check = subprocess.run(
        ["/usr/bin/promtool", "check", "metrics"], input=text, capture_output=True, timeout=30
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_abort_on_breach_stops_the_run_after_the_grace_period(
    clean_shop: str, tmp_path: Path
) -> None:
    add_fault(clean_shop, "latency", "pay", 2.0, 120)
    out = tmp_path / "abort"
    started = time.monotonic()
    result = run_cli(
        ["loadtest", "run", "--target", clean_shop, "--rate", "30/s", "--duration", "60s",
         "--abort-on-breach", "--abort-grace", "3s", "--out", str(out)]
    )  # fmt: skip
    assert result.exit_code == 3, result.output
    assert time.monotonic() - started < 40
    summary = summary_of(out)
    assert summary["aborted"] is True and "pay" in summary["abort_reason"]
    assert summary["duration_s"] < 20
    assert summary["rate"]["achieved_ratio"] > 0.9  # judged over the seconds that ran
    assert "rate.achieved_ratio" not in {g["gate_id"] for g in summary["gates"]}
