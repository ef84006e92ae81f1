"""Edges of the score formulas a report shows: the bound on agreement beyond the exact worst
case, "not applicable" counts, "don't know" on a fact question, and the wording of refusals."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from scoring.engine import score_assessment
from scoring.errors import ScoringInputError
from scoring.rubric import get_rubric
from scoring.scores import EXACT_WORST_CASE_MAX, UNIFORM_VARIANCE, _agreement_at_worst
from tests.scoring.helpers import COLUMNS, frame, tiny_rubric

RUBRIC = get_rubric("operationalization", 1)
NOW = datetime(2026, 11, 1, tzinfo=UTC)
CAP = RUBRIC.capability("rev.policy-ownership")
Q1 = CAP.questions[0].id
SECOND = RUBRIC.capabilities[1]  # code 1: where a fact's code would land if it were +1
Q_SECOND = next(q.id for q in SECOND.questions if "engineering" in q.audience)


def score(rows: list[tuple[object, ...]]):  # type: ignore[no-untyped-def]
    return score_assessment(rubric=RUBRIC, answers=frame(rows), now=NOW)


def test_agreement_beyond_the_exact_worst_case_uses_the_documented_bound() -> None:
    # 200 people at level 3, 13 of them with only "don't know" (range 1-5): more than the
    # exact search takes. Bound: (SS(mid) 0 + 4 * 13 * 4 + 13 * 4^2 / 4) / 200 = 1.3, so
    # agreement 1 - 1.3 / 2 = 0.35 (the exact worst case would be 0.87; the bound is looser).
    k, n = EXACT_WORST_CASE_MAX + 3, 200
    low = np.array([1.0] * k + [3.0] * (n - k))
    high = np.array([5.0] * k + [3.0] * (n - k))
    assert _agreement_at_worst(low, high) == pytest.approx(1 - 1.3 / UNIFORM_VARIANCE)


def test_not_applicable_answers_are_counted_as_such_and_as_answered() -> None:
    rows = [("a", "engineering", Q1, 2), ("b", "engineering", Q1, "na")]
    rows += [("c", "engineering", Q1, "na"), ("d", "engineering", Q1, "dk")]
    stat = score(rows).questions[Q1]
    assert stat.counts["not_applicable"] == 2 and stat.counts["dont_know"] == 1
    assert stat.answered == 4


def test_dont_know_on_a_fact_question_counts_against_no_capability() -> None:
    rows = [(p, "engineering", Q_SECOND, 3) for p in "abc"]
    rows += [("a", "engineering", "fact.prs-per-week", "dk")]
    result = score(rows)
    second = next(c for c in result.capabilities if c.id == SECOND.id)
    assert second.n_unknown == 0
    assert second.agreement == 1.0


@pytest.mark.parametrize(
    ("choice", "level", "message"),
    [
        ("maybe", None, "row 0: unknown choice 'maybe'"),
        ("dont_know", 3, f"row 0: 'dont_know' for {Q1!r} cannot carry a level (3)"),
    ],
)
def test_a_bad_choice_is_refused_with_its_row_and_value(
    choice: str, level: object, message: str
) -> None:
    answers = frame([("a", "engineering", Q1, "dk")])
    answers.loc[0, "choice"] = choice
    answers.loc[0, "level"] = level
    with pytest.raises(ScoringInputError) as refused:
        score_assessment(rubric=RUBRIC, answers=answers, now=NOW)
    assert refused.value.problems == (message,)


def test_a_capability_whose_id_starts_with_fact_is_scored_like_any_other() -> None:
    # Question ids are the capability id and a local id; a dimension named "fact" gives
    # questions "fact.x.q1", which must not be taken for fact questions and dropped.
    rubric = tiny_rubric({"fact": {"fact.x": 1}, "b": {"b.x": 1}})
    answers = pd.DataFrame(
        [(p, "engineering", "fact.x.q1", "level", 4, None) for p in "abc"], columns=COLUMNS
    )
    result = score_assessment(rubric=rubric, answers=answers, now=NOW)
    scored = next(c for c in result.capabilities if c.id == "fact.x")
    assert scored.n_respondents == 3
    assert scored.score == 75.0
