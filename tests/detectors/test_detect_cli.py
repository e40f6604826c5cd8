"""``riskkit detect``: the output contract, exit codes, PII masking, report
escaping, metrics, and detectors that come and go as entry points."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any, ClassVar, Self

import pandas as pd
import pytest
from click.testing import CliRunner

import riskkit.cli.detect as cli_detect
import riskkit.detection as detection
from riskkit.cli.main import cli
from riskkit.detection import DetectionResult, Detector, DetectorOption

synth = pytest.importorskip("riskkit.synth")

SCORE_COLUMNS = ["order_id", "score", "flagged", "group_id", "reasons"]
FINDING_COLUMNS = [
    "group_id", "detector", "severity", "score", "n_orders", "n_accounts", "shops", "skus",
    "window_start", "window_end", "shared_identifiers", "reasons",
]  # fmt: skip


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A canonical export with a ring SKU renamed to carry a script tag."""
    folder = tmp_path_factory.mktemp("export")
    synth.write_dataset(folder, 20_000, 5, "riskkit")
    orders = pd.read_csv(folder / "orders.csv", dtype=str, keep_default_na=False)
    labels = pd.read_csv(folder / "labels.csv", dtype=str, keep_default_na=False)
    ring_orders = set(labels.loc[labels["label"] == "brushing", "order_id"])
    ring_sku = orders.loc[orders["order_id"].isin(ring_orders), "sku_id"].value_counts().index[0]
    orders.loc[orders["sku_id"] == ring_sku, "sku_id"] = "<script>alert(1)</script>"
    orders.to_csv(folder / "orders.csv", index=False)
    return folder / "orders.csv"


def _invoke(args: list[str]) -> Any:
    return CliRunner().invoke(cli, args, catch_exceptions=False)


