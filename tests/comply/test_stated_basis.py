"""A stated price basis is checked against the evidence (明码标价和禁止价格欺诈规定 Arts. 16, 19)."""

from __future__ import annotations

from pathlib import Path

import pytest

from riskkit.comply.loader import builtin_policy_files, load_policy_file
from riskkit.errors import InputError

from .conftest import by_subject, one_unit_order, run_rule

DOCS = Path(__file__).resolve().parents[2] / "docs" / "compliance.md"
RULE = "cn-price-art16-stated-basis"
PROMO = "2026-11-11 00:00"
SEVEN_DAY_LABEL = "划线价为活动前7日内最低成交价"


def _labelled(sku: str, compare: float, label: str) -> dict[str, object]:
    return {
        "sku_id": sku,
        "price": 80,
        "compare_at_price": compare,
        "compare_basis_label": label,
        "promo_start": PROMO,
    }


def test_a_seven_day_basis_the_transactions_contradict_fails_quoting_label_and_minimum(
    evidence,
) -> None:
    root = evidence(
        catalog=[_labelled("S1", 120, SEVEN_DAY_LABEL), _labelled("S2", 99, SEVEN_DAY_LABEL)],
        orders=[
            one_unit_order(
                "o1", "S1", "2026-11-03 23:59", 80
            ),  # the 8th day before: not in the window
            one_unit_order("o2", "S1", "2026-11-04 09:00", 110),
            one_unit_order("o3", "S1", "2026-11-09 20:00", 99),
            one_unit_order("o4", "S2", "2026-11-05 10:00", 99),
        ],
    )
    findings = run_rule(root, RULE)
    assert by_subject(findings) == {"sku:S1": "fail", "sku:S2": "pass"}
    s1 = next(f for f in findings if f.subject == "sku:S1")
    assert SEVEN_DAY_LABEL in s1.message
    assert "99" in s1.message and "7 days" in s1.message
    assert s1.evidence["reference_price"] == 99
    assert s1.evidence["compare_basis_label"] == SEVEN_DAY_LABEL
    assert s1.evidence["window"] == {
        "from": "2026-11-04",
        "to_before": "2026-11-11 00:00:00",
        "days": 7,
    }
    assert [r["price"] for r in s1.evidence["rows"]] == [110, 99]
    assert [r["file_row"] for r in s1.evidence["rows"]] == [3, 4]


def test_a_true_basis_passes_and_chinese_numerals_and_30_days_are_read(evidence) -> None:
    root = evidence(
        catalog=[
            _labelled("S1", 99, "促销前七日内最低成交价格"),
            _labelled("S2", 150, "前30日最低成交价"),
        ],
        orders=[
            one_unit_order("o1", "S1", "2026-11-06 10:00", 99),
            one_unit_order("o2", "S2", "2026-10-13 10:00", 140),  # 29 days before: counts for 30
            one_unit_order("o3", "S2", "2026-11-08 10:00", 160),
        ],
    )
    findings = run_rule(root, RULE)
    assert by_subject(findings) == {"sku:S1": "pass", "sku:S2": "fail"}
    s2 = next(f for f in findings if f.subject == "sku:S2")
    assert s2.evidence["reference_price"] == 140 and s2.evidence["window"]["days"] == 30


def test_offered_bases_are_checked_against_the_price_history(evidence) -> None:
    history = [
        {"sku_id": "S1", "at": "2026-08-01 00:00", "price": 129},  # 原价 129, shown 159
        {"sku_id": "S2", "at": "2026-08-01 00:00", "price": 159},  # 原价 159: true
        {"sku_id": "S3", "at": "2026-08-01 00:00", "price": 100},  # 日常价: 100 for months
        {"sku_id": "S3", "at": "2026-11-06 00:00", "price": 150},
        {"sku_id": "S4", "at": "2026-10-01 00:00", "price": 130},  # 前30日最低价: 130
    ]
    root = evidence(
        catalog=[
            _labelled("S1", 159, "原价"),
            _labelled("S2", 159, "促销前价格"),
            _labelled("S3", 150, "日常价"),
            _labelled("S4", 130, "前30日最低价"),
        ],
        price_history=history,
    )
    findings = run_rule(root, RULE)
    assert by_subject(findings) == {
        "sku:S1": "fail",
        "sku:S2": "pass",
        "sku:S3": "fail",
        "sku:S4": "pass",
    }
    s1 = next(f for f in findings if f.subject == "sku:S1")
    assert "'原价'" in s1.message and "129" in s1.message
    assert s1.evidence["rows"] == [{"file_row": 2, "at": "2026-08-01 00:00:00", "price": 129.0}]
    assert next(f for f in findings if f.subject == "sku:S3").evidence["reference_price"] == 100


