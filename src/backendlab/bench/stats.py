"""Percentiles and latency summaries (nearest-rank, no interpolation, no numpy)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

__all__ = ["latency_summary", "percentile"]

SUMMARY_PERCENTILES = (50, 90, 99)


def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0 < q <= 100) of already sorted values, by the nearest-rank method.

    The smallest value such that at least ``q`` percent of the values are less than or equal to
    it: always one of the observed values. ``None`` for no values.
    """
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, not {q}")
    if not sorted_values:
        return None
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def latency_summary(seconds: Iterable[float]) -> dict[str, float | None]:
    """p50, p90, p99, max and mean of latencies given in seconds, in milliseconds (3 decimals)."""
    values = sorted(seconds)

    def ms(value: float | None) -> float | None:
        return None if value is None else round(value * 1000, 3)

    summary = {f"p{q}": ms(percentile(values, q)) for q in SUMMARY_PERCENTILES}
    summary["max"] = ms(values[-1] if values else None)
    summary["mean"] = ms(sum(values) / len(values) if values else None)
    return summary
