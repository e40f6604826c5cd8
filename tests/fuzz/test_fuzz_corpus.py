"""Replay of the shrunk failing inputs the fuzzers found (tests/fuzz/corpus/).

Each folder holds the input files and a ``case.json`` (reader, inputs, the
rows and order ids written, and a note on what used to go wrong).  The same
properties as the fuzz tests must hold; a case the readers cannot fix (a
detector's crash another change fixes) carries ``xfail``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from oracle import replay

CORPUS = Path(__file__).parent / "corpus"
CASES = sorted(p.name for p in CORPUS.iterdir() if (p / "case.json").is_file())


def _marks(name: str) -> list[pytest.MarkDecorator]:
    reason = json.loads((CORPUS / name / "case.json").read_text(encoding="utf-8")).get("xfail")
    return [pytest.mark.xfail(reason=reason, strict=False)] if reason else []


@pytest.mark.parametrize("name", [pytest.param(n, marks=_marks(n)) for n in CASES])
def test_corpus_case_keeps_the_promises(name: str, tmp_path: Path) -> None:
    outcome = replay(CORPUS / name, tmp_path)
    assert outcome.ok, outcome.describe()


def test_corpus_is_not_empty() -> None:
    assert len(CASES) >= 10
