"""Options and helpers shared by every command group."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from riskkit.metrics import PUSHGATEWAY_ENV

__all__ = [
    "SEVERITIES",
    "echo_json",
    "fail_on_option",
    "json_option",
    "metrics_options",
    "progress_enabled",
    "show_pii_option",
    "styled",
]

F = TypeVar("F", bound=Callable[..., Any])

SEVERITIES = ("low", "medium", "high")


def metrics_options(func: F) -> F:
    """``--pushgateway URL``, ``--metrics-run NAME`` and ``--metrics-textfile PATH.prom``
    for batch commands."""
    func = click.option(
        "--metrics-run",
        default=None,
        metavar="NAME",
        help="Pushgateway group label `run` (default: what the run covers, e.g. the "
        "detector, policy, runbook:tier or scenario). Runs with different names keep "
        "their own series.",
    )(func)
    func = click.option(
        "--metrics-textfile",
        type=click.Path(dir_okay=False),
        default=None,
        help="Write metrics for node_exporter's textfile collector (PATH must end in .prom).",
    )(func)
    func = click.option(
        "--pushgateway",
        envvar=PUSHGATEWAY_ENV,
        default=None,
        metavar="URL",
        help=f"Push metrics to this Prometheus Pushgateway at the end of the run (env {PUSHGATEWAY_ENV}).",
    )(func)
    return func


def show_pii_option(func: F) -> F:
    return click.option(
        "--show-pii",
        is_flag=True,
        default=False,
        help="Do not mask personal data in reports and exports (recorded in the report header).",
    )(func)


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")(
        func
    )


def fail_on_option(func: F) -> F:
    return click.option(
        "--fail-on",
        type=click.Choice(SEVERITIES),
        default=None,
        help="Exit 3 when findings at or above this severity exist.",
    )(func)


def echo_json(payload: Any) -> None:
    click.echo(json.dumps(payload, ensure_ascii=False, indent=2, default=str))


def color_enabled() -> bool:
    return "NO_COLOR" not in os.environ and sys.stdout.isatty()


def styled(text: str, **style: Any) -> str:
    return click.style(text, **style) if color_enabled() else text


def progress_enabled(quiet: bool = False) -> bool:
    """Progress bars only on an interactive stderr, never with --quiet."""
    return not quiet and sys.stderr.isatty()
