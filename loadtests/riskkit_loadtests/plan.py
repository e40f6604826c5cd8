"""Turn command-line choices into a run plan: shape, pool, data, safety limits."""

from __future__ import annotations

import ipaddress
import math
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from riskkit.errors import UsageError
from riskkit_loadtests.shapes import ConstantRate, Double11Shape, FlashSaleShape, RateShape
from riskkit_loadtests.slo import SloSpec

__all__ = [
    "DEFAULT_DURATION_S",
    "DEFAULT_RATE",
    "HARD_CAP_S",
    "SCENARIOS",
    "LoadTestOptions",
    "build_shape",
    "check_target",
    "default_pool_size",
    "preflight",
]

SCENARIOS = ("checkout", "flash-sale", "double11", "retry-storm")
DEFAULT_RATE = {"checkout": 50.0, "flash-sale": 200.0, "double11": 100.0, "retry-storm": 50.0}
DEFAULT_DURATION_S = {"checkout": 60.0, "flash-sale": 60.0, "double11": 3600.0, "retry-storm": 60.0}
# No run may last longer than this, whatever its flags say (wall-clock seconds).
HARD_CAP_S = 6 * 3600.0
# Requests per second one core drives with this generator (benchmarks/loadgen_efficiency.py
# on the reference machine, checkout scenario against a static endpoint, rounded down).
CORE_REQUESTS_PER_S = 3000.0
REQUESTS_PER_ITERATION = {"checkout": 1.1, "flash-sale": 3.0, "double11": 1.1, "retry-storm": 1.3}


@dataclass
class LoadTestOptions:
    """Everything ``riskkit loadtest run`` was asked to do."""

    scenario: str
    out_dir: Path
    slo: SloSpec
    target: str | None = None
    rate: float | None = None
    users: int | None = None
    duration_s: float | None = None
    compress: float = 1.0
    workers: int = 1
    allow_remote: bool = False
    api_map: Path | None = None
    data_dir: Path | None = None
    pushgateway: str | None = None
    metrics_textfile: Path | None = None
    metrics_run: str | None = None
    metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"
    poisson: bool = False
    max_users: int | None = None
    seed: int = 1
    flash_stock: int = 100
    drain_timeout_s: float = 10.0
    max_cpu_percent: float = 90.0
    external_workers: int = 0
    master_bind_host: str = "127.0.0.1"
    master_bind_port: int | None = None
    worker_wait_s: float = 60.0
    write_html: bool = True
    run_id: str = field(default_factory=lambda: secrets.token_hex(3))

    @property
    def open_model(self) -> bool:
        return self.users is None


def build_shape(options: LoadTestOptions) -> RateShape:
    """The arrival shape in wall-clock time (after ``--compress``)."""
    if options.scenario not in SCENARIOS:
        raise UsageError(
            f"unknown scenario {options.scenario!r}; choose from {', '.join(SCENARIOS)}"
        )
    if options.rate is not None and options.users is not None:
        raise UsageError("--rate (open model) and --users (closed model) exclude each other")
    if options.compress <= 0:
        raise UsageError("--compress must be > 0")
    duration = options.duration_s or DEFAULT_DURATION_S[options.scenario]
    rate = options.rate or DEFAULT_RATE[options.scenario]
    shape: RateShape
    if options.scenario == "double11":
        shape = Double11Shape(rate, duration)
    elif options.scenario == "flash-sale":
        shape = FlashSaleShape(rate, duration)
    else:
        shape = ConstantRate(rate, duration)
    shape = shape.compressed(options.compress) if options.compress != 1 else shape
    if shape.duration_s < 2:
        raise UsageError("the run must last at least 2 s after --compress")
    if shape.duration_s > HARD_CAP_S:
        raise UsageError(f"a run may last at most {HARD_CAP_S / 3600:g} h (the hard cap)")
    return shape


def check_target(url: str, allow_remote: bool) -> str:
    """Loopback targets only, unless ``--allow-remote``."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--target must be an http(s) URL, got {url!r}")
    host = parts.hostname
    loopback = host == "localhost"
    if not loopback:
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
    if not loopback and not allow_remote:
        raise UsageError(
            f"{host} is not a loopback address: pass --allow-remote to load-test another host"
        )
    return url.rstrip("/")


def default_pool_size(options: LoadTestOptions, shape: RateShape) -> int:
    """Users in the pool: the peak rate's worth of one second (k6's maxVUs), 20-5000."""
    if options.users is not None:
        return options.users
    if options.max_users is not None:
        return options.max_users
    return int(min(5000, max(20, math.ceil(shape.peak_rate()))))


def preflight(options: LoadTestOptions, shape: RateShape) -> dict[str, object]:
    """What one core can drive for this scenario, against what the run asks for."""
    per_iteration = REQUESTS_PER_ITERATION[options.scenario]
    per_core = CORE_REQUESTS_PER_S / per_iteration
    generators = max(1, options.workers, options.external_workers)
    peak = shape.peak_rate() if options.open_model else None
    verdict = "ok"
    if peak is not None and peak > 0.8 * per_core * generators:
        verdict = "likely to saturate the generator: add --workers"
    return {
        "iterations_per_core_estimate": round(per_core, 1),
        "requests_per_core_estimate": CORE_REQUESTS_PER_S,
        "generator_processes": generators,
        "peak_rate": peak,
        "verdict": verdict,
    }
