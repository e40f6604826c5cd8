"""A Grafana dashboard (JSON model) over the metrics riskkit exports.

Every query goes through :func:`riskkit.monitoring.promql.select`, so a panel can
only ask for a catalogued metric.  Batch metrics hold the last run's values until
the next run replaces them (see :mod:`riskkit.monitoring.rules`), so their panels
plot values, never ``rate()``; only the reference shop, scraped live, gets rates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from riskkit.errors import UsageError
from riskkit.monitoring.catalogue import BATCH_COMMANDS, last_success_metric
from riskkit.monitoring.promql import Scope, select

__all__ = ["DATASOURCE_VARIABLE", "DashboardOptions", "grafana_dashboard"]

# Grafana's convention for a shareable dashboard's Prometheus data source; being a
# dashboard variable (not an import-time ``__inputs`` entry) it also works when the
# JSON is provisioned from a file, and stays switchable in the UI.
DATASOURCE_VARIABLE = "DS_PROMETHEUS"
_DATASOURCE = {"type": "prometheus", "uid": f"${{{DATASOURCE_VARIABLE}}}"}
_GRID_WIDTH = 24
_PANEL_HEIGHT = 8
# Long enough to find the last success of a weekly job; a failed run pushes 0 on top.
_FRESHNESS_WINDOW = "8d"


@dataclass(frozen=True)
class DashboardOptions:
    """What ``riskkit metrics dashboard`` can change."""

    title: str = "riskkit"
    uid: str = "riskkit"
    datasource: str | None = None  # default value of the data-source variable
    stale_hours: int = 26
    scope: Scope = field(default_factory=Scope)

    def validated(self) -> DashboardOptions:
        if not self.title.strip():
            raise UsageError("--title must not be empty")
        if not self.uid.strip() or len(self.uid) > 40:
            raise UsageError("--uid must be 1 to 40 characters (a Grafana limit)")
        if self.stale_hours < 1:
            raise UsageError(f"--stale-hours must be at least 1, not {self.stale_hours}")
        return self


def _target(expr: str, legend: str) -> dict[str, Any]:
    return {"datasource": _DATASOURCE, "expr": expr, "legendFormat": legend}


class _Layout:
    """Places rows and panels left to right, top to bottom, and numbers them."""

    def __init__(self) -> None:
        self.panels: list[dict[str, Any]] = []
        self._x = 0
        self._y = 0

    def _place(self, width: int, height: int) -> dict[str, int]:
        if self._x + width > _GRID_WIDTH:
            self._x, self._y = 0, self._y + _PANEL_HEIGHT
        position = {"h": height, "w": width, "x": self._x, "y": self._y}
        self._x += width
        return position

    def row(self, title: str) -> None:
        if self._x:
            self._x, self._y = 0, self._y + _PANEL_HEIGHT
        grid = self._place(_GRID_WIDTH, 1)
        self._x, self._y = 0, self._y + 1
        self.panels.append(
            {
                "id": len(self.panels) + 1,
                "type": "row",
                "title": title,
                "collapsed": False,
                "gridPos": grid,
                "panels": [],
            }
        )

    def panel(
        self,
        kind: str,
        title: str,
        description: str,
        targets: list[dict[str, Any]],
        defaults: dict[str, Any],
        options: dict[str, Any],
        width: int = 12,
    ) -> None:
        for index, target in enumerate(targets):
            target["refId"] = chr(ord("A") + index)
        self.panels.append(
            {
                "id": len(self.panels) + 1,
                "type": kind,
                "title": title,
                "description": description,
                "datasource": _DATASOURCE,
                "gridPos": self._place(width, _PANEL_HEIGHT),
                "fieldConfig": {"defaults": defaults, "overrides": []},
                "options": options,
                "targets": targets,
            }
        )

    def timeseries(
        self, title: str, description: str, targets: list[dict[str, Any]], unit: str = "short"
    ) -> None:
        options = {
            "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
            "tooltip": {"mode": "multi", "sort": "desc"},
        }
        self.panel("timeseries", title, description, targets, {"unit": unit}, options)

    def stat(
        self,
        title: str,
        description: str,
        targets: list[dict[str, Any]],
        thresholds: list[dict[str, Any]],
        mappings: list[dict[str, Any]] | None = None,
        unit: str = "short",
        width: int = 12,
    ) -> None:
        defaults = {
            "unit": unit,
            "thresholds": {"mode": "absolute", "steps": thresholds},
            "mappings": mappings or [],
        }
        options = {
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "colorMode": "background",
            "graphMode": "none",
            "textMode": "value_and_name",
            "justifyMode": "auto",
            "orientation": "auto",
        }
        self.panel("stat", title, description, targets, defaults, options, width)


def _red_from(value: float) -> list[dict[str, Any]]:
    return [{"color": "green", "value": None}, {"color": "red", "value": value}]


def _pass_fail(passed: str, failed: str) -> dict[str, Any]:
    """0 (failed) red, 1 (passed) green, shown as words."""
    return {
        "thresholds": [{"color": "red", "value": None}, {"color": "green", "value": 1}],
        "mappings": [
            {
                "type": "value",
                "options": {
                    "1": {"text": passed, "color": "green", "index": 0},
                    "0": {"text": failed, "color": "red", "index": 1},
                },
            }
        ],
    }


@dataclass(frozen=True)
class _Panel:
    """A panel as data.  In a query, ``<metric>`` or ``<metric{matcher}>`` stands for
    that metric's selector (checked against the catalogue, scoped by --selector)."""

    title: str
    description: str
    queries: tuple[tuple[str, str], ...]  # (query, legend)
    unit: str = "short"
    pass_fail: tuple[str, str] | None = None  # a stat panel: words for 1 and 0


