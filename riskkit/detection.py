"""The detector contract and the registry of detectors.

Detectors follow the scikit-learn / PyOD estimator conventions: a
constructor that only stores parameters, ``fit(orders)`` that returns
``self``, fitted state in attributes ending in ``_``.  On top of that every
riskkit detector produces a :class:`DetectionResult`: the output tables its
contract names (``scores.csv``, ``findings.csv``, ``windows.csv`` ...), the
JSONL findings, a summary, the report section and the signals it could not
use.  Each flag carries reasons: facts derived from the data.

Built-in detectors register through the ``riskkit.detectors`` entry-point
group exactly as a third-party package would::

    [project.entry-points."riskkit.detectors"]
    my-detector = "my_package.module:MyDetector"
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self

import numpy as np
import pandas as pd

from riskkit.errors import UsageError

if TYPE_CHECKING:
    from riskkit.metrics import RunMetrics

__all__ = [
    "ENTRY_POINT_GROUP",
    "SEVERITY_ORDER",
    "DetectionResult",
    "Detector",
    "DetectorOption",
    "PartitionedDetector",
    "ReportSection",
    "available_detectors",
    "load_detector",
    "severity_at_least",
]

ENTRY_POINT_GROUP = "riskkit.detectors"
Severity = Literal["low", "medium", "high"]
SEVERITY_ORDER: dict[str, int] = {"low": 1, "medium": 2, "high": 3}


def severity_at_least(severity: str, threshold: str) -> bool:
    return SEVERITY_ORDER.get(severity, 0) >= SEVERITY_ORDER[threshold]


@dataclass(frozen=True)
class DetectorOption:
    """A detector parameter exposed as a CLI option of ``riskkit detect <name>``.

    ``name`` is the constructor parameter (``reference_windows``); the flag is
    ``--`` + name with ``-`` for ``_`` unless ``flag`` is given (``--reference``).
    ``type`` is ``str``, ``int``, ``float`` or ``bool`` (a flag).
    """

    name: str
    type: type
    default: Any
    help: str
    flag: str | None = None

    @property
    def cli_flag(self) -> str:
        return self.flag or "--" + self.name.replace("_", "-")


@dataclass
class ReportSection:
    """A part of ``report.html``: a template (in the detector's package
    ``templates/`` folder, extending nothing) and its context."""

    title: str
    template: str
    context: dict[str, Any] = field(default_factory=dict)


@dataclass
class DetectionResult:
    """What one detector found in one run.

    ``tables`` maps an output file name (``scores.csv``) to its frame, written
    under ``OUT/<detector>/``.  ``findings`` are the JSONL rows
    (``findings.jsonl``).  ``severities`` lists the severity of every finding,
    for ``--fail-on``.  ``unavailable`` maps a check that could not run to
    the reason (a missing column, an all-masked identifier ...).
    """

    detector: str
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    findings: list[dict[str, Any]] = field(default_factory=list)
    severities: list[str] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)
    sections: list[ReportSection] = field(default_factory=list)

    def max_severity(self) -> str | None:
        if not self.severities:
            return None
        return max(self.severities, key=lambda s: SEVERITY_ORDER.get(s, 0))


class Detector(ABC):
    """Base class of every riskkit detector.

    Subclasses set ``name`` (the CLI name, e.g. ``brushing``) and implement
    :meth:`fit`, which must set ``result_`` (a :class:`DetectionResult`).
    Per-order detectors also set ``decision_scores_`` (0-1, higher = more
    suspicious, one per input row), ``labels_`` (0/1) and ``threshold_``.
    """

    name: ClassVar[str]
    description: ClassVar[str] = ""
    # Constructor parameters the CLI exposes (``riskkit detect <name> --flag``).
    options: ClassVar[tuple[DetectorOption, ...]] = ()

    result_: DetectionResult

    @abstractmethod
    def fit(self, orders: pd.DataFrame) -> Self:
        """Analyse the canonical order frame; return ``self``."""

    def get_params(self) -> dict[str, Any]:
        return {
            k: v for k, v in vars(self).items() if not k.endswith("_") and not k.startswith("_")
        }

    def set_params(self, **params: Any) -> Self:
        for key, value in params.items():
            if key not in self.get_params():
                raise UsageError(f"{self.name}: unknown parameter {key!r}")
            setattr(self, key, value)
        return self

    def export_metrics(self, metrics: RunMetrics) -> None:  # noqa: B027 - optional hook
        """Add detector-specific metrics to the run's registry (optional)."""

    @property
    def decision_scores(self) -> np.ndarray:
        scores = getattr(self, "decision_scores_", None)
        if scores is None:
            raise AttributeError(f"{self.name} is not fitted or gives no per-order scores")
        return np.asarray(scores)


class PartitionedDetector(Detector):
    """A detector whose fit adds up per-partition summaries.

    Engines that hold the orders in partitions (``--engine dask``) fit it
    without gathering them: :meth:`scan_partition` on each partition, one
    :meth:`plan_partitions` over the scans, :meth:`summarise_partition` on
    each partition under that plan, and :meth:`fit_summaries` over the
    summaries.  :meth:`fit` is the same steps on one partition, so both
    engines find the same.  Scans, plans and summaries must be small (they
    travel between processes) and must not depend on how the orders were
    split, as long as no order is split.
    """

    @abstractmethod
    def scan_partition(self, orders: pd.DataFrame) -> Any:
        """What this partition tells the plan (time range, columns present ...)."""

    @abstractmethod
    def plan_partitions(self, scans: list[Any]) -> Any:
        """What every partition must agree on before it is summarised."""

    @abstractmethod
    def summarise_partition(self, orders: pd.DataFrame, plan: Any) -> Any:
        """This partition's summary (counts) under ``plan``."""

    @abstractmethod
    def fit_summaries(self, summaries: list[Any], plan: Any) -> Self:
        """Fit from every partition's summary; sets ``result_``."""

    def fit(self, orders: pd.DataFrame) -> Self:
        plan = self.plan_partitions([self.scan_partition(orders)])
        return self.fit_summaries([self.summarise_partition(orders, plan)], plan)


def available_detectors() -> dict[str, str]:
    """Detector name -> ``module:Class`` as registered by installed packages."""
    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def load_detector(name: str, **params: Any) -> Detector:
    """Instantiate the registered detector ``name``."""
    matches = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == name]
    if not matches:
        known = ", ".join(sorted(available_detectors())) or "none installed"
        raise UsageError(f"unknown detector {name!r} (available: {known})")
    cls = matches[0].load()
    if not (isinstance(cls, type) and issubclass(cls, Detector)):
        raise UsageError(f"entry point {name!r} does not name a riskkit Detector subclass")
    return cls(**params)
