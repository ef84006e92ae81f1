"""The review wall's input checks, field by field, at each documented limit (methodology 11
and 13): the value at the limit is accepted, just past it refused with a message naming the
field as the report does. Then what the projection labels and carries beside the queue.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import pytest

from scoring.errors import ScoringInputError
from scoring.review_capacity import (
    AGENT_PICKUP_FACTOR,
    MAX_PRS_PER_WEEK,
    MAX_REVIEWERS,
    AgentParameters,
    ReviewInputs,
    erlang_b,
    erlang_c,
    project,
    queue_state,
    validate_inputs,
)

BASE = ReviewInputs(prs_per_week=10, reviewers=2, hours_per_pr=1, reviewer_hours_per_week=10)
AGENT = AgentParameters(share=0.2, acceptance_rate=0.5, review_hours_per_pr=1, rework_rounds=1)


def _problems(inputs: ReviewInputs) -> tuple[str, ...]:
    with pytest.raises(ScoringInputError) as caught:
        validate_inputs(inputs)
    return caught.value.problems


def _agent(**values: float) -> ReviewInputs:
    return replace(BASE, agent=replace(AGENT, **values))


@pytest.mark.parametrize(
    ("field", "name"),
    [
        ("prs_per_week", "PRs per week"),
        ("reviewers", "reviewers"),
        ("hours_per_pr", "review hours per PR"),
        ("reviewer_hours_per_week", "reviewer hours per week"),
    ],
)
@pytest.mark.parametrize("value", [float("nan"), float("inf"), "10", None])
def test_a_required_input_that_is_not_a_finite_number_is_refused_by_name(
    field: str, name: str, value: Any
) -> None:
    assert _problems(replace(BASE, **{field: value})) == (
        f"{name} must be a number, not {value!r}",
    )


def test_every_input_that_is_not_a_number_is_listed_before_any_range_is_checked() -> None:
    inputs = replace(BASE, prs_per_week="many", reviewer_hours_per_week=float("nan"))
    assert _problems(inputs) == (
        "PRs per week must be a number, not 'many'",
        "reviewer hours per week must be a number, not nan",
    )


@pytest.mark.parametrize(
    ("field", "accepted", "refused", "message"),
    [
        (
            "prs_per_week",
            [0.01, MAX_PRS_PER_WEEK],
            [0, -1, MAX_PRS_PER_WEEK + 0.5],
            "PRs per week must be above 0 and at most 100,000, not {:g}",
        ),
        (
            "reviewers",
            [1, MAX_REVIEWERS],
            [0, MAX_REVIEWERS + 1, 2.5],
            "reviewers must be a whole number from 1 to 5000, not {:g}",
        ),
        (
            "hours_per_pr",
            [0.05, 0.5, 1, 40],
            [0, -0.5, 40.01],
            "review hours per PR must be above 0 and at most 40, not {:g}",
        ),
        (
            "reviewer_hours_per_week",
            [0.5, 1, 40],
            [0, 40.01],
            "reviewer hours per week must be above 0 and at most 40, not {:g}",
        ),
        (
            "agent_prs_6m",
            [None, 0, MAX_PRS_PER_WEEK],
            [-0.5, MAX_PRS_PER_WEEK + 0.5, float("nan"), float("inf")],
            "agent PRs in 6 months must be between 0 and 100,000, not {:g}",
        ),
        (
            "agent_prs_12m",
            [None, 0, MAX_PRS_PER_WEEK],
            [-0.5, MAX_PRS_PER_WEEK + 0.5, float("nan")],
            "agent PRs in 12 months must be between 0 and 100,000, not {:g}",
        ),
        (
            "observed_hours_to_first_review",
            [None, 0, 0.5, 10_000],
            [-0.5, 10_000.5, float("nan")],
            "hours to first review must be between 0 and 10,000, not {:g}",
        ),
    ],
)
def test_each_input_is_accepted_to_its_limit_and_refused_just_past_it(
    field: str, accepted: list[float], refused: list[float], message: str
) -> None:
    for value in accepted:
        validate_inputs(replace(BASE, **{field: value}))
    for value in refused:
        assert _problems(replace(BASE, **{field: value})) == (message.format(value),), value


@pytest.mark.parametrize(
    ("field", "accepted", "refused", "message"),
    [
        ("share", [0, 1], [-0.01, 1.01], "agent share of PRs must be between 0 and 1, not {:g}"),
        (
            "acceptance_rate",
            [0.01, 1],
            [0, 1.01],
            "agent PR acceptance rate must be between 0 and 1, not {:g}",
        ),
        (
            "review_hours_per_pr",
            [0.01, 40],
            [0, 40.01],
            "review hours per agent PR must be between 0 and 40, not {:g}",
        ),
        (
            "rework_rounds",
            [0, 10],
            [-0.5, 10.5, float("inf")],
            "agent PR rework rounds must be between 0 and 10, not {:g}",
        ),
    ],
)
def test_each_agent_parameter_is_accepted_to_its_limit_and_refused_just_past_it(
    field: str, accepted: list[float], refused: list[float], message: str
) -> None:
    for value in accepted:
        validate_inputs(_agent(**{field: value}))
    for value in refused:
        assert _problems(_agent(**{field: value})) == (message.format(value),), value


def test_every_out_of_range_input_is_listed_at_once() -> None:
    inputs = replace(
        BASE,
        prs_per_week=0,
        reviewers=0,
        agent_prs_12m=-1,
        agent=replace(AGENT, share=2.0, rework_rounds=11),
        observed_hours_to_first_review=-1,
    )
    assert _problems(inputs) == (
        "PRs per week must be above 0 and at most 100,000, not 0",
        "reviewers must be a whole number from 1 to 5000, not 0",
        "agent PRs in 12 months must be between 0 and 100,000, not -1",
        "agent share of PRs must be between 0 and 1, not 2",
        "agent PR rework rounds must be between 0 and 10, not 11",
        "hours to first review must be between 0 and 10,000, not -1",
    )


def test_project_refuses_what_validation_refuses() -> None:
    with pytest.raises(ScoringInputError, match="^reviewers must be a whole number"):
        project(replace(BASE, reviewers=0))


# --- Erlang B and C -------------------------------------------------------------------------


def test_erlang_b_matches_its_closed_form() -> None:
    # B(c, a) = (a^c / c!) / sum_{k<=c} a^k / k!
    for c, a in ((1, 0.5), (2, 1.0), (3, 2.5), (7, 4.0)):
        closed = a**c / math.factorial(c) / sum(a**k / math.factorial(k) for k in range(c + 1))
        assert erlang_b(c, a) == pytest.approx(closed, rel=1e-12)
    assert erlang_b(0, 3.0) == 1.0  # no server: everything is blocked


@pytest.mark.parametrize(("load", "waits"), [(0.0, 0.0), (-1.0, 0.0), (3.0, 1.0), (4.0, 1.0)])
def test_erlang_c_at_no_load_and_at_or_past_saturation(load: float, waits: float) -> None:
    assert erlang_c(3, load) == waits


def test_a_saturated_queue_keeps_its_volume_and_utilisation() -> None:
    state = queue_state(multiplier=2.5, arrivals=25, servers=2, service_rate=10)
    assert (state.multiplier, state.prs_per_week, state.utilisation) == (2.5, 25.0, 1.25)
    assert (state.wait_probability, state.saturated) == (1.0, True)
    assert (state.wait_hours, state.wait_calendar_hours) == (None, None)


# --- What the projection carries ------------------------------------------------------------


def test_without_agent_parameters_planned_agent_prs_are_ordinary_prs_added_to_today() -> None:
    p = project(replace(BASE, agent_prs_6m=5, agent_prs_12m=30))
    assert (p.effort_ratio, p.agent_prs_per_week) == (1.0, 0.0)
    assert p.planned_labels == ("in 6 months", "in 12 months")
    assert [s.prs_per_week for s in p.planned] == [15.0, 40.0]
    assert [s.multiplier for s in p.planned] == [1.5, 4.0]
    # Capacity 2 x 10 = 20 a week: 15 is 75 % and waits; 40 is past the wall.
    six, twelve = p.planned
    expected = queue_state(multiplier=1.5, arrivals=15, servers=2, service_rate=10)
    assert six == expected
    assert (six.utilisation, six.saturated) == (0.75, False)
    assert twelve.saturated and twelve.utilisation == 2.0
    needed = [(n.label, n.prs_per_week) for n in p.reviewers_needed]
    assert needed == [("today", 10), ("in 6 months", 15.0), ("in 12 months", 40.0)]


def test_only_the_planned_horizons_given_are_projected_and_labelled() -> None:
    p = project(replace(BASE, agent_prs_12m=10))
    assert p.planned_labels == ("in 12 months",)
    assert [n.label for n in p.reviewers_needed] == ["today", "in 12 months"]
    bare = project(BASE)
    assert (bare.planned, bare.planned_labels) == ((), ())
    assert [n.label for n in bare.reviewers_needed] == ["today"]


def test_todays_volume_and_its_multiples_are_the_states() -> None:
    p = project(BASE)
    assert [s.multiplier for s in p.states] == [1.0, 2.0, 3.0, 5.0, 10.0]
    assert [s.prs_per_week for s in p.states] == [10.0, 20.0, 30.0, 50.0, 100.0]
    assert p.states[0] == queue_state(multiplier=1, arrivals=10, servers=2, service_rate=10)
    assert p.states[0].wait_probability == pytest.approx(1 / 3)


def test_the_curve_runs_from_five_to_ninety_nine_percent_of_the_wall() -> None:
    p = project(BASE)  # capacity 20 a week, today 10: the wall at 2x
    utilisations = [0.05 + 0.9 * k / 30 for k in range(31)] + [0.96, 0.97, 0.98, 0.99]
    assert len(p.curve) == len(utilisations)
    for state, u in zip(p.curve, utilisations, strict=True):
        assert state.utilisation == pytest.approx(u)
        assert state.multiplier == pytest.approx(u * 2)
        assert state.prs_per_week == pytest.approx(u * 20)
        assert not state.saturated
        assert state.wait_probability == pytest.approx(erlang_c(2, u * 2))


def test_agent_effort_counts_every_review_round() -> None:
    agent = replace(AGENT, review_hours_per_pr=2, rework_rounds=0.5, acceptance_rate=0.25)
    assert agent.effort_ratio(1.0) == pytest.approx(3.0)  # 2 h x 1.5 rounds / 1 h
    assert agent.effort_ratio(4.0) == pytest.approx(0.75)
    assert agent.review_hours_per_merged() == pytest.approx(12.0)  # 3 h / 0.25 merged
    p = project(replace(BASE, agent=agent, agent_prs_6m=2))
    assert p.effort_ratio == pytest.approx(3.0)
    assert p.agent_prs_per_week == pytest.approx(2.0)  # 20 % of 10
    # 8 human PRs stay; 2 agent PRs weigh 6: load 14, shown as 10 pull requests.
    assert p.planned[0].prs_per_week == pytest.approx(10)
    assert p.planned[0].multiplier == pytest.approx(1.4)


def test_an_observed_wait_is_set_beside_a_saturated_model_without_a_delay() -> None:
    # Today already past the wall: the model has no wait, so no delay can be measured.
    p = project(replace(BASE, prs_per_week=30, observed_hours_to_first_review=20))
    r = p.reconciliation
    assert p.states[0].saturated and r is not None
    assert (r.model_hours, r.observed_hours, r.delay_hours) == (None, 20, 0.0)
    assert r.agent_observed_hours == pytest.approx(20 * AGENT_PICKUP_FACTOR)


def test_an_observed_wait_shorter_than_the_models_adds_no_delay() -> None:
    p = project(replace(BASE, observed_hours_to_first_review=0))
    r = p.reconciliation
    assert r is not None and r.model_hours is not None and r.model_hours > 0
    assert (r.observed_hours, r.delay_hours, r.agent_observed_hours) == (0, 0.0, 0.0)


def test_no_arrivals_need_one_reviewer() -> None:
    from scoring.review_capacity import reviewers_needed

    assert reviewers_needed(arrivals=0.0, service_rate=10.0) == 1
    # Everything today made by agents, and none planned: the plan's load is nil.
    p = project(replace(BASE, agent=replace(AGENT, share=1.0), agent_prs_6m=0))
    assert [(n.label, n.reviewers) for n in p.reviewers_needed][1] == ("in 6 months", 1)
