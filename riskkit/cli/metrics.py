"""``riskkit metrics``: what riskkit exports, as a catalogue, alerting rules and a
Grafana dashboard (thin: parse, call riskkit.monitoring, print or write)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from riskkit.cli.common import echo_json, json_option
from riskkit.monitoring.catalogue import BATCH_COMMANDS

__all__ = ["metrics"]

F = TypeVar("F", bound=Callable[..., Any])


def _shared_options(func: F) -> F:
    """``--stale-hours``, ``--selector`` and ``--out``: the same in rules and dashboard."""
    func = click.option(
        "--out",
        "out_file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Write to FILE (atomically) instead of stdout.",
    )(func)
    func = click.option(
        "--selector",
        "selectors",
        multiple=True,
        metavar='LABEL="VALUE"',
        help='Label matcher added to every query, e.g. env="prod" (repeatable; =, !=, =~, !~).',
    )(func)
    func = click.option(
        "--stale-hours",
        type=int,
        default=26,
        show_default=True,
        help="A job without a successful run for this long is stale (26 = daily plus slack).",
    )(func)
    return func


def _emit(text: str, out_file: Path | None) -> None:
    if out_file is None:
        click.echo(text, nl=not text.endswith("\n"))
        return
    from riskkit.atomic import write_text

    write_text(out_file, text)
    click.echo(f"wrote {out_file}", err=True)


@click.group()
def metrics() -> None:
    """Prometheus alerting rules and a Grafana dashboard for what riskkit exports."""


@metrics.command("rules")
@_shared_options
@click.option(
    "--stale-job",
    "stale_jobs",
    multiple=True,
    type=click.Choice(list(BATCH_COMMANDS)),
    help="Command group whose staleness to alert on (repeatable; default: detect).",
)
@click.option(
    "--for",
    "for_duration",
    default="5m",
    show_default=True,
    metavar="DURATION",
    help="How long a condition must hold before an alert fires (0s: at once).",
)
@click.option(
    "--flagged-factor",
    type=float,
    default=2.0,
    show_default=True,
    help="Flagged orders above this multiple of their weekly average are a jump.",
)
@click.option(
    "--flagged-min",
    type=int,
    default=20,
    show_default=True,
    help="Ignore jumps below this many flagged orders.",
)
@click.option(
    "--baseline",
    default="7d",
    show_default=True,
    metavar="DURATION",
    help="Look-back window for the flagged-orders average and rising compliance findings.",
)
@click.option("--group", default="riskkit", show_default=True, help="Rule group name.")
def rules_command(
    stale_hours: int,
    selectors: tuple[str, ...],
    out_file: Path | None,
    stale_jobs: tuple[str, ...],
    for_duration: str,
    flagged_factor: float,
    flagged_min: int,
    baseline: str,
    group: str,
) -> None:
    """Print Prometheus alerting rules (YAML, for rule_files): stale jobs, flagged-order
    jumps, failing load-test gates, missed drill targets, rising compliance findings."""
    from riskkit.monitoring import RuleOptions, Scope, render_rules

    options = RuleOptions(
        stale_hours=stale_hours,
        stale_jobs=stale_jobs or ("detect",),
        for_duration=for_duration,
        flagged_factor=flagged_factor,
        flagged_min=flagged_min,
        baseline=baseline,
        scope=Scope.parse(selectors),
        group=group,
    )
    _emit(render_rules(options), out_file)


@metrics.command("dashboard")
@_shared_options
@click.option("--title", default="riskkit", show_default=True, help="Dashboard title.")
@click.option("--uid", default="riskkit", show_default=True, help="Dashboard uid (stable URL).")
@click.option(
    "--datasource",
    default=None,
    metavar="NAME",
    help="Prometheus data source selected by default (else Grafana's default one).",
)
def dashboard_command(
    stale_hours: int,
    selectors: tuple[str, ...],
    out_file: Path | None,
    title: str,
    uid: str,
    datasource: str | None,
) -> None:
    """Print a Grafana dashboard (JSON) over every metric riskkit exports."""
    from riskkit.monitoring import DashboardOptions, Scope, grafana_dashboard

    options = DashboardOptions(
        title=title,
        uid=uid,
        datasource=datasource,
        stale_hours=stale_hours,
        scope=Scope.parse(selectors),
    )
    text = json.dumps(grafana_dashboard(options), ensure_ascii=False, indent=2)
    _emit(text + "\n", out_file)


@metrics.command("list")
@json_option
def list_command(as_json: bool) -> None:
    """List every metric riskkit exports: name, type, labels, the command exporting it."""
    from riskkit.monitoring import CATALOGUE

    if as_json:
        echo_json([family.to_json() for family in CATALOGUE])
        return
    for family in CATALOGUE:
        labels = ",".join(family.labels)
        where = family.command + (f" (only when {family.only_when})" if family.only_when else "")
        click.echo(f"{' '.join(family.series):<60} {family.kind:<9} {{{labels}}}  {where}")
