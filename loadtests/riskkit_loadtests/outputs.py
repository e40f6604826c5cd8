"""The run's outputs: ``summary.json`` (the contract), ``junit.xml``, ``report.html``."""

from __future__ import annotations

import datetime as dt
import statistics
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING, Any

from riskkit.atomic import write_bytes, write_json
from riskkit.report import bar_svg, line_svg, write_report
from riskkit_loadtests.gates import GateResult, RunTargets, failed_gates
from riskkit_loadtests.results import RunData
from riskkit_loadtests.shapes import RateShape
from riskkit_loadtests.slo import PERCENTILES

if TYPE_CHECKING:
    from riskkit_loadtests.plan import LoadTestOptions

__all__ = ["build_summary", "step_table", "write_junit", "write_outputs"]


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def step_table(data: RunData) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for step in sorted(data.steps):
        totals = data.steps[step]
        row: dict[str, Any] = {
            "requests": totals.requests,
            "failures": totals.failures,
            "error_rate": round(totals.error_rate, 6),
            "errors": dict(sorted(totals.errors.items())),
            "mean_ms": _round(totals.histogram.mean()),
            "max_ms": _round(totals.histogram.max()),
        }
        for name, q in PERCENTILES.items():
            row[f"{name.replace('.', '_')}_ms"] = _round(totals.histogram.percentile(q))
        out[step] = row
    return out


def timeline(data: RunData, shape: RateShape, open_model: bool) -> list[dict[str, Any]]:
    rows = []
    with data.lock:
        seconds = sorted(data.seconds.items())
    for index, second in seconds:
        rows.append(
            {
                "s": index,
                "target_per_s": round(shape.rate_at(index + 0.5), 3) if open_model else None,
                "scheduled": second.scheduled,
                "started": second.started,
                "dropped": second.dropped,
                "requests": second.requests,
                "failures": second.failures,
                "busy_users": second.busy_max,
                "p50_ms": _round(second.histogram.percentile(50)),
                "p95_ms": _round(second.histogram.percentile(95)),
                "p99_ms": _round(second.histogram.percentile(99)),
                "cpu_percent": {str(w): c for w, c in sorted(second.cpu_by_worker.items())},
            }
        )
    return rows


def build_summary(
    *,
    options: LoadTestOptions,
    shape: RateShape,
    target: str,
    started_shop: bool,
    pool: int,
    data: RunData,
    gates: list[GateResult],
    targets: RunTargets,
    done: dict[str, Any],
    preflight: dict[str, object],
    invalid: list[str],
    aborted: bool,
    abort_reason: str,
    invariants: dict[str, Any],
    users_generated: bool,
    stalled: list[int] | None = None,
) -> dict[str, Any]:
    failed = failed_gates(gates)
    status = "invalid" if invalid else ("breach" if failed else "pass")
    window = targets.window_s
    cpu = data.cpu_samples()
    started = data.started
    summary: dict[str, Any] = {
        "status": status,
        "scenario": options.scenario,
        "model": "open" if options.open_model else "closed",
        "target": target,
        "reference_shop_started": started_shop,
        "run_id": options.run_id,
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "duration_s": round(window, 3),
        "compress": options.compress,
        "workers": int(done.get("workers", 1) or 1),
        "pool_size": pool,
        "rate": {
            "target_per_s": round(targets.target_rate, 3) if options.open_model else None,
            "peak_target_per_s": round(shape.peak_rate(), 3) if options.open_model else None,
            "achieved_per_s": round(started / window, 3) if window else None,
            "achieved_ratio": round(started / targets.expected_iterations, 4)
            if targets.expected_iterations
            else None,
            "requests_per_s": round(data.requests / window, 3) if window else None,
            "poisson": options.poisson,
        },
        "iterations": {
            "expected": round(targets.expected_iterations, 1),
            "scheduled": data.scheduled,
            "started": started,
            "dropped": data.dropped,
        },
        "steps": step_table(data),
        "checks": {
            name: {
                "pass": counts[0],
                "fail": counts[1],
                "ratio": round(counts[0] / sum(counts), 6) if sum(counts) else None,
            }
            for name, counts in sorted(data.checks.items())
        },
        "gates": [gate.to_json() for gate in gates],
        "breached_gates": [gate.gate_id for gate in failed],
        "breached_steps": sorted(
            {g.subject for g in failed if g.kind in ("latency", "error_rate")}
        ),
        "generator": {
            "cpu_max_percent": {str(w): max(s) for w, s in cpu.items() if s},
            "cpu_median_percent": {str(w): statistics.median(s) for w, s in cpu.items() if s},
            "scheduler_lag_max_ms": done.get("scheduler_lag_max_ms"),
            "stalled_seconds": stalled or [],
            "users_spawned": done.get("users_spawned"),
            "preflight": preflight,
        },
        "test_data": {"users_generated": users_generated},
        "invalid_reasons": invalid,
        "aborted": aborted,
        "abort_reason": abort_reason or None,
        "counters": dict(sorted(data.counters.items())),
        "timeline": timeline(data, shape, options.open_model),
    }
    if invariants:
        summary["flash_sale"] = invariants
    return summary


