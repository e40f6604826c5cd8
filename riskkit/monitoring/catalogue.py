"""Every Prometheus metric family riskkit exports, in one list.

The alerting rules and the Grafana dashboard are built from this list only, and
``tests/monitoring`` runs the real commands and compares their expositions with it
(names, types, labels, help), so a renamed metric breaks a test instead of a
dashboard panel in production.

Names here are *family* names as a Prometheus parser reports them: a counter's
samples carry ``_total`` and a histogram's ``_bucket``/``_sum``/``_count``
(:attr:`MetricFamily.series` gives those).  ``*_created`` samples are disabled
in :mod:`riskkit.metrics`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from riskkit.errors import UsageError
from riskkit.metrics import job_name

__all__ = [
    "BATCH_COMMANDS",
    "CATALOGUE",
    "MetricFamily",
    "MetricKind",
    "exported_series",
    "family",
    "last_success_metric",
]

MetricKind = Literal["counter", "gauge", "histogram"]

# Command group -> the command that pushes (or writes) its metrics at the end of a run.
# The Pushgateway job is ``riskkit.metrics.job_name(group)``: ``riskkit_detect`` and so on.
BATCH_COMMANDS: dict[str, str] = {
    "orders": "riskkit orders check",
    "detect": "riskkit detect",
    "comply": "riskkit comply run",
    "drill": "riskkit drill run",
    "loadtest": "riskkit loadtest run",
}

LAST_SUCCESS_HELP = "Unix time of the last successful run of this command."


@dataclass(frozen=True)
class MetricFamily:
    """One metric family: what it is called, its type and labels, and who exports it."""

    name: str
    kind: MetricKind
    help: str
    labels: tuple[str, ...]
    command: str
    job: str | None
    only_when: str = ""  # empty: present in every run of ``command``

    @property
    def series(self) -> tuple[str, ...]:
        """The sample names a PromQL query selects."""
        if self.kind == "counter":
            return (f"{self.name}_total",)
        if self.kind == "histogram":
            return (f"{self.name}_bucket", f"{self.name}_sum", f"{self.name}_count")
        return (self.name,)

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "type": self.kind,
            "series": list(self.series),
            "labels": list(self.labels),
            "help": self.help,
            "command": self.command,
            "job": self.job,
            "only_when": self.only_when or None,
        }


def last_success_metric(group: str) -> str:
    """``detect`` -> ``riskkit_detect_last_success_timestamp_seconds``."""
    if group not in BATCH_COMMANDS:
        raise UsageError(f"unknown job {group!r}; choose from {', '.join(sorted(BATCH_COMMANDS))}")
    return f"{job_name(group)}_last_success_timestamp_seconds"


def _batch(
    group: str,
    name: str,
    kind: MetricKind,
    help: str,
    labels: tuple[str, ...] = (),
    only_when: str = "",
) -> MetricFamily:
    return MetricFamily(name, kind, help, labels, BATCH_COMMANDS[group], job_name(group), only_when)


def _shop(name: str, kind: MetricKind, help: str, labels: tuple[str, ...] = ()) -> MetricFamily:
    # Served on the shop's /metrics and scraped directly: no Pushgateway job.
    return MetricFamily(name, kind, help, labels, "riskkit shop serve", None)


_LAST_SUCCESS = tuple(
    _batch(group, last_success_metric(group), "gauge", LAST_SUCCESS_HELP)
    for group in BATCH_COMMANDS
)

_ORDERS = (
    _batch("orders", "riskkit_orders_rows_read", "counter", "Order rows read from exports."),
    _batch(
        "orders",
        "riskkit_orders_rejected_rows",
        "counter",
        "Order rows quarantined as unreadable.",
    ),
    _batch(
        "orders",
        "riskkit_orders_check_duration_seconds",
        "gauge",
        "Wall time of the last orders check.",
    ),
)

_DETECT = (
    _batch(
        "detect",
        "riskkit_detect_orders",
        "counter",
        "Orders analysed by riskkit detect (after --since/--until).",
    ),
    _batch(
        "detect",
        "riskkit_detect_flagged_orders",
        "counter",
        "Orders flagged, per detector.",
        ("detector",),
    ),
    _batch(
        "detect",
        "riskkit_detect_groups",
        "gauge",
        "Flagged groups (rings, clusters, windows) of the last run, per detector and severity.",
        ("detector", "severity"),
    ),
    _batch(
        "detect",
        "riskkit_detect_duration_seconds",
        "gauge",
        "Wall time of one detector's fit.",
        ("detector",),
    ),
    _batch(
        "detect",
        "riskkit_drift_windows",
        "counter",
        "Time windows tested for drift.",
        ("detector",),
        only_when="traffic-drift runs",
    ),
    _batch(
        "detect",
        "riskkit_drift_flagged",
        "counter",
        "Windows or cells flagged as drifted.",
        ("detector",),
        only_when="traffic-drift or price-discrimination runs",
    ),
    _batch(
        "detect",
        "riskkit_price_discrimination_cells",
        "gauge",
        "SKU x attribute x cohort cells tested for price discrimination.",
        ("flagged",),
        only_when="price-discrimination runs",
    ),
)

_COMPLY = (
    _batch(
        "comply",
        "riskkit_compliance_findings",
        "gauge",
        "Compliance findings of the last run by policy, severity and status.",
        ("policy", "severity", "status"),
    ),
    _batch(
        "comply",
        "riskkit_compliance_duration_seconds",
        "gauge",
        "Wall time of the last compliance run.",
    ),
)

_DRILL = (
    _batch(
        "drill",
        "riskkit_drill_phase_seconds",
        "gauge",
        "Measured duration of a drill phase (detect, acknowledge, mitigate, recover, rto...).",
        ("runbook", "tier", "phase"),
    ),
    _batch(
        "drill",
        "riskkit_drill_target_met",
        "gauge",
        "1 when the phase met its tier target, 0 when it missed it.",
        ("runbook", "tier", "phase"),
    ),
    _batch(
        "drill",
        "riskkit_drill_aborts",
        "counter",
        "Drills aborted by a stop condition, the maximum duration or a signal.",
        ("runbook", "tier"),
    ),
    _batch(
        "drill",
        "riskkit_drill_rpo_orders_lost",
        "gauge",
        "Confirmed orders lost in a disaster-recovery drill.",
        ("runbook", "tier"),
        only_when="a disaster-recovery drill measures its RPO",
    ),
)

_LOADTEST = (
    _batch(
        "loadtest",
        "riskkit_loadtest_requests",
        "counter",
        "Requests sent, by scenario step.",
        ("step",),
    ),
    _batch(
        "loadtest",
        "riskkit_loadtest_request_failures",
        "counter",
        "Requests that failed (HTTP error, timeout, connection), by step.",
        ("step",),
    ),
    _batch(
        "loadtest",
        "riskkit_loadtest_request_duration_seconds",
        "histogram",
        "Latency from the intended start of the iteration (open model), by step.",
        ("step",),
    ),
    _batch(
        "loadtest",
        "riskkit_loadtest_checks",
        "counter",
        "Business checks on responses, by check and result.",
        ("check", "result"),
    ),
    _batch(
        "loadtest",
        "riskkit_loadtest_iterations_scheduled",
        "counter",
        "Iterations due by the arrival schedule.",
    ),
    _batch(
        "loadtest", "riskkit_loadtest_iterations_started", "counter", "Iterations that started."
    ),
    _batch(
        "loadtest",
        "riskkit_loadtest_dropped_iterations",
        "counter",
        "Iterations due but not run: every user busy and the backlog full.",
    ),
    _batch(
        "loadtest",
        "riskkit_loadtest_target_iterations_per_second",
        "gauge",
        "Arrival rate the shape asks for now (open model; 0 in a closed run).",
    ),
    _batch(
        "loadtest",
        "riskkit_loadtest_achieved_iterations_per_second",
        "gauge",
        "Iterations started in the last complete second (measured, not a trailing average).",
    ),
    _batch(
        "loadtest",
        "riskkit_loadtest_users",
        "gauge",
        "Locust users: the pool and those busy.",
        ("state",),
    ),
    _batch(
        "loadtest",
        "riskkit_loadtest_generator_cpu_ratio",
        "gauge",
        "CPU of each generator process in the last second (1 = one full core).",
        ("worker",),
    ),
    _batch(
        "loadtest",
        "riskkit_loadtest_gate_passed",
        "gauge",
        "1 when an SLO gate passes, 0 when it is breached.",
        ("gate",),
        only_when="the run finished and its gates were evaluated",
    ),
)

_SHOP = (
    _shop(
        "riskkit_shop_http_request_duration_seconds",
        "histogram",
        "Time to answer an HTTP request, by route template.",
        ("endpoint", "method", "status_class"),
    ),
    _shop("riskkit_shop_orders", "counter", "Orders created by checkout."),
    _shop(
        "riskkit_shop_payments",
        "counter",
        "Payment attempts by gateway and result.",
        ("gateway", "result"),
    ),
    _shop(
        "riskkit_shop_oversell_refused",
        "counter",
        "Checkouts refused because the stock could not cover them.",
    ),
    _shop(
        "riskkit_shop_coupon_redemptions",
        "counter",
        "Coupons redeemed by committed orders.",
        ("coupon",),
    ),
    _shop("riskkit_shop_faults_active", "gauge", "Injected faults currently active."),
    _shop(
        "riskkit_shop_database_up",
        "gauge",
        "1 while the database is usable, 0 after db_lost until a restore.",
    ),
    _shop(
        "riskkit_shop_payment_gateway_active",
        "gauge",
        "1 for the payment gateway that takes charges.",
        ("gateway",),
    ),
)

CATALOGUE: tuple[MetricFamily, ...] = (
    _LAST_SUCCESS + _ORDERS + _DETECT + _COMPLY + _DRILL + _LOADTEST + _SHOP
)


def family(name: str) -> MetricFamily:
    """The catalogued family called ``name`` (a family or a sample name)."""
    for candidate in CATALOGUE:
        if name == candidate.name or name in candidate.series:
            return candidate
    raise KeyError(f"{name} is not a metric riskkit exports")


def exported_series(families: Iterable[MetricFamily] = CATALOGUE) -> frozenset[str]:
    """Every sample name a query may select."""
    return frozenset(series for entry in families for series in entry.series)
