"""Speed of the pricing rules on a large catalogue (not a timed test).

    python benchmarks/comply_speed.py                    # 1M SKUs x 30 days = 30M history rows
    python benchmarks/comply_speed.py --skus 200000      # smaller, on a busy machine

Builds a synthetic catalogue (every SKU on promotion, a compared price) with
``--days`` daily offered prices per SKU and ``--orders-per-sku`` transactions
in the week before the promotion, then times each pricing rule's check on the
in-memory evidence (file parsing is timed separately by pandas' read_csv).
Prints the median of ``--repeat`` runs per rule and the peak RSS.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import statistics
import sys
import tempfile
import time

import numpy as np
import pandas as pd

from riskkit.comply.evidence import Evidence
from riskkit.comply.loader import load_policies
from riskkit.comply.templates import TEMPLATES, CheckContext

RULES = (
    "cn-price-art16-reference-price",
    "cn-price-art17-pre-promo-rise",
    "eu-pid-art6a-prior-price",
    "us-ca-former-price",
)
PROMO = pd.Timestamp("2026-11-11")


def build(skus: int, days: int, orders_per_sku: int, seed: int) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ids = np.array([f"SKU-{i:07d}" for i in range(skus)], dtype=object)
    base = rng.uniform(10, 500, skus).round(2)
    catalog = pd.DataFrame(
        {
            "sku_id": ids,
            "title": "商品",
            "category": "日用",
            "price": (base * 0.8).round(2),
            # 5 % of SKUs show a compared price above every recent price (violations)
            "compare_at_price": (base * rng.choice([0.96, 1.10], skus, p=[0.95, 0.05])).round(2),
            "promo_start": PROMO,
            "returnable": True,
        }
    )
    day_index = np.tile(np.arange(days), skus)
    history = pd.DataFrame(
        {
            "sku_id": np.repeat(ids, days),
            "at": PROMO - pd.to_timedelta(days - day_index, unit="D"),
            "price": (np.repeat(base, days) * rng.uniform(0.97, 1.05, skus * days)).round(2),
        }
    )
    # 2 % of SKUs get a 20 % rise in the 5 days before the promotion (CN Art. 17 violations)
    raised = np.repeat(rng.random(skus) < 0.02, days) & (day_index >= days - 5)
    history.loc[raised, "price"] = (history.loc[raised, "price"] * 1.2).round(2)
    n_orders = skus * orders_per_sku
    orders = pd.DataFrame(
        {
            "order_id": np.arange(n_orders).astype(str).astype(object),
            "buyer_id": "b",
            "sku_id": np.repeat(ids, orders_per_sku),
            "created_at": PROMO - pd.to_timedelta(rng.uniform(0.1, 9, n_orders), unit="D"),
            "unit_price": (
                np.repeat(base, orders_per_sku) * rng.uniform(0.98, 1.02, n_orders)
            ).round(2),
        }
    )
    return {"catalog": catalog, "price_history": history, "orders": orders}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--orders-per-sku", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rules", nargs="*", default=list(RULES), help="Rule ids to time.")
    args = parser.parse_args()

    started = time.perf_counter()
    frames = build(args.skus, args.days, args.orders_per_sku, args.seed)
    print(
        f"built {args.skus:,} SKUs, {len(frames['price_history']):,} history rows, "
        f"{len(frames['orders']):,} order lines in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    rules = {r.rule.id: r for r in load_policies()}
    total = 0.0
    with tempfile.TemporaryDirectory() as folder:
        evidence = Evidence(folder)
        for key, frame in frames.items():
            evidence.preload(key, frame)
        del frames
        for rule_id in args.rules:
            loaded = rules[rule_id]
            context = CheckContext(
                evidence, loaded.params, loaded.rule.source.effective, dt.datetime(2026, 11, 22)
            )
            timings = []
            for _ in range(args.repeat):
                clock = time.perf_counter()
                outcomes = TEMPLATES[loaded.rule.check.template].run(context)
                timings.append(time.perf_counter() - clock)
            failing = sum(o.status == "fail" for o in outcomes)
            del outcomes
            median = statistics.median(timings)
            total += median
            print(
                f"{rule_id:<34} median {median:6.2f} s  (runs: "
                f"{', '.join(f'{t:.2f}' for t in timings)})  failing SKUs {failing:,}",
                flush=True,
            )
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"all four pricing rules: {total:.1f} s (sum of medians); "
        f"peak RSS {peak_kib / 1024 / 1024:.2f} GiB"
    )
    sys.exit(0)


if __name__ == "__main__":
    main()
