"""Capacity of the reference shop on this machine: requests/s and latency percentiles.

Starts the shop as its own process (``running_shop``), pins it to one core and the load
generator to the other (2-core machine), then drives two closed-loop scenarios over
keep-alive loopback connections:

- ``product_view``: ``GET /api/products/{sku_id}`` of a random SKU;
- ``checkout_pay``: add to cart, ``POST /api/checkout`` (Idempotency-Key), ``POST
  /api/orders/{id}/pay`` — one flow = 3 requests, latency measured per flow.

The generator is a minimal asyncio HTTP/1.1 client (httpx costs more CPU per request than
the shop itself, which would measure the client). Each scenario runs ``--runs`` times; the
median run is reported, plus the shop's peak RSS (VmHWM).

    python benchmarks/shop_capacity.py [--duration 5] [--runs 3] [--connections 32]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from pathlib import Path
from urllib.parse import urlsplit

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from riskkit.atomic import write_json
from riskkit.shop.server import running_shop

SCENARIOS = ("product_view", "checkout_pay")


class Connection:
    """One keep-alive HTTP/1.1 connection; just enough protocol for the shop's JSON answers."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def request(
        self, method: str, path: str, body: object = None, key: str | None = None
    ) -> tuple[int, bytes]:
        payload = b"" if body is None else json.dumps(body).encode()
        head = f"{method} {path} HTTP/1.1\r\nHost: shop\r\nContent-Length: {len(payload)}\r\n"
        if body is not None:
            head += "Content-Type: application/json\r\n"
        if key is not None:
            head += f"Idempotency-Key: {key}\r\n"
        self.writer.write(head.encode() + b"\r\n" + payload)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length = 0
        for line in lines[1:]:
            if line.lower().startswith("content-length:"):
                length = int(line.split(":", 1)[1])
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


async def _product_view(conn: Connection, rng: random.Random, skus: list[str]) -> bool:
    status, _ = await conn.request("GET", f"/api/products/{rng.choice(skus)}")
    return status == 200


async def _checkout_pay(conn: Connection, rng: random.Random, skus: list[str], user: str) -> bool:
    item = {"sku_id": rng.choice(skus), "quantity": 1}
    status, _ = await conn.request("POST", f"/api/cart/{user}/items", item)
    if status != 200:
        return False
    status, body = await conn.request(
        "POST", "/api/checkout", {"user_id": user}, key=uuid.uuid4().hex
    )
    if status != 201:
        return False
    order_id = json.loads(body)["order_id"]
    status, _ = await conn.request(
        "POST", f"/api/orders/{order_id}/pay", {"method": "alipay"}, key=uuid.uuid4().hex
    )
    return status == 200


async def _drive(
    url: str, scenario: str, connections: int, duration_s: float, seed: int
) -> dict[str, object]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    probe = await Connection.open(host, port)
    _, body = await probe.request("GET", "/api/products?limit=100&offset=1")
    probe.close()
    skus = [item["sku_id"] for item in json.loads(body)["items"]]  # HOT-001 excluded
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + duration_s

    async def worker(number: int) -> None:
        nonlocal errors
        rng = random.Random(seed * 1000 + number)
        user = f"bench-{seed}-{number}"
        conn = await Connection.open(host, port)
        try:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                if scenario == "product_view":
                    ok = await _product_view(conn, rng, skus)
                else:
                    ok = await _checkout_pay(conn, rng, skus, user)
                latencies.append(time.perf_counter() - started)
                errors += not ok
        finally:
            conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker(n) for n in range(connections)))
    return {"latencies": latencies, "errors": errors, "elapsed": time.perf_counter() - started}


def _generator_process(
    url: str, scenario: str, connections: int, duration_s: float, seed: int, core: int | None
) -> dict[str, object]:
    if core is not None:
        os.sched_setaffinity(0, {core})
    return asyncio.run(_drive(url, scenario, connections, duration_s, seed))


@dataclass(frozen=True)
class RunResult:
    scenario: str
    operations: int
    errors: int
    operations_per_s: float
    requests_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    # CPU the shop spent per operation: the capacity of one dedicated core is its inverse,
    # a figure that holds even when other processes share the machine.
    shop_cpu_ms_per_operation: float
    operations_per_shop_cpu_s: float


def _percentile(sorted_values: list[float], share: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(share * (len(sorted_values) - 1))))
    return sorted_values[index] * 1000


