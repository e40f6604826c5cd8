"""Return checks: withdrawal window, exclusions, refund deadline, method and amount, page wording."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

import pandas as pd

from riskkit.comply.evidence import EvidenceMissing
from riskkit.comply.models import Outcome
from riskkit.comply.templates.base import (
    CheckContext,
    Params,
    Template,
    clean,
    day,
    not_applicable,
    records,
    unknown_value,
)

__all__ = ["RETURN_TEMPLATES", "window_end"]

_RETURN_COLUMNS = [
    "order_id",
    "sku_id",
    "category",
    "signed_at",
    "requested_at",
    "return_received_at",
    "refunded_at",
    "amount_paid",
    "refund_amount",
    "payment_method",
    "refund_method",
    "status",
    "excluded_confirmed",
]


def _returns_in_force(ctx: CheckContext[Any]) -> pd.DataFrame:
    returns = ctx.evidence.returns()
    return returns.loc[returns["signed_at"].notna() & (returns["signed_at"] >= ctx.effective_ts)]


def with_exclusion_reason(
    ctx: CheckContext[Any], returns: pd.DataFrame, codes: Iterable[str] = ()
) -> pd.DataFrame:
    """Add ``exclusion_reason``: the catalogue's reason for the SKU, else the return's
    category; ``exclusion_code``: the code it is written for (None: none known; ``codes``
    are a rule's own codes); ``status_code``: the code of ``status``."""
    out = returns.copy()
    reason = out["category"].astype(object)
    try:
        catalog = ctx.evidence.catalog()
    except EvidenceMissing:
        out["exclusion_reason"] = reason
    else:
        by_sku = catalog.drop_duplicates("sku_id").set_index("sku_id")["return_exclusion_reason"]
        mapped = out["sku_id"].map(by_sku).astype(object)
        out["exclusion_reason"] = mapped.where(mapped.notna(), reason)
    vocabulary = ctx.evidence.vocabulary
    out["exclusion_code"] = vocabulary.codes("return_exclusion", out["exclusion_reason"], codes)
    return out


def with_status_code(
    ctx: CheckContext[Any], returns: pd.DataFrame, statuses: Iterable[str]
) -> pd.DataFrame:
    """Add ``status_code``: the code ``status`` is written for (None: blank or unknown;
    ``statuses`` are the rule's own codes)."""
    codes = ctx.evidence.vocabulary.codes("return_status", returns["status"], statuses)
    return returns.assign(status_code=codes)


def _row_evidence(row: pd.Series, columns: list[str]) -> dict[str, object]:
    return {"returns_row": int(row["file_row"]), **{c: clean(row[c]) for c in columns}}


def _subject(row: pd.Series) -> str:
    return f"order:{row['order_id']} sku:{row['sku_id']}"


def window_end(start: pd.Series, days: int, count_from: str) -> pd.Series:
    """Exclusive end of a period of ``days`` calendar days after ``start``.

    ``next_day``: day 1 is the day after ``start`` (so the period ends at the
    midnight that closes day ``days``); ``same_day``: day 1 is ``start``'s day.
    """
    offset = days + 1 if count_from == "next_day" else days
    end: pd.Series = start.dt.normalize() + pd.to_timedelta(offset, unit="D")
    return end


class WithdrawalWindowParams(Params):
    days: int
    count_from: Literal["next_day", "same_day"] = "next_day"
    rejected_statuses: tuple[str, ...] = ("rejected",)
    exempt_categories: tuple[str, ...] = ()
    setting_key: str = "return_window_days"


def withdrawal_window(ctx: CheckContext[WithdrawalWindowParams]) -> list[Outcome]:
    params = ctx.params
    outcomes: list[Outcome] = []
    try:
        offered = ctx.evidence.setting(params.setting_key)
    except EvidenceMissing as missing:
        outcomes.append(
            Outcome(subject="settings.json", status="not_checked", message=missing.reason)
        )
    else:
        ok = isinstance(offered, int | float) and offered >= params.days
        outcomes.append(
            Outcome(
                subject="settings.json",
                status="pass" if ok else "fail",
                evidence={params.setting_key: offered, "required_days": params.days},
                message=f"{params.setting_key} = {offered}"
                + ("" if ok else f", below the statutory {params.days} days"),
            )
        )
    try:
        returns = _returns_in_force(ctx)
    except EvidenceMissing as missing:
        outcomes.append(
            Outcome(subject="returns.csv", status="not_checked", message=missing.reason)
        )
        return outcomes
    returns = with_exclusion_reason(ctx, returns, params.exempt_categories)
    returns = with_status_code(ctx, returns, params.rejected_statuses)
    scope = returns.loc[
        returns["requested_at"].notna() & ~returns["exclusion_code"].isin(params.exempt_categories)
    ].copy()
    scope["window_ends"] = window_end(scope["signed_at"], params.days, params.count_from)
    for _, row in scope.iterrows():
        in_window = bool(row["requested_at"] < row["window_ends"])
        rejected = row["status_code"] in params.rejected_statuses
        evidence = _row_evidence(row, ["signed_at", "requested_at", "status", "category"])
        evidence["window_last_day"] = day(row["window_ends"] - pd.Timedelta(days=1))
        evidence["count_from"] = params.count_from
        if in_window and row["status_code"] is None:
            outcomes.append(
                unknown_value(_subject(row), "status", row["status"], "return_status", evidence)
            )
        elif in_window and rejected:
            outcomes.append(
                Outcome(
                    subject=_subject(row),
                    status="fail",
                    evidence=evidence,
                    message=f"return requested within the {params.days}-day window was rejected",
                )
            )
        else:
            outcomes.append(
                Outcome(
                    subject=_subject(row),
                    status="pass",
                    evidence=evidence,
                    message="within the window and accepted"
                    if in_window
                    else "requested after the window closed",
                )
            )
    return outcomes


class ExclusionParams(Params):
    statutory: list[str]
    needs_confirmation: tuple[str, ...] = ()
    rejected_statuses: tuple[str, ...] = ("rejected",)


def return_exclusions(ctx: CheckContext[ExclusionParams]) -> list[Outcome]:
    params = ctx.params
    allowed = set(params.statutory) | set(params.needs_confirmation)
    vocabulary = ctx.evidence.vocabulary
    outcomes: list[Outcome] = []
    missing: list[str] = []
    try:
        catalog = ctx.evidence.catalog()
    except EvidenceMissing as exc:
        missing.append(exc.reason)
    else:
        for r in records(catalog.loc[~catalog["returnable"].astype(bool)]):
            reason = (
                "" if pd.isna(r["return_exclusion_reason"]) else str(r["return_exclusion_reason"])
            )
            code = vocabulary.code("return_exclusion", reason, allowed)
            evidence = {
                "catalog_row": int(r["file_row"]),
                "title": clean(r["title"]),
                "category": r["category"],
                "return_exclusion_reason": reason,
                "read_as": code,
            }
            subject = f"sku:{r['sku_id']}"
            if reason.strip() and code is None:
                outcomes.append(
                    unknown_value(
                        subject, "return_exclusion_reason", reason, "return_exclusion", evidence
                    )
                )
                continue
            ok = code in allowed
            written = f"{reason!r}" + (f" ({code})" if code and code != reason else "")
            outcomes.append(
                Outcome(
                    subject=subject,
                    status="pass" if ok else "fail",
                    evidence=evidence,
                    message=f"excluded as {written}"
                    + (" (allowed)" if ok else ": not an exclusion the law allows"),
                )
            )
    try:
        returns = _returns_in_force(ctx)
    except EvidenceMissing as exc:
        missing.append(exc.reason)
    else:
        returns = with_exclusion_reason(ctx, returns, allowed)
        returns = with_status_code(ctx, returns, params.rejected_statuses)
        unknown_status = returns["status_code"].isna()
        scope = returns.loc[
            (returns["status_code"].isin(params.rejected_statuses) | unknown_status)
            & returns["exclusion_code"].isin(allowed)
        ]
        for _, row in scope.iterrows():
            evidence = _row_evidence(
                row, ["category", "exclusion_reason", "status", "excluded_confirmed"]
            )
            needs = row["exclusion_code"] in params.needs_confirmation
            bad = needs and not bool(row["excluded_confirmed"])
            if row["status_code"] is None:
                if bad:  # a rejection here would be unlawful: the status decides
                    outcomes.append(
                        unknown_value(
                            _subject(row), "status", row["status"], "return_status", evidence
                        )
                    )
                continue
            outcomes.append(
                Outcome(
                    subject=_subject(row),
                    status="fail" if bad else "pass",
                    evidence=evidence,
                    message="rejected as excluded, but the buyer never confirmed the exclusion"
                    if bad
                    else "rejection rests on an allowed exclusion",
                )
            )
    if not outcomes and missing:
        return [Outcome(subject="*", status="not_checked", message="; ".join(missing))]
    return outcomes or not_applicable("no excluded SKU and no rejected excluded return")


class RefundDeadlineParams(Params):
    days: int
    start_events: tuple[str, ...] = ("return_received_at",)
    count_from: Literal["next_day", "same_day"] = "same_day"
    skip_statuses: tuple[str, ...] = ("rejected",)


def refund_deadline(ctx: CheckContext[RefundDeadlineParams]) -> list[Outcome]:
    params = ctx.params
    returns = with_status_code(ctx, _returns_in_force(ctx), params.skip_statuses)
    starts = returns[list(params.start_events)]
    scope = returns.loc[
        starts.notna().all(axis=1) & ~returns["status_code"].isin(params.skip_statuses)
    ].copy()
    if scope.empty:
        return not_applicable("no return with " + " and ".join(params.start_events))
    scope["clock_start"] = scope[list(params.start_events)].max(axis=1)
    scope["deadline"] = window_end(scope["clock_start"], params.days, params.count_from)
    as_of = pd.Timestamp(ctx.as_of).tz_localize(None)
    outcomes: list[Outcome] = []
    for _, row in scope.iterrows():
        evidence = _row_evidence(row, [*params.start_events, "refunded_at", "status"])
        evidence["refund_due_by"] = day(row["deadline"] - pd.Timedelta(days=1))
        if row["status_code"] is None:  # perhaps rejected: the deadline may not run
            outcomes.append(
                unknown_value(_subject(row), "status", row["status"], "return_status", evidence)
            )
            continue
        if pd.isna(row["refunded_at"]):
            overdue = as_of >= row["deadline"]
            outcomes.append(
                Outcome(
                    subject=_subject(row),
                    status="fail" if overdue else "not_applicable",
                    evidence=evidence,
                    message="not refunded and past the deadline"
                    if overdue
                    else "not refunded yet, still within the deadline",
                )
            )
            continue
        late = bool(row["refunded_at"] >= row["deadline"])
        outcomes.append(
            Outcome(
                subject=_subject(row),
                status="fail" if late else "pass",
                evidence=evidence,
                message=f"refunded after the {params.days}-day deadline"
                if late
                else f"refunded within {params.days} days",
            )
        )
    return outcomes


class RefundParams(Params):
    refunded_statuses: tuple[str, ...] = ("refunded",)
    tolerance: float = 0.005


def _refunded(
    ctx: CheckContext[RefundParams], needed: list[str], columns: list[str]
) -> tuple[pd.DataFrame, list[Outcome]]:
    """Refunded returns with the ``needed`` columns filled, and ``not_checked`` outcomes
    for those whose status is unknown (they may be refunded)."""
    statuses = ctx.params.refunded_statuses
    returns = with_status_code(ctx, _returns_in_force(ctx), statuses)
    returns = returns.loc[returns[needed].notna().all(axis=1)]
    unknown = [
        unknown_value(
            _subject(row), "status", row["status"], "return_status", _row_evidence(row, columns)
        )
        for _, row in returns.loc[returns["status_code"].isna()].iterrows()
    ]
    return returns.loc[returns["status_code"].isin(statuses)], unknown


def refund_to_original_method(ctx: CheckContext[RefundParams]) -> list[Outcome]:
    methods = ["payment_method", "refund_method"]
    scope, outcomes = _refunded(ctx, methods, methods)
    if scope.empty and not outcomes:
        return not_applicable("no refunded return with payment_method and refund_method")
    for _, row in scope.iterrows():
        same = str(row["payment_method"]).strip() == str(row["refund_method"]).strip()
        outcomes.append(
            Outcome(
                subject=_subject(row),
                status="pass" if same else "fail",
                evidence=_row_evidence(row, ["payment_method", "refund_method"]),
                message="refunded to the original payment method"
                if same
                else f"paid by {row['payment_method']}, refunded as {row['refund_method']}",
            )
        )
    return outcomes


def refund_full_amount(ctx: CheckContext[RefundParams]) -> list[Outcome]:
    scope, outcomes = _refunded(ctx, ["amount_paid"], ["amount_paid", "refund_amount"])
    if scope.empty and not outcomes:
        return not_applicable("no refunded return with amount_paid")
    for _, row in scope.iterrows():
        refund = 0.0 if pd.isna(row["refund_amount"]) else float(row["refund_amount"])
        short = refund < float(row["amount_paid"]) - ctx.params.tolerance
        outcomes.append(
            Outcome(
                subject=_subject(row),
                status="fail" if short else "pass",
                evidence=_row_evidence(row, ["amount_paid", "refund_amount"]),
                message=f"refunded {refund:g} of {row['amount_paid']:g} paid"
                if short
                else "refunded the amount actually paid",
            )
        )
    return outcomes


class ForbiddenPhraseParams(Params):
    phrases: list[str]
    page_glob: str = "*"


def page_forbidden_phrases(ctx: CheckContext[ForbiddenPhraseParams]) -> list[Outcome]:
    from fnmatch import fnmatch

    outcomes = []
    for name, page in ctx.evidence.pages().items():
        if not fnmatch(name.removeprefix("pages/"), ctx.params.page_glob):
            continue
        hits = [
            {"line": line, "phrase": phrase, "text": text[:200]}
            for phrase in ctx.params.phrases
            for line, text in page.find(phrase)
        ]
        outcomes.append(
            Outcome(
                subject=f"page:{name}",
                status="fail" if hits else "pass",
                evidence={"hits": hits, "phrases": ctx.params.phrases},
                message="forbidden wording: " + ", ".join(sorted({str(h["phrase"]) for h in hits}))
                if hits
                else "no forbidden wording",
            )
        )
    return outcomes or not_applicable(f"no saved page matches {ctx.params.page_glob!r}")


RETURN_TEMPLATES: list[Template] = [  # type: ignore[type-arg]
    Template(
        "withdrawal_window",
        WithdrawalWindowParams,
        withdrawal_window,
        "Returns requested within N days (counted from the day after signing) are accepted",
    ),
    Template(
        "return_exclusions",
        ExclusionParams,
        return_exclusions,
        "Only allowed exclusions; confirmation-needing ones confirmed by the buyer",
    ),
    Template(
        "refund_deadline",
        RefundDeadlineParams,
        refund_deadline,
        "Refund within N days of the latest start event",
    ),
    Template(
        "refund_to_original_method",
        RefundParams,
        refund_to_original_method,
        "Refund to the original payment method",
    ),
    Template(
        "refund_full_amount", RefundParams, refund_full_amount, "Refund the amount actually paid"
    ),
    Template(
        "page_forbidden_phrases",
        ForbiddenPhraseParams,
        page_forbidden_phrases,
        "Saved pages do not contain forbidden wording",
    ),
]
