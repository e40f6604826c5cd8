"""Hypothesis-built malformed data files (policy and runbook YAML, SLO and API
maps, waivers, --baseline JSON, column mappings): accepted, or exit 2 naming
the file and the line or field — never an internal error."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from draw import HypothesisDraw
from gen_datafiles import DATAFILE_READERS, make_datafile
from hypothesis import given
from hypothesis import strategies as st
from oracle import check_datafile
from settings import fuzz_settings

pytestmark = pytest.mark.slow

EXAMPLES = 30


@pytest.mark.parametrize("reader", sorted(DATAFILE_READERS))
@fuzz_settings(EXAMPLES)
@given(data=st.data())
def test_malformed_data_files_exit_2_naming_line_or_field(reader: str, data: st.DataObject) -> None:
    case = make_datafile(reader, HypothesisDraw(data))
    with tempfile.TemporaryDirectory(prefix="riskkit-fuzz-") as folder:
        path = Path(folder) / case.name
        path.write_bytes(case.data)
        outcome = check_datafile(DATAFILE_READERS[reader][1], path)
    assert outcome.ok, f"{case.mutations}\n{outcome.describe()}"
