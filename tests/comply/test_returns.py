"""Return rules: the 7/14-day windows (day 7 vs day 8), exclusions, refunds, page wording."""

from __future__ import annotations

from .conftest import by_subject, run_rule


def _ret(oid: str, **fields: object) -> dict[str, object]:
    row: dict[str, object] = {
        "order_id": oid,
        "sku_id": "S1",
        "category": "服饰",
        "signed_at": "2026-11-01 15:00",
        "requested_at": "2026-11-03 10:00",
        "return_received_at": "",
        "refunded_at": "",
        "amount_paid": 100,
        "refund_amount": "",
        "payment_method": "alipay",
        "refund_method": "",
        "status": "approved",
        "excluded_confirmed": "false",
    }
    row.update(fields)
    return row


def test_cn_window_counts_seven_days_from_the_day_after_signing(evidence) -> None:
    root = evidence(
        returns=[
            _ret("day7", requested_at="2026-11-08 23:00", status="rejected"),
            _ret("day8", requested_at="2026-11-09 00:30", status="rejected"),
            _ret("ok", requested_at="2026-11-03 10:00", status="approved"),
        ],
        settings={"return_window_days": 7},
    )
    findings = run_rule(root, "cn-return-7day-window")
    assert by_subject(findings) == {
        "settings.json": "pass",
        "order:day7 sku:S1": "fail",
        "order:day8 sku:S1": "pass",
        "order:ok sku:S1": "pass",
    }
    day7 = next(f for f in findings if f.subject == "order:day7 sku:S1")
    assert day7.evidence["window_last_day"] == "2026-11-08"
    assert day7.evidence["returns_row"] == 2


def test_cn_window_setting_below_seven_days_fails(evidence) -> None:
    root = evidence(returns=[_ret("ok")], settings={"return_window_days": 5})
    assert by_subject(run_rule(root, "cn-return-7day-window"))["settings.json"] == "fail"


def test_eu_window_is_fourteen_days(evidence) -> None:
    root = evidence(
        returns=[
            _ret("day14", requested_at="2026-11-15 23:00", status="rejected"),
            _ret("day15", requested_at="2026-11-16 08:00", status="rejected"),
        ],
        settings={"return_window_days": 14, "markets": ["eu"]},
    )
    assert by_subject(run_rule(root, "eu-crd-art9-withdrawal-14d")) == {
        "settings.json": "pass",
        "order:day14 sku:S1": "fail",
        "order:day15 sku:S1": "pass",
    }


def test_excluded_goods_are_judged_by_the_exclusion_rule_not_the_window(evidence) -> None:
    root = evidence(
        catalog=[
            {"sku_id": "S1", "returnable": "false", "return_exclusion_reason": "made_to_order"},
            {"sku_id": "S2", "returnable": "false", "return_exclusion_reason": "clearance"},
            {
                "sku_id": "S3",
                "returnable": "false",
                "return_exclusion_reason": "activation_devalues",
            },
            {"sku_id": "S4"},
        ],
        returns=[
            _ret("r1", sku_id="S3", status="rejected", excluded_confirmed="false"),
            _ret("r2", sku_id="S3", status="rejected", excluded_confirmed="true"),
            _ret("r3", sku_id="S1", status="rejected"),
        ],
        settings={"return_window_days": 7, "markets": ["cn", "eu"]},
    )
    assert by_subject(run_rule(root, "cn-return-exclusions")) == {
        "sku:S1": "pass",
        "sku:S2": "fail",
        "sku:S3": "pass",
        "order:r1 sku:S3": "fail",
        "order:r2 sku:S3": "pass",
        "order:r3 sku:S1": "pass",
    }
    # the EU has no "activation devalues" exception
    eu = by_subject(run_rule(root, "eu-crd-art16-exceptions"))
    assert eu["sku:S3"] == "fail" and eu["sku:S1"] == "pass"
    window = by_subject(run_rule(root, "cn-return-7day-window"))
    assert "order:r1 sku:S3" not in window


def test_cn_refund_within_seven_days_of_receipt(evidence) -> None:
    base = {"requested_at": "2026-11-08 10:00", "return_received_at": "2026-11-10 10:00"}
    root = evidence(
        returns=[
            _ret("on_time", **base, refunded_at="2026-11-17 23:00", status="refunded"),
            _ret("late", **base, refunded_at="2026-11-18 00:10", status="refunded"),
            _ret("overdue", return_received_at="2026-11-01 10:00", status="approved"),
            _ret("not_due", return_received_at="2026-11-20 10:00", status="approved"),
        ]
    )
    findings = run_rule(root, "cn-return-refund-7days")
    assert by_subject(findings) == {
        "order:on_time sku:S1": "pass",
        "order:late sku:S1": "fail",
        "order:overdue sku:S1": "fail",
        "order:not_due sku:S1": "not_applicable",
    }
    assert findings[0].evidence["refund_due_by"] == "2026-11-17"


def test_eu_refund_clock_starts_at_the_later_of_request_and_receipt(evidence) -> None:
    root = evidence(
        returns=[
            _ret(
                "a",
                requested_at="2026-10-01 10:00",
                return_received_at="2026-10-20 10:00",
                refunded_at="2026-11-01 10:00",
                status="refunded",
            ),
            _ret(
                "b",
                requested_at="2026-10-01 10:00",
                return_received_at="2026-10-02 10:00",
                refunded_at="2026-10-20 10:00",
                status="refunded",
            ),
        ],
        settings={"markets": ["eu"]},
    )
    assert by_subject(run_rule(root, "eu-crd-art13-refund-14d")) == {
        "order:a sku:S1": "pass",
        "order:b sku:S1": "fail",
    }


def test_refund_method_and_amount(evidence) -> None:
    root = evidence(
        returns=[
            _ret("same", status="refunded", refund_method="alipay", refund_amount=100),
            _ret("other", status="refunded", refund_method="store_credit", refund_amount=90),
        ]
    )
    assert by_subject(run_rule(root, "cn-return-original-method")) == {
        "order:same sku:S1": "pass",
        "order:other sku:S1": "fail",
    }
    amount = run_rule(root, "cn-return-full-amount")
    assert by_subject(amount) == {"order:same sku:S1": "pass", "order:other sku:S1": "fail"}
    assert amount[1].message == "refunded 90 of 100 paid"


def test_no_blanket_no_return_wording(evidence) -> None:
    root = evidence(
        pages={
            "product.html": "<html><body><p>特价商品</p>\n<p>售出概不退换</p></body></html>",
            "checkout.html": "<p>支持七天无理由退货</p><script>var s='概不退换'</script>",
        }
    )
    findings = run_rule(root, "cn-return-no-blanket-wording")
    assert by_subject(findings) == {
        "page:pages/checkout.html": "pass",
        "page:pages/product.html": "fail",
    }
    assert findings[1].evidence["hits"][0]["line"] == 2
