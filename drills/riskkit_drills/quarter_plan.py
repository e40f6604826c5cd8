"""The quarter's drill calendar: every runbook at every tier, before the next
big promotion.

Drills are scheduled on working days between the start of the quarter and
a change freeze before the promotion (618 on 18 June, 双11 on 11 November),
skipping the national holidays whose dates are fixed (New Year's Day,
Labour Day week, National Day week; the lunar holidays move every year and
can be passed as ``skip_days``).  P0 drills come first so that their action
items can be fixed and re-drilled before the promotion.  P0/P1 drills are
simulated when the runbook can be simulated, P2/P3 are tabletop exercises.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from riskkit.errors import UsageError
from riskkit_drills.models import TIERS, Mode, Runbook, Tier

__all__ = ["PROMOTIONS", "ScheduledDrill", "drill_calendar", "ics_calendar", "parse_quarter"]

# (month, day, name) of the big promotions a drill calendar prepares for
PROMOTIONS: tuple[tuple[int, int, str], ...] = ((6, 18, "618"), (11, 11, "双11"))
_FIXED_HOLIDAYS: tuple[tuple[int, int, int], ...] = (
    (1, 1, 1),  # 元旦
    (5, 1, 5),  # 劳动节
    (10, 1, 7),  # 国庆节
)


@dataclass(frozen=True)
class ScheduledDrill:
    date: dt.date
    runbook: str
    title: str
    tier: Tier
    mode: Mode
    promotion: str

    def command(self) -> str:
        return f"riskkit drill run {self.runbook} --tier {self.tier} --mode {self.mode} --out drills/{self.date}-{self.runbook}-{self.tier}"


def parse_quarter(text: str) -> tuple[dt.date, dt.date]:
    """``2026Q4`` -> (2026-10-01, 2026-12-31)."""
    match = re.fullmatch(r"(\d{4})[-\s]?[Qq]([1-4])", text.strip())
    if match is None:
        raise UsageError(f"--quarter must look like 2026Q4, got {text!r}")
    year, quarter = int(match.group(1)), int(match.group(2))
    start = dt.date(year, 3 * quarter - 2, 1)
    end = dt.date(year + 1, 1, 1) if quarter == 4 else dt.date(year, 3 * quarter + 1, 1)
    return start, end - dt.timedelta(days=1)


def next_promotion(after: dt.date) -> tuple[dt.date, str]:
    candidates = [
        (dt.date(year, month, day), name)
        for year in (after.year, after.year + 1)
        for month, day, name in PROMOTIONS
    ]
    return min((c for c in candidates if c[0] > after), key=lambda c: c[0])


def _holiday(day: dt.date) -> bool:
    return any(
        day.month == month and first <= day.day < first + length
        for month, first, length in _FIXED_HOLIDAYS
    )


def working_days(start: dt.date, end: dt.date, skip_days: frozenset[dt.date]) -> list[dt.date]:
    days: list[dt.date] = []
    day = start
    while day <= end:
        if day.weekday() < 5 and not _holiday(day) and day not in skip_days:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def _mode_for(runbook: Runbook, tier: Tier) -> Mode:
    if tier in ("P0", "P1") and "simulated" in runbook.modes():
        return "simulated"
    return "tabletop"


def drill_calendar(
    runbooks: list[Runbook],
    quarter: str,
    promotion: dt.date | None = None,
    freeze_days: int = 7,
    per_day: int = 2,
    skip_days: frozenset[dt.date] = frozenset(),
) -> list[ScheduledDrill]:
    """Schedule every (runbook, tier) pair inside the quarter, before the promotion."""
    start, end = parse_quarter(quarter)
    if promotion is None:
        promotion, name = next_promotion(start - dt.timedelta(days=1))
    else:
        name = promotion.isoformat()
    last = min(end, promotion - dt.timedelta(days=freeze_days + 1))
    days = working_days(start, last, skip_days)
    pairs = [(tier, runbook) for tier in TIERS for runbook in sorted(runbooks, key=lambda r: r.id)]
    if len(pairs) > len(days) * per_day:
        raise UsageError(
            f"{len(pairs)} drills do not fit in {len(days)} working days between {start} and "
            f"{last} at {per_day} a day: raise --per-day or plan an earlier quarter"
        )
    schedule: list[ScheduledDrill] = []
    # spread evenly: drill i goes to day floor(i * days / pairs) (never two the same day
    # when there are enough days, at most per_day otherwise)
    for index, (tier, runbook) in enumerate(pairs):
        day = days[min(len(days) - 1, index * len(days) // len(pairs))]
        schedule.append(
            ScheduledDrill(day, runbook.id, runbook.title, tier, _mode_for(runbook, tier), name)
        )
    return schedule


def _ics_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def ics_calendar(schedule: list[ScheduledDrill], stamp: dt.datetime) -> str:
    """An iCalendar file (all-day events) for the team's calendar."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//riskkit//drill plan//EN"]
    for drill in schedule:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{drill.date:%Y%m%d}-{drill.runbook}-{drill.tier}@riskkit",
            f"DTSTAMP:{stamp:%Y%m%dT%H%M%SZ}",
            f"DTSTART;VALUE=DATE:{drill.date:%Y%m%d}",
            f"SUMMARY:{_ics_text(f'Drill {drill.runbook} {drill.tier} ({drill.mode})')}",
            f"DESCRIPTION:{_ics_text(drill.title + ' before ' + drill.promotion + ': ' + drill.command())}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"
