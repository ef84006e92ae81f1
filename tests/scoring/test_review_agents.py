"""The review wall with agent pull requests as their own kind, reconciled with the wait
respondents observe, and the reviewers it takes to keep the wait under a target."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from scoring import review_capacity as rc
from scoring.engine import score_assessment
from scoring.rubric import get_rubric
from tests.scoring.helpers import frame

RUBRIC = get_rubric("operationalization", 1)
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def _facts(**extra: float) -> list[tuple[object, ...]]:
    values = {
        "fact.prs-per-week": 60,
        "fact.active-reviewers": 8,
        "fact.review-hours-per-pr": 1,
        "fact.reviewer-hours-per-week": 10,
        **{f"fact.{k.replace('_', '-')}": v for k, v in extra.items()},
    }
    # Three people give each number: fewer are not used (groups of three or more).
    return [(f"e{i}", "engineering", f, v) for f, v in values.items() for i in range(3)]


def _projection(rows: list[tuple[object, ...]], **overrides: float) -> rc.ReviewProjection:
    result = score_assessment(
        rubric=RUBRIC, answers=frame(rows), review_overrides=overrides or None, now=NOW
    )
    assert result.review.projection is not None
    return result.review.projection


def test_agent_prs_carry_their_own_parameters_with_documented_defaults() -> None:
    p = _projection(_facts(agent_prs_per_week_6m=20))
    agent = p.inputs.agent
    assert agent is not None
    assert (agent.acceptance_rate, agent.rework_rounds) == (0.327, 1.0)
    assert agent.sources == {
        "agent_share": "assumption",
        "agent_acceptance_rate": "published",
        "agent_review_hours_per_pr": "assumption",
        "agent_rework_rounds": "assumption",
    }
    # 20 agent PRs at twice a human PR's review effort weigh as 40 human ones: 60 + 40 = 100.
    assert p.effort_ratio == pytest.approx(2.0)
    assert p.planned[0].prs_per_week == pytest.approx(80)
    assert p.planned[0].multiplier == pytest.approx(100 / 60)


def test_todays_agent_share_is_read_from_the_survey_and_replaced_by_the_plan() -> None:
    p = _projection(_facts(ai_authored_share=25, agent_prs_per_week_6m=20))
    agent = p.inputs.agent
    assert agent is not None and agent.sources["agent_share"] == "survey"
    # Today is calibrated on the answers: 60 PRs a week, the wall where it was.
    assert p.saturation_multiplier == pytest.approx(80 / 60)
    assert p.agent_prs_per_week == pytest.approx(15)
    # In 6 months: the 45 human PRs stay, the 20 planned agent PRs replace today's 15 and
    # weigh twice a human PR each: 45 + 40 = 85.
    assert p.planned[0].prs_per_week == pytest.approx(65)
    assert p.planned[0].multiplier == pytest.approx(85 / 60)
    # Each merged agent PR costs the review of the rejected ones too.
    assert agent.review_hours_per_merged() == pytest.approx(2 / 0.327)


def test_agent_parameters_can_be_set_for_the_assessment() -> None:
    p = _projection(
        _facts(agent_prs_per_week_6m=20),
        agent_rework_rounds=0,
        agent_review_hours_per_pr=0.5,
        agent_acceptance_rate=0.6,
    )
    assert p.inputs.agent is not None
    assert p.inputs.agent.sources["agent_rework_rounds"] == "override"
    assert p.effort_ratio == pytest.approx(0.5)
    assert p.planned[0].multiplier == pytest.approx(70 / 60)


def test_the_model_wait_is_set_beside_the_observed_one() -> None:
    p = _projection(_facts(hours_to_first_review=10))
    r = p.reconciliation
    assert r is not None
    assert r.model_hours == pytest.approx(p.states[0].wait_calendar_hours)
    assert r.model_hours is not None and r.model_hours < 10
    assert r.observed_hours == 10
    assert r.delay_hours == pytest.approx(10 - r.model_hours)
    assert r.agent_observed_hours == pytest.approx(46)
    assert _projection(_facts()).reconciliation is None


def test_reviewers_needed_today_and_at_the_planned_volumes() -> None:
    p = _projection(_facts(agent_prs_per_week_6m=20, agent_prs_per_week_12m=60))
    needed = {n.label: n for n in p.reviewers_needed}
    assert list(needed) == ["today", "in 6 months", "in 12 months"]
    service_rate = p.service_rate_per_reviewer
    for item, load in zip(needed.values(), (60, 100, 180), strict=True):
        assert item.target_hours == rc.WAIT_TARGET_WORKING_HOURS == 8
        c = item.reviewers
        assert c is not None
        # Enough: the wait is under the target. One fewer: it is not.
        enough = rc.queue_state(multiplier=1, arrivals=load, servers=c, service_rate=service_rate)
        assert enough.wait_hours is not None and enough.wait_hours <= 8
        fewer = rc.queue_state(
            multiplier=1, arrivals=load, servers=c - 1, service_rate=service_rate
        )
        assert fewer.wait_hours is None or fewer.wait_hours > 8
    assert needed["in 12 months"].reviewers > needed["today"].reviewers  # type: ignore[operator]


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("agent_acceptance_rate", 0, "acceptance rate"),
        ("agent_share", 1.5, "agent share"),
        ("agent_rework_rounds", -1, "rework rounds"),
    ],
)
def test_impossible_agent_parameters_are_refused(key: str, value: float, message: str) -> None:
    from scoring.errors import ScoringInputError

    with pytest.raises(ScoringInputError, match=message):
        _projection(_facts(), **{key: value})
