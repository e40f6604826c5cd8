"""Quality of the traffic-drift and price-discrimination detectors on synthetic data.

For every seed the synthetic marketplace (``riskkit.synth.generate``) is built
with its ground truth: injected drift windows (``labels_drift.csv``), price
discrimination and flash-sale traps (``labels_price.csv``) and the promotions
calendar (``promotions.yaml``).

Price discrimination (targets in docs/drift.md): recall of injected
discriminated cells >= 0.95; <= 1 false flag per 1,000 SKU x attribute cells;
no flag on a flash-sale SKU.  Run with and without the calendar: comparing
within the hour must defuse the flash-sale trap even when it is not declared.

Traffic drift: an injected window is caught when a drifted window of its
scope (its shop, or the whole marketplace) overlaps it, at daily or hourly
resolution; <= 1 false alarm per 30 tested windows at each resolution; no
alarm on a calendar promotion (双11).  Drifted windows that overlap an
injected fraud ring of the same shop (brushing, coupon abuse: real
anomalies) are counted apart from false alarms.

    python benchmarks/drift_quality.py --rows 1000000 --seeds 1 2 3
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd
import yaml

from riskkit.synth import SynthData, generate
from riskkit_detectors.price_discrimination import PriceDiscriminationDetector
from riskkit_detectors.traffic_drift import TrafficDriftDetector

# The generator calls the returning-buyer cohort "buyer_type"; the detector's
# attribute is "new_vs_returning".
ATTRIBUTE_NAMES = {"buyer_type": "new_vs_returning"}


def price_quality(data: SynthData, calendar: Path | None) -> dict[str, float]:
    detector = PriceDiscriminationDetector(calendar=str(calendar) if calendar else None)
    started = time.perf_counter()
    detector.fit(data.orders)
    seconds = time.perf_counter() - started
    cells = detector.result_.tables["findings.csv"]
    labels = data.price.assign(attribute=data.price["attribute"].replace(ATTRIBUTE_NAMES))
    injected = labels[labels["kind"] == "discriminated"]
    traps = set(labels.loc[labels["kind"] == "flash_sale_trap", "sku_id"])
    flagged = cells[cells["flagged"]]
    key = ["sku_id", "attribute", "cohort"]
    hits = injected.merge(flagged[key], on=key, how="inner")
    truth = set(map(tuple, injected[key].to_numpy()))
    false = [row for row in map(tuple, flagged[key].to_numpy()) if row not in truth]
    sku_attribute_cells = cells[["sku_id", "attribute"]].drop_duplicates().shape[0]
    return {
        "injected": len(injected),
        "caught": len(hits),
        "false_flags": len(false),
        "flash_sale_flags": int(flagged["sku_id"].isin(traps).sum()),
        "sku_attribute_cells": sku_attribute_cells,
        "cohort_cells": len(cells),
        "seconds": round(seconds, 2),
    }


def _overlaps(start: pd.Series, end: pd.Series, lo: pd.Timestamp, hi: pd.Timestamp) -> pd.Series:
    return (start < hi) & (end > lo)


def drift_quality(data: SynthData, calendar: Path, window: str) -> dict[str, float]:
    detector = TrafficDriftDetector(window=window, calendar=str(calendar))
    started = time.perf_counter()
    detector.fit(data.orders)
    seconds = time.perf_counter() - started
    windows = detector.result_.tables["windows.csv"]
    drifted = windows[windows["drifted"]].copy()
    labels = data.drift.assign(
        window_start=pd.to_datetime(data.drift["window_start"]),
        window_end=pd.to_datetime(data.drift["window_end"]),
    )
    caught: set[int] = set()
    explained = pd.Series(False, index=drifted.index)
    for index, label in labels.iterrows():
        hit = _overlaps(
            drifted["window_start"], drifted["window_end"], label.window_start, label.window_end
        )
        if label.scope != "all":
            hit &= drifted["scope"].isin([label.scope, "all"])
        if hit.any():
            caught.add(int(index))
        explained |= hit
    rings = data.groups
    ring_explained = pd.Series(False, index=drifted.index)
    for ring in rings.itertuples():
        hit = _overlaps(
            drifted["window_start"],
            drifted["window_end"],
            pd.Timestamp(ring.window_start),
            pd.Timestamp(ring.window_end),
        )
        hit &= drifted["scope"].isin([str(ring.shop_id), "all"])
        ring_explained |= hit
    promotions = [p for p in data.promotions if p.get("kind") == "festival"]
    on_promotion = pd.Series(False, index=drifted.index)
    for promo in promotions:
        on_promotion |= _overlaps(
            drifted["window_start"],
            drifted["window_end"],
            pd.Timestamp(promo["start"]),
            pd.Timestamp(promo["end"]),
        )
    tested = int(detector.result_.summary["windows_tested"])
    false_alarms = int((~explained & ~ring_explained).sum())
    return {
        "window": window,
        "injected": len(labels),
        "caught": len(caught),
        "caught_ids": sorted(caught),
        "windows_tested": tested,
        "drifted": len(drifted),
        "false_alarms": false_alarms,
        "explained_by_fraud_rings": int((~explained & ring_explained).sum()),
        "false_alarms_per_30": round(false_alarms / max(tested, 1) * 30, 3),
        "alarms_on_calendar_promotions": int(on_promotion.sum()),
        "seconds": round(seconds, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()
    price_rows: list[dict[str, object]] = []
    drift_rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory(prefix="riskkit-drift-quality-") as tmp:
        for seed in args.seeds:
            started = time.perf_counter()
            data = generate(args.rows, seed)
            calendar = Path(tmp) / f"promotions-{seed}.yaml"
            calendar.write_text(
                yaml.safe_dump({"promotions": data.promotions}, allow_unicode=True),
                encoding="utf-8",
            )
            print(f"seed {seed}: generated in {time.perf_counter() - started:.1f} s", flush=True)
            for use_calendar in (True, False):
                row = price_quality(data, calendar if use_calendar else None)
                price_rows.append({"seed": seed, "calendar": use_calendar, **row})
                print(f"  price {price_rows[-1]}", flush=True)
            for window in ("1D", "1h"):
                drift_rows.append({"seed": seed, **drift_quality(data, calendar, window)})
                print(f"  drift {drift_rows[-1]}", flush=True)
            del data

    price = pd.DataFrame(price_rows)
    print("\nPrice discrimination")
    print(price.to_string(index=False))
    for use_calendar, part in price.groupby("calendar"):
        recall = part["caught"].sum() / max(part["injected"].sum(), 1)
        per_1000 = part["false_flags"].sum() / max(part["sku_attribute_cells"].sum(), 1) * 1000
        print(
            f"calendar={use_calendar}: recall {recall:.3f} (target >= 0.95); "
            f"false flags per 1,000 SKU x attribute cells {per_1000:.2f} (target <= 1); "
            f"flags on flash-sale SKUs {int(part['flash_sale_flags'].sum())} (target 0)"
        )

    drift = pd.DataFrame(drift_rows)
    print("\nTraffic drift")
    print(drift.drop(columns=["caught_ids"]).to_string(index=False))
    union_caught = 0
    injected = 0
    for _seed, part in drift.groupby("seed"):
        union_caught += len(set().union(*map(set, part["caught_ids"])))
        injected += int(part["injected"].iloc[0])
    print(
        f"injected windows caught at either resolution: {union_caught}/{injected} "
        f"({union_caught / max(injected, 1):.3f})"
    )
    for window, part in drift.groupby("window"):
        rate = part["false_alarms"].sum() / max(part["windows_tested"].sum(), 1) * 30
        print(
            f"window {window}: caught {int(part['caught'].sum())}/{int(part['injected'].sum())}; "
            f"false alarms per 30 windows {rate:.3f} (target <= 1); "
            f"alarms on calendar promotions {int(part['alarms_on_calendar_promotions'].sum())} "
            "(target 0)"
        )


if __name__ == "__main__":
    main()