_PLACEHOLDER = re.compile(r"<(\w+)(?:\{([^}]*)\})?>")

_ROWS: tuple[tuple[str, tuple[_Panel, ...]], ...] = (
    (
        "Detectors (riskkit detect)",
        (
            _Panel(
                "Orders flagged by the last run",
                "Per detector; RiskkitFlaggedOrdersJump compares it with its weekly average.",
                (("<riskkit_detect_flagged_orders_total>", "{{detector}}"),),
            ),
            _Panel(
                "Orders analysed by the last run",
                "After --since/--until.",
                (("<riskkit_detect_orders_total>", "orders"),),
            ),
            _Panel(
                "Flagged groups by severity",
                "Rings, clusters or drifted windows found by the last run.",
                (("<riskkit_detect_groups>", "{{detector}} {{severity}}"),),
            ),
            _Panel(
                "Detector fit time",
                "Wall time of each detector's fit in the last run.",
                (("<riskkit_detect_duration_seconds>", "{{detector}}"),),
                unit="s",
            ),
            _Panel(
                "Drift: windows tested and flagged",
                "traffic-drift windows and price-discrimination cells flagged as drifted.",
                (
                    ("<riskkit_drift_windows_total>", "{{detector}} tested"),
                    ("<riskkit_drift_flagged_total>", "{{detector}} flagged"),
                ),
            ),
            _Panel(
                "Price-discrimination cells",
                "SKU x attribute x cohort cells tested, split by whether they were flagged.",
                (("<riskkit_price_discrimination_cells>", "flagged={{flagged}}"),),
            ),
        ),
    ),
    (
        "Order exports (riskkit orders check)",
        (
            _Panel(
                "Rows read and quarantined",
                "Quarantined rows are in rejected_rows.csv with every original cell.",
                (
                    ("<riskkit_orders_rows_read_total>", "read"),
                    ("<riskkit_orders_rejected_rows_total>", "quarantined"),
                ),
            ),
            _Panel(
                "Orders check time",
                "Wall time of the last check.",
                (("<riskkit_orders_check_duration_seconds>", "check"),),
                unit="s",
            ),
        ),
    ),
    (
        "Compliance (riskkit comply run)",
        (
            _Panel(
                "Failing findings by policy and severity",
                "RiskkitComplianceFindingsRising fires when one of these lines goes up.",
                (
                    (
                        'sum by (policy, severity) (<riskkit_compliance_findings{status="fail"}>)',
                        "{{policy}} {{severity}}",
                    ),
                ),
            ),
            _Panel(
                "Findings of the last run by status",
                "pass, fail, error, not_applicable, not_checked, waived.",
                (("sum by (status) (<riskkit_compliance_findings>)", "{{status}}"),),
            ),
        ),
    ),
    (
        "Load tests (riskkit loadtest run)",
        (
            _Panel(
                "SLO gates of the last run",
                "RiskkitLoadTestGateFailing fires on a breached gate.",
                (("<riskkit_loadtest_gate_passed>", "{{gate}}"),),
                pass_fail=("pass", "BREACHED"),
            ),
            _Panel(
                "p95 latency by step (whole run)",
                "From the intended start of each iteration (open model): queueing counts.",
                (
                    (
                        "histogram_quantile(0.95, sum by (le, step) "
                        "(<riskkit_loadtest_request_duration_seconds_bucket>))",
                        "{{step}}",
                    ),
                ),
                unit="s",
            ),
            _Panel(
                "Failed requests by step",
                "Share of the run's requests that failed (HTTP error, timeout, connection).",
                (
                    (
                        "sum by (step) (<riskkit_loadtest_request_failures_total>) "
                        "/ sum by (step) (<riskkit_loadtest_requests_total>)",
                        "{{step}}",
                    ),
                ),
                unit="percentunit",
            ),
            _Panel(
                "Arrival rate: asked for and achieved",
                "A gap with dropped iterations means the generator or the target saturated.",
                (
                    ("<riskkit_loadtest_target_iterations_per_second>", "target"),
                    ("<riskkit_loadtest_achieved_iterations_per_second>", "achieved"),
                    ("<riskkit_loadtest_dropped_iterations_total>", "dropped (run)"),
                ),
            ),
        ),
    ),
    (
        "Incident drills (riskkit drill run)",
        (
            _Panel(
                "Drill targets of the last run",
                "RiskkitDrillTargetMissed fires on a missed target.",
                (("<riskkit_drill_target_met>", "{{runbook}} {{tier}} {{phase}}"),),
                pass_fail=("met", "MISSED"),
            ),
            _Panel(
                "Phase durations",
                "Measured time to detect, acknowledge, mitigate, recover.",
                (("<riskkit_drill_phase_seconds>", "{{runbook}} {{tier}} {{phase}}"),),
                unit="s",
            ),
            _Panel(
                "Aborts and orders lost",
                "Aborted drills; confirmed orders lost in a disaster-recovery drill (RPO).",
                (
                    ("<riskkit_drill_aborts_total>", "{{runbook}} aborts"),
                    ("<riskkit_drill_rpo_orders_lost>", "{{runbook}} orders lost"),
                ),
            ),
        ),
    ),
    (
        # Scraped live, so the only place where rate() is right.
        "Reference shop (riskkit shop serve, scraped)",
        (
            _Panel(
                "Requests per second by endpoint",
                "Route templates, not raw paths.",
                (
                    (
                        "sum by (endpoint) (rate("
                        "<riskkit_shop_http_request_duration_seconds_count>[$__rate_interval]))",
                        "{{endpoint}}",
                    ),
                ),
                unit="reqps",
            ),
            _Panel(
                "p95 latency by endpoint",
                "From the shop's request histogram.",
                (
                    (
                        "histogram_quantile(0.95, sum by (le, endpoint) (rate("
                        "<riskkit_shop_http_request_duration_seconds_bucket>[$__rate_interval])))",
                        "{{endpoint}}",
                    ),
                ),
                unit="s",
            ),
            _Panel(
                "Payments by gateway and result",
                "Attempts per second.",
                (
                    (
                        "sum by (gateway, result) "
                        "(rate(<riskkit_shop_payments_total>[$__rate_interval]))",
                        "{{gateway}} {{result}}",
                    ),
                ),
                unit="reqps",
            ),
            _Panel(
                "Database and injected faults",
                "database up (1/0) and the number of faults a drill has injected.",
                (
                    ("<riskkit_shop_database_up>", "database up"),
                    ("<riskkit_shop_faults_active>", "faults active"),
                ),
            ),
        ),
    ),
)


