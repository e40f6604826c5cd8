"""Consent and personalisation checks: consent-log properties, sensitive purposes,
non-personalised option, price-difference findings, withdrawal, consent checkboxes on pages."""

from __future__ import annotations

import re
from fnmatch import fnmatch
from typing import Any

import pandas as pd
from pydantic import Field

from riskkit.comply.evidence import EvidenceMissing
from riskkit.comply.models import Outcome
from riskkit.comply.templates.base import (
    CheckContext,
    Params,
    Template,
    clean,
    not_applicable,
    unknown_value,
)

__all__ = ["PRIVACY_TEMPLATES"]


def _consents(ctx: CheckContext[Any]) -> pd.DataFrame:
    consents = ctx.evidence.consents()
    return consents.loc[
        consents["granted_at"].notna() & (consents["granted_at"] >= ctx.effective_ts)
    ]


def _consent_evidence(row: pd.Series) -> dict[str, object]:
    return {
        "consents_row": int(row["file_row"]),
        **{
            c: clean(row[c])
            for c in (
                "user_id",
                "purpose",
                "sensitive",
                "notice_version",
                "granted_at",
                "method",
                "withdrawn_at",
            )
        },
    }


class ConsentLogParams(Params):
    forbidden_methods: list[str]
    required_fields: tuple[str, ...] = ()
    purposes: tuple[str, ...] = ()


def consent_log(ctx: CheckContext[ConsentLogParams]) -> list[Outcome]:
    """Each consent record was given by an affirmative act (and, when asked, is demonstrable)."""
    consents = _consents(ctx)
    if ctx.params.purposes:
        consents = consents.loc[consents["purpose"].isin(ctx.params.purposes)]
    if consents.empty:
        return not_applicable("no consent recorded on/after the effective date")
    forbidden = {m.lower() for m in ctx.params.forbidden_methods}
    methods = ctx.evidence.vocabulary.codes("consent_method", consents["method"], forbidden)
    outcomes = []
    for (_, row), method in zip(consents.iterrows(), methods, strict=True):
        subject = f"user:{row['user_id']} purpose:{row['purpose']}"
        if method is None:
            outcomes.append(
                unknown_value(
                    subject, "method", row["method"], "consent_method", _consent_evidence(row)
                )
            )
            continue
        problems = []
        written = str(row["method"]).strip()
        if method in forbidden:
            shown = method if written.lower() == method else f"{written} ({method})"
            problems.append(f"consent by {shown!r} is not an affirmative act")
        problems += [
            f"{field} not recorded"
            for field in ctx.params.required_fields
            if pd.isna(row[field]) or str(row[field]).strip() == ""
        ]
        outcomes.append(
            Outcome(
                subject=subject,
                status="fail" if problems else "pass",
                evidence=_consent_evidence(row),
                message="; ".join(problems) if problems else f"consent by {method!r}",
            )
        )
    return outcomes


class SensitiveParams(Params):
    allowed_methods: tuple[str, ...] = ("click",)
    purpose_separators: str = r"[,;|+、，]"


def sensitive_separate_consent(ctx: CheckContext[SensitiveParams]) -> list[Outcome]:
    consents = _consents(ctx)
    sensitive = consents.loc[consents["sensitive"].astype(bool)]
    if sensitive.empty:
        return not_applicable("no consent to a sensitive purpose on/after the effective date")
    splitter = re.compile(ctx.params.purpose_separators)
    allowed = {m.lower() for m in ctx.params.allowed_methods}
    methods = ctx.evidence.vocabulary.codes("consent_method", sensitive["method"], allowed)
    outcomes = []
    for (_, row), method in zip(sensitive.iterrows(), methods, strict=True):
        subject = f"user:{row['user_id']} purpose:{row['purpose']}"
        purposes = [p for p in splitter.split(str(row["purpose"])) if p.strip()]
        problems = []
        if len(purposes) > 1:
            problems.append(f"one consent covers {len(purposes)} purposes")
        blank = pd.isna(row["method"]) or str(row["method"]).strip() == ""
        if method is None and not blank and not problems:
            outcomes.append(
                unknown_value(
                    subject, "method", row["method"], "consent_method", _consent_evidence(row)
                )
            )
            continue
        if blank:  # no record of an explicit act is no separate consent
            problems.append("no consent method recorded")
        elif method is not None and method not in allowed:
            problems.append(f"method {row['method']!r} is not a separate, explicit consent")
        outcomes.append(
            Outcome(
                subject=subject,
                status="fail" if problems else "pass",
                evidence=_consent_evidence(row),
                message="; ".join(problems) if problems else "separate consent for this purpose",
            )
        )
    return outcomes


class SettingFlagParams(Params):
    setting_key: str
    required_value: bool | int | str = True


def setting_flag(ctx: CheckContext[SettingFlagParams]) -> list[Outcome]:
    value = ctx.evidence.setting(ctx.params.setting_key)
    ok = value == ctx.params.required_value
    return [
        Outcome(
            subject=f"settings.json {ctx.params.setting_key}",
            status="pass" if ok else "fail",
            evidence={ctx.params.setting_key: value, "required": ctx.params.required_value},
            message=f"{ctx.params.setting_key} = {value!r}"
            + ("" if ok else f", expected {ctx.params.required_value!r}"),
        )
    ]


class SettingsCompareParams(Params):
    at_most_key: str
    reference_key: str


