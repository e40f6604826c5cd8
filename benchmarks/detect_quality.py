"""Quality of the brushing and coupon-abuse detectors on synthetic exports.

For every seed and format (riskkit, shopify, taobao) the synthetic marketplace
is written to real files, read back through ``riskkit.orders.read_orders``
and each detector's ``flagged`` column is scored against ``labels.csv`` at the
order level: average precision of ``score``, precision and recall of
``flagged``.  Targets (docs/detectors.md): canonical recall >= 0.95 at
precision >= 0.95; Shopify and Taobao (no device, no IP) recall >= 0.8 at
precision >= 0.9.

    python benchmarks/detect_quality.py --rows 200000 --seeds 1 2 3
"""

from __future__ import annotations

import argparse
import glob
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from riskkit.detection import load_detector
from riskkit.orders import read_orders
from riskkit.synth import write_dataset

TARGET_LABEL = {"brushing": "brushing", "coupon-abuse": "coupon_abuse"}


def average_precision(truth: np.ndarray, score: np.ndarray) -> float:
    """Area under the precision-recall step curve (ties broken pessimistically)."""
    if truth.sum() == 0:
        return float("nan")
    order = np.lexsort((truth, -score))  # among equal scores, negatives first
    hits = truth[order].astype(float)
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float((precision * hits).sum() / hits.sum())


def evaluate(scores: pd.DataFrame, labels: pd.DataFrame, target: str) -> dict[str, float]:
    merged = scores.merge(labels, on="order_id", how="left", validate="one_to_one")
    truth = (merged["label"] == target).to_numpy()
    flagged = (merged["flagged"].astype(str) == "true").to_numpy()
    tp = int((truth & flagged).sum())
    return {
        "ap": average_precision(truth, merged["score"].to_numpy(dtype=float)),
        "precision": tp / max(int(flagged.sum()), 1),
        "recall": tp / max(int(truth.sum()), 1),
        "positives": int(truth.sum()),
        "flagged": int(flagged.sum()),
        "false_positives_lookalike": int((flagged & ~truth & (merged["lookalike"] != "")).sum()),
    }


def run(rows: int, seeds: list[int], formats: list[str], detectors: list[str]) -> pd.DataFrame:
    results = []
    with tempfile.TemporaryDirectory(prefix="riskkit-quality-") as tmp:
        for seed in seeds:
            for fmt in formats:
                folder = Path(tmp) / f"{fmt}-{seed}"
                write_dataset(folder, rows, seed, fmt)
                labels = pd.read_csv(folder / "labels.csv", dtype=str, keep_default_na=False)
                inputs = sorted(
                    p for p in glob.glob(str(folder / "*.csv")) if "labels" not in Path(p).name
                )
                table = read_orders(inputs, fmt=None)
                for name in detectors:
                    started = time.perf_counter()
                    detector = load_detector(name).fit(table.frame)
                    seconds = time.perf_counter() - started
                    scores = detector.result_.tables["scores.csv"]
                    metrics = evaluate(scores, labels, TARGET_LABEL[name])
                    results.append(
                        {
                            "detector": name,
                            "format": fmt,
                            "seed": seed,
                            "seconds": seconds,
                            **metrics,
                        }
                    )
                    print(
                        f"{name:13s} {fmt:8s} seed={seed} AP={metrics['ap']:.3f} "
                        f"P={metrics['precision']:.3f} R={metrics['recall']:.3f} "
                        f"flagged={metrics['flagged']} positives={metrics['positives']} "
                        f"({seconds:.1f} s)",
                        flush=True,
                    )
    return pd.DataFrame(results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--formats", nargs="+", default=["riskkit", "shopify", "taobao"])
    parser.add_argument("--detectors", nargs="+", default=["brushing", "coupon-abuse"])
    args = parser.parse_args()
    results = run(args.rows, args.seeds, args.formats, args.detectors)
    summary = results.groupby(["detector", "format"])[["ap", "precision", "recall"]].mean().round(3)
    print("\nmean over seeds:")
    print(summary.to_string())


if __name__ == "__main__":
    main()
