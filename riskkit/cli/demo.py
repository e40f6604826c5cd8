"""``riskkit demo``: every capability on synthetic data, one report index."""

from __future__ import annotations

from pathlib import Path

import click

from riskkit.errors import InvalidRun

__all__ = ["demo"]


@click.command()
@click.option(
    "--out", type=click.Path(path_type=Path), default=Path("riskkit-demo"), show_default=True
)
@click.option("--rows", type=click.IntRange(min=5_000), default=60_000, show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
@click.option(
    "--skip",
    multiple=True,
    type=click.Choice(["synth", "detect", "comply", "drill", "loadtest"]),
    help="Leave out a stage (repeatable).",
)
@click.pass_context
def demo(ctx: click.Context, out: Path, rows: int, seed: int, skip: tuple[str, ...]) -> None:
    """Synthesise a marketplace, run every capability, print where the report is."""
    from riskkit.demo import run_demo

    quiet = bool((ctx.find_root().obj or {}).get("quiet"))
    result = run_demo(out, rows=rows, seed=seed, skip=skip, progress=None if quiet else _progress)
    for stage in result.stages:
        mark = "ok" if stage.ok else "FAILED"
        click.echo(
            f"{stage.name:<9} {mark:<6} exit {stage.exit_code}  {stage.seconds:>6}s  {stage.report or ''}"
        )
    click.echo(f"report: {result.index.resolve()}")
    if not result.ok:
        failed = ", ".join(s.name for s in result.stages if not s.ok)
        raise InvalidRun(f"demo stage(s) failed: {failed} (see {result.index})")


def _progress(message: str) -> None:
    click.echo(message, err=True)
