"""Prometheus exposition of a load test, live during the run and pushed at its end.

A collector registered on the run's :class:`riskkit.metrics.RunMetrics` registry reads
the aggregated :class:`RunData` at every scrape, so ``/metrics`` (served by the riskkit
process, which in a distributed run is the master's machine) shows the whole run,
whatever the number of workers.  Labels come from fixed sets: step and check names of
the scenario, gate ids of the SLO file, worker indexes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from prometheus_client.registry import Collector

from riskkit_loadtests.gates import GateResult
from riskkit_loadtests.histogram import bucket_upper_ms
from riskkit_loadtests.results import RunData
from riskkit_loadtests.shapes import RateShape

__all__ = ["LATENCY_BUCKETS_S", "LoadTestCollector"]

LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class LoadTestCollector(Collector):
    """Builds the ``riskkit_loadtest_*`` families from the run's data at scrape time."""

    def __init__(self, data: RunData, shape: RateShape, open_model: bool) -> None:
        self.data = data
        self.shape = shape
        self.open_model = open_model
        self.gates: list[GateResult] = []

    def describe(self) -> list[Any]:
        return []  # collected lazily: the label sets are only known during the run

    def collect(self) -> Iterator[Any]:
        data = self.data
        requests = CounterMetricFamily(
            "riskkit_loadtest_requests", "Requests sent, by scenario step.", labels=["step"]
        )
        failures = CounterMetricFamily(
            "riskkit_loadtest_request_failures",
            "Requests that failed (HTTP error, timeout, connection), by step.",
            labels=["step"],
        )
        latency = HistogramMetricFamily(
            "riskkit_loadtest_request_duration_seconds",
            "Latency from the intended start of the iteration (open model), by step.",
            labels=["step"],
        )
        checks = CounterMetricFamily(
            "riskkit_loadtest_checks",
            "Business checks on responses, by check and result.",
            labels=["check", "result"],
        )
        with data.lock:
            for step in sorted(data.steps):
                totals = data.steps[step]
                requests.add_metric([step], totals.requests)
                failures.add_metric([step], totals.failures)
                buckets = []
                for edge in LATENCY_BUCKETS_S:
                    buckets.append((repr(edge), totals.histogram.count_at_or_below(edge * 1000.0)))
                buckets.append(("+Inf", totals.histogram.total))
                total_s = (
                    sum(
                        bucket_upper_ms(bucket) * count
                        for bucket, count in totals.histogram.counts.items()
                    )
                    / 1000.0
                )
                latency.add_metric([step], buckets, total_s)
            for name in sorted(data.checks):
                passed, failed = data.checks[name]
                checks.add_metric([name, "pass"], passed)
                checks.add_metric([name, "fail"], failed)
            seconds = sorted(data.seconds)
            last = data.seconds[seconds[-1]] if seconds else None
            last_index = seconds[-1] if seconds else 0
            users_pool = sum(data.users_by_worker.values())
            cpu = dict(last.cpu_by_worker) if last else {}
        yield requests
        yield failures
        yield latency
        yield checks
        for name, doc, value in (
            (
                "riskkit_loadtest_iterations_scheduled",
                "Iterations due by the arrival schedule.",
                data.scheduled,
            ),
            ("riskkit_loadtest_iterations_started", "Iterations that started.", data.started),
            (
                "riskkit_loadtest_dropped_iterations",
                "Iterations due but not run: every user busy and the backlog full.",
                data.dropped,
            ),
        ):
            family = CounterMetricFamily(name, doc)
            family.add_metric([], value)
            yield family
        target = GaugeMetricFamily(
            "riskkit_loadtest_target_iterations_per_second",
            "Arrival rate the shape asks for now (open model; 0 in a closed run).",
        )
        target.add_metric([], self.shape.rate_at(last_index + 0.5) if self.open_model else 0.0)
        yield target
        achieved = GaugeMetricFamily(
            "riskkit_loadtest_achieved_iterations_per_second",
            "Iterations started in the last complete second (measured, not a trailing average).",
        )
        achieved.add_metric([], last.started if last else 0)
        yield achieved
        users = GaugeMetricFamily(
            "riskkit_loadtest_users", "Locust users: the pool and those busy.", labels=["state"]
        )
        users.add_metric(["pool"], users_pool)
        users.add_metric(["busy"], last.busy_max if last else 0)
        yield users
        cpu_family = GaugeMetricFamily(
            "riskkit_loadtest_generator_cpu_ratio",
            "CPU of each generator process in the last second (1 = one full core).",
            labels=["worker"],
        )
        for worker, percent in sorted(cpu.items()):
            cpu_family.add_metric([str(worker)], percent / 100.0)
        yield cpu_family
        gate_family = GaugeMetricFamily(
            "riskkit_loadtest_gate_passed",
            "1 when an SLO gate passes, 0 when it is breached.",
            labels=["gate"],
        )
        for gate in self.gates:
            gate_family.add_metric([gate.gate_id], 1.0 if gate.passed else 0.0)
        yield gate_family
