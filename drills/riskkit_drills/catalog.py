"""Find, load and validate runbooks: the shipped ones and the user's own.

Shipped runbooks live in the ``riskkit_runbooks`` package and are read with
:mod:`importlib.resources`; ``--runbooks-dir`` adds a folder of the user's
YAML files (a user runbook with the id of a shipped one replaces it).
Only ``yaml.safe_load`` is used: a runbook is data, never code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from riskkit.errors import InputError, UsageError
from riskkit_drills.models import Runbook

__all__ = [
    "LoadedRunbook",
    "find_runbook",
    "load_runbook_file",
    "load_runbooks",
    "runbook_json_schema",
    "shipped_runbooks_dir",
]

RUNBOOK_PACKAGE = "riskkit_runbooks"
SCHEMA_FILE = "runbook.schema.json"


@dataclass(frozen=True)
class LoadedRunbook:
    """A validated runbook and where it came from (relative inputs resolve there)."""

    runbook: Runbook
    source: Path

    @property
    def base_dir(self) -> Path:
        return self.source.parent


def shipped_runbooks_dir() -> Path:
    """The folder of the shipped YAML runbooks (a real directory: the package is
    installed from source or as an unzipped wheel)."""
    return Path(str(resources.files(RUNBOOK_PACKAGE)))


def _format_error(error: dict[str, Any]) -> tuple[str, str]:
    location = ".".join(str(part) for part in error["loc"])
    return location, str(error["msg"])


def load_runbook_file(path: Path) -> LoadedRunbook:
    """Parse and validate one YAML runbook; errors name the file and the field."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read runbook: {exc.strerror}", file=path) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = mark.line + 1 if mark is not None else None
        raise InputError(f"not valid YAML: {exc}", file=path, row=row) from exc
    if not isinstance(data, dict):
        raise InputError("a runbook is a YAML mapping", file=path)
    try:
        runbook = Runbook.model_validate(data)
    except ValidationError as exc:
        location, message = _format_error(dict(exc.errors()[0]))
        more = len(exc.errors()) - 1
        suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        raise InputError(message + suffix, file=path, column=location or None) from exc
    return LoadedRunbook(runbook, path)


def _yaml_files(folder: Path) -> list[Path]:
    return sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])


def load_runbooks(extra_dir: Path | None = None) -> dict[str, LoadedRunbook]:
    """Every runbook by id: shipped first, then ``extra_dir`` (which may override)."""
    found: dict[str, LoadedRunbook] = {}
    for path in _yaml_files(shipped_runbooks_dir()):
        loaded = load_runbook_file(path)
        found[loaded.runbook.id] = loaded
    if extra_dir is not None:
        if not extra_dir.is_dir():
            raise UsageError(f"--runbooks-dir {extra_dir} is not a directory")
        for path in _yaml_files(extra_dir):
            loaded = load_runbook_file(path)
            found[loaded.runbook.id] = loaded
    return found


def find_runbook(name: str, extra_dir: Path | None = None) -> LoadedRunbook:
    """A runbook by id, or by path to a YAML file."""
    candidate = Path(name)
    if candidate.suffix in (".yaml", ".yml") and candidate.is_file():
        return load_runbook_file(candidate)
    runbooks = load_runbooks(extra_dir)
    if name not in runbooks:
        known = ", ".join(sorted(runbooks))
        raise UsageError(f"unknown runbook {name!r}; known: {known}")
    return runbooks[name]


def runbook_json_schema() -> str:
    """The JSON Schema of a runbook, as committed in ``runbook.schema.json``."""
    schema = Runbook.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://riskkit.dev/schemas/runbook.schema.json"
    return json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
