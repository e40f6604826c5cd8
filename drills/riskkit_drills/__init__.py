"""riskkit incident drills: runbooks rehearsed as tabletop exercises, as
simulated faults against the reference shop, or live against staging.

The engine can be used without the CLI::

    from riskkit_drills import DrillOptions, find_runbook, run_drill

    loaded = find_runbook("payment-gateway-failure")
    result = run_drill(loaded, DrillOptions(tier="P1", mode="simulated", out_dir=out))
    result.journal.outcome  # "targets_met" | "targets_missed" | "aborted"
"""

from __future__ import annotations

from riskkit_drills.catalog import (
    LoadedRunbook,
    find_runbook,
    load_runbook_file,
    load_runbooks,
    runbook_json_schema,
)
from riskkit_drills.engine import DrillOptions, DrillResult, ensure_targets_met, run_drill
from riskkit_drills.journal import Journal, read_journal
from riskkit_drills.models import Runbook
from riskkit_drills.severity import ImpactMetrics, TierDecision, classify_tier

__all__ = [
    "DrillOptions",
    "DrillResult",
    "ImpactMetrics",
    "Journal",
    "LoadedRunbook",
    "Runbook",
    "TierDecision",
    "classify_tier",
    "ensure_targets_met",
    "find_runbook",
    "load_runbook_file",
    "load_runbooks",
    "read_journal",
    "run_drill",
    "runbook_json_schema",
]
