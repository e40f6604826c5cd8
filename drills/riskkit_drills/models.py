"""The runbook data model: what a YAML runbook may say, validated by pydantic.

A runbook describes one incident type: how its severity tier is chosen (P0
to P3, from impact metrics), who does what (incident commander,
communications, operations), the targets of each tier (time to detect,
acknowledge, mitigate, recover; first public statement; regulator and user
notification; RTO and RPO) and the steps a drill walks through.  The JSON
Schema exported from :class:`Runbook` is committed beside the YAML files
(``runbook.schema.json``) so that editors can complete and check them.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "MILESTONE_PHASES",
    "MODES",
    "PHASES",
    "TIERS",
    "BlastRadius",
    "Comparison",
    "DetectorStep",
    "FaultStep",
    "HttpCall",
    "HttpProbe",
    "HttpStep",
    "JourneyStep",
    "ManualStep",
    "MetricStep",
    "Probe",
    "PromqlProbe",
    "PromqlStep",
    "RoleSpec",
    "Roles",
    "Runbook",
    "ScrapeProbe",
    "SeverityCriteria",
    "ShellStep",
    "SteadyState",
    "Step",
    "StopCondition",
    "Targets",
    "TierSpec",
    "Traffic",
    "WaitStep",
    "as_mode",
    "as_tier",
]

Tier = Literal["P0", "P1", "P2", "P3"]
TIERS: tuple[Tier, ...] = ("P0", "P1", "P2", "P3")
Mode = Literal["tabletop", "simulated", "live"]
MODES: tuple[Mode, ...] = ("tabletop", "simulated", "live")
Role = Literal["incident_commander", "communications", "operations"]
Phase = Literal[
    "prepare",
    "inject",
    "detect",
    "acknowledge",
    "mitigate",
    "recover",
    "public_statement",
    "regulator_notification",
    "user_notification",
    "verify",
]
PHASES: tuple[Phase, ...] = (
    "prepare",
    "inject",
    "detect",
    "acknowledge",
    "mitigate",
    "recover",
    "public_statement",
    "regulator_notification",
    "user_notification",
    "verify",
)
# The phase whose last step sets each milestone of the incident timeline.
MILESTONE_PHASES: dict[str, Phase] = {
    "T0": "inject",
    "T1": "detect",
    "T2": "acknowledge",
    "T3": "mitigate",
    "T4": "recover",
}
ShopFaultKind = Literal[
    "latency",
    "error_rate",
    "payment_gateway_down",
    "slow_stock",
    "coupon_5xx",
    "lock_contention",
    "capacity_limit",
    "stall",
    "db_lost",
]


def as_tier(value: str) -> Tier:
    """``"P1"`` as a :data:`Tier` (raises ValueError for anything else)."""
    for tier in TIERS:
        if value == tier:
            return tier
    raise ValueError(f"tier must be one of {', '.join(TIERS)}, not {value!r}")


def as_mode(value: str) -> Mode:
    for mode in MODES:
        if value == mode:
            return mode
    raise ValueError(f"mode must be one of {', '.join(MODES)}, not {value!r}")


Operator = Literal["<", "<=", ">", ">=", "==", "!="]
_STEP_ID = r"^[a-z0-9][a-z0-9-]*$"
_VARIABLE = re.compile(r"\$\{([a-z_][a-z0-9_]*)\}")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SeverityCriteria(_Model):
    """Impact thresholds of a tier: the incident is in this tier when ANY known
    metric reaches its threshold (and no higher tier matched)."""

    checkout_failure_share: float | None = Field(
        None, ge=0, le=1, description="Share of checkouts failing (0-1)."
    )
    gmv_lost_yuan_per_minute: float | None = Field(
        None, ge=0, description="Gross merchandise value lost per minute, in yuan."
    )
    records_exposed: int | None = Field(
        None, ge=0, description="Personal-information records exposed."
    )
    negative_posts_per_hour: int | None = Field(
        None, ge=0, description="Negative social-media posts per hour (舆情 volume)."
    )


class Targets(_Model):
    """Per-tier targets in seconds (RPO in orders).  Detection is measured from
    T0, acknowledgement from detection (T1), mitigation and recovery from T0,
    communications and notifications from detection."""

    detect_s: float = Field(gt=0)
    acknowledge_s: float = Field(gt=0)
    mitigate_s: float = Field(gt=0)
    recover_s: float = Field(gt=0)
    first_public_statement_s: float | None = Field(None, gt=0)
    regulator_notification_s: float | None = Field(None, gt=0)
    user_notification_s: float | None = Field(None, gt=0)
    rto_s: float | None = Field(None, gt=0, description="Time until checkout works again.")
    rpo_orders: int | None = Field(
        None, ge=0, description="Confirmed orders that may be lost (0 = lose no data)."
    )


class Escalation(_Model):
    after_s: float = Field(ge=0, description="Escalate when unresolved this long after T1.")
    notify: list[str] = Field(min_length=1)
    note: str = ""


class TierSpec(_Model):
    description: str
    criteria: SeverityCriteria
    targets: Targets
    escalation: list[Escalation] = Field(default_factory=list)


class RoleSpec(_Model):
    title: str
    duties: str


class Roles(_Model):
    incident_commander: RoleSpec
    communications: RoleSpec
    operations: RoleSpec


class Comparison(_Model):
    """``value <op> threshold``, with ``tolerance`` added in the lenient direction."""

    op: Operator
    value: float
    tolerance: float = Field(0.0, ge=0)

    def holds(self, observed: float) -> bool:
        t, v = self.tolerance, self.value
        checks = {
            "<": observed < v + t,
            "<=": observed <= v + t,
            ">": observed > v - t,
            ">=": observed >= v - t,
            "==": abs(observed - v) <= t,
            "!=": abs(observed - v) > t,
        }
        return checks[self.op]

    def __str__(self) -> str:
        tolerance = f" ± {self.tolerance:g}" if self.tolerance else ""
        return f"{self.op} {self.value:g}{tolerance}"


# -- probes: steady-state hypothesis and stop conditions --------------------------


class HttpProbe(_Model):
    kind: Literal["http"]
    name: str
    method: Literal["GET", "HEAD"] = "GET"
    path: str = Field(pattern=r"^/")
    expect_status: list[int] = Field(default_factory=lambda: [200])
    max_latency_s: float | None = Field(None, gt=0)
    timeout_s: float = Field(5.0, gt=0, le=60)


class PromqlProbe(_Model):
    kind: Literal["promql"]
    name: str
    query: str
    expect: Comparison
    absent_is: float | None = Field(
        None, description="Value used when the query returns no series (else: probe fails)."
    )


class ScrapeProbe(_Model):
    """Reads the target's own Prometheus exposition (no Prometheus server needed)."""

    kind: Literal["scrape"]
    name: str
    path: str = Field("/metrics", pattern=r"^/")
    metric: str
    labels: dict[str, str] = Field(default_factory=dict)
    expect: Comparison


