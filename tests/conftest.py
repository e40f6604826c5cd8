"""Suite-wide guard: nothing in the pytest process may import gevent.

Locust monkey-patches the standard library on import; every test after such an
import would run threads as greenlets and fail in confusing ways.  Load tests run
Locust in subprocesses only."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _no_gevent_in_the_test_process() -> Iterator[None]:
    yield
    patched = sorted(m for m in sys.modules if m.split(".")[0] in ("gevent", "locust"))
    assert not patched, f"this test imported {patched[:3]} into the pytest process"
