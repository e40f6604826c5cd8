"""PII masking, atomic writes and the CSV formula-injection guard."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from riskkit.atomic import neutralise_formula, write_csv_frame, write_text
from riskkit.pii import mask_address, mask_email, mask_frame, mask_name, mask_phone


@pytest.mark.parametrize(
    ("masker", "value", "expected"),
    [
        (mask_phone, "13812345678", "138****5678"),
        (mask_phone, "+86 138-1234-5678", "861****5678"),
        (mask_name, "张三", "张*"),
        (mask_name, "欧阳娜娜", "欧***"),
        (mask_email, "abcdef@x.com", "ab***@x.com"),
        (mask_address, "浙江省杭州市西湖区文三路100号5栋301", "浙江省杭州市西湖区***"),
        (mask_address, "上海市浦东新区张江路1号", "上海市浦东新区***"),
        (mask_address, "12 Harbour Rd, Hong Kong, HK", "***, Hong Kong, HK"),
    ],
)
def test_maskers(masker, value: str, expected: str) -> None:
    assert masker(value) == expected


def test_mask_frame_masks_known_columns_only() -> None:
    frame = pd.DataFrame(
        {"order_id": ["1"], "ship_phone": ["13812345678"], "ship_name": ["王小明"], "sku_id": ["x"]}
    )
    masked = mask_frame(frame)
    assert masked.loc[0, "ship_phone"] == "138****5678"
    assert masked.loc[0, "ship_name"] == "王**"
    assert masked.loc[0, "order_id"] == "1"
    assert mask_frame(frame, show_pii=True).loc[0, "ship_phone"] == "13812345678"


@pytest.mark.parametrize(
    "cell", ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\tx", '=HYPERLINK("http://x")']
)
def test_formula_cells_are_neutralised(cell: str) -> None:
    assert neutralise_formula(cell) == "'" + cell


def test_numbers_are_not_touched() -> None:
    assert neutralise_formula(-3.5) == -3.5
    assert neutralise_formula("abc") == "abc"


def test_csv_export_is_formula_safe(tmp_path: Path) -> None:
    path = write_csv_frame(
        tmp_path / "x.csv", pd.DataFrame({"a": ["=cmd|' /C calc'!A0", "ok"], "n": [-1, 2]})
    )
    text = path.read_text(encoding="utf-8")
    assert "'=cmd" in text and "\n-1" not in text.replace(",-1", "")


def test_atomic_write_leaves_old_file_on_crash(tmp_path: Path) -> None:
    from riskkit.atomic import atomic_open

    target = tmp_path / "report.html"
    write_text(target, "old")
    with pytest.raises(RuntimeError), atomic_open(target) as handle:
        handle.write("half")
        raise RuntimeError("crash")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["report.html"]


def test_report_autoescapes(tmp_path: Path) -> None:
    import jinja2

    from riskkit.report import _environment, render_html

    env = _environment()
    assert env.from_string("{{ x }}").render(x="<script>alert(1)</script>") == (
        "&lt;script&gt;alert(1)&lt;/script&gt;"
    )
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ missing }}").render()
    html = render_html("base.html", {})
    assert "personal data masked" in html
    assert "PII NOT MASKED" in render_html("base.html", {}, show_pii=True)


def test_atomic_files_get_normal_permissions(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = write_text(tmp_path / "r.txt", "x")
    finally:
        os.umask(old)
    assert oct(path.stat().st_mode & 0o777) == oct(0o644)
