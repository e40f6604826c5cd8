"""Shared data of the brushing / coupon-abuse tests: a small seeded marketplace,
generated once per test session (pytest puts this folder on sys.path)."""

from __future__ import annotations

import functools
from typing import Any

ROWS = 30_000
SEED = 11


@functools.cache
def market() -> Any:
    from riskkit.synth import generate

    return generate(ROWS, SEED)
