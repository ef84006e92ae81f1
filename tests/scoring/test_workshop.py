"""Levels agreed in a workshop as a source of their own (docs/methodology.md, section 16)."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from scoring.engine import score_assessment
from scoring.errors import ScoringInputError
from scoring.rubric import get_rubric
from scoring.scores import COLUMNS
from scoring.workshop import (
    AgreedLevel,
    DissentNote,
    RoomVote,
    combine,
    room_confidence,
    room_distribution,
    room_summary,
)

NOW = datetime(2026, 6, 1, tzinfo=UTC)
RUBRIC = get_rubric("operationalization", 1)


def _votes(spec: list[tuple[str, int | None]]) -> tuple[RoomVote, ...]:
    return tuple(
        RoomVote(f"p{i}", role, "level" if level else "dont_know", level)
        for i, (role, level) in enumerate(spec)
    )


def _survey(capability_id: str, levels: list[int]) -> pd.DataFrame:
    questions = [
        q for q in RUBRIC.capability(capability_id).questions if "engineering" in q.audience
    ]
    rows = [
        (f"r{i}", "engineering", q.id, "level", level, None)
        for i, level in enumerate(levels)
        for q in questions
    ]
    return pd.DataFrame(rows, columns=list(COLUMNS))


def test_methodology_example() -> None:
    capability = RUBRIC.capabilities[0].id
    votes = _votes(
        [("engineering", 2)]
        + [("engineering", 3)] * 3
        + [("operations", 3)] * 2
        + [("leadership", 4)] * 2
        + [("product", None)]
    )
    agreed = AgreedLevel(
        capability_id=capability,
        level=3,
        rationale="pipelines deploy every service; two legacy services are still manual",
        dissent=(DissentNote("leadership", "", "we are further along"),),
        votes=votes,
    )
    survey = _survey(capability, [1] * 3 + [2] * 6 + [3] * 3)  # median 2.0 over 12
    result = score_assessment(rubric=RUBRIC, answers=survey, workshop=[agreed], now=NOW)
    c = next(c for c in result.capabilities if c.id == capability)
    assert c.source == "workshop"
    assert c.level == 3 and c.score == pytest.approx(50.0)
    assert c.survey_score == pytest.approx(25.0)
    assert c.workshop is not None
    assert c.workshop.difference == pytest.approx(1.0)
    assert c.workshop.distribution.median == 3.0
    assert c.confidence == pytest.approx(0.4 + 0.3 * 8 / 9 + 0.3 * (1 - 0.359375 / 2))
    assert c.confidence_label == "high"
    others = [x for x in result.capabilities if x.id != capability]
    assert all(x.source is None for x in others)


def test_agreed_level_replaces_the_median_rather_than_averaging() -> None:
    agreed = AgreedLevel("c", 4, "", (), _votes([("engineering", 4)] * 3))
    assert combine(survey_median=1.0, agreed=agreed).level == 4.0
    assert combine(survey_median=1.0, agreed=None).source == "survey"
    assert combine(survey_median=None, agreed=None).source is None


def test_roles_under_three_voters_are_pooled_or_hidden() -> None:
    pooled = room_distribution(
        _votes([("engineering", 3)] * 3 + [("leadership", 4)] * 2 + [("product", 2)])
    )
    assert [g.group for g in pooled.groups] == ["engineering", "other roles (leadership, product)"]
    assert pooled.hidden_voters == 0
    hidden = room_distribution(_votes([("engineering", 3)] * 4 + [("leadership", 5)] * 2))
    assert [g.group for g in hidden.groups] == ["engineering"]
    assert hidden.hidden_roles == ("leadership",) and hidden.hidden_voters == 2
    assert hidden.counts["5"] == 2  # still counted in the totals


def test_room_confidence_falls_with_disagreement_and_dont_knows() -> None:
    united = room_distribution(_votes([("engineering", 3)] * 5))
    split = room_distribution(_votes([("engineering", 1)] * 3 + [("engineering", 5)] * 2))
    unsure = room_distribution(_votes([("engineering", 3)] * 5 + [("engineering", None)] * 5))
    assert room_confidence(united) > room_confidence(unsure) > room_confidence(split)
    assert room_confidence(room_distribution(())) == 0.0


def test_a_vote_counted_twice_or_out_of_range_is_refused() -> None:
    twice = (RoomVote("p1", "engineering", "level", 3), RoomVote("p1", "engineering", "level", 4))
    with pytest.raises(ScoringInputError, match="more than one vote"):
        room_distribution(twice)
    with pytest.raises(ScoringInputError, match="outside 1-5"):
        room_distribution((RoomVote("p1", "engineering", "level", 7),))
    bad = AgreedLevel("nope", 3, "", (), ())
    with pytest.raises(ScoringInputError, match="unknown capability"):
        score_assessment(
            rubric=RUBRIC, answers=_survey(RUBRIC.capabilities[0].id, [3]), workshop=[bad], now=NOW
        )


def test_result_round_trips_with_workshop_records() -> None:
    capability = RUBRIC.capabilities[1].id
    agreed = AgreedLevel(
        capability,
        2,
        "r",
        (DissentNote("product", "Ann", "why"),),
        _votes([("engineering", 2)] * 3),
        first_round=_votes([("engineering", 4)] * 3),
        agreed_on="2026-06-01",
    )
    result = score_assessment(
        rubric=RUBRIC, answers=_survey(capability, []), workshop=[agreed], now=NOW
    )
    data = result.to_dict()
    assert type(result).from_dict(data).to_dict() == data
    assert data["room"]["participants"] == 3
    assert data["room"]["sessions"] == ["2026-06-01"]


@pytest.mark.parametrize(
    ("spec", "agreement", "confidence"),
    [
        # One level vote: agreement cannot be measured (0.5); 0.4 x 1/5 + 0.3 x 1 + 0.3 x 0.5.
        ([("engineering", 3)], None, 0.53),
        # Two votes are the fewest that measure agreement: two alike agree fully.
        ([("engineering", 3)] * 2, 1.0, 0.4 * 0.4 + 0.3 + 0.3),
        # 2 and 4 (variance 1 of the uniform 2) with a don't know: 0.16 + 0.3 x 2/3 + 0.15.
        ([("engineering", 2), ("engineering", 4), ("engineering", None)], 0.5, 0.51),
        # Ten voters as one: the count term stops at five voters.
        ([("engineering", 3)] * 10, 1.0, 1.0),
        # Only don't knows: nothing to be confident in.
        ([("engineering", None)], None, 0.0),
    ],
)
def test_room_confidence_is_the_surveys_formula_at_each_term(
    spec: list[tuple[str, int | None]], agreement: float | None, confidence: float
) -> None:
    distribution = room_distribution(_votes(spec))
    assert distribution.agreement == (None if agreement is None else pytest.approx(agreement))
    assert room_confidence(distribution) == pytest.approx(confidence)


def test_room_distribution_reports_the_quartiles_of_the_level_votes() -> None:
    spread = room_distribution(_votes([("engineering", level) for level in (1, 2, 3, 4, 5)]))
    assert (spread.q1, spread.median, spread.q3) == (2.0, 3.0, 4.0)
    assert spread.agreement == 0.0  # as spread as the uniform distribution
    assert (spread.voters, spread.level_voters) == (5, 5)


def test_an_agreed_level_outside_one_to_five_is_refused_naming_it() -> None:
    cid = RUBRIC.capabilities[0].id
    with pytest.raises(ScoringInputError) as refused:
        combine(survey_median=3.0, agreed=AgreedLevel(cid, 6, "", (), ()))
    assert refused.value.problems == (f"agreed level for {cid} must be 1-5, not 6",)


def test_the_room_summary_counts_each_participant_once_by_role() -> None:
    first = AgreedLevel("a", 3, "", (), _votes([("engineering", 3), ("leadership", 4)]))
    second = AgreedLevel("b", 2, "", (), _votes([("engineering", 2), ("leadership", 2)]))
    summary = room_summary([first, second])
    assert summary is not None
    assert summary.participants == 2
    assert summary.participants_by_role == {"leadership": 1, "engineering": 1}
