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

from riskkit.datafile import load_yaml_model
from riskkit.errors import UsageError
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


def load_runbook_file(path: Path) -> LoadedRunbook:
    """Parse and validate one YAML runbook; errors name the file and the field."""
    return LoadedRunbook(load_yaml_model(path, Runbook, "runbook"), path)


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
