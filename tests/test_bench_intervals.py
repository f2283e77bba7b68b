"""Bootstrap intervals over rounds and the rule that calls a difference only when intervals separate."""

from __future__ import annotations

import statistics

import pytest

from backendlab.bench.intervals import (
    INDISTINGUISHABLE,
    Interval,
    call_difference,
    compare,
    median_interval,
    ratio_interval,
)

ROUNDS = [9800.0, 10100.0, 9900.0, 10300.0, 10000.0, 9700.0, 10200.0, 10050.0, 9950.0, 10150.0, 9850.0, 10250.0]


def scaled(values: list[float], factor: float) -> dict[int, float]:
    return {number: value * factor for number, value in enumerate(values, 1)}


def test_median_interval_holds_the_median_and_is_made_of_observed_medians() -> None:
    interval = median_interval(ROUNDS)
    assert interval.estimate == statistics.median(ROUNDS)
    assert min(ROUNDS) <= interval.low <= interval.estimate <= interval.high <= max(ROUNDS)
    halves = {(a + b) / 2 for a in ROUNDS for b in ROUNDS} | set(ROUNDS)  # a median of 12 draws: a value or a midpoint
    assert interval.low in halves and interval.high in halves
    assert interval.low < interval.high


def test_the_seed_is_fixed_so_the_same_rounds_give_the_same_interval() -> None:
    assert median_interval(ROUNDS) == median_interval(list(ROUNDS))
    assert ratio_interval(ROUNDS, ROUNDS[::-1]) == ratio_interval(ROUNDS, ROUNDS[::-1])
    wider = median_interval(ROUNDS, confidence=0.99)
    assert wider.low <= median_interval(ROUNDS).low and wider.high >= median_interval(ROUNDS).high


def test_equal_rounds_give_a_point_interval() -> None:
    assert median_interval([5.0] * 6) == Interval(5.0, 5.0, 5.0)
    assert ratio_interval([5.0] * 6, [2.5] * 6) == Interval(2.0, 2.0, 2.0)


def test_a_ratio_is_paired_by_round() -> None:
    # Background load moves both servers of a round together; the ratio of the pair does not move.
    noisy = [1000.0, 3000.0, 1500.0, 2500.0, 2000.0, 1200.0]
    interval = ratio_interval([2 * v for v in noisy], noisy)
    assert interval == Interval(2.0, 2.0, 2.0)
    unpaired = ratio_interval([2 * v for v in noisy], noisy[::-1])
    assert unpaired.estimate == 2.0 and unpaired.low < 2.0 < unpaired.high  # unpaired: the noise shows


@pytest.mark.parametrize(("factor", "verdict"), [(1.5, "faster"), (0.6, "slower")])
def test_separate_intervals_are_called(factor: float, verdict: str) -> None:
    base = scaled(ROUNDS, 1.0)
    result = compare(scaled(ROUNDS, factor), base)
    assert result.verdict == verdict
    assert result.rounds == len(ROUNDS)
    assert (result.ratio.estimate, result.ratio.low, result.ratio.high) == pytest.approx((factor,) * 3)
    assert (result.subject.low > result.against.high) == (verdict == "faster")


def test_overlapping_intervals_are_indistinguishable_even_with_different_medians() -> None:
    shifted = scaled(ROUNDS, 1.01)  # 1 % apart, rounds spread by about 6 %
    result = compare(shifted, scaled(ROUNDS[::-1], 1.0))
    assert result.subject.estimate != result.against.estimate
    assert result.subject.low <= result.against.high and result.against.low <= result.subject.high
    assert result.verdict == INDISTINGUISHABLE == "indistinguishable here"


def test_equal_rounds_are_indistinguishable() -> None:
    result = compare(scaled(ROUNDS, 1.0), scaled(ROUNDS, 1.0))
    assert result.verdict == INDISTINGUISHABLE
    assert result.ratio == Interval(1.0, 1.0, 1.0)


def test_the_rule_on_bare_intervals() -> None:
    assert call_difference(Interval(10, 9, 11), Interval(5, 4, 6)) == "faster"
    assert call_difference(Interval(5, 4, 6), Interval(10, 9, 11)) == "slower"
    assert call_difference(Interval(10, 6, 11), Interval(5, 4, 6)) == INDISTINGUISHABLE  # touching: not separate
    assert call_difference(Interval(5, 5, 5), Interval(5, 5, 5)) == INDISTINGUISHABLE


def test_rounds_missing_on_either_side_are_left_out() -> None:
    subject = {1: 10.0, 2: 11.0, 3: 12.0, 5: 99.0}
    against = {1: 5.0, 2: 5.5, 3: 6.0, 4: 1.0}
    result = compare(subject, against)
    assert result.rounds == 3
    assert result.ratio == Interval(2.0, 2.0, 2.0)


def test_too_few_rounds_and_unpaired_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 2 rounds, not 1"):
        median_interval([1.0])
    with pytest.raises(ValueError, match="different lengths: 2 and 3"):
        ratio_interval([1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="between 0 and 1"):
        median_interval(ROUNDS, confidence=1.0)
    with pytest.raises(ValueError, match="out of order"):
        Interval(1.0, 2.0, 0.5)
