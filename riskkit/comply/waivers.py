"""Waivers: an owner accepts a failing finding for a while, with a ticket and an expiry.

A waiver may run at most 90 days ahead of the day it is checked (longer is a
validation error).  An expired waiver no longer waives: the finding stays a
failure and shows the expired waiver beside it.  Waived findings stay in
every report and count.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from riskkit.comply.models import Finding
from riskkit.datafile import load_yaml_model
from riskkit.errors import InputError

__all__ = ["MAX_WAIVER_DAYS", "Waiver", "apply_waivers", "load_waivers"]

MAX_WAIVER_DAYS = 90


class Waiver(BaseModel):
    """One accepted risk: which rule and subject, who owns it, why, until when."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rule: str = Field(min_length=1)
    subject: str = Field(default="*", min_length=1, description="A finding subject, or '*'.")
    owner: str = Field(min_length=1)
    justification: str = Field(min_length=1)
    ticket: str = Field(min_length=1)
    expires: dt.date

    def expired(self, today: dt.date) -> bool:
        return self.expires < today

    def matches(self, finding: Finding) -> bool:
        return self.rule == finding.rule and self.subject in ("*", finding.subject)


class _WaiverFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    waivers: list[Waiver]


def load_waivers(path: str | Path, today: dt.date) -> list[Waiver]:
    """Read and validate a waiver file; an expiry more than 90 days after ``today`` is an error."""
    file = Path(path)
    if not file.is_file():
        raise InputError("waiver file not found", file=file)
    waivers = load_yaml_model(file, _WaiverFile, "waiver file").waivers
    limit = today + dt.timedelta(days=MAX_WAIVER_DAYS)
    for index, waiver in enumerate(waivers):
        if waiver.expires > limit:
            raise InputError(
                f"waiver for {waiver.rule} expires {waiver.expires}, more than "
                f"{MAX_WAIVER_DAYS} days after {today} (latest allowed {limit})",
                file=file,
                column=f"waivers.{index}.expires",
            )
    return waivers


def apply_waivers(findings: list[Finding], waivers: list[Waiver], today: dt.date) -> None:
    """Mark failing findings covered by a live waiver as ``waived`` (in place).

    The most specific waiver wins (an exact subject before ``*``).
    """
    ordered = sorted(waivers, key=lambda w: w.subject == "*")
    for finding in findings:
        if finding.status != "fail":
            continue
        waiver = next((w for w in ordered if w.matches(finding)), None)
        if waiver is None:
            continue
        record = waiver.model_dump(mode="json")
        if waiver.expired(today):
            record["expired"] = True
            finding.message += f" (waiver {waiver.ticket} expired {waiver.expires})"
        else:
            record["expired"] = False
            finding.status = "waived"
        finding.waiver = record
