"""Pydantic models: policy files (data), waivers, and the findings of a run."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

__all__ = [
    "SEVERITY_RANK",
    "STATUSES",
    "AppliesWhen",
    "CheckSpec",
    "Finding",
    "Outcome",
    "PolicyFile",
    "PriceBasisLabel",
    "Rule",
    "Severity",
    "Source",
    "Status",
    "Wordings",
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


Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
Wording = Annotated[str, StringConstraints(min_length=1)]


class Wordings(_Strict):
    """How evidence files write riskkit's codes: per kind of value, each code's wordings.

    Matching ignores spaces, letter case, full-/half-width forms, edge punctuation, a
    leading list number and a trailing 的/商品; the code itself is always recognised.
    """

    return_exclusion: dict[Code, list[Wording]] = Field(
        default_factory=dict,
        description="catalog.csv return_exclusion_reason (and a return's category).",
    )
    return_status: dict[Code, list[Wording]] = Field(
        default_factory=dict, description="returns.csv status."
    )
    consent_method: dict[Code, list[Wording]] = Field(
        default_factory=dict, description="consents.csv method."
    )
    boolean: dict[Literal["true", "false"], list[Wording]] = Field(
        default_factory=dict, description="Every true/false column (returnable, sensitive...)."
    )


PriceBasisCheck = Literal[
    "lowest_transaction",
    "lowest_offered",
    "prevailing_offered",
    "price_before_promotion",
    "not_verifiable",
]
WINDOWED_CHECKS = ("lowest_transaction", "lowest_offered", "prevailing_offered")


class PriceBasisLabel(_Strict):
    """One reading of a compared price's stated basis (catalog.csv ``compare_basis_label``).

    The first entry whose ``pattern`` is found in the label (NFKC-normalised) reads it.
    """

    pattern: str = Field(min_length=1, description="Python regular expression, searched.")
    verify: PriceBasisCheck = Field(description="What the stated basis claims, and so checks.")
    days: int | None = Field(
        default=None,
        ge=1,
        le=366,
        description="Window length; else the pattern's (?P<days>...) group (7, 七, 三十...).",
    )
    fallback_last_transaction: bool = Field(
        default=False,
        description="No sale in the window: the last sale before the promotion (Art. 16 ¶2).",
    )
    reason: str = Field(default="", description="Why it cannot be verified (not_verifiable).")
    examples: list[Wording] = Field(min_length=1, description="Labels this entry must read.")

    @model_validator(mode="after")
    def _consistent(self) -> PriceBasisLabel:
        try:
            compiled = re.compile(self.pattern)
        except re.error as exc:
            raise ValueError(
                f"pattern {self.pattern!r} is not a regular expression: {exc}"
            ) from None
        for example in self.examples:
            if compiled.search(unicodedata.normalize("NFKC", example)) is None:
                raise ValueError(f"example {example!r} does not match pattern {self.pattern!r}")
        has_days = self.days is not None or "days" in compiled.groupindex
        if self.verify in WINDOWED_CHECKS and not has_days:
            raise ValueError(f"{self.verify} needs days or a (?P<days>...) group")
        if self.verify not in WINDOWED_CHECKS and has_days:
            raise ValueError(f"{self.verify} has no window: drop days")
        if self.verify == "not_verifiable" and not self.reason.strip():
            raise ValueError("a not_verifiable basis needs a reason")
        if self.fallback_last_transaction and self.verify != "lowest_transaction":
            raise ValueError("fallback_last_transaction only applies to lowest_transaction")
        return self


class PolicyFile(_Strict):
    """A policy file: a named set of rules (``pricing-labels``, ``return-policy``...),
    and the wordings and price-basis labels used to read the evidence."""

    policy: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str = Field(min_length=1)
    description: str = ""
    rules: list[Rule] = Field(default_factory=list)
    wordings: Wordings = Field(default_factory=Wordings)
    price_basis_labels: list[PriceBasisLabel] = Field(default_factory=list)

    @model_validator(mode="after")
    def _not_empty(self) -> PolicyFile:
        if not (self.rules or self.price_basis_labels or any(self.wordings.model_dump().values())):
            raise ValueError("a policy file needs rules, wordings or price_basis_labels")
        return self

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
