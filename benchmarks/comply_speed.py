"""Speed of the pricing rules on a large catalogue (not a timed test).

    python benchmarks/comply_speed.py                    # 1M SKUs x 30 days = 30M history rows
    python benchmarks/comply_speed.py --skus 200000      # smaller, on a busy machine
    python benchmarks/comply_speed.py --compare          # old per-event code vs spans, one run

Builds a synthetic catalogue (every SKU on promotion, a compared price) with
``--days`` daily offered prices per SKU and ``--orders-per-sku`` transactions
in the week before the promotion, then times each pricing rule's check on the
in-memory evidence (file parsing is timed separately by pandas' read_csv).
Prints, per rule, the median wall time of ``--repeat`` runs and the peak memory
the check added above what was resident before it (RSS sampled every 10 ms).
``--compare`` also runs the per-event implementation the spans replaced
(``comply_legacy.py``), interleaved with the new one, and exits 1 unless both
return identical outcomes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import comply_legacy  # beside this script (python puts the script's folder on sys.path)
import numpy as np
import pandas as pd
import psutil

from riskkit.comply.evidence import Evidence
from riskkit.comply.loader import load_policies
from riskkit.comply.models import Outcome
from riskkit.comply.templates import TEMPLATES, CheckContext
from riskkit_policies.checks import pricing

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


class PeakRss:
    """Highest RSS seen by a 10 ms sampler while the block runs."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.peak = 0
        self._stop = threading.Event()

    def _sample(self) -> None:
        while not self._stop.wait(0.01):
            self.peak = max(self.peak, self.process.memory_info().rss)

    @contextmanager
    def watch(self) -> Iterator[None]:
        self.peak = self.process.memory_info().rss
        self._stop.clear()
        sampler = threading.Thread(target=self._sample, daemon=True)
        sampler.start()
        try:
            yield
        finally:
            self._stop.set()
            sampler.join()
            self.peak = max(self.peak, self.process.memory_info().rss)


@contextmanager
def legacy_code() -> Iterator[None]:
    """The per-event implementation in place of the span-based one."""
    with (
        mock.patch.object(pricing, "reference_prices", comply_legacy.reference_prices),
        mock.patch.object(pricing, "window_rows", comply_legacy.window_rows),
    ):
        yield


def _checker(template: str, old: bool) -> Callable[[CheckContext[Any]], list[Outcome]]:
    """The template's check; for ``old`` the code before spans (and before the GC pause)."""
    if not old:
        return TEMPLATES[template].run
    if template == "price_rise_before_promo":
        return comply_legacy.legacy_price_rise_before_promo
    checks: dict[str, Callable[[CheckContext[Any]], list[Outcome]]] = {
        "reference_price_window": pricing.reference_price_window
    }
    return checks[template]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--orders-per-sku", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rules", nargs="*", default=list(RULES), help="Rule ids to time.")
    parser.add_argument(
        "--compare", action="store_true", help="Also time the old per-event code; check equality."
    )
    args = parser.parse_args()

    started = time.perf_counter()
    frames = build(args.skus, args.days, args.orders_per_sku, args.seed)
    print(
        f"built {args.skus:,} SKUs, {len(frames['price_history']):,} history rows, "
        f"{len(frames['orders']):,} order lines in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    rules = {r.rule.id: r for r in load_policies()}
    variants = ("old", "new") if args.compare else ("new",)
    totals = dict.fromkeys(variants, 0.0)
    sampler = PeakRss()
    identical = True
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
            timings: dict[str, list[float]] = {v: [] for v in variants}
            peaks = dict.fromkeys(variants, 0)
            results: dict[str, list[Outcome]] = {}
            for _ in range(args.repeat):
                for variant in variants:  # interleaved: the noise of the shared cores hits both
                    check = _checker(loaded.rule.check.template, variant == "old")
                    results.pop(variant, None)
                    before = psutil.Process().memory_info().rss
                    with legacy_code() if variant == "old" else _nothing(), sampler.watch():
                        clock = time.perf_counter()
                        results[variant] = check(context)
                        timings[variant].append(time.perf_counter() - clock)
                    peaks[variant] = max(peaks[variant], sampler.peak - before)
            failing = sum(o.status == "fail" for o in results["new"])
            if args.compare:
                same = results["old"] == results["new"]
                identical &= same
            for variant in variants:
                median = statistics.median(timings[variant])
                totals[variant] += median
                print(
                    f"{rule_id:<34} {variant:<3} median {median:6.2f} s  (runs: "
                    f"{', '.join(f'{t:.2f}' for t in timings[variant])})  "
                    f"peak +{peaks[variant] / 2**30:.2f} GiB  failing SKUs {failing:,}",
                    flush=True,
                )
            if args.compare:
                print(f"{rule_id:<34} outcomes identical: {same}", flush=True)
            results.clear()
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for variant in variants:
        print(f"all four pricing rules ({variant}): {totals[variant]:.1f} s (sum of medians)")
    print(f"peak RSS of the whole benchmark {peak_kib / 1024 / 1024:.2f} GiB")
    sys.exit(0 if identical else 1)


@contextmanager
def _nothing() -> Iterator[None]:
    yield


if __name__ == "__main__":
    main()
