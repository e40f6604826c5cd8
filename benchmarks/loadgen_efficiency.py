"""Load-generator efficiency: requests/s per CPU core, riskkit's checkout scenario vs bare
Locust FastHttpUser, both against the same static endpoint on loopback; then the
reference shop's capacity.

    PYTHONPATH=.:loadtests python benchmarks/loadgen_efficiency.py [--repeats 3] [--seconds 10]

Target: riskkit's open-model checkout drives >= 80% of bare FastHttpUser's requests per
core.  Medians of ``--repeats`` runs are printed.  Loopback only; every run is bounded.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from pathlib import Path

import psutil

from riskkit_loadtests.capacity import CapacitySearch, run_capacity_search
from riskkit_loadtests.plan import LoadTestOptions
from riskkit_loadtests.processes import free_port, subprocess_env
from riskkit_loadtests.runner import run_loadtest
from riskkit_loadtests.slo import load_slo, merge_flags

STATIC_APP = textwrap.dedent(
    """
    import sys, uvicorn
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route
    BODY = (b'{"order_id":"o1","status":"created","subtotal":100.0,"discount":0.0,'
            b'"total":100.0,"payment_id":"p1","price":9.9}')
    async def static(request):
        return Response(BODY, media_type="application/json")
    app = Starlette(routes=[Route("/static", static, methods=["GET", "POST"])])
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="error", access_log=False)
    """
)

BARE_LOCUSTFILE = textwrap.dedent(
    """
    from locust import FastHttpUser, constant, task
    class Bare(FastHttpUser):
        wait_time = constant(0)
        @task
        def static(self):
            self.client.get("/static")
    """
)


def static_api_map(folder: Path) -> Path:
    steps = {
        name: {"method": "POST" if name not in ("browse", "view_cart") else "GET", "path": "/static",
               "ok_status": [200, 201],
               "extract": {"order_id": "order_id", "status": "status", "payment_id": "payment_id",
                           "subtotal": "subtotal", "discount": "discount", "total": "total"}}
        for name in ("browse", "view_cart", "add_to_cart", "apply_coupon", "checkout", "pay")
    }  # fmt: skip
    path = folder / "static-map.json"
    path.write_text(json.dumps({"name": "static", "steps": steps}), encoding="utf-8")
    return path


def start_static_server() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", STATIC_APP, str(port)])
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/static", timeout=1).read()
            return process, url
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("static server did not start")


def bare_locust(url: str, seconds: float, users: int, folder: Path) -> float:
    """Requests per CPU-second of a bare FastHttpUser run."""
    locustfile = folder / "bare.py"
    locustfile.write_text(BARE_LOCUSTFILE, encoding="utf-8")
    prefix = folder / "bare"
    process = subprocess.Popen(
        ["locust", "-f", str(locustfile), "--headless", "-u", str(users), "-r", str(users),
         "-t", f"{int(seconds)}s", "--host", url, "--csv", str(prefix), "--only-summary",
         "--loglevel", "ERROR"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    watched = psutil.Process(process.pid)
    cpu = 0.0
    while process.poll() is None:
        try:
            times = watched.cpu_times()
            cpu = times.user + times.system
        except psutil.NoSuchProcess:
            break
        time.sleep(0.2)
    rows = (folder / "bare_stats.csv").read_text(encoding="utf-8").splitlines()
    header = rows[0].split(",")
    total = dict(zip(header, rows[-1].split(","), strict=False))
    requests = float(total["Request Count"])
    return requests / cpu if cpu else 0.0


def riskkit_checkout(url: str, seconds: float, users: int, folder: Path, map_path: Path) -> float:
    """Requests per CPU-second of riskkit's open-model checkout, driven to saturation."""
    options = LoadTestOptions(
        scenario="checkout",
        out_dir=folder / f"rk-{time.monotonic_ns()}",
        slo=load_slo(None),
        target=url,
        rate=20000.0,
        duration_s=seconds,
        max_users=users,
        api_map=map_path,
    )
    outcome = run_loadtest(options)
    rows = outcome.summary["timeline"][1:]
    cpu_seconds = sum(float(next(iter(r["cpu_percent"].values()), 0.0)) / 100.0 for r in rows)
    requests = sum(int(r["requests"]) for r in rows)
    return requests / cpu_seconds if cpu_seconds else 0.0


def shop_capacity(folder: Path) -> str:
    options = LoadTestOptions(
        scenario="checkout",
        out_dir=folder / "capacity",
        slo=merge_flags(load_slo(None), p99=("*=500ms",)),
    )
    result = run_capacity_search(
        options, CapacitySearch(start_rate=100, max_rate=4000, step_duration_s=6, precision=0.1)
    )
    return str(result.summary["headline"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--skip-capacity", action="store_true")
    args = parser.parse_args()
    _ = subprocess_env()
    with tempfile.TemporaryDirectory(prefix="riskkit-bench-") as tmp:
        folder = Path(tmp)
        server, url = start_static_server()
        try:
            map_path = static_api_map(folder)
            bare = [bare_locust(url, args.seconds, args.users, folder) for _ in range(args.repeats)]
            ours = [
                riskkit_checkout(url, args.seconds, args.users, folder, map_path)
                for _ in range(args.repeats)
            ]
        finally:
            server.terminate()
            server.wait(10)
        bare_median = statistics.median(bare)
        ours_median = statistics.median(ours)
        print(
            f"bare Locust FastHttpUser : {bare_median:8.0f} requests/s per core (runs: {[round(v) for v in bare]})"
        )
        print(
            f"riskkit checkout (open)  : {ours_median:8.0f} requests/s per core (runs: {[round(v) for v in ours]})"
        )
        print(f"efficiency               : {ours_median / bare_median:8.1%} (target >= 80%)")
        if not args.skip_capacity:
            print(f"reference shop capacity  : {shop_capacity(folder)}")


if __name__ == "__main__":
    main()