@pytest.mark.parametrize("label", ["厂商建议零售价", "专柜价", "吊牌价"])
def test_a_basis_the_evidence_cannot_verify_is_not_checked_with_the_reason(
    evidence, label: str
) -> None:
    root = evidence(
        catalog=[_labelled("S1", 999, label)],
        orders=[one_unit_order("o1", "S1", "2026-11-05 10:00", 10)],
    )
    [finding] = run_rule(root, RULE)
    assert finding.status == "not_checked"
    assert label in finding.message and "cannot be verified" in finding.message
    assert "manufacturer" in finding.message


def test_an_unreadable_label_is_not_checked_with_its_text(evidence) -> None:
    root = evidence(catalog=[_labelled("S1", 120, "参考价")], orders=[])
    [finding] = run_rule(root, RULE)
    assert finding.status == "not_checked"
    assert "'参考价'" in finding.message and "price_basis_labels" in finding.message


def test_no_transaction_in_the_window_makes_a_seven_day_claim_fail(evidence) -> None:
    root = evidence(
        catalog=[_labelled("S1", 120, SEVEN_DAY_LABEL), _labelled("S2", 120, "划线价")],
        orders=[
            one_unit_order("o1", "S1", "2026-10-01 10:00", 90),
            one_unit_order("o2", "S2", "2026-10-01", 120),
        ],
    )
    findings = run_rule(root, RULE)
    # a bare 划线价 states no basis: Art. 16's default, the last sale before the promotion
    assert by_subject(findings) == {"sku:S1": "fail", "sku:S2": "pass"}
    assert "cannot be shown true" in next(f for f in findings if f.subject == "sku:S1").message


def test_missing_orders_make_transaction_bases_not_checked(evidence) -> None:
    root = evidence(
        catalog=[_labelled("S1", 120, SEVEN_DAY_LABEL), _labelled("S2", 129, "原价")],
        price_history=[{"sku_id": "S2", "at": "2026-08-01", "price": 129}],
    )
    assert by_subject(run_rule(root, RULE)) == {"sku:S1": "not_checked", "sku:S2": "pass"}


def test_unlabelled_prices_are_left_to_the_reference_price_rule(evidence) -> None:
    root = evidence(
        catalog=[{"sku_id": "S1", "compare_at_price": 120, "promo_start": PROMO}],
        orders=[one_unit_order("o1", "S1", "2026-11-05 10:00", 90)],
    )
    assert by_subject(run_rule(root, RULE)) == {"*": "not_applicable"}


def test_a_label_pattern_in_a_policies_dir_file_extends_the_grammar(
    evidence, tmp_path: Path
) -> None:
    extra = tmp_path / "policies"
    extra.mkdir()
    (extra / "labels.yaml").write_text(
        """policy: shop-labels
title: Our labels
price_basis_labels:
  - pattern: '活动前(?P<days>\\d+)天最低到手价'
    verify: lowest_transaction
    examples: [活动前15天最低到手价]
""",
        encoding="utf-8",
    )
    root = evidence(
        catalog=[_labelled("S1", 120, "活动前15天最低到手价")],
        orders=[one_unit_order("o1", "S1", "2026-10-28 10:00", 100)],
    )
    assert by_subject(run_rule(root, RULE)) == {"sku:S1": "not_checked"}
    [finding] = run_rule(root, RULE, policies_dir=extra)
    assert finding.status == "fail" and finding.evidence["window"]["days"] == 15


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("{pattern: '(', verify: not_verifiable, reason: r, examples: [x]}", "not a regular"),
        ("{pattern: 'abc', verify: not_verifiable, reason: r, examples: [xyz]}", "does not match"),
        ("{pattern: '日常价', verify: prevailing_offered, examples: [日常价]}", "needs days"),
        ("{pattern: '专柜价', verify: not_verifiable, examples: [专柜价]}", "needs a reason"),
    ],
)
def test_an_invalid_label_grammar_entry_is_an_input_error(entry: str, problem: str) -> None:
    text = f"policy: bad\ntitle: Bad\nprice_basis_labels:\n  - {entry}\n"
    with pytest.raises(InputError, match=problem) as info:
        load_policy_file(text, "bad.yaml")
    assert "bad.yaml" in str(info.value) and "price_basis_labels" in str(info.value)


def test_every_shipped_price_basis_label_is_documented() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    section = docs[docs.index("### Stated price bases") : docs.index("## Rules")]
    entries = [
        e
        for _, text in builtin_policy_files()
        for e in load_policy_file(text, "x")[0].price_basis_labels
    ]
    assert entries
    for entry in entries:
        line = next((ln for ln in section.splitlines() if f"`{entry.pattern}`" in ln), None)
        assert line is not None, f"pattern {entry.pattern!r} is not documented"
        assert f"`{entry.verify}`" in line
        for example in entry.examples:
            assert f"`{example}`" in line, example
