"""The contract of a check template: typed parameters in, outcomes out."""

from __future__ import annotations

import datetime as dt
import functools
import gc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from riskkit.comply.evidence import Evidence
from riskkit.comply.models import Outcome

__all__ = [
    "CheckContext",
    "Params",
    "Template",
    "clean",
    "day",
    "not_applicable",
    "records",
    "rows_of",
    "unknown_value",
    "without_gc",
]


class Params(BaseModel):
    """Base of every template's parameter model (unknown keys are an error)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


P = TypeVar("P", bound=Params)


@dataclass(frozen=True)
class CheckContext(Generic[P]):
    """What a check sees: the evidence, its parameters, the rule's effective date."""

    evidence: Evidence
    params: P
    effective: dt.date
    as_of: dt.datetime

    @property
    def effective_ts(self) -> pd.Timestamp:
        return pd.Timestamp(self.effective)


@dataclass(frozen=True)
class Template(Generic[P]):
    """A named, parameterised check: one function serves every jurisdiction's variant."""

    name: str
    params_model: type[P]
    run: Callable[[CheckContext[P]], list[Outcome]]
    description: str

    def parse_params(self, raw: dict[str, Any]) -> P:
        return self.params_model.model_validate(raw)


def clean(value: Any) -> Any:
    """A JSON-friendly scalar (timestamps as ISO text, NaN/NaT/NA as None); fast on plain types."""
    kind = type(value)
    if value is None or kind is str or kind is bool or kind is int:
        return value
    if kind is float:
        return None if value != value else value
    if value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat(sep=" ")
    if isinstance(value, np.generic):
        return clean(value.item())
    return value


def day(value: Any) -> str | None:
    """The calendar day of a timestamp as ``YYYY-MM-DD``."""
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    return pd.Timestamp(value).strftime("%Y-%m-%d")


def rows_of(frame: pd.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
    """Evidence rows (with their file row numbers) as JSON-friendly dicts."""
    return [
        {c: clean(v) for c, v in zip(["file_row", *columns], values, strict=True)}
        for values in frame[["file_row", *columns]].itertuples(index=False, name=None)
    ]


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain dicts (fast, and typed loosely on purpose: cells are checked by use)."""
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def without_gc(
    check: Callable[[CheckContext[P]], list[Outcome]],
) -> Callable[[CheckContext[P]], list[Outcome]]:
    """``check`` with Python's cyclic garbage collector paused while it runs.

    A check over a 1M-SKU catalogue builds millions of small dicts and outcomes,
    none of them in reference cycles; each allocation burst triggered collections
    that scan the whole growing heap (2.0 s of the 2.7 s it took to build 1M
    outcomes).  The previous state is restored afterwards, also on error.
    """

    @functools.wraps(check)
    def run(ctx: CheckContext[P]) -> list[Outcome]:
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return check(ctx)
        finally:
            if was_enabled:
                gc.enable()

    return run


def not_applicable(message: str) -> list[Outcome]:
    return [Outcome(subject="*", status="not_applicable", message=message)]


def unknown_value(
    subject: str, column: str, value: object, domain: str, evidence: dict[str, Any]
) -> Outcome:
    """``not_checked``: the evidence holds a value no policy file's wordings know."""
    text = clean(value)
    what = (
        f"{column} is blank"
        if text is None or str(text).strip() == ""
        else f"{column} {str(text)!r} is not a wording riskkit knows"
    )
    return Outcome(
        subject=subject,
        status="not_checked",
        evidence=evidence,
        message=f"{what}; add it under wordings.{domain} in a policy file (--policies-dir)",
    )
