"""Monitoring riskkit itself: the catalogue of exported metrics, alerting rules
and a Grafana dashboard built from it (``riskkit metrics``)."""

from riskkit.monitoring.catalogue import CATALOGUE, MetricFamily
from riskkit.monitoring.dashboard import DashboardOptions, grafana_dashboard
from riskkit.monitoring.promql import Scope
from riskkit.monitoring.rules import RuleOptions, alerting_rules, render_rules

__all__ = [
    "CATALOGUE",
    "DashboardOptions",
    "MetricFamily",
    "RuleOptions",
    "Scope",
    "alerting_rules",
    "grafana_dashboard",
    "render_rules",
]
