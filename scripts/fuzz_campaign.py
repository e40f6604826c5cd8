"""A long fuzzing campaign over every reader riskkit has (issue 14).

    python scripts/fuzz_campaign.py                      # 10,000 inputs, 2 worker processes
    python scripts/fuzz_campaign.py --inputs 500 --readers canonical taobao
    python scripts/fuzz_campaign.py --save /tmp/failing  # keep each failing input

Every input is generated from a seeded random stream (``--seed``), so a run
is reproducible and a failing input can be regenerated from its key.  Order
exports go through ``riskkit orders check`` and ``riskkit detect all``
in-process; data files through their loaders.  For each reader the campaign
prints the inputs tried, internal errors (exit 1 or an escaped exception),
lost rows (rows in != rows accepted + rows quarantined, or order ids missing
from scores.csv), leftover temporary files in ``--out`` and any other broken
property.  It exits 1 when anything failed.  The generators and the
properties are the ones of ``tests/fuzz`` (see ``tests/fuzz/oracle.py``).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import tempfile
import time
import warnings
from collections import Counter, defaultdict
from pathlib import Path

FUZZ_DIR = Path(__file__).resolve().parent.parent / "tests" / "fuzz"
sys.path.insert(0, str(FUZZ_DIR))

from draw import RandomDraw  # noqa: E402
from gen_datafiles import DATAFILE_READERS, make_datafile  # noqa: E402
from gen_exports import EXPORT_READERS, make_export  # noqa: E402
from oracle import KNOWN_DETECTOR_MODULES, Outcome, check_datafile, check_export  # noqa: E402

READERS = [*EXPORT_READERS, *DATAFILE_READERS]


def _worker_init() -> None:
    # As in CI (pytest's filterwarnings = error): a warning is a failure too.
    warnings.simplefilter("error")


def run_one(task: tuple[str, str, str | None]) -> tuple[str, str, dict[str, int], str]:
    """Generate and check one input: (reader, key, failure counts, description)."""
    reader, key, save = task
    draw = RandomDraw(key)
    with tempfile.TemporaryDirectory(prefix="riskkit-fuzz-") as folder:
        if reader in EXPORT_READERS:
            case = make_export(reader, draw)
            outcome = check_export(case, Path(folder))
            meta = {
                "reader": reader,
                "key": key,
                "inputs": case.inputs,
                "args": case.args,
                "expected_rows": case.expected_rows,
                "ids": None if case.ids is None else sorted(case.ids),
                "mutations": case.mutations,
            }
            files = case.files
        else:
            data_case = make_datafile(reader, draw)
            path = Path(folder) / data_case.name
            path.write_bytes(data_case.data)
            outcome = check_datafile(DATAFILE_READERS[reader][1], path)
            meta = {"reader": reader, "key": key, "name": data_case.name}
            meta["mutations"] = data_case.mutations
            files = {data_case.name: data_case.data}
    counts = _counts(outcome)
    if save is not None and not outcome.ok:
        target = Path(save) / key.replace(":", "_").replace("+", "_")
        target.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            (target / name).write_bytes(data)
        meta["failure"] = outcome.describe()
        (target / "case.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2))
    return reader, key, counts, outcome.describe()


def _counts(outcome: Outcome) -> dict[str, int]:
    return {
        "internal": len(outcome.internal_errors),
        "detector": len(outcome.detector_errors),
        "lost": len(outcome.lost_rows),
        "temp": len(outcome.leftover_temp_files),
        "other": len(outcome.other),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", type=int, default=10_000, help="Inputs in all (split evenly).")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", default="riskkit-fuzz-1")
    parser.add_argument("--readers", nargs="*", choices=READERS, default=READERS)
    parser.add_argument("--save", default=None, help="Folder to keep every failing input in.")
    parser.add_argument("--show", type=int, default=3, help="Failures printed per reader.")
    args = parser.parse_args(argv)

    per_reader = -(-args.inputs // len(args.readers))
    tasks = [
        (reader, f"{args.seed}:{reader}:{i}", args.save)
        for i in range(per_reader)
        for reader in args.readers
    ]
    tried: Counter[str] = Counter()
    failures: dict[str, Counter[str]] = defaultdict(Counter)
    shown: Counter[str] = Counter()
    seconds: Counter[str] = Counter()
    started = time.perf_counter()
    with multiprocessing.Pool(args.workers, initializer=_worker_init) as pool:
        for done, (reader, key, counts, described) in enumerate(
            pool.imap_unordered(run_one, tasks, chunksize=4), start=1
        ):
            tried[reader] += 1
            for name, count in counts.items():
                failures[reader][name] += bool(count)
            if any(counts.values()) and shown[reader] < args.show:
                shown[reader] += 1
                print(f"FAIL {key}\n{described[-3000:]}\n", flush=True)
            if done % 500 == 0:
                elapsed = time.perf_counter() - started
                print(f"... {done}/{len(tasks)} inputs, {elapsed:.0f} s", flush=True)
    seconds["all"] = round(time.perf_counter() - started)

    header = (
        f"{'reader':<16}{'inputs':>8}{'internal':>10}{'in detector':>13}{'lost rows':>11}"
        f"{'temp files':>12}{'other':>7}"
    )
    print(header)
    print("-" * len(header))
    totals: Counter[str] = Counter()
    for reader in args.readers:
        row = failures[reader]
        totals.update({"inputs": tried[reader], **row})
        print(
            f"{reader:<16}{tried[reader]:>8}{row['internal']:>10}{row['detector']:>13}"
            f"{row['lost']:>11}{row['temp']:>12}{row['other']:>7}"
        )
    print("-" * len(header))
    print(
        f"{'total':<16}{totals['inputs']:>8}{totals['internal']:>10}{totals['detector']:>13}"
        f"{totals['lost']:>11}{totals['temp']:>12}{totals['other']:>7}"
        f"   ({seconds['all']} s, {args.workers} workers)"
    )
    print(
        "internal = exit 1 or an escaped exception outside the detectors; in detector = inside "
        + ", ".join(KNOWN_DETECTOR_MODULES)
        + "; lost rows = rows read != accepted + quarantined, a quarantine "
        "count that differs from rejected_rows.csv, or an order id missing from a scores.csv"
    )
    bad = sum(totals[k] for k in ("internal", "detector", "lost", "temp", "other"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
