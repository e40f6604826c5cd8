"""Fixtures for the drill tests: a fresh reference shop per test (its own process, on a
free loopback port), the CLI runner, and a folder for test-only runbooks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from riskkit.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def shop_url() -> Iterator[str]:
    from riskkit.shop.server import running_shop

    with running_shop(extra_args=["--seed-catalog", "40"]) as url:
        yield url


@pytest.fixture
def shop(shop_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=shop_url, timeout=10) as client:
        yield client


def invoke(*args: str, input: str | None = None) -> Result:
    """Run ``riskkit ARGS`` in-process."""
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def read_journal(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "journal.json").read_text(encoding="utf-8"))
    return data


def subprocess_env() -> dict[str, str]:
    env = dict(os.environ)
    paths = [
        str(ROOT / p) for p in (".", "detectors", "drills", "loadtests", "policies", "runbooks")
    ]
    env["PYTHONPATH"] = os.pathsep.join([*paths, env.get("PYTHONPATH", "")])
    return env


def start_drill(args: list[str], stdin: int | None = None) -> subprocess.Popen[str]:
    """``riskkit drill run ...`` in its own process (for signals and timed stdin)."""
    return subprocess.Popen(
        [sys.executable, "-m", "riskkit", "drill", "run", *args],
        stdin=stdin if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(),
        cwd=ROOT,
    )


TEST_ROLES = """
roles:
  incident_commander: {title: IC, duties: decides}
  communications: {title: Comms, duties: tells}
  operations: {title: Ops, duties: does}
"""


def tiers_yaml(acknowledge_s: float = 300, detect_s: float = 120, extra: str = "") -> str:
    """All four tiers with the same targets (enough for tests)."""
    lines = ["tiers:"]
    for tier in ("P0", "P1", "P2", "P3"):
        lines += [
            f"  {tier}:",
            f"    description: test tier {tier}",
            "    criteria: {checkout_failure_share: 0.1}",
            f"    targets: {{detect_s: {detect_s}, acknowledge_s: {acknowledge_s}, "
            f"mitigate_s: 600, recover_s: 900{extra}}}",
        ]
    return "\n".join(lines) + "\n"


@pytest.fixture
def runbooks_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "runbooks"
    folder.mkdir()
    return folder
