"""A log-bucketed latency histogram: 1% relative precision, mergeable, JSON-friendly.

Locust rounds its percentiles to two significant figures (147 ms -> 150 ms); gates need
better.  Each sample falls in bucket ``ceil(log(us) / log(1.01))``, so any reported
percentile is within 1% of a recorded value, and histograms from many seconds, steps
and worker processes add up exactly (HDR-histogram style, without the dependency).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

__all__ = ["LogHistogram", "bucket_of", "bucket_upper_ms"]

_GROWTH = 1.01
_LOG_GROWTH = math.log(_GROWTH)


def bucket_of(latency_ms: float) -> int:
    """The bucket index of a latency in milliseconds (sub-microsecond values share bucket 0)."""
    micros = latency_ms * 1000.0
    if micros <= 1.0:
        return 0
    return math.ceil(math.log(micros) / _LOG_GROWTH)


def bucket_upper_ms(bucket: int) -> float:
    """The upper edge of a bucket in milliseconds (every sample in it is <= this)."""
    return float(_GROWTH**bucket) / 1000.0


class LogHistogram:
    """Counts of latencies per log bucket.

    Parameters
    ----------
    counts : mapping of bucket index to count, optional
        Start from these counts (e.g. decoded from JSON, where keys are strings).
    """

    __slots__ = ("counts", "total")

    def __init__(self, counts: Mapping[int | str, int] | None = None) -> None:
        self.counts: dict[int, int] = {}
        self.total = 0
        if counts:
            for key, count in counts.items():
                self.counts[int(key)] = self.counts.get(int(key), 0) + int(count)
                self.total += int(count)

    def record(self, latency_ms: float, count: int = 1) -> None:
        bucket = bucket_of(latency_ms)
        self.counts[bucket] = self.counts.get(bucket, 0) + count
        self.total += count

    def merge(self, other: LogHistogram) -> None:
        for bucket, count in other.counts.items():
            self.counts[bucket] = self.counts.get(bucket, 0) + count
        self.total += other.total

    def percentile(self, q: float) -> float | None:
        """The ``q``-th percentile (0-100) in milliseconds; ``None`` when empty.

        Nearest-rank definition: the smallest bucket whose cumulative count reaches
        ``ceil(q/100 * total)``; the bucket's upper edge is reported, so the value is an
        upper bound within 1% of the true sample.
        """
        if self.total == 0:
            return None
        rank = max(1, math.ceil(q / 100.0 * self.total))
        seen = 0
        for bucket in sorted(self.counts):
            seen += self.counts[bucket]
            if seen >= rank:
                return bucket_upper_ms(bucket)
        return bucket_upper_ms(max(self.counts))

    def count_at_or_below(self, limit_ms: float) -> int:
        """Samples whose bucket lies entirely at or below ``limit_ms`` (for Prometheus ``le``)."""
        edge = bucket_of(limit_ms)
        return sum(count for bucket, count in self.counts.items() if bucket <= edge)

    def mean(self) -> float | None:
        if self.total == 0:
            return None
        weighted = sum(bucket_upper_ms(b) * c for b, c in self.counts.items())
        return weighted / self.total

    def max(self) -> float | None:
        return bucket_upper_ms(max(self.counts)) if self.counts else None

    def to_json(self) -> dict[str, int]:
        return {str(bucket): count for bucket, count in self.counts.items()}

    @classmethod
    def merged(cls, histograms: Iterable[LogHistogram]) -> LogHistogram:
        out = cls()
        for histogram in histograms:
            out.merge(histogram)
        return out
