"""Generation speed at benchmark scale (slow: one million order lines)."""

from __future__ import annotations

import time

import pytest

from riskkit.synth import generate


@pytest.mark.slow
def test_one_million_lines_in_well_under_twenty_cpu_seconds() -> None:
    # CPU time, not wall time: the CI machine is shared and wall time varies with load.
    started = time.process_time()
    data = generate(1_000_000, 42)
    elapsed = time.process_time() - started
    assert len(data.orders) == 1_000_000
    assert data.labels["order_id"].is_unique
    assert elapsed < 20.0, f"generate(1M) took {elapsed:.1f} CPU seconds"
