"""Where ``riskkit detect`` does its work: in this process (pandas) or on Dask.

The runner talks to an engine through two calls: :meth:`Engine.read` reads
and normalises the inputs (quarantining bad rows, applying ``--since`` and
``--until``), :meth:`Engine.fit` fits the detectors and yields them fitted.
The pandas engine is the embedded default.  The Dask engine lives in
:mod:`riskkit.detect.dask_engine` and is imported only when asked for, so a
pandas run never imports Dask.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import pandas as pd

from riskkit.detection import Detector
from riskkit.errors import InputError, UsageError
from riskkit.orders import read_orders
from riskkit.orders.schema import signals_present

__all__ = [
    "DATA_SUFFIXES",
    "ENGINES",
    "Engine",
    "EngineOptions",
    "FittedDetector",
    "OrdersRead",
    "PandasEngine",
    "expand_inputs",
    "filter_window",
    "open_engine",
    "read_partition",
]

ENGINES = ("pandas", "dask")
# Files of a partitioned export directory; others (``_SUCCESS``, ``.crc``) are skipped.
DATA_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq", ".jsonl", ".ndjson", ".xlsx")


@dataclass(frozen=True)
class EngineOptions:
    """``--engine``, ``--scheduler``, ``--workers`` and ``--memory-limit``."""

    name: str = "pandas"
    scheduler: str | None = None
    workers: int = 2
    memory_limit: str | None = None

    def __post_init__(self) -> None:
        if self.name not in ENGINES:
            raise UsageError(f"--engine must be one of {', '.join(ENGINES)}, not {self.name!r}")
        if self.workers < 1:
            raise UsageError("--workers must be at least 1")
        if self.name == "pandas" and self.scheduler is not None:
            raise UsageError("--scheduler needs --engine dask")


@dataclass
class OrdersRead:
    """What reading produced, apart from the order lines the engine keeps."""

    rows_read: int
    orders: int
    rejected: pd.DataFrame
    format: str
    signals: dict[str, bool]
    partitions: int = 1


@dataclass
class FittedDetector:
    detector: Detector
    seconds: float


@dataclass
class PartitionRead:
    """One input file read and normalised (a Dask task returns this)."""

    frame: pd.DataFrame
    rejected: pd.DataFrame
    format: str
    rows_read: int
    columns_with_values: set[str] = field(default_factory=set)


class Engine(ABC):
    """Reads the inputs once, then fits detectors on what it read.  Used as a
    context manager: leaving the block releases what the engine holds."""

    name: str

    @abstractmethod
    def read(
        self,
        inputs: Sequence[str | Path],
        fmt: str | None,
        columns: str | Path | None,
        since: pd.Timestamp | None,
        until: pd.Timestamp | None,
    ) -> OrdersRead: ...

    @abstractmethod
    def fit(self, detectors: Sequence[Detector]) -> Iterator[FittedDetector]: ...

    def describe(self) -> dict[str, Any]:
        return {"name": self.name}

    def start(self) -> None:  # noqa: B027 - engines with nothing to start
        """Acquire what the engine runs on (a cluster, a connection)."""

    def close(self) -> None:  # noqa: B027
        """Release the data and anything :meth:`start` acquired."""

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def expand_inputs(inputs: Sequence[str | Path]) -> list[Path]:
    """Input files, a directory standing for its data files in path order."""
    paths: list[Path] = []
    for given in inputs:
        path = Path(given)
        if not path.exists():
            raise InputError("no such file or directory", file=path)
        if not path.is_dir():
            paths.append(path)
            continue
        files = sorted(
            p
            for p in path.rglob("*")
            if p.is_file()
            and not p.name.startswith((".", "_"))
            and p.name.lower().endswith(DATA_SUFFIXES)
        )
        if not files:
            raise InputError("the directory holds no order files", file=path)
        paths.extend(files)
    if not paths:
        raise UsageError("no input files given")
    return paths


def filter_window(
    frame: pd.DataFrame, since: pd.Timestamp | None, until: pd.Timestamp | None
) -> pd.DataFrame:
    """Order lines created within ``[since, until]`` (bounds optional)."""
    if since is None and until is None:
        return frame
    created = pd.to_datetime(frame["created_at"], errors="coerce")
    keep = pd.Series(True, index=frame.index)
    if since is not None:
        keep &= created >= since
    if until is not None:
        keep &= created <= until
    return frame.loc[keep].reset_index(drop=True)


def columns_with_values(frame: pd.DataFrame) -> set[str]:
    return {str(c) for c in frame.columns if bool(frame[c].notna().any())}


def read_partition(
    paths: Sequence[Path],
    fmt: str | None,
    columns: str | Path | None,
    since: pd.Timestamp | None,
    until: pd.Timestamp | None,
) -> PartitionRead:
    """Read, normalise and window one partition (one file, or a file pair)."""
    kwargs: dict[str, Any] = {"fmt": fmt}
    if columns is not None:
        kwargs["columns"] = columns
    table = read_orders(list(paths), **kwargs)
    rows_read = len(table.frame)
    frame = filter_window(table.frame.reset_index(drop=True), since, until)
    return PartitionRead(
        frame=frame,
        rejected=table.rejected,
        format=str(table.format),
        rows_read=rows_read,
        columns_with_values=columns_with_values(table.frame),
    )


class PandasEngine(Engine):
    """Everything in this process: one frame, detectors fitted one after another."""

    name = "pandas"

    def __init__(self) -> None:
        self._frame: pd.DataFrame | None = None

    def close(self) -> None:
        self._frame = None

    def read(
        self,
        inputs: Sequence[str | Path],
        fmt: str | None,
        columns: str | Path | None,
        since: pd.Timestamp | None,
        until: pd.Timestamp | None,
    ) -> OrdersRead:
        for path in inputs:
            if not Path(path).exists():
                raise InputError("no such file", file=path)
        # A Parquet directory is one dataset to pyarrow; any other directory
        # stands for its files.
        paths: list[Path] = []
        for given in map(Path, inputs):
            holds_parquet = given.is_dir() and any(given.rglob("*.parquet"))
            paths.extend([given] if not given.is_dir() or holds_parquet else expand_inputs([given]))
        part = read_partition(paths, fmt, columns, since, until)
        self._frame = part.frame
        return OrdersRead(
            rows_read=part.rows_read,
            orders=int(part.frame["order_id"].nunique()) if "order_id" in part.frame else 0,
            rejected=part.rejected,
            format=part.format,
            signals=signals_present(part.columns_with_values),
            partitions=1,
        )

    def fit(self, detectors: Sequence[Detector]) -> Iterator[FittedDetector]:
        if self._frame is None:
            raise RuntimeError("read() must come before fit()")
        for detector in detectors:
            started = time.perf_counter()
            detector.fit(self._frame)
            yield FittedDetector(detector, time.perf_counter() - started)


def open_engine(options: EngineOptions) -> Engine:
    """The engine ``options`` names; Dask is imported here and only here."""
    if options.name == "pandas":
        return PandasEngine()
    try:
        from riskkit.detect.dask_engine import DaskEngine
    except ImportError as exc:
        raise UsageError(f"--engine dask needs Dask: pip install 'riskkit[dask]' ({exc})") from None
    return DaskEngine(options)
