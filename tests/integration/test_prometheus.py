"""A metric pushed by a riskkit command is read back from a real Prometheus."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "orders"))

import exports
import promstack

from riskkit.cli.main import cli
from riskkit.metrics import RunMetrics

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not promstack.binaries_present(), reason="install Debian prometheus packages"
    ),
]


def test_pushed_metric_reaches_prometheus(tmp_path: Path) -> None:
    export = exports.write_canonical(tmp_path)
    with (
        promstack.pushgateway(tmp_path) as gateway,
        promstack.prometheus(tmp_path, gateway) as prom,
    ):
        result = CliRunner().invoke(
            cli, ["orders", "check", str(export), "--pushgateway", gateway, "--json"]
        )
        assert result.exit_code == 0, result.output
        series = promstack.poll_query(prom, 'riskkit_orders_rows_read_total{job="riskkit_orders"}')
        assert float(series[0]["value"][1]) == 2.0
        success = promstack.poll_query(prom, "riskkit_orders_last_success_timestamp_seconds")
        assert float(success[0]["value"][1]) > 1.7e9


def test_env_var_names_the_pushgateway(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    export = exports.write_canonical(tmp_path)
    with promstack.pushgateway(tmp_path) as gateway:
        monkeypatch.setenv("RISKKIT_PUSHGATEWAY", gateway)
        result = CliRunner().invoke(cli, ["orders", "check", str(export)])
        assert result.exit_code == 0, result.output
        import urllib.request

        with urllib.request.urlopen(gateway + "/metrics", timeout=5) as response:
            body = response.read().decode()
        assert 'riskkit_orders_rows_read_total{instance="",job="riskkit_orders"} 2' in body


def test_failed_push_is_a_warning_and_results_are_kept(tmp_path: Path) -> None:
    export = exports.write_canonical(tmp_path)
    textfile = tmp_path / "riskkit.prom"
    dead = f"http://127.0.0.1:{promstack.free_port()}"
    result = CliRunner().invoke(
        cli,
        [
            "orders",
            "check",
            str(export),
            "--json",
            "--pushgateway",
            dead,
            "--metrics-textfile",
            str(textfile),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "could not push metrics" in result.stderr
    assert '"format": "riskkit"' in result.stdout
    assert "riskkit_orders_rows_read_total 2.0" in textfile.read_text()


def test_a_failed_run_exports_no_last_success(tmp_path: Path) -> None:
    metrics = RunMetrics("detect brushing", textfile=tmp_path / "m.prom")
    with pytest.raises(RuntimeError), metrics.run():
        metrics.counter("riskkit_detect_orders_total", "Orders.").inc(3)
        raise RuntimeError("boom")
    text = (tmp_path / "m.prom").read_text()
    assert "riskkit_detect_orders_total 3.0" in text
    assert "last_success" not in text


def test_a_failed_run_keeps_the_previous_success_in_the_pushgateway(tmp_path: Path) -> None:
    import urllib.request

    def pushed(gateway: str) -> str:
        with urllib.request.urlopen(gateway + "/metrics", timeout=5) as response:
            return str(response.read().decode())

    with promstack.pushgateway(tmp_path) as gateway:
        with RunMetrics("detect", pushgateway=gateway).run() as ok:
            ok.counter("riskkit_detect_orders_total", "Orders.").inc(5)
        success = [
            line
            for line in pushed(gateway).splitlines()
            if line.startswith("riskkit_detect_last_success_timestamp_seconds")
        ]
        assert len(success) == 1 and float(success[0].split()[-1]) > 1.7e9
        with pytest.raises(RuntimeError), RunMetrics("detect", pushgateway=gateway).run() as bad:
            bad.counter("riskkit_detect_orders_total", "Orders.").inc(7)
            raise RuntimeError("boom")
        body = pushed(gateway)
        assert success[0] in body.splitlines()  # the earlier success, unchanged
        assert 'riskkit_detect_orders_total{instance="",job="riskkit_detect"} 7' in body


def test_textfile_exposition_passes_promtool(tmp_path: Path) -> None:
    export = exports.write_canonical(tmp_path)
    textfile = tmp_path / "riskkit.prom"
    result = CliRunner().invoke(
        cli, ["orders", "check", str(export), "--metrics-textfile", str(textfile)]
    )
    assert result.exit_code == 0, result.output
    checked = promstack.promtool_check(textfile.read_bytes())
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_textfile_must_end_in_prom(tmp_path: Path) -> None:
    export = exports.write_canonical(tmp_path)
    result = CliRunner().invoke(
        cli, ["orders", "check", str(export), "--metrics-textfile", str(tmp_path / "m.txt")]
    )
    assert result.exit_code == 2
    assert ".prom" in result.stderr


def _pushed(gateway: str) -> list[str]:
    import urllib.request

    with urllib.request.urlopen(gateway + "/metrics", timeout=5) as response:
        return str(response.read().decode()).splitlines()


def test_runs_of_one_command_keep_their_own_series_in_the_pushgateway(tmp_path: Path) -> None:
    export = exports.write_canonical(tmp_path)
    with promstack.pushgateway(tmp_path) as gateway:
        for name in ("brushing", "coupon-abuse", "brushing"):
            result = CliRunner().invoke(
                cli,
                [
                    *("detect", name, str(export)),
                    "--out",
                    str(tmp_path / name),
                    "--pushgateway",
                    gateway,
                ],
            )
            assert result.exit_code == 0, result.output
        renamed = CliRunner().invoke(
            cli,
            [
                *("orders", "check", str(export)),
                "--pushgateway",
                gateway,
                "--metrics-run",
                "shop-a/daily",
            ],
        )
        assert renamed.exit_code == 0, renamed.output
        body = _pushed(gateway)
    flagged = [line for line in body if line.startswith("riskkit_detect_flagged_orders_total{")]
    # the coupon-abuse run did not replace brushing's series, and brushing's rerun
    # replaced only its own
    assert [line.split("}")[0] for line in flagged] == [
        'riskkit_detect_flagged_orders_total{detector="brushing",instance="",'
        'job="riskkit_detect",run="brushing"',
        'riskkit_detect_flagged_orders_total{detector="coupon-abuse",instance="",'
        'job="riskkit_detect",run="coupon-abuse"',
    ]
    success = [line for line in body if line.startswith("riskkit_detect_last_success")]
    assert len(success) == 2
    assert any('run="shop-a/daily"' in line for line in body if "riskkit_orders_rows" in line)


def test_an_empty_metrics_run_is_a_usage_error(tmp_path: Path) -> None:
    export = exports.write_canonical(tmp_path)
    result = CliRunner().invoke(cli, ["orders", "check", str(export), "--metrics-run", " "])
    assert result.exit_code == 2
    assert "--metrics-run" in result.stderr


def test_a_run_flushed_without_success_exports_no_last_success(tmp_path: Path) -> None:
    # the load-test runner flushes by hand and marks only valid runs successful
    metrics = RunMetrics("loadtest", textfile=tmp_path / "m.prom")
    metrics.gauge("riskkit_loadtest_gate_passed", "Gate.").set(0)
    metrics.flush()
    text = (tmp_path / "m.prom").read_text()
    assert "riskkit_loadtest_gate_passed 0.0" in text
    assert "last_success" not in text


def test_the_textfile_carries_the_run_label_and_passes_promtool(tmp_path: Path) -> None:
    textfiles = []
    for name in ("brushing", "coupon-abuse"):
        metrics = RunMetrics(f"detect {name}", textfile=tmp_path / f"{name}.prom", run_name=name)
        with metrics.run():
            metrics.counter(
                "riskkit_detect_flagged_orders_total", "Flagged.", ("detector",)
            ).labels(detector=name).inc(2)
        textfiles.append((tmp_path / f"{name}.prom").read_text())
    assert (
        'riskkit_detect_flagged_orders_total{detector="brushing",run="brushing"} 2.0'
        in textfiles[0]
    )
    assert 'riskkit_detect_last_success_timestamp_seconds{run="coupon-abuse"}' in textfiles[1]
    # the two files share no series, so node_exporter can read both
    series = [
        {line.rsplit(" ", 1)[0] for line in text.splitlines() if not line.startswith("#")}
        for text in textfiles
    ]
    assert not series[0] & series[1]
    checked = promstack.promtool_check("".join(textfiles[:1]).encode())
    assert checked.returncode == 0, checked.stdout + checked.stderr
