"""Fast unit tests of the load-test engine (no Locust, no server)."""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest
from loadtest_helpers import run_cli

from riskkit.errors import InputError, UsageError
from riskkit_loadtests.apimap import load_api_map, render_template
from riskkit_loadtests.gates import RunTargets, evaluate_gates
from riskkit_loadtests.histogram import LogHistogram
from riskkit_loadtests.plan import check_target
from riskkit_loadtests.results import RunData
from riskkit_loadtests.shapes import (
    ConstantRate,
    Double11Shape,
    FlashSaleShape,
    RampingRate,
    Stage,
    arrival_times,
)
from riskkit_loadtests.slo import load_slo, merge_flags
from riskkit_loadtests.testdata import load_test_data, split_users
from riskkit_loadtests.units import parse_duration_s, parse_latency_ms, parse_rate


def test_histogram_percentiles_are_within_one_percent_of_exact() -> None:
    rng = random.Random(7)
    values = sorted(rng.lognormvariate(3.0, 1.2) for _ in range(20_000))
    histogram = LogHistogram()
    for value in values:
        histogram.record(value)
    for q in (50, 95, 99, 99.9):
        exact = values[math.ceil(q / 100 * len(values)) - 1]
        got = histogram.percentile(q)
        assert got is not None
        assert exact <= got <= exact * 1.0101, (q, exact, got)
    # Locust would report 147 ms as 150 ms; we keep 1% precision
    single = LogHistogram()
    single.record(147.0)
    assert single.percentile(99) == pytest.approx(147.0, rel=0.0101)


def test_histograms_merge_exactly_through_json() -> None:
    a, b = LogHistogram(), LogHistogram()
    for v in range(1, 500):
        (a if v % 2 else b).record(float(v))
    merged = LogHistogram(a.to_json())
    merged.merge(LogHistogram(b.to_json()))
    whole = LogHistogram()
    for v in range(1, 500):
        whole.record(float(v))
    assert merged.counts == whole.counts and merged.total == 499


def test_constant_arrivals_are_exact_and_compressible() -> None:
    shape = ConstantRate(50, 10)
    times = list(arrival_times(shape.stages()))
    assert len(times) == 500 and times[1] == pytest.approx(0.02)
    fast = Double11Shape(100, 3600).compressed(60)
    assert fast.duration_s == pytest.approx(60)
    assert fast.peak_rate() == 100
    assert fast.rate_at(5) == pytest.approx(20) and fast.rate_at(20) == pytest.approx(100)


def test_double11_steps_to_peak_within_one_second_at_midnight() -> None:
    shape = Double11Shape(1000, 3600)
    midnight = shape.midnight_s()
    assert shape.rate_at(midnight - 0.01) == pytest.approx(200)
    assert shape.rate_at(midnight + 1.0) == pytest.approx(1000)


def test_ramping_and_poisson_arrivals_follow_the_shape() -> None:
    shape = RampingRate([Stage(10, 0, 100), Stage(10, 100, 100)])
    assert shape.expected_iterations() == pytest.approx(1500)
    assert len(list(arrival_times(shape.stages()))) == pytest.approx(1500, abs=1)
    poisson = list(arrival_times(shape.stages(), poisson=True, seed=3))
    assert abs(len(poisson) - 1500) < 4 * math.sqrt(1500)
    assert list(arrival_times(shape.stages(), poisson=True, seed=3)) == poisson  # seeded
    flash = FlashSaleShape(200, 10)
    assert flash.rate_at(0.5) == pytest.approx(10) and flash.rate_at(2) == pytest.approx(200)


def test_units() -> None:
    assert parse_rate("300/s") == 300 and parse_rate("18000/m") == 300
    assert parse_duration_s("1.5m") == 90 and parse_duration_s("250ms") == 0.25
    assert parse_latency_ms("1.2s") == pytest.approx(1200)
    with pytest.raises(UsageError):
        parse_latency_ms("500")
    with pytest.raises(UsageError):
        parse_rate("fast")


def test_slo_file_and_flags(tmp_path: Path) -> None:
    path = tmp_path / "slo.yaml"
    path.write_text(
        "latency:\n  checkout: {p95: 500ms, p99: 800ms}\nerror_rate: {'*': 0.01}\n"
        "checks: {payment_idempotent: 1.0}\nabort: {on_breach: true, grace_period: 5s}\n",
        encoding="utf-8",
    )
    spec = merge_flags(load_slo(path), p95=("pay=300ms",), min_rate_ratio=0.9)
    assert spec.latency_ms == {"checkout": {"p95": 500, "p99": 800}, "pay": {"p95": 300}}
    assert spec.abort.on_breach and spec.abort.grace_period_s == 5
    assert spec.min_achieved_rate_ratio == 0.9
    bad = tmp_path / "bad.yaml"
    bad.write_text("latency: {checkout: {p42: 1s}}\n", encoding="utf-8")
    with pytest.raises(InputError, match="p42"):
        load_slo(bad)


def _record(second: int, step: str, latencies: list[float], fail: int = 0) -> dict[str, object]:
    histogram = LogHistogram()
    for value in latencies:
        histogram.record(value)
    return {
        "w": 0, "s": second, "scheduled": len(latencies), "started": len(latencies), "dropped": 0,
        "steps": {step: {"ok": len(latencies) - fail, "fail": fail, "err": {}, "h": histogram.to_json()}},
        "checks": {"order_created": [len(latencies), 0]}, "cpu": 10.0,
    }  # fmt: skip


