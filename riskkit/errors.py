"""One exception tree for riskkit; each class carries the exit code the CLI returns.

Exit codes (the same for every command):

==== ==========================================================================
0    ok
1    internal error (a bug: please report it)
2    usage or input error (bad flag, unreadable or malformed input)
3    a gate failed (findings at or above ``--fail-on``, an SLO breached,
     a drill target missed)
4    run invalid or aborted (generator saturated, stop condition, interrupted)
==== ==========================================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "EXIT_GATE_FAILED",
    "EXIT_INTERNAL",
    "EXIT_INVALID_RUN",
    "EXIT_OK",
    "EXIT_USAGE",
    "GateFailed",
    "InputError",
    "InvalidRun",
    "Location",
    "RiskkitError",
    "UsageError",
]

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_GATE_FAILED = 3
EXIT_INVALID_RUN = 4


@dataclass(frozen=True)
class Location:
    """Where in an input a problem sits; any part may be unknown."""

    file: str | Path | None = None
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        parts: list[str] = []
        if self.file is not None:
            parts.append(str(self.file))
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column {self.column!r}")
        return ", ".join(parts)


class RiskkitError(Exception):
    """Base class: every error riskkit raises on purpose."""

    exit_code: int = EXIT_INTERNAL

    def __init__(self, message: str, location: Location | None = None) -> None:
        self.message = message
        self.location = location
        super().__init__(self.render())

    def render(self) -> str:
        if self.location is not None and str(self.location):
            return f"{self.location}: {self.message}"
        return self.message

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        # Errors raised in a Dask worker travel back pickled; subclasses take
        # other constructor arguments, so rebuild from message and location.
        return (_restore_error, (type(self), self.message, self.location))


def _restore_error(
    cls: type[RiskkitError], message: str, location: Location | None
) -> RiskkitError:
    error = cls.__new__(cls)
    RiskkitError.__init__(error, message, location)
    return error


class UsageError(RiskkitError):
    """A flag, argument or configuration value is wrong."""

    exit_code = EXIT_USAGE


class InputError(RiskkitError):
    """An input file cannot be used as given (names the file, row and column)."""

    exit_code = EXIT_USAGE

    def __init__(
        self,
        message: str,
        file: str | Path | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        super().__init__(message, Location(file, row, column))


class GateFailed(RiskkitError):
    """A declared gate failed: findings at or above --fail-on, an SLO, a drill target."""

    exit_code = EXIT_GATE_FAILED


class InvalidRun(RiskkitError):
    """The run cannot be trusted or was aborted (saturated generator, stop condition)."""

    exit_code = EXIT_INVALID_RUN
