"""The review wall: Erlang C against closed forms computed independently."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoring.errors import ScoringInputError
from scoring.review_capacity import (
    WORKING_HOURS_PER_WEEK,
    ReviewInputs,
    erlang_c,
    project,
    queue_state,
)


def erlang_c_closed_form(c: int, a: float) -> float:
    """P(wait) = (a^c / c!) (c / (c - a)) / (sum_{k<c} a^k / k! + (a^c / c!) (c / (c - a)))."""
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


@pytest.mark.parametrize(
    ("c", "a"), [(1, 0.5), (2, 1.0), (3, 2.5), (10, 8.0), (20, 15.0), (50, 45.0)]
)
def test_erlang_c_matches_the_closed_form(c: int, a: float) -> None:
    assert erlang_c(c, a) == pytest.approx(erlang_c_closed_form(c, a), rel=1e-9)


def test_erlang_c_textbook_values() -> None:
    # M/M/1: P(wait) = rho. M/M/2 with rho = 0.5: 2 rho^2 / (1 + rho) = 1/3.
    assert erlang_c(1, 0.7) == pytest.approx(0.7)
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    # 10 servers, 8 erlangs: the classic call-centre table value 0.4092.
    assert erlang_c(10, 8.0) == pytest.approx(0.4092, abs=1e-4)


def test_mm1_wait_in_working_hours() -> None:
    # mu = 10 PRs/week, lambda = 5: Wq = rho / (mu - lambda) = 0.5 / 5 = 0.1 week = 4 h.
    state = queue_state(multiplier=1, arrivals=5, servers=1, service_rate=10)
    assert state.utilisation == pytest.approx(0.5)
    assert state.wait_probability == pytest.approx(0.5)
    assert state.wait_hours == pytest.approx(0.1 * WORKING_HOURS_PER_WEEK)


def test_large_teams_stay_numerically_stable() -> None:
    value = erlang_c(5000, 4950.0)
    assert 0 < value < 1 and math.isfinite(value)


def test_projection_of_a_team() -> None:
    # 20 reviewers x (6 h / 0.5 h per PR) = 240 PRs/week capacity; today 120 -> wall at 2x.
    p = project(
        ReviewInputs(
            prs_per_week=120,
            reviewers=20,
            hours_per_pr=0.5,
            reviewer_hours_per_week=6,
            agent_prs_6m=60,
            agent_prs_12m=240,
        )
    )
    assert p.service_rate_per_reviewer == pytest.approx(12)
    assert p.capacity_per_week == pytest.approx(240)
    assert p.saturation_multiplier == pytest.approx(2.0)
    assert [s.multiplier for s in p.states] == [1, 2, 3, 5, 10]
    assert [s.saturated for s in p.states] == [False, True, True, True, True]
    assert p.states[0].utilisation == pytest.approx(0.5)
    # Erlang C for c = 20, a = 10, then Wq = C / (240 - 120) weeks.
    expected = erlang_c_closed_form(20, 10.0) / 120 * WORKING_HOURS_PER_WEEK
    assert p.states[0].wait_hours == pytest.approx(expected)
    assert [round(s.multiplier, 2) for s in p.planned] == [1.5, 3.0]
    assert p.planned_labels == ("in 6 months", "in 12 months")
    assert [s.saturated for s in p.planned] == [False, True]


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"reviewers": 0}, "reviewers must be a whole number"),
        ({"prs_per_week": 1_000_000}, "PRs per week must be above 0"),
        ({"prs_per_week": -3}, "PRs per week must be above 0"),
        ({"hours_per_pr": 0}, "review hours per PR"),
        ({"reviewer_hours_per_week": 80}, "reviewer hours per week"),
        ({"prs_per_week": float("nan")}, "must be a number"),
        ({"agent_prs_6m": -1}, "agent PRs in 6 months"),
    ],
)
def test_absurd_inputs_get_a_clear_error(inputs: dict, message: str) -> None:  # type: ignore[type-arg]
    base = {"prs_per_week": 100, "reviewers": 10, "hours_per_pr": 1, "reviewer_hours_per_week": 5}
    with pytest.raises(ScoringInputError, match=message):
        project(ReviewInputs(**{**base, **inputs}))


@given(
    servers=st.integers(1, 200),
    load_a=st.floats(0.01, 0.99),
    load_b=st.floats(0.01, 0.99),
)
def test_waiting_grows_with_arrivals(servers: int, load_a: float, load_b: float) -> None:
    low, high = sorted((load_a, load_b))
    a = queue_state(multiplier=1, arrivals=low * servers, servers=servers, service_rate=1)
    b = queue_state(multiplier=1, arrivals=high * servers, servers=servers, service_rate=1)
    assert a.wait_probability <= b.wait_probability + 1e-12
    assert a.wait_hours is not None and b.wait_hours is not None
    assert a.wait_hours <= b.wait_hours + 1e-9
    assert 0 <= a.wait_probability <= 1


def erlang_c_log_space(c: int, a: float) -> float:
    """An independent form for large c: every term as a logarithm, summed with log-sum-exp."""
    logs = [k * math.log(a) - math.lgamma(k + 1) for k in range(c)]
    top = c * math.log(a) - math.lgamma(c + 1) + math.log(c / (c - a))
    peak = max(*logs, top)
    total = sum(math.exp(x - peak) for x in logs) + math.exp(top - peak)
    return math.exp(top - peak) / total


@pytest.mark.parametrize(("c", "a"), [(500, 480.0), (2000, 1990.0), (5000, 4950.0)])
def test_erlang_c_for_thousands_of_reviewers_matches_a_log_space_computation(
    c: int, a: float
) -> None:
    assert erlang_c(c, a) == pytest.approx(erlang_c_log_space(c, a), rel=1e-9)


def test_mm2_wait_matches_its_closed_form_in_working_and_calendar_hours() -> None:
    # M/M/2, mu = 10 PRs/week each, lambda = 10: rho = 0.5.
    # Wq = rho^2 / (mu (1 - rho^2)) = 0.25 / 7.5 = 1/30 week = 1.333 working h = 5.6 calendar h.
    state = queue_state(multiplier=1, arrivals=10, servers=2, service_rate=10)
    assert state.wait_probability == pytest.approx(1 / 3)
    assert state.wait_hours == pytest.approx(40 / 30)
    assert state.wait_calendar_hours == pytest.approx(168 / 30)


def test_saturated_queues_have_no_finite_wait() -> None:
    state = queue_state(multiplier=3, arrivals=30, servers=2, service_rate=10)
    assert state.saturated and state.utilisation == pytest.approx(1.5)
    assert state.wait_hours is None and state.wait_calendar_hours is None
    assert state.wait_probability == 1.0


def test_the_curve_for_charts_rises_towards_the_wall() -> None:
    p = project(
        ReviewInputs(prs_per_week=50, reviewers=4, hours_per_pr=1, reviewer_hours_per_week=20)
    )
    # capacity 4 x 20 = 80 PRs/week: the wall at 80 / 50 = 1.6x.
    assert p.saturation_multiplier == pytest.approx(1.6)
    waits = [s.wait_hours for s in p.curve]
    assert all(w is not None for w in waits)
    assert waits == sorted(waits)  # type: ignore[type-var]
    assert max(s.utilisation for s in p.curve) == pytest.approx(0.99)


def test_no_load_never_waits() -> None:
    assert erlang_c(3, 0.0) == 0.0


@pytest.mark.parametrize(
    ("arrivals", "service_rate", "target"),
    [(30.0, 4.0, 8.0), (30.0, 4.0, 0.5), (200.0, 3.0, 4.0), (5.0, 10.0, 1.0)],
)
def test_reviewers_needed_is_the_fewest_whose_wait_meets_the_target(
    arrivals: float, service_rate: float, target: float
) -> None:
    from scoring.review_capacity import WORKING_HOURS_PER_WEEK, reviewers_needed

    def wait_hours(servers: int) -> float:
        load = arrivals / service_rate
        weeks = erlang_c(servers, load) / (servers * service_rate - arrivals)
        return weeks * WORKING_HOURS_PER_WEEK

    stable = math.floor(arrivals / service_rate) + 1
    expected = next(s for s in range(stable, 10_000) if wait_hours(s) <= target)
    assert reviewers_needed(arrivals=arrivals, service_rate=service_rate, target_hours=target) == (
        expected
    )
    if expected > stable:
        assert wait_hours(expected - 1) > target
