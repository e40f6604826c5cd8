"""Parsing of the human units in flags and YAML: ``300/s``, ``60s``, ``500ms``."""

from __future__ import annotations

import re

from riskkit.errors import UsageError

__all__ = ["parse_duration_s", "parse_latency_ms", "parse_rate"]

_DURATION = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(ms|s|m|h)?\s*$")
_RATE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(?:/\s*(s|m|h))?\s*$")
_SCALE_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, None: 1.0}


def parse_duration_s(text: str | float | int, what: str = "duration") -> float:
    """``60s``, ``1.5m``, ``2h``, ``250ms`` or a bare number of seconds -> seconds."""
    if isinstance(text, int | float):
        return float(text)
    # A blank or non-text value in a YAML file (``grace_period:``) is no duration either.
    match = _DURATION.match(text) if isinstance(text, str) else None
    if not match:
        raise UsageError(f"{what}: expected a duration such as 60s, 5m or 250ms, got {text!r}")
    return float(match.group(1)) * _SCALE_S[match.group(2)]


def parse_latency_ms(text: str | float | int, what: str = "latency") -> float:
    """``500ms``, ``1.2s`` -> milliseconds.  A unit is required: 500 alone is ambiguous."""
    if not isinstance(text, str) or not re.search(r"(ms|s|m|h)\s*$", text):
        raise UsageError(f"{what}: give a unit, e.g. 500ms or 1.5s (got {text!r})")
    return parse_duration_s(text, what) * 1000.0


def parse_rate(text: str | float | int) -> float:
    """``300/s``, ``300``, ``18000/m`` -> iterations per second."""
    if isinstance(text, int | float):
        rate = float(text)
    else:
        match = _RATE.match(text)
        if not match:
            raise UsageError(f"--rate: expected a rate such as 300/s or 18000/m, got {text!r}")
        rate = float(match.group(1)) / _SCALE_S[match.group(2) or "s"]
    if rate <= 0:
        raise UsageError("--rate must be > 0")
    return rate
