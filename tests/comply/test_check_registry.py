"""Check templates ship beside their rules and register through an entry point."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path

import pytest

import riskkit_policies
from riskkit.comply import templates
from riskkit.comply.loader import load_policies
from riskkit.comply.templates import ENTRY_POINT_GROUP, Template

CHECKS = Path(riskkit_policies.__file__).parent / "checks"


def test_every_shipped_family_is_a_module_beside_the_rules_and_registered() -> None:
    registered = {p.value.split(":")[0] for p in entry_points(group=ENTRY_POINT_GROUP)}
    families = {
        f"riskkit_policies.checks.{path.stem}"
        for path in CHECKS.glob("*.py")
        if path.stem != "__init__" and "TEMPLATES" in path.read_text(encoding="utf-8")
    }
    assert families and families <= registered
    assert not list(Path(templates.__file__).parent.glob("pricing*.py"))


def test_every_shipped_rule_names_a_registered_template() -> None:
    names = set(templates.load_templates())
    used = {loaded.rule.check.template for loaded in load_policies()}
    assert used and used <= names
    assert all(isinstance(t, Template) for t in templates.TEMPLATES.values())


def test_a_template_registered_twice_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    points = list(entry_points(group=ENTRY_POINT_GROUP))
    twice = points + points[:1]
    monkeypatch.setattr(templates, "entry_points", lambda group: twice)
    templates.load_templates.cache_clear()
    try:
        with pytest.raises(ValueError, match="registered twice"):
            templates.load_templates()
    finally:
        templates.load_templates.cache_clear()
