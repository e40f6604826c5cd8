"""Official citation sources: which hosts a shipped rule's ``source.url`` may point at.

The list is policy data (``riskkit_policies/citations/official-sources.yaml``),
read with ``yaml.safe_load`` and validated here, so adding a publisher is a
data change reviewed like a rule.
"""

from __future__ import annotations

import importlib.resources
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from riskkit.datafile import parse_yaml, validate

__all__ = [
    "OfficialSource",
    "OfficialSources",
    "load_official_sources",
    "official_source_of",
    "official_sources_schema",
]

SOURCES_FILE = "citations/official-sources.yaml"


class OfficialSource(BaseModel):
    """One official publisher's host."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field(pattern=r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")
    publisher: str = Field(min_length=1)
    kind: Literal["regulator", "legislature", "gazette", "court", "government"]
    include_subdomains: bool = False

    def matches(self, host: str) -> bool:
        return host == self.host or (self.include_subdomains and host.endswith(f".{self.host}"))


class OfficialSources(BaseModel):
    """The allowed list."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sources: list[OfficialSource] = Field(min_length=1)


def load_official_sources() -> OfficialSources:
    """The shipped list (an invalid file raises :class:`riskkit.errors.InputError`)."""
    name = f"riskkit_policies/{SOURCES_FILE}"
    text = (importlib.resources.files("riskkit_policies") / SOURCES_FILE).read_text("utf-8")
    return validate(OfficialSources, parse_yaml(text, name), name, "citation source list", text)


def official_source_of(url: str, sources: OfficialSources) -> OfficialSource | None:
    """The official source ``url`` is published by, or None."""
    host = (urlsplit(url).hostname or "").lower()
    return next((s for s in sources.sources if s.matches(host)), None)


def official_sources_schema() -> dict[str, Any]:
    """JSON Schema of the list (for editors; committed beside it)."""
    schema = OfficialSources.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://riskkit.dev/schemas/official-sources.schema.json"
    return schema
