"""``riskkit`` — the top-level command.  Groups load lazily so that ``riskkit
orders`` never imports locust or gevent (gevent patches the standard library)."""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import sys
import traceback
from typing import Any

import click

from riskkit import __version__
from riskkit.errors import EXIT_INTERNAL, EXIT_INVALID_RUN, EXIT_OK, RiskkitError

__all__ = ["COMMAND_GROUPS", "cli", "main"]

# group name -> "module:attribute"; a group's module is imported only when used.
COMMAND_GROUPS: dict[str, str] = {
    "orders": "riskkit.cli.orders:orders",
    "detect": "riskkit.cli.detect:detect",
    "shop": "riskkit.cli.shop:shop",
    "loadtest": "riskkit.cli.loadtest:loadtest",
    "comply": "riskkit.cli.comply:comply",
    "drill": "riskkit.cli.drill:drill",
    "metrics": "riskkit.cli.metrics:metrics",
    "demo": "riskkit.cli.demo:demo",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        names = set(super().list_commands(ctx))
        for name, target in COMMAND_GROUPS.items():
            module = target.split(":")[0]
            if importlib.util.find_spec(module) is not None:
                names.add(name)
        return sorted(names)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMAND_GROUPS.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module_name, attribute = target.split(":")
        if importlib.util.find_spec(module_name) is None:
            return None
        command = getattr(importlib.import_module(module_name), attribute)
        assert isinstance(command, click.Command)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        """Map every failure to a documented exit code, never a traceback."""
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except RiskkitError as exc:
            click.echo(f"riskkit: error: {exc.render()}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("riskkit: aborted", err=True)
            ctx.exit(EXIT_INVALID_RUN)
        except BrokenPipeError:
            # stdout went away (``riskkit metrics rules | head``): not a bug.
            # Point stdout at devnull so the interpreter's final flush is quiet.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            ctx.exit(EXIT_OK)
        except Exception as exc:
            if os.environ.get("RISKKIT_DEBUG"):
                traceback.print_exc()
            click.echo(
                f"riskkit: internal error: {type(exc).__name__}: {exc} "
                "(set RISKKIT_DEBUG=1 for the traceback and please report it)",
                err=True,
            )
            ctx.exit(EXIT_INTERNAL)


class _StderrHandler(logging.Handler):
    """Log records to the stderr click sees now (so CliRunner captures them too)."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(self.format(record), err=True)


def _configure_logging(level: int) -> None:
    logger = logging.getLogger("riskkit")
    for handler in list(logger.handlers):
        if isinstance(handler, _StderrHandler):
            logger.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("riskkit: %(levelname)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="riskkit")
@click.option("-q", "--quiet", is_flag=True, help="Only errors on stderr; no progress.")
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv for debug).")
@click.pass_context
def cli(ctx: click.Context, quiet: bool, verbose: int) -> None:
    """riskkit: e-commerce risk detectors, load tests, compliance checklists and incident drills.

    Exit codes: 0 ok, 1 internal error, 2 usage or input error, 3 a gate failed,
    4 run invalid or aborted.
    """
    level = (
        logging.ERROR
        if quiet
        else (logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING)
    )
    _configure_logging(level)
    ctx.ensure_object(dict)
    ctx.obj["quiet"] = quiet


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    cli.main(args=argv, prog_name="riskkit")
