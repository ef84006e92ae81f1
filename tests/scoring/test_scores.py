"""Table-driven checks of every scoring formula against hand-computed values."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

import pandas as pd
import pytest

from scoring.engine import score_assessment
from scoring.errors import ScoringInputError
from scoring.rubric import get_rubric
from scoring.scores import level_to_score, score_to_exact_level, score_to_level
from tests.scoring.helpers import frame, tiny_rubric

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
    # four answers -> unknown share 0.25. Confidence counts the "don't know" as the most
    # dissenting answer: c's mean could be (4 + 5) / 2 = 4.5, values [3, 3, 4.5], variance 0.5,
    # rwg 0.75. Confidence = 0.4*(3/5) + 0.3*0.75 + 0.3*0.75 = 0.69: medium (and three
    # respondents could never be "high").
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
    assert c.confidence == pytest.approx(0.69, abs=1e-4)
    assert (c.confidence_label, c.low_confidence) == ("medium", False)


def test_one_respondent_is_low_confidence_and_has_no_agreement() -> None:
    c = cap(score([("a", "leadership", Q1, 4)]))
    # 0.4*(1/5) + 0.3*1 + 0.3*0.5 (agreement unknown) = 0.53, but one voice is "low" whatever
    # the value: medium needs three respondents, high five.
    assert c.agreement is None
    assert c.confidence == pytest.approx(0.53)
    assert c.confidence_label == "low"


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


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            [("a", "engineering", Q1, 3), ("a", "engineering", Q1, 4)],
            "respondent 'a' answered '" + Q1 + "' more than once",
        ),
        (
            [("a", "engineering", Q1, 3), ("a", "leadership", Q2, 4)],
            "respondent 'a' appears with more than one role",
        ),
        ([("a", "engineering", "fact.active-reviewers", 2.5)], "must be a whole number"),
    ],
)
def test_duplicate_rows_mixed_roles_and_fractional_counts_are_refused(
    rows: list,
    message: str,  # type: ignore[type-arg]
) -> None:
    with pytest.raises(ScoringInputError, match=re.escape(message)):
        score(rows)


def test_a_dont_know_that_carries_a_level_is_refused() -> None:
    answers = frame([("a", "engineering", Q1, "dk")])
    answers.loc[0, "level"] = 9
    with pytest.raises(ScoringInputError, match="'dont_know' for .* cannot carry a level"):
        score_assessment(rubric=RUBRIC, answers=answers, now=NOW)


def test_every_offending_row_is_listed() -> None:
    with pytest.raises(ScoringInputError) as caught:
        score([("a", "engineering", Q1, 9), ("b", "engineering", "nope", 3)])
    assert caught.value.problems == (
        "row 1: question 'nope' is not in rubric operationalization-1",
        "row 0: level 9 for '" + Q1 + "' is outside 1-5",
    )


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
    # A lone operations respondent on Q1: a group of one is dropped, never shown.
    rows += [("o1", "operations", "rev.learning-loop.postmortems", 3)]
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
    groups = {g.group: (g.respondents, g.level, g.median) for g in gap.groups}
    # Merged group: mean (1 + 1 + 2) / 3 = 1.333, median 1; the gap 3 - 1.333 = 1.667 >= 1.
    assert groups == {
        "engineering": (3, 3.0, 3.0),
        "other roles (leadership, operations)": (3, pytest.approx(4 / 3), 1.0),
    }
    assert gap.flagged and gap.gap == pytest.approx(5 / 3)


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


# --- Table-driven on a small rubric: capability a.x has questions q1 and q2 -----------------

TINY = tiny_rubric()


def tiny_cap(rows: list[tuple[object, ...]], cid: str = "a.x"):  # type: ignore[no-untyped-def]
    result = score_assessment(rubric=TINY, answers=frame(rows), now=NOW)
    return next(c for c in result.capabilities if c.id == cid)


@pytest.mark.parametrize(
    ("answers", "median", "q1", "q3", "agreement"),
    [
        # One respondent: median 3, no spread, agreement not measurable.
        ({"r1": (3, 3)}, 3.0, 3.0, 3.0, None),
        # Values 1, 5: median 3; quartiles 1 + 0.25*4 = 2 and 4; variance 4 -> rwg 1 - 4/2 < 0 -> 0.
        ({"r1": (1, 1), "r2": (5, 5)}, 3.0, 2.0, 4.0, 0.0),
        # Values 2, 3, 4 (r3 answered 4 and 4): median 3; quartiles 2.5, 3.5;
        # variance 2/3 -> rwg = 1 - (2/3)/2 = 0.6667.
        ({"r1": (2, 2), "r2": (3, 3), "r3": (4, 4)}, 3.0, 2.5, 3.5, 0.6667),
        # Respondent means 1.5 (1 and 2), 4.5 (4 and 5), 5: median 4.5; quartiles 3 and 4.75;
        # variance: mean 11/3, deviations -2.1667, 0.8333, 1.3333 -> 2.3889 -> rwg 0.
        ({"r1": (1, 2), "r2": (4, 5), "r3": (5, 5)}, 4.5, 3.0, 4.75, 0.0),
        # Four agreeing respondents: everything 4, rwg 1.
        ({f"r{i}": (4, 4) for i in range(4)}, 4.0, 4.0, 4.0, 1.0),
    ],
)
def test_capability_aggregates_by_hand(
    answers: dict[str, tuple[int, int]],
    median: float,
    q1: float,
    q3: float,
    agreement: float | None,
) -> None:
    rows = [
        (r, "product", q, v)
        for r, (a, b) in answers.items()
        for q, v in (("a.x.q1", a), ("a.x.q2", b))
    ]
    c = tiny_cap(rows)
    assert c.exact_level == pytest.approx(median)
    assert c.score == pytest.approx((median - 1) / 4 * 100)
    assert (c.q1, c.q3) == (pytest.approx(q1), pytest.approx(q3))
    if agreement is None:
        assert c.agreement is None
    else:
        assert c.agreement == pytest.approx(agreement, abs=1e-4)


@pytest.mark.parametrize(
    ("respondents", "unknown", "agreement", "expected", "label"),
    [
        # 0.4*min(1, 5/5) + 0.3*(1 - 0) + 0.3*1 = 1.0
        (5, 0, "agree", 1.0, "high"),
        # 2 respondents agreeing at 3, 2 of 6 answers unknown (two more people who did not
        # know, counted as answering 1 and 5: variance 2, rwg 0): 0.4*0.4 + 0.3*(4/6) + 0 = 0.36
        (2, 2, "agree", 0.36, "low"),
        # 2 respondents at 1 and 5 (rwg 0), no unknowns: 0.4*0.4 + 0.3 + 0 = 0.46, but two
        # respondents are "low" whatever the value
        (2, 0, "split", 0.46, "low"),
        # 2 respondents at 1 and 5, 4 of 8 unknown: 0.16 + 0.15 + 0 = 0.31
        (2, 4, "split", 0.31, "low"),
    ],
)
def test_confidence_by_hand(
    respondents: int, unknown: int, agreement: str, expected: float, label: str
) -> None:
    rows: list[tuple[object, ...]] = []
    for i in range(respondents):
        level = 3 if agreement == "agree" else (1 if i % 2 else 5)
        rows += [(f"r{i}", "product", "a.x.q1", level), (f"r{i}", "product", "a.x.q2", level)]
    for k in range(unknown):
        rows.append((f"u{k}", "product", "a.x.q1", "dk"))
    c = tiny_cap(rows)
    assert c.confidence == pytest.approx(expected)
    assert (c.confidence_label, c.low_confidence) == (label, label == "low")


def test_dimension_confidence_counts_an_unanswered_capability_as_zero() -> None:
    # a.x: one respondent, 0.4*0.2 + 0.3 + 0.3*0.5 = 0.53; a.y unanswered: 0 -> mean 0.265, low.
    result = score_assessment(rubric=TINY, answers=frame([("r", "product", "a.x.q1", 3)]), now=NOW)
    a = next(d for d in result.dimensions if d.id == "a")
    assert a.confidence == pytest.approx(0.265)
    assert a.low_confidence
    assert a.score == pytest.approx(50.0)  # a.y left out of the mean, not counted as 0


@pytest.mark.parametrize(
    ("levels", "mean", "limited", "limiting", "held_back"),
    [
        # a = mean(a.x, a.y) with equal weights; b = b.x.
        # a.x 5, a.y 5 -> a 100; b.x 1 -> b 0: mean 50, limited to 0 + 25.
        ({"a.x": 5, "a.y": 5, "b.x": 1}, 50.0, 25.0, "b", 25.0),
        # a 62.5 (75 and 50), b 50: mean 56.25, weakest + 25 = 75 > mean: not held back.
        ({"a.x": 4, "a.y": 3, "b.x": 3}, 56.25, 56.25, "b", 0.0),
        # a 0, b 100: mean 50, limited to 25 by a.
        ({"a.x": 1, "a.y": 1, "b.x": 5}, 50.0, 25.0, "a", 25.0),
    ],
)
def test_weakest_link_by_hand(
    levels: dict[str, int], mean: float, limited: float, limiting: str, held_back: float
) -> None:
    rows = []
    for cid, level in levels.items():
        rows.append(("r", "product", f"{cid}.q1", level))
        if cid == "a.x":
            rows.append(("r", "product", "a.x.q2", level))
    r = score_assessment(rubric=TINY, answers=frame(rows), now=NOW).readiness
    assert r.weighted_mean == pytest.approx(mean)
    assert r.score == pytest.approx(limited)
    assert r.limiting_dimension_id == limiting
    assert r.held_back_by == pytest.approx(held_back)
    assert r.level == score_to_level(limited)


def test_group_levels_are_means_so_close_groups_are_not_flagged() -> None:
    # Engineers 3, 3, 4 (mean 3.33, median 3); leaders 4, 4, 3 (mean 3.67, median 4). Medians
    # would show a one-level gap; the means differ by 0.33 level: not flagged.
    rows = [(f"e{i}", "engineering", Q1, v) for i, v in enumerate((3, 3, 4))]
    rows += [(f"l{i}", "leadership", Q1, v) for i, v in enumerate((4, 4, 3))]
    gap = next(g for g in score(rows).perception if g.capability_id == CAP.id)
    assert gap.gap == pytest.approx(1 / 3) and not gap.flagged
    assert [g.median for g in gap.groups] == [4.0, 3.0]


def test_leadership_optimism_pools_the_other_groups() -> None:
    # Leaders 5, 5, 5; engineers 2, 2, 2; operations 3, 3, 3, 3 on the post-mortem question.
    # Others' pooled mean = (3*2 + 4*3) / 7 = 2.571; optimism = 5 - 2.571 = 2.429.
    q = "rev.learning-loop.postmortems"
    rows = [(f"l{i}", "leadership", q, 5) for i in range(3)]
    rows += [(f"e{i}", "engineering", q, 2) for i in range(3)]
    rows += [(f"o{i}", "operations", q, 3) for i in range(4)]
    assert score(rows).leadership_optimism == pytest.approx(5 - 18 / 7)
