"""``riskkit orders``: inspect order exports and synthesise test data."""

from __future__ import annotations

import json
from pathlib import Path

import click

from riskkit.cli.common import echo_json, json_option, metrics_options
from riskkit.errors import InputError
from riskkit.orders.formats import FORMATS

__all__ = ["orders"]

_FORMAT_CHOICE = click.Choice(sorted(FORMATS))
_MAX_LISTED = 50


@click.group()
def orders() -> None:
    """Inspect order exports and synthesise labelled test data."""


@orders.command("check")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=_FORMAT_CHOICE, default=None, help="Skip header detection.")
@click.option(
    "--columns", type=click.Path(path_type=Path), default=None, help="Column-mapping YAML."
)
@json_option
@metrics_options
def check(
    inputs: tuple[Path, ...],
    fmt: str | None,
    columns: Path | None,
    as_json: bool,
    pushgateway: str | None,
    metrics_textfile: str | None,
    metrics_run: str | None,
) -> None:
    """Show the detected format, rows, date range, signals and every problem.

    Exits 2 when any row had to be quarantined.
    """
    from riskkit.metrics import RunMetrics
    from riskkit.orders.check import check_orders

    metrics = RunMetrics(
        "orders check", pushgateway=pushgateway, textfile=metrics_textfile, run_name=metrics_run
    )
    with metrics.run():
        report = check_orders(list(inputs), fmt=fmt, columns=columns, metrics=metrics)
    if as_json:
        echo_json(report)
    else:
        _render_check(report)
    if not report["ok"]:
        first = report["problems"][0]
        raise InputError(
            f"{first['reason']} ({first['value']!r}); "
            f"{len(report['problems'])} row(s) in all would be quarantined",
            file=first["file"],
            row=first["row"],
            column=first["column"],
        )


def _render_check(report: dict[str, object]) -> None:
    dates = report["date_range"]
    assert isinstance(dates, dict)
    click.echo(f"format:      {report['format']}")
    click.echo(f"files:       {', '.join(str(f) for f in report['files'])}")  # type: ignore[attr-defined]
    click.echo(
        f"rows:        {report['rows']} usable of {report['rows_read']} read "
        f"({report['orders']} orders, {report['buyers']} buyers)"
    )
    click.echo(f"date range:  {dates['start']} .. {dates['end']}")
    signals = report["signals"]
    assert isinstance(signals, dict)
    click.echo("signals:     " + ", ".join(s for s, ok in signals.items() if ok))
    click.echo("unavailable: " + (", ".join(s for s, ok in signals.items() if not ok) or "none"))
    masked = report["masked_values"]
    if masked:
        click.echo(f"masked:      {json.dumps(masked, ensure_ascii=False)} (read as unknown)")
    out_of_range = report["out_of_range_dates"]
    if out_of_range:
        click.echo(
            f"dates:       {json.dumps(out_of_range, ensure_ascii=False)} outside "
            "1677-09-22 .. 2262-04-11 (placeholders such as 9999-12-31, read as missing)"
        )
    problems = report["problems"]
    assert isinstance(problems, list)
    click.echo(f"problems:    {len(problems)}")
    for problem in problems[:_MAX_LISTED]:
        click.echo(
            f"  {problem['file']}, row {problem['row']}, column {problem['column']!r}: "
            f"{problem['reason']} ({problem['value']!r})"
        )
    if len(problems) > _MAX_LISTED:
        click.echo(f"  ... {len(problems) - _MAX_LISTED} more (use --json for all)")


@orders.command("formats")
@json_option
def formats(as_json: bool) -> None:
    """List the export formats riskkit reads and the headers that identify them."""
    from riskkit.orders.check import describe_formats

    described = describe_formats()
    if as_json:
        echo_json(described)
        return
    for spec in described:
        needs = f" (together with {spec['needs']})" if spec["needs"] else ""
        click.echo(f"{spec['name']:<14} {spec['title']}{needs}: {', '.join(spec['detected_by'])}")


@orders.command("mapping-schema")
def mapping_schema() -> None:
    """Print the JSON Schema of --columns mapping files (for editors)."""
    from riskkit.orders.mapping import ColumnMapping

    echo_json(ColumnMapping.model_json_schema())


@orders.command("synth")
@click.option(
    "--rows",
    type=click.IntRange(min=2000),
    default=None,
    help="Order lines to write  [default: 50000; 200000 for --world adversarial]",
)
@click.option("--seed", type=int, default=7, show_default=True)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["riskkit", "shopify", "taobao"]),
    default="riskkit",
    show_default=True,
)
@click.option(
    "--world",
    type=click.Choice(["standard", "adversarial"]),
    default="standard",
    show_default=True,
    help="standard: the detectors' reference marketplace; adversarial: the blind benchmark world.",
)
@click.option("--out", type=click.Path(path_type=Path), required=True)
@json_option
def synth(rows: int | None, seed: int, fmt: str, world: str, out: Path, as_json: bool) -> None:
    """Write a seeded synthetic marketplace export with labelled fraud and look-alikes."""
    from riskkit.synth import write_dataset

    if rows is None:
        rows = 200_000 if world == "adversarial" else 50_000
    summary = write_dataset(out, rows=rows, seed=seed, fmt=fmt, world=world)
    if as_json:
        echo_json(summary)
        return
    click.echo(f"wrote {fmt} export of the {world} world with {rows} order lines to {out}")
    for name in summary.get("files", []):
        click.echo(f"  {name}")
