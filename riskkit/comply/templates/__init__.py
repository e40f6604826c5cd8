"""Check templates: the Python half of a rule (the YAML half picks one and sets its parameters).

The engine holds only the template contract (:mod:`riskkit.comply.templates.base`).
The templates themselves ship beside their rules, in ``riskkit_policies.checks``,
and every family registers through the ``riskkit.check_templates`` entry point:
a sequence of :class:`Template`, the way a third-party package would add its own.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points
from typing import Any

from riskkit.comply.templates.base import CheckContext, Params, Template

__all__ = ["ENTRY_POINT_GROUP", "TEMPLATES", "CheckContext", "Params", "Template", "load_templates"]

ENTRY_POINT_GROUP = "riskkit.check_templates"


@cache
def load_templates() -> dict[str, Template[Any]]:
    """Every registered template by name; two families naming one template is an error."""
    found: dict[str, Template[Any]] = {}
    for point in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda p: p.name):
        for template in point.load():
            if not isinstance(template, Template):
                raise TypeError(f"entry point {point.name!r} yields {template!r}, not a Template")
            if template.name in found:
                raise ValueError(f"check template {template.name!r} is registered twice")
            found[template.name] = template
    return found


def __getattr__(name: str) -> dict[str, Template[Any]]:
    # Loaded on first use: the template modules import this package's contract,
    # so loading them while it initialises would be circular.
    if name == "TEMPLATES":
        return load_templates()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
