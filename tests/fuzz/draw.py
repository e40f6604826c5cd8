"""One small interface for "make a random choice", with two implementations.

The generators in :mod:`gen_exports` and :mod:`gen_datafiles` only ask a
:class:`Draw` for integers, choices, booleans, text and bytes.  Under pytest
the draws come from hypothesis (so a failing input shrinks); in the long
campaign (``scripts/fuzz_campaign.py``) from a seeded :class:`random.Random`,
which is much faster per input.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any, Protocol, TypeVar

T = TypeVar("T")

__all__ = ["Draw", "HypothesisDraw", "RandomDraw"]

_LONG = 256


class Draw(Protocol):
    def integer(self, low: int, high: int) -> int: ...

    def choice(self, options: Sequence[T]) -> T: ...

    def boolean(self, probability: float = 0.5) -> bool: ...

    def text(self, alphabet: str, max_size: int, min_size: int = 0) -> str: ...

    def binary(self, max_size: int, min_size: int = 0) -> bytes: ...


class RandomDraw:
    """Draws from a seeded :class:`random.Random`."""

    def __init__(self, seed: int | str) -> None:
        self.random = random.Random(seed)

    def integer(self, low: int, high: int) -> int:
        return self.random.randint(low, high)

    def choice(self, options: Sequence[T]) -> T:
        return options[self.random.randrange(len(options))]

    def boolean(self, probability: float = 0.5) -> bool:
        return self.random.random() < probability

    def text(self, alphabet: str, max_size: int, min_size: int = 0) -> str:
        size = self.random.randint(min_size, max_size)
        return "".join(self.random.choice(alphabet) for _ in range(size))

    def binary(self, max_size: int, min_size: int = 0) -> bytes:
        return self.random.randbytes(self.random.randint(min_size, max_size))


class HypothesisDraw:
    """Draws from a hypothesis ``data()`` object, so failures shrink."""

    def __init__(self, data: Any) -> None:
        from hypothesis import strategies as st

        self.data = data
        self.st = st

    def integer(self, low: int, high: int) -> int:
        value: int = self.data.draw(self.st.integers(low, high))
        return value

    def choice(self, options: Sequence[T]) -> T:
        value: T = self.data.draw(self.st.sampled_from(options))
        return value

    def boolean(self, probability: float = 0.5) -> bool:
        # Shrinks towards False: the smallest input leaves every mutation out.
        return bool(self.data.draw(self.st.integers(0, 999)) >= 1000 * (1 - probability))

    def text(self, alphabet: str, max_size: int, min_size: int = 0) -> str:
        if max_size > _LONG:
            # A huge field: a short drawn unit repeated (hypothesis caps an input's size).
            unit: str = self.data.draw(self.st.text(alphabet=alphabet, min_size=1, max_size=16))
            size = self.data.draw(self.st.integers(min_size, max_size))
            return (unit * (size // len(unit) + 1))[:size]
        value: str = self.data.draw(
            self.st.text(alphabet=alphabet, min_size=min_size, max_size=max_size)
        )
        return value

    def binary(self, max_size: int, min_size: int = 0) -> bytes:
        value: bytes = self.data.draw(self.st.binary(min_size=min_size, max_size=max_size))
        return value
