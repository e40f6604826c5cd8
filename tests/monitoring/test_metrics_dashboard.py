"""``riskkit metrics dashboard``: a well-formed Grafana model whose every query asks only
for metrics riskkit exports, and parses as PromQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import Exported
from monitoring_helpers import generated, metric_names, needs_promtool, promtool, run


def _dashboard(*args: str) -> dict[str, Any]:
    model: dict[str, Any] = generated("dashboard", *args)
    return model


def _panels(model: dict[str, Any]) -> list[dict[str, Any]]:
    return [panel for panel in model["panels"] if panel["type"] != "row"]


def _exprs(model: dict[str, Any]) -> list[str]:
    return [target["expr"] for panel in _panels(model) for target in panel["targets"]]


def test_dashboard_structure() -> None:
    model = _dashboard()
    assert model["uid"] == "riskkit" and model["title"] == "riskkit"
    assert isinstance(model["schemaVersion"], int)
    variable = model["templating"]["list"][0]
    assert variable["type"] == "datasource" and variable["query"] == "prometheus"
    assert variable["name"] == "DS_PROMETHEUS" and variable["current"] == {}
    ids = [panel["id"] for panel in model["panels"]]
    assert len(ids) == len(set(ids))
    rows = [panel["title"] for panel in model["panels"] if panel["type"] == "row"]
    assert len(rows) == 7 and rows[0].startswith("Freshness")
    seen: set[tuple[int, int]] = set()
    for panel in model["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24 and grid["h"] > 0
        assert (grid["x"], grid["y"]) not in seen  # nothing drawn on top of another panel
        seen.add((grid["x"], grid["y"]))
    for panel in _panels(model):
        assert panel["type"] in ("timeseries", "stat") and panel["title"] and panel["description"]
        assert panel["datasource"] == {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
        assert panel["targets"], panel["title"]
        refs = [target["refId"] for target in panel["targets"]]
        assert refs == sorted(set(refs))
        for target in panel["targets"]:
            assert target["expr"].strip() and target["datasource"] == panel["datasource"]


def test_every_queried_metric_is_exported(exported: Exported) -> None:
    model = _dashboard()
    used: set[str] = set()
    for expr in _exprs(model):
        names = metric_names(expr)
        assert names, expr
        missing = names - exported.sample_names
        assert not missing, f"{expr!r} queries {sorted(missing)}, which riskkit does not export"
        used |= names
    for needed in (
        "riskkit_detect_last_success_timestamp_seconds",
        "riskkit_detect_flagged_orders_total",
        "riskkit_loadtest_gate_passed",
        "riskkit_drill_target_met",
        "riskkit_compliance_findings",
        "riskkit_shop_http_request_duration_seconds_bucket",
    ):
        assert needed in used


def test_options_reach_the_model(tmp_path: Path) -> None:
    out = tmp_path / "grafana" / "riskkit.json"
    result = run(
        "dashboard", "--title", "Risk ops", "--uid", "risk-ops", "--datasource", "Prom EU",
        "--stale-hours", "8", "--selector", 'env="prod"', "--out", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    model = json.loads(out.read_text(encoding="utf-8"))
    assert model["title"] == "Risk ops" and model["uid"] == "risk-ops"
    assert model["templating"]["list"][0]["current"] == {"text": "Prom EU", "value": "Prom EU"}
    freshness = _panels(model)[0]
    assert freshness["fieldConfig"]["defaults"]["thresholds"]["steps"][1]["value"] == 8
    for expr in _exprs(model):
        assert 'env="prod"' in expr, expr


@pytest.mark.parametrize(
    "args", [["--selector", '__name__="x"'], ["--title", " "], ["--stale-hours", "0"]]
)
def test_bad_options_exit_2(args: list[str]) -> None:
    assert run("dashboard", *args).exit_code == 2


@pytest.mark.integration
@needs_promtool
def test_every_query_parses_as_promql(tmp_path: Path) -> None:
    """promtool parses each expression (Grafana's variables replaced by a range)."""
    model = _dashboard("--selector", 'env=~"prod|staging"')
    rules = [
        {"record": f"riskkit_dashboard:query_{index}", "expr": expr.replace("$__rate_interval", "5m")}
        for index, expr in enumerate(_exprs(model))
    ]  # fmt: skip
    rules_file = tmp_path / "dashboard-queries.yml"
    rules_file.write_text(
        yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}), encoding="utf-8"
    )
    checked = promtool("check", "rules", rules_file)
    assert checked.returncode == 0, checked.stdout + checked.stderr
