"""``riskkit detect <detector>|all INPUT... --out DIR``.

Subcommands are built from the ``riskkit.detectors`` entry points, so an
installed third-party detector gets its own subcommand and its declared
:class:`~riskkit.detection.DetectorOption` flags.  A detector whose module
fails to import is reported and skipped by ``all``; naming it exits 2.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

import click

from riskkit.cli.common import (
    echo_json,
    fail_on_option,
    json_option,
    metrics_options,
    show_pii_option,
    styled,
)
from riskkit.detect import DetectGateFailed, DetectRunSummary, run_detectors
from riskkit.detect.engine import ENGINES, EngineOptions
from riskkit.detection import ENTRY_POINT_GROUP, Detector, DetectorOption, available_detectors
from riskkit.errors import UsageError
from riskkit.metrics import RunMetrics

__all__ = ["detect"]

log = logging.getLogger(__name__)


def _load_class(name: str) -> type[Detector] | str:
    """The detector class, or why it cannot be loaded."""
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name != name:
            continue
        try:
            cls = ep.load()
        except Exception as exc:  # a broken plugin must not break the other detectors
            return f"cannot import {ep.value}: {type(exc).__name__}: {exc}"
        if isinstance(cls, type) and issubclass(cls, Detector):
            return cls
        return f"{ep.value} is not a riskkit Detector subclass"
    return "not installed"


def _common_options(func: Callable[..., Any]) -> Callable[..., Any]:
    decorators = [
        click.argument("inputs", nargs=-1, required=True, type=click.Path()),
        click.option(
            "--out",
            "out_dir",
            required=True,
            type=click.Path(file_okay=False),
            help="Output folder.",
        ),
        click.option(
            "--format",
            "fmt",
            default=None,
            help="Export format (riskkit, shopify, taobao, ...); detected when omitted.",
        ),
        click.option(
            "--columns",
            type=click.Path(dir_okay=False, exists=True),
            default=None,
            help="Column-mapping YAML for exports the readers do not know.",
        ),
        click.option("--since", default=None, help="Only orders created at or after this time."),
        click.option(
            "--until",
            default=None,
            help="Only orders created at or before this time (a date includes the whole day).",
        ),
        fail_on_option,
        show_pii_option,
        click.option(
            "--engine",
            type=click.Choice(ENGINES),
            default="pandas",
            show_default=True,
            help="Where the work runs: this process, or a Dask cluster (pip install 'riskkit[dask]').",
        ),
        click.option(
            "--scheduler",
            default=None,
            metavar="ADDRESS",
            help="Dask scheduler to use (tcp://HOST:8786); without it a local cluster is started.",
        ),
        click.option(
            "--workers",
            type=click.IntRange(min=1),
            default=2,
            show_default=True,
            help="Worker processes of the local Dask cluster (one thread each).",
        ),
        click.option(
            "--memory-limit",
            default=None,
            metavar="SIZE",
            help="Memory limit per local Dask worker (4GB, 0.4 = share of RAM) [default: RAM/workers].",
        ),
        metrics_options,
        json_option,
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def _detector_option(option: DetectorOption) -> Callable[[Callable[..., Any]], Any]:
    param = option.name
    if option.type is bool:
        flag = option.cli_flag
        return click.option(
            f"{flag}/--no-{flag.removeprefix('--')}",
            param,
            default=bool(option.default),
            show_default=True,
            help=option.help,
        )
    return click.option(
        option.cli_flag,
        param,
        type=option.type,
        default=None,
        help=f"{option.help} [default: {option.default}]",
    )


def _render(summary: DetectRunSummary, as_json: bool) -> None:
    payload = summary.as_dict()
    if as_json:
        echo_json(payload)
        return
    click.echo(
        f"{payload['orders']} orders from {len(payload['inputs'])} file(s) "
        f"({payload['format']}), {payload['rejected_rows']} rows rejected"
    )
    engine = payload["engine"]
    if engine["name"] != "pandas":
        click.echo(
            f"engine {engine['name']}: {engine.get('workers', '?')} workers "
            f"({engine.get('scheduler', 'local')}), {engine.get('partitions', 1)} partitions"
        )
    for name, info in payload["detectors"].items():
        severity = info["max_severity"] or "none"
        colour = {"high": "red", "medium": "yellow"}.get(severity)
        line = (
            f"{name}: {info['flagged_orders']} orders flagged in {info['groups']} groups, "
            f"max severity {severity}"
        )
        click.echo(styled(line, fg=colour) if colour else line)
        for check, reason in info["signals_unavailable"].items():
            click.echo(f"  unavailable: {check} ({reason})", err=True)
    click.echo(f"outputs in {summary.out_dir}")


def _run(
    names: list[str], kwargs: dict[str, Any], params: dict[str, dict[str, Any]], run: str
) -> None:
    metrics = RunMetrics(
        f"detect {run}",
        kwargs["pushgateway"],
        kwargs["metrics_textfile"],
        run_name=kwargs["metrics_run"] or run,
    )
    try:
        summary = run_detectors(
            names,
            kwargs["inputs"],
            kwargs["out_dir"],
            fmt=kwargs["fmt"],
            columns=kwargs["columns"],
            since=kwargs["since"],
            until=kwargs["until"],
            fail_on=kwargs["fail_on"],
            show_pii=kwargs["show_pii"],
            params=params,
            metrics=metrics,
            engine=EngineOptions(
                kwargs["engine"],
                kwargs["scheduler"],
                kwargs["workers"],
                kwargs["memory_limit"],
            ),
        )
    except DetectGateFailed as gate:
        _render(gate.summary, kwargs["as_json"])  # results first, then the exit code
        raise
    _render(summary, kwargs["as_json"])


def _detector_command(name: str, cls: type[Detector]) -> click.Command:
    option_names = [o.name for o in cls.options]

    def callback(**kwargs: Any) -> None:
        params = {k: kwargs.pop(k) for k in option_names}
        _run([name], kwargs, {name: {k: v for k, v in params.items() if v is not None}}, name)

    callback = _common_options(callback)
    for option in reversed(cls.options):
        callback = _detector_option(option)(callback)
    doc = (cls.description or (cls.__doc__ or "").strip().split("\n")[0]).strip()
    return click.command(name, help=doc, short_help=doc[:80])(callback)


def _all_command() -> click.Command:
    def callback(**kwargs: Any) -> None:
        names: list[str] = []
        for name in sorted(available_detectors()):
            loaded = _load_class(name)
            if isinstance(loaded, str):
                click.echo(f"riskkit: warning: skipping detector {name}: {loaded}", err=True)
                continue
            names.append(name)
        if not names:
            raise UsageError("no detector could be loaded")
        _run(names, kwargs, {}, "all")

    return click.command(
        "all", help="Run every installed detector (each with its default parameters)."
    )(_common_options(callback))


def _unavailable_command(name: str, reason: str) -> click.Command:
    """Stands in for a detector that cannot be imported: ``--help`` still lists
    it; running it exits 2 with the import error."""

    def callback(args: tuple[str, ...]) -> None:
        raise UsageError(f"detector {name} is unavailable: {reason}")

    return click.command(
        name,
        help=f"UNAVAILABLE: {reason}",
        short_help="unavailable (failed to import)",
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    )(click.argument("args", nargs=-1, type=click.UNPROCESSED)(callback))


class DetectorGroup(click.Group):
    """Subcommands are the registered detectors plus ``all``."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*sorted(available_detectors()), "all"]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name == "all":
            return _all_command()
        if cmd_name not in available_detectors():
            return None
        loaded = _load_class(cmd_name)
        if isinstance(loaded, str):
            return _unavailable_command(cmd_name, loaded)
        return _detector_command(cmd_name, loaded)


@click.group("detect", cls=DetectorGroup)
def detect() -> None:
    """Find fake orders and abuse rings in an order export.

    Writes OUT/<detector>/scores.csv, findings.csv, findings.jsonl, and
    OUT/summary.json and OUT/report.html.  Exit 3 with --fail-on when findings
    at or above that severity exist (outputs are written first).
    """
