from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

import riskkit
from riskkit.cli.main import cli


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert riskkit.__version__ in result.output


def test_python_dash_m() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "riskkit", "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0
    assert "Exit codes" in done.stdout


def test_core_never_imports_locust_or_gevent() -> None:
    code = (
        "import sys; from click.testing import CliRunner; from riskkit.cli.main import cli;"
        "r = CliRunner().invoke(cli, ['orders', '--help']); assert r.exit_code == 0;"
        "import riskkit.orders, riskkit.metrics, riskkit.report, riskkit.detection;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('locust', 'gevent')];"
        "assert not bad, bad"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_unknown_command_is_a_usage_error() -> None:
    result = CliRunner().invoke(cli, ["no-such-group"])
    assert result.exit_code == 2


def test_internal_errors_have_no_traceback(monkeypatch) -> None:
    import riskkit.orders.check as check

    def boom(*args, **kwargs):
        raise ZeroDivisionError("surprise")

    monkeypatch.setattr(check, "check_orders", boom)
    result = CliRunner().invoke(cli, ["orders", "check", "x.csv"])
    assert result.exit_code == 1
    assert "internal error: ZeroDivisionError: surprise" in result.stderr
    assert "Traceback" not in result.output


def test_a_closed_stdout_is_not_an_internal_error() -> None:
    """``riskkit metrics dashboard | head -1``: the reader leaves; riskkit exits 0 quietly."""
    import os

    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody will read: the first write fails with EPIPE
    try:
        result = subprocess.run(
            [sys.executable, "-m", "riskkit", "metrics", "dashboard"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    assert result.returncode == 0, result.stderr
    assert "internal error" not in result.stderr
    assert "Traceback" not in result.stderr
