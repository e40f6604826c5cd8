"""Price-discrimination detector on small hand-made canonical frames."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskkit.errors import InputError, UsageError
from riskkit.metrics import RunMetrics
from riskkit.report import render_html
from riskkit_detectors.drift_stats import benjamini_hochberg
from riskkit_detectors.price_discrimination import PriceDiscriminationDetector

START = pd.Timestamp("2026-10-05")
DAYS = 14
PROVINCE_ADDRESSES = {
    "浙江": "浙江省杭州市西湖区文三路1号",
    "广东": "广东省深圳市南山区科技园2号",
    "北京": "北京市朝阳区建国路3号",
}


def make_orders(
    seed: int = 3,
    skus: int = 30,
    lines_per_sku_day: int = 40,
    discriminate: dict[str, tuple[str, str, float]] | None = None,
    flash_sale_sku: str | None = None,
    new_user_offer_sku: str | None = None,
    coupon_sku: str | None = None,
) -> pd.DataFrame:
    """A shop where every buyer pays the same price unless an injection says otherwise.

    ``discriminate`` maps SKU -> (attribute, cohort, surcharge): that cohort pays
    ``1 + surcharge`` times the price.  The flash sale (20:00-21:00, -30%) runs
    while iOS buyers shop mostly in the evening: a naive cohort average is fooled.
    """
    rng = np.random.default_rng(seed)
    buyers = 3000
    buyer_platform = rng.choice(["ios", "android", "web"], buyers, p=[0.4, 0.45, 0.15])
    buyer_tier = rng.choice(["regular", "gold", "platinum"], buyers, p=[0.7, 0.2, 0.1])
    buyer_province = rng.choice(list(PROVINCE_ADDRESSES), buyers)
    rows = []
    for s in range(skus):
        sku = f"SKU{s:03d}"
        n = lines_per_sku_day * DAYS
        day = rng.integers(0, DAYS, n)
        buyer = rng.integers(0, buyers, n)
        evening = buyer_platform[buyer] == "ios"
        hour = np.where(
            evening & (rng.random(n) < 0.7), rng.integers(19, 23, n), rng.integers(8, 23, n)
        )
        created = (
            START
            + pd.to_timedelta(day, unit="D")
            + pd.to_timedelta(hour, unit="h")
            + pd.to_timedelta(rng.integers(0, 3600, n), unit="s")
        )
        base = 20 + 10 * s
        # the shop reprices every day: all buyers see the same new price
        price = base * (1 + 0.05 * np.sin(day + s))
        rows.append(
            pd.DataFrame(
                {
                    "buyer_index": buyer,
                    "created_at": created,
                    "sku_id": sku,
                    "unit_price": price,
                    "hour": hour,
                }
            )
        )
    frame = pd.concat(rows, ignore_index=True)
    frame = frame.sort_values("created_at", kind="stable").reset_index(drop=True)
    buyer = frame.pop("buyer_index").to_numpy()
    frame["order_id"] = "O" + pd.Series(np.arange(len(frame))).astype(str).str.zfill(7)
    frame["buyer_id"] = "B" + pd.Series(buyer).astype(str).str.zfill(5)
    frame["platform"] = buyer_platform[buyer]
    frame["member_tier"] = buyer_tier[buyer]
    frame["ship_address"] = pd.Series(buyer_province[buyer]).map(PROVINCE_ADDRESSES)
    frame["quantity"] = 1
    frame["coupon_code"] = ""
    frame["discount_amount"] = 0.0
    first_order = ~frame["buyer_id"].duplicated()
    for sku, (attribute, cohort, surcharge) in (discriminate or {}).items():
        if attribute == "new_vs_returning":
            values = np.where(first_order, "new", "returning")
        else:
            values = frame[attribute].to_numpy()
        hit = (frame["sku_id"] == sku).to_numpy() & (values == cohort)
        frame.loc[hit, "unit_price"] *= 1 + surcharge
    if flash_sale_sku is not None:
        sale = (frame["sku_id"] == flash_sale_sku) & (frame["hour"] == 20)
        frame.loc[sale, "unit_price"] *= 0.7
    if new_user_offer_sku is not None:
        offer = (frame["sku_id"] == new_user_offer_sku) & first_order
        frame.loc[offer, "unit_price"] *= 0.8
    if coupon_sku is not None:
        coupon = (frame["sku_id"] == coupon_sku) & (frame["platform"] == "ios")
        frame.loc[coupon, "coupon_code"] = "IOS20"
        frame.loc[coupon, "discount_amount"] = frame.loc[coupon, "unit_price"] * 0.2
    frame["unit_price"] = frame["unit_price"].round(2)
    frame["amount_paid"] = frame["unit_price"] - frame["discount_amount"]
    return frame.drop(columns=["hour"])


def flagged_cells(detector: PriceDiscriminationDetector) -> set[tuple[str, str, str]]:
    table = detector.result_.tables["findings.csv"]
    hits = table[table["flagged"]]
    return set(zip(hits["sku_id"], hits["attribute"], hits["cohort"], strict=True))


INJECTED = {
    "SKU003": ("platform", "ios", 0.06),
    "SKU007": ("member_tier", "gold", 0.03),
    "SKU011": ("new_vs_returning", "returning", 0.04),
}


def test_injected_discrimination_is_flagged_and_nothing_else() -> None:
    detector = PriceDiscriminationDetector().fit(make_orders(discriminate=INJECTED))
    assert flagged_cells(detector) == {
        ("SKU003", "platform", "ios"),
        ("SKU007", "member_tier", "gold"),
        ("SKU011", "new_vs_returning", "returning"),
    }
    table = detector.result_.tables["findings.csv"]
    assert list(table.columns[:15]) == [
        "sku_id",
        "attribute",
        "cohort",
        "reference_cohort",
        "window_start",
        "window_end",
        "price_ratio",
        "ci_low",
        "ci_high",
        "p_value",
        "q_value",
        "n_cohort",
        "n_reference",
        "flagged",
        "reasons",
    ]
    ios = table[(table["sku_id"] == "SKU003") & (table["cohort"] == "ios")].iloc[0]
    assert ios["ci_low"] <= ios["price_ratio"] <= ios["ci_high"]
    assert abs(ios["price_ratio"] - 1.06) < 0.01
    assert ios["reference_cohort"] == "others"
    assert "platform=ios paid ¥" in ios["reasons"]
    returning = table[(table["sku_id"] == "SKU011") & (table["cohort"] == "returning")].iloc[0]
    assert returning["reference_cohort"] == "new"


def test_jsonl_rows_carry_example_order_pairs() -> None:
    detector = PriceDiscriminationDetector().fit(make_orders(discriminate=INJECTED))
    rows = {(r["sku_id"], r["cohort"]): r for r in detector.result_.findings}
    ios = rows[("SKU003", "ios")]
    assert ios["severity"] == "high"  # a 6% surcharge
    assert rows[("SKU007", "gold")]["severity"] == "medium"  # 3%
    pair = ios["example_pairs"][0]
    assert pair["cohort_price"] > pair["reference_price"]
    assert pair["cohort_created_at"][:13] == pair["reference_created_at"][:13]  # same hour
    json.dumps(detector.result_.findings)


def test_simpson_flash_sale_is_not_discrimination() -> None:
    orders = make_orders(flash_sale_sku="SKU005", skus=8, lines_per_sku_day=120)
    sku = orders[orders["sku_id"] == "SKU005"]
    naive = sku.groupby("platform")["unit_price"].mean()
    assert naive["android"] > naive["ios"] * 1.02  # the naive average is fooled
    detector = PriceDiscriminationDetector().fit(orders)
    assert flagged_cells(detector) == set()
    # with day buckets the flash sale and the evening shoppers are mixed again,
    # unless the calendar declares the flash sale
    coarse = PriceDiscriminationDetector(bucket="day").fit(orders)
    assert ("SKU005", "platform", "android") in flagged_cells(coarse)


def test_declared_flash_sale_in_day_buckets(tmp_path: Path) -> None:
    orders = make_orders(flash_sale_sku="SKU005", skus=8, lines_per_sku_day=120)
    lines = ["promotions:"]
    for d in range(DAYS):
        day = (START + pd.Timedelta(days=d)).date()
        lines += [
            f"  - name: flash sale {day}",
            f"    start: {day} 20:00",
            f"    end: {day} 21:00",
            "    kind: flash_sale",
            "    skus: [SKU005]",
        ]
    calendar = tmp_path / "promotions.yaml"
    calendar.write_text("\n".join(lines) + "\n", encoding="utf-8")
    detector = PriceDiscriminationDetector(bucket="day", calendar=str(calendar)).fit(orders)
    assert flagged_cells(detector) == set()


def test_coupons_are_not_discrimination() -> None:
    detector = PriceDiscriminationDetector().fit(make_orders(coupon_sku="SKU009"))
    assert flagged_cells(detector) == set()


def test_declared_new_user_offer_is_not_discrimination(tmp_path: Path) -> None:
    orders = make_orders(new_user_offer_sku="SKU013")
    undeclared = PriceDiscriminationDetector().fit(orders)
    assert ("SKU013", "new_vs_returning", "returning") in flagged_cells(undeclared)
    calendar = tmp_path / "promotions.yaml"
    calendar.write_text(
        "promotions:\n"
        "  - name: 新人价\n"
        "    start: 2026-10-01\n"
        "    end: 2026-10-31\n"
        "    kind: new_user_offer\n"
        "    audience: new\n"
        "    skus: [SKU013]\n",
        encoding="utf-8",
    )
    declared = PriceDiscriminationDetector(calendar=str(calendar)).fit(orders)
    assert flagged_cells(declared) == set()


def test_immaterial_or_one_day_gaps_are_not_flagged() -> None:
    tiny = PriceDiscriminationDetector().fit(
        make_orders(discriminate={"SKU003": ("platform", "ios", 0.004)})
    )
    assert flagged_cells(tiny) == set()
    row = tiny.result_.tables["findings.csv"].query("sku_id == 'SKU003' and cohort == 'ios'")
    assert "not flagged: gap below the material floor" in row["reasons"].iloc[0]
    orders = make_orders()
    one_day = (orders["sku_id"] == "SKU004") & (orders["platform"] == "ios")
    one_day &= orders["created_at"].dt.normalize() == START + pd.Timedelta(days=3)
    orders.loc[one_day, "unit_price"] *= 1.2
    detector = PriceDiscriminationDetector().fit(orders)
    assert flagged_cells(detector) == set()
    assert PriceDiscriminationDetector(min_days=1).fit(orders).result_.summary["cells_flagged"] == 1


def test_min_count_guard() -> None:
    orders = make_orders(discriminate=INJECTED, lines_per_sku_day=3)
    detector = PriceDiscriminationDetector(min_orders=50).fit(orders)
    table = detector.result_.tables["findings.csv"]
    assert (table["n_cohort"] >= 50).all() and (table["n_reference"] >= 50).all()
    assert ("SKU007", "member_tier", "gold") not in flagged_cells(detector)


def test_benjamini_hochberg() -> None:
    p = np.array([0.01, 0.04, 0.03, 0.20, np.nan])
    q = benjamini_hochberg(p)
    assert np.allclose(q[:4], [0.04, 0.16 / 3, 0.16 / 3, 0.20])
    assert np.isnan(q[4])
    # monotone in p, never below p
    rng = np.random.default_rng(0)
    p = rng.random(500)
    q = benjamini_hochberg(p)
    from scipy.stats import false_discovery_control

    assert np.allclose(q, false_discovery_control(p, method="bh"))
    assert (q >= p).all()
    assert (np.diff(q[np.argsort(p)]) >= -1e-12).all()


def test_fdr_controls_false_flags_on_clean_data() -> None:
    detector = PriceDiscriminationDetector(min_gap_pct=0, min_gap_yuan=0, min_days=1)
    orders = make_orders(seed=11)
    # random per-line noise around one price: no cohort is treated differently
    rng = np.random.default_rng(5)
    orders["unit_price"] = (orders["unit_price"] * rng.uniform(0.9, 1.1, len(orders))).round(2)
    detector.fit(orders)
    table = detector.result_.tables["findings.csv"]
    assert len(table) > 200
    assert table["flagged"].sum() <= 2
    assert table["p_value"].between(0, 1).all()


def test_shopify_shaped_frame_reports_unavailable_attributes() -> None:
    orders = make_orders(discriminate=INJECTED).drop(columns=["platform", "member_tier"])
    orders["ship_address"] = "1 Main St, Ottawa, ON, CA"
    detector = PriceDiscriminationDetector().fit(orders)
    unavailable = detector.result_.unavailable
    assert set(unavailable) == {"platform", "member_tier", "province"}
    assert "Shopify" in unavailable["platform"]
    assert flagged_cells(detector) == {("SKU011", "new_vs_returning", "returning")}


def test_no_prices_means_nothing_to_compare() -> None:
    orders = make_orders().drop(columns=["unit_price"])
    detector = PriceDiscriminationDetector().fit(orders)
    assert "price-discrimination" in detector.result_.unavailable
    assert detector.result_.tables["findings.csv"].empty


def test_bad_parameters() -> None:
    orders = make_orders(skus=2)
    with pytest.raises(UsageError):
        PriceDiscriminationDetector(attributes="platform,shoe_size").fit(orders)
    with pytest.raises(UsageError):
        PriceDiscriminationDetector(fdr=1.5).fit(orders)
    with pytest.raises(UsageError):
        PriceDiscriminationDetector(bucket="week").fit(orders)
    with pytest.raises(InputError):
        PriceDiscriminationDetector().fit(orders.drop(columns=["buyer_id"]))


def test_metrics_and_report_section() -> None:
    detector = PriceDiscriminationDetector().fit(make_orders(discriminate=INJECTED))
    metrics = RunMetrics("detect price-discrimination")
    detector.export_metrics(metrics)
    text = metrics.exposition().decode()
    assert 'riskkit_price_discrimination_cells{flagged="true"} 3.0' in text
    section = detector.result_.sections[0]
    html = render_html(section.template, section.context)
    assert "PIPL Art. 24" in html and "Art. 9" in html and "verified" in html
    assert html.count("<svg") == 3


def test_cli_writes_findings_and_example_pairs(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from riskkit.cli.main import cli

    source = tmp_path / "orders.csv"
    make_orders(discriminate=INJECTED).to_csv(source, index=False)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli,
        ["detect", "price-discrimination", str(source), "--out", str(out), "--fdr", "0.01"],
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "price-discrimination" / "findings.csv", dtype={"sku_id": str})
    flagged = table[table["flagged"].astype(str).str.lower() == "true"]
    assert set(flagged["sku_id"]) == {"SKU003", "SKU007", "SKU011"}
    rows = [
        json.loads(line)
        for line in (out / "price-discrimination" / "findings.jsonl").read_text().splitlines()
    ]
    assert all(row["example_pairs"] for row in rows if row.get("sku_id"))
    result = CliRunner().invoke(
        cli, ["detect", "price-discrimination", str(source), "--out", str(out), "--fdr", "2"]
    )
    assert result.exit_code == 2