def setting_at_most(ctx: CheckContext[SettingsCompareParams]) -> list[Outcome]:
    value = ctx.evidence.setting(ctx.params.at_most_key)
    reference = ctx.evidence.setting(ctx.params.reference_key)
    if not isinstance(value, int | float) or not isinstance(reference, int | float):
        return [
            Outcome(
                subject="settings.json",
                status="error",
                message=f"{ctx.params.at_most_key} and {ctx.params.reference_key} must be numbers",
            )
        ]
    ok = value <= reference
    return [
        Outcome(
            subject=f"settings.json {ctx.params.at_most_key}",
            status="pass" if ok else "fail",
            evidence={ctx.params.at_most_key: value, ctx.params.reference_key: reference},
            message=f"{ctx.params.at_most_key} = {value} vs "
            f"{ctx.params.reference_key} = {reference}",
        )
    ]


class PriceFindingsParams(Params):
    flag_columns: tuple[str, ...] = (
        "significant",
        "flagged",
    )
    # the price-discrimination detector's findings.csv columns (others are kept if present)
    evidence_columns: tuple[str, ...] = (
        "attribute",
        "cohort",
        "reference_cohort",
        "window_start",
        "window_end",
        "price_ratio",
        "gap_yuan",
        "q_value",
        "reasons",
        "segment",
        "price_gap",
        "p_value",
    )


def price_difference_findings(ctx: CheckContext[PriceFindingsParams]) -> list[Outcome]:
    findings = ctx.evidence.price_findings()
    flagged = findings
    for column in ctx.params.flag_columns:
        if column in findings.columns and findings[column].notna().any():
            truthy = findings[column].astype("string").str.strip().str.lower()
            flagged = findings.loc[truthy.isin(["true", "1", "yes"])]
            break
    if flagged.empty:
        return [
            Outcome(
                subject="price-discrimination/findings.csv",
                status="pass",
                evidence={"rows": len(findings)},
                message="the detector found no significant price difference",
            )
        ]
    columns = [c for c in ctx.params.evidence_columns if c in flagged.columns]
    return [
        Outcome(
            subject=f"sku:{sku}",
            status="fail",
            evidence={
                "findings_rows": [int(v) for v in part["file_row"]],
                **{c: [clean(v) for v in part[c]] for c in columns},
                "source": "price-discrimination/findings.csv",
            },
            message=f"{len(part)} significant price difference(s) between buyers",
        )
        for sku, part in flagged.groupby("sku_id")
    ]


class CheckboxParams(Params):
    page_glob: str
    consent_keywords: list[str]
    exempt_keywords: tuple[str, ...] = ()
    require_phrases: dict[str, list[str]] = Field(default_factory=dict)
    # with page_glob "*": a page without any consent box (a policy text) is no subject
    skip_pages_without_consent_boxes: bool = False


def consent_checkboxes(ctx: CheckContext[CheckboxParams]) -> list[Outcome]:
    """No pre-ticked consent box; optional statements (duration, third parties) present."""
    params = ctx.params
    pages = {
        n: p
        for n, p in ctx.evidence.pages().items()
        if fnmatch(n.removeprefix("pages/"), params.page_glob)
    }
    if not pages:
        raise EvidenceMissing(f"no saved page matches {params.page_glob!r}")
    outcomes = []
    for name, page in pages.items():
        problems: list[str] = []
        prechecked = []
        consent_boxes = 0
        for box in page.checkboxes:
            described = f"{box.name} {box.purpose} {box.label}".lower()
            if not any(k.lower() in described for k in params.consent_keywords):
                continue
            if any(k.lower() in described for k in params.exempt_keywords):
                continue
            consent_boxes += 1
            if box.checked:
                prechecked.append({"line": box.line, "name": box.name, "label": box.label[:120]})
        if params.skip_pages_without_consent_boxes and not consent_boxes:
            continue
        if prechecked:
            problems.append(f"{len(prechecked)} consent box(es) pre-ticked")
        statements: dict[str, object] = {}
        for what, phrases in ctx.params.require_phrases.items():
            hits = [line for phrase in phrases for line, _ in page.find(phrase)]
            statements[what] = hits[:5]
            if not hits:
                problems.append(f"{what} not stated")
        outcomes.append(
            Outcome(
                subject=f"page:{name}",
                status="fail" if problems else "pass",
                evidence={
                    "prechecked": prechecked,
                    "statements_found_on_lines": statements,
                    "checkboxes": len(page.checkboxes),
                },
                message="; ".join(problems)
                if problems
                else "no pre-ticked consent; required statements present",
            )
        )
    return outcomes or not_applicable(
        f"no consent checkbox on the {len(pages)} saved page(s) matching {params.page_glob!r}"
    )


PRIVACY_TEMPLATES: list[Template] = [  # type: ignore[type-arg]
    Template(
        "consent_log",
        ConsentLogParams,
        consent_log,
        "Consent records: affirmative method, required fields recorded",
    ),
    Template(
        "sensitive_separate_consent",
        SensitiveParams,
        sensitive_separate_consent,
        "Separate, explicit consent for each sensitive purpose",
    ),
    Template(
        "setting_flag",
        SettingFlagParams,
        setting_flag,
        "A settings.json flag has the required value",
    ),
    Template(
        "setting_at_most",
        SettingsCompareParams,
        setting_at_most,
        "One settings.json number is at most another",
    ),
    Template(
        "price_difference_findings",
        PriceFindingsParams,
        price_difference_findings,
        "No significant price difference in the price-discrimination detector's findings",
    ),
    Template(
        "consent_checkboxes",
        CheckboxParams,
        consent_checkboxes,
        "No pre-ticked consent checkbox; required statements on the page",
    ),
]
