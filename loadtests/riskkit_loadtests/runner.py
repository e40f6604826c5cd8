"""``riskkit loadtest run``: plan, start the generators, watch, gate, report.

The riskkit process never imports locust: it writes ``OUT/raw/config.json``, starts
``python -m riskkit_loadtests.locust_main`` (one local runner, or a Locust master plus
workers), tails ``OUT/raw/seconds.jsonl`` every quarter second to serve ``/metrics``
and to abort on a breach, enforces the hard time cap, then evaluates the gates and
writes ``summary.json``, ``junit.xml`` and ``report.html``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prometheus_client import start_http_server

from riskkit.atomic import write_json
from riskkit.errors import GateFailed, InvalidRun, UsageError
from riskkit.metrics import RunMetrics
from riskkit_loadtests.apimap import ApiMap, load_api_map
from riskkit_loadtests.gates import GateResult, RunTargets, evaluate_gates, failed_gates
from riskkit_loadtests.live import LoadTestCollector
from riskkit_loadtests.outputs import build_summary, write_outputs
from riskkit_loadtests.plan import (
    LoadTestOptions,
    build_shape,
    check_target,
    default_pool_size,
    preflight,
)
from riskkit_loadtests.processes import GeneratorProcesses, free_port
from riskkit_loadtests.results import RecordTail, RunData
from riskkit_loadtests.shapes import RateShape
from riskkit_loadtests.shop_admin import ShopAdmin
from riskkit_loadtests.testdata import load_test_data

__all__ = ["RunOutcome", "run_loadtest", "run_or_raise", "stalled_seconds"]

log = logging.getLogger(__name__)

_SPAWN_ALLOWANCE_S = 60.0
# Scheduler lag: how late the generator released iterations because it was not running
# (its own stall, e.g. a starved machine), not because users were busy.
_STALL_LAG_MS = 250.0
_INVALID_STALL_LAG_MS = 1000.0


@dataclass
class RunOutcome:
    """The verdict of one run; :meth:`raise_for_status` maps it to the exit code."""

    summary: dict[str, Any]
    gates: list[GateResult]
    invalid_reasons: list[str] = field(default_factory=list)
    aborted: bool = False

    @property
    def status(self) -> str:
        if self.invalid_reasons:
            return "invalid"
        return "breach" if failed_gates(self.gates) else "pass"

    def raise_for_status(self) -> None:
        if self.invalid_reasons:
            raise InvalidRun("this run can't be trusted: " + "; ".join(self.invalid_reasons))
        failed = failed_gates(self.gates)
        if failed:
            steps = sorted({g.subject for g in failed if g.kind in ("latency", "error_rate")})
            where = f" (steps: {', '.join(steps)})" if steps else ""
            raise GateFailed(
                f"{len(failed)} SLO gate(s) breached{where}: "
                + "; ".join(gate.verdict() for gate in failed)
            )


@contextlib.contextmanager
def _target(options: LoadTestOptions) -> Iterator[tuple[str, bool]]:
    """The shop to test: the given one (checked), or a reference shop on loopback."""
    if options.target:
        yield check_target(options.target, options.allow_remote), False
        return
    from riskkit.shop.server import running_shop  # the shop is only needed here

    try:
        shop_cm = running_shop()
        url = shop_cm.__enter__()
    except (OSError, RuntimeError) as exc:
        raise InvalidRun(f"could not start the reference shop: {exc}") from exc
    try:
        yield url, True
    finally:
        shop_cm.__exit__(None, None, None)


def _users_needed(options: LoadTestOptions, shape: RateShape, pool: int) -> int:
    if options.scenario == "flash-sale":
        return math.ceil(shape.expected_iterations() * 1.1) + pool + 10
    return max(200, pool * 3)


def run_loadtest(options: LoadTestOptions) -> RunOutcome:
    """Run one load test end to end and write its outputs (never raises on a breach)."""
    shape = build_shape(options)
    api_map = load_api_map(options.api_map)
    pool = default_pool_size(options, shape)
    out = options.out_dir
    raw = out / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for stale in ("seconds.jsonl", "done.json"):
        (raw / stale).unlink(missing_ok=True)
    data = load_test_data(options.data_dir, options.run_id, _users_needed(options, shape, pool))
    metrics = RunMetrics(
        "loadtest",
        pushgateway=options.pushgateway,
        textfile=options.metrics_textfile,
        run_name=options.metrics_run or options.scenario,
    )
    run_data = RunData()
    collector = LoadTestCollector(run_data, shape, options.open_model)
    metrics.registry.register(collector)
    outcome: RunOutcome | None = None
    try:
        with _target(options) as (target, started_shop):
            server = None
            if options.metrics_port is not None:
                try:
                    server, _thread = start_http_server(
                        options.metrics_port, addr=options.metrics_host, registry=metrics.registry
                    )
                except OSError as exc:
                    raise UsageError(f"--metrics-port {options.metrics_port}: {exc}") from exc
                log.warning(
                    "serving /metrics on http://%s:%d/metrics",
                    options.metrics_host,
                    server.server_port,
                )
            try:
                outcome = _run(options, shape, api_map, pool, target, started_shop, data, run_data)
                collector.gates = outcome.gates
            finally:
                if server is not None:
                    server.shutdown()
                    server.server_close()
        write_outputs(out, outcome.summary, outcome.gates, run_data, shape, html=options.write_html)
    finally:
        # A breach is still a successful *run* (the command did its job); an invalid
        # run is not, so only then is the last-success timestamp left alone.
        if outcome is not None and not outcome.invalid_reasons:
            metrics.mark_success()
        metrics.flush()
    return outcome


def _run(
    options: LoadTestOptions,
    shape: RateShape,
    api_map: ApiMap,
    pool: int,
    target: str,
    started_shop: bool,
    data: Any,
    run_data: RunData,
) -> RunOutcome:
    raw = options.out_dir / "raw"
    admin = ShopAdmin(target, api_map)
    flash: dict[str, Any] = {}
    if options.scenario == "flash-sale":
        flash = admin.prepare_flash_sale(options.flash_stock)
    wall_s = shape.duration_s
    config = {
        "run_id": options.run_id,
        "target": target,
        "scenario": options.scenario,
        "model": "open" if options.open_model else "closed",
        "stages": [stage.to_json() for stage in shape.stages()],
        "duration_s": wall_s,
        "poisson": options.poisson,
        "seed": options.seed,
        "pool_size": pool,
        "api_map": api_map.model_dump(by_alias=True, mode="json"),
        "data": data.to_json(),
        "hot_sku": api_map.hot_sku,
        "pay_replay_every": 10,
        "retry_max": 3,
        "drain_timeout_s": options.drain_timeout_s,
        "worker_wait_s": options.worker_wait_s,
        "records_path": str(raw / "seconds.jsonl"),
        "done_path": str(raw / "done.json"),
    }
    config_path = raw / "config.json"
    write_json(config_path, config)
    processes = GeneratorProcesses(raw)
    local_workers = options.workers if options.workers > 1 else 0
    expected_workers = local_workers or options.external_workers
    if expected_workers:
        port = options.master_bind_port or free_port(options.master_bind_host)
        processes.start_master(config_path, expected_workers, options.master_bind_host, port)
        if local_workers:
            processes.start_workers(local_workers, "127.0.0.1", port)
        log.warning(
            "Locust master on %s:%d waiting for %d workers",
            options.master_bind_host,
            port,
            expected_workers,
        )
    else:
        processes.start_local(config_path)
    tail = RecordTail(raw / "seconds.jsonl", run_data)
    cap_s = (
        wall_s
        + options.drain_timeout_s
        + _SPAWN_ALLOWANCE_S
        + (options.worker_wait_s if expected_workers else 0.0)
    )
    started = time.monotonic()
    aborted = False
    capped = False
    abort_reason = ""
    targets = RunTargets(shape.expected_iterations() if options.open_model else 0.0, wall_s)
    try:
        while processes.main_exited() is None:
            time.sleep(0.25)
            tail.poll()
            elapsed = time.monotonic() - started
            if elapsed > cap_s and not capped:
                capped = True
                processes.request_stop()
            if (
                options.slo.abort.on_breach
                and not aborted
                and run_data.seconds
                and max(run_data.seconds) >= options.slo.abort.grace_period_s
            ):
                breached = failed_gates(evaluate_gates(run_data, options.slo, targets, final=False))
                if breached:
                    aborted = True
                    abort_reason = breached[0].verdict()
                    log.warning("aborting on breach: %s", abort_reason)
                    processes.request_stop()
            if capped and elapsed > cap_s + 30:
                break
    except KeyboardInterrupt:
        processes.request_stop()
        processes.shutdown(options.drain_timeout_s + 5)
        raise
    finally:
        processes.shutdown(options.drain_timeout_s + 10)
    tail.poll()
    done = _read_json(raw / "done.json")
    invalid: list[str] = []
    if capped:
        invalid.append(f"the hard time cap ({cap_s:.0f} s) was reached")
    if not done or done.get("error"):
        invalid.append(
            "the generator did not finish cleanly"
            + (f": {done['error']}" if done and done.get("error") else f" (see {raw}/*.log)")
        )
    if done and int(done.get("workers_done", done.get("workers", 1))) < int(done.get("workers", 1)):
        invalid.append(f"only {done['workers_done']} of {done['workers']} workers finished")
    if done and int(done.get("users_spawned", 0)) < pool * 0.9:
        invalid.append(f"only {done.get('users_spawned')} of {pool} users started")
    if run_data.requests == 0:
        invalid.append("no request was sent")
    stalled = stalled_seconds(run_data, _STALL_LAG_MS)
    long_stalls = stalled_seconds(run_data, _INVALID_STALL_LAG_MS)
    if run_data.seconds and len(long_stalls) > 0.1 * len(run_data.seconds):
        invalid.append(
            f"the generator fell behind its own schedule by more than {_INVALID_STALL_LAG_MS:g} ms "
            f"in {len(long_stalls)} of {len(run_data.seconds)} seconds (a starved machine?)"
        )
    saturated = _saturated_workers(run_data, options.max_cpu_percent)
    if saturated:
        invalid.append(
            "the generator saturated its CPU (worker "
            + ", ".join(
                f"{w}: {share:.0%} of seconds above {options.max_cpu_percent:g}%"
                for w, share in saturated.items()
            )
            + "): the shop was not the bottleneck, add --workers"
        )
    # An aborted run stopped early on purpose: its rate and dropped gates would only
    # restate the abort, so only the gates that triggered it are judged.
    gates = evaluate_gates(run_data, options.slo, targets, final=not aborted)
    scheduling = [second for second, totals in run_data.seconds.items() if totals.scheduled]
    if aborted and scheduling and options.open_model:
        # Judge the rate over the seconds that were scheduled before the stop.
        ran_s = min(wall_s, float(max(scheduling) + 1))
        targets = RunTargets(shape.expected_iterations(ran_s), ran_s)
    invariants: dict[str, Any] = {}
    if options.scenario == "flash-sale":
        invariants, invariant_gates = admin.flash_sale_invariants(flash, run_data.counters)
        gates.extend(invariant_gates)
    summary = build_summary(
        options=options,
        shape=shape,
        target=target,
        started_shop=started_shop,
        pool=pool,
        data=run_data,
        gates=gates,
        targets=targets,
        done=done or {},
        preflight=preflight(options, shape),
        invalid=invalid,
        aborted=aborted,
        abort_reason=abort_reason,
        invariants=invariants,
        users_generated=data.users_generated,
        stalled=stalled,
    )
    return RunOutcome(summary=summary, gates=gates, invalid_reasons=invalid, aborted=aborted)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def stalled_seconds(data: RunData, lag_ms: float) -> list[int]:
    """Seconds in which the generator released some iteration more than ``lag_ms`` late."""
    with data.lock:
        return sorted(s for s, totals in data.seconds.items() if totals.lag_max_ms > lag_ms)


def _saturated_workers(data: RunData, threshold: float) -> dict[int, float]:
    """Workers whose CPU sat above ``threshold`` in at least a quarter of the seconds."""
    out: dict[int, float] = {}
    for worker, samples in data.cpu_samples().items():
        steady = samples[1:] if len(samples) > 2 else samples  # the first second is spawn
        if len(steady) < 3:
            continue
        share = sum(1 for cpu in steady if cpu > threshold) / len(steady)
        if share >= 0.25:
            out[worker] = share
    return out


def run_or_raise(options: LoadTestOptions) -> RunOutcome:
    """Run, then raise the exit-code exception (for callers that want exceptions)."""
    outcome = run_loadtest(options)
    outcome.raise_for_status()
    return outcome
