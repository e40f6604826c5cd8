"""Run registered detectors over an order export and write their outputs."""

from riskkit.detect.runner import (
    DetectGateFailed,
    DetectorRun,
    DetectRunSummary,
    run_detectors,
)

__all__ = ["DetectGateFailed", "DetectRunSummary", "DetectorRun", "run_detectors"]
