"""Table-driven checks of every scoring formula against hand-computed values."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pandas as pd
import pytest

from scoring.engine import score_assessment
from scoring.errors import ScoringInputError
from scoring.rubric import get_rubric
from scoring.scores import level_to_score, score_to_exact_level, score_to_level
from tests.scoring.helpers import frame

RUBRIC = get_rubric("operationalization", 1)
NOW = datetime(2026, 11, 1, tzinfo=UTC)
CAP = RUBRIC.capability("rev.policy-ownership")
Q1, Q2 = (q.id for q in CAP.questions[:2])  # bot-bypass (leaders+engineers), owners (engineers)


def score(rows: list[tuple[object, ...]], **kwargs: object):  # type: ignore[no-untyped-def]
    return score_assessment(rubric=RUBRIC, answers=frame(rows), now=NOW, **kwargs)


def cap(result, cid: str = CAP.id):  # type: ignore[no-untyped-def]
    return next(c for c in result.capabilities if c.id == cid)


@pytest.mark.parametrize(
    ("level", "score_", "reached", "exact"),
    [
        (1, 0.0, 1, 1.0),
        (2, 25.0, 2, 2.0),
        (2.5, 37.5, 2, 2.5),
        (3.999, 74.975, 3, 3.999),
        (4, 75.0, 4, 4.0),
        (5, 100.0, 5, 5.0),
    ],
)
def test_level_score_conversions(level: float, score_: float, reached: int, exact: float) -> None:
    assert level_to_score(level) == pytest.approx(score_)
    assert score_to_level(score_) == reached
    assert score_to_exact_level(score_) == pytest.approx(exact)


def test_capability_is_the_median_of_respondent_means() -> None:
    # A: mean(2, 4) = 3; B: 5; C: mean(1, 2) = 1.5 -> median 3 -> score 50, level 3.
    result = score(
        [
            ("a", "engineering", Q1, 2),
            ("a", "engineering", Q2, 4),
            ("b", "engineering", Q1, 5),
            ("c", "engineering", Q1, 1),
            ("c", "engineering", Q2, 2),
        ]
    )
    c = cap(result)
    assert (c.score, c.level, c.exact_level) == (50.0, 3, 3.0)
    # Quartiles of [1.5, 3, 5] by linear interpolation: 2.25 and 4.0.
    assert (c.q1, c.q3, c.spread) == (2.25, 4.0, 1.75)
    assert (c.n_respondents, c.n_answers) == (3, 5)


def test_agreement_is_rwg_and_confidence_combines_count_unknowns_and_agreement() -> None:
    # Values [3, 3, 4]: variance 0.2222 -> rwg = 1 - 0.2222/2 = 0.8889. One "don't know" of
    # four answers -> unknown share 0.25. Confidence = 0.4*(3/5) + 0.3*0.75 + 0.3*0.8889 = 0.7317.
    result = score(
        [
            ("a", "engineering", Q1, 3),
            ("b", "engineering", Q1, 3),
            ("c", "engineering", Q1, 4),
            ("c", "engineering", Q2, "dk"),
        ]
    )
    c = cap(result)
    assert c.agreement == pytest.approx(0.8889, abs=1e-4)
    assert c.unknown_share == pytest.approx(0.25)
    assert c.confidence == pytest.approx(0.7317, abs=1e-4)
    assert (c.confidence_label, c.low_confidence) == ("high", False)


def test_one_respondent_is_low_confidence_and_has_no_agreement() -> None:
    c = cap(score([("a", "leadership", Q1, 4)]))
    # 0.4*(1/5) + 0.3*1 + 0.3*0.5 (agreement unknown) = 0.53 -> medium.
    assert c.agreement is None
    assert c.confidence == pytest.approx(0.53)
    assert c.confidence_label == "medium"


def test_unknowns_never_change_the_score() -> None:
    base = [("a", "engineering", Q1, 2), ("b", "engineering", Q1, 4)]
    with_unknowns = base + [("c", "engineering", Q1, "dk"), ("a", "engineering", Q2, "na")]
    assert cap(score(base)).score == cap(score(with_unknowns)).score == 50.0
    assert cap(score(with_unknowns)).confidence < cap(score(base)).confidence


def test_capability_without_answers_has_no_score_and_zero_confidence() -> None:
    c = cap(score([("a", "engineering", Q1, "dk")]))
    assert (c.score, c.level, c.confidence, c.low_confidence) == (None, None, 0.0, True)


def test_dimension_is_the_weighted_mean_of_capabilities() -> None:
    review = RUBRIC.dimension("review")
    rows = []
    for index, capability in enumerate(review.capabilities):  # levels 1, 2, 3, 4, 5
        q = next(q for q in capability.questions if "engineering" in q.audience)
        rows.append(("a", "engineering", q.id, index + 1))
    result = score(rows)
    dim = next(d for d in result.dimensions if d.id == "review")
    assert dim.score == pytest.approx(50.0)  # mean of 0, 25, 50, 75, 100
    weighted = score(rows, weights={"rev.learning-loop": 3})
    dim = next(d for d in weighted.dimensions if d.id == "review")
    # (0 + 25 + 50 + 75 + 3*100) / 7 = 64.2857
    assert dim.score == pytest.approx(64.2857, abs=1e-4)


def _dimension_rows(levels: dict[str, int]) -> list[tuple[object, ...]]:
    rows = []
    for dimension in RUBRIC.dimensions:
        for capability in dimension.capabilities:
            q = next(q for q in capability.questions if "engineering" in q.audience)
            rows.append(("a", "engineering", q.id, levels[dimension.id]))
    return rows


def test_readiness_is_held_back_by_the_weakest_dimension() -> None:
    # Scores 75, 75, 75, 0: mean 56.25; weakest (0) + 25 = 25 -> readiness 25, held back 31.25.
    result = score(
        _dimension_rows({"observability": 4, "integration": 4, "deployment": 4, "review": 1})
    )
    r = result.readiness
    assert r.weighted_mean == pytest.approx(56.25)
    assert r.score == pytest.approx(25.0)
    assert r.held_back_by == pytest.approx(31.25)
    assert r.limiting_dimension_id == "review"
    assert r.level == 2


def test_balanced_dimensions_are_not_held_back() -> None:
    result = score(
        _dimension_rows({"observability": 3, "integration": 3, "deployment": 4, "review": 3})
    )
    assert result.readiness.score == result.readiness.weighted_mean == pytest.approx(56.25)
    assert result.readiness.held_back_by == 0


def test_targets_and_gaps() -> None:
    rows = _dimension_rows({"observability": 2, "integration": 3, "deployment": 3, "review": 2})
    result = score(rows, targets={"review": 5})
    review = next(d for d in result.dimensions if d.id == "review")
    deployment = next(d for d in result.dimensions if d.id == "deployment")
    assert (review.target_level, review.gap) == (5, 3.0)
    assert (deployment.target_level, deployment.gap) == (
        RUBRIC.dimension("deployment").target_level,
        1.0,
    )


@pytest.mark.parametrize(
    ("targets", "weights", "message"),
    [
        ({"review": 7}, {}, "level from 1 to 5"),
        ({"nowhere": 3}, {}, "unknown dimension"),
        ({}, {"review": -1}, "number from 0 to 100"),
        ({}, {"rev.nothing": 1}, "unknown dimension or capability"),
    ],
)
def test_bad_targets_and_weights_are_refused(targets: dict, weights: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ScoringInputError, match=message):
        score([("a", "engineering", Q1, 3)], targets=targets, weights=weights)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([("a", "engineering", "rev.made-up", 3)], "not in rubric"),
        ([("a", "engineering", Q1, 6)], "outside 1-5"),
        ([("a", "engineering", Q1, 0)], "outside 1-5"),
        ([("a", "astronaut", Q1, 3)], "unknown role"),
        ([("a", "engineering", "fact.prs-per-week", 1_000_000)], "outside the allowed range"),
        ([("a", "engineering", "fact.active-reviewers", 0)], "outside the allowed range"),
        ([("a", "engineering", "fact.prs-per-week", -5)], "outside the allowed range"),
    ],
)
def test_bad_answers_get_a_clear_validation_error(rows: list, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ScoringInputError, match=message):
        score(rows)


def test_a_level_on_a_fact_and_a_number_on_a_question_are_refused() -> None:
    bad = pd.DataFrame(
        [
            ("a", "engineering", "fact.prs-per-week", "level", 3, None),
            ("a", "engineering", Q1, "number", None, 4.0),
        ],
        columns=["respondent_id", "role", "question_id", "choice", "level", "number"],
    )
    with pytest.raises(ScoringInputError) as caught:
        score_assessment(rubric=RUBRIC, answers=bad, now=NOW)
    text = str(caught.value)
    assert "takes a number, not a level" in text and "takes a level, not a number" in text


def test_missing_columns_are_named() -> None:
    with pytest.raises(ScoringInputError, match="lack the column"):
        score_assessment(rubric=RUBRIC, answers=pd.DataFrame({"respondent_id": []}), now=NOW)


def test_empty_answers_give_an_empty_but_valid_result() -> None:
    result = score_assessment(rubric=RUBRIC, answers=frame([]), now=NOW)
    assert result.readiness.score is None
    assert result.respondents == 0
    assert all(c.score is None for c in result.capabilities)
    assert result.review.projection is None


def test_perception_gaps_by_role_with_small_groups_merged_or_dropped() -> None:
    rows = []
    for i in range(3):
        rows.append((f"l{i}", "leadership", Q1, 4))
        rows.append((f"e{i}", "engineering", Q1, 2))
    rows += [("o1", "operations", "rev.learning-loop.postmortems", 3)]  # another capability
    rows += [
        ("o1", "operations", Q1, 1)
        if False
        else ("o1", "operations", "rev.learning-loop.postmortems", 3)
    ]
    result = score(rows)
    gap = next(g for g in result.perception if g.capability_id == CAP.id)
    assert [(g.group, g.respondents, g.level) for g in gap.groups] == [
        ("leadership", 3, 4.0),
        ("engineering", 3, 2.0),
    ]
    assert (gap.gap, gap.flagged, gap.high_group, gap.low_group) == (
        2.0,
        True,
        "leadership",
        "engineering",
    )
    assert gap.drivers[0].question_id == Q1
    assert gap.drivers[0].group_means == {"leadership": 4.0, "engineering": 2.0}
    assert result.leadership_optimism == pytest.approx(2.0)


def test_roles_with_fewer_than_three_respondents_are_merged() -> None:
    q = "rev.learning-loop.postmortems"  # engineering, operations, leadership
    rows = [(f"e{i}", "engineering", q, 3) for i in range(3)]
    rows += [("o1", "operations", q, 1), ("o2", "operations", q, 1), ("l1", "leadership", q, 2)]
    gap = next(g for g in score(rows).perception if g.capability_id == "rev.learning-loop")
    groups = {g.group: (g.respondents, g.level) for g in gap.groups}
    assert groups == {"engineering": (3, 3.0), "other roles (leadership, operations)": (3, 1.0)}
    assert gap.flagged


def test_a_lone_small_role_is_dropped_not_shown() -> None:
    q = "rev.learning-loop.postmortems"
    rows = [(f"e{i}", "engineering", q, 3) for i in range(3)] + [("o1", "operations", q, 1)]
    gap = next(g for g in score(rows).perception if g.capability_id == "rev.learning-loop")
    assert [g.group for g in gap.groups] == ["engineering"]
    assert not gap.flagged


def test_question_distributions_and_fact_medians() -> None:
    rows = [
        ("a", "engineering", Q1, 2),
        ("b", "engineering", Q1, 2),
        ("c", "engineering", Q1, "dk"),
        ("d", "leadership", Q1, 5),
    ]
    rows += [
        ("a", "engineering", "fact.prs-per-week", 100),
        ("b", "engineering", "fact.prs-per-week", 300),
        ("d", "leadership", "fact.prs-per-week", 120),
    ]
    result = score(rows)
    stat = result.questions[Q1]
    assert stat.counts == {
        "1": 0,
        "2": 2,
        "3": 0,
        "4": 0,
        "5": 1,
        "dont_know": 1,
        "not_applicable": 0,
    }
    assert stat.median == 2.0 and stat.mean == 3.0
    fact = result.facts["fact.prs-per-week"]
    assert (fact.median, fact.n, fact.low, fact.high) == (120.0, 3, 100.0, 300.0)


def test_to_dict_is_json_with_no_nan() -> None:
    import json

    result = score([("a", "engineering", Q1, 3)])
    text = json.dumps(result.to_dict(), allow_nan=False)
    assert "NaN" not in text
    assert math.isfinite(result.to_dict()["capabilities"][0]["confidence"])
