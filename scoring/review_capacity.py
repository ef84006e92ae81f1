"""The review wall: when does code review saturate as agents multiply pull requests?

Review is modelled as an M/M/c queue: pull requests arrive at random (Poisson, λ per week),
`c` reviewers each clear μ pull requests per week, where μ is the review hours a reviewer has
per week divided by the review effort one pull request needs. Erlang C gives the chance a pull
request has to wait and the expected wait. The model's clock is the week; a wait is reported
in working hours (1 week = 40 h: reviews happen in working time) and, for comparison with the
observed calendar-hour wait, in calendar hours (1 week = 168 h). See docs/methodology.md.

Agent pull requests are not ordinary ones: they are accepted far less often and may need more
review rounds, so they take their own parameters (AgentParameters) and enter the queue as
human-PR equivalents of review effort. The model's wait is then reconciled with the wait
respondents observe, and the reviewers needed to keep the wait under a target are reported.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from scoring.errors import ScoringInputError

MULTIPLIERS: tuple[float, ...] = (1.0, 2.0, 3.0, 5.0, 10.0)
WORKING_HOURS_PER_WEEK = 40.0
CALENDAR_HOURS_PER_WEEK = 168.0
MAX_PRS_PER_WEEK = 100_000.0
MAX_REVIEWERS = 5_000

# Agent pull requests, by default (docs/methodology.md, section 11, gives each source).
# LinearB, 2026 Software Engineering Benchmarks Report (8.1 million PRs, 4,800 organisations),
# as reported: AI-generated PRs accepted 32.7 % of the time against 84.4 % for manual ones, and
# waiting 4.6 times as long before a reviewer picks them up.
AGENT_ACCEPTANCE_RATE = 0.327
HUMAN_ACCEPTANCE_RATE = 0.844
AGENT_PICKUP_FACTOR = 4.6
# Assumptions, not published figures: an agent PR takes as many reviewer hours per round as a
# human one, and one more round of review (changes requested, then re-review).
AGENT_REVIEW_HOURS_RATIO = 1.0
AGENT_REWORK_ROUNDS = 1.0
# The wait a team should stay under, in working hours: one business day, the longest Google's
# published code-review guidance allows before responding to a review request.
WAIT_TARGET_WORKING_HOURS = 8.0


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
class AgentParameters:
    """How agent-made pull requests differ from the rest. `sources` says, per field, where
    each value came from: "survey", "override", "published" (a default with a source) or
    "assumption" (a default without one)."""

    share: float  # of today's merged PRs, 0..1
    acceptance_rate: float  # share of agent PRs that are merged, (0, 1]
    review_hours_per_pr: float  # reviewer hours per review round of one agent PR
    rework_rounds: float  # review rounds beyond a human PR's
    sources: Mapping[str, str] = field(default_factory=dict)

    def effort_ratio(self, human_hours_per_pr: float) -> float:
        """Review effort of one agent PR opened, in human PRs: hours per round x rounds."""
        return self.review_hours_per_pr * (1.0 + self.rework_rounds) / human_hours_per_pr

    def review_hours_per_merged(self) -> float:
        """Reviewer hours behind one merged agent PR: every opened one is reviewed."""
        return self.review_hours_per_pr * (1.0 + self.rework_rounds) / self.acceptance_rate


@dataclass(frozen=True)
class ReviewInputs:
    prs_per_week: float
    reviewers: int
    hours_per_pr: float
    reviewer_hours_per_week: float
    agent_prs_6m: float | None = None
    agent_prs_12m: float | None = None
    observed_hours_to_first_review: float | None = None
    agent: AgentParameters | None = None  # None: agent PRs count as ordinary ones


@dataclass(frozen=True)
class ReviewersNeeded:
    """Reviewers needed to keep the model's expected wait under the target at one volume."""

    label: str  # "today", "in 6 months", "in 12 months"
    prs_per_week: float
    reviewers: int | None  # None when even MAX_REVIEWERS would not do
    target_hours: float  # working hours


@dataclass(frozen=True)
class Reconciliation:
    """The model's wait today beside the wait respondents observe (both calendar hours).

    The model starts a review the moment a reviewer is free; real reviews wait for working
    hours, batching and other priorities. That difference, `delay_hours`, is carried into the
    projection as a fixed delay on top of the queue's wait."""

    model_hours: float | None  # expected wait today, calendar hours; None if saturated
    observed_hours: float  # median answer to "hours to first review"
    delay_hours: float  # max(0, observed - model)
    agent_observed_hours: float  # observed x AGENT_PICKUP_FACTOR, the published agent pickup


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
    reconciliation: Reconciliation | None = None  # None without an observed wait
    reviewers_needed: tuple[ReviewersNeeded, ...] = ()
    agent_prs_per_week: float = 0.0  # today's merged PRs made by agents (share x volume)
    effort_ratio: float = 1.0  # one agent PR's review effort, in human PRs


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
    agent = inputs.agent
    if agent is not None:
        for name, value, low, high, low_open in (
            ("agent share of PRs", agent.share, 0.0, 1.0, False),
            ("agent PR acceptance rate", agent.acceptance_rate, 0.0, 1.0, True),
            ("review hours per agent PR", agent.review_hours_per_pr, 0.0, 40.0, True),
            ("agent PR rework rounds", agent.rework_rounds, 0.0, 10.0, False),
        ):
            bad_low = value <= low if low_open else value < low
            if not math.isfinite(value) or bad_low or value > high:
                problems.append(f"{name} must be between {low:g} and {high:g}, not {value:g}")
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


