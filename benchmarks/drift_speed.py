"""Wall time and peak memory of the traffic-drift and price-discrimination detectors.

The synthetic marketplace is generated once and stored as Parquet; each
detector then runs in a fresh process that reads the Parquet file and fits,
so the peak RSS printed is that detector's own (plus the frame it reads).
Target (docs/drift.md): both detectors on 10M order lines in <= 60 s each
on 2 cores.

    python benchmarks/drift_speed.py --rows 1000000
    python benchmarks/drift_speed.py --rows 10000000   # once, by hand: ~12 GB RAM
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DETECTORS = ("traffic-drift", "price-discrimination")


def _peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def fit_one(name: str, parquet: Path, calendar: Path, window: str) -> dict[str, float | str]:
    import pandas as pd

    from riskkit.detection import load_detector

    frame = pd.read_parquet(parquet)
    loaded_rss = _peak_rss_mb()
    params: dict[str, object] = {"calendar": str(calendar)}
    if name == "traffic-drift":
        params["window"] = window
    detector = load_detector(name, **params)
    started = time.perf_counter()
    detector.fit(frame)
    seconds = time.perf_counter() - started
    return {
        "detector": name,
        "rows": len(frame),
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(_peak_rss_mb(), 0),
        "rss_after_read_mb": round(loaded_rss, 0),
        "summary": json.dumps(detector.result_.summary, default=str)[:200],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--window", default="1D")
    parser.add_argument("--fit", choices=DETECTORS, help=argparse.SUPPRESS)
    parser.add_argument("--parquet", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--calendar", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fit:
        print(json.dumps(fit_one(args.fit, args.parquet, args.calendar, args.window)))
        return

    import yaml

    from riskkit.synth import generate

    with tempfile.TemporaryDirectory(prefix="riskkit-drift-speed-") as tmp:
        started = time.perf_counter()
        data = generate(args.rows, args.seed)
        parquet = Path(tmp) / "orders.parquet"
        data.orders.to_parquet(parquet)
        calendar = Path(tmp) / "promotions.yaml"
        calendar.write_text(
            yaml.safe_dump({"promotions": data.promotions}, allow_unicode=True), encoding="utf-8"
        )
        del data
        print(f"generated {args.rows:,} lines in {time.perf_counter() - started:.1f} s", flush=True)
        for name in DETECTORS:
            command = [
                sys.executable,
                __file__,
                "--fit",
                name,
                "--parquet",
                str(parquet),
                "--calendar",
                str(calendar),
                "--window",
                args.window,
            ]
            output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
            result = json.loads(output.strip().splitlines()[-1])
            print(
                f"{name:22s} rows={result['rows']:>11,} fit={result['seconds']:>7.2f} s "
                f"peak RSS={result['peak_rss_mb']:>7.0f} MB "
                f"(after reading the frame {result['rss_after_read_mb']:.0f} MB)",
                flush=True,
            )


if __name__ == "__main__":
    main()
