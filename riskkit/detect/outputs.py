"""Writing a detect run's files: per-detector tables, summary.json, report.html.

Every file goes through :mod:`riskkit.atomic`; every table is PII-masked
(:func:`riskkit.pii.mask_frame`) unless ``--show-pii``.  Detectors build
their ``reasons`` text themselves and mask the identifiers in it the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from markupsafe import Markup

from riskkit.atomic import write_csv_frame, write_json, write_jsonl
from riskkit.pii import PII_COLUMNS, mask_frame, mask_value
from riskkit.report import render_html, write_report

if TYPE_CHECKING:
    from riskkit.detect.runner import DetectorRun
    from riskkit.detection import DetectionResult

__all__ = [
    "mask_finding",
    "write_detector_outputs",
    "write_rejected",
    "write_run_report",
    "write_summary",
]

RUN_REPORT_TEMPLATE = "detect_report.html"


def mask_finding(row: Mapping[str, Any], show_pii: bool) -> dict[str, Any]:
    """Mask PII fields of one JSONL finding (top level, by column name)."""
    out = dict(row)
    if show_pii:
        return out
    for key, kind in PII_COLUMNS.items():
        if key in out and isinstance(out[key], str):
            out[key] = mask_value(kind, out[key])
    return out


def write_detector_outputs(out_dir: Path, result: DetectionResult, show_pii: bool) -> None:
    """``OUT/<detector>/<table>`` for every table, and ``findings.jsonl``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for file_name, table in result.tables.items():
        write_csv_frame(out_dir / file_name, mask_frame(table, show_pii))
    write_jsonl(out_dir / "findings.jsonl", (mask_finding(r, show_pii) for r in result.findings))


def write_rejected(path: Path, rejected: pd.DataFrame, show_pii: bool) -> None:
    """Quarantined rows, masked: ``source:ship_phone`` is a phone like ``ship_phone``,
    and a rejected ``value`` is masked by the kind of its ``column``."""
    out = mask_frame(rejected, show_pii)
    if show_pii:
        write_csv_frame(path, out)
        return
    for column in out.columns:
        kind = PII_COLUMNS.get(str(column).rsplit(":", 1)[-1])
        if kind is not None and str(column) not in PII_COLUMNS:
            out[column] = pd.Series(
                [mask_value(kind, v) for v in out[column].astype(object)],
                index=out.index,
                dtype=object,
            )
    if {"column", "value"} <= set(out.columns):
        kinds = out["column"].map(lambda c: PII_COLUMNS.get(str(c)))
        out["value"] = pd.Series(
            [
                mask_value(k, v) if isinstance(k, str) else v
                for k, v in zip(kinds, out["value"].astype(object), strict=True)
            ],
            index=out.index,
            dtype=object,
        )
    write_csv_frame(path, out)


def write_summary(path: Path, summary: Mapping[str, Any]) -> None:
    write_json(path, summary)


def write_run_report(
    path: Path,
    summary: Mapping[str, Any],
    runs: Mapping[str, DetectorRun],
    show_pii: bool,
) -> None:
    """One report: the run's inputs and signals, then each detector's sections.

    A section template is rendered with its own context (autoescaped) and
    embedded in ``detect_report.html`` as markup.
    """
    sections: list[dict[str, Any]] = []
    for name, run in runs.items():
        rendered = [
            {
                "title": section.title,
                "html": Markup(  # noqa: S704 - rendered by an autoescaping environment
                    render_html(section.template, {**section.context, "detector": name}, show_pii)
                ),
            }
            for section in run.result.sections
        ]
        sections.append(
            {
                "name": name,
                "flagged_orders": run.flagged_orders,
                "groups": run.groups,
                "severity_counts": run.severity_counts(),
                "max_severity": run.result.max_severity() or "none",
                "seconds": run.seconds,
                "unavailable": sorted(run.result.unavailable.items()),
                "sections": rendered,
            }
        )
    context = {"summary": summary, "detectors": sections}
    write_report(path, RUN_REPORT_TEMPLATE, context, show_pii=show_pii)
