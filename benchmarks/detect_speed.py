"""Wall time and peak RSS of ``riskkit detect`` for every registered detector.

Writes a synthetic canonical export of ``--rows`` order lines, times a bare
``pandas.read_csv`` of it as the yardstick, then runs ``riskkit detect
<name>`` for each detector of ``available_detectors()`` and ``all``, each in a
fresh process (its own peak RSS via ``os.wait4``).  Targets (docs/detectors.md):
1M orders, brushing and coupon-abuse together, <= 15 s on 2 cores; 10M
<= 120 s and <= 8 GB.

    python benchmarks/detect_speed.py --rows 1000000
    python benchmarks/detect_speed.py --input orders.csv   # an existing export
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from riskkit.detection import available_detectors


def _run(args: list[str]) -> tuple[float, float, int]:
    """Wall seconds, peak RSS (MB) and exit code of one child process."""
    started = time.perf_counter()
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.stderr is not None:
        errors = process.stderr.read().decode(errors="replace").strip()
        if errors and process.returncode not in (0, 3):
            print(errors[-2000:], file=sys.stderr)
    return seconds, usage.ru_maxrss / 1024.0, process.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--input", type=Path, default=None, help="Use this export instead.")
    parser.add_argument("--detectors", nargs="*", default=None)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="riskkit-speed-") as tmp:
        if args.input is None:
            export = Path(tmp) / "export"
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-c",
                 "import sys; from riskkit.synth import write_dataset; "
                 f"write_dataset(sys.argv[1], {args.rows}, {args.seed}, 'riskkit')",
                 str(export)],
                check=True,
            )  # fmt: skip
            source = export / "orders.csv"
            print(f"generated {args.rows} rows in {time.perf_counter() - started:.1f} s")
        else:
            source = args.input
        print(f"input: {source} ({source.stat().st_size / 1e6:.0f} MB)")
        read_seconds, read_rss, _ = _run(
            [sys.executable, "-c", "import sys, pandas; pandas.read_csv(sys.argv[1])", str(source)]
        )
        print(f"{'pandas.read_csv':22s} {read_seconds:7.1f} s  {read_rss:7.0f} MB  ratio 1.0")
        names = args.detectors or [*sorted(available_detectors()), "all"]
        for name in names:
            out = Path(tmp) / f"out-{name}"
            seconds, rss, code = _run(
                [sys.executable, "-m", "riskkit", "detect", name, str(source), "--out", str(out)]
            )
            print(
                f"{'detect ' + name:22s} {seconds:7.1f} s  {rss:7.0f} MB  "
                f"ratio {seconds / read_seconds:4.1f}  exit {code}",
                flush=True,
            )


if __name__ == "__main__":
    main()
