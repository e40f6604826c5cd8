"""Helpers: write a small evidence folder, run one rule on it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from riskkit.comply import Finding, RunOptions, run_compliance

AS_OF = dt.datetime(2026, 11, 22, 12, 0)

CATALOG_DEFAULTS: dict[str, Any] = {
    "sku_id": "S1",
    "title": "五常大米 5kg",
    "category": "粮油",
    "price": 59.9,
    "compare_at_price": "",
    "compare_basis_label": "",
    "promo_start": "",
    "promo_end": "",
    "unit": "",
    "unit_quantity": "",
    "unit_price_shown": "",
    "returnable": "true",
    "return_exclusion_reason": "",
    "list_page_price": "",
    "detail_page_price": "",
    "discount_pct_shown": "",
}


def write_evidence(root: Path, **files: Any) -> Path:
    """``catalog=[{...}]`` (defaults filled), ``orders=[...]``, ``settings={...}``,
    ``pages={"signup.html": "<html>..."}``, ``findings=[...]``; any other key: ``<key>.csv``."""
    root.mkdir(parents=True, exist_ok=True)
    for key, content in files.items():
        if key == "settings":
            (root / "settings.json").write_text(json.dumps(content), encoding="utf-8")
        elif key == "pages":
            (root / "pages").mkdir(exist_ok=True)
            for name, html in content.items():
                (root / "pages" / name).write_text(html, encoding="utf-8")
        elif key == "findings":
            (root / "price-discrimination").mkdir(exist_ok=True)
            pd.DataFrame(content).to_csv(
                root / "price-discrimination" / "findings.csv", index=False
            )
        else:
            rows = [{**CATALOG_DEFAULTS, **r} for r in content] if key == "catalog" else content
            pd.DataFrame(rows).to_csv(root / f"{key}.csv", index=False)
    return root


def run_rule(evidence: Path, rule_id: str, as_of: dt.datetime = AS_OF, **kw: Any) -> list[Finding]:
    result = run_compliance(
        RunOptions(evidence_dir=evidence, as_of=as_of, show_pii=True, rule_ids=(rule_id,), **kw)
    )
    return [f for f in result.findings if f.rule == rule_id]


def one_unit_order(oid: str, sku: str, at: str, price: float) -> dict[str, object]:
    """One order of one unit of ``sku`` at ``price`` by buyer b1."""
    return {
        "order_id": oid,
        "buyer_id": "b1",
        "created_at": at,
        "sku_id": sku,
        "unit_price": price,
        "quantity": 1,
        "amount_paid": price,
    }


def by_subject(findings: list[Finding]) -> dict[str, str]:
    return {f.subject: f.status for f in findings}


@pytest.fixture
def evidence(tmp_path: Path) -> Callable[..., Path]:
    def make(**files: Any) -> Path:
        return write_evidence(tmp_path / "evidence", **files)

    return make
