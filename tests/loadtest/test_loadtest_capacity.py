"""Capacity search against the reference shop with an artificial limit."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from loadtest_helpers import add_fault, run_cli

pytestmark = [pytest.mark.loadtest, pytest.mark.integration, pytest.mark.slow]
# Never import locust here: it monkey-patches the standard library (gevent) for the
# whole pytest process. Only check that it is installed; the runs use subprocesses.
if importlib.util.find_spec("locust") is None:
    pytest.skip("the loadtest extra (locust) is not installed", allow_module_level=True)

LIMIT = 130.0


def test_capacity_search_finds_the_artificial_limit(clean_shop: str, tmp_path: Path) -> None:
    """Above the limit the simulated queue grows by (rate - limit) requests a second, so a
    5 s step with p95 < 300 ms breaks from about 6% overload; below it only jitter queues,
    and p95 (unlike p99) stays clear of the jitter of a busy shared machine."""
    add_fault(clean_shop, "capacity_limit", "*", LIMIT, 600)
    out = tmp_path / "capacity"
    result = run_cli(
        ["loadtest", "capacity", "--target", clean_shop, "--start", "60/s", "--max", "1000/s",
         "--step-duration", "5s", "--precision", "0.08", "--slo-p95", "*=300ms",
         "--peak", "100/s", "--safety", "2", "--out", str(out)]
    )  # fmt: skip
    # the declared peak with safety (200/s) exceeds the capacity: exit 3, with the headroom
    assert result.exit_code == 3, result.output
    capacity = json.loads((out / "capacity.json").read_text(encoding="utf-8"))
    found = capacity["capacity_requests_per_s"]
    assert abs(found - LIMIT) <= 0.10 * LIMIT, capacity["steps"]
    assert capacity["lowest_breaching_rate_per_s"] > capacity["highest_passing_rate_per_s"]
    assert capacity["breaks_first"]
    assert "the peak needs" in capacity["headline"]
    assert capacity["generator_limited"] is False
    assert (out / "capacity.html").exists()
