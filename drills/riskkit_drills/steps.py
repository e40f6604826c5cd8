"""Step executors: one small function per step kind.

Each executor returns a :class:`StepOutcome`; an exception escaping it is a
crash of the step (recorded as ``error``; the rollbacks still run).  Steps
that poll (HTTP, PromQL, journeys) retry until the expectation holds or the
step's time budget runs out, whichever first, and stop at once when the
drill aborts.
"""

from __future__ import annotations

import re
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from riskkit_drills.context import DrillContext, substitute
from riskkit_drills.models import (
    DetectorStep,
    FaultStep,
    HttpStep,
    JourneyStep,
    ManualStep,
    MetricStep,
    PromqlStep,
    ShellStep,
    Step,
    WaitStep,
)
from riskkit_drills.probes import promql_value, scrape_value
from riskkit_drills.shop_admin import clear_fault_rollback, inject_fault, restore_rollback
from riskkit_drills.synthetic import run_journey

__all__ = ["StepOutcome", "needs_execute", "run_step"]


@dataclass
class StepOutcome:
    status: str
    detail: str
    answer: str | None = None
    answered_at: str | None = None
    attempts: int = 1


def needs_execute(step: Step) -> bool:
    """Steps that change this machine or a live target: only with ``--execute``."""
    return isinstance(step, ShellStep)


def _poll(
    ctx: DrillContext,
    step: Step,
    interval_s: float | None,
    attempt: Callable[[], tuple[bool, str]],
) -> StepOutcome:
    """Call ``attempt`` until it succeeds, the budget is spent, or the drill aborts."""
    limit = time.monotonic() + min(step.budget_s, max(ctx.remaining_s(), 0.0))
    attempts = 0
    while True:
        attempts += 1
        ok, detail = attempt()
        if ok:
            return StepOutcome("ok", detail, attempts=attempts)
        if interval_s is None or time.monotonic() + interval_s > limit:
            return StepOutcome("failed", detail, attempts=attempts)
        ctx.abort.sleep(interval_s)


def _ask(ctx: DrillContext, step: Step, prompt: str, accept: str | None) -> StepOutcome:
    answer, answered_at = ctx.prompter.ask(step.owner, prompt, step.budget_s)
    if answer is None:
        return StepOutcome("no_answer", "no answer (end of input)", None, answered_at)
    if accept is not None and not re.search(accept, answer, flags=re.IGNORECASE):
        return StepOutcome("failed", f"answer does not match {accept!r}", answer, answered_at)
    return StepOutcome("ok", "answered", answer, answered_at)


def _json_matches(expected: dict[str, Any], payload: Any) -> bool:
    return isinstance(payload, dict) and all(payload.get(k) == v for k, v in expected.items())


def _http(ctx: DrillContext, step: HttpStep) -> StepOutcome:
    client = ctx.require_client()
    path = substitute(step.path, ctx.variables)
    body = substitute(step.body, ctx.variables)
    if step.rollback is not None:
        undo = step.rollback
        undo_path = substitute(undo.path, ctx.variables)
        undo_body = substitute(undo.body, ctx.variables)

        def run_undo() -> str:
            response = client.request(undo.method, undo_path, json=undo_body)
            if response.status_code not in undo.expect_status:
                raise RuntimeError(f"HTTP {response.status_code}: {response.text[:200]}")
            return f"{undo.method} {undo_path} -> HTTP {response.status_code}"

        ctx.register_rollback(f"{undo.method} {undo_path} (undo {step.id})", run_undo)
    captured: dict[str, Any] = {}

    def attempt() -> tuple[bool, str]:
        headers = {"Idempotency-Key": uuid.uuid4().hex, **step.headers}
        started = time.perf_counter()
        try:
            response = client.request(step.method, path, json=body, headers=headers)
        except httpx.HTTPError as exc:
            return False, f"{type(exc).__name__}: {exc}"
        latency = time.perf_counter() - started
        detail = f"{step.method} {path} -> HTTP {response.status_code} in {latency * 1000:.0f} ms"
        if response.status_code not in step.expect_status:
            return False, detail + f" (expected {step.expect_status})"
        if step.max_latency_s is not None and latency > step.max_latency_s:
            return False, detail + f" (slower than {step.max_latency_s:g} s)"
        if step.min_latency_s is not None and latency < step.min_latency_s:
            return False, detail + f" (faster than {step.min_latency_s:g} s: no slowdown seen)"
        payload: Any = None
        if step.expect_json or step.capture:
            try:
                payload = response.json()
            except ValueError:
                return False, detail + " (not JSON)"
        if step.expect_json and not _json_matches(step.expect_json, payload):
            return False, detail + f" (body does not match {step.expect_json})"
        for variable, key in step.capture.items():
            if not isinstance(payload, dict) or key not in payload:
                return False, detail + f" (no {key!r} to capture)"
            captured[variable] = payload[key]
        return True, detail

    outcome = _poll(ctx, step, step.poll_interval_s, attempt)
    ctx.variables.update(captured)
    return outcome


def _promql(ctx: DrillContext, step: PromqlStep) -> StepOutcome:
    prometheus = ctx.prometheus
    if not prometheus:
        return StepOutcome("error", "PromQL step needs --prometheus URL")

    def attempt() -> tuple[bool, str]:
        try:
            value = promql_value(prometheus, step.query)
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            return False, f"{type(exc).__name__}: {exc}"
        if value is None:
            return False, "query returned no series"
        return step.expect.holds(value), f"{value:g} (expected {step.expect})"

    return _poll(ctx, step, step.poll_interval_s, attempt)


