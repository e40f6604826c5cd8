"""Chinese values are values: wordings of exclusions, statuses, methods and booleans."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from riskkit.comply.loader import builtin_policy_files, load_policies, load_policy_file
from riskkit.errors import InputError

from .conftest import by_subject, run_rule

DOCS = Path(__file__).resolve().parents[2] / "docs" / "compliance.md"

STATUTORY = [  # 消费者权益保护法 Art. 25 ¶2
    "消费者定作",
    "鲜活易腐",
    "在线下载或者消费者拆封的音像制品、计算机软件等数字化商品",
    "交付的报纸、期刊",
]
CONFIRM_AT_PURCHASE = [  # 网络购买商品七日无理由退货暂行办法 Art. 7
    "拆封后影响人身安全或者生命健康",
    "一经激活或者试用后价值贬损较大",
    "销售时已明示的临近保质期商品",
]


def _excluded(sku: str, reason: str) -> dict[str, object]:
    return {"sku_id": sku, "returnable": "否", "return_exclusion_reason": reason}


def _ret(oid: str, sku: str, **fields: object) -> dict[str, object]:
    return {
        "order_id": oid,
        "sku_id": sku,
        "category": "服饰",
        "signed_at": "2026-11-01 15:00",
        "requested_at": "2026-11-03 10:00",
        "status": "已拒绝",
        "excluded_confirmed": "否",
        **fields,
    }


@pytest.mark.parametrize("wording", [*STATUTORY, *CONFIRM_AT_PURCHASE, "消费者定作的商品"])
def test_each_chinese_statutory_exclusion_wording_passes(evidence, wording: str) -> None:
    root = evidence(catalog=[_excluded("S1", wording)])
    [finding] = run_rule(root, "cn-return-exclusions")
    assert finding.status == "pass", finding.message
    assert finding.evidence["return_exclusion_reason"] == wording


@pytest.mark.parametrize("wording", ["促销商品不退换", "清仓"])
def test_non_statutory_exclusions_fail(evidence, wording: str) -> None:
    root = evidence(catalog=[_excluded("S1", wording)])
    [finding] = run_rule(root, "cn-return-exclusions")
    assert finding.status == "fail"
    assert wording in finding.message and "not an exclusion the law allows" in finding.message


def test_confirm_at_purchase_exclusions_need_the_buyers_confirmation(evidence) -> None:
    root = evidence(
        catalog=[_excluded("S1", "一经激活或者试用后价值贬损较大")],
        returns=[_ret("r1", "S1"), _ret("r2", "S1", excluded_confirmed="已确认")],
    )
    assert by_subject(run_rule(root, "cn-return-exclusions")) == {
        "sku:S1": "pass",
        "order:r1 sku:S1": "fail",
        "order:r2 sku:S1": "pass",
    }


def test_an_unknown_exclusion_reason_is_not_checked_with_its_text(evidence) -> None:
    root = evidence(catalog=[_excluded("S1", "七天无理由不适用"), _excluded("S2", "")])
    findings = {f.subject: f for f in run_rule(root, "cn-return-exclusions")}
    assert findings["sku:S1"].status == "not_checked"
    assert "'七天无理由不适用'" in findings["sku:S1"].message
    assert "wordings.return_exclusion" in findings["sku:S1"].message
    assert findings["sku:S2"].status == "fail"  # no reason at all is no exclusion


def test_chinese_return_statuses_are_read_and_an_unknown_one_is_reported(evidence) -> None:
    root = evidence(
        returns=[
            _ret("rejected", "S1"),
            _ret("refunding", "S1", status="退款中"),
            _ret("closed", "S1", status="退款关闭"),
        ],
        settings={"return_window_days": 7},
    )
    findings = {f.subject: f for f in run_rule(root, "cn-return-7day-window")}
    assert {s: f.status for s, f in findings.items()} == {
        "settings.json": "pass",
        "order:rejected sku:S1": "fail",
        "order:refunding sku:S1": "pass",
        "order:closed sku:S1": "not_checked",
    }
    assert "'退款关闭'" in findings["order:closed sku:S1"].message


def test_refund_rules_read_chinese_statuses(evidence) -> None:
    refunded = {
        "return_received_at": "2026-11-05 10:00",
        "refunded_at": "2026-11-06 10:00",
        "amount_paid": 100,
        "refund_amount": 80,
        "payment_method": "alipay",
        "refund_method": "alipay",
    }
    root = evidence(
        returns=[
            _ret("a", "S1", status="已退款", **refunded),
            _ret("b", "S1", status="部分退款", **refunded),
        ]
    )
    findings = {f.subject: f for f in run_rule(root, "cn-return-full-amount")}
    assert {s: f.status for s, f in findings.items()} == {
        "order:a sku:S1": "fail",
        "order:b sku:S1": "not_checked",
    }
    assert "'部分退款'" in findings["order:b sku:S1"].message


def _consent(user: str, method: str, sensitive: str = "否") -> dict[str, object]:
    return {
        "user_id": user,
        "purpose": "marketing",
        "sensitive": sensitive,
        "notice_version": "v1",
        "granted_at": "2026-09-01 10:00",
        "method": method,
    }


def test_chinese_consent_methods_and_booleans(evidence) -> None:
    root = evidence(
        consents=[
            _consent("u1", "点击同意"),
            _consent("u2", "预先勾选"),
            _consent("u3", "默认同意"),
            _consent("u4", "一揽子授权"),
            _consent("u5", "扫码即授权"),
        ]
    )
    pipl = {f.subject: f for f in run_rule(root, "cn-pipl-art14-affirmative-consent")}
    assert {s: f.status for s, f in pipl.items()} == {
        "user:u1 purpose:marketing": "pass",
        "user:u2 purpose:marketing": "fail",
        "user:u3 purpose:marketing": "fail",
        "user:u4 purpose:marketing": "pass",  # blanket: judged by SAMR Order 37, not here
        "user:u5 purpose:marketing": "not_checked",
    }
    assert "'扫码即授权'" in pipl["user:u5 purpose:marketing"].message
    samr = by_subject(run_rule(root, "cn-samr37-art13-no-bundled-authorisation"))
    assert samr["user:u4 purpose:marketing"] == "fail"
    assert samr["user:u1 purpose:marketing"] == "pass"


def test_sensitive_consent_reads_chinese_booleans_and_methods(evidence) -> None:
    root = evidence(
        consents=[_consent("u1", "单独同意", sensitive="是"), _consent("u2", "默认勾选", "是")]
    )
    assert by_subject(run_rule(root, "cn-pipl-art29-sensitive-separate")) == {
        "user:u1 purpose:marketing": "pass",
        "user:u2 purpose:marketing": "fail",
    }


def test_an_unknown_sensitive_method_is_not_checked_and_a_blank_one_fails(evidence) -> None:
    root = evidence(
        consents=[_consent("u1", "刷脸即同意", sensitive="是"), _consent("u2", "", sensitive="是")]
    )
    findings = {f.subject: f for f in run_rule(root, "cn-pipl-art29-sensitive-separate")}
    assert findings["user:u1 purpose:marketing"].status == "not_checked"
    assert "'刷脸即同意'" in findings["user:u1 purpose:marketing"].message
    assert findings["user:u2 purpose:marketing"].status == "fail"


def test_policies_dir_adds_wordings_and_rejects_a_conflicting_one(evidence, tmp_path) -> None:
    extra = tmp_path / "policies"
    extra.mkdir()
    (extra / "words.yaml").write_text(
        "policy: shop-words\ntitle: Ours\nwordings:\n  return_exclusion:\n"
        "    made_to_order: [刻字定制款]\n",
        encoding="utf-8",
    )
    root = evidence(catalog=[_excluded("S1", "刻字定制款")])
    assert [f.status for f in run_rule(root, "cn-return-exclusions")] == ["not_checked"]
    assert [f.status for f in run_rule(root, "cn-return-exclusions", policies_dir=extra)] == [
        "pass"
    ]
    (extra / "clash.yaml").write_text(
        "policy: clash\ntitle: Clash\nwordings:\n  return_exclusion:\n    perishable: [清仓]\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError, match="already means 'clearance'") as info:
        load_policies(extra)
    assert "clash.yaml" in str(info.value) and "row 5" in str(info.value)


def test_an_empty_policy_file_is_an_input_error() -> None:
    with pytest.raises(InputError, match="needs rules, wordings or price_basis_labels"):
        load_policy_file("policy: empty\ntitle: Empty\n", "empty.yaml")


def _section(docs: str, heading: str) -> str:
    start = docs.index(heading)
    following = re.search(r"^## ", docs[start + len(heading) :], re.MULTILINE)
    return docs[start : start + len(heading) + following.start()] if following else docs[start:]


def test_every_shipped_wording_is_documented() -> None:
    section = _section(DOCS.read_text(encoding="utf-8"), "## Recognised wordings")
    rows = {
        tuple(cell.strip().strip("`") for cell in line.strip("|").split("|")[:2]): line
        for line in section.splitlines()
        if line.startswith("| `")
    }
    checked = 0
    for name, text in builtin_policy_files():
        wordings = load_policy_file(text, name)[0].wordings.model_dump()
        for domain, mapping in wordings.items():
            for code, words in mapping.items():
                row = rows.get((domain, code))
                assert row is not None, f"{name}: wordings.{domain}.{code} has no row"
                for word in words:
                    assert f"`{word}`" in row, f"{name}: {word!r} ({domain}.{code}) undocumented"
                    checked += 1
    assert checked > 50
