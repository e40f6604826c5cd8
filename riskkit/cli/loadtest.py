"""``riskkit loadtest``: open-model Locust load tests with SLO gates (thin CLI).

Nothing here imports locust or gevent: the engine in ``riskkit_loadtests`` runs Locust
in subprocesses.  Exit codes: 0 pass, 3 an SLO gate breached, 4 the run can't be
trusted (generator saturated, generator crashed, hard time cap).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import click

from riskkit.cli.common import echo_json, json_option, metrics_options
from riskkit.errors import UsageError

__all__ = ["loadtest"]

SCENARIO_CHOICES = ("checkout", "flash-sale", "double11", "retry-storm")


def _run_options(func: Any) -> Any:
    """Options shared by ``run``, ``master`` and ``capacity``."""
    options = [
        click.option(
            "--target",
            metavar="URL",
            help="Shop base URL (default: start the reference shop on loopback).",
        ),
        click.option(
            "--scenario", type=click.Choice(SCENARIO_CHOICES), default="checkout", show_default=True
        ),
        click.option(
            "--slo",
            "slo_file",
            type=click.Path(dir_okay=False, exists=True),
            help="SLO gates (YAML).",
        ),
        click.option(
            "--slo-p95",
            multiple=True,
            metavar="STEP=LATENCY",
            help="p95 gate, e.g. checkout=500ms ('*' = every step).",
        ),
        click.option(
            "--slo-p99", multiple=True, metavar="STEP=LATENCY", help="p99 gate, e.g. pay=800ms."
        ),
        click.option(
            "--slo-error-rate",
            multiple=True,
            metavar="STEP=RATIO",
            help="Error-rate gate, e.g. '*'=0.01.",
        ),
        click.option(
            "--slo-check",
            multiple=True,
            metavar="CHECK=RATIO",
            help="Business-check pass ratio, e.g. payment_idempotent=1.",
        ),
        click.option(
            "--slo-min-rate",
            type=float,
            metavar="RATIO",
            help="Minimum achieved/target arrival rate, e.g. 0.95.",
        ),
        click.option(
            "--slo-max-dropped",
            type=float,
            metavar="RATIO",
            help="Maximum dropped/scheduled iterations.",
        ),
        click.option(
            "--abort-on-breach/--no-abort-on-breach",
            default=None,
            help="Stop early when a gate breaks (after the grace period).",
        ),
        click.option(
            "--abort-grace",
            metavar="DURATION",
            help="Grace period before abort-on-breach, e.g. 10s.",
        ),
        click.option(
            "--allow-remote", is_flag=True, help="Allow a target that is not a loopback address."
        ),
        click.option(
            "--api-map",
            type=click.Path(dir_okay=False, exists=True),
            help="YAML API map of your shop.",
        ),
        click.option(
            "--data-dir",
            type=click.Path(file_okay=False, exists=True),
            help="users.csv / skus.csv / coupons.csv.",
        ),
        click.option(
            "--max-users",
            type=int,
            help="Size of the open model's user pool (default: one second of peak rate).",
        ),
        click.option(
            "--poisson", is_flag=True, help="Poisson arrivals instead of evenly spaced ones."
        ),
        click.option("--seed", type=int, default=1, show_default=True),
        click.option(
            "--flash-stock",
            type=int,
            default=100,
            show_default=True,
            help="Stock of the hot SKU at T0 (flash-sale).",
        ),
        click.option(
            "--metrics-port",
            type=int,
            help="Serve Prometheus /metrics on this port during the run (0 = any free port).",
        ),
        click.option("--metrics-host", default="127.0.0.1", show_default=True),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _slo(params: dict[str, Any]) -> Any:
    from riskkit_loadtests.slo import load_slo, merge_flags

    return merge_flags(
        load_slo(params["slo_file"]),
        p95=params["slo_p95"],
        p99=params["slo_p99"],
        error_rate=params["slo_error_rate"],
        checks=params["slo_check"],
        min_rate_ratio=params["slo_min_rate"],
        max_dropped_ratio=params["slo_max_dropped"],
        abort_on_breach=params["abort_on_breach"],
        abort_grace=params["abort_grace"],
    )


def _options(params: dict[str, Any], out: str, **extra: Any) -> Any:
    from riskkit_loadtests.plan import LoadTestOptions
    from riskkit_loadtests.units import parse_duration_s, parse_rate

    rate = params.get("rate")
    duration = params.get("duration")
    return LoadTestOptions(
        scenario=params["scenario"],
        out_dir=Path(out),
        slo=_slo(params),
        target=params["target"],
        rate=parse_rate(rate) if rate else None,
        users=params.get("users"),
        duration_s=parse_duration_s(duration, "--duration") if duration else None,
        compress=params.get("compress") or 1.0,
        allow_remote=params["allow_remote"],
        api_map=Path(params["api_map"]) if params["api_map"] else None,
        data_dir=Path(params["data_dir"]) if params["data_dir"] else None,
        pushgateway=params.get("pushgateway"),
        metrics_run=params.get("metrics_run"),
        metrics_textfile=Path(params["metrics_textfile"])
        if params.get("metrics_textfile")
        else None,
        metrics_port=params["metrics_port"],
        metrics_host=params["metrics_host"],
        poisson=params["poisson"],
        max_users=params["max_users"],
        seed=params["seed"],
        flash_stock=params["flash_stock"],
        **extra,
    )


def _render(outcome: Any, as_json: bool) -> None:
    summary = outcome.summary
    if as_json:
        echo_json({k: v for k, v in summary.items() if k != "timeline"})
    else:
        rate = summary["rate"]
        click.echo(
            f"{summary['scenario']}: {summary['status'].upper()} · achieved "
            f"{rate['achieved_per_s']}/s of "
            + (f"{rate['target_per_s']}/s target" if rate["target_per_s"] else "closed model")
            + " · "
            f"dropped {summary['iterations']['dropped']} · outputs in {summary.get('out_dir', '')}"
        )
        for gate in outcome.gates:
            click.echo(f"  {'ok    ' if gate.passed else 'BREACH'} {gate.verdict()}")
    outcome.raise_for_status()


@click.group()
def loadtest() -> None:
    """Open-model load tests of a checkout with SLO gates (Locust in subprocesses)."""


@loadtest.command("run")
@_run_options
@click.option(
    "--rate",
    metavar="RATE",
    help="Open model: iterations per second, e.g. 300/s (peak for double11/flash-sale).",
)
@click.option(
    "--users", type=int, help="Closed model: N users running back to back (plain Locust behaviour)."
)
@click.option("--duration", metavar="DURATION", help="Rehearsal duration, e.g. 60s or 1h.")
@click.option(
    "--compress", type=float, default=1.0, show_default=True, help="Play the shape K times faster."
)
@click.option(
    "--workers",
    type=int,
    default=1,
    show_default=True,
    help="Local Locust worker processes (distributed mode when > 1).",
)
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Output directory.")
@metrics_options
@json_option
def run_command(out: str, workers: int, as_json: bool, **params: Any) -> None:
    """Run a scenario; exit 0 pass, 3 breach, 4 invalid run."""
    from riskkit_loadtests.runner import run_loadtest

    if workers < 1:
        raise UsageError("--workers must be >= 1")
    outcome = run_loadtest(_options(params, out, workers=workers))
    outcome.summary["out_dir"] = out
    _render(outcome, as_json)


@loadtest.command("master")
@_run_options
@click.option("--rate", metavar="RATE")
@click.option("--users", type=int)
@click.option("--duration", metavar="DURATION")
@click.option("--compress", type=float, default=1.0, show_default=True)
@click.option("--expect-workers", type=int, required=True, help="Workers to wait for.")
@click.option(
    "--bind-host", default="127.0.0.1", show_default=True, help="Address the workers connect to."
)
@click.option("--bind-port", type=int, default=5557, show_default=True)
@click.option(
    "--worker-wait", default="120s", show_default=True, help="How long to wait for the workers."
)
@click.option("--out", required=True, type=click.Path(file_okay=False))
@metrics_options
@json_option
def master_command(
    out: str,
    expect_workers: int,
    bind_host: str,
    bind_port: int,
    worker_wait: str,
    as_json: bool,
    **params: Any,
) -> None:
    """Run as the Locust master of workers on other machines (same outputs as run)."""
    from riskkit_loadtests.runner import run_loadtest
    from riskkit_loadtests.units import parse_duration_s

    if expect_workers < 1:
        raise UsageError("--expect-workers must be >= 1")
    outcome = run_loadtest(
        _options(
            params,
            out,
            external_workers=expect_workers,
            master_bind_host=bind_host,
            master_bind_port=bind_port,
            worker_wait_s=parse_duration_s(worker_wait, "--worker-wait"),
        )
    )
    outcome.summary["out_dir"] = out
    _render(outcome, as_json)


@loadtest.command("worker")
@click.option("--master-host", required=True)
@click.option("--master-port", type=int, default=5557, show_default=True)
def worker_command(master_host: str, master_port: int) -> None:
    """Run a Locust worker for a `riskkit loadtest master` (configuration comes from it)."""
    from riskkit_loadtests.processes import subprocess_env

    command = [
        sys.executable, "-m", "riskkit_loadtests.locust_main", "--mode", "worker",
        "--master-host", master_host, "--master-port", str(master_port),
    ]  # fmt: skip
    code = subprocess.call(command, env=subprocess_env())
    if code:
        raise click.exceptions.Exit(code)


@loadtest.command("capacity")
@_run_options
@click.option(
    "--start", "start_rate", default="50/s", show_default=True, help="First arrival rate."
)
@click.option("--max", "max_rate", default="5000/s", show_default=True, help="Highest rate to try.")
@click.option(
    "--peak", "peak_rate", metavar="RATE", help="Declared peak to compare the capacity with."
)
@click.option(
    "--safety", type=float, default=1.5, show_default=True, help="Headroom factor the peak needs."
)
@click.option(
    "--step-duration",
    default="20s",
    show_default=True,
    help="How long each step holds (long enough to trust).",
)
@click.option(
    "--factor",
    type=float,
    default=2.0,
    show_default=True,
    help="Growth between steps before bisecting.",
)
@click.option(
    "--precision",
    type=float,
    default=0.05,
    show_default=True,
    help="Bisect until the bracket is this narrow (ratio).",
)
@click.option("--workers", type=int, default=1, show_default=True)
@click.option("--out", required=True, type=click.Path(file_okay=False))
@metrics_options
@json_option
def capacity_command(
    out: str,
    start_rate: str,
    max_rate: str,
    peak_rate: str | None,
    safety: float,
    step_duration: str,
    factor: float,
    precision: float,
    workers: int,
    as_json: bool,
    **params: Any,
) -> None:
    """Step the arrival rate up, then bisect, until a gate breaks; report the headroom."""
    from riskkit_loadtests.capacity import CapacitySearch, run_capacity_search
    from riskkit_loadtests.units import parse_duration_s, parse_rate

    base = _options(params, out, workers=workers)
    search = CapacitySearch(
        start_rate=parse_rate(start_rate),
        max_rate=parse_rate(max_rate),
        step_duration_s=parse_duration_s(step_duration, "--step-duration"),
        factor=factor,
        precision=precision,
        peak_rate=parse_rate(peak_rate) if peak_rate else None,
        safety=safety,
    )
    result = run_capacity_search(base, search)
    if as_json:
        echo_json(result.summary)
    else:
        click.echo(result.summary["headline"])
        for step in result.summary["steps"]:
            click.echo(
                f"  {step['rate_per_s']:>9.1f}/s  {step['status']:<7} achieved "
                f"{step['requests_per_s']}/s requests  {step.get('first_breach') or ''}"
            )
    result.raise_for_status()
