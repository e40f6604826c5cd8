"""``report.html`` from a journal: the timeline chart (steps as bars, T0-T4
as lines), targets met or missed, steps, rollbacks, stop conditions,
deviations and action items.  ``riskkit drill report`` re-renders it from a
journal alone."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from markupsafe import Markup

from riskkit.report import line_svg, write_report
from riskkit_drills.journal import Journal

__all__ = ["render_report", "timeline_svg"]

_STATUS_COLOURS = {
    "ok": "#55a868",
    "failed": "#c44e52",
    "error": "#8c1c13",
    "no_answer": "#dd8452",
    "aborted": "#937860",
    "skipped": "#bbbbbb",
}


def _label_groups(journal: Journal) -> list[tuple[float, str]]:
    """Milestones closer than 4 % of the drill's length share one label ("T1 T2")."""
    if not journal.milestones:
        return []
    span = max([m.offset_s for m in journal.milestones] + [journal.duration_s or 0.0, 1e-9])
    groups: list[tuple[float, list[str]]] = []
    for milestone in sorted(journal.milestones, key=lambda m: m.offset_s):
        short = milestone.name if milestone.name.startswith("T") else milestone.label
        if groups and milestone.offset_s - groups[-1][0] < 0.04 * span:
            groups[-1][1].append(short)
        else:
            groups.append((milestone.offset_s, [short]))
    return [(x, " ".join(names)) for x, names in groups]


def timeline_svg(journal: Journal) -> Markup:
    """A Gantt chart of the steps with the incident milestones drawn across it."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    plt.rcParams["svg.fonttype"] = "none"
    plt.rcParams["font.family"] = ["DejaVu Sans", "sans-serif"]
    steps = journal.steps
    height = max(1.8, 0.32 * len(steps) + 1.0)
    fig, ax = plt.subplots(figsize=(8.0, height))
    try:
        for row, step in enumerate(steps):
            width = max(step.duration_s, 0.02)
            ax.barh(
                row,
                width,
                left=step.started_offset_s,
                color=_STATUS_COLOURS.get(step.status, "#4c72b0"),
            )
        for milestone in journal.milestones:
            ax.axvline(milestone.offset_s, color="#4c72b0", linestyle="--", linewidth=0.9)
        right = max((m.offset_s for m in journal.milestones), default=0.0)
        for x, names in _label_groups(journal):
            align = "right" if right and x >= right else "center"  # keep the last label inside
            ax.text(x, -0.8, names, fontsize=7, color="#4c72b0", ha=align, clip_on=False)
        ax.set_yticks(range(len(steps)), [s.id for s in steps], fontsize=7)
        ax.invert_yaxis()
        ax.set_xlabel("seconds since the drill started")
        ax.set_title(f"{journal.runbook['id']} {journal.tier} ({journal.mode})", pad=14)
        fig.tight_layout()
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg")
    finally:
        plt.close(fig)
    svg = buffer.getvalue()
    # matplotlib escapes its text labels; the SVG carries no scripts
    return Markup(svg[svg.find("<svg") :])  # noqa: S704


def _traffic_svg(journal: Journal) -> Markup | None:
    traffic = journal.traffic
    if traffic is None or not traffic.seconds:
        return None
    return line_svg(
        traffic.seconds,
        {
            "orders confirmed / s": [float(v) for v in traffic.confirmed_per_second],
            "checkouts failed / s": [float(v) for v in traffic.failed_per_second],
        },
        "Load run during the drill (red: fault injected and recovered)",
        marks=[m.offset_s for m in journal.milestones if m.name in ("T0", "T4")],
        ylabel="per second",
    )


def report_context(journal: Journal) -> dict[str, Any]:
    return {
        "journal": journal,
        "timeline": timeline_svg(journal) if journal.steps else None,
        "traffic_chart": _traffic_svg(journal),
    }


def render_report(journal: Journal, path: Path) -> Path:
    return write_report(path, "drill_report.html", report_context(journal))
