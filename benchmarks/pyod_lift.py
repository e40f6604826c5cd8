"""Does an unsupervised account anomaly score (pyod HBOS) lift brushing detection?

For each seed of a world, the canonical export is written and read back, the
brushing detector fitted, and a pyod ``HBOS`` fitted on per-account features
(orders, distinct SKUs per order, median seconds to pay, share paid within
5 s, median account age at order, share of orders re-ordering a SKU within a
day).  The order-level average precision of the detector's ``score`` is
compared with that of the HBOS score alone and of their rank average (no
weight is tuned).  HBOS is linear in the rows, so it is usable above 1M; ECOD,
COPOD, LOF and KNN are not tried there.

    python benchmarks/pyod_lift.py --world adversarial --seeds 1 2 3
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd
from detect_quality import average_precision
from pyod.models.hbos import HBOS

from riskkit.detection import load_detector
from riskkit.orders import read_orders
from riskkit.synth import write_dataset


def account_features(frame: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame]:
    orders = frame.drop_duplicates("order_id").copy()
    pay = (orders["paid_at"] - orders["created_at"]).dt.total_seconds()
    age = (orders["created_at"] - orders["buyer_registered_at"]).dt.total_seconds() / 86_400
    orders = orders.assign(pay=pay, instant=(pay <= 5).astype(float), age=age)
    lines = frame.assign(day=frame["created_at"].dt.floor("D"))
    repeats = lines.groupby(["buyer_id", "sku_id", "day"])["order_id"].nunique()
    repeat_share = (repeats[repeats >= 2].groupby("buyer_id").sum()).rename("repeat")
    skus = lines.groupby("buyer_id")["sku_id"].nunique().rename("skus")
    per = orders.groupby("buyer_id").agg(
        n=("order_id", "size"),
        pay=("pay", "median"),
        instant=("instant", "mean"),
        age=("age", "median"),
    )
    per = per.join(skus).join(repeat_share).fillna({"repeat": 0.0})
    per["skus_per_order"] = per["skus"] / per["n"]
    per["repeat"] = per["repeat"] / per["n"]
    per = per.drop(columns=["skus"]).fillna(per.median(numeric_only=True)).fillna(0.0)
    return orders.set_index("order_id")["buyer_id"], per


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--world", choices=["standard", "adversarial"], default="adversarial")
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="riskkit-pyod-") as tmp:
        for seed in args.seeds:
            folder = Path(tmp) / str(seed)
            write_dataset(folder, args.rows, seed, "riskkit", world=args.world)
            labels = pd.read_csv(folder / "labels.csv", dtype=str, keep_default_na=False)
            frame = read_orders([str(folder / "orders.csv")], fmt=None).frame
            scores = load_detector("brushing").fit(frame).result_.tables["scores.csv"]
            started = time.perf_counter()
            buyer_of, features = account_features(frame)
            hbos = HBOS(contamination=0.01).fit(features.to_numpy(dtype=float))
            seconds = time.perf_counter() - started
            account_score = pd.Series(hbos.decision_scores_, index=features.index)
            merged = scores.merge(labels, on="order_id", validate="one_to_one")
            merged["hbos"] = account_score.reindex(buyer_of.reindex(merged["order_id"])).to_numpy()
            truth = (merged["label"] == "brushing").to_numpy()
            detector = merged["score"].to_numpy(dtype=float)
            anomaly = merged["hbos"].fillna(0.0).to_numpy(dtype=float)
            both = (pd.Series(detector).rank(pct=True) + pd.Series(anomaly).rank(pct=True)) / 2
            row = {
                "seed": seed,
                "ap_detector": average_precision(truth, detector),
                "ap_hbos": average_precision(truth, anomaly),
                "ap_rank_average": average_precision(truth, both.to_numpy()),
                "hbos_seconds": round(seconds, 2),
            }
            rows.append(row)
            print(row, flush=True)
    table = pd.DataFrame(rows)
    print(table.to_string(index=False))
    print("mean:", table.drop(columns=["seed"]).mean().round(3).to_dict())


if __name__ == "__main__":
    main()
