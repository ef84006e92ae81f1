"""A measure from the delivery records against the survey's answer for the same measure:
they disagree when the larger is at least DISAGREEMENT_FACTOR (2) times the smaller, in
either direction (methodology 12), measured at, below and above the edge."""

from __future__ import annotations

import math

import pytest

from scoring.delivery import DISAGREEMENT_FACTOR, disagreement
from scoring.errors import ScoringInputError


def test_the_factor_is_two() -> None:
    assert DISAGREEMENT_FACTOR == 2.0


@pytest.mark.parametrize(
    ("measured", "answered", "factor"),
    [
        (5.0, 10.0, 2.0),  # at the edge: disagree
        (10.0, 5.0, 2.0),  # the same the other way round
        (5.0, 9.9, None),  # just below
        (9.9, 5.0, None),
        (5.0, 10.1, 10.1 / 5.0),  # just above
        (4.6, 13.3, 13.3 / 4.6),  # the demo: the answers nearly 3 times the records
        (5.0, 5.0, None),
    ],
)
def test_the_records_and_the_answers_disagree_from_a_factor_of_two(
    measured: float, answered: float, factor: float | None
) -> None:
    got = disagreement(measured, answered)
    if factor is None:
        assert got is None
    else:
        assert got == pytest.approx(factor)


def test_zero_against_a_number_disagrees_and_two_zeros_agree() -> None:
    assert disagreement(0.0, 3.0) == math.inf
    assert disagreement(3.0, 0.0) == math.inf
    assert disagreement(0.0, 0.0) is None


def test_a_negative_figure_is_refused() -> None:
    for measured, answered in ((-1.0, 3.0), (3.0, -0.5)):
        with pytest.raises(ScoringInputError) as refused:
            disagreement(measured, answered)
        assert list(refused.value.problems) == [
            "a measure and an answer to compare cannot be negative"
        ]
