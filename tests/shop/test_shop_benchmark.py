"""The capacity benchmark still runs end to end (tiny duration: this checks it works, not speed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]


def test_capacity_benchmark_smoke(tmp_path: Path) -> None:
    output = tmp_path / "capacity.json"
    done = subprocess.run(
        [
            sys.executable, str(REPO / "benchmarks" / "shop_capacity.py"),
            "--duration", "0.5", "--runs", "1", "--connections", "4", "--json", str(output),
        ],
        capture_output=True, text=True, timeout=120, cwd=REPO,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    results = json.loads(output.read_text())
    for scenario in ("product_view", "checkout_pay"):
        median = results[scenario]["median"]
        assert median["operations"] > 0 and median["errors"] == 0
        assert 0 < median["p50_ms"] <= median["p95_ms"] <= median["p99_ms"]
    assert results["shop_peak_rss_mib"] > 10
    assert "product_view" in done.stdout and "checkout_pay" in done.stdout
