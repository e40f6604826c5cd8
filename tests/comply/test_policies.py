"""Shipped policy files load and validate; the committed JSON Schema is current."""

from __future__ import annotations

import importlib.resources
import json
from pathlib import Path

import pytest
import yaml

from riskkit.comply.loader import (
    builtin_policy_files,
    load_policies,
    load_policy_file,
    policy_json_schema,
    select_rules,
)
from riskkit.comply.templates import TEMPLATES
from riskkit.errors import InputError, UsageError

GOOD_RULE = {
    "id": "my-rule",
    "title": "t",
    "jurisdiction": "cn",
    "source": {
        "law": "L",
        "article": "1",
        "url": "https://example.org",
        "effective": "2024-01-01",
        "verified": False,
        "note": "n",
    },
    "severity": "low",
    "check": {"template": "list_not_below_detail", "params": {}},
    "remediation": "fix it",
}


def _policy(**rule_changes: object) -> str:
    return yaml.safe_dump(
        {"policy": "custom", "title": "Custom", "rules": [{**GOOD_RULE, **rule_changes}]}
    )


def test_every_shipped_policy_file_validates() -> None:
    files = builtin_policy_files()
    assert {name.split("/")[-1] for name, _ in files} == {
        "pricing-labels.yaml",
        "privacy-consent.yaml",
        "return-policy.yaml",
    }
    for name, text in files:
        _, rules = load_policy_file(text, name)
        assert rules, name
        for loaded in rules:
            assert loaded.rule.source.url.startswith("http")
            if not loaded.rule.source.verified:
                assert loaded.rule.source.note, f"{loaded.rule.id}: unverified needs a note"


def test_every_template_is_used_by_a_shipped_rule() -> None:
    used = {r.rule.check.template for r in load_policies()}
    assert used == set(TEMPLATES)


def test_committed_schema_is_up_to_date() -> None:
    committed = importlib.resources.files("riskkit_policies") / "policy.schema.json"
    assert json.loads(committed.read_text(encoding="utf-8")) == policy_json_schema(), (
        "regenerate: riskkit comply schema > policies/riskkit_policies/policy.schema.json"
    )


def test_cn_eu_us_variants_share_one_template() -> None:
    rules = {r.rule.id: r for r in load_policies()}
    variants = ["cn-price-art16-reference-price", "eu-pid-art6a-prior-price", "us-ca-former-price"]
    assert {rules[v].rule.check.template for v in variants} == {"reference_price_window"}
    assert rules["cn-price-art16-reference-price"].params.basis == "transaction"
    assert rules["eu-pid-art6a-prior-price"].params.window_days == 30


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"check": {"template": "nope", "params": {}}}, "check.template"),
        ({"check": {"template": "withdrawal_window", "params": {"dayz": 7}}}, "params"),
        ({"severity": "critical"}, "severity"),
        ({"source": {**GOOD_RULE["source"], "url": "ftp://x"}}, "url"),  # type: ignore[dict-item]
    ],
)
def test_invalid_policy_is_an_input_error(change: dict[str, object], where: str) -> None:
    with pytest.raises(InputError) as info:
        load_policy_file(_policy(**change), "custom.yaml")
    assert "custom.yaml" in str(info.value)
    assert where in str(info.value)


def test_yaml_is_parsed_safely() -> None:
    with pytest.raises(InputError):
        load_policy_file("!!python/object/apply:os.system ['echo hi']", "evil.yaml")


def test_policies_dir_adds_rules_and_rejects_duplicates(tmp_path: Path) -> None:
    (tmp_path / "custom.yaml").write_text(_policy(), encoding="utf-8")
    rules = load_policies(tmp_path)
    assert "my-rule" in {r.rule.id for r in rules}
    assert [r.rule.id for r in select_rules(rules, "custom")] == ["my-rule"]
    (tmp_path / "dup.yaml").write_text(_policy(), encoding="utf-8")
    with pytest.raises(InputError, match="already defined"):
        load_policies(tmp_path)


def test_select_rules_by_jurisdiction_and_unknown_policy() -> None:
    rules = load_policies()
    assert {r.rule.jurisdiction for r in select_rules(rules, "all", "eu")} == {"eu"}
    assert {r.policy for r in select_rules(rules, "return-policy")} == {"return-policy"}
    with pytest.raises(UsageError):
        select_rules(rules, "nonsense")
