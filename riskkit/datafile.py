"""Reading the YAML data files riskkit is configured with.

Policies, runbooks, column mappings, SLOs, API maps, waivers and promotion
calendars are data, never code: they are read with PyYAML's safe loader only
and validated by pydantic models.  A problem in one becomes an
:class:`~riskkit.errors.InputError` naming the file and the line (for YAML
syntax, undecodable bytes and impossible values such as ``2026-13-45``) and
the field (for validation, with the line the field is on), which the CLI
turns into exit 2.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from riskkit.errors import InputError

__all__ = [
    "decode_text",
    "describe_validation_error",
    "load_yaml_model",
    "parse_yaml",
    "read_text",
    "read_yaml",
    "validate",
    "yaml_line",
]

M = TypeVar("M", bound=BaseModel)


class _SafeLoader(yaml.SafeLoader):
    """The safe loader, with the line of a scalar it cannot construct.

    PyYAML's constructors raise ValueError or TypeError for well-formed text
    that is no possible value (``2026-13-45`` read as a date, ``!!int x``);
    here they become a YAML error at the node's position.
    """

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except yaml.YAMLError:
            raise
        except (ValueError, TypeError, OverflowError, AttributeError) as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read {node.value!r} ({exc})", node.start_mark
            ) from None


def decode_text(data: bytes, file: str | Path, what: str = "file") -> str:
    """UTF-8 (with or without BOM); otherwise an error naming the line of the bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            f"the {what} is not UTF-8 text (undecodable byte {data[exc.start]:#04x})",
            file=file,
            row=line,
        ) from None


def read_text(path: str | Path, what: str = "file") -> str:
    """The text of a data file, or an InputError naming it."""
    source = Path(path)
    try:
        data = source.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{what} not found", file=source) from None
    except OSError as exc:
        raise InputError(f"cannot read the {what}: {exc.strerror}", file=source) from None
    return decode_text(data, source, what)


def parse_yaml(text: str, file: str | Path) -> Any:
    """Safe-load ``text``; a syntax error or an impossible value names the line."""
    try:
        return yaml.load(text, Loader=_SafeLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"not valid YAML: {problem}", file=file, row=row) from None
    except RecursionError:
        raise InputError("not valid YAML: nested too deeply", file=file, row=1) from None


def read_yaml(path: str | Path, what: str = "file") -> Any:
    """Read and parse a YAML file (UTF-8, with or without BOM)."""
    return parse_yaml(read_text(path, what), Path(path))


def yaml_line(text: str, location: Sequence[object]) -> int | None:
    """The 1-based line of the field at ``location`` (keys and list indexes) in ``text``.

    For a missing field, the line of the closest enclosing one that exists.
    """
    try:
        node: yaml.Node | None = yaml.compose(text, Loader=yaml.SafeLoader)
    except (yaml.YAMLError, RecursionError):
        return None
    if node is None:
        return None
    line = node.start_mark.line + 1
    for part in location:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if str(k.value) == str(part)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            child = node.value[part] if 0 <= part < len(node.value) else None
        if child is None:
            break
        node = child
        line = node.start_mark.line + 1
    return line


def describe_validation_error(error: ValidationError) -> tuple[str, str]:
    """(field path, message) of the first problem, with how many there are."""
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    more = error.error_count() - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return where, f"{first['msg']}{suffix}"


def validate(
    model: type[M], data: Any, file: str | Path, what: str = "file", text: str | None = None
) -> M:
    """Validate parsed YAML against ``model``; errors name the field (and, given the
    file's ``text``, its line)."""
    if not isinstance(data, dict):
        kind = "nothing" if data is None else f"a {type(data).__name__}"
        raise InputError(f"a {what} is a YAML mapping, not {kind}", file=file, row=1)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        where, message = describe_validation_error(exc)
        location = exc.errors()[0]["loc"]
        row = yaml_line(text, location) if text is not None else None
        raise InputError(message, file=file, row=row, column=where or None) from None


def load_yaml_model(path: str | Path, model: type[M], what: str = "file") -> M:
    """Read, parse and validate one YAML data file."""
    text = read_text(path, what)
    return validate(model, parse_yaml(text, Path(path)), path, what, text=text)
