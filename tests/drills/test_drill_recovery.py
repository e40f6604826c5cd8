"""Disaster recovery: the database is lost mid-traffic and restored; RTO and RPO are numbers."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from drill_helpers import invoke, read_journal

from riskkit_drills.shop_admin import confirmed_order_ids
from riskkit_drills.traffic import TrafficDriver

pytestmark = pytest.mark.integration


def test_traffic_driver_records_every_confirmed_order(shop_url: str, shop: httpx.Client) -> None:
    driver = TrafficDriver(shop_url, rate_per_s=20, workers=3, max_duration_s=1.5).start()
    time.sleep(1.7)  # the driver stops by itself at max_duration_s
    stats = driver.stop(timeout_s=15)
    assert 10 <= stats.attempted <= 40  # bounded by rate x duration
    assert len(stats.confirmed) == stats.attempted - stats.failed - stats.refused
    assert set(stats.confirmed) <= confirmed_order_ids(shop)


def test_disaster_recovery_reports_rto_and_rpo(
    shop_url: str, shop: httpx.Client, tmp_path: Path
) -> None:
    out = tmp_path / "dr"
    result = invoke(
        "drill", "run", "disaster-recovery", "--tier", "P3", "--target", shop_url,
        "--auto-answer", "--out", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "rto" in result.output and "rpo" in result.output
    journal = read_journal(out)
    phases = {p["phase"]: p for p in journal["phases"]}
    t = {m["name"]: m["offset_s"] for m in journal["milestones"]}
    assert phases["rto"]["seconds"] == pytest.approx(t["T4"] - t["T0"], abs=0.002)
    assert phases["rto"]["met"] is True
    rpo = journal["rpo"]
    # orders confirmed between the backup and the disaster are gone: a real, counted loss
    assert rpo["orders_lost"] > 0
    assert rpo["orders_confirmed"] == rpo["orders_present_after_restore"] + rpo["orders_lost"]
    assert phases["rpo"]["seconds"] == rpo["orders_lost"] and phases["rpo"]["met"] is True
    traffic = journal["traffic"]
    assert traffic["failed"] > 0  # checkouts failed while the database was lost
    assert shop.get("/healthz").status_code == 200
    assert "Recovery point" in (out / "report.html").read_text(encoding="utf-8")


def test_rpo_above_the_tier_target_exits_3(shop_url: str, tmp_path: Path) -> None:
    out = tmp_path / "dr"
    result = invoke(
        "drill", "run", "disaster-recovery", "--tier", "P0", "--target", shop_url,
        "--auto-answer", "--out", str(out),
    )  # fmt: skip
    assert result.exit_code == 3, result.output
    assert "RPO" in result.output
    journal = read_journal(out)
    phases = {p["phase"]: p for p in journal["phases"]}
    assert phases["rpo"]["target"] == 0 and phases["rpo"]["met"] is False
    assert phases["rto"]["met"] is True  # only the data loss failed the drill
    assert journal["rpo"]["orders_lost"] > 0
