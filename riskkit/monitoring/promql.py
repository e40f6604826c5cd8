"""Small, checked building blocks for the PromQL that rules and dashboards share.

Every selector goes through :func:`select`, which refuses a metric name that is
not in the catalogue: a query can only ask for what riskkit really exports.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from riskkit.errors import UsageError
from riskkit.monitoring.catalogue import exported_series

__all__ = ["Scope", "check_duration", "duration_seconds", "select"]

_MATCHER = re.compile(r'^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*$')
_DURATION = re.compile(r"^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_UNIT_SECONDS = (7 * 86400, 86400, 3600, 60, 1)


@dataclass(frozen=True)
class Scope:
    """Extra label matchers added to every selector (``env="prod"``, ``job=~"riskkit_.*"``).

    Empty by default: the metric names alone say which command exported them,
    whether they arrive through a Pushgateway or node_exporter's textfile collector.
    """

    matchers: tuple[str, ...] = ()

    @classmethod
    def parse(cls, matchers: Sequence[str]) -> Scope:
        normalised: list[str] = []
        for raw in matchers:
            match = _MATCHER.match(raw)
            if match is None:
                raise UsageError(f'--selector {raw!r}: expected a label matcher such as env="prod"')
            name, operator, value = match.groups()
            if name == "__name__":
                raise UsageError("--selector cannot match on __name__")
            normalised.append(f'{name}{operator}"{value}"')
        return cls(tuple(normalised))


def select(metric: str, scope: Scope, *matchers: str) -> str:
    """``metric{matchers..., scope...}`` for a sample name riskkit exports."""
    if metric not in exported_series():
        raise KeyError(f"{metric} is not a metric riskkit exports")
    every = (*matchers, *scope.matchers)
    return f"{metric}{{{','.join(every)}}}" if every else metric


def duration_seconds(text: str, flag: str) -> int:
    """Seconds in a Prometheus duration such as ``7d`` or ``1h30m`` (whole units only)."""
    match = _DURATION.match(text.strip())
    if not text.strip() or match is None:
        raise UsageError(f"{flag} {text!r}: expected a Prometheus duration such as 5m, 26h or 7d")
    return sum(
        int(part or 0) * unit for part, unit in zip(match.groups(), _UNIT_SECONDS, strict=True)
    )


def check_duration(text: str, flag: str, allow_zero: bool = False) -> str:
    """Return ``text`` stripped when it is a valid duration (``0s`` only if allowed)."""
    if duration_seconds(text, flag) == 0 and not allow_zero:
        raise UsageError(f"{flag} {text!r}: must be longer than zero")
    return text.strip()
