"""Documentation that cannot drift: every command, detector, policy and runbook
appears in README.md or docs/, and the README's commands are the ones CI runs."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from riskkit.cli.main import COMMAND_GROUPS, cli
from riskkit.detection import available_detectors

ROOT = Path(__file__).resolve().parents[1]


def _docs_text() -> str:
    parts = [(ROOT / "README.md").read_text(encoding="utf-8")]
    parts += [p.read_text(encoding="utf-8") for p in sorted((ROOT / "docs").glob("*.md"))]
    return "\n".join(parts)


def _commands(group: click.Group, prefix: str, ctx: click.Context) -> list[str]:
    found: list[str] = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is None or command.hidden:
            continue
        path = f"{prefix} {name}"
        found.append(path)
        if isinstance(command, click.Group):
            found += _commands(command, path, ctx)
    return found


def all_commands() -> list[str]:
    with click.Context(cli) as ctx:
        return _commands(cli, "riskkit", ctx)


def test_every_group_is_installed() -> None:
    assert {c.split()[1] for c in all_commands()} == set(COMMAND_GROUPS)


@pytest.mark.parametrize("command", all_commands())
def test_every_command_is_documented(command: str) -> None:
    assert command in _docs_text(), f"`{command}` is not documented in README.md or docs/"


@pytest.mark.parametrize("detector", sorted(available_detectors()))
def test_every_detector_is_documented(detector: str) -> None:
    assert f"riskkit detect {detector}" in _docs_text()


def test_exit_codes_documented() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for code, meaning in [
        (0, "ok"),
        (1, "internal"),
        (2, "usage or input"),
        (3, "gate"),
        (4, "invalid"),
    ]:
        assert re.search(rf"\|\s*{code}\s*\|[^\n]*{meaning}", readme, re.IGNORECASE), code


def test_canonical_schema_documented() -> None:
    from riskkit.orders.schema import ALL_COLUMNS

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for column in ALL_COLUMNS:
        assert f"`{column}`" in readme, column


def test_ci_runs_exactly_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    command = "bash scripts/test"
    assert command in readme
    assert [
        line for line in ci.splitlines() if line and not line.startswith(("#", "set ", "cd "))
    ] == [command]


def test_changelog_follows_keep_a_changelog() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## [Unreleased]" in changelog
    assert "keepachangelog.com" in changelog
