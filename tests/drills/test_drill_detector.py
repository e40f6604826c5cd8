"""The coupon-abuse outbreak's detection step runs the real coupon-abuse detector."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest
from drill_helpers import invoke, read_journal

from riskkit_drills.catalog import find_runbook
from riskkit_drills.context import AbortSignal, DrillContext, Prompter
from riskkit_drills.models import DetectorStep
from riskkit_drills.steps import run_step


def _context(tmp_path: Path) -> DrillContext:
    loaded = find_runbook("coupon-abuse-outbreak")
    return DrillContext(
        mode="simulated",
        execute=False,
        base_dir=loaded.base_dir,
        out_dir=tmp_path,
        prompter=Prompter(sys.stdin, sys.stderr),
        client=None,
        prometheus=None,
        abort=AbortSignal(),
        deadline=float("inf"),
    )


def _detector_step() -> DetectorStep:
    step = next(
        s for s in find_runbook("coupon-abuse-outbreak").runbook.steps if s.kind == "detector"
    )
    assert isinstance(step, DetectorStep)
    return step


def test_detector_step_without_the_library_is_an_error_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "riskkit.detect.runner", None)  # import fails
    outcome = run_step(_context(tmp_path), _detector_step())
    assert outcome.status == "error"
    assert "not available" in outcome.detail


def test_shipped_order_export_exists() -> None:
    step = _detector_step()
    base = find_runbook("coupon-abuse-outbreak").base_dir
    for name in step.inputs:
        header = (base / name).read_text(encoding="utf-8").splitlines()[0]
        assert {"order_id", "buyer_id", "created_at", "coupon_code", "device_id"} <= set(
            header.split(",")
        )


@pytest.fixture
def coupon_detector() -> None:
    """Skip until the coupon-abuse detector is installed (another package)."""
    pytest.importorskip("riskkit.detect.runner")
    pytest.importorskip("riskkit_detectors.coupon_abuse")


def test_detector_step_flags_the_ring(coupon_detector: None, tmp_path: Path) -> None:
    outcome = run_step(_context(tmp_path), _detector_step())
    assert outcome.status == "ok", outcome.detail
    assert (tmp_path / "steps" / "run-coupon-abuse-detector").is_dir()


@pytest.mark.integration
def test_coupon_abuse_drill_simulated(
    coupon_detector: None, shop_url: str, shop: httpx.Client, tmp_path: Path
) -> None:
    out = tmp_path / "drill"
    result = invoke(
        "drill", "run", "coupon-abuse-outbreak", "--tier", "P1", "--target", shop_url,
        "--auto-answer", "--out", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    journal = read_journal(out)
    assert {s["id"]: s["status"] for s in journal["steps"]}["run-coupon-abuse-detector"] == "ok"
    assert shop.get("/admin/faults").json()["faults"] == []  # kill switch rolled back
