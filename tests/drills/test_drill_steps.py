"""Small, fast checks of the step machinery: variables, comparisons, safety, shell gating."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from riskkit.errors import UsageError
from riskkit_drills.context import AbortSignal, DrillAborted, DrillContext, Prompter, substitute
from riskkit_drills.models import Comparison, ShellStep
from riskkit_drills.safety import check_target, is_loopback_url
from riskkit_drills.steps import run_step


def _context(tmp_path: Path, execute: bool, answers: str = "") -> DrillContext:
    return DrillContext(
        mode="simulated",
        execute=execute,
        base_dir=tmp_path,
        out_dir=tmp_path,
        prompter=Prompter(io.StringIO(answers), io.StringIO()),
        client=None,
        prometheus=None,
        abort=AbortSignal(),
        deadline=float("inf"),
    )


def _shell(command: list[str], **extra: object) -> ShellStep:
    return ShellStep.model_validate(
        {"id": "sh", "kind": "shell", "phase": "mitigate", "title": "sh", "expected": "x",
         "budget_s": 20, "command": command, **extra}
    )  # fmt: skip


def test_shell_steps_run_only_with_execute(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    step = _shell([sys.executable, "-c", f"open(r'{marker}', 'w').write('x')"])
    skipped = run_step(_context(tmp_path, execute=False), step)
    assert skipped.status == "skipped" and not marker.exists()
    done = run_step(_context(tmp_path, execute=True), step)
    assert done.status == "ok" and marker.exists()


def test_shell_step_failure_and_rollback_registration(tmp_path: Path) -> None:
    ctx = _context(tmp_path, execute=True)
    step = _shell([sys.executable, "-c", "raise SystemExit(3)"], rollback_command=["true"])
    outcome = run_step(ctx, step)
    assert outcome.status == "failed" and "exit 3" in outcome.detail
    assert len(ctx.rollbacks) == 1  # registered before the command ran


def test_substitute_keeps_types_of_whole_variables() -> None:
    variables = {"stock": 100, "fault_id": "f-1"}
    body = {"sku_id": "HOT-001", "stock": "${stock}", "note": "was ${stock}"}
    assert substitute(body, variables) == {"sku_id": "HOT-001", "stock": 100, "note": "was 100"}
    assert substitute("/admin/faults/${fault_id}", variables) == "/admin/faults/f-1"
    with pytest.raises(KeyError):
        substitute("${missing} here", variables)


@pytest.mark.parametrize(
    ("op", "value", "tolerance", "observed", "holds"),
    [
        ("<", 1.0, 0.0, 0.99, True),
        ("<", 1.0, 0.0, 1.0, False),
        ("<", 1.0, 0.1, 1.05, True),
        (">=", 10, 1, 9, True),
        (">=", 10, 1, 8.9, False),
        ("==", 0, 0, 0, True),
        ("!=", 0, 0.5, 0.4, False),
    ],
)
def test_comparison_tolerance(
    op: str, value: float, tolerance: float, observed: float, holds: bool
) -> None:
    comparison = Comparison.model_validate({"op": op, "value": value, "tolerance": tolerance})
    assert comparison.holds(observed) is holds


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:8089", True),
        ("http://127.9.9.9", True),
        ("http://[::1]:80", True),
        ("http://localhost:1", True),
        ("http://10.0.0.1", False),
        ("https://staging.example.com", False),
    ],
)
def test_loopback_detection(url: str, loopback: bool) -> None:
    assert is_loopback_url(url) is loopback
    if not loopback:
        with pytest.raises(UsageError):
            check_target(url, allow_remote=False)
        check_target(url, allow_remote=True)


def test_abort_signal_interrupts_a_wait() -> None:
    signal = AbortSignal()
    signal.trigger("stop condition")
    with pytest.raises(DrillAborted, match="stop condition"):
        signal.sleep(30)


def test_prompter_records_answers_and_end_of_input() -> None:
    out = io.StringIO()
    prompter = Prompter(io.StringIO("ack\n"), out)
    answer, at = prompter.ask("incident_commander", "Acknowledge?")
    assert answer == "ack" and at.endswith("Z")
    assert prompter.ask("operations", "Next?")[0] is None
    assert "[incident commander] Acknowledge?" in out.getvalue()
