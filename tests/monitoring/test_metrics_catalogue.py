"""The catalogue is what the commands really export: names, types, labels, help."""

from __future__ import annotations

import json

import pytest
from conftest import Exported
from monitoring_helpers import metric_names, run

from riskkit.monitoring import CATALOGUE


@pytest.mark.parametrize("family", CATALOGUE, ids=lambda f: f.name)
def test_catalogued_family_is_exported_as_described(family, exported: Exported) -> None:
    assert family.name in exported.types, f"no command exported {family.name}"
    assert exported.types[family.name] == family.kind
    assert exported.help[family.name] == family.help
    assert exported.labels[family.name] == set(family.labels)
    for series in family.series:
        assert series in exported.sample_names


def test_every_exported_family_is_catalogued(exported: Exported) -> None:
    catalogued = {family.name for family in CATALOGUE}
    missing = sorted(set(exported.types) - catalogued)
    assert not missing, f"exported but missing from riskkit/monitoring/catalogue.py: {missing}"


def test_no_created_samples(exported: Exported) -> None:
    assert not [name for name in exported.sample_names if name.endswith("_created")]


def test_metrics_list_prints_the_catalogue() -> None:
    result = run("list", "--json")
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert [entry["name"] for entry in listed] == [family.name for family in CATALOGUE]
    flagged = next(e for e in listed if e["name"] == "riskkit_detect_flagged_orders")
    assert flagged["series"] == ["riskkit_detect_flagged_orders_total"]
    assert flagged["job"] == "riskkit_detect" and flagged["labels"] == ["detector"]
    text = run("list")
    assert "riskkit_loadtest_request_duration_seconds_bucket" in text.stdout


def test_metric_name_parser() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (le, step) (rate(a_bucket{x="b_c"}[5m] offset 1d)))'
        " / on (step) group_left b_total and time() - c > 3600 or absent_over_time(d[26h])"
        " + e{} * $__rate_interval"
    )
    assert metric_names(expr) == {"a_bucket", "b_total", "c", "d", "e"}
