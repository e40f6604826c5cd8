"""Helpers shared by the load-test suite (faults, CLI runs, outputs)."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from riskkit.cli.main import cli


def admin(url: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(
        url + path,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"},
        method=method,
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


def add_fault(url: str, kind: str, endpoint: str, value: float, duration_s: float) -> Any:
    return admin(
        url,
        "POST",
        "/admin/faults",
        {"kind": kind, "endpoint": endpoint, "value": value, "duration_s": duration_s},
    )


def run_cli(args: list[str]) -> Result:
    return CliRunner().invoke(cli, args, catch_exceptions=False)


def summary_of(out: Path) -> dict[str, Any]:
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))
