"""Reading the YAML data files riskkit is configured with.

Policies, runbooks, column mappings, SLOs, API maps, waivers and promotion
calendars are data, never code: they are read with ``yaml.safe_load`` only
and validated by pydantic models.  A problem in one becomes an
:class:`~riskkit.errors.InputError` naming the file, the line (for YAML
syntax) or the field (for validation), which the CLI turns into exit 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from riskkit.errors import InputError

__all__ = ["describe_validation_error", "load_yaml_model", "parse_yaml", "read_yaml", "validate"]

M = TypeVar("M", bound=BaseModel)


def parse_yaml(text: str, file: str | Path) -> Any:
    """``yaml.safe_load`` of ``text``; a syntax error names the line."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = mark.line + 1 if mark is not None else None
        raise InputError(f"not valid YAML: {exc}", file=file, row=row) from None


def read_yaml(path: str | Path, what: str = "file") -> Any:
    """Read and parse a YAML file (UTF-8, with or without BOM)."""
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{what} not found", file=source) from None
    except OSError as exc:
        raise InputError(f"cannot read the {what}: {exc.strerror}", file=source) from None
    except UnicodeDecodeError:
        raise InputError(f"the {what} is not UTF-8 text", file=source) from None
    return parse_yaml(text, source)


def describe_validation_error(error: ValidationError) -> tuple[str, str]:
    """(field path, message) of the first problem, with how many there are."""
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    more = error.error_count() - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return where, f"{first['msg']}{suffix}"


def validate(model: type[M], data: Any, file: str | Path, what: str = "file") -> M:
    """Validate parsed YAML against ``model``; errors name the field."""
    if not isinstance(data, dict):
        raise InputError(f"a {what} is a YAML mapping", file=file)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        where, message = describe_validation_error(exc)
        raise InputError(message, file=file, column=where or None) from None


def load_yaml_model(path: str | Path, model: type[M], what: str = "file") -> M:
    """Read, parse and validate one YAML data file."""
    return validate(model, read_yaml(path, what), path, what)
