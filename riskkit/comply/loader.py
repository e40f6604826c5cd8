"""Loading policy files: built-in ones from the ``riskkit_policies`` package, plus user folders.

Files are read with ``yaml.safe_load`` only, validated by :class:`PolicyFile`,
and each rule's ``check.params`` by its template's parameter model, so a typo
in a shipped file fails the test suite and a typo in a user file exits 2.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from riskkit.comply.models import PolicyFile, Rule
from riskkit.comply.templates import load_templates
from riskkit.comply.vocabulary import Vocabulary, build_vocabulary
from riskkit.datafile import describe_validation_error, parse_yaml, read_text, validate, yaml_line
from riskkit.errors import InputError, UsageError

__all__ = [
    "LoadedRule",
    "PolicySet",
    "builtin_policy_files",
    "builtin_vocabulary",
    "load_policies",
    "load_policy_file",
    "load_policy_set",
    "policy_json_schema",
    "select_rules",
]

POLICY_PACKAGE = "riskkit_policies"


@dataclass(frozen=True)
class LoadedRule:
    """A rule together with the policy it belongs to, its parsed parameters and its file."""

    policy: str
    rule: Rule
    params: Any
    file: str


def load_policy_file(text: str, name: str) -> tuple[PolicyFile, list[LoadedRule]]:
    """Parse and validate one policy file's text (``name`` is used in messages)."""
    policy = validate(PolicyFile, parse_yaml(text, name), name, "policy file", text=text)
    loaded: list[LoadedRule] = []
    for index, rule in enumerate(policy.rules):
        template = load_templates().get(rule.check.template)
        if template is None:
            raise InputError(
                f"unknown check template {rule.check.template!r} (known: {sorted(load_templates())})",
                file=name,
                row=yaml_line(text, ["rules", index, "check", "template"]),
                column=f"rules.{index}.check.template",
            )
        try:
            params = template.parse_params(rule.check.params)
        except ValidationError as exc:
            where, message = describe_validation_error(exc)
            location = ["rules", index, "check", "params", *exc.errors()[0]["loc"]]
            raise InputError(
                f"rule {rule.id}: {message}",
                file=name,
                row=yaml_line(text, location),
                column=f"rules.{index}.check.params.{where}",
            ) from exc
        loaded.append(LoadedRule(policy.policy, rule, params, name))
    return policy, loaded


def builtin_policy_files() -> list[tuple[str, str]]:
    """(name, text) of every shipped ``*.yaml`` policy file."""
    root = importlib.resources.files(POLICY_PACKAGE)
    return sorted(
        (f"{POLICY_PACKAGE}/{entry.name}", entry.read_text(encoding="utf-8"))
        for entry in root.iterdir()
        if entry.is_file() and entry.name.endswith((".yaml", ".yml"))
    )


@dataclass(frozen=True)
class PolicySet:
    """Every loaded rule, and the vocabulary its checks read the evidence with."""

    rules: list[LoadedRule]
    vocabulary: Vocabulary


def load_policies(policies_dir: str | Path | None = None) -> list[LoadedRule]:
    """Every rule: built-in files first, then ``policies_dir/*.yaml``; rule ids must be unique."""
    return load_policy_set(policies_dir).rules


@functools.cache
def builtin_vocabulary() -> Vocabulary:
    """The wordings and price-basis labels of the shipped policy files."""
    return load_policy_set().vocabulary


def load_policy_set(policies_dir: str | Path | None = None) -> PolicySet:
    """Rules and vocabulary of the built-in files, then of ``policies_dir/*.yaml``."""
    sources = builtin_policy_files()
    if policies_dir is not None:
        folder = Path(policies_dir)
        if not folder.is_dir():
            raise UsageError(f"--policies-dir is not a folder: {folder}")
        sources += [
            (str(p), read_text(p, "policy file"))
            for p in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
        ]
    rules: list[LoadedRule] = []
    files = []
    seen: dict[str, str] = {}
    for name, text in sources:
        policy, loaded_rules = load_policy_file(text, name)
        files.append((name, policy, text))
        for index, loaded in enumerate(loaded_rules):
            if loaded.rule.id in seen:
                raise InputError(
                    f"rule id {loaded.rule.id!r} is already defined in {seen[loaded.rule.id]}",
                    file=name,
                    row=yaml_line(text, ["rules", index, "id"]),
                    column=f"rules.{index}.id",
                )
            seen[loaded.rule.id] = name
            rules.append(loaded)
    return PolicySet(rules, build_vocabulary(files))


def select_rules(
    rules: list[LoadedRule], policy: str = "all", jurisdiction: str | None = None
) -> list[LoadedRule]:
    """The rules of one policy (or all) in one jurisdiction (or all)."""
    known = {r.policy for r in rules}
    if policy != "all" and policy not in known:
        raise UsageError(f"unknown policy {policy!r} (known: all, {', '.join(sorted(known))})")
    return [
        r
        for r in rules
        if (policy == "all" or r.policy == policy)
        and (jurisdiction is None or r.rule.jurisdiction == jurisdiction)
    ]


def policy_json_schema() -> dict[str, Any]:
    """The JSON Schema of a policy file (for editors; committed as policy.schema.json)."""
    schema = PolicyFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://riskkit.dev/schemas/policy.schema.json"
    templates = sorted(load_templates())
    schema["$defs"]["CheckSpec"]["properties"]["template"]["enum"] = templates
    return schema


def schema_text() -> str:
    return json.dumps(policy_json_schema(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
