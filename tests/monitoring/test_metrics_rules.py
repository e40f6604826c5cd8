"""``riskkit metrics rules``: valid for promtool, built on exported metrics, and each
alert fires when it should and only then (promtool unit tests on synthetic series)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import Exported
from monitoring_helpers import generated, metric_names, needs_promtool, promtool, run

from riskkit.monitoring import RuleOptions, Scope, alerting_rules

ALERTS = {
    "RiskkitJobStale",
    "RiskkitFlaggedOrdersJump",
    "RiskkitLoadTestGateFailing",
    "RiskkitDrillTargetMissed",
    "RiskkitComplianceFindingsRising",
}


def _rules(*args: str) -> dict[str, Any]:
    document: dict[str, Any] = generated("rules", *args)
    return document


def _all_rules(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [rule for group in document["groups"] for rule in group["rules"]]


def test_default_rules_cover_every_alert() -> None:
    rules = _all_rules(_rules())
    assert {rule["alert"] for rule in rules} == ALERTS
    for rule in rules:
        assert rule["for"] == "5m" and rule["labels"]["severity"] == "warning"
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]


def test_rules_query_only_exported_metrics(exported: Exported) -> None:
    rules = _all_rules(_rules("--stale-job", "orders", "--stale-job", "detect",
                              "--stale-job", "comply", "--stale-job", "drill",
                              "--stale-job", "loadtest"))  # fmt: skip
    used = set()
    for rule in rules:
        names = metric_names(rule["expr"])
        assert names, rule["expr"]
        used |= names
    assert used <= exported.sample_names, sorted(used - exported.sample_names)
    assert {
        "riskkit_detect_last_success_timestamp_seconds",
        "riskkit_detect_flagged_orders_total",
        "riskkit_loadtest_gate_passed",
        "riskkit_drill_target_met",
        "riskkit_compliance_findings",
    } <= used


def test_options_reach_the_expressions() -> None:
    rules = {
        (r["alert"], r["labels"].get("riskkit_job")): r
        for r in _all_rules(
            _rules(
                "--stale-hours", "50", "--stale-job", "comply", "--for", "0s",
                "--flagged-factor", "3", "--flagged-min", "100", "--baseline", "14d",
                "--selector", 'env="prod"', "--selector", 'job=~"riskkit_.*"', "--group", "shop",
            )
        )
    }  # fmt: skip
    stale = rules[("RiskkitJobStale", "riskkit_comply")]
    assert "[50h]" in stale["expr"] and "> 180000" in stale["expr"]
    jump = rules[("RiskkitFlaggedOrdersJump", None)]["expr"]
    assert ">= 100" in jump and "3 * avg_over_time" in jump and "[14d] offset 1d" in jump
    assert all(r["for"] == "0s" for r in rules.values())
    for rule in rules.values():
        selectors = re.findall(r"riskkit_\w+(\{[^}]*\})?", rule["expr"])
        assert selectors and all('env="prod",job=~"riskkit_.*"' in s for s in selectors)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--for", "5 minutes"], "--for"),
        (["--baseline", "0d"], "--baseline"),
        (["--selector", "env=prod"], "--selector"),
        (["--stale-hours", "0"], "--stale-hours"),
        (["--flagged-factor", "1"], "--flagged-factor"),
        (["--stale-job", "nope"], "nope"),
    ],
)
def test_bad_options_exit_2(args: list[str], message: str) -> None:
    result = run("rules", *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_out_writes_the_file(tmp_path: Path) -> None:
    out = tmp_path / "rules" / "riskkit.rules.yml"
    result = run("rules", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert yaml.safe_load(out.read_text(encoding="utf-8")) == alerting_rules(RuleOptions())
    assert not [p for p in out.parent.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.integration
@needs_promtool
def test_promtool_check_rules(tmp_path: Path) -> None:
    out = tmp_path / "riskkit.rules.yml"
    args = ["--selector", 'env!="dev"', "--stale-job", "detect", "--stale-job", "orders"]
    assert run("rules", *args, "--out", str(out)).exit_code == 0
    checked = promtool("check", "rules", out)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 6 rules found" in checked.stdout


# -- promtool unit tests: synthetic series ------------------------------------------------


def _annotations(rule: dict[str, Any], labels: dict[str, str], value: float | None) -> Any:
    """The rule's annotations as Prometheus renders them for ``labels`` and ``value``."""

    def render(text: str) -> str:
        text = re.sub(
            r"\{\{ with \$labels\.(\w+) \}\}(.*?)\{\{ end \}\}",
            lambda m: (
                m.group(2).replace("{{ . }}", labels[m.group(1)]) if labels.get(m.group(1)) else ""
            ),
            text,
        )
        text = re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: labels[m.group(1)], text)
        return text.replace("{{ $value }}", f"{value:g}" if value is not None else "")

    return {key: render(text) for key, text in rule["annotations"].items()}


