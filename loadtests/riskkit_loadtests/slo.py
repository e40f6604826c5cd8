"""SLO gates, k6-style: declared in YAML or flags, validated by pydantic.

Example ``slo.yaml``::

    latency:                 # per step, or "*" for every step
      "*": {p99: 1s}
      checkout: {p95: 500ms, p99: 800ms}
    error_rate: {"*": 0.01, pay: 0.005}
    min_achieved_rate_ratio: 0.95   # achieved / target arrival rate
    max_dropped_ratio: 0.01         # dropped / scheduled iterations
    checks: {"*": 0.99, payment_idempotent: 1.0}   # business-check pass ratios
    abort: {on_breach: true, grace_period: 10s}
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from riskkit.datafile import parse_yaml, read_text, validate
from riskkit.errors import InputError, UsageError
from riskkit_loadtests.units import parse_duration_s, parse_latency_ms

__all__ = ["PERCENTILES", "AbortSpec", "SloSpec", "default_slo_path", "load_slo", "merge_flags"]

PERCENTILES = {"p50": 50.0, "p90": 90.0, "p95": 95.0, "p99": 99.0, "p99.9": 99.9}


class AbortSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    on_breach: bool = False
    grace_period_s: float = Field(default=10.0, alias="grace_period")

    @field_validator("grace_period_s", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> float:
        try:
            return parse_duration_s(value, "abort.grace_period")
        except UsageError as exc:  # a ValueError, so pydantic names the field and its line
            raise ValueError(exc.message) from None


class SloSpec(BaseModel):
    """Every gate of a run.  Latency limits are kept in milliseconds."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    latency_ms: dict[str, dict[str, float]] = Field(default_factory=dict, alias="latency")
    error_rate: dict[str, float] = Field(default_factory=dict)
    min_achieved_rate_ratio: float | None = Field(default=None, gt=0, le=1.5)
    min_achieved_rate: float | None = Field(default=None, gt=0)
    max_dropped_ratio: float | None = Field(default=None, ge=0, le=1)
    max_dropped_iterations: int | None = Field(default=None, ge=0)
    checks: dict[str, float] = Field(default_factory=dict)
    abort: AbortSpec = Field(default_factory=AbortSpec)

    @field_validator("latency_ms", mode="before")
    @classmethod
    def _latencies(cls, value: Any) -> dict[str, dict[str, float]]:
        if not isinstance(value, dict):
            raise ValueError("latency is a mapping step -> {p95: 500ms, ...}")
        out: dict[str, dict[str, float]] = {}
        for step, limits in value.items():
            if not isinstance(limits, dict):
                raise ValueError(f"latency.{step} is a mapping such as {{p95: 500ms}}")
            for name, limit in limits.items():
                if str(name) not in PERCENTILES:
                    raise ValueError(f"latency.{step}: unknown percentile {name!r}")
                try:
                    out.setdefault(str(step), {})[str(name)] = parse_latency_ms(
                        limit, f"latency.{step}.{name}"
                    )
                except UsageError as exc:
                    raise ValueError(exc.message) from None
        return out

    @field_validator("error_rate", "checks")
    @classmethod
    def _ratios(cls, value: dict[str, float]) -> dict[str, float]:
        for key, ratio in value.items():
            if not 0 <= ratio <= 1:
                raise ValueError(f"{key}: a ratio between 0 and 1, got {ratio}")
        return value


def default_slo_path() -> Path:
    return Path(str(resources.files("riskkit_loadtests") / "defaults" / "slo.yaml"))


def load_slo(path: str | Path | None) -> SloSpec:
    source = Path(path) if path is not None else default_slo_path()
    text = read_text(source, "SLO file")
    raw = parse_yaml(text, source) or {}
    try:
        return validate(SloSpec, raw, source, "SLO file", text=text)
    except UsageError as exc:
        raise InputError(exc.message, file=source) from exc


def _pairs(values: tuple[str, ...], flag: str) -> list[tuple[str, str]]:
    pairs = []
    for value in values:
        key, sep, limit = value.partition("=")
        if not sep or not key or not limit:
            raise UsageError(f"{flag} expects STEP=VALUE (e.g. checkout=500ms), got {value!r}")
        pairs.append((key.strip(), limit.strip()))
    return pairs


def merge_flags(
    spec: SloSpec,
    p95: tuple[str, ...] = (),
    p99: tuple[str, ...] = (),
    error_rate: tuple[str, ...] = (),
    checks: tuple[str, ...] = (),
    min_rate_ratio: float | None = None,
    max_dropped_ratio: float | None = None,
    abort_on_breach: bool | None = None,
    abort_grace: str | None = None,
) -> SloSpec:
    """Flags win over the file: ``--slo-p95 checkout=500ms`` etc."""
    data = spec.model_copy(deep=True)
    for name, values, flag in (("p95", p95, "--slo-p95"), ("p99", p99, "--slo-p99")):
        for step, limit in _pairs(values, flag):
            data.latency_ms.setdefault(step, {})[name] = parse_latency_ms(limit, flag)
    for target, values, flag in (
        (data.error_rate, error_rate, "--slo-error-rate"),
        (data.checks, checks, "--slo-check"),
    ):
        for key, ratio_text in _pairs(values, flag):
            try:
                ratio = float(ratio_text)
            except ValueError:
                raise UsageError(f"{flag} {key}: {ratio_text!r} is not a number") from None
            if not 0 <= ratio <= 1:
                raise UsageError(f"{flag} {key}: a ratio between 0 and 1")
            target[key] = ratio
    if min_rate_ratio is not None:
        data.min_achieved_rate_ratio = min_rate_ratio
    if max_dropped_ratio is not None:
        data.max_dropped_ratio = max_dropped_ratio
    if abort_on_breach is not None:
        data.abort.on_breach = abort_on_breach
    if abort_grace is not None:
        data.abort.grace_period_s = parse_duration_s(abort_grace, "--abort-grace")
    return data
