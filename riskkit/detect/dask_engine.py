"""The Dask engine of ``riskkit detect --engine dask``.

Work is split the way Dask splits it, on an existing Dask cluster
(``--scheduler tcp://HOST:8786``) or a local one started for the run:

* **Read.**  Every input file (a directory stands for its files) is one
  partition, read, normalised, quarantined and windowed by a task on a
  worker.  The order lines stay on the workers; only row counts, rejected
  rows and which columns hold values come back.  Dask spills partitions to
  disk when a worker nears its memory limit.
* **Group-by features.**  Order counts are a Dask reduction over the
  partitions (distinct order ids), never a gather of all ids.
* **Fit.**  A :class:`~riskkit.detection.PartitionedDetector` (traffic
  drift) is fitted without gathering: a scan task per partition, one plan,
  a summary task per partition, then the summaries are added up on the
  client; memory per task is one partition.  Every other detector is fitted
  by one task on a worker, with the partitions concatenated there in input
  order; those tasks run side by side, one per worker thread.  Either way
  the result is the pandas engine's, so the findings are the same.

This module imports Dask; :func:`riskkit.detect.engine.open_engine` imports
it only for ``--engine dask``.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import dask
import dask.dataframe as dd
import pandas as pd
from distributed import Client, Future, KilledWorker, LocalCluster, as_completed

from riskkit.detect.engine import (
    Engine,
    EngineOptions,
    FittedDetector,
    OrdersRead,
    PartitionRead,
    expand_inputs,
    read_partition,
)
from riskkit.detection import Detector, PartitionedDetector
from riskkit.errors import InvalidRun, RiskkitError, UsageError
from riskkit.orders.schema import signals_present

__all__ = ["DaskEngine"]

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = "15s"


# Tasks return riskkit's own errors (bad input, bad parameters) as values: the
# client raises them with their file, row and column, and the workers do not
# log them as crashes with a traceback.


def _call_on_worker(function: Callable[..., Any], *args: Any) -> Any:
    try:
        return function(*args)
    except RiskkitError as error:
        return error


def _raise_errors(values: list[Any]) -> list[Any]:
    for value in values:
        if isinstance(value, RiskkitError):
            raise value
    return values


def _facts_of(
    part: PartitionRead | RiskkitError,
) -> tuple[pd.DataFrame, str, int, int, int, set[str]] | RiskkitError:
    if isinstance(part, RiskkitError):
        return part
    frame = part.frame
    orders = int(frame["order_id"].nunique()) if "order_id" in frame else 0
    return part.rejected, part.format, part.rows_read, len(frame), orders, part.columns_with_values


def _frame_of(part: PartitionRead) -> pd.DataFrame:
    return part.frame


def _fit_whole(detector: Detector, *frames: pd.DataFrame) -> FittedDetector:
    frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    started = time.perf_counter()
    detector.fit(frame)
    return FittedDetector(detector, time.perf_counter() - started)


class DaskEngine(Engine):
    """Reads partitions and fits detectors on a Dask cluster."""

    name = "dask"

    def __init__(self, options: EngineOptions) -> None:
        self.options = options
        self._cluster: LocalCluster | None = None
        self._client: Client | None = None
        self._frames: list[Future[pd.DataFrame]] = []
        self._run = uuid.uuid4().hex[:8]
        self._orders_whole = False
        self.partitioned: list[str] = []

    def start(self) -> None:
        # The pandas engine's frame is what every detector expects; keep Dask
        # from converting string columns to its own dtype on the way.
        dask.config.set({"dataframe.convert-string": False})
        # A detector that exhausted a worker's memory will do so again: fail
        # after one retry instead of killing worker after worker.
        dask.config.set({"distributed.scheduler.allowed-failures": 1})
        if self.options.scheduler is not None:
            try:
                self._client = Client(self.options.scheduler, timeout=CONNECT_TIMEOUT)
            except (OSError, TimeoutError, ValueError) as exc:
                raise UsageError(
                    f"cannot reach the Dask scheduler at {self.options.scheduler}: {exc}"
                ) from None
        else:
            self._cluster = LocalCluster(
                n_workers=self.options.workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                # The scheduler serves HTTP (health, metrics) even without the
                # dashboard; a free loopback port keeps two runs from colliding.
                dashboard_address="127.0.0.1:0",
                memory_limit=self.options.memory_limit or "auto",
                silence_logs=logging.ERROR,
            )
            self._client = Client(self._cluster)

    def close(self) -> None:
        self._frames = []
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._cluster = None

    @property
    def client(self) -> Client:
        if self._client is None:
            raise RuntimeError("the Dask engine is used outside its with-block")
        return self._client

    def describe(self) -> dict[str, Any]:
        info = self.client.scheduler_info()
        workers = info.get("workers", {})
        return {
            "name": self.name,
            "scheduler": self.options.scheduler or "local",
            "workers": len(workers),
            "threads": sum(int(w.get("nthreads", 0)) for w in workers.values()),
            "memory_limit_bytes": sum(int(w.get("memory_limit", 0)) for w in workers.values()),
            "fitted_by_partition": list(self.partitioned),
            "dashboard": self.client.dashboard_link,
        }

    def read(
        self,
        inputs: Sequence[str | Path],
        fmt: str | None,
        columns: str | Path | None,
        since: pd.Timestamp | None,
        until: pd.Timestamp | None,
    ) -> OrdersRead:
        paths = expand_inputs(inputs)
        mapping = None if columns is None else str(Path(columns).resolve())
        parts = [
            self.client.submit(
                _call_on_worker,
                read_partition,
                [path.resolve()],
                fmt,
                mapping,
                since,
                until,
                key=f"riskkit-read-{self._run}-{index}",
            )
            for index, path in enumerate(paths)
        ]
        facts = _raise_errors(
            self.client.gather([self.client.submit(_facts_of, part) for part in parts])
        )
        self._frames = [self.client.submit(_frame_of, part) for part in parts]
        del parts  # the frames keep the order lines on the workers
        rejected = [f[0] for f in facts if len(f[0])]
        with_values: set[str] = set().union(*(f[5] for f in facts))
        orders = self._distinct_orders() if sum(f[3] for f in facts) else 0
        # Detectors that add up partition summaries need every order whole in one partition.
        self._orders_whole = orders == sum(f[4] for f in facts)
        if not self._orders_whole:
            log.warning(
                "orders are split across input files: every detector is fitted on the whole data"
            )
        return OrdersRead(
            rows_read=sum(f[2] for f in facts),
            orders=orders,
            rejected=pd.concat(rejected, ignore_index=True) if rejected else facts[0][0],
            format="+".join(sorted({part for f in facts for part in f[1].split("+")})),
            signals=signals_present(with_values),
            partitions=len(paths),
        )

    def _distinct_orders(self) -> int:
        meta = self.client.submit(lambda frame: frame.iloc[:0], self._frames[0]).result()
        lines = dd.from_delayed(self._frames, meta=meta, verify_meta=False)
        return int(lines["order_id"].nunique().compute())

    def fit(self, detectors: Sequence[Detector]) -> Iterator[FittedDetector]:
        """Partitioned detectors summarise partition by partition (bounded
        memory); the others are fitted whole, each by one task, side by side."""
        if not self._frames:
            raise RuntimeError("read() must come before fit()")
        parted = [d for d in detectors if isinstance(d, PartitionedDetector) and self._orders_whole]
        pending = {
            self.client.submit(
                _call_on_worker,
                _fit_whole,
                detector,
                *self._frames,
                key=f"riskkit-fit-{self._run}-{detector.name}",
            ): detector.name
            for detector in detectors
            if detector not in parted
        }
        for detector in parted:
            self.partitioned.append(detector.name)
            yield self._fit_partitioned(detector)
        for future in as_completed(list(pending)):
            name = pending.pop(future)
            try:
                fitted = _raise_errors([future.result()])[0]
            except KilledWorker as exc:
                raise InvalidRun(
                    f"a Dask worker died while fitting {name} (out of memory?): {exc}; "
                    "give the workers more memory (--memory-limit) or run fewer detectors"
                ) from None
            future.release()
            assert isinstance(fitted, FittedDetector)
            yield fitted

    def _fit_partitioned(self, detector: PartitionedDetector) -> FittedDetector:
        started = time.perf_counter()

        def each_partition(method: Callable[..., Any], *args: Any) -> list[Any]:
            futures = [
                self.client.submit(_call_on_worker, method, frame, *args, pure=False)
                for frame in self._frames
            ]
            return _raise_errors(self.client.gather(futures))

        plan = detector.plan_partitions(each_partition(detector.scan_partition))
        summaries = each_partition(detector.summarise_partition, plan)
        detector.fit_summaries(summaries, plan)
        return FittedDetector(detector, time.perf_counter() - started)