def _expand(query: str, scope: Scope) -> str:
    def selector(match: re.Match[str]) -> str:
        matchers = [match.group(2)] if match.group(2) else []
        return select(match.group(1), scope, *matchers)

    return _PLACEHOLDER.sub(selector, query)


def _add_panel(layout: _Layout, panel: _Panel, scope: Scope) -> None:
    targets = [_target(_expand(query, scope), legend) for query, legend in panel.queries]
    if panel.pass_fail is None:
        layout.timeseries(panel.title, panel.description, targets, unit=panel.unit)
    else:
        words = _pass_fail(*panel.pass_fail)
        layout.stat(panel.title, panel.description, targets, words["thresholds"], words["mappings"])


def _freshness(layout: _Layout, options: DashboardOptions) -> None:
    layout.row("Freshness of the batch jobs")
    targets = []
    for group in BATCH_COMMANDS:
        metric = select(last_success_metric(group), options.scope)
        expr = f"(time() - max_over_time({metric}[{_FRESHNESS_WINDOW}])) / 3600"
        targets.append(_target(expr, group + " {{run}}"))
    layout.stat(
        "Hours since the last successful run",
        f"Red from {options.stale_hours} h (RiskkitJobStale). No value: no success in "
        f"{_FRESHNESS_WINDOW}. A textfile from a failed run has no success timestamp, "
        "hence the maximum over the window.",
        targets,
        _red_from(options.stale_hours),
        unit="h",
        width=_GRID_WIDTH,
    )


def grafana_dashboard(options: DashboardOptions) -> dict[str, Any]:
    """The dashboard JSON model (import it, or provision it from a file)."""
    options = options.validated()
    layout = _Layout()
    _freshness(layout, options)
    for title, panels in _ROWS:
        layout.row(title)
        for panel in panels:
            _add_panel(layout, panel, options.scope)
    current = (
        {"text": options.datasource, "value": options.datasource} if options.datasource else {}
    )
    datasource_variable = {
        "name": DATASOURCE_VARIABLE,
        "label": "Prometheus",
        "type": "datasource",
        "query": "prometheus",
        "current": current,
        "hide": 0,
        "refresh": 1,
        "regex": "",
        "options": [],
    }
    return {
        "uid": options.uid,
        "title": options.title,
        "description": "Generated by `riskkit metrics dashboard`: what riskkit measures.",
        "tags": ["riskkit"],
        "timezone": "browser",
        "editable": True,
        "graphTooltip": 1,
        "schemaVersion": 39,
        "version": 1,
        "time": {"from": "now-7d", "to": "now"},
        "refresh": "5m",
        "annotations": {"list": []},
        "templating": {"list": [datasource_variable]},
        "panels": layout.panels,
    }
