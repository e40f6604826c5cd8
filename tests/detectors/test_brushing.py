"""Brushing detector: quality floors on seeded synthetic data, true reasons,
look-alikes left alone, the output contract."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from reason_checks import check_account_claims, check_shared_value_claims, half_or_more
from ring_data import market

from riskkit_detectors.brushing import BrushingDetector
from riskkit_detectors.findings import FINDING_COLUMNS, SCORE_COLUMNS

SHOPIFY_MISSING = [
    "device_id",
    "ip",
    "buyer_registered_at",
    "carrier",
    "tracking_no",
    "received_at",
    "review_rating",
    "reviewed_at",
]


pytest.importorskip("riskkit.synth")


@pytest.fixture(scope="module")
def market_orders() -> pd.DataFrame:
    return market().orders


@pytest.fixture(scope="module")
def market_labels() -> pd.DataFrame:
    return market().labels


@pytest.fixture(scope="module")
def fitted(market_orders: pd.DataFrame) -> BrushingDetector:
    return BrushingDetector(show_pii=True).fit(market_orders)


def _merged(detector: BrushingDetector, labels: pd.DataFrame) -> pd.DataFrame:
    scores = detector.result_.tables["scores.csv"]
    return scores.merge(labels, on="order_id", how="left", validate="one_to_one")


def test_quality_floor_on_canonical_export(
    fitted: BrushingDetector, market_labels: pd.DataFrame
) -> None:
    merged = _merged(fitted, market_labels)
    truth = merged["label"].eq("brushing").to_numpy()
    flagged = merged["flagged"].eq("true").to_numpy()
    assert truth.sum() > 100
    precision = (truth & flagged).sum() / flagged.sum()
    recall = (truth & flagged).sum() / truth.sum()
    assert precision >= 0.9, precision
    assert recall >= 0.9, recall
    # Scores rank rings above honest orders.
    score = merged["score"].to_numpy()
    assert np.median(score[truth]) > np.quantile(score[~truth], 0.99)


def test_look_alikes_are_not_flagged(fitted: BrushingDetector, market_labels: pd.DataFrame) -> None:
    merged = _merged(fitted, market_labels)
    honest = merged[merged["label"] == "honest"]
    for kind, rows in honest.groupby("lookalike"):
        if kind == "":
            continue
        rate = rows["flagged"].eq("true").mean()
        assert rate <= 0.02, f"{kind}: {rate:.1%} flagged"


def test_every_order_scored_once_with_the_contract_columns(
    fitted: BrushingDetector, market_orders: pd.DataFrame
) -> None:
    scores = fitted.result_.tables["scores.csv"]
    assert tuple(scores.columns) == SCORE_COLUMNS
    assert scores["order_id"].is_unique
    assert set(scores["order_id"]) == set(market_orders["order_id"])
    assert scores["score"].between(0, 1).all()
    assert set(scores["flagged"]) <= {"true", "false"}
    assert tuple(fitted.result_.tables["findings.csv"].columns) == FINDING_COLUMNS
    flagged_groups = set(scores.loc[scores["flagged"] == "true", "group_id"])
    assert flagged_groups == {row["group_id"] for row in fitted.result_.findings}
    assert (scores.loc[scores["flagged"] == "false", "group_id"] == "").all()


def test_findings_list_their_orders_and_counts(
    fitted: BrushingDetector, market_orders: pd.DataFrame
) -> None:
    lines = market_orders.drop_duplicates("order_id").set_index("order_id")
    for row in fitted.result_.findings:
        members = lines.loc[row["order_ids"]]
        assert row["n_orders"] == len(row["order_ids"])
        assert row["n_accounts"] == members["buyer_id"].nunique()
        assert row["severity"] in {"low", "medium", "high"}
        assert row["window_start"] == str(members["created_at"].min())


def test_reasons_are_true_facts(fitted: BrushingDetector, market_orders: pd.DataFrame) -> None:
    lines = market_orders.drop_duplicates("order_id").set_index("order_id")
    fast_payer = half_or_more(
        market_orders,
        lambda f: ((f["paid_at"] - f["created_at"]).dt.total_seconds().between(0, 5)).where(
            f["paid_at"].notna()
        ),
    )
    flagged_accounts = {
        b for row in fitted.result_.findings for b in lines.loc[row["order_ids"], "buyer_id"]
    }
    shared = account = 0
    for row in fitted.result_.findings:
        shared += check_shared_value_claims(
            row["reasons"], market_orders, {"device": "device_id", "IP": "ip"}
        )
        members = set(lines.loc[row["order_ids"], "buyer_id"])
        account += check_account_claims(
            row["reasons"],
            "paid within 5 s of ordering",
            fast_payer,
            members,
            flagged_accounts,
        )
        head = re.match(r"(\d+) accounts, (\d+) orders", row["reasons"])
        assert head is not None
        assert int(head.group(1)) == row["n_accounts"]
        assert int(head.group(2)) == row["n_orders"]
        assert "false-discovery q = " in row["reasons"]
    assert shared > 0
    assert account > 0


def test_reasons_mask_pii_by_default(market_orders: pd.DataFrame) -> None:
    detector = BrushingDetector().fit(market_orders)
    text = " ".join(r["reasons"] + r["shared_identifiers"] for r in detector.result_.findings)
    phones = set(market_orders["ship_phone"].dropna().astype(str))
    assert not any(p in text for p in re.findall(r"\d{11}", text) if p in phones)
    ips = set(market_orders["ip"].dropna())
    assert not any(ip in text for ip in re.findall(r"\d+\.\d+\.\d+\.\d+", text) if ip in ips)


def test_without_device_ip_or_logistics_it_still_finds_rings(
    market_orders: pd.DataFrame, market_labels: pd.DataFrame
) -> None:
    detector = BrushingDetector().fit(market_orders.drop(columns=SHOPIFY_MISSING))
    merged = _merged(detector, market_labels)
    truth = merged["label"].eq("brushing").to_numpy()
    flagged = merged["flagged"].eq("true").to_numpy()
    assert (truth & flagged).sum() / max(flagged.sum(), 1) >= 0.9
    assert (truth & flagged).sum() / truth.sum() >= 0.5
    unavailable = detector.result_.unavailable
    assert {"device", "ip", "account_age", "receipt", "review", "waybill"} <= set(unavailable)


def test_empty_and_tiny_inputs() -> None:
    empty = pd.DataFrame(
        {"order_id": pd.Series([], dtype="str"), "buyer_id": pd.Series([], dtype="str"),
         "created_at": pd.Series([], dtype="datetime64[s]")}
    )  # fmt: skip
    detector = BrushingDetector().fit(empty)
    assert detector.result_.tables["scores.csv"].empty
    assert detector.result_.findings == []
    tiny = pd.DataFrame(
        {"order_id": ["1", "2"], "buyer_id": ["a", "b"],
         "created_at": pd.to_datetime(["2026-11-01 10:00", "2026-11-02 10:00"])}
    )  # fmt: skip
    scores = BrushingDetector().fit(tiny).result_.tables["scores.csv"]
    assert scores["flagged"].tolist() == ["false", "false"]


def test_deterministic(market_orders: pd.DataFrame) -> None:
    first = BrushingDetector().fit(market_orders).result_.tables["scores.csv"]
    second = BrushingDetector().fit(market_orders).result_.tables["scores.csv"]
    pd.testing.assert_frame_equal(first, second)