@pytest.fixture(scope="module")
def brushing_run(export: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    out = tmp_path_factory.mktemp("out")
    prom = out / "metrics.prom"
    result = _invoke(
        ["detect", "brushing", str(export), "--out", str(out), "--metrics-textfile", str(prom)]
    )
    return out, result


def test_outputs_follow_the_contract(brushing_run: tuple[Path, Any], export: Path) -> None:
    out, result = brushing_run
    assert result.exit_code == 0, result.output
    scores = pd.read_csv(out / "brushing" / "scores.csv", dtype=str, keep_default_na=False)
    assert list(scores.columns) == SCORE_COLUMNS
    orders = pd.read_csv(export, dtype=str, keep_default_na=False)
    assert sorted(scores["order_id"]) == sorted(orders["order_id"].unique())
    findings = pd.read_csv(out / "brushing" / "findings.csv", dtype=str, keep_default_na=False)
    assert list(findings.columns) == FINDING_COLUMNS
    rows = [json.loads(x) for x in (out / "brushing" / "findings.jsonl").read_text().splitlines()]
    assert len(rows) == len(findings) > 0
    flagged = set(scores.loc[scores["flagged"] == "true", "order_id"])
    assert {o for r in rows for o in r["order_ids"]} == flagged
    summary = json.loads((out / "summary.json").read_text())
    assert summary["orders"] == len(scores)
    assert summary["detectors"]["brushing"]["flagged_orders"] == len(flagged)
    assert summary["detectors"]["brushing"]["max_severity"] in {"low", "medium", "high"}
    assert "device" in summary["signals_present"]
    assert (out / "report.html").exists()
    assert "orders flagged" in result.output


def test_pii_is_masked_everywhere(brushing_run: tuple[Path, Any], export: Path) -> None:
    out, _ = brushing_run
    orders = pd.read_csv(export, dtype=str, keep_default_na=False)
    phones = set(orders["ship_phone"])
    ips = set(orders["ip"])
    for path in out.rglob("*"):
        if path.is_file() and path.suffix in {".csv", ".jsonl", ".json", ".html"}:
            text = path.read_text()
            assert not phones & set(re.findall(r"\d{11}", text)), path
            assert not ips & set(re.findall(r"\d+\.\d+\.\d+\.\d+", text)), path


def test_report_escapes_script_tags_from_the_data(brushing_run: tuple[Path, Any]) -> None:
    out, _ = brushing_run
    html = (out / "report.html").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert" not in html
    assert "Brushing rings" in html


def test_metrics_textfile(brushing_run: tuple[Path, Any]) -> None:
    out, _ = brushing_run
    text = (out / "metrics.prom").read_text()
    for name in (
        "riskkit_detect_orders_total",
        'riskkit_detect_orders_total{run="brushing"}',
        'riskkit_detect_flagged_orders_total{detector="brushing",run="brushing"}',
        'riskkit_detect_groups{detector="brushing",run="brushing",severity="high"}',
        'riskkit_detect_duration_seconds{detector="brushing",run="brushing"}',
        'riskkit_detect_last_success_timestamp_seconds{run="brushing"}',
    ):
        assert name in text


def test_fail_on_exits_3_after_writing(export: Path, tmp_path: Path) -> None:
    result = _invoke(
        ["detect", "coupon-abuse", str(export), "--out", str(tmp_path), "--fail-on", "low"]
    )
    assert result.exit_code == 3
    assert (tmp_path / "coupon-abuse" / "scores.csv").exists()
    assert json.loads((tmp_path / "summary.json").read_text())["gate"]["failed"] is True


def test_fail_on_passes_when_nothing_reaches_it(export: Path, tmp_path: Path) -> None:
    result = _invoke(
        ["detect", "coupon-abuse", str(export), "--out", str(tmp_path), "--fail-on", "low",
         "--threshold", "1.5", "--json"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["detectors"]["coupon-abuse"]["flagged_orders"] == 0


def test_show_pii_and_since_until(export: Path, tmp_path: Path) -> None:
    result = _invoke(
        ["detect", "coupon-abuse", str(export), "--out", str(tmp_path), "--show-pii",
         "--since", "2026-10-01", "--until", "2026-10-31"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    scores = pd.read_csv(tmp_path / "coupon-abuse" / "scores.csv", dtype=str)
    orders = pd.read_csv(export, dtype=str).drop_duplicates("order_id")
    created = pd.to_datetime(orders["created_at"])
    inside = orders.loc[(created >= "2026-10-01") & (created < "2026-11-01"), "order_id"]
    assert sorted(scores["order_id"]) == sorted(inside)
    assert "PII NOT MASKED" in (tmp_path / "report.html").read_text()


def test_bad_usage_exits_2(export: Path, tmp_path: Path) -> None:
    assert (
        _invoke(["detect", "no-such-detector", str(export), "--out", str(tmp_path)]).exit_code == 2
    )
    missing = _invoke(["detect", "brushing", str(tmp_path / "missing.csv"), "--out", str(tmp_path)])
    assert missing.exit_code == 2
    bad_date = _invoke(["detect", "brushing", str(export), "--out", str(tmp_path), "--since", "x"])
    assert bad_date.exit_code == 2


def test_detector_options_become_flags() -> None:
    result = _invoke(["detect", "brushing", "--help"])
    assert result.exit_code == 0
    for flag in ("--threshold", "--window-days", "--min-accounts", "--fail-on", "--show-pii"):
        assert flag in result.output


class ToyDetector(Detector):
    """Flags every order of buyer 'x' (a third-party plugin stand-in)."""

    name: ClassVar[str] = "toy"
    options: ClassVar[tuple[DetectorOption, ...]] = (
        DetectorOption("buyer", str, "x", "Buyer to flag."),
    )

    def __init__(self, buyer: str = "x") -> None:
        self.buyer = buyer

    def fit(self, orders: pd.DataFrame) -> Self:
        hit = orders["buyer_id"].astype(str).eq(self.buyer)
        scores = pd.DataFrame(
            {"order_id": orders["order_id"], "score": hit.astype(float), "flagged": hit}
        )
        self.labels_ = hit.astype(int).to_numpy()
        self.result_ = DetectionResult(
            detector=self.name,
            tables={"scores.csv": scores},
            severities=["low"] if hit.any() else [],
        )
        return self


@pytest.fixture
def plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    group = detection.ENTRY_POINT_GROUP
    extra = [
        EntryPoint("toy", f"{__name__}:ToyDetector", group),
        EntryPoint("broken", "riskkit_no_such_module:Nothing", group),
        EntryPoint("coupon-abuse", "riskkit_detectors.coupon_abuse:CouponAbuseDetector", group),
    ]

    def fake_entry_points(group: str) -> list[EntryPoint]:
        return [ep for ep in extra if ep.group == group]

    monkeypatch.setattr(detection, "entry_points", fake_entry_points)
    monkeypatch.setattr(cli_detect, "entry_points", fake_entry_points)
    yield


@pytest.mark.usefixtures("plugins")
def test_third_party_detector_gets_a_subcommand(export: Path, tmp_path: Path) -> None:
    assert "--buyer" in _invoke(["detect", "toy", "--help"]).output
    result = _invoke(["detect", "toy", str(export), "--out", str(tmp_path), "--buyer", "nobody"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "toy" / "scores.csv").exists()


@pytest.mark.usefixtures("plugins")
def test_broken_detector_is_skipped_by_all_and_exits_2_when_named(
    export: Path, tmp_path: Path
) -> None:
    listing = _invoke(["detect", "--help"])
    assert listing.exit_code == 0
    assert "broken" in listing.output
    named = _invoke(["detect", "broken", str(export), "--out", str(tmp_path)])
    assert named.exit_code == 2
    assert "unavailable" in named.output
    everything = _invoke(["detect", "all", str(export), "--out", str(tmp_path)])
    assert everything.exit_code == 0, everything.output
    assert "skipping detector broken" in everything.output
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert set(summary["detectors"]) == {"coupon-abuse", "toy"}


def test_rejected_rows_are_written_masked(export: Path, tmp_path: Path) -> None:
    orders = pd.read_csv(export, dtype=str, keep_default_na=False).head(400)
    orders.loc[5, "created_at"] = "not a date"
    bad = tmp_path / "bad.csv"
    orders.to_csv(bad, index=False)
    result = _invoke(["detect", "coupon-abuse", str(bad), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    rejected = (tmp_path / "out" / "rejected_rows.csv").read_text()
    assert "not a date" in rejected
    assert orders.loc[5, "ship_phone"] not in rejected
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["rejected_rows"] == 1
