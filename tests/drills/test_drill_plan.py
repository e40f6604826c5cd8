"""The quarter's drill calendar, the report command, and the journal's verdicts."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import Counter
from pathlib import Path

import pytest
from drill_helpers import invoke

from riskkit_drills import load_runbooks
from riskkit_drills.evaluate import evaluate_journal, milestones_from_steps
from riskkit_drills.journal import Journal, StepRecord
from riskkit_drills.models import Targets
from riskkit_drills.quarter_plan import drill_calendar, parse_quarter


def test_plan_2026q4_covers_every_runbook_and_tier_before_double_eleven(tmp_path: Path) -> None:
    result = invoke("drill", "plan", "--quarter", "2026Q4", "--out", str(tmp_path), "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    runbooks = set(load_runbooks())
    assert {(r["runbook"], r["tier"]) for r in rows} == {
        (runbook, tier) for runbook in runbooks for tier in ("P0", "P1", "P2", "P3")
    }
    dates = [dt.date.fromisoformat(r["date"]) for r in rows]
    assert all(dt.date(2026, 10, 8) <= d <= dt.date(2026, 11, 3) for d in dates)  # 国庆 and freeze
    assert all(d.weekday() < 5 for d in dates)
    assert max(Counter(dates).values()) <= 2
    assert {r["promotion"] for r in rows} == {"双11"}
    first_p3 = min(d for d, r in zip(dates, rows, strict=True) if r["tier"] == "P3")
    assert max(d for d, r in zip(dates, rows, strict=True) if r["tier"] == "P0") <= first_p3
    modes = {(r["runbook"], r["tier"]): r["mode"] for r in rows}
    assert modes[("payment-gateway-failure", "P0")] == "simulated"
    assert modes[("data-leak", "P0")] == "tabletop"  # no simulated steps
    with (tmp_path / "calendar.csv").open(encoding="utf-8") as handle:
        assert len(list(csv.DictReader(handle))) == len(rows)
    ics = (tmp_path / "calendar.ics").read_text(encoding="utf-8")
    assert ics.count("BEGIN:VEVENT") == len(rows) and ics.startswith("BEGIN:VCALENDAR")


def test_plan_q1_prepares_for_618_over_the_whole_quarter() -> None:
    schedule = drill_calendar([r.runbook for r in load_runbooks().values()], "2027Q1")
    assert {d.promotion for d in schedule} == {"618"}
    assert min(d.date for d in schedule) >= dt.date(2027, 1, 4)  # 元旦 and the weekend skipped


def test_plan_refuses_what_does_not_fit() -> None:
    result = invoke("drill", "plan", "--quarter", "2026Q4", "--promotion", "2026-10-12")
    assert result.exit_code == 2
    assert "do not fit" in result.output
    assert invoke("drill", "plan", "--quarter", "2026-Q9").exit_code == 2
    assert parse_quarter("2026q2") == (dt.date(2026, 4, 1), dt.date(2026, 6, 30))


def test_report_of_a_broken_journal_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "journal.json"
    path.write_text('{"journal_version": 1}', encoding="utf-8")
    result = invoke("drill", "report", str(path))
    assert result.exit_code == 2
    assert "not a drill journal" in result.output


def _step(
    step_id: str, phase: str, start: float, duration: float, status: str = "ok"
) -> StepRecord:
    return StepRecord(
        id=step_id, title=step_id, kind="manual", phase=phase, owner="operations",
        status=status, started_offset_s=start, duration_s=duration, budget_s=10,
        within_budget=duration <= 10,
    )  # type: ignore[arg-type]  # fmt: skip


def _journal(steps: list[StepRecord]) -> Journal:
    journal = Journal(
        riskkit_version="test", runbook={"id": "x", "title": "x", "incident_type": "t", "source": "x"},
        tier="P1", mode="tabletop", target=None, execute=False, started_at="2026-11-11T00:00:00Z",
        targets={}, status="completed", steps=steps,
    )  # fmt: skip
    journal.milestones = milestones_from_steps(steps, 1_700_000_000.0)
    return journal


TARGETS = Targets(detect_s=5, acknowledge_s=5, mitigate_s=20, recover_s=30)


def test_milestones_need_every_step_of_their_phase() -> None:
    steps = [
        _step("inject", "inject", 0, 1),
        _step("probe-a", "detect", 1, 2),
        _step("probe-b", "detect", 3, 1, status="failed"),
        _step("ack", "acknowledge", 4, 1),
        _step("fix", "mitigate", 5, 2),
        _step("verify", "recover", 7, 1),
    ]
    journal = _journal(steps)
    assert {m.name for m in journal.milestones} == {"T0", "T2", "T3", "T4"}  # T1 not reached
    evaluate_journal(journal, TARGETS, {s.phase for s in steps})
    phases = {p.phase: p for p in journal.phases}
    assert phases["detect"].seconds is None and phases["detect"].met is False
    assert phases["mitigate"].seconds == pytest.approx(6.0) and phases["mitigate"].met is True
    assert journal.outcome == "targets_missed"
    assert any("probe-b" in d for d in journal.deviations)
    # never detected, so never recovered from detection: every escalation step is due
    journal.escalation = [{"after_s": 0, "notify": ["CTO"]}, {"after_s": 900, "notify": ["CEO"]}]
    evaluate_journal(journal, TARGETS, {s.phase for s in steps})
    assert journal.escalations_triggered == ["after 0 s: CTO", "after 900 s: CEO"]


def test_skipped_steps_do_not_block_a_milestone_and_targets_compare() -> None:
    steps = [
        _step("inject", "inject", 0, 1),
        _step("probe", "detect", 1, 6),
        _step("shell", "detect", 7, 0, status="skipped"),
        _step("ack", "acknowledge", 7, 1),
        _step("fix", "mitigate", 8, 1),
        _step("verify", "recover", 9, 1),
    ]
    journal = _journal(steps)
    evaluate_journal(journal, TARGETS, {s.phase for s in steps})
    phases = {p.phase: p for p in journal.phases}
    assert phases["detect"].seconds == pytest.approx(6.0) and phases["detect"].met is False  # 6 > 5
    assert phases["acknowledge"].met is True
    assert journal.outcome == "targets_missed"
    assert any(item.startswith("Cut detect time") for item in journal.action_items)
