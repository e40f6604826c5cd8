"""``riskkit demo``: synthesise a marketplace and run every capability on it.

The demo replays the quick-start commands of the README in-process, in
order, so it exercises exactly what a user would run: a synthetic export,
the detectors, a compliance audit of the sample evidence, a simulated
incident drill and a short load test against the reference shop, both on
loopback.  Each stage's outcome and report land in ``index.html``.
"""

from __future__ import annotations

import contextlib
import io
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from riskkit.atomic import write_json
from riskkit.errors import EXIT_OK, RiskkitError, UsageError
from riskkit.report import write_report

__all__ = ["STAGES", "DemoResult", "StageOutcome", "run_demo"]


@dataclass(frozen=True)
class Stage:
    name: str
    title: str
    # Builds the riskkit command line from the demo folder, rows and seed.
    arguments: Callable[[Path, int, int], list[str]]
    report: str  # the stage's report, relative to the demo folder
    # A gate failing (exit 3) on data full of injected fraud is the expected
    # outcome of a detector run, not a failure of the demo.
    expected_codes: tuple[int, ...] = (EXIT_OK,)


def _sample_evidence() -> str:
    from riskkit.comply import sample_evidence_dir

    return str(sample_evidence_dir())


# The sample evidence is dated: judging it "as of" a fixed moment keeps the
# demo's audit the same whatever day it runs.
SAMPLE_EVIDENCE_AS_OF = "2026-11-22 12:00:00"

STAGES: tuple[Stage, ...] = (
    Stage(
        "synth",
        "Synthetic marketplace export with labelled fraud",
        lambda out, rows, seed: [
            "orders",
            "synth",
            "--rows",
            str(rows),
            "--seed",
            str(seed),
            "--format",
            "riskkit",
            "--out",
            str(out / "data"),
        ],
        "data/README.txt",
    ),
    Stage(
        "detect",
        "Detectors: brushing, coupon abuse, traffic drift, price discrimination",
        lambda out, rows, seed: [
            "detect",
            "all",
            str(out / "data" / "orders.csv"),
            "--out",
            str(out / "detect"),
        ],
        "detect/report.html",
    ),
    Stage(
        "comply",
        "Compliance audit of the sample evidence",
        lambda out, rows, seed: [
            "comply",
            "run",
            "--policy",
            "all",
            "--evidence",
            _sample_evidence(),
            "--out",
            str(out / "comply"),
            "--as-of",
            SAMPLE_EVIDENCE_AS_OF,
        ],
        "comply/report.html",
    ),
    Stage(
        "drill",
        "Simulated P1 payment-gateway failure drill against the reference shop",
        lambda out, rows, seed: [
            "drill",
            "run",
            "payment-gateway-failure",
            "--tier",
            "P1",
            "--mode",
            "simulated",
            "--auto-answer",
            "--out",
            str(out / "drill"),
        ],
        "drill/report.html",
    ),
    Stage(
        "loadtest",
        "15-second checkout load test against the reference shop",
        lambda out, rows, seed: [
            "loadtest",
            "run",
            "--scenario",
            "checkout",
            "--rate",
            "20/s",
            "--duration",
            "15s",
            "--out",
            str(out / "loadtest"),
        ],
        "loadtest/report.html",
        expected_codes=(EXIT_OK, 3),
    ),
)


@dataclass
class StageOutcome:
    name: str
    title: str
    exit_code: int
    seconds: float
    report: str | None
    message: str = ""
    ok: bool = True


@dataclass
class DemoResult:
    out_dir: Path
    index: Path
    stages: list[StageOutcome] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(stage.ok for stage in self.stages)


def _run_stage(arguments: list[str]) -> tuple[int, str]:
    from riskkit.cli.main import cli

    captured = io.StringIO()
    code = EXIT_OK
    message = ""
    with contextlib.redirect_stdout(captured):
        try:
            # Without standalone mode click returns the exit code of ctx.exit().
            returned = cli.main(args=arguments, prog_name="riskkit", standalone_mode=False)
            if isinstance(returned, int):
                code = returned
        except click.exceptions.Exit as exc:
            code = int(exc.exit_code)
        except click.ClickException as exc:
            code, message = exc.exit_code, exc.format_message()
        except RiskkitError as exc:
            code, message = exc.exit_code, exc.render()
    if not message:
        lines = captured.getvalue().strip().splitlines()
        message = lines[-1] if lines else ""
    return code, message


def run_demo(
    out_dir: str | Path,
    rows: int = 60_000,
    seed: int = 7,
    skip: tuple[str, ...] = (),
    progress: Callable[[str], None] | None = None,
) -> DemoResult:
    """Run every stage not skipped; write ``index.html`` and ``demo.json``."""
    unknown = set(skip) - {s.name for s in STAGES}
    if unknown:
        raise UsageError(
            f"unknown demo stage(s) {sorted(unknown)}; known: {[s.name for s in STAGES]}"
        )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    result = DemoResult(out_dir=out, index=out / "index.html")
    for stage in STAGES:
        if stage.name in skip:
            continue
        if progress is not None:
            progress(f"{stage.name}: {stage.title} ...")
        started = time.perf_counter()
        code, message = _run_stage(stage.arguments(out, rows, seed))
        report = stage.report if (out / stage.report).exists() else None
        result.stages.append(
            StageOutcome(
                name=stage.name,
                title=stage.title,
                exit_code=code,
                seconds=round(time.perf_counter() - started, 1),
                report=report,
                message=message,
                ok=code in stage.expected_codes,
            )
        )
    payload: dict[str, Any] = {
        "out_dir": str(out),
        "ok": result.ok,
        "stages": [vars(stage) for stage in result.stages],
    }
    write_json(out / "demo.json", payload)
    write_report(result.index, "demo_index.html", {"stages": result.stages, "out_dir": str(out)})
    return result
