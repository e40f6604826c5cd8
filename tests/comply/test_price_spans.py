"""Span-based price windows give what a plain per-event loop gives, on random small histories.

The loops below follow the rules' wording event by event (one SKU at a time, no
spans, no vectorisation): the price in force when the window opens, each price
lasting until the next event, the highest price's earliest event.  Histories
are seeded and built to hit the edges: repeated and recurring prices (long
spans), several events at one time, unsorted files, events on the window's first
instant and after the promotion, SKUs without history, missing prices.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from typing import Any

import numpy as np
import pandas as pd
import pytest

from riskkit.comply.evidence import Evidence
from riskkit.comply.templates import TEMPLATES, CheckContext
from riskkit_policies.checks.price_spans import promoted_events
from riskkit_policies.checks.price_windows import reference_prices, window_rows
from riskkit_policies.checks.pricing import PriceRiseParams

PROMO = dt.datetime(2026, 11, 11)
TIME = "%Y-%m-%d %H:%M:%S"


def _history(rng: random.Random, skus: int) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """(promotions, events, window_days): a few SKUs, a few dozen events each at most."""
    window_days = rng.choice([1, 3, 7, 30])
    promo_starts = [PROMO + dt.timedelta(hours=rng.choice([0, 0, 9, 15])) for _ in range(skus)]
    promos = pd.DataFrame(
        {
            "sku_id": [f"S{i}" for i in range(skus)],
            "promo_start": pd.to_datetime(promo_starts),
        }
    )
    promos["window_start"] = promos["promo_start"].dt.normalize() - pd.to_timedelta(
        window_days, unit="D"
    )
    prices = [9.9, 10.0, 12.5, 15.0]
    rows: list[dict[str, Any]] = []
    for i in range(skus + 1):  # the last SKU is not promoted
        if rng.random() < 0.1:
            continue  # no history at all
        window_start = PROMO - dt.timedelta(days=window_days)
        price = rng.choice(prices)
        for _ in range(rng.randint(1, 25)):
            if rng.random() < 0.4:
                price = rng.choice(prices)  # else the price repeats: a longer span
            kind = rng.random()
            if kind < 0.1:
                at = window_start  # the window's first instant
            elif kind < 0.15:
                at = PROMO + dt.timedelta(hours=rng.randint(0, 30))  # at or after the promotion
            else:
                at = window_start + dt.timedelta(
                    minutes=rng.randint(-3 * 24 * 60, (window_days + 1) * 24 * 60)
                )
            value = math.nan if rng.random() < 0.03 else price
            rows.append({"sku_id": f"S{i}", "at": at, "price": value})
            if rng.random() < 0.1:  # another event at the same time, another price
                rows.append({"sku_id": f"S{i}", "at": at, "price": rng.choice(prices)})
    rng.shuffle(rows)
    events = pd.DataFrame(rows, columns=["sku_id", "at", "price"])
    events["at"] = pd.to_datetime(events["at"])
    events["file_row"] = np.arange(2, len(events) + 2)
    return promos, events, window_days


def _events_of(events: pd.DataFrame, sku: str, promo_start: pd.Timestamp) -> list[tuple]:
    """(at, price, file_row) of one SKU before its promotion, in time then file order."""
    mine = events.loc[(events["sku_id"] == sku) & (events["at"] < promo_start)]
    found = list(zip(mine["at"], mine["price"], mine["file_row"], strict=True))
    return sorted(found, key=lambda e: (e[0], e[2]))


def _loop_reference(
    timeline: list[tuple],
    window_start: pd.Timestamp,
    promo_start: pd.Timestamp,
    basis: str,
    statistic: str,
    fallback: bool,
) -> dict[str, Any]:
    before = [e for e in timeline if e[0] < window_start]
    inside = [e for e in timeline if e[0] >= window_start]
    used = list(inside)
    if basis == "offered" and before:
        used.insert(0, (window_start, before[-1][1], before[-1][2]))  # in force at the opening
    priced = [e for e in used if not math.isnan(e[1])]
    if statistic == "min":
        reference = min((e[1] for e in priced), default=math.nan)
    else:
        lasted: dict[int, pd.Timedelta] = {}
        for index, event in enumerate(used):
            until = used[index + 1][0] if index + 1 < len(used) else promo_start
            if not math.isnan(event[1]):
                cents = round(event[1] * 100)
                lasted[cents] = lasted.get(cents, pd.Timedelta(0)) + (until - event[0])
        best = min(lasted.items(), key=lambda kv: (-kv[1], kv[0]), default=None)
        reference = math.nan if best is None else best[0] / 100
    basis_used = "window"
    if fallback and not used and timeline:
        reference, basis_used = timeline[-1][1], "last_transaction"
        used = [timeline[-1]]
    return {
        "reference": reference,
        "basis_used": basis_used,
        "count": len(used) if basis_used == "window" else 0,
        "rows": [
            {"file_row": int(row), "at": at.strftime(TIME), "price": float(price)}
            for at, price, row in sorted(used, key=lambda e: e[0])
        ],
    }


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize(
    ("basis", "statistic", "fallback"),
    [
        ("transaction", "min", True),
        ("offered", "min", False),
        ("offered", "prevailing", False),
        ("transaction", "prevailing", True),
    ],
)
def test_reference_prices_match_a_per_event_loop(
    seed: int, basis: str, statistic: str, fallback: bool
) -> None:
    promos, events, _ = _history(random.Random(seed), skus=12)
    result, parts = reference_prices(promos, events, basis, statistic, fallback)  # type: ignore[arg-type]
    rows = window_rows(parts, np.arange(len(promos)), limit=1_000)
    for code, promo in promos.iterrows():
        timeline = _events_of(events, promo["sku_id"], promo["promo_start"])
        expected = _loop_reference(
            timeline, promo["window_start"], promo["promo_start"], basis, statistic, fallback
        )
        got = result.iloc[code]
        where = f"seed {seed}, {promo['sku_id']}: {timeline}"
        assert _same(got["reference"], expected["reference"]), where
        assert got["basis_used"] == expected["basis_used"], where
        assert got["window_count"] == expected["count"], where
        assert _rows_equal(rows.get(code, []), expected["rows"]), where


def _rows_equal(got: list[dict[str, Any]], expected: list[dict[str, Any]]) -> bool:
    """Evidence rows equal, NaN prices included."""
    return len(got) == len(expected) and all(
        g["file_row"] == e["file_row"] and g["at"] == e["at"] and _same(g["price"], e["price"])
        for g, e in zip(got, expected, strict=True)
    )


@pytest.mark.parametrize("seed", range(40))
def test_price_rise_before_promo_matches_a_per_event_loop(seed: int, tmp_path) -> None:
    promos, events, window_days = _history(random.Random(seed), skus=12)
    evidence = Evidence(tmp_path)
    catalog = promos[["sku_id", "promo_start"]].assign(title="t", category="c", price=1.0)
    evidence.preload("catalog", catalog)
    evidence.preload("price_history", events[["sku_id", "at", "price"]])
    params = PriceRiseParams(rise_window_days=window_days, max_rise_ratio=0.10)
    ctx = CheckContext(evidence, params, dt.date(2022, 7, 1), PROMO)
    outcomes = {o.subject: o for o in TEMPLATES["price_rise_before_promo"].run(ctx)}
    assert len(outcomes) == len(promos)
    for _, promo in promos.iterrows():
        timeline = _events_of(events, promo["sku_id"], promo["promo_start"])
        before = [e for e in timeline if e[0] < promo["window_start"]]
        inside = [e for e in timeline if e[0] >= promo["window_start"] and not math.isnan(e[1])]
        outcome = outcomes[f"sku:{promo['sku_id']}"]
        where = f"seed {seed}, {promo['sku_id']}: {timeline}"
        if not before or math.isnan(before[-1][1]):
            assert outcome.status == "not_checked", where
            continue
        base = before[-1]
        top = max((e[1] for e in inside), default=math.nan)
        peak = next((e for e in inside if e[1] == top), None)
        if top / base[1] - 1 > 0.10:
            assert outcome.status == "fail", where
            assert outcome.evidence["price_before_window"]["file_row"] == base[2], where
            assert outcome.evidence["highest_in_window"]["file_row"] == peak[2], where
            assert outcome.evidence["highest_in_window"]["at"] == peak[0].strftime(TIME), where
            assert outcome.evidence["rise_ratio"] == round(top / base[1] - 1, 4), where
        else:
            assert outcome.status == "pass", where
            assert _same(outcome.evidence["price_before_window"], base[1]), where
            assert _same(outcome.evidence["highest_in_window"] or math.nan, top), where


def test_spans_collapse_repeated_prices() -> None:
    promos = pd.DataFrame({"sku_id": ["A"], "promo_start": pd.to_datetime(["2026-11-11"])}).assign(
        window_start=pd.to_datetime(["2026-10-12"])
    )
    days = pd.date_range("2026-10-01", periods=30, freq="D")
    prices = [10.0] * 12 + [12.0] * 3 + [10.0] * 15
    events = pd.DataFrame({"sku_id": "A", "at": days, "price": prices, "file_row": range(2, 32)})
    spans = promoted_events(events, promos).spans()
    assert spans.price.tolist() == [10.0, 12.0, 10.0]
    assert (spans.last - spans.first + 1).tolist() == [12, 3, 15]
