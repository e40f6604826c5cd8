"""``riskkit drill``: rehearse incidents from runbooks (thin layer over riskkit_drills)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import click

from riskkit.cli.common import echo_json, json_option, metrics_options
from riskkit.errors import UsageError
from riskkit.metrics import RunMetrics

__all__ = ["drill"]

_TIERS = ("P0", "P1", "P2", "P3")
_MODES = ("tabletop", "simulated", "live")

runbooks_dir_option = click.option(
    "--runbooks-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="A folder of your own YAML runbooks (added to the shipped ones; same id replaces).",
)


@click.group()
def drill() -> None:
    """Incident drills: tabletop, simulated against the reference shop, or live on staging.

    Exit codes: 0 every target met, 3 a target missed (outputs written),
    4 aborted (stop condition, maximum duration, SIGTERM/Ctrl-C; rollbacks ran).
    """


@drill.command("run")
@click.argument("runbook")
@click.option("--tier", type=click.Choice(_TIERS), required=True, help="Severity tier to rehearse.")
@click.option("--mode", type=click.Choice(_MODES), default="simulated", show_default=True)
@click.option(
    "--target",
    metavar="URL",
    default=None,
    help="The shop to drill (default: start the reference shop on loopback).",
)
@click.option("--dry-run", is_flag=True, help="Print the plan and change nothing.")
@click.option("--execute", is_flag=True, help="Allow shell steps and live faults.")
@click.option("--allow-remote", is_flag=True, help="Allow a target that is not on loopback.")
@click.option(
    "--prometheus", metavar="URL", default=None, help="Prometheus for PromQL probes and steps."
)
@click.option(
    "--admin-token",
    envvar="RISKKIT_ADMIN_TOKEN",
    default=None,
    help="X-Admin-Token for a shop started with --admin-token (env RISKKIT_ADMIN_TOKEN).",
)
@click.option(
    "--auto-answer", is_flag=True, help="Answer every prompt with 'auto' (unattended CI drills)."
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output folder: journal.json, report.html.",
)
@runbooks_dir_option
@metrics_options
@json_option
def run_command(
    runbook: str,
    tier: str,
    mode: str,
    target: str | None,
    dry_run: bool,
    execute: bool,
    allow_remote: bool,
    prometheus: str | None,
    admin_token: str | None,
    auto_answer: bool,
    out_dir: Path | None,
    runbooks_dir: Path | None,
    pushgateway: str | None,
    metrics_textfile: str | None,
    metrics_run: str | None,
    as_json: bool,
) -> None:
    """Run RUNBOOK (an id from `riskkit drill list`, or a YAML file) at --tier."""
    from riskkit_drills import DrillOptions, ensure_targets_met, find_runbook, run_drill
    from riskkit_drills.drill_metrics import record_drill_metrics
    from riskkit_drills.engine import check_options
    from riskkit_drills.models import as_mode, as_tier
    from riskkit_drills.plan import describe_plan

    loaded = find_runbook(runbook, runbooks_dir)
    options = DrillOptions(
        tier=as_tier(tier),
        mode=as_mode(mode),
        out_dir=out_dir or Path("."),
        target=target,
        execute=execute,
        allow_remote=allow_remote,
        prometheus=prometheus,
        auto_answer=auto_answer,
        admin_token=admin_token,
    )
    if dry_run:
        check_options(loaded.runbook, options, dry_run=True)
        for line in describe_plan(loaded.runbook, options.tier, options.mode, target, execute):
            click.echo(line)
        return
    if out_dir is None:
        raise UsageError("--out DIR is required (journal.json and report.html go there)")
    metrics = RunMetrics(
        "drill",
        pushgateway=pushgateway,
        textfile=metrics_textfile,
        run_name=metrics_run or f"{loaded.runbook.id}:{options.tier}",
    )
    with metrics.run():
        result = run_drill(loaded, options)
        record_drill_metrics(metrics, result.journal)
        journal = result.journal
        if as_json:
            echo_json(journal.model_dump(mode="json"))
        else:
            click.echo(
                f"drill {journal.runbook['id']} {journal.tier} ({journal.mode}): {journal.outcome}"
            )
            for phase in journal.phases:
                unit = "orders" if phase.unit == "orders" else "s"
                measured = "not reached" if phase.seconds is None else f"{phase.seconds:.1f} {unit}"
                target_text = "—" if phase.target is None else f"{phase.target:g} {unit}"
                verdict = {True: "met", False: "MISSED", None: "no verdict"}[phase.met]
                if phase.met is None:
                    verdict = "no target" if phase.target is None else "not rehearsed"
                click.echo(
                    f"  {phase.phase:<24} {measured:>14}  target {target_text:<12} {verdict}"
                )
            for rollback in journal.rollbacks:
                click.echo(f"  rollback: {rollback.action}: {'ok' if rollback.ok else 'FAILED'}")
            click.echo(f"journal: {result.journal_path}")
            click.echo(f"report:  {result.report_path}")
        ensure_targets_met(journal, result.journal_path)


@drill.command("list")
@runbooks_dir_option
@json_option
def list_command(runbooks_dir: Path | None, as_json: bool) -> None:
    """List the runbooks (shipped and --runbooks-dir)."""
    from riskkit_drills import load_runbooks

    rows: list[dict[str, Any]] = [
        {
            "id": loaded.runbook.id,
            "title": loaded.runbook.title,
            "incident_type": loaded.runbook.incident_type,
            "modes": loaded.runbook.modes(),
            "steps": len(loaded.runbook.steps),
            "source": str(loaded.source),
        }
        for loaded in load_runbooks(runbooks_dir).values()
    ]
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        click.echo(
            f"{row['id']:<28} {','.join(row['modes']):<26} {row['steps']:>2} steps  {row['title']}"
        )


@drill.command("plan")
@click.option("--quarter", required=True, help="Quarter to plan, e.g. 2026Q4.")
@click.option(
    "--promotion",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The promotion to prepare for (default: the next 618 or 双11).",
)
@click.option(
    "--freeze-days",
    type=click.IntRange(0, 60),
    default=7,
    show_default=True,
    help="No drills this many days before the promotion.",
)
@click.option("--per-day", type=click.IntRange(1, 10), default=2, show_default=True)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write calendar.csv and calendar.ics here.",
)
@runbooks_dir_option
@json_option
def plan_command(
    quarter: str,
    promotion: dt.datetime | None,
    freeze_days: int,
    per_day: int,
    out_dir: Path | None,
    runbooks_dir: Path | None,
    as_json: bool,
) -> None:
    """A drill calendar covering every runbook and tier before the next big promotion."""
    from riskkit.atomic import write_csv_rows, write_text
    from riskkit_drills import load_runbooks
    from riskkit_drills.quarter_plan import drill_calendar, ics_calendar

    runbooks = [loaded.runbook for loaded in load_runbooks(runbooks_dir).values()]
    schedule = drill_calendar(
        runbooks,
        quarter,
        promotion=promotion.date() if promotion else None,
        freeze_days=freeze_days,
        per_day=per_day,
    )
    rows = [
        [d.date.isoformat(), d.runbook, d.tier, d.mode, d.promotion, d.command()] for d in schedule
    ]
    header = ["date", "runbook", "tier", "mode", "promotion", "command"]
    if out_dir is not None:
        write_csv_rows(out_dir / "calendar.csv", header, rows)
        write_text(out_dir / "calendar.ics", ics_calendar(schedule, dt.datetime.now(dt.UTC)))
    if as_json:
        echo_json([dict(zip(header, row, strict=True)) for row in rows])
        return
    for row in rows:
        click.echo(f"{row[0]}  {row[1]:<28} {row[2]}  {row[3]:<9}  before {row[4]}")


@drill.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of a runbook (the committed runbook.schema.json)."""
    from riskkit_drills import runbook_json_schema

    click.echo(runbook_json_schema(), nl=False)


@drill.command("report")
@click.argument("journal_path", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="HTML file (default: report.html beside the journal).",
)
def report_command(journal_path: Path, out_path: Path | None) -> None:
    """Re-render report.html from a drill's JOURNAL.json."""
    from riskkit_drills import read_journal
    from riskkit_drills.render import render_report

    journal = read_journal(journal_path)
    path = render_report(journal, out_path or journal_path.with_name("report.html"))
    click.echo(str(path))
