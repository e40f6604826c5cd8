"""Arrival-rate shapes: each a small class with one job, like Locust's ``LoadTestShape``.

A shape says how many iterations per second should *start* at each moment.  Every shape
is a list of piecewise-linear :class:`Stage` s, so the generator process needs only that
list (sent as JSON) and :func:`arrival_times` to know the intended start of every
iteration: deterministic spacing by default, or Poisson arrivals.  ``compressed(k)``
divides every duration by ``k`` and keeps the rates, so an hour's 双11 rehearsal becomes a
one-minute CI smoke run with the same definition.
"""

from __future__ import annotations

import math
import random
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

__all__ = [
    "ConstantRate",
    "Double11Shape",
    "FlashSaleShape",
    "RampingRate",
    "RateShape",
    "Stage",
    "arrival_times",
    "shape_from_stages",
]


@dataclass(frozen=True)
class Stage:
    """The rate moves linearly from ``start_rate`` to ``end_rate`` over ``duration_s``."""

    duration_s: float
    start_rate: float
    end_rate: float

    def iterations(self) -> float:
        return (self.start_rate + self.end_rate) / 2.0 * self.duration_s

    def to_json(self) -> list[float]:
        return [self.duration_s, self.start_rate, self.end_rate]


class RateShape(ABC):
    """Target arrival rate (iterations per second) over the run."""

    name: str = "shape"

    @abstractmethod
    def stages(self) -> list[Stage]:
        """The shape as consecutive linear stages."""

    @property
    def duration_s(self) -> float:
        return sum(stage.duration_s for stage in self.stages())

    def rate_at(self, elapsed_s: float) -> float:
        start = 0.0
        for stage in self.stages():
            if elapsed_s < start + stage.duration_s:
                fraction = (elapsed_s - start) / stage.duration_s if stage.duration_s else 0.0
                return stage.start_rate + (stage.end_rate - stage.start_rate) * fraction
            start += stage.duration_s
        return 0.0

    def peak_rate(self) -> float:
        return max((max(s.start_rate, s.end_rate) for s in self.stages()), default=0.0)

    def expected_iterations(self, until_s: float | None = None) -> float:
        """Iterations due over the whole shape, or over its first ``until_s`` seconds."""
        if until_s is None:
            return sum(stage.iterations() for stage in self.stages())
        due = 0.0
        start = 0.0
        for stage in self.stages():
            if until_s <= start:
                break
            span = min(stage.duration_s, until_s - start)
            end_rate = self.rate_at(start + span) if span < stage.duration_s else stage.end_rate
            due += (stage.start_rate + end_rate) / 2.0 * span
            start += stage.duration_s
        return due

    def compressed(self, factor: float) -> RateShape:
        """The same shape played ``factor`` times faster (rates unchanged)."""
        if factor <= 0:
            raise ValueError("compression factor must be > 0")
        return shape_from_stages(
            [Stage(s.duration_s / factor, s.start_rate, s.end_rate) for s in self.stages()],
            name=self.name,
        )

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "stages": [stage.to_json() for stage in self.stages()]}


class RampingRate(RateShape):
    """k6's ``ramping-arrival-rate``: explicit stages (the general case)."""

    name = "ramping"

    def __init__(self, stages: Sequence[Stage], name: str = "ramping") -> None:
        if not stages:
            raise ValueError("a ramping shape needs at least one stage")
        for stage in stages:
            if stage.duration_s < 0 or stage.start_rate < 0 or stage.end_rate < 0:
                raise ValueError("stage durations and rates must be >= 0")
        self._stages = list(stages)
        self.name = name

    def stages(self) -> list[Stage]:
        return list(self._stages)


class ConstantRate(RateShape):
    """k6's ``constant-arrival-rate``: ``rate`` iterations per second for ``duration_s``."""

    name = "constant"

    def __init__(self, rate: float, duration_s: float) -> None:
        if rate <= 0 or duration_s <= 0:
            raise ValueError("rate and duration must be > 0")
        self.rate = rate
        self._duration_s = duration_s

    def stages(self) -> list[Stage]:
        return [Stage(self._duration_s, self.rate, self.rate)]


