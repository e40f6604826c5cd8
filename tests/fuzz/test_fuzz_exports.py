"""Hypothesis-built malformed order exports of every format through ``orders check``
and ``detect all``: exit 0, 2 or 3 (never 1), no row lost, no temporary file
left, every order id in scores.csv byte for byte (see oracle.py)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from draw import HypothesisDraw
from gen_exports import EXPORT_READERS, make_export
from hypothesis import given
from hypothesis import strategies as st
from oracle import check_export
from settings import fuzz_settings

pytestmark = pytest.mark.slow

# Examples per reader: about 3 s per reader on a 2-core machine (detect all is most of it).
EXAMPLES = 10


@pytest.mark.parametrize("reader", sorted(EXPORT_READERS))
@fuzz_settings(EXAMPLES)
@given(data=st.data())
def test_malformed_exports_keep_the_promises(reader: str, data: st.DataObject) -> None:
    case = make_export(reader, HypothesisDraw(data))
    with tempfile.TemporaryDirectory(prefix="riskkit-fuzz-") as folder:
        outcome = check_export(case, Path(folder))
    assert outcome.ok, f"{case.mutations}\n{outcome.describe()}"