Probe = Annotated[HttpProbe | PromqlProbe | ScrapeProbe, Field(discriminator="kind")]


class SteadyState(_Model):
    title: str
    probes: list[Probe] = Field(min_length=1)
    check_during: bool = Field(True, description="Also record the probes once after T0.")


class StopCondition(_Model):
    """A guard: when its probe fails ``consecutive`` times in a row, the drill aborts."""

    name: str
    probe: Probe
    interval_s: float = Field(1.0, gt=0, le=60)
    consecutive: int = Field(1, ge=1, le=20)


class BlastRadius(_Model):
    description: str
    endpoints: list[str] = Field(
        min_length=1, description="Route templates a fault may touch ('*' = everything)."
    )
    max_fault_duration_s: float = Field(600, gt=0, le=3600)


class Traffic(_Model):
    """A bounded load run during the drill (threads + httpx): it records every
    order id the shop confirmed, so that RPO is a count, not a feeling."""

    rate_per_s: float = Field(10, gt=0, le=200)
    workers: int = Field(4, ge=1, le=32)
    measure_rpo: bool = False
    sku_id: str | None = Field(None, description="Every order buys this SKU (a flash sale).")
    start_before: Literal["inject", "first_step"] = "first_step"


# -- steps ----------------------------------------------------------------------


class HttpCall(_Model):
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "POST"
    path: str = Field(pattern=r"^/")
    body: dict[str, Any] | None = None
    expect_status: list[int] = Field(default_factory=lambda: [200, 201, 204])


class _StepBase(_Model):
    id: str = Field(pattern=_STEP_ID)
    title: str
    phase: Phase
    owner: Role = "operations"
    expected: str = Field(description="The expected outcome, in words.")
    budget_s: float = Field(gt=0, le=7 * 86400, description="Time budget of this step.")
    modes: list[Mode] = Field(default_factory=lambda: list(MODES))
    prompt: str | None = Field(
        None, description="What tabletop participants are asked (default: title + expected)."
    )
    on_failure: Literal["continue", "abort"] = "continue"

    def tabletop_prompt(self) -> str:
        return self.prompt or f"{self.title}. Expected: {self.expected}"


class ManualStep(_StepBase):
    """A prompt for a person; the answer and its timestamp go into the journal."""

    kind: Literal["manual"]
    prompt: str
    accept: str | None = Field(None, description="Regex an answer must match to count as done.")


class HttpStep(_StepBase):
    kind: Literal["http"]
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = "GET"
    path: str = Field(pattern=r"^/")
    body: dict[str, Any] | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    expect_status: list[int] = Field(default_factory=lambda: [200])
    expect_json: dict[str, Any] = Field(default_factory=dict)
    max_latency_s: float | None = Field(None, gt=0)
    min_latency_s: float | None = Field(
        None, gt=0, description="Succeed only when at least this slow (detects a slowdown)."
    )
    capture: dict[str, str] = Field(
        default_factory=dict, description="variable <- top-level key of the JSON response"
    )
    poll_interval_s: float | None = Field(
        None, gt=0, description="Repeat until the expectation holds or the budget runs out."
    )
    rollback: HttpCall | None = None


