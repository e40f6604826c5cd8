"""Probes: HTTP status and latency, a PromQL query against a Prometheus, or
a metric read straight from the target's ``/metrics`` exposition.

A probe answers ``(ok, observed)``; it never raises for a failing target
(a refused connection is an observation, not a crash).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families

from riskkit_drills.models import Comparison, HttpProbe, Probe, PromqlProbe, ScrapeProbe

__all__ = ["ProbeOutcome", "describe_probe", "promql_value", "run_probe", "scrape_value"]


@dataclass(frozen=True)
class ProbeOutcome:
    ok: bool
    observed: str


def describe_probe(probe: Probe) -> str:
    if isinstance(probe, HttpProbe):
        latency = f", latency <= {probe.max_latency_s:g} s" if probe.max_latency_s else ""
        return f"{probe.name}: {probe.method} {probe.path} -> {probe.expect_status}{latency}"
    if isinstance(probe, PromqlProbe):
        return f"{probe.name}: PromQL {probe.query} {probe.expect}"
    labels = ",".join(f'{k}="{v}"' for k, v in sorted(probe.labels.items()))
    return f"{probe.name}: {probe.metric}{{{labels}}} {probe.expect} (scraped {probe.path})"


def promql_value(prometheus: str, query: str, timeout_s: float = 5.0) -> float | None:
    """The value of an instant query: a scalar, or the sum over the vector (None = empty)."""
    response = httpx.get(
        prometheus.rstrip("/") + "/api/v1/query", params={"query": query}, timeout=timeout_s
    )
    response.raise_for_status()
    payload = response.json()
    if payload.get("status") != "success":
        raise ValueError(f"Prometheus answered {payload.get('error', payload)}")
    data = payload["data"]
    if data["resultType"] == "scalar":
        return float(data["result"][1])
    if data["resultType"] != "vector":
        raise ValueError(f"expected a vector or scalar, got {data['resultType']}")
    if not data["result"]:
        return None
    return math.fsum(float(series["value"][1]) for series in data["result"])


def scrape_value(client: httpx.Client, path: str, metric: str, labels: dict[str, str]) -> float:
    """Sum of the samples named ``metric`` whose labels include ``labels``."""
    response = client.get(path)
    response.raise_for_status()
    total = 0.0
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name != metric:
                continue
            if all(sample.labels.get(k) == v for k, v in labels.items()):
                total += float(sample.value)
    return total


def _compare(expect: Comparison, value: float) -> ProbeOutcome:
    return ProbeOutcome(expect.holds(value), f"{value:g} (expected {expect})")


def run_probe(probe: Probe, client: httpx.Client, prometheus: str | None) -> ProbeOutcome:
    """Run one probe against the drill's target (``client``) or its Prometheus."""
    try:
        if isinstance(probe, HttpProbe):
            started = time.perf_counter()
            response = client.request(probe.method, probe.path, timeout=probe.timeout_s)
            latency = time.perf_counter() - started
            ok = response.status_code in probe.expect_status
            if probe.max_latency_s is not None and latency > probe.max_latency_s:
                ok = False
            return ProbeOutcome(ok, f"HTTP {response.status_code} in {latency * 1000:.0f} ms")
        if isinstance(probe, PromqlProbe):
            if not prometheus:
                return ProbeOutcome(False, "no --prometheus given for a PromQL probe")
            value = promql_value(prometheus, probe.query)
            if value is None:
                if probe.absent_is is None:
                    return ProbeOutcome(False, "query returned no series")
                value = probe.absent_is
            return _compare(probe.expect, value)
        assert isinstance(probe, ScrapeProbe)
        return _compare(probe.expect, scrape_value(client, probe.path, probe.metric, probe.labels))
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        return ProbeOutcome(False, f"{type(exc).__name__}: {exc}")
