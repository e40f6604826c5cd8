"""Prometheus metrics for every riskkit command.

Batch commands build a :class:`RunMetrics` for the run: a fresh registry
(so nothing leaks between runs in one process), job ``riskkit_<command>``,
``pushadd`` to a Pushgateway in a ``finally`` and a
``riskkit_<job>_last_success_timestamp_seconds`` gauge exported only when the
run succeeded.  Each run pushes to the group ``job`` + ``run`` (the detectors,
the policy, the runbook and tier, the scenario, or ``--metrics-run``), so
scheduled runs of one command with different targets do not replace each
other's series.  ``--metrics-textfile`` writes the same exposition for
node_exporter's textfile collector (atomically, as node_exporter requires).

Labels come only from fixed sets (detector, severity, policy, phase...),
never from order, buyer or SKU ids: those would explode cardinality.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.exposition import pushadd_to_gateway
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from riskkit.atomic import write_bytes
from riskkit.errors import UsageError

__all__ = ["PUSHGATEWAY_ENV", "RUN_LABEL", "RunMetrics", "job_name"]

log = logging.getLogger(__name__)

PUSHGATEWAY_ENV = "RISKKIT_PUSHGATEWAY"
# The Pushgateway grouping label that keeps runs of one command apart.
RUN_LABEL = "run"

# ``*_created`` series double every counter in a Pushgateway for no benefit to
# batch jobs, whose last-success timestamp already says when they ran.
disable_created_metrics()  # type: ignore[no-untyped-call]
_M = TypeVar("_M", Counter, Gauge, Histogram)


def job_name(command: str) -> str:
    """``detect brushing`` -> ``riskkit_detect`` (the command group is the job)."""
    first = command.strip().split()[0] if command.strip() else "run"
    return "riskkit_" + first.replace("-", "_")


class _WithLabels(Collector):
    """A registry's families with extra labels on every sample.

    A textfile has no Pushgateway group, so the run's ``run`` label goes into
    the samples themselves: two scheduled runs writing their own ``.prom``
    files then never expose the same series (node_exporter refuses that).
    """

    def __init__(self, registry: CollectorRegistry, labels: dict[str, str]) -> None:
        self.registry = registry
        self.labels = labels

    def collect(self) -> Iterator[Metric]:
        for family in self.registry.collect():
            labelled = Metric(family.name, family.documentation, family.type, family.unit)
            labelled.samples = [
                sample._replace(labels={**sample.labels, **self.labels})
                for sample in family.samples
            ]
            yield labelled


class RunMetrics:
    """The metrics of one batch run, pushed and/or written at its end."""

    def __init__(
        self,
        command: str,
        pushgateway: str | None = None,
        textfile: str | Path | None = None,
        push_timeout: float = 5.0,
        run_name: str | None = None,
    ) -> None:
        self.job = job_name(command)
        if run_name is not None and not run_name.strip():
            raise UsageError("--metrics-run must not be empty")
        self.run_name = run_name.strip() if run_name else None
        self.registry = CollectorRegistry()
        self.pushgateway = pushgateway or os.environ.get(PUSHGATEWAY_ENV) or None
        self.textfile = Path(textfile) if textfile else None
        if self.textfile is not None and self.textfile.suffix != ".prom":
            raise UsageError(
                f"--metrics-textfile must end in .prom (node_exporter ignores others): {self.textfile}"
            )
        self.push_timeout = push_timeout
        self.push_error: str | None = None
        self.succeeded = False
        self._metrics: dict[str, Counter | Gauge | Histogram] = {}
        self._last_success_name = f"{self.job}_last_success_timestamp_seconds"
        self.last_success = self.gauge(
            self._last_success_name,
            "Unix time of the last successful run of this command.",
        )

    def _get(
        self, kind: type[_M], name: str, doc: str, labels: tuple[str, ...], **kw: object
    ) -> _M:
        existing = self._metrics.get(name)
        if existing is not None:
            if not isinstance(existing, kind):
                raise TypeError(f"metric {name} already registered as {type(existing).__name__}")
            return existing
        metric = kind(name, doc, labelnames=labels, registry=self.registry, **kw)  # type: ignore[arg-type]
        self._metrics[name] = metric
        return metric

    def counter(self, name: str, doc: str, labels: tuple[str, ...] = ()) -> Counter:
        return self._get(Counter, name, doc, labels)

    def gauge(self, name: str, doc: str, labels: tuple[str, ...] = ()) -> Gauge:
        return self._get(Gauge, name, doc, labels)

    def histogram(
        self,
        name: str,
        doc: str,
        labels: tuple[str, ...] = (),
        buckets: tuple[float, ...] = Histogram.DEFAULT_BUCKETS,
    ) -> Histogram:
        return self._get(Histogram, name, doc, labels, buckets=buckets)

    def exposition(self) -> bytes:
        """The text format of this run's metrics, with the ``run`` label when the run has one."""
        if not self.grouping_key:
            return generate_latest(self.registry)
        return generate_latest(_WithLabels(self.registry, self.grouping_key))

    @property
    def grouping_key(self) -> dict[str, str]:
        """The Pushgateway group below the job: ``{"run": ...}`` when the run has a name."""
        return {RUN_LABEL: self.run_name} if self.run_name else {}

    def mark_success(self) -> None:
        self.succeeded = True
        self.last_success.set(time.time())

    def flush(self) -> None:
        """Write the textfile and push; a failed push is a warning, never fatal."""
        if not self.succeeded and self._metrics.pop(self._last_success_name, None) is not None:
            # An unsuccessful run leaves the last success out of what it pushes, so
            # ``pushadd`` keeps the previous success in the Pushgateway.
            self.registry.unregister(self.last_success)
        if self.textfile is not None:
            write_bytes(self.textfile, self.exposition())
        if self.pushgateway:
            try:
                pushadd_to_gateway(
                    self.pushgateway,
                    job=self.job,
                    registry=self.registry,
                    grouping_key=self.grouping_key,
                    timeout=self.push_timeout,
                )
            except Exception as exc:  # any network failure: keep the run's results
                self.push_error = f"{type(exc).__name__}: {exc}"
                log.warning("could not push metrics to %s: %s", self.pushgateway, self.push_error)

    @contextmanager
    def run(self) -> Iterator[RunMetrics]:
        """Mark success if the body finishes (a gate failure still counts as a
        successful *run*: the command did its job), and always flush."""
        from riskkit.errors import GateFailed

        try:
            yield self
        except GateFailed:
            self.mark_success()
            raise
        else:
            self.mark_success()
        finally:
            self.flush()

    def timed(self, name: str, doc: str, **labels: str) -> Callable[[], None]:
        """Start a duration gauge; call the returned function to stop it."""
        gauge = self.gauge(name, doc, tuple(labels))
        started = time.perf_counter()

        def stop() -> None:
            child = gauge.labels(**labels) if labels else gauge
            child.set(time.perf_counter() - started)

        return stop
