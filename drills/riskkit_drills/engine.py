"""Run a drill: steady state before, the steps, steady state during and after,
stop conditions watched throughout, rollbacks ALWAYS.

The rollbacks run in a ``finally``: after the last step, after a stop
condition or the maximum duration aborted the drill, after a step crashed,
and after SIGTERM or Ctrl-C (the handlers turn both into
:class:`DrillInterrupted`; while rollbacks run, further signals are
deferred so they cannot interrupt the cleanup).  The journal is rewritten
after every step, so even a ``kill -9`` leaves what happened until then.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO

import httpx

from riskkit import __version__
from riskkit.errors import GateFailed, InvalidRun, UsageError
from riskkit_drills.catalog import LoadedRunbook
from riskkit_drills.context import (
    AbortSignal,
    DrillAborted,
    DrillContext,
    DrillInterrupted,
    Prompter,
)
from riskkit_drills.evaluate import evaluate_journal, milestones_from_steps
from riskkit_drills.guard import Guard
from riskkit_drills.journal import Journal, ProbeResult, RollbackResult, StepRecord, utc_now
from riskkit_drills.models import Mode, Runbook, Step, Tier
from riskkit_drills.probes import describe_probe, run_probe
from riskkit_drills.recovery import RecoveryPointMeter
from riskkit_drills.safety import check_target
from riskkit_drills.steps import StepOutcome, run_step

__all__ = ["DrillOptions", "DrillResult", "check_options", "ensure_targets_met", "run_drill"]


@dataclass
class DrillOptions:
    """How to run a drill (the CLI flags of ``riskkit drill run``)."""

    tier: Tier
    mode: Mode
    out_dir: Path
    target: str | None = None
    execute: bool = False
    allow_remote: bool = False
    prometheus: str | None = None
    auto_answer: bool = False
    admin_token: str | None = None
    stdin: IO[str] = field(default_factory=lambda: sys.stdin)
    prompt_out: IO[str] = field(default_factory=lambda: sys.stderr)


@dataclass
class DrillResult:
    journal: Journal
    journal_path: Path
    report_path: Path


@dataclass
class _SignalState:
    deferring: bool = False
    pending: str | None = None


@contextlib.contextmanager
def _signals_interrupt() -> Iterator[_SignalState]:
    """SIGTERM/SIGINT raise DrillInterrupted (only the main thread can own handlers)."""
    state = _SignalState()
    if threading.current_thread() is not threading.main_thread():
        yield state
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if state.deferring:
            state.pending = name  # cleanup in progress: finish it first
            return
        raise DrillInterrupted(name)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield state
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def check_options(runbook: Runbook, options: DrillOptions, dry_run: bool = False) -> None:
    """Refuse unsafe or meaningless combinations before anything runs."""
    if options.mode not in runbook.modes():
        raise UsageError(f"runbook {runbook.id} has no steps for mode {options.mode}")
    if options.mode == "live":
        if options.target is None:
            raise UsageError("--mode live needs --target URL (the declared staging system)")
        if not options.execute and not dry_run:
            raise UsageError(
                "--mode live changes a real system: add --execute, or --dry-run to see the plan"
            )
    if options.target is not None:
        check_target(options.target, options.allow_remote)


class _Runner:
    """One drill run; split from :func:`run_drill` to keep each part small."""

    def __init__(self, loaded: LoadedRunbook, options: DrillOptions, target: str | None) -> None:
        self.runbook = loaded.runbook
        self.options = options
        self.target = target
        self.started = time.monotonic()
        self.started_wall = time.time()
        spec = self.runbook.tiers[options.tier]
        self.journal = Journal(
            riskkit_version=__version__,
            runbook={
                "id": self.runbook.id,
                "title": self.runbook.title,
                "incident_type": self.runbook.incident_type,
                "source": str(loaded.source),
            },
            tier=options.tier,
            mode=options.mode,
            target=target,
            execute=options.execute,
            started_at=utc_now(),
            targets=spec.targets.model_dump(exclude_none=True),
            escalation=[e.model_dump() for e in spec.escalation],
            blast_radius=self.runbook.blast_radius.model_dump(),
        )
        # a shop started with --admin-token wants it on every admin call
        self.headers = {"X-Admin-Token": options.admin_token} if options.admin_token else {}
        self.client = (
            httpx.Client(base_url=target, timeout=10.0, headers=self.headers) if target else None
        )
        self.ctx = DrillContext(
            mode=options.mode,
            execute=options.execute,
            base_dir=loaded.base_dir,
            out_dir=options.out_dir,
            prompter=Prompter(options.stdin, options.prompt_out, options.auto_answer),
            client=self.client,
            prometheus=options.prometheus,
            abort=AbortSignal(),
            deadline=self.started + self.runbook.max_duration_s,
        )
        self.steps = self.runbook.steps_for(options.mode)
        self.guard: Guard | None = None
        self.during: threading.Thread | None = None
        self.probe_lock = threading.Lock()
        self.recovery: RecoveryPointMeter | None = None

    def offset(self) -> float:
        return round(time.monotonic() - self.started, 3)

    def save(self) -> None:
        self.journal.write(self.options.out_dir / "journal.json")

    # -- steady state ---------------------------------------------------------

    def check_steady_state(self, when: str) -> bool:
        hypothesis = self.runbook.steady_state
        if hypothesis is None or self.client is None:
            return True
        ok = True
        for probe in hypothesis.probes:
            outcome = run_probe(probe, self.client, self.options.prometheus)
            with self.probe_lock:
                self.journal.steady_state.append(
                    ProbeResult(
                        when=when,  # type: ignore[arg-type]
                        probe=describe_probe(probe),
                        ok=outcome.ok,
                        observed=outcome.observed,
                        offset_s=self.offset(),
                    )
                )
            ok = ok and outcome.ok
        return ok

    # -- steps ----------------------------------------------------------------

    def run_one(self, step: Step) -> StepOutcome:
        begin = self.offset()
        try:
            outcome = run_step(self.ctx, step)
        except (DrillAborted, DrillInterrupted) as exc:
            outcome = StepOutcome("aborted", str(exc) or type(exc).__name__)
            self.record(step, begin, outcome)
            raise
        except Exception as exc:  # a crashing step is recorded; rollbacks still run
            outcome = StepOutcome("error", f"{type(exc).__name__}: {exc}")
        self.record(step, begin, outcome)
        return outcome

    def record(self, step: Step, begin: float, outcome: StepOutcome) -> None:
        duration = round(self.offset() - begin, 3)
        self.journal.steps.append(
            StepRecord(
                id=step.id,
                title=step.title,
                kind=step.kind,
                phase=step.phase,
                owner=step.owner,
                status=outcome.status,  # type: ignore[arg-type]
                started_offset_s=begin,
                duration_s=duration,
                budget_s=step.budget_s,
                within_budget=duration <= step.budget_s,
                detail=outcome.detail,
                answer=outcome.answer,
                answered_at=outcome.answered_at,
                attempts=outcome.attempts,
            )
        )
        self.save()

    def run_steps(self) -> None:
        traffic = self.runbook.traffic
        hypothesis = self.runbook.steady_state
        # "during" runs in its own thread right after T0, so that its probes (slow,
        # by design, while the fault is active) never delay detection or mitigation
        last_inject = max(
            (i for i, s in enumerate(self.steps) if s.phase == "inject"), default=None
        )
        for index, step in enumerate(self.steps):
            self.ctx.abort.check()
            if (
                traffic is not None
                and self.target is not None
                and self.recovery is None
                and (traffic.start_before == "first_step" or step.phase == "inject")
            ):
                self.recovery = RecoveryPointMeter(
                    self.target, traffic, self.ctx, self.started, self.headers
                ).start()
            outcome = self.run_one(step)
            if outcome.status not in ("ok", "skipped") and step.on_failure == "abort":
                raise DrillAborted(f"step {step.id} {outcome.status}: {outcome.detail}")
            if index == last_inject and hypothesis is not None and hypothesis.check_during:
                self.during = threading.Thread(
                    target=self.check_steady_state, args=("during",), daemon=True
                )
                self.during.start()

    def run_rollbacks(self) -> None:
        for rollback in reversed(self.ctx.rollbacks):
            try:
                detail, ok = rollback.run(), True
            except Exception as exc:  # keep going: every other rollback must still run
                detail, ok = f"{type(exc).__name__}: {exc}", False
            self.journal.rollbacks.append(
                RollbackResult(action=rollback.action, ok=ok, detail=detail, offset_s=self.offset())
            )
        self.ctx.rollbacks.clear()

    # -- the whole run ----------------------------------------------------------

    def run(self) -> Journal:
        self.save()
        with _signals_interrupt() as signals:
            try:
                if not self.check_steady_state("before"):
                    raise DrillAborted("steady state did not hold before the drill")
                self.guard = Guard(
                    self.runbook.stop_conditions if self.options.mode != "tabletop" else [],
                    self.target,
                    self.options.prometheus,
                    self.ctx.abort,
                    self.started,
                    self.runbook.max_duration_s,
                    self.headers,
                ).start()
                self.run_steps()
            except DrillAborted as exc:
                self.abort(str(exc))
            except DrillInterrupted as exc:
                self.abort(f"interrupted by {exc}")
            except Exception as exc:  # a bug must not leave a fault in place
                self.abort(f"drill crashed: {type(exc).__name__}: {exc}")
            finally:
                signals.deferring = True
                self.finish(signals)
        return self.journal

    def abort(self, reason: str) -> None:
        self.journal.status = "aborted"
        self.journal.abort_reason = reason

    def finish(self, signals: _SignalState) -> None:
        # undo first: nothing (a slow probe, a busy load thread) may delay the rollbacks
        self.run_rollbacks()
        if self.guard is not None:
            self.journal.stop_conditions = self.guard.stop()
        if self.during is not None:
            self.during.join(timeout=30)
        if self.recovery is not None:
            self.journal.traffic = self.recovery.stop_traffic()
        if self.runbook.steady_state is not None and self.client is not None:
            self.check_steady_state("after")
        if self.recovery is not None and self.journal.status != "aborted":
            tier_target = self.runbook.tiers[self.options.tier].targets.rpo_orders
            self.journal.rpo = self.recovery.measure_rpo(tier_target)
        if signals.pending is not None and self.journal.status != "aborted":
            self.abort(f"interrupted by {signals.pending} during cleanup")
        if self.journal.status == "running":
            self.journal.status = "completed"
        self.journal.ended_at = utc_now()
        self.journal.duration_s = self.offset()
        self.journal.milestones = milestones_from_steps(self.journal.steps, self.started_wall)
        rehearsed = {s.phase for s in self.steps}
        evaluate_journal(self.journal, self.runbook.tiers[self.options.tier].targets, rehearsed)
        self.save()
        if self.client is not None:
            self.client.close()


def _reference_shop() -> contextlib.AbstractContextManager[str]:
    try:
        from riskkit.shop.server import running_shop
    except ImportError as exc:
        raise UsageError(f"the reference shop is not available ({exc}); pass --target URL") from exc
    shop: contextlib.AbstractContextManager[str] = running_shop()
    return shop


def run_drill(loaded: LoadedRunbook, options: DrillOptions) -> DrillResult:
    """Run ``loaded`` as ``options`` say; write ``journal.json`` and ``report.html``.

    The verdict is in ``result.journal.outcome``; :func:`ensure_targets_met`
    turns it into the exit code.
    """
    from riskkit_drills.render import render_report

    check_options(loaded.runbook, options)
    options.out_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        target = options.target
        if target is None and options.mode == "simulated":
            target = stack.enter_context(_reference_shop())
        journal = _Runner(loaded, options, target).run()
    journal_path = options.out_dir / "journal.json"
    report_path = render_report(journal, options.out_dir / "report.html")
    return DrillResult(journal, journal_path, report_path)


def ensure_targets_met(journal: Journal, journal_path: Path) -> None:
    """Raise
    ------
    InvalidRun
        The drill was aborted (stop condition, maximum duration, signal,
        steady state not met before it); rollbacks ran.
    GateFailed
        A target was missed, a step failed or the steady state did not return.
    """
    if journal.outcome == "aborted":
        raise InvalidRun(
            f"drill aborted: {journal.abort_reason} (rollbacks ran; see {journal_path})"
        )
    if journal.outcome == "targets_missed":
        summary = "; ".join(journal.deviations[:3])
        raise GateFailed(f"drill targets missed: {summary} (see {journal_path})")
