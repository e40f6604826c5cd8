"""Traffic-drift detector on small hand-made canonical frames."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskkit.errors import InputError, UsageError
from riskkit.metrics import RunMetrics
from riskkit_detectors.traffic_drift import TrafficDriftDetector

START = pd.Timestamp("2026-09-07")  # a Monday
PROVINCES = ["浙江省杭州市西湖区文三路1号", "广东省深圳市南山区科技园2号", "北京市朝阳区建国路3号"]


def make_orders(
    days: int = 42,
    seed: int = 7,
    weekday_orders: int = 500,
    weekend_orders: int = 800,
    affiliate_day: int | None = None,
    bot_night_day: int | None = None,
    festival_day: int | None = None,
    outage_day: int | None = None,
) -> pd.DataFrame:
    """A shop with a weekly cycle (busier, later weekends) and optional injected drift."""
    rng = np.random.default_rng(seed)
    frames = []
    buyer_pool = 20_000
    for d in range(days):
        day = START + pd.Timedelta(days=d)
        weekend = day.day_of_week >= 5
        n = weekend_orders if weekend else weekday_orders
        if d == outage_day:
            n //= 5
        hour_weights = np.ones(24)
        hour_weights[:7] = 0.1
        hour_weights[19:23] = 3.0 if weekend else 2.0
        hour_weights[9:12] = 1.0 if weekend else 1.8
        channels = rng.choice(["search", "recommend", "live"], n, p=[0.5, 0.3, 0.2])
        if d == festival_day:
            n_extra = n * 2
            hour_weights = hour_weights.copy()
            hour_weights[0:2] = 20.0
        else:
            n_extra = 0
        total = n + n_extra
        hours = rng.choice(24, total, p=hour_weights / hour_weights.sum())
        channels = rng.choice(["search", "recommend", "live"], total, p=[0.5, 0.3, 0.2])
        platforms = rng.choice(["ios", "android", "web"], total, p=[0.4, 0.45, 0.15])
        registered_days_ago = rng.integers(30, 900, total)
        if d == affiliate_day:
            k = total // 4
            channels[:k] = "affiliate"
        if d == bot_night_day:
            k = total // 5
            hours[:k] = rng.integers(0, 5, k)
            registered_days_ago[:k] = rng.integers(0, 2, k)
        created = (
            day
            + pd.to_timedelta(hours, unit="h")
            + pd.to_timedelta(rng.integers(0, 3600, total), unit="s")
        )
        frames.append(
            pd.DataFrame(
                {
                    "order_id": [f"O{d:03d}-{i:05d}" for i in range(total)],
                    "buyer_id": [f"B{b}" for b in rng.integers(0, buyer_pool, total)],
                    "created_at": created,
                    "sku_id": [f"SKU{s}" for s in rng.integers(0, 50, total)],
                    "quantity": rng.integers(1, 3, total),
                    "unit_price": np.round(rng.lognormal(4.0, 0.6, total), 2),
                    "channel": channels,
                    "platform": platforms,
                    "coupon_code": np.where(rng.random(total) < 0.2, "SAVE10", ""),
                    "ship_address": rng.choice(PROVINCES, total),
                    "buyer_registered_at": created - pd.to_timedelta(registered_days_ago, unit="D"),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def drifted_days(detector: TrafficDriftDetector) -> list[int]:
    windows = detector.result_.tables["windows.csv"]
    flagged = windows.loc[windows["drifted"], "window_start"]
    return sorted(int((ts - START) / pd.Timedelta(days=1)) for ts in flagged)


def test_weekly_cycle_is_not_drift() -> None:
    detector = TrafficDriftDetector().fit(make_orders())
    windows = detector.result_.tables["windows.csv"]
    assert list(windows.columns[:5]) == [
        "window_start",
        "window_end",
        "orders",
        "drift_score",
        "drifted",
    ]
    assert len(windows) == 42
    assert drifted_days(detector) == []
    assert detector.result_.summary["windows_tested"] >= 30


def test_affiliate_hijack_is_caught_and_named() -> None:
    detector = TrafficDriftDetector().fit(make_orders(affiliate_day=30))
    assert drifted_days(detector) == [30]
    findings = detector.result_.tables["findings.csv"]
    channel = findings[findings["feature"] == "channel"].iloc[0]
    assert channel["test"] == "psi"
    assert channel["value"] >= channel["threshold"]
    assert "channel=affiliate 0.0% → " in channel["top_movers"]


def test_night_bots_name_the_hours_and_new_accounts() -> None:
    detector = TrafficDriftDetector().fit(make_orders(bot_night_day=31))
    assert drifted_days(detector) == [31]
    findings = detector.result_.tables["findings.csv"]
    moved = dict(zip(findings["feature"], findings["top_movers"], strict=True))
    assert moved["hour_of_day"].startswith("orders 00:00–05:00")
    assert "orders from new accounts" in moved["new_accounts"]
    # the JSONL rows carry the reasons and a severity
    rows = [f for f in detector.result_.findings if f["feature"] == "hour_of_day"]
    assert rows[0]["severity"] in {"low", "medium", "high"}
    assert rows[0]["reasons"][0].startswith("hour_of_day moved: orders 00:00–05:00")
    json.dumps(detector.result_.findings, default=str)


def test_flagged_window_is_left_out_of_later_references() -> None:
    # Two hijacked days in a row: if the first one entered the reference the
    # second would look (more) normal.
    orders = make_orders(affiliate_day=29)
    again = make_orders(affiliate_day=30, seed=8)
    day30 = again[again["created_at"].dt.normalize() == START + pd.Timedelta(days=30)]
    orders = pd.concat(
        [orders[orders["created_at"].dt.normalize() != START + pd.Timedelta(days=30)], day30]
    )
    detector = TrafficDriftDetector().fit(orders)
    assert {29, 30} <= set(drifted_days(detector))


def test_volume_drop_against_weekday_level() -> None:
    detector = TrafficDriftDetector().fit(make_orders(outage_day=32))
    assert drifted_days(detector) == [32]
    findings = detector.result_.tables["findings.csv"]
    volume = findings[findings["feature"] == "volume"].iloc[0]
    assert volume["value"] < 0.5
    assert "(weekday level)" in volume["top_movers"]


def write_calendar(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "promotions.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_calendar_promotion_is_annotated_not_alarmed(tmp_path: Path) -> None:
    orders = make_orders(festival_day=30)
    assert 30 in drifted_days(TrafficDriftDetector().fit(orders))
    calendar = write_calendar(
        tmp_path,
        "promotions:\n"
        "  - name: 双11\n"
        "    start: 2026-10-07\n"
        "    end: 2026-10-07\n"
        "    kind: festival\n",
    )
    detector = TrafficDriftDetector(calendar=str(calendar)).fit(orders)
    assert drifted_days(detector) == []
    windows = detector.result_.tables["windows.csv"]
    note = windows.loc[windows["window_start"] == START + pd.Timedelta(days=30), "annotation"]
    assert note.iloc[0].startswith("promotion 双11 (festival): expected; moved: ")
    # The festival's day and the three days of its aftermath.
    assert detector.result_.summary["windows_annotated"] == 4


@pytest.mark.parametrize(("aftermath", "excused"), [("", True), ("    aftermath_days: 0\n", False)])
def test_days_after_a_festival_are_expected(tmp_path: Path, aftermath: str, excused: bool) -> None:
    """The lull after 双11 (orders fall to a fifth the next day) is part of the festival."""
    orders = make_orders(festival_day=30, outage_day=31)
    assert 31 in drifted_days(TrafficDriftDetector().fit(orders))
    calendar = write_calendar(
        tmp_path,
        "promotions:\n"
        "  - name: 双11\n"
        "    start: 2026-10-07\n"
        "    end: 2026-10-07\n"
        "    kind: festival\n" + aftermath,
    )
    detector = TrafficDriftDetector(calendar=str(calendar)).fit(orders)
    assert (31 in drifted_days(detector)) is not excused
    windows = detector.result_.tables["windows.csv"]
    note = windows.loc[windows["window_start"] == START + pd.Timedelta(days=31), "annotation"]
    assert note.iloc[0].startswith("after 双11 (festival): expected") is excused


@pytest.mark.parametrize(
    "text",
    [
        "promotions: [",
        "promotions:\n  - name: x\n    start: 2026-10-07\n",
        "promotions:\n  - name: x\n    start: 2026-10-08\n    end: 2026-10-07\n",
        "promotions:\n  - name: x\n    start: soon\n    end: 2026-10-07\n",
        "promotions:\n  - name: x\n    start: 2026-10-07\n    end: 2026-10-08\n    kind: rave\n",
        "promos: []\n",
        "42\n",
    ],
)
def test_bad_calendar_is_an_input_error(tmp_path: Path, text: str) -> None:
    calendar = write_calendar(tmp_path, text)
    with pytest.raises(InputError) as info:
        TrafficDriftDetector(calendar=str(calendar)).fit(make_orders(days=3))
    assert info.value.exit_code == 2
    assert "promotions.yaml" in str(info.value)


def test_min_count_guard_skips_small_windows() -> None:
    orders = make_orders(days=28, weekday_orders=40, weekend_orders=60, affiliate_day=20)
    detector = TrafficDriftDetector(min_orders=100).fit(orders)
    findings = detector.result_.tables["findings.csv"]
    assert "channel" not in set(findings["feature"])
    loose = TrafficDriftDetector(min_orders=20).fit(orders)
    assert 20 in drifted_days(loose)


def test_hourly_windows_compare_same_hour_of_day() -> None:
    orders = make_orders(days=21, affiliate_day=None)
    detector = TrafficDriftDetector(window="1H", min_orders=30).fit(orders)
    windows = detector.result_.tables["windows.csv"]
    assert len(windows) == 21 * 24
    # evenings are busier than mornings every day: comparing like with like keeps that quiet
    assert windows["drifted"].mean() <= 1 / 30
    assert "hour_of_day" in detector.result_.unavailable


def test_shopify_shaped_frame_without_platform_or_channel() -> None:
    orders = make_orders(affiliate_day=30).drop(
        columns=["platform", "channel", "buyer_registered_at"]
    )
    orders["ship_address"] = "1 Main St, Ottawa, ON, CA"
    detector = TrafficDriftDetector().fit(orders)
    unavailable = detector.result_.unavailable
    assert {"platform", "channel", "province", "new_accounts"} <= set(unavailable)
    assert "registration dates" in unavailable["new_accounts"]
    # volume, hours, basket and coupons still work: the hijack is invisible without
    # a channel column, but the detector runs and stays quiet on the weekly cycle
    assert detector.result_.summary["windows_tested"] > 30
    assert drifted_days(detector) == []


def test_bad_window_and_reference_are_usage_errors() -> None:
    with pytest.raises(UsageError):
        TrafficDriftDetector(window="fortnight").fit(make_orders(days=2))
    with pytest.raises(UsageError):
        TrafficDriftDetector(reference_windows=0).fit(make_orders(days=2))


def test_metrics_and_report_section() -> None:
    detector = TrafficDriftDetector().fit(make_orders(affiliate_day=30))
    metrics = RunMetrics("detect traffic-drift")
    detector.export_metrics(metrics)
    text = metrics.exposition().decode()
    assert 'riskkit_drift_windows_total{detector="traffic-drift"} 42.0' in text
    assert 'riskkit_drift_flagged_total{detector="traffic-drift"} 1.0' in text
    from riskkit.report import render_html

    section = detector.result_.sections[0]
    html = render_html(section.template, section.context)
    assert "<svg" in html
    assert "channel=affiliate" in html


def test_drift_in_one_shop_is_caught_in_that_shop_scope() -> None:
    orders = make_orders()
    rng = np.random.default_rng(1)
    orders["shop_id"] = np.where(rng.random(len(orders)) < 0.7, "S-BIG", "S-SMALL")
    day = orders["created_at"].dt.normalize() == START + pd.Timedelta(days=30)
    small = day & (orders["shop_id"] == "S-SMALL")
    orders.loc[small & (rng.random(len(orders)) < 0.5), "coupon_code"] = "HIJACK"
    detector = TrafficDriftDetector().fit(orders)
    findings = detector.result_.tables["findings.csv"]
    assert set(findings["scope"]) == {"S-SMALL"}
    row = findings.iloc[0]
    assert row["feature"] == "coupon_use"
    assert row["window_start"] == START + pd.Timedelta(days=30)
    assert detector.result_.summary["scopes"] == ["all", "S-BIG", "S-SMALL"]
    assert detector.result_.findings[0]["reasons"][0].startswith("shop S-SMALL: coupon_use")
    whole = TrafficDriftDetector(by_shop=False).fit(orders)
    assert whole.result_.tables["findings.csv"].empty


def test_declared_sku_flash_sale_is_set_aside(tmp_path: Path) -> None:
    orders = make_orders()
    rng = np.random.default_rng(2)
    n = 400
    rush = pd.DataFrame(
        {
            "order_id": [f"FLASH-{i}" for i in range(n)],
            "buyer_id": [f"B{b}" for b in rng.integers(0, 20_000, n)],
            "created_at": START
            + pd.Timedelta(days=30, hours=20)
            + pd.to_timedelta(rng.integers(0, 1800, n), unit="s"),
            "sku_id": "SKU7",
            "quantity": 1,
            "unit_price": 9.9,
            "channel": "live",
            "platform": "ios",
            "coupon_code": "",
            "ship_address": PROVINCES[0],
        }
    )
    rush["buyer_registered_at"] = rush["created_at"] - pd.Timedelta(days=100)
    orders = pd.concat([orders, rush], ignore_index=True)
    assert 30 in drifted_days(TrafficDriftDetector().fit(orders))
    calendar = write_calendar(
        tmp_path,
        "promotions:\n"
        "  - name: flash-sale SKU7\n"
        "    start: 2026-10-07 20:00\n"
        "    end: 2026-10-07 20:30\n"
        "    kind: flash_sale\n"
        "    sku_ids: [SKU7]\n",
    )
    detector = TrafficDriftDetector(calendar=str(calendar)).fit(orders)
    assert drifted_days(detector) == []
    windows = detector.result_.tables["windows.csv"]
    note = windows.loc[windows["window_start"] == START + pd.Timedelta(days=30), "annotation"]
    assert "orders of declared SKU promotions set aside" in note.iloc[0]


def test_cli_writes_the_output_contract(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from riskkit.cli.main import cli

    source = tmp_path / "orders.csv"
    make_orders(affiliate_day=30).to_csv(source, index=False)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli, ["detect", "traffic-drift", str(source), "--out", str(out), "--window", "1D"]
    )
    assert result.exit_code == 0, result.output
    windows = pd.read_csv(out / "traffic-drift" / "windows.csv")
    assert list(windows.columns[:6]) == [
        "window_start",
        "window_end",
        "orders",
        "drift_score",
        "drifted",
        "annotation",
    ]
    findings = pd.read_csv(out / "traffic-drift" / "findings.csv")
    assert "channel=affiliate" in " ".join(findings["top_movers"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("promotions: [", encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["detect", "traffic-drift", str(source), "--out", str(out), "--calendar", str(bad)]
    )
    assert result.exit_code == 2