def write_junit(path: Path, summary: dict[str, Any], gates: list[GateResult]) -> None:
    """One test case per gate, plus one for the validity of the run."""
    suite = ET.Element(
        "testsuite",
        name=f"riskkit loadtest {summary['scenario']}",
        tests=str(len(gates) + 1),
        failures=str(len(failed_gates(gates))),
        errors=str(1 if summary["invalid_reasons"] else 0),
        time=str(summary["duration_s"]),
    )
    validity = ET.SubElement(
        suite, "testcase", classname="riskkit.loadtest.run", name="run is valid"
    )
    if summary["invalid_reasons"]:
        error = ET.SubElement(validity, "error", message="; ".join(summary["invalid_reasons"]))
        error.text = "\n".join(summary["invalid_reasons"])
    for gate in gates:
        case = ET.SubElement(
            suite, "testcase", classname=f"riskkit.loadtest.{gate.kind}", name=gate.description
        )
        if not gate.passed:
            failure = ET.SubElement(case, "failure", message=gate.verdict(), type=gate.gate_id)
            failure.text = gate.verdict()
    suites = ET.Element("testsuites")
    suites.append(suite)
    ET.indent(suites)
    write_bytes(path, ET.tostring(suites, encoding="utf-8", xml_declaration=True) + b"\n")


def _charts(summary: dict[str, Any]) -> dict[str, Any]:
    rows = summary["timeline"]
    if not rows:
        return {"latency": None, "rate": None, "errors": None}
    xs = [row["s"] for row in rows]
    latency = line_svg(
        xs,
        {
            "p50": [row["p50_ms"] or 0.0 for row in rows],
            "p95": [row["p95_ms"] or 0.0 for row in rows],
            "p99": [row["p99_ms"] or 0.0 for row in rows],
        },
        "Latency percentiles per second (from intended start)",
        ylabel="ms",
    )
    series: dict[str, list[float]] = {"achieved (started/s)": [float(r["started"]) for r in rows]}
    if summary["model"] == "open":
        series["target"] = [float(r["target_per_s"] or 0.0) for r in rows]
        series["dropped/s"] = [float(r["dropped"]) for r in rows]
    rate = line_svg(xs, series, "Target vs achieved arrival rate", ylabel="iterations/s")
    steps = summary["steps"]
    errors = (
        bar_svg(list(steps), [float(s["failures"]) for s in steps.values()], "Errors by step")
        if steps
        else None
    )
    return {"latency": latency, "rate": rate, "errors": errors}


def write_outputs(
    out: Path,
    summary: dict[str, Any],
    gates: list[GateResult],
    data: RunData,
    shape: RateShape,
    html: bool = True,
) -> None:
    write_json(out / "summary.json", summary)
    write_junit(out / "junit.xml", summary, gates)
    if not html:
        return
    write_report(
        out / "report.html",
        "loadtest_report.html",
        {"summary": summary, "gates": gates, "charts": _charts(summary)},
    )