class PromqlStep(_StepBase):
    kind: Literal["promql"]
    query: str
    expect: Comparison
    poll_interval_s: float = Field(2.0, gt=0)


class MetricStep(_StepBase):
    """Reads a metric from the target's own ``/metrics`` until it holds."""

    kind: Literal["metric"]
    path: str = Field("/metrics", pattern=r"^/")
    metric: str
    labels: dict[str, str] = Field(default_factory=dict)
    expect: Comparison
    poll_interval_s: float = Field(1.0, gt=0)


class ShellStep(_StepBase):
    kind: Literal["shell"]
    command: list[str] = Field(min_length=1, description="argv; never run through a shell")
    expect_exit: int = 0
    rollback_command: list[str] | None = None


class FaultStep(_StepBase):
    """Injects a fault into the reference shop's admin API; its rollback is
    registered before the next step runs (DELETE /admin/faults/{id}, or
    POST /admin/restore for ``db_lost``)."""

    kind: Literal["fault"]
    fault: ShopFaultKind
    endpoint: str = "*"
    value: float = 0.0
    duration_s: float = Field(120, gt=0, le=3600)


class WaitStep(_StepBase):
    kind: Literal["wait"]
    seconds: float = Field(gt=0, le=3600)


class JourneyStep(_StepBase):
    """A synthetic buyer: add an item to a cart, check out, pay; polls until the
    outcome is the expected one (``paid``, ``created``, ``payment_failed``,
    ``checkout_failed``)."""

    kind: Literal["journey"]
    expect_outcome: Literal["paid", "created", "payment_failed", "checkout_failed"]
    pay: bool = True
    payment_method: Literal["alipay", "wechat", "card"] = "alipay"
    poll_interval_s: float = Field(0.5, gt=0)


class DetectorStep(_StepBase):
    """Runs riskkit detectors on order files (paths relative to the runbook)."""

    kind: Literal["detector"]
    detectors: list[str] = Field(min_length=1)
    inputs: list[str] = Field(min_length=1)
    min_findings: int = Field(1, ge=0)


Step = Annotated[
    ManualStep
    | HttpStep
    | PromqlStep
    | MetricStep
    | ShellStep
    | FaultStep
    | WaitStep
    | JourneyStep
    | DetectorStep,
    Field(discriminator="kind"),
]


class Runbook(_Model):
    """One incident type, its tiers, roles, targets and drill steps."""

    schema_version: Literal[1] = 1
    id: str = Field(pattern=_STEP_ID)
    title: str
    incident_type: str
    summary: str
    severity_rule: str = "When unsure, pick the higher tier."
    roles: Roles
    tiers: dict[Tier, TierSpec]
    references: list[str] = Field(default_factory=list)
    blast_radius: BlastRadius
    max_duration_s: float = Field(gt=0, le=86400)
    steady_state: SteadyState | None = None
    stop_conditions: list[StopCondition] = Field(default_factory=list)
    traffic: Traffic | None = None
    steps: list[Step] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Runbook:
        missing = [tier for tier in TIERS if tier not in self.tiers]
        if missing:
            raise ValueError(f"tiers {missing} are missing: every runbook defines P0-P3")
        ids = [step.id for step in self.steps]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"duplicate step ids: {duplicates}")
        allowed = set(self.blast_radius.endpoints)
        defined: set[str] = set()
        for step in self.steps:
            if isinstance(step, FaultStep):
                if "*" not in allowed and step.endpoint not in allowed:
                    raise ValueError(
                        f"step {step.id!r}: endpoint {step.endpoint!r} is outside the declared "
                        f"blast radius {sorted(allowed)}"
                    )
                if step.duration_s > self.blast_radius.max_fault_duration_s:
                    raise ValueError(
                        f"step {step.id!r}: duration_s {step.duration_s:g} exceeds the blast "
                        f"radius limit {self.blast_radius.max_fault_duration_s:g}"
                    )
            used = _VARIABLE.findall(step.model_dump_json())
            unknown = sorted(set(used) - defined)
            if unknown:
                raise ValueError(
                    f"step {step.id!r} uses ${{{unknown[0]}}} before any step captures it"
                )
            if isinstance(step, HttpStep):
                defined |= set(step.capture)
            if isinstance(step, FaultStep):
                defined.add("fault_id")
        measures_rpo = self.traffic is not None and self.traffic.measure_rpo
        if measures_rpo and any(spec.targets.rpo_orders is None for spec in self.tiers.values()):
            raise ValueError("traffic.measure_rpo needs targets.rpo_orders in every tier")
        return self

    def modes(self) -> list[Mode]:
        """Modes in which at least one step runs."""
        return [mode for mode in MODES if any(mode in step.modes for step in self.steps)]

    def steps_for(self, mode: Mode) -> list[Step]:
        return [step for step in self.steps if mode in step.modes]