def _metric(ctx: DrillContext, step: MetricStep) -> StepOutcome:
    client = ctx.require_client()

    def attempt() -> tuple[bool, str]:
        try:
            value = scrape_value(client, step.path, step.metric, step.labels)
        except (httpx.HTTPError, ValueError) as exc:
            return False, f"{type(exc).__name__}: {exc}"
        return step.expect.holds(value), f"{step.metric} = {value:g} (expected {step.expect})"

    return _poll(ctx, step, step.poll_interval_s, attempt)


def _shell(ctx: DrillContext, step: ShellStep) -> StepOutcome:
    if not ctx.execute:
        return StepOutcome("skipped", "shell steps run only with --execute")
    if step.rollback_command is not None:
        undo = list(step.rollback_command)

        def run_undo() -> str:
            done = subprocess.run(undo, capture_output=True, text=True, timeout=60, check=False)
            if done.returncode != 0:
                raise RuntimeError(f"exit {done.returncode}: {done.stderr.strip()[:200]}")
            return f"{' '.join(undo)} -> exit 0"

        ctx.register_rollback(" ".join(undo), run_undo)
    try:
        done = subprocess.run(
            step.command,
            capture_output=True,
            text=True,
            timeout=min(step.budget_s, max(ctx.remaining_s(), 1.0)),
            cwd=ctx.base_dir,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return StepOutcome("failed", f"still running after {step.budget_s:g} s (killed)")
    except OSError as exc:
        return StepOutcome("error", f"cannot run {step.command[0]}: {exc.strerror}")
    status = "ok" if done.returncode == step.expect_exit else "failed"
    tail = (done.stdout + done.stderr).strip()[-300:]
    return StepOutcome(status, f"exit {done.returncode} (expected {step.expect_exit}) {tail}")


def _fault(ctx: DrillContext, step: FaultStep) -> StepOutcome:
    client = ctx.require_client()
    if step.fault == "db_lost":
        ctx.register_rollback(
            "POST /admin/restore (if the database is still lost)", restore_rollback(client)
        )
        response = client.post("/admin/disaster", json={"kind": "db_lost"})
        status = "ok" if response.status_code in (200, 201, 202) else "failed"
        return StepOutcome(status, f"POST /admin/disaster -> HTTP {response.status_code}")
    # the shop expires the fault by itself too: even a kill -9 of the drill heals
    duration = max(1.0, min(step.duration_s, ctx.remaining_s()))
    holder: dict[str, str] = {}
    ctx.register_rollback(
        f"DELETE /admin/faults/{{id}} ({step.fault} on {step.endpoint})",
        clear_fault_rollback(client, holder, step.fault, step.endpoint),
    )
    fault_id, detail = inject_fault(client, step.fault, step.endpoint, step.value, duration)
    if fault_id is None:
        return StepOutcome("failed", detail)
    holder["fault_id"] = fault_id
    ctx.variables["fault_id"] = fault_id
    return StepOutcome("ok", detail)


def _detector(ctx: DrillContext, step: DetectorStep) -> StepOutcome:
    try:
        from riskkit.detect.runner import run_detectors
    except ImportError as exc:  # the detectors are an optional part of an install
        return StepOutcome("error", f"the detector library is not available: {exc}")
    inputs = [ctx.base_dir / name for name in step.inputs]
    out_dir = ctx.out_dir / "steps" / step.id
    summary = run_detectors(list(step.detectors), inputs, out_dir)
    counts = {name: len(run.result.findings) for name, run in summary.detectors.items()}
    findings = sum(counts.values())
    status = "ok" if findings >= step.min_findings else "failed"
    listed = ", ".join(f"{name}: {count}" for name, count in counts.items())
    return StepOutcome(
        status,
        f"{listed} finding(s) in {summary.orders} orders (need {step.min_findings}); "
        f"outputs in {out_dir}",
    )


def run_step(ctx: DrillContext, step: Step) -> StepOutcome:
    """Run ``step`` in the drill's mode (in tabletop every step is a prompt)."""
    if ctx.mode == "tabletop":
        accept = step.accept if isinstance(step, ManualStep) else None
        return _ask(ctx, step, step.tabletop_prompt(), accept)
    if isinstance(step, ManualStep):
        return _ask(ctx, step, step.prompt, step.accept)
    if isinstance(step, HttpStep):
        return _http(ctx, step)
    if isinstance(step, PromqlStep):
        return _promql(ctx, step)
    if isinstance(step, ShellStep):
        return _shell(ctx, step)
    if isinstance(step, MetricStep):
        return _metric(ctx, step)
    if isinstance(step, FaultStep):
        return _fault(ctx, step)
    if isinstance(step, WaitStep):
        ctx.abort.sleep(min(step.seconds, max(ctx.remaining_s(), 0.0)))
        return StepOutcome("ok", f"waited {step.seconds:g} s")
    if isinstance(step, JourneyStep):
        journey = step
        return _poll(ctx, step, step.poll_interval_s, lambda: run_journey(ctx, journey))
    assert isinstance(step, DetectorStep)
    return _detector(ctx, step)
