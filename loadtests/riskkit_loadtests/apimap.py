"""The API map: how the scenarios' steps become HTTP requests against *any* shop.

A YAML file (``yaml.safe_load``, validated by pydantic) names, per step, the method, a
path template, an optional JSON payload template, headers, which statuses are success
or an expected business refusal (a coupon below its threshold, a sold-out hot SKU), which
response fields to extract for the business checks, and extra response checks.  The map
of the reference shop ships as the default (``apimaps/reference-shop.yaml``).

Templates use ``{name}`` placeholders: ``user_id``, ``sku_id``, ``quantity``, ``coupon``,
``order_id``, ``idempotency_key``, ``stock``, and ``{env:NAME}`` for secrets read from
the environment (never written in the file).  A string that is exactly one placeholder
keeps the value's type (``"{quantity}"`` renders the number 1, not ``"1"``).
"""

from __future__ import annotations

import os
import re
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from riskkit.datafile import load_yaml_model

__all__ = [
    "REQUIRED_STEPS",
    "ApiMap",
    "CheckSpec",
    "StepSpec",
    "default_api_map_path",
    "load_api_map",
    "render_template",
]

REQUIRED_STEPS = ("browse", "view_cart", "add_to_cart", "apply_coupon", "checkout", "pay")
_PLACEHOLDER = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_]*|env:[A-Za-z_][A-Za-z0-9_]*)\}")


class CheckSpec(BaseModel):
    """A response check: ``field`` (dotted path in the JSON body) is present / equals."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    field: str
    equals: str | int | float | bool | None = None


class StepSpec(BaseModel):
    """One step of the funnel as an HTTP request."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
    path: str = Field(pattern=r"^/")
    json_body: dict[str, Any] | None = Field(default=None, alias="json")
    headers: dict[str, str] = Field(default_factory=dict)
    ok_status: list[int] = Field(default_factory=lambda: [200])
    expected_status: list[int] = Field(
        default_factory=list,
        description="Statuses that are a correct business refusal, not a failure.",
    )
    extract: dict[str, str] = Field(
        default_factory=dict, description="variable -> dotted field of the JSON response"
    )
    checks: list[CheckSpec] = Field(default_factory=list)


class AuthSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    header: str
    value: str


class AdminSpec(BaseModel):
    """Optional admin endpoints (the reference shop has them; a staging shop may not)."""

    model_config = ConfigDict(extra="forbid")

    set_stock: StepSpec | None = None
    stats: StepSpec | None = None
    stats_sold_field: str = "sold"
    stats_stock_field: str = "stock"
    headers: dict[str, str] = Field(default_factory=dict)


class ApiMap(BaseModel):
    """The whole map; ``steps`` must name every step of :data:`REQUIRED_STEPS`."""

    model_config = ConfigDict(extra="forbid")

    name: str
    auth: AuthSpec | None = None
    hot_sku: str = "HOT-001"
    steps: dict[str, StepSpec]
    admin: AdminSpec | None = None

    @field_validator("steps")
    @classmethod
    def _every_step(cls, steps: dict[str, StepSpec]) -> dict[str, StepSpec]:
        # A field validator, so the error names the field (and its line) in the file.
        missing = [step for step in REQUIRED_STEPS if step not in steps]
        if missing:
            raise ValueError(f"steps missing from the API map: {', '.join(missing)}")
        return steps


def default_api_map_path() -> Path:
    return Path(str(resources.files("riskkit_loadtests") / "apimaps" / "reference-shop.yaml"))


def load_api_map(path: str | Path | None = None) -> ApiMap:
    """Read and validate an API map (the reference shop's when ``path`` is None)."""
    source = Path(path) if path is not None else default_api_map_path()
    return load_yaml_model(source, ApiMap, "API map")


def _lookup(name: str, variables: dict[str, Any]) -> Any:
    if name.startswith("env:"):
        return os.environ.get(name[4:], "")
    if name not in variables:
        raise KeyError(f"template placeholder {{{name}}} has no value in this step")
    return variables[name]


def render_template(template: Any, variables: dict[str, Any]) -> Any:
    """Fill placeholders in strings, recursively in dicts and lists."""
    if isinstance(template, str):
        whole = _PLACEHOLDER.fullmatch(template)
        if whole:
            return _lookup(whole.group(1), variables)
        return _PLACEHOLDER.sub(lambda m: str(_lookup(m.group(1), variables)), template)
    if isinstance(template, dict):
        return {key: render_template(value, variables) for key, value in template.items()}
    if isinstance(template, list):
        return [render_template(value, variables) for value in template]
    return template