def test_gates_name_the_breaching_step() -> None:
    data = RunData()
    data.add(_record(0, "browse", [10.0] * 100))
    data.add(_record(0, "pay", [2100.0] * 10))
    spec = merge_flags(load_slo(None), p95=("*=1s",))
    gates = evaluate_gates(data, spec, RunTargets(110, 1.0))
    failed = {g.gate_id for g in gates if not g.passed}
    assert "latency.pay.p95" in failed and "latency.pay.p99" in failed
    assert not any(g.startswith("latency.browse") for g in failed)
    assert {g.gate_id for g in gates} >= {
        "rate.achieved_ratio",
        "dropped.ratio",
        "check.order_created",
    }


def test_api_map_validation(tmp_path: Path) -> None:
    default = load_api_map(None)
    assert default.steps["pay"].path == "/api/orders/{order_id}/pay"
    assert render_template(
        {"q": "{quantity}", "p": "/c/{user_id}"}, {"quantity": 1, "user_id": "u1"}
    ) == {
        "q": 1,
        "p": "/c/u1",
    }
    broken = tmp_path / "map.yaml"
    broken.write_text("name: x\nsteps:\n  browse: {method: GET, path: /p}\n", encoding="utf-8")
    with pytest.raises(InputError, match="missing"):
        load_api_map(broken)
    result = run_cli(["loadtest", "run", "--api-map", str(broken), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2


def test_test_data_from_csv_is_split_without_reuse(tmp_path: Path) -> None:
    (tmp_path / "users.csv").write_text(
        "user_id\n" + "\n".join(f"u{i}" for i in range(10)), encoding="utf-8"
    )
    data = load_test_data(tmp_path, "r1", users_needed=5)
    assert data.users[:2] == ["u0", "u1"] and not data.users_generated
    parts = [split_users(data.users, i, 3) for i in range(3)]
    assert sorted(user for part in parts for user in part) == sorted(data.users)
    assert not set(parts[0]) & set(parts[1])
    (tmp_path / "users.csv").write_text("user_id\nu1\nu1\n", encoding="utf-8")
    with pytest.raises(InputError, match="duplicate"):
        load_test_data(tmp_path, "r1", 5)


def test_remote_targets_need_allow_remote() -> None:
    assert check_target("http://127.0.0.1:8089/", False) == "http://127.0.0.1:8089"
    assert check_target("http://localhost:1", False)
    with pytest.raises(UsageError, match="allow-remote"):
        check_target("http://example.com", False)
    assert check_target("https://staging.example.com", True)


def test_cli_refuses_a_remote_target_without_the_flag(tmp_path: Path) -> None:
    result = run_cli(
        [
            "loadtest",
            "run",
            "--target",
            "http://192.0.2.10",
            "--duration",
            "5s",
            "--out",
            str(tmp_path),
        ]
    )
    assert result.exit_code == 2
    assert "allow-remote" in result.output


def test_the_riskkit_process_never_imports_gevent() -> None:
    import subprocess
    import sys

    code = (
        "import sys, riskkit.cli.loadtest, riskkit_loadtests.runner, riskkit_loadtests.capacity;"
        "print('gevent' in sys.modules or 'locust' in sys.modules)"
    )
    from riskkit_loadtests.processes import subprocess_env

    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=60,
    )
    assert out.stdout.strip() == "False", out.stderr


def test_a_generator_above_90_percent_cpu_makes_the_run_invalid() -> None:
    from riskkit_loadtests.runner import _saturated_workers

    data = RunData()
    for second in range(10):
        record = _record(second, "browse", [5.0] * 10)
        record["cpu"] = 97.0 if second >= 3 else 40.0
        data.add(record)
    assert set(_saturated_workers(data, 90.0)) == {0}
    calm = RunData()
    for second in range(10):
        calm.add(_record(second, "browse", [5.0] * 10))
    assert _saturated_workers(calm, 90.0) == {}


def test_capacity_summary_says_when_the_generator_saturated_first(tmp_path: Path) -> None:
    from riskkit_loadtests.capacity import CapacitySearch, _summarise
    from riskkit_loadtests.plan import LoadTestOptions

    base = LoadTestOptions(scenario="checkout", out_dir=tmp_path, slo=load_slo(None))
    step = {
        "rate_per_s": 800.0,
        "status": "invalid",
        "requests_per_s": 610.0,
        "achieved_per_s": 600.0,
    }
    summary = _summarise(base, CapacitySearch(), [step], None, None, generator_limited=True)
    assert summary["status"] == "invalid" and summary["capacity_requests_per_s"] is None
    assert "generator saturated before the shop did" in summary["headline"]
    passing = {"rate_per_s": 2300.0, "requests_per_s": 2300.0, "achieved_per_s": 2300.0}
    breaching = {"rate_per_s": 2500.0, "breaking_subject": "pay", "first_breach": "pay p99"}
    found = _summarise(
        base, CapacitySearch(peak_rate=6300, safety=1.5), [], passing, breaching, False
    )
    assert found["status"] == "insufficient"
    assert found["headline"].startswith("checkout holds 2,300 requests/s")
    assert (
        "pay breaks first" in found["headline"] and "the peak needs 4.1× more" in found["headline"]
    )
