"""Pydantic models: policy files (data), waivers, and the findings of a run."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "SEVERITY_RANK",
    "STATUSES",
    "AppliesWhen",
    "CheckSpec",
    "Finding",
    "Outcome",
    "PolicyFile",
    "Rule",
    "Severity",
    "Source",
    "Status",
]

Severity = Literal["low", "medium", "high"]
Status = Literal["pass", "fail", "error", "not_applicable", "not_checked", "waived"]
STATUSES: tuple[str, ...] = ("pass", "fail", "error", "not_applicable", "not_checked", "waived")
SEVERITY_RANK: dict[str, int] = {"low": 1, "medium": 2, "high": 3}
Jurisdiction = Literal["cn", "eu", "us-ca"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    """Where a rule comes from: the law, the article, and whether the text was checked."""

    law: str = Field(min_length=1, description="Name of the law or regulation.")
    article: str = Field(min_length=1, description="Article, section or case number.")
    url: str = Field(pattern=r"^https?://", description="Where the text can be read.")
    effective: dt.date = Field(description="Data dated before this day is never judged.")
    verified: bool = Field(description="False when the citation was not checked against the text.")
    note: str = Field(default="", description="What still needs verifying, or other context.")


class AppliesWhen(_Strict):
    """Conditions under which a rule applies to a shop (settings.json ``markets``)."""

    markets: list[str] = Field(
        default_factory=list,
        description="Rule applies when settings.json 'markets' lists one of these "
        "(or has no 'markets' key). Empty: always.",
    )


class CheckSpec(_Strict):
    """Which Python check template runs, with which parameters."""

    template: str = Field(min_length=1)
    params: dict[str, Any] = Field(default_factory=dict)


class Rule(_Strict):
    """One checkable obligation with its citation and remediation."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]*$", description="Stable rule id.")
    title: str = Field(min_length=1)
    jurisdiction: Jurisdiction
    source: Source
    severity: Severity
    applies_when: AppliesWhen = Field(default_factory=AppliesWhen)
    check: CheckSpec
    remediation: str = Field(min_length=1)
    maps_to: list[str] = Field(
        default_factory=list, description="Related rules or framework controls."
    )


class PolicyFile(_Strict):
    """A policy file: a named set of rules (``pricing-labels``, ``return-policy``...)."""

    policy: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str = Field(min_length=1)
    description: str = ""
    rules: list[Rule] = Field(min_length=1)

    @field_validator("rules")
    @classmethod
    def _unique_ids(cls, rules: list[Rule]) -> list[Rule]:
        seen: set[str] = set()
        for rule in rules:
            if rule.id in seen:
                raise ValueError(f"duplicate rule id {rule.id!r}")
            seen.add(rule.id)
        return rules


@dataclass(slots=True)
class Outcome:
    """What a check template reports for one subject, before the engine adds the rule.

    A plain dataclass, not a pydantic model: a large catalogue yields millions.
    """

    subject: str
    status: Status
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)


class Finding(BaseModel):
    """One verdict: a rule applied to one subject, with its evidence and citation."""

    model_config = ConfigDict(extra="forbid")

    rule: str
    policy: str
    jurisdiction: str
    severity: Severity
    subject: str
    status: Status
    message: str
    evidence: dict[str, Any] = Field(default_factory=dict)
    citation: dict[str, Any]
    remediation: str
    waiver: dict[str, Any] | None = None
    change: Literal["new", "still_failing", "fixed", "unchanged"] | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.rule, self.subject)
