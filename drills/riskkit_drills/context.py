"""What a running drill's steps share: the target, the prompter, the abort
signal, captured variables and the stack of rollbacks.

Rollbacks are registered BEFORE the action they undo runs, so that an
interruption between "the fault was injected" and "we learnt its id" still
leaves something able to clean up.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx

from riskkit_drills.journal import utc_now
from riskkit_drills.models import Mode

__all__ = [
    "AbortSignal",
    "DrillAborted",
    "DrillContext",
    "DrillInterrupted",
    "Prompter",
    "Rollback",
    "substitute",
]

_VARIABLE = re.compile(r"\$\{([a-z_][a-z0-9_]*)\}")


class DrillAborted(Exception):
    """A stop condition fired, the maximum duration passed, or a step asked to abort."""


class DrillInterrupted(BaseException):
    """SIGTERM or SIGINT arrived: like KeyboardInterrupt, not an ordinary error."""


class AbortSignal:
    """Set by the guard thread; steps poll it between attempts."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason: str | None = None

    def trigger(self, reason: str) -> None:
        if not self._event.is_set():
            self.reason = reason
            self._event.set()

    @property
    def is_set(self) -> bool:
        return self._event.is_set()

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` unless the drill aborts first (then raise)."""
        if self._event.wait(max(0.0, seconds)):
            raise DrillAborted(self.reason or "aborted")

    def check(self) -> None:
        if self._event.is_set():
            raise DrillAborted(self.reason or "aborted")


@dataclass
class Rollback:
    """One undo action; ``run`` returns a short description of what it did."""

    action: str
    run: Callable[[], str]


@dataclass
class Prompter:
    """Timed prompts for people; answers come one line each from ``stdin``.

    With ``auto_answer`` every prompt is answered at once with ``auto`` (for
    unattended simulated drills in CI); the journal says so.
    """

    stdin: IO[str]
    stdout: IO[str]
    auto_answer: bool = False

    def ask(self, role: str, prompt: str, budget_s: float | None = None) -> tuple[str | None, str]:
        """Return ``(answer or None at end of input, UTC time of the answer)``."""
        role_label = role.replace("_", " ")
        budget = f" (budget {budget_s:g} s)" if budget_s is not None else ""
        self.stdout.write(f"\n[{role_label}] {prompt}{budget}\n> ")
        self.stdout.flush()
        if self.auto_answer:
            self.stdout.write("auto\n")
            return "auto", utc_now()
        line = self.stdin.readline()
        answered = utc_now()
        if not line:
            return None, answered
        return line.rstrip("\r\n"), answered


@dataclass
class DrillContext:
    mode: Mode
    execute: bool
    base_dir: Path
    out_dir: Path
    prompter: Prompter
    client: httpx.Client | None
    prometheus: str | None
    abort: AbortSignal
    deadline: float
    variables: dict[str, Any] = field(default_factory=dict)
    rollbacks: list[Rollback] = field(default_factory=list)

    def remaining_s(self) -> float:
        return self.deadline - time.monotonic()

    def require_client(self) -> httpx.Client:
        if self.client is None:
            raise RuntimeError("this step needs a target, and the drill has none")
        return self.client

    def register_rollback(self, action: str, run: Callable[[], str]) -> Rollback:
        rollback = Rollback(action, run)
        self.rollbacks.append(rollback)
        return rollback


def substitute(value: Any, variables: dict[str, Any]) -> Any:
    """Replace ``${name}`` in every string of ``value`` (recursively).  A string
    that is exactly ``${name}`` becomes the captured value itself (a number
    stays a number in a JSON body)."""
    if isinstance(value, str):
        whole = _VARIABLE.fullmatch(value)
        if whole is not None and whole.group(1) in variables:
            return variables[whole.group(1)]

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in variables:
                raise KeyError(f"variable ${{{name}}} was never captured")
            return str(variables[name])

        return _VARIABLE.sub(replace, value)
    if isinstance(value, dict):
        return {k: substitute(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, variables) for v in value]
    return value
