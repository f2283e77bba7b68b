"""Bootstrap intervals over rounds, and the rule for calling a difference.

A benchmark run measures each server once per *round*; rounds interleave the servers, so a burst
of background load lands on every server of one round rather than on one server. The rounds are
the units resampled here: a bootstrap draws as many rounds as were measured, with replacement,
computes the statistic (a median rate, or a ratio of two median rates with the *same* rounds drawn
for both), repeats that ``resamples`` times, and takes the percentile interval of the results
(nearest rank, :func:`backendlab.bench.stats.percentile`). The seed is fixed, so the same
rounds always give the same interval.

The rule (:func:`call_difference`): one rate is called faster or slower than another only when
their intervals do not overlap; otherwise the two are "indistinguishable here".
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from backendlab.bench.stats import percentile

__all__ = ["INDISTINGUISHABLE", "Comparison", "Interval", "call_difference", "compare", "median_interval",
           "ratio_interval"]

SEED = 16
RESAMPLES = 4000
CONFIDENCE = 0.95
INDISTINGUISHABLE = "indistinguishable here"


@dataclass(frozen=True)
class Interval:
    """A statistic of the measured rounds and its bootstrap percentile interval."""

    estimate: float
    low: float
    high: float

    def __post_init__(self) -> None:
        if not self.low <= self.high:
            raise ValueError(f"interval bounds out of order: {self.low} > {self.high}")


def _bootstrap(rounds: int, statistic: Callable[[Sequence[int]], float], *, resamples: int, confidence: float,
               seed: int) -> tuple[float, float]:
    if rounds < 2:
        raise ValueError(f"a bootstrap over rounds needs at least 2 rounds, not {rounds}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence}")
    draw = random.Random(seed)
    values = sorted(statistic(draw.choices(range(rounds), k=rounds)) for _ in range(resamples))
    tail = (1 - confidence) / 2 * 100
    return percentile(values, tail), percentile(values, 100 - tail)  # type: ignore[return-value]


def median_interval(rounds: Sequence[float], *, resamples: int = RESAMPLES, confidence: float = CONFIDENCE,
                    seed: int = SEED) -> Interval:
    """The median of ``rounds`` and its percentile interval."""
    low, high = _bootstrap(len(rounds), lambda picks: statistics.median(rounds[i] for i in picks),
                           resamples=resamples, confidence=confidence, seed=seed)
    return Interval(statistics.median(rounds), low, high)


def ratio_interval(numerator: Sequence[float], denominator: Sequence[float], *, resamples: int = RESAMPLES,
                   confidence: float = CONFIDENCE, seed: int = SEED) -> Interval:
    """median(numerator) / median(denominator), paired by round (``numerator[i]`` and
    ``denominator[i]`` come from round ``i``), and its percentile interval."""
    if len(numerator) != len(denominator):
        raise ValueError(f"paired rounds of different lengths: {len(numerator)} and {len(denominator)}")

    def ratio(picks: Sequence[int]) -> float:
        return statistics.median(numerator[i] for i in picks) / statistics.median(denominator[i] for i in picks)

    low, high = _bootstrap(len(numerator), ratio, resamples=resamples, confidence=confidence, seed=seed)
    return Interval(ratio(range(len(numerator))), low, high)


def call_difference(a: Interval, b: Interval) -> str:
    """"faster" or "slower" (``a`` against ``b``) only when the intervals separate, else INDISTINGUISHABLE."""
    if a.low > b.high:
        return "faster"
    if a.high < b.low:
        return "slower"
    return INDISTINGUISHABLE


@dataclass(frozen=True)
class Comparison:
    """A rate against another, both measured in the same rounds."""

    subject: Interval
    against: Interval
    ratio: Interval
    rounds: int
    verdict: str


def compare(subject: Mapping[int, float], against: Mapping[int, float], *, resamples: int = RESAMPLES,
            confidence: float = CONFIDENCE, seed: int = SEED) -> Comparison:
    """Two servers' rates by round number; rounds where either has no measurement are left out."""
    paired = sorted(set(subject) & set(against))
    a = [subject[r] for r in paired]
    b = [against[r] for r in paired]
    options = {"resamples": resamples, "confidence": confidence, "seed": seed}
    a_interval, b_interval = median_interval(a, **options), median_interval(b, **options)  # type: ignore[arg-type]
    return Comparison(a_interval, b_interval, ratio_interval(a, b, **options), len(paired),  # type: ignore[arg-type]
                      call_difference(a_interval, b_interval))