def run_once(
    url: str,
    scenario: str,
    args: argparse.Namespace,
    seed: int,
    core: int | None,
    shop: psutil.Process,
) -> RunResult:
    per_process = max(1, args.connections // args.processes)
    cpu_before = shop.cpu_times()
    with ProcessPoolExecutor(args.processes, mp_context=get_context("spawn")) as pool:
        futures = [
            pool.submit(
                _generator_process, url, scenario, per_process, args.duration, seed * 10 + p, core
            )
            for p in range(args.processes)
        ]
        parts = [future.result(timeout=args.duration + 60) for future in futures]
    cpu_after = shop.cpu_times()
    shop_cpu_s = (cpu_after.user + cpu_after.system) - (cpu_before.user + cpu_before.system)
    latencies = sorted(x for part in parts for x in part["latencies"])  # type: ignore[attr-defined]
    errors = sum(int(part["errors"]) for part in parts)  # type: ignore[call-overload]
    elapsed = max(float(part["elapsed"]) for part in parts)  # type: ignore[arg-type]
    requests_per_operation = 1 if scenario == "product_view" else 3
    return RunResult(
        scenario=scenario,
        operations=len(latencies),
        errors=errors,
        operations_per_s=len(latencies) / elapsed,
        requests_per_s=len(latencies) * requests_per_operation / elapsed,
        p50_ms=_percentile(latencies, 0.50),
        p95_ms=_percentile(latencies, 0.95),
        p99_ms=_percentile(latencies, 0.99),
        shop_cpu_ms_per_operation=shop_cpu_s * 1000 / max(1, len(latencies)),
        operations_per_shop_cpu_s=len(latencies) / shop_cpu_s if shop_cpu_s > 0 else 0.0,
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per run")
    parser.add_argument("--runs", type=int, default=3, help="runs per scenario (median reported)")
    parser.add_argument(
        "--connections", type=int, default=32, help="concurrent keep-alive connections"
    )
    parser.add_argument("--processes", type=int, default=1, help="load generator processes")
    parser.add_argument(
        "--no-pin", action="store_true", help="do not pin shop and generator to cores"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()
    if not 0 < args.duration <= 120 or not 0 < args.runs <= 10:
        parser.error("--duration must be in (0, 120] and --runs in 1..10")

    cores = sorted(os.sched_getaffinity(0))
    pin = not args.no_pin and len(cores) >= 2
    results: dict[str, object] = {
        "cpu_count": os.cpu_count(),
        "load_average_before": os.getloadavg(),
        "pinned": pin,
        "connections": args.connections,
        "duration_s": args.duration,
        "runs": args.runs,
    }
    with running_shop(extra_args=["--hot-stock", "100"]) as url:
        (shop,) = [
            child
            for child in psutil.Process().children(recursive=True)
            if "riskkit.shop" in " ".join(child.cmdline())
        ]
        if pin:
            shop.cpu_affinity([cores[0]])
        generator_core = cores[1] if pin else None
        for scenario in SCENARIOS:
            runs = [
                run_once(url, scenario, args, seed, generator_core, shop)
                for seed in range(args.runs)
            ]
            median = sorted(runs, key=lambda run: run.operations_per_s)[len(runs) // 2]
            results[scenario] = {
                "median": asdict(median),
                "all_runs_ops_per_s": [round(run.operations_per_s, 1) for run in runs],
            }
            print(
                f"{scenario:13s} {median.operations_per_s:8.1f} ops/s {median.requests_per_s:8.1f} req/s"
                f"  p50 {median.p50_ms:6.1f} ms  p95 {median.p95_ms:6.1f} ms  p99 {median.p99_ms:6.1f} ms"
                f"  errors {median.errors}  runs {[round(r.operations_per_s) for r in runs]}"
                f"  shop CPU {median.shop_cpu_ms_per_operation:.2f} ms/op"
                f" (= {median.operations_per_shop_cpu_s:.0f} ops/s per dedicated core)"
            )
        status = Path(f"/proc/{shop.pid}/status").read_text()
        peak_kib = next(
            int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")
        )
        results["shop_peak_rss_mib"] = round(peak_kib / 1024, 1)
    results["load_average_after"] = os.getloadavg()
    print(
        f"shop peak RSS {results['shop_peak_rss_mib']} MiB; load average before {results['load_average_before']}"
    )
    if args.json is not None:
        write_json(args.json, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
