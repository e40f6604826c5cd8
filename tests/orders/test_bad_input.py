"""The bad-input corpus: every case exits 2 with a message naming the problem,
with no traceback; partly bad files quarantine their bad rows with reasons."""

from __future__ import annotations

import contextlib
import string
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskkit.cli.main import cli
from riskkit.errors import InputError
from riskkit.orders import read_orders

HEADER = "order_id,buyer_id,created_at,amount_paid\n"
GOOD = "".join(f"o{i},b{i},2026-10-01 10:{i:02d}:00,{i}.50\n" for i in range(40))


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


CORPUS: dict[str, tuple[str, str | bytes, str]] = {
    # name: (file name, content, words the message must contain)
    "missing required column": ("a.csv", "order_id,created_at\no1,2026-10-01\n", "buyer_id"),
    "unparseable timestamps": (
        "b.csv",
        HEADER + "o1,b1,yesterday,1\no2,b2,31/31/2026,2\n",
        "row 2, column 'created_at': unparseable timestamp",
    ),
    "non-numeric amounts": (
        "c.csv",
        HEADER + "o1,b1,2026-10-01 10:00,abc\no2,b2,2026-10-01 11:00,12元5\n",
        "row 2, column 'amount_paid': not a number",
    ),
    "empty file": ("d.csv", "", "empty"),
    "header only": ("e.csv", HEADER, "no order rows"),
    "truncated inside a quoted field": (
        "f.csv",
        HEADER + 'o1,b1,"2026-10-01 10:00',
        "malformed CSV",
    ),
    "truncated last row": ("g.csv", HEADER + "o1,b1", "truncated row"),
    "binary garbage": (
        "h.csv",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
        "binary",
    ),
    "duplicate order ids": (
        "i.csv",
        HEADER + "o1,b1,2026-10-01 10:00,1\no1,b2,2026-10-01 10:05,2\n",
        "row 3, column 'order_id': duplicate order line order_id (first at row 2)",
    ),
    "mixed encodings": (
        "j.csv",
        (HEADER + "o1,张三,2026-10-01 10:00,1\n").encode("utf-8")
        + "o2,李四,2026-10-01 10:05,2\n".encode("gb18030"),
        "mixed encodings",
    ),
    "unknown export": ("k.csv", "foo,bar\n1,2\n", "unrecognised export"),
    "too many fields": ("l.csv", HEADER + "o1,b1,2026-10-01 10:00,1,extra\n", "row 2"),
    "damaged xlsx": ("m.xlsx", b"PK\x03\x04 not really a workbook", "unreadable .xlsx"),
    "invalid jsonl": ("n.jsonl", '{"order_id": "o1", "buyer_id": "b1"\n', "row 1: invalid JSON"),
    "no such file": ("missing-file.csv", "", "no such file"),
}


@pytest.mark.parametrize("case", sorted(CORPUS))
def test_bad_input_exits_2_naming_the_problem(tmp_path: Path, case: str) -> None:
    name, content, words = CORPUS[case]
    path = tmp_path / name if case == "no such file" else _write(tmp_path, name, content)
    result = CliRunner().invoke(cli, ["orders", "check", str(path)])
    assert result.exit_code == 2, (case, result.output)
    assert "Traceback" not in result.output
    assert str(path) in result.stderr
    assert words in result.stderr, result.stderr


def test_float_ids_in_parquet_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "ids.parquet"
    pd.DataFrame(
        {"order_id": [3.1e18, 3.2e18], "buyer_id": ["a", "b"], "created_at": ["2026-10-01"] * 2}
    ).to_parquet(path)
    with pytest.raises(InputError, match="floating-point"):
        read_orders([path])


def test_invalid_mapping_file_names_the_key(tmp_path: Path) -> None:
    export = _write(tmp_path, "x.csv", "a,b,c\n1,2,2026-10-01\n")
    mapping = _write(tmp_path, "m.yaml", "columns:\n  order_id: a\n  buyer: b\n  created_at: c\n")
    result = CliRunner().invoke(cli, ["orders", "check", str(export), "--columns", str(mapping)])
    assert result.exit_code == 2
    assert "m.yaml" in result.stderr and "not canonical riskkit columns" in result.stderr


def test_some_bad_rows_are_quarantined_not_dropped(tmp_path: Path) -> None:
    path = _write(tmp_path, "orders.csv", HEADER + GOOD + "o99,b99,not-a-date,1\n")
    table = read_orders([path])
    assert len(table.frame) == 40
    assert len(table.rejected) == 1
    rejected = table.rejected.iloc[0]
    assert (rejected["row"], rejected["column"]) == (42, "created_at")
    assert rejected["source:order_id"] == "o99"  # the whole original row is kept
    out = table.write_rejected(tmp_path / "out")
    assert out is not None and "not-a-date" in out.read_text(encoding="utf-8")


def test_check_lists_every_problem_and_exits_2(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "orders.csv", HEADER + GOOD + "o99,b99,not-a-date,1\no98,,2026-10-01,1\n"
    )
    result = CliRunner().invoke(cli, ["orders", "check", str(path)])
    assert result.exit_code == 2
    assert "row 42, column 'created_at': unparseable timestamp" in result.stdout
    assert "row 43, column 'buyer_id': missing required value" in result.stdout


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(min_size=0, max_size=400))
def test_arbitrary_bytes_never_crash(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.csv"
    path.write_bytes(data)
    with contextlib.suppress(InputError):
        read_orders([path])


_cell = st.text(alphabet=string.printable + "订单编号张三￥¥=+-@'\t", max_size=12)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(st.tuples(_cell, _cell, _cell, _cell), min_size=1, max_size=8))
def test_arbitrary_cells_are_read_or_refused_cleanly(
    tmp_path: Path, rows: list[tuple[str, ...]]
) -> None:
    import csv

    path = tmp_path / "cells.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["order_id", "buyer_id", "created_at", "amount_paid"])
        writer.writerows(rows)
    try:
        table = read_orders([path], max_rejected=1.0)
    except InputError as exc:
        assert str(path) in str(exc)
        return
    assert len(table.frame) + len(table.rejected) == len(rows)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ids=st.lists(st.from_regex(r"\A[0-9]{1,25}\Z"), min_size=1, max_size=6, unique=True))
def test_numeric_ids_survive_byte_for_byte_through_excel_guards(
    tmp_path: Path, ids: list[str]
) -> None:
    path = tmp_path / "guarded.csv"
    lines = ["order_id,buyer_id,created_at,ship_phone"]
    lines += [f'="{i}",\'{i},2026-10-01 10:00:00,\t{i}' for i in ids]
    path.write_bytes(("\n".join(lines) + "\n").encode("gb18030"))
    table = read_orders([path])
    assert table.frame["order_id"].tolist() == ids
    assert table.frame["buyer_id"].tolist() == ids
    assert table.frame["ship_phone"].tolist() == ids