def _expect(rules: list[dict[str, Any]], alert: str, labels: dict[str, str], value=None,
            riskkit_job: str | None = None) -> dict[str, Any]:  # fmt: skip
    rule = next(
        r for r in rules if r["alert"] == alert and r["labels"].get("riskkit_job") == riskkit_job
    )
    every = {**labels, **rule["labels"]}
    return {"exp_labels": every, "exp_annotations": _annotations(rule, every, value)}


def _case(at: str, alert: str, expected: list[dict[str, Any]]) -> dict[str, Any]:
    return {"eval_time": at, "alertname": alert, "exp_alerts": expected}


# promtool's unit-test engine loads at most a few thousand samples per query: the
# week-long flagged-orders baseline uses one sample every 5 minutes (within the 5 m lookback).
SAMPLES_PER_DAY_5M = 24 * 12


def _unit_tests(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    detect = {"job": "riskkit_detect"}
    comply = {"job": "riskkit_comply"}
    stale = [
        # samples every 5 minutes: detect succeeded once, 60 s in; comply succeeded at
        # 1 h (value 3600), then failed from 2 h on
        # (a failed run pushes the timestamp as 0): neither is stale before 26 h.
        {"series": 'riskkit_detect_last_success_timestamp_seconds{job="riskkit_detect"}',
         "values": "60x480"},
        {"series": 'riskkit_comply_last_success_timestamp_seconds{job="riskkit_comply"}',
         "values": "3600x24 0x480"},
    ]  # fmt: skip
    healthy_detect_never_comply = [
        {"series": 'riskkit_detect_last_success_timestamp_seconds{job="riskkit_detect"}',
         "values": "0+300x24"},
    ]  # fmt: skip
    # two scheduled runs of one command, kept apart by the Pushgateway's ``run`` group:
    # brushing succeeds every 5 minutes, coupon abuse succeeded once, 60 s in
    one_run_stale = [
        {"series": 'riskkit_detect_last_success_timestamp_seconds{job="riskkit_detect",run="brushing"}',
         "values": "0+300x480"},
        {"series": 'riskkit_detect_last_success_timestamp_seconds{job="riskkit_detect",run="coupon-abuse"}',
         "values": "60x480"},
    ]  # fmt: skip
    baseline = 8 * SAMPLES_PER_DAY_5M
    flagged = 'riskkit_detect_flagged_orders_total{{job="riskkit_detect",detector="{}"}}'
    jumps = [
        {"series": flagged.format("brushing"), "values": f"100x{baseline} 300x24"},
        {"series": flagged.format("coupon-abuse"), "values": f"100x{baseline} 150x24"},
        {"series": flagged.format("traffic-drift"), "values": f"2x{baseline} 15x24"},
        {"series": flagged.format("price-discrimination"), "values": f"_x{baseline} 500x24"},
    ]
    gates_and_drills = [
        {"series": 'riskkit_loadtest_gate_passed{gate="latency.pay.p95"}', "values": "1x30 0x30"},
        {"series": 'riskkit_loadtest_gate_passed{gate="dropped.ratio"}', "values": "1x60"},
        {"series": 'riskkit_drill_target_met{runbook="checkout-outage",tier="P1",phase="acknowledge"}',
         "values": "1x30 0x30"},
        {"series": 'riskkit_drill_target_met{runbook="checkout-outage",tier="P1",phase="detect"}',
         "values": "1x60"},
    ]  # fmt: skip
    finding = 'riskkit_compliance_findings{{policy="{}",severity="{}",status="{}"}}'
    compliance = [
        {"series": finding.format("pricing-labels", "high", "fail"), "values": "3x60 5x60"},
        {"series": finding.format("pricing-labels", "high", "pass"), "values": "3x60 9x60"},
        {"series": finding.format("privacy-consent", "high", "fail"), "values": "5x60 3x60"},
        {"series": finding.format("return-policy", "low", "fail"), "values": "4x120"},
    ]
    gate = {"gate": "latency.pay.p95"}
    missed = {"runbook": "checkout-outage", "tier": "P1", "phase": "acknowledge"}
    # the finding's own severity survives as finding_severity (severity is the alert's)
    rising = {"policy": "pricing-labels", "finding_severity": "high", "status": "fail"}
    never_comply = _expect(rules, "RiskkitJobStale", {}, riskkit_job="riskkit_comply")
    return [
        {
            "interval": "5m",
            "input_series": stale,
            "alert_rule_test": [
                _case("25h", "RiskkitJobStale", []),
                _case("26h10m", "RiskkitJobStale", [
                    _expect(rules, "RiskkitJobStale", detect, riskkit_job="riskkit_detect"),
                ]),
                _case("28h30m", "RiskkitJobStale", [
                    _expect(rules, "RiskkitJobStale", detect, riskkit_job="riskkit_detect"),
                    _expect(rules, "RiskkitJobStale", comply, riskkit_job="riskkit_comply"),
                ]),
            ],
        },
        {
            "interval": "5m",
            "input_series": healthy_detect_never_comply,
            "alert_rule_test": [
                _case("1h", "RiskkitJobStale", [
                    _expect(rules, "RiskkitJobStale", {}, riskkit_job="riskkit_comply"),
                ]),
            ],
        },
        {
            "interval": "5m",
            "input_series": one_run_stale,
            "alert_rule_test": [
                # (comply never reported here: that one fires throughout)
                _case("25h", "RiskkitJobStale", [never_comply]),
                _case("26h10m", "RiskkitJobStale", [
                    _expect(rules, "RiskkitJobStale", {**detect, "run": "coupon-abuse"},
                            riskkit_job="riskkit_detect"),
                    never_comply,
                ]),
            ],
        },
        {
            "interval": "5m",
            "input_series": jumps,
            "alert_rule_test": [
                _case(f"{baseline * 5 - 60}m", "RiskkitFlaggedOrdersJump", []),
                _case(f"{baseline * 5 + 30}m", "RiskkitFlaggedOrdersJump", [
                    _expect(rules, "RiskkitFlaggedOrdersJump",
                            {**detect, "detector": "brushing"}, 300),
                ]),
            ],
        },
        {
            "interval": "1m",
            "input_series": gates_and_drills + compliance,
            "alert_rule_test": [
                _case("25m", "RiskkitLoadTestGateFailing", []),
                _case("50m", "RiskkitLoadTestGateFailing", [
                    _expect(rules, "RiskkitLoadTestGateFailing", gate),
                ]),
                _case("25m", "RiskkitDrillTargetMissed", []),
                _case("50m", "RiskkitDrillTargetMissed", [
                    _expect(rules, "RiskkitDrillTargetMissed", missed),
                ]),
                _case("50m", "RiskkitComplianceFindingsRising", []),
                _case("90m", "RiskkitComplianceFindingsRising", [
                    _expect(rules, "RiskkitComplianceFindingsRising", rising, 5),
                ]),
            ],
        },
    ]  # fmt: skip


@pytest.mark.integration
@needs_promtool
def test_promtool_unit_tests_fire_when_they_should(tmp_path: Path) -> None:
    rules_file = tmp_path / "riskkit.rules.yml"
    result = run(
        "rules", "--stale-job", "detect", "--stale-job", "comply", "--out", str(rules_file)
    )
    assert result.exit_code == 0, result.output
    rules = _all_rules(yaml.safe_load(rules_file.read_text(encoding="utf-8")))
    tests = {
        "rule_files": [rules_file.name],
        # every 5 minutes, as a `for: 5m` needs; finer only makes promtool slower
        "evaluation_interval": "5m",
        "tests": _unit_tests(rules),
    }
    test_file = tmp_path / "riskkit.rules.test.yml"
    test_file.write_text(yaml.safe_dump(tests, sort_keys=False), encoding="utf-8")
    checked = promtool("test", "rules", test_file)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout


@needs_promtool
@pytest.mark.integration
def test_promtool_unit_test_catches_a_wrong_expectation(tmp_path: Path) -> None:
    """The harness can fail: expecting the healthy gate to fire makes promtool fail."""
    rules_file = tmp_path / "riskkit.rules.yml"
    rules_file.write_text(
        yaml.safe_dump(alerting_rules(RuleOptions(scope=Scope()))), encoding="utf-8"
    )
    rules = _all_rules(yaml.safe_load(rules_file.read_text(encoding="utf-8")))
    wrong = [
        {
            "interval": "1m",
            "input_series": [
                {"series": 'riskkit_loadtest_gate_passed{gate="dropped.ratio"}', "values": "1x60"}
            ],
            "alert_rule_test": [
                _case("50m", "RiskkitLoadTestGateFailing", [
                    _expect(rules, "RiskkitLoadTestGateFailing", {"gate": "dropped.ratio"}),
                ]),
            ],
        }
    ]  # fmt: skip
    test_file = tmp_path / "wrong.test.yml"
    test_file.write_text(
        yaml.safe_dump({"rule_files": [rules_file.name], "tests": wrong}), encoding="utf-8"
    )
    assert promtool("test", "rules", test_file).returncode != 0
