from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from riskkit.datafile import load_yaml_model
from riskkit.errors import InputError


class Example(BaseModel):
    name: str
    count: int


def test_valid_file(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("name: a\ncount: 3\n", encoding="utf-8")
    assert load_yaml_model(path, Example).count == 3


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("name: a\ncount: [\n", "row 3: not valid YAML"),
        ("name: a\ncount: many\n", "column 'count': Input should be a valid integer"),
        ("- a\n- b\n", "a thing is a YAML mapping"),
        ("!!python/object/apply:os.system ['echo hacked']\n", "not valid YAML"),
    ],
)
def test_problems_name_the_line_or_field(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_yaml_model(path, Example, "thing")
    assert expected in str(info.value)
    assert str(path) in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="thing not found"):
        load_yaml_model(tmp_path / "nope.yaml", Example, "thing")