def reviewers_needed(
    *, arrivals: float, service_rate: float, target_hours: float = WAIT_TARGET_WORKING_HOURS
) -> int | None:
    """The fewest reviewers whose expected wait (working hours) is at most the target; None
    beyond MAX_REVIEWERS. The wait falls as reviewers are added, so the first that meets the
    target is the answer."""
    load = arrivals / service_rate
    # Erlang B by its recursion, one reviewer at a time: each candidate costs O(1), so
    # thousands of reviewers are checked in one pass.
    blocking = 1.0
    for servers in range(1, MAX_REVIEWERS + 1):
        blocking = load * blocking / (servers + load * blocking)
        if servers <= load:
            continue
        waiting = servers * blocking / (servers - load * (1 - blocking))
        wait_weeks = waiting / (servers * service_rate - arrivals)
        if wait_weeks * WORKING_HOURS_PER_WEEK <= target_hours:
            return servers
    return None


def project(inputs: ReviewInputs, multipliers: Sequence[float] = MULTIPLIERS) -> ReviewProjection:
    """The queue at today's volume and its multiples, at the planned agent volumes, and what
    it takes to stay under the wait target. Agent PRs enter as human-PR equivalents of review
    effort (AgentParameters.effort_ratio); volumes shown are pull requests."""
    validate_inputs(inputs)
    servers = int(inputs.reviewers)
    service_rate = inputs.reviewer_hours_per_week / inputs.hours_per_pr
    capacity = servers * service_rate
    agent = inputs.agent
    ratio = agent.effort_ratio(inputs.hours_per_pr) if agent else 1.0
    # Today is as answered: the survey's volume and hours per PR describe today's mix, agent
    # PRs included, and the queue is calibrated on them. The agents' share of it is what the
    # planned agent volume replaces; the rest (human work) stays.
    prs_today = load_today = inputs.prs_per_week
    agent_today = inputs.prs_per_week * agent.share if agent else 0.0
    human_today = inputs.prs_per_week - agent_today
    states = tuple(
        _state(m, prs_today * m, load_today * m, servers, service_rate) for m in multipliers
    )
    planned: list[QueueState] = []
    labels: list[str] = []
    needed = [
        ReviewersNeeded(
            "today",
            prs_today,
            reviewers_needed(arrivals=load_today, service_rate=service_rate),
            WAIT_TARGET_WORKING_HOURS,
        )
    ]
    for label, agent_prs in (
        ("in 6 months", inputs.agent_prs_6m),
        ("in 12 months", inputs.agent_prs_12m),
    ):
        if agent_prs is None:
            continue
        # The planned figure is the agent PRs arriving for review then (rejected ones cost a
        # review too), each weighing `ratio` human PRs; without agent parameters it adds to
        # today's volume as ordinary PRs.
        prs = human_today + agent_prs if agent else inputs.prs_per_week + agent_prs
        load = human_today + agent_prs * ratio if agent else prs
        planned.append(_state(load / load_today, prs, load, servers, service_rate))
        labels.append(label)
        needed.append(
            ReviewersNeeded(
                label,
                prs,
                reviewers_needed(arrivals=load, service_rate=service_rate),
                WAIT_TARGET_WORKING_HOURS,
            )
        )
    saturation = capacity / load_today
    # Utilisation from 5 % to 99 %, denser near the wall where the wait turns upward.
    utilisations = [0.05 + 0.9 * (k / 30) for k in range(31)] + [0.96, 0.97, 0.98, 0.99]
    curve = tuple(
        _state(u * saturation, u * saturation * prs_today, u * capacity, servers, service_rate)
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
        reconciliation=_reconcile(inputs.observed_hours_to_first_review, states[0]),
        reviewers_needed=tuple(needed),
        agent_prs_per_week=agent_today,
        effort_ratio=ratio,
    )


def _state(
    multiplier: float, prs: float, load: float, servers: int, service_rate: float
) -> QueueState:
    """The queue with `load` human-PR equivalents a week, reported at `prs` pull requests."""
    state = queue_state(
        multiplier=multiplier, arrivals=load, servers=servers, service_rate=service_rate
    )
    return QueueState(
        state.multiplier,
        float(prs),
        state.utilisation,
        state.wait_probability,
        state.wait_hours,
        state.saturated,
        state.wait_calendar_hours,
    )


def _reconcile(observed: float | None, today: QueueState) -> Reconciliation | None:
    if observed is None:
        return None
    model = today.wait_calendar_hours
    delay = max(0.0, observed - model) if model is not None else 0.0
    return Reconciliation(model, observed, delay, observed * AGENT_PICKUP_FACTOR)
