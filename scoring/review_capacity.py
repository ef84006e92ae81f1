"""The review wall: when does code review saturate as agents multiply pull requests?

Review is modelled as an M/M/c queue: pull requests arrive at random (Poisson, λ per week),
`c` reviewers each clear μ pull requests per week, where μ is the review hours a reviewer has
per week divided by the review effort one pull request needs. Erlang C gives the chance a pull
request has to wait and the expected wait. The model's clock is the week; a wait is reported
in working hours (1 week = 40 h: reviews happen in working time) and, for comparison with the
observed calendar-hour wait, in calendar hours (1 week = 168 h). See docs/methodology.md.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scoring.errors import ScoringInputError

MULTIPLIERS: tuple[float, ...] = (1.0, 2.0, 3.0, 5.0, 10.0)
WORKING_HOURS_PER_WEEK = 40.0
CALENDAR_HOURS_PER_WEEK = 168.0
MAX_PRS_PER_WEEK = 100_000.0
MAX_REVIEWERS = 5_000


def erlang_b(servers: int, load: float) -> float:
    """Erlang B blocking probability by the stable recursion B(k) = aB(k-1)/(k + aB(k-1))."""
    blocking = 1.0
    for k in range(1, servers + 1):
        blocking = load * blocking / (k + load * blocking)
    return blocking


def erlang_c(servers: int, load: float) -> float:
    """Probability that an arrival waits in M/M/c, for offered load a = λ/μ < c."""
    if load <= 0:
        return 0.0
    if load >= servers:
        return 1.0
    blocking = erlang_b(servers, load)
    return servers * blocking / (servers - load * (1 - blocking))


@dataclass(frozen=True)
class QueueState:
    """The review queue at one volume. Waits are None once saturated (they grow without bound)."""

    multiplier: float
    prs_per_week: float
    utilisation: float
    wait_probability: float
    wait_hours: float | None  # expected wait for a first review, in working hours
    saturated: bool
    wait_calendar_hours: float | None = None  # the same wait on the calendar clock


@dataclass(frozen=True)
class ReviewInputs:
    prs_per_week: float
    reviewers: int
    hours_per_pr: float
    reviewer_hours_per_week: float
    agent_prs_6m: float | None = None
    agent_prs_12m: float | None = None
    observed_hours_to_first_review: float | None = None


@dataclass(frozen=True)
class ReviewProjection:
    inputs: ReviewInputs
    service_rate_per_reviewer: float  # PRs per week one reviewer clears
    capacity_per_week: float  # c·μ
    states: tuple[QueueState, ...]
    saturation_multiplier: float
    planned: tuple[QueueState, ...]  # at the planned agent volume in 6 and 12 months
    planned_labels: tuple[str, ...]
    curve: tuple[QueueState, ...]  # from light load up to just below saturation, for charts


def validate_inputs(inputs: ReviewInputs) -> None:
    problems = []
    values = {
        "PRs per week": inputs.prs_per_week,
        "reviewers": inputs.reviewers,
        "review hours per PR": inputs.hours_per_pr,
        "reviewer hours per week": inputs.reviewer_hours_per_week,
    }
    for name, value in values.items():
        if not isinstance(value, int | float) or not math.isfinite(value):
            problems.append(f"{name} must be a number, not {value!r}")
    if problems:
        raise ScoringInputError(problems)
    if not 0 < inputs.prs_per_week <= MAX_PRS_PER_WEEK:
        problems.append(
            f"PRs per week must be above 0 and at most {MAX_PRS_PER_WEEK:,.0f}, not {inputs.prs_per_week:g}"
        )
    if not 1 <= inputs.reviewers <= MAX_REVIEWERS or int(inputs.reviewers) != inputs.reviewers:
        problems.append(
            f"reviewers must be a whole number from 1 to {MAX_REVIEWERS}, not {inputs.reviewers:g}"
        )
    if not 0 < inputs.hours_per_pr <= 40:
        problems.append(
            f"review hours per PR must be above 0 and at most 40, not {inputs.hours_per_pr:g}"
        )
    if not 0 < inputs.reviewer_hours_per_week <= WORKING_HOURS_PER_WEEK:
        problems.append(
            f"reviewer hours per week must be above 0 and at most {WORKING_HOURS_PER_WEEK:g}, "
            f"not {inputs.reviewer_hours_per_week:g}"
        )
    for name, planned in (
        ("agent PRs in 6 months", inputs.agent_prs_6m),
        ("agent PRs in 12 months", inputs.agent_prs_12m),
    ):
        if planned is not None and (
            not math.isfinite(planned) or not 0 <= planned <= MAX_PRS_PER_WEEK
        ):
            problems.append(
                f"{name} must be between 0 and {MAX_PRS_PER_WEEK:,.0f}, not {planned:g}"
            )
    observed = inputs.observed_hours_to_first_review
    if observed is not None and (not math.isfinite(observed) or not 0 <= observed <= 10_000):
        problems.append(f"hours to first review must be between 0 and 10,000, not {observed:g}")
    if problems:
        raise ScoringInputError(problems)


def queue_state(
    *, multiplier: float, arrivals: float, servers: int, service_rate: float
) -> QueueState:
    load = arrivals / service_rate  # offered load a = λ/μ, in reviewers' worth of work
    utilisation = load / servers
    if utilisation >= 1:
        return QueueState(float(multiplier), float(arrivals), utilisation, 1.0, None, True, None)
    wait_probability = erlang_c(servers, load)
    wait_weeks = wait_probability / (servers * service_rate - arrivals)
    return QueueState(
        float(multiplier),
        float(arrivals),
        utilisation,
        wait_probability,
        wait_weeks * WORKING_HOURS_PER_WEEK,
        False,
        wait_weeks * CALENDAR_HOURS_PER_WEEK,
    )


def project(inputs: ReviewInputs, multipliers: Sequence[float] = MULTIPLIERS) -> ReviewProjection:
    validate_inputs(inputs)
    servers = int(inputs.reviewers)
    service_rate = inputs.reviewer_hours_per_week / inputs.hours_per_pr
    capacity = servers * service_rate
    states = tuple(
        queue_state(
            multiplier=m,
            arrivals=inputs.prs_per_week * m,
            servers=servers,
            service_rate=service_rate,
        )
        for m in multipliers
    )
    planned: list[QueueState] = []
    labels: list[str] = []
    for label, extra in (
        ("in 6 months", inputs.agent_prs_6m),
        ("in 12 months", inputs.agent_prs_12m),
    ):
        if extra is None:
            continue
        arrivals = inputs.prs_per_week + extra
        planned.append(
            queue_state(
                multiplier=arrivals / inputs.prs_per_week,
                arrivals=arrivals,
                servers=servers,
                service_rate=service_rate,
            )
        )
        labels.append(label)
    saturation = capacity / inputs.prs_per_week
    # Utilisation from 5 % to 99 %, denser near the wall where the wait turns upward.
    utilisations = [0.05 + 0.9 * (k / 30) for k in range(31)] + [0.96, 0.97, 0.98, 0.99]
    curve = tuple(
        queue_state(
            multiplier=u * saturation,
            arrivals=u * capacity,
            servers=servers,
            service_rate=service_rate,
        )
        for u in utilisations
    )
    return ReviewProjection(
        inputs=inputs,
        service_rate_per_reviewer=service_rate,
        capacity_per_week=capacity,
        states=states,
        saturation_multiplier=saturation,
        planned=tuple(planned),
        planned_labels=tuple(labels),
        curve=curve,
    )
