"""Pricing rules: pass and fail cases, with the window boundaries."""

from __future__ import annotations

import pytest

from .conftest import by_subject, one_unit_order, run_rule

PROMO = "2026-11-11 00:00"


def _promo(sku: str, compare: float, price: float = 80, **extra: object) -> dict[str, object]:
    return {
        "sku_id": sku,
        "compare_at_price": compare,
        "price": price,
        "promo_start": PROMO,
        **extra,
    }


def test_cn_art16_window_is_the_seven_days_before_the_promotion(evidence) -> None:
    root = evidence(
        catalog=[
            _promo("S1", 100),
            _promo("S2", 100),
            _promo("S3", 120),
            _promo("S4", 100),
            _promo("S5", 999, compare_basis_label="厂商建议零售价"),
        ],
        orders=[
            one_unit_order("o1", "S1", "2026-11-03 23:59", 80),  # 8th day before: outside
            one_unit_order("o2", "S1", "2026-11-04 12:00", 100),  # 7th day before: inside
            one_unit_order("o3", "S2", "2026-11-04 00:00", 90),  # 7th day before: inside, lower
            one_unit_order("o4", "S3", "2026-10-20 10:00", 120),  # no sale in the window: last one
            one_unit_order("o5", "S5", "2026-11-05 10:00", 10),
        ],
    )
    findings = run_rule(root, "cn-price-art16-reference-price")
    assert by_subject(findings) == {
        "sku:S1": "pass",
        "sku:S2": "fail",
        "sku:S3": "pass",
        "sku:S4": "fail",
    }
    s2 = next(f for f in findings if f.subject == "sku:S2")
    assert s2.evidence["reference_price"] == 90
    assert s2.evidence["window"] == {
        "from": "2026-11-04",
        "to_before": "2026-11-11 00:00:00",
        "days": 7,
    }
    assert [r["price"] for r in s2.evidence["rows"]] == [90]
    assert s2.evidence["rows"][0]["file_row"] == 4
    s3 = next(f for f in findings if f.subject == "sku:S3")
    assert s3.evidence["reference_basis"] == "last_transaction"
    assert "cannot be verified" in next(f for f in findings if f.subject == "sku:S4").message


def test_cn_art16_promotions_before_the_effective_date_are_not_judged(evidence) -> None:
    root = evidence(
        catalog=[_promo("S1", 100) | {"promo_start": "2022-06-30 00:00"}],
        orders=[one_unit_order("o1", "S1", "2022-06-25 10:00", 50)],
    )
    assert by_subject(run_rule(root, "cn-price-art16-reference-price")) == {"*": "not_applicable"}


def test_eu_prior_price_is_the_lowest_applied_in_30_days_and_percent_from_it(evidence) -> None:
    history = [
        {"sku_id": "S1", "at": "2026-10-01 00:00", "price": 100},  # still applied on 10-12
        {"sku_id": "S1", "at": "2026-10-20 00:00", "price": 120},
        {"sku_id": "S2", "at": "2026-10-01 00:00", "price": 120},
        {"sku_id": "S3", "at": "2026-10-01 00:00", "price": 120},
    ]
    root = evidence(
        catalog=[
            _promo("S1", 120, 90),
            _promo("S2", 120, 90, discount_pct_shown=25),
            _promo("S3", 120, 90, discount_pct_shown=50),
        ],
        price_history=history,
        settings={"markets": ["eu"]},
    )
    findings = run_rule(root, "eu-pid-art6a-prior-price")
    assert by_subject(findings) == {"sku:S1": "fail", "sku:S2": "pass", "sku:S3": "fail"}
    s3 = next(f for f in findings if f.subject == "sku:S3")
    assert s3.evidence["discount_pct_computed"] == 25.0


def test_eu_rule_is_not_applicable_to_a_shop_outside_the_eu(evidence) -> None:
    root = evidence(
        catalog=[_promo("S1", 120)],
        price_history=[{"sku_id": "S1", "at": "2026-10-01", "price": 100}],
        settings={"markets": ["cn"]},
    )
    assert by_subject(run_rule(root, "eu-pid-art6a-prior-price")) == {"*": "not_applicable"}


