"""The drill journal: JSON first, everything else (HTML, metrics, exit code)
is derived from it.

Timeline: T0 fault injected, T1 detected, T2 acknowledged, T3 mitigated, T4
recovered.  Offsets are seconds since the drill started (monotonic clock);
``at`` fields are UTC wall-clock times for people.  Phase durations are
measured as documented in :class:`riskkit_drills.models.Targets`.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from riskkit.errors import InputError

__all__ = [
    "JOURNAL_VERSION",
    "Journal",
    "MilestoneRecord",
    "PhaseResult",
    "ProbeResult",
    "RollbackResult",
    "RpoResult",
    "StepRecord",
    "StopEvent",
    "TrafficSummary",
    "read_journal",
    "utc_now",
]

JOURNAL_VERSION = 1
StepStatus = Literal["ok", "failed", "error", "skipped", "no_answer", "aborted"]
Outcome = Literal["targets_met", "targets_missed", "aborted"]


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StepRecord(_Record):
    id: str
    title: str
    kind: str
    phase: str
    owner: str
    status: StepStatus
    started_offset_s: float
    duration_s: float
    budget_s: float
    within_budget: bool
    detail: str = ""
    answer: str | None = None
    answered_at: str | None = None
    attempts: int = 1


class MilestoneRecord(_Record):
    name: str
    label: str
    offset_s: float
    at: str


class PhaseResult(_Record):
    """One timed target: ``seconds`` measured from ``start`` to ``end``."""

    phase: str
    start: str
    end: str
    seconds: float | None
    target: float | None
    unit: Literal["seconds", "orders"] = "seconds"
    met: bool | None

    @property
    def missed(self) -> bool:
        return self.met is False


class ProbeResult(_Record):
    when: Literal["before", "during", "after"]
    probe: str
    ok: bool
    observed: str
    offset_s: float


class StopEvent(_Record):
    name: str
    offset_s: float
    breached: bool
    detail: str


class RollbackResult(_Record):
    action: str
    ok: bool
    detail: str
    offset_s: float


class TrafficSummary(_Record):
    rate_per_s: float
    workers: int
    attempted: int
    confirmed: int
    refused: int
    failed: int
    dropped: int
    seconds: list[float] = Field(default_factory=list)
    confirmed_per_second: list[int] = Field(default_factory=list)
    failed_per_second: list[int] = Field(default_factory=list)


class RpoResult(_Record):
    """Orders the load run saw confirmed and the shop no longer has after the
    restore; ``error`` when the shop could not be asked (then ``met`` is false)."""

    orders_confirmed: int
    orders_present_after_restore: int | None
    orders_lost: int | None
    lost_order_ids_sample: list[str]
    target_orders: int | None
    met: bool | None
    error: str | None = None


class Journal(_Record):
    """Everything a drill did, in the order it did it."""

    journal_version: int = JOURNAL_VERSION
    riskkit_version: str
    runbook: dict[str, str]
    tier: str
    mode: str
    target: str | None
    execute: bool
    started_at: str
    ended_at: str | None = None
    duration_s: float | None = None
    status: Literal["running", "completed", "aborted"] = "running"
    abort_reason: str | None = None
    outcome: Outcome | None = None
    targets: dict[str, Any]
    escalation: list[dict[str, Any]] = Field(default_factory=list)
    blast_radius: dict[str, Any] = Field(default_factory=dict)
    milestones: list[MilestoneRecord] = Field(default_factory=list)
    phases: list[PhaseResult] = Field(default_factory=list)
    steps: list[StepRecord] = Field(default_factory=list)
    steady_state: list[ProbeResult] = Field(default_factory=list)
    stop_conditions: list[StopEvent] = Field(default_factory=list)
    rollbacks: list[RollbackResult] = Field(default_factory=list)
    traffic: TrafficSummary | None = None
    rpo: RpoResult | None = None
    escalations_triggered: list[str] = Field(default_factory=list)
    deviations: list[str] = Field(default_factory=list)
    action_items: list[str] = Field(default_factory=list)

    def milestone(self, name: str) -> MilestoneRecord | None:
        return next((m for m in self.milestones if m.name == name), None)

    def missed_targets(self) -> list[PhaseResult]:
        return [phase for phase in self.phases if phase.missed]

    def write(self, path: Path) -> Path:
        from riskkit.atomic import write_json

        return write_json(path, self.model_dump(mode="json"))


def read_journal(path: Path) -> Journal:
    """Load a journal written by ``riskkit drill run``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read journal: {exc.strerror}", file=path) from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"not JSON: {exc.msg}", file=path, row=exc.lineno) from exc
    try:
        return Journal.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        location = ".".join(str(part) for part in error["loc"])
        raise InputError(
            f"not a drill journal: {error['msg']}", file=path, column=location
        ) from exc
