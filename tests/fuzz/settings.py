"""Hypothesis settings of the fuzz suite: derandomized, bounded, no example database.

``RISKKIT_FUZZ_EXAMPLES`` scales every test's example count (CI keeps the
default; a developer can raise it for a longer local run).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

__all__ = ["fuzz_settings"]

_SCALE = float(os.environ.get("RISKKIT_FUZZ_EXAMPLES", "1"))


def fuzz_settings(examples: int) -> settings:
    return settings(
        max_examples=max(1, int(examples * _SCALE)),
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
