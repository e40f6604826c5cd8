"""How ``riskkit detect`` grows with the data, on the pandas and the Dask engine.

For each size, writes a synthetic canonical export split into ``--parts``
CSV files (never cutting an order), times a bare ``pyarrow.csv.read_csv`` of
those files (the I/O floor), then runs ``riskkit detect <name> DIR`` for
every detector and ``all``, on each engine, each in a fresh process.  Peak
memory is the peak of the summed RSS of the whole process tree (the Dask
client, nannies and workers included), sampled every 0.2 s.

    python benchmarks/detect_scale.py --sizes 100000 1000000 10000000
    python benchmarks/detect_scale.py --sizes 1000000 --engines dask --memory-limit 2GB
    python benchmarks/detect_scale.py --sizes 10000000 --parts 16 --data /var/tmp/scale ...

Target (issue #8): ``detect all`` at 10M order lines in <= 120 s and <= 8 GB
on 2 cores, with a ratio to the floor that does not grow with size.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from riskkit.detection import available_detectors

FLOOR_SCRIPT = """
import sys
import pyarrow.csv as pv
rows = 0
for path in sys.argv[1:]:
    rows += pv.read_csv(path).num_rows
print(rows)
"""


@dataclass
class Measured:
    seconds: float
    peak_mb: float
    exit_code: int


def measure(args: list[str], log: Path) -> Measured:
    """Wall time, peak RSS of the process tree, and exit code of one command."""
    started = time.perf_counter()
    with log.open("wb") as errors:
        process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=errors)
        root = psutil.Process(process.pid)
        peak = 0
        while process.poll() is None:
            try:
                tree = [root, *root.children(recursive=True)]
                peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
            except psutil.Error:
                pass
            time.sleep(0.2)
    return Measured(time.perf_counter() - started, peak / 2**20, process.returncode)


def write_parts(rows: int, seed: int, parts: int, folder: Path) -> list[Path]:
    """A synthetic export in ``parts`` CSV files of consecutive whole orders."""
    source = folder / "source"
    subprocess.run(
        [sys.executable, "-c",
         "import sys; from riskkit.synth import write_dataset; "
         f"write_dataset(sys.argv[1], {rows}, {seed}, 'riskkit')", str(source)],
        check=True,
    )  # fmt: skip
    target = folder / "parts"
    target.mkdir()
    per_part = -(-rows // parts)
    paths: list[Path] = []
    with (source / "orders.csv").open("rb") as handle:
        header = handle.readline()
        order_column = header.decode().strip().split(",").index("order_id")
        out = None
        written = 0
        last_order = b""
        for line in handle:
            order = line.split(b",", order_column + 1)[order_column]
            if out is None or (written >= per_part and order != last_order):
                if out is not None:
                    out.close()
                paths.append(target / f"part-{len(paths):03d}.csv")
                out = paths[-1].open("wb")
                out.write(header)
                written = 0
            out.write(line)
            written += 1
            last_order = order
        if out is not None:
            out.close()
    (source / "orders.csv").unlink()
    return paths


def _exports(size: int, args: argparse.Namespace, scratch: Path) -> list[Path]:
    if args.data is None:
        return write_parts(size, args.seed, args.parts, scratch)
    home = args.data / str(size)
    if not (home / "parts").is_dir():
        home.mkdir(parents=True, exist_ok=True)
        write_parts(size, args.seed, args.parts, home)
    return sorted((home / "parts").glob("part-*.csv"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--parts", type=int, default=8, help="CSV files per export.")
    parser.add_argument("--engines", nargs="+", default=["pandas", "dask"])
    parser.add_argument("--detectors", nargs="*", default=None)
    parser.add_argument("--workers", type=int, default=2, help="Dask workers.")
    parser.add_argument("--memory-limit", default=None, help="Per Dask worker.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help="Keep the generated exports here (DIR/<lines>/parts) and reuse them on the next run.",
    )
    args = parser.parse_args()
    names = args.detectors or [*sorted(available_detectors()), "all"]

    print(f"load average before: {os.getloadavg()}", flush=True)
    header = f"{'lines':>10} {'detector':<22} {'engine':<7} {'wall s':>8} {'peak MB':>8} {'x floor':>8} exit"
    rows: list[str] = []
    for size in args.sizes:
        with tempfile.TemporaryDirectory(prefix="riskkit-scale-") as tmp:
            folder = Path(tmp)
            parts = _exports(size, args, folder)
            floor = measure(
                [sys.executable, "-c", FLOOR_SCRIPT, *map(str, parts)], folder / "floor.log"
            )
            rows.append(
                f"{size:>10} {'pyarrow read (floor)':<22} {'-':<7} {floor.seconds:>8.1f} "
                f"{floor.peak_mb:>8.0f} {1.0:>8.2f} {floor.exit_code}"
            )
            print(rows[-1], flush=True)
            for name in names:
                for engine in args.engines:
                    command = [
                        sys.executable, "-m", "riskkit", "detect", name, str(parts[0].parent),
                        "--out", str(folder / f"out-{name}-{engine}"), "--engine", engine,
                    ]  # fmt: skip
                    if engine == "dask":
                        command += ["--workers", str(args.workers)]
                        if args.memory_limit:
                            command += ["--memory-limit", args.memory_limit]
                    log = folder / f"{name}-{engine}.log"
                    run = measure(command, log)
                    rows.append(
                        f"{size:>10} {name:<22} {engine:<7} {run.seconds:>8.1f} "
                        f"{run.peak_mb:>8.0f} {run.seconds / floor.seconds:>8.2f} {run.exit_code}"
                    )
                    print(rows[-1], flush=True)
                    if run.exit_code not in (0, 3):
                        print(log.read_text(errors="replace")[-1500:], file=sys.stderr)
    print(f"load average after: {os.getloadavg()}")
    print()
    print(header)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