def test_us_ca_former_price_must_have_prevailed_in_90_days(evidence) -> None:
    history = [
        {"sku_id": "S1", "at": "2026-08-01", "price": 100},
        {"sku_id": "S1", "at": "2026-11-01", "price": 150},  # only 10 days at 150
        {"sku_id": "S2", "at": "2026-08-01", "price": 150},
        {"sku_id": "S2", "at": "2026-11-01", "price": 100},
    ]
    root = evidence(catalog=[_promo("S1", 150), _promo("S2", 150)], price_history=history)
    findings = run_rule(root, "us-ca-former-price")
    assert by_subject(findings) == {"sku:S1": "fail", "sku:S2": "pass"}
    assert next(f for f in findings if f.subject == "sku:S1").evidence["reference_price"] == 100


def test_cn_art17_price_rise_shortly_before_the_promotion(evidence) -> None:
    history = [
        {"sku_id": "S1", "at": "2026-10-01", "price": 100},
        {"sku_id": "S1", "at": "2026-11-04", "price": 150},  # 7th day before: inside
        {"sku_id": "S2", "at": "2026-10-01", "price": 100},
        {"sku_id": "S2", "at": "2026-11-06", "price": 105},  # +5 %: below the limit
        {"sku_id": "S3", "at": "2026-10-01", "price": 100},
        {"sku_id": "S3", "at": "2026-11-03", "price": 150},  # 8th day before: the base
    ]
    root = evidence(catalog=[_promo(s, 150) for s in ("S1", "S2", "S3")], price_history=history)
    findings = run_rule(root, "cn-price-art17-pre-promo-rise")
    assert by_subject(findings) == {"sku:S1": "fail", "sku:S2": "pass", "sku:S3": "pass"}
    assert next(f for f in findings if f.subject == "sku:S1").evidence["rise_ratio"] == 0.5


def test_cn_art19_settled_above_the_shown_price(evidence) -> None:
    root = evidence(
        catalog=[{"sku_id": "S1"}],
        price_history=[{"sku_id": "S1", "at": "2026-11-01", "price": 59.9}],
        orders=[
            one_unit_order("o1", "S1", "2026-11-12 10:00", 69.9),
            one_unit_order("o2", "S1", "2026-11-12 11:00", 59.9),
        ],
    )
    findings = run_rule(root, "cn-price-art19-settled-above-shown")
    assert by_subject(findings) == {"order:o1 sku:S1": "fail", "sku:S1": "pass"}
    fail = findings[0]
    assert fail.evidence["shown_price"] == 59.9 and fail.evidence["order_row"] == 2


def test_cn_art20_list_page_not_below_detail_page(evidence) -> None:
    root = evidence(
        catalog=[
            {"sku_id": "S1", "list_page_price": 189, "detail_page_price": 199},
            {"sku_id": "S2", "list_page_price": 199, "detail_page_price": 199},
        ]
    )
    assert by_subject(run_rule(root, "cn-price-art20-list-vs-detail")) == {
        "sku:S1": "fail",
        "sku:S2": "pass",
    }


@pytest.mark.parametrize("rule", ["cn-price-unit-price", "eu-pid-art3-unit-price"])
def test_unit_price_shown_and_consistent(evidence, rule: str) -> None:
    root = evidence(
        catalog=[
            {"sku_id": "S1", "price": 60, "unit": "kg", "unit_quantity": 5, "unit_price_shown": 12},
            {"sku_id": "S2", "price": 60, "unit": "kg", "unit_quantity": 5},
            {"sku_id": "S3", "price": 60, "unit": "kg", "unit_quantity": 5, "unit_price_shown": 15},
            {"sku_id": "S4", "category": "数码", "price": 60},
        ],
        settings={"markets": ["cn", "eu"]},
    )
    assert by_subject(run_rule(root, rule)) == {
        "sku:S1": "pass",
        "sku:S2": "fail",
        "sku:S3": "fail",
    }