class Double11Shape(RateShape):
    """双11 midnight: baseline, a step to peak within one second at 00:00, hold, decay.

    Shares of ``duration_s``: 25% baseline, 1 s step, 45% hold, the rest a linear decay
    back to baseline.  ``baseline_ratio`` is the baseline as a share of the peak.
    """

    name = "double11"

    def __init__(self, peak_rate: float, duration_s: float, baseline_ratio: float = 0.2) -> None:
        if peak_rate <= 0 or duration_s <= 4:
            raise ValueError("double11 needs a peak rate > 0 and a duration > 4 s")
        self.peak = peak_rate
        self._duration_s = duration_s
        self.baseline = peak_rate * baseline_ratio

    def stages(self) -> list[Stage]:
        baseline_s = self._duration_s * 0.25
        step_s = min(1.0, self._duration_s * 0.01)
        hold_s = self._duration_s * 0.45
        decay_s = self._duration_s - baseline_s - step_s - hold_s
        return [
            Stage(baseline_s, self.baseline, self.baseline),
            Stage(step_s, self.baseline, self.peak),
            Stage(hold_s, self.peak, self.peak),
            Stage(decay_s, self.peak, self.baseline),
        ]

    def midnight_s(self) -> float:
        """Seconds from the start to 00:00 (the start of the step)."""
        return self._duration_s * 0.25


class FlashSaleShape(RateShape):
    """秒杀: a trickle of early buyers, then everyone at T0, then a tail.

    10% of ``duration_s`` at 5% of the peak (the page is open, people wait), T0, 30% at
    ``peak_rate`` (the rush), then a linear decay to zero.
    """

    name = "flash-sale"

    def __init__(self, peak_rate: float, duration_s: float) -> None:
        if peak_rate <= 0 or duration_s <= 0:
            raise ValueError("flash sale needs a peak rate and a duration > 0")
        self.peak = peak_rate
        self._duration_s = duration_s

    def stages(self) -> list[Stage]:
        wait_s = self._duration_s * 0.1
        rush_s = self._duration_s * 0.3
        tail_s = self._duration_s - wait_s - rush_s
        trickle = self.peak * 0.05
        return [
            Stage(wait_s, trickle, trickle),
            Stage(rush_s, self.peak, self.peak),
            Stage(tail_s, self.peak, 0.0),
        ]


def shape_from_stages(stages: Sequence[Stage], name: str = "ramping") -> RateShape:
    return RampingRate(stages, name=name)


def _inverse_cumulative(stages: Sequence[Stage], target: float) -> float | None:
    """The time at which ``target`` iterations are due (``None`` past the end)."""
    elapsed = 0.0
    done = 0.0
    for stage in stages:
        in_stage = stage.iterations()
        if in_stage > 0 and done + in_stage > target:
            need = target - done
            a = stage.start_rate
            b = (stage.end_rate - stage.start_rate) / stage.duration_s
            if abs(b) < 1e-12:
                return elapsed + need / a
            # a*t + b*t^2/2 = need  ->  t = (-a + sqrt(a^2 + 2 b need)) / b
            root = math.sqrt(max(a * a + 2.0 * b * need, 0.0))
            return elapsed + (root - a) / b
        done += in_stage
        elapsed += stage.duration_s
    return None


def arrival_times(stages: Sequence[Stage], poisson: bool = False, seed: int = 0) -> Iterator[float]:
    """Intended start times (seconds from T0) of every iteration, in order.

    Deterministic arrivals are evenly spaced in the cumulative rate; Poisson arrivals
    time-change a unit-rate Poisson process through the same cumulative rate, so both
    follow any shape exactly on average.
    """
    rng = random.Random(seed)
    cumulative = 0.0
    while True:
        moment = _inverse_cumulative(stages, cumulative)
        if moment is None:
            return
        yield moment
        cumulative += rng.expovariate(1.0) if poisson else 1.0
