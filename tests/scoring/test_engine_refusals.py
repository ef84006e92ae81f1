"""The engine's input checks: bad input is refused with a message that names the field and
the value, every problem at once, and never a crash or a silent default (methodology 13).

Also the engine's own arithmetic on the way out that no other test pins: a dimension's
confidence, the readiness of an assessment nobody answered, the weakest-link tie-break and the
label cap.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pandas as pd
import pytest

from scoring.engine import (
    AGENT_REVIEW_INPUTS,
    OPTIONAL_REVIEW_INPUTS,
    REVIEW_INPUTS,
    _capped_label,
    score_assessment,
)
from scoring.errors import ScoringInputError
from scoring.result import Result
from scoring.rubric import load_rubric_text
from tests.scoring.helpers import frame, tiny_rubric, tiny_rubric_text

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
TINY = tiny_rubric()  # dimensions a (a.x, a.y) and b (b.x)
WALL = {"prs_per_week": 10, "reviewers": 2, "hours_per_pr": 1, "reviewer_hours_per_week": 10}


def _score(answers: pd.DataFrame | None = None, **kwargs: Any) -> Result:
    return score_assessment(
        rubric=kwargs.pop("rubric", TINY),
        answers=answers if answers is not None else frame([]),
        now=kwargs.pop("now", NOW),
        **kwargs,
    )


def _refused(**kwargs: Any) -> tuple[str, ...]:
    with pytest.raises(ScoringInputError) as caught:
        _score(**kwargs)
    return caught.value.problems


def _facts(values: dict[str, float], people: int = 3) -> list[tuple[object, ...]]:
    return [(f"e{i}", "engineering", f, v) for f, v in values.items() for i in range(people)]


SURVEY_WALL = {
    "fact.prs-per-week": 10,
    "fact.active-reviewers": 2,
    "fact.review-hours-per-pr": 1,
    "fact.reviewer-hours-per-week": 10,
}


# --- now ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "now",
    [datetime(2026, 11, 1, 12), "2026-11-01T12:00:00+00:00", None, 1_793_000_000],
    ids=["naive", "text", "none", "number"],
)
def test_now_that_is_not_an_aware_datetime_is_refused_with_what_was_given(now: object) -> None:
    assert _refused(now=now) == (f"now must be a timezone-aware datetime, not {now!r}",)


def test_now_in_any_time_zone_is_accepted() -> None:
    eastern = datetime(2026, 11, 1, 7, tzinfo=timezone(timedelta(hours=-5)))
    assert _score(now=eastern).computed_at == "2026-11-01T07:00:00-05:00"


# --- targets and weights --------------------------------------------------------------------


@pytest.mark.parametrize("level", [0, 6, 2.5, True, False, "3", None])
def test_a_target_that_is_not_a_level_is_refused_naming_its_dimension(level: object) -> None:
    assert _refused(targets={"b": level}) == (
        f"target for b must be a level from 1 to 5, not {level!r}",
    )


def test_a_target_for_a_dimension_the_rubric_lacks_is_refused_by_name() -> None:
    # A capability is not a dimension: targets are per dimension.
    assert _refused(targets={"a.x": 3, "zz": 3}) == (
        "target for unknown dimension 'a.x'",
        "target for unknown dimension 'zz'",
    )


@pytest.mark.parametrize(
    "weight",
    [-0.01, 100.01, float("nan"), float("inf"), float("-inf"), True, "5", None, [1]],
    ids=["below", "above", "nan", "inf", "-inf", "bool", "text", "none", "list"],
)
def test_a_weight_that_is_not_a_number_from_0_to_100_is_refused_naming_its_key(
    weight: object,
) -> None:
    # Text and NaN are refused like any other bad value, not by a TypeError from a comparison.
    assert _refused(weights={"a.y": weight}) == (
        f"weight for a.y must be a number from 0 to 100, not {weight!r}",
    )


def test_a_weight_for_neither_a_dimension_nor_a_capability_is_refused_by_name() -> None:
    assert _refused(weights={"a.x.q1": 1}) == (
        "weight for unknown dimension or capability 'a.x.q1'",
    )


def test_every_bad_setting_is_listed_at_once_in_the_order_given() -> None:
    problems = _refused(
        targets={"zz": 3, "a": 9}, weights={"b": -1, "nope": 1, "a.x": float("nan")}
    )
    assert problems == (
        "target for unknown dimension 'zz'",
        "target for a must be a level from 1 to 5, not 9",
        "weight for b must be a number from 0 to 100, not -1",
        "weight for unknown dimension or capability 'nope'",
        "weight for a.x must be a number from 0 to 100, not nan",
    )


def test_bad_weights_are_refused_before_they_are_checked_for_leaving_anything_to_score() -> None:
    # All zero but one bad value: the bad value is the problem, not the sum it cannot make.
    assert _refused(weights={"a.x": 0, "a.y": "0"}) == (
        "weight for a.y must be a number from 0 to 100, not '0'",
    )


def test_weights_that_leave_a_dimension_or_the_whole_score_empty_are_all_named() -> None:
    zero_caps = {"a.x": 0, "a.y": 0, "b.x": 0}
    assert _refused(weights=zero_caps) == (
        "weights leave no capability of a with weight above 0",
        "weights leave no capability of b with weight above 0",
    )
    assert _refused(weights={"a": 0, "b": 0}) == ("weights leave no dimension with weight above 0",)
    assert _refused(weights={"a.x": 0, "a.y": 0, "a": 0, "b": 0}) == (
        "weights leave no capability of a with weight above 0",
        "weights leave no dimension with weight above 0",
    )


def test_one_capability_weighted_zero_leaves_its_dimension_scored_by_the_other() -> None:
    rows = [("p", "product", "a.x.q1", 1), ("p", "product", "a.y.q1", 5)]
    result = _score(frame(rows), weights={"a.x": 0, "b": 0})
    a = next(d for d in result.dimensions if d.id == "a")
    assert a.score == pytest.approx(100.0)
    assert [c.weight for c in result.capabilities] == [0.0, 1.0, 1.0]
    assert [d.weight for d in result.dimensions] == [1.0, 0.0]


# --- explicit review inputs -----------------------------------------------------------------


def test_unknown_and_non_numeric_review_inputs_are_all_listed_by_name() -> None:
    overrides = {"zeta": 1, "alpha": 2, "reviewers": "3", "prs_per_week": True}
    assert _refused(review_overrides=overrides) == (
        "unknown review input 'alpha'",
        "unknown review input 'zeta'",
        "review input prs_per_week must be a number, not True",
        "review input reviewers must be a number, not '3'",
    )


def test_every_documented_review_input_is_accepted_and_used() -> None:
    overrides = {
        **WALL,
        "agent_prs_6m": 4,
        "agent_prs_12m": 6,
        "hours_to_first_review": 12,
        "agent_share": 0.25,
        "agent_acceptance_rate": 0.5,
        "agent_review_hours_per_pr": 2,
        "agent_rework_rounds": 0,
    }
    assert set(overrides) == {*REVIEW_INPUTS, *OPTIONAL_REVIEW_INPUTS, *AGENT_REVIEW_INPUTS}
    review = _score(review_overrides=overrides).review
    assert (review.source, review.missing, dict(review.too_few)) == ("overrides", (), {})
    assert review.projection is not None
    inputs = review.projection.inputs
    assert (inputs.prs_per_week, inputs.reviewers, inputs.hours_per_pr) == (10, 2, 1)
    assert inputs.reviewer_hours_per_week == 10
    assert (inputs.agent_prs_6m, inputs.agent_prs_12m) == (4, 6)
    assert inputs.observed_hours_to_first_review == 12
    agent = inputs.agent
    assert agent is not None
    assert (agent.share, agent.acceptance_rate, agent.review_hours_per_pr) == (0.25, 0.5, 2)
    assert agent.rework_rounds == 0
    assert set(agent.sources.values()) == {"override"}
    assert review.projection.planned_labels == ("in 6 months", "in 12 months")


@pytest.mark.parametrize("reviewers", [2.5, 0.5, 1.000001])
def test_a_fractional_reviewer_count_given_explicitly_is_refused_not_rounded(
    reviewers: float,
) -> None:
    assert _refused(review_overrides={**WALL, "reviewers": reviewers}) == (
        f"reviewers must be a whole number, not {reviewers:g}",
    )


def test_a_whole_reviewer_count_written_as_a_float_is_accepted() -> None:
    projection = _score(review_overrides={**WALL, "reviewers": 3.0}).review.projection
    assert projection is not None and projection.inputs.reviewers == 3


def test_an_explicit_review_input_the_model_refuses_is_refused_loudly() -> None:
    # Unlike the same figure from the survey, which skips the wall with a warning.
    assert _refused(review_overrides={**WALL, "prs_per_week": 0}) == (
        "PRs per week must be above 0 and at most 100,000, not 0",
    )


def test_zero_pull_requests_a_week_from_the_survey_skips_the_wall_with_this_warning() -> None:
    answers = frame(_facts({**SURVEY_WALL, "fact.prs-per-week": 0}))
    result = _score(answers)
    assert (result.review.projection, result.review.missing) == (None, ("prs_per_week",))
    assert result.review.source == "survey"
    assert (
        "The review wall needs pull requests per week above zero; the median answer is 0."
        in result.warnings
    )


def test_survey_facts_the_model_cannot_use_skip_the_wall_with_the_models_reason() -> None:
    # A rubric that lets people answer 60 review hours per pull request; the model stops at 40.
    text = tiny_rubric_text().replace(
        "fact.review-hours-per-pr?\n    unit: things\n    min: 0.05\n    max: 40",
        "fact.review-hours-per-pr?\n    unit: things\n    min: 0.05\n    max: 100",
    )
    assert "max: 100" in text
    rubric = load_rubric_text(text, source="tiny-1.yaml")
    answers = frame(_facts({**SURVEY_WALL, "fact.review-hours-per-pr": 60}))
    result = _score(answers, rubric=rubric)
    review = result.review
    assert (review.projection, review.missing, review.source) == (None, (), "survey")
    assert (
        "The review wall could not be projected: "
        "review hours per PR must be above 0 and at most 40, not 60\n"
        # Agent pull requests take a human one's review hours by default: refused alike.
        "review hours per agent PR must be between 0 and 40, not 60"
    ) in result.warnings


def test_a_review_fact_from_too_few_people_and_one_from_nobody_are_told_apart() -> None:
    values = {k: v for k, v in SURVEY_WALL.items() if k != "fact.active-reviewers"}
    rows = [r for r in _facts(values) if r[2] != "fact.prs-per-week"]
    rows += [("e0", "engineering", "fact.prs-per-week", 10)]
    review = _score(frame(rows)).review
    assert review.projection is None
    assert dict(review.too_few) == {"prs_per_week": 1}
    assert review.missing == ("reviewers",)


def test_the_agent_share_from_three_people_is_their_median_percentage() -> None:
    rows = _facts({**SURVEY_WALL, "fact.ai-authored-share": 40})
    projection = _score(frame(rows), rubric=_rubric_with_share()).review.projection
    assert projection is not None and projection.inputs.agent is not None
    assert projection.inputs.agent.share == pytest.approx(0.4)
    assert projection.inputs.agent.sources["agent_share"] == "survey"
    # An explicit share wins over the survey's, and a fraction is taken as given.
    projection = _score(
        frame(rows), rubric=_rubric_with_share(), review_overrides={"agent_share": 0.1}
    ).review.projection
    assert projection is not None and projection.inputs.agent is not None
    assert projection.inputs.agent.share == pytest.approx(0.1)
    assert projection.inputs.agent.sources["agent_share"] == "override"


def _rubric_with_share() -> Any:
    text = tiny_rubric_text() + (
        "  - id: fact.ai-authored-share\n"
        "    text: Share?\n"
        "    unit: percent\n"
        "    min: 0\n"
        "    max: 100\n"
        "    integer: false\n"
        "    audience: [leadership, engineering, operations, product]\n"
    )
    return load_rubric_text(text, source="tiny-1.yaml")


# --- what comes out -------------------------------------------------------------------------


def test_an_assessment_nobody_answered_has_no_readiness_and_says_why() -> None:
    result = _score()
    readiness = result.readiness
    assert (readiness.score, readiness.level, readiness.weighted_mean) == (None, None, None)
    assert (readiness.limiting_dimension_id, readiness.adjusted_score) == (None, None)
    assert readiness.held_back_by == 0.0
    assert (readiness.confidence, readiness.confidence_label) == (0.0, "low")
    assert readiness.low_confidence is True
    assert readiness.not_assessed == ("a", "b")
    assert result.respondents == 0
    assert result.respondents_by_role == {
        "leadership": 0,
        "engineering": 0,
        "operations": 0,
        "product": 0,
    }
    assert result.warnings == (
        "Fewer than three people answered: treat every number as a first impression.",
        "No recommendations catalogue ships for rubric tiny-1.",
        "No answers yet for: Cap a.x, Cap a.y, Cap b.x.",
    )


def test_only_dimensions_with_weight_and_without_answers_are_not_assessed() -> None:
    rows = [("p", "product", "a.x.q1", 3)]
    assert _score(frame(rows)).readiness.not_assessed == ("b",)
    assert _score(frame(rows), weights={"b": 0}).readiness.not_assessed == ()


def test_respondents_are_counted_by_role_with_zero_for_roles_nobody_came_from() -> None:
    rows = [(f"e{i}", "engineering", "a.x.q1", 3) for i in range(3)]
    rows += [("p0", "product", "a.x.q1", 3)]
    result = _score(frame(rows))
    assert result.respondents == 4
    assert result.respondents_by_role == {
        "leadership": 0,
        "engineering": 3,
        "operations": 0,
        "product": 1,
    }
    assert not any(w.startswith("Fewer than three") for w in result.warnings)


def test_a_dimensions_confidence_is_the_weighted_mean_of_its_capabilities() -> None:
    # a.x: five people agreeing; a.y: one person. Weights 3 and 1.
    rows = [(f"e{i}", "engineering", "a.x.q1", 4) for i in range(5)]
    rows += [(f"e{i}", "engineering", "a.x.q2", 4) for i in range(5)]
    rows += [("e0", "engineering", "a.y.q1", 2)]
    result = _score(frame(rows), weights={"a.x": 3, "a.y": 1})
    x, y = result.capabilities[0], result.capabilities[1]
    assert x.confidence != pytest.approx(y.confidence)
    a = result.dimensions[0]
    assert a.confidence == pytest.approx((3 * x.confidence + 1 * y.confidence) / 4)
    assert a.score == pytest.approx((3 * 75.0 + 1 * 25.0) / 4)


def test_on_a_tied_score_the_dimension_furthest_below_its_target_limits_readiness() -> None:
    rows = [("p", "product", "a.x.q1", 2), ("p", "product", "a.y.q1", 2)]
    rows += [("p", "product", "b.x.q1", 2)]
    for targets, limiting in (({"a": 2, "b": 4}, "b"), ({"a": 4, "b": 2}, "a")):
        readiness = _score(frame(rows), targets=targets).readiness
        assert readiness.limiting_dimension_id == limiting, targets


@pytest.mark.parametrize(
    ("confidence", "parts", "label"),
    [
        (0.9, ["medium", "high"], "high"),  # the best part allows high
        (0.9, ["high", "medium"], "high"),
        (0.9, ["low", "medium"], "medium"),  # capped at the best part
        (0.9, ["low"], "low"),
        (0.5, ["high", "high"], "medium"),  # never above its own confidence
        (0.9, [], "low"),  # nothing to average: nothing to be sure of
    ],
)
def test_a_label_is_its_confidences_capped_at_the_best_of_its_parts(
    confidence: float, parts: list[str], label: str
) -> None:
    assert _capped_label(confidence, iter(parts)) == label


def test_a_fact_answer_triggers_its_recommendation_quoting_the_median_and_unit() -> None:
    from scoring.rubric import get_rubric

    rubric = get_rubric("operationalization", 1)
    rows = [(f"e{i}", "engineering", "fact.hours-to-first-review", 30) for i in range(3)]
    result = _score(frame(rows), rubric=rubric)
    item = next(i for i in result.roadmap if i.id == "rec.rev.review-slas")
    fact = next(t for t in item.triggers if t.kind == "fact_at_least")
    assert (fact.subject, fact.observed, fact.threshold) == ("fact.hours-to-first-review", 30, 24)
    assert fact.text == (
        "Answers to \u201cHow many hours does a pull request typically wait for its first human "
        "review?\u201d have a median of 30 hours."
    )
    # From two people the reason still stands, but their figure is not shown.
    result = _score(frame(rows[:2]), rubric=rubric)
    item = next(i for i in result.roadmap if i.id == "rec.rev.review-slas")
    fact = next(t for t in item.triggers if t.kind == "fact_at_least")
    assert fact.observed is None and "30" not in fact.text


def _one_question(level_rows: list[tuple[str, int]]) -> pd.DataFrame:
    return frame([(who, "engineering", "a.x.q1", level) for who, level in level_rows])


ONE = tiny_rubric({"a": {"a.x": 1}, "b": {"b.x": 1}})


@pytest.mark.parametrize(("strength", "coverage"), [(1, 1 / 6), (3, 0.5), (6, 1.0)])
def test_agreeing_evidence_raises_confidence_by_its_coverage(
    strength: int, coverage: float
) -> None:
    from scoring.engine import AGREEING_EVIDENCE_BONUS
    from scoring.evidence import EvidenceFinding

    answers = _one_question([(f"e{i}", 4) for i in range(3)])
    before = _score(answers, rubric=ONE).capabilities[0].confidence
    findings = [EvidenceFinding("det.one", "a.x", "found", min(strength, 3), "One")]
    if strength > 3:
        findings.append(EvidenceFinding("det.two", "a.x", "found", strength - 3, "Two"))
    # Claimed 75, evidence 100: one level apart, within the tolerance, so they agree.
    after = _score(answers, rubric=ONE, evidence=findings).capabilities[0]
    assert (after.evidence.verdict, after.evidence.coverage) == ("agrees", pytest.approx(coverage))
    assert after.confidence == pytest.approx(min(1.0, before + AGREEING_EVIDENCE_BONUS * coverage))
    assert before < after.confidence <= 1.0


def _room(levels: list[int | None]) -> Any:
    from scoring.workshop import AgreedLevel, RoomVote

    votes = tuple(
        RoomVote(f"p{i}", "engineering", "level" if level else "dont_know", level)
        for i, level in enumerate(levels)
    )
    return AgreedLevel("a.x", 3, "", (), votes)


def test_an_agreed_levels_label_counts_the_rooms_voters_not_the_surveys() -> None:
    # Five voters agreeing in the room beat two survey answers: high, not capped to low.
    few_answers = _one_question([("e0", 1), ("e1", 1)])
    agreed = _score(few_answers, rubric=ONE, workshop=[_room([3] * 5)]).capabilities[0]
    assert (agreed.source, agreed.confidence_label, agreed.low_confidence) == (
        "workshop",
        "high",
        False,
    )
    # Two level voters in the room (three did not know) cap it at low, whatever the survey.
    many_answers = _one_question([(f"e{i}", 3) for i in range(6)])
    agreed = _score(
        many_answers, rubric=ONE, workshop=[_room([3, 3, None, None, None])]
    ).capabilities[0]
    assert (agreed.confidence_label, agreed.low_confidence) == ("low", True)


def test_on_a_tied_score_a_fractional_shortfall_beats_a_met_target() -> None:
    # Both dimensions at exact level 2.5 (medians of 2 and 3): one meets its target of 2,
    # the other is half a level short of 3, and that one limits readiness.
    rows = [("p", "product", q, 2) for q in ("a.x.q1", "b.x.q1")]
    rows += [("r", "product", q, 3) for q in ("a.x.q1", "b.x.q1")]
    for targets, limiting in (({"a": 2, "b": 3}, "b"), ({"a": 3, "b": 2}, "a")):
        result = _score(frame(rows), rubric=ONE, targets=targets)
        assert [d.exact_level for d in result.dimensions] == [2.5, 2.5]
        assert sorted(d.gap for d in result.dimensions) == [0.0, 0.5]
        assert result.readiness.limiting_dimension_id == limiting, targets


def test_the_roadmap_hears_of_each_gate_what_it_lacks_answers_apart() -> None:
    from scoring.autonomy import Gate, GateInputs, Requirement, evaluate
    from scoring.engine import _gate_needs
    from scoring.roadmap import GateNeed

    gates = (
        Gate("g1", "Suggest", "", ()),
        Gate(
            "g2",
            "Open PRs",
            "",
            (Requirement("a.x", 3), Requirement("a.y", 3, kind="answer", subject="a.y.q1")),
        ),
        Gate("g3", "Merge", "", (Requirement("b.x", 4),)),
    )
    autonomy = evaluate(
        gates=gates,
        levels={"a.x": 2, "a.y": 4, "b.x": 2},
        inputs=GateInputs(answers={"a.y.q1": 1.0}, question_texts={"a.y.q1": "Q?"}),
    )
    assert _gate_needs(autonomy) == (
        GateNeed("g2", "Open PRs", frozenset({"a.x"}), frozenset({"a.y.q1"})),
        GateNeed("g3", "Merge", frozenset({"b.x"}), frozenset()),
    )
    assert _gate_needs(None) == ()


def _checks(result: Result, kind: str, subject: str) -> list[Any]:
    assert result.autonomy is not None
    return [
        c
        for step in result.autonomy.steps
        for c in step.checks
        if c.kind == kind and c.subject == subject
    ]


def test_gates_read_the_track_record_from_the_fact_medians() -> None:
    from scoring.rubric import get_rubric

    rubric = get_rubric("operationalization", 2)
    fact = "fact.months-at-current-autonomy"
    rows = [(f"e{i}", "engineering", fact, 6) for i in range(3)]
    # Three gates ask for a track record of months at the step below (3, then more).
    checks = _checks(_score(frame(rows), rubric=rubric), "track-record", fact)
    assert len(checks) >= 2
    assert {c.observed for c in checks} == {6}
    assert all(c.label.endswith(" (now 6)") for c in checks)
    assert checks[0].label.endswith("at least 3 (now 6)") and checks[0].met
    checks = _checks(_score(rubric=rubric), "track-record", fact)
    assert {(c.observed, c.met) for c in checks} == {(None, False)}
    assert all(c.label.endswith(" (no answer)") for c in checks)


def test_gates_name_each_scanned_practice_by_its_title() -> None:
    from scoring.evidence import EvidenceFinding
    from scoring.rubric import get_rubric

    rubric = get_rubric("operationalization", 2)
    found = EvidenceFinding("repo.codeowners", "rev.policy-ownership", "found", 2, "A CODEOWNERS")
    result = _score(
        rubric=rubric,
        evidence=[found],
        # A detector never scanned has no finding to take its title from: the caller says it.
        evidence_titles={"github.status-checks": "Required status checks"},
    )
    (owners,) = _checks(result, "evidence", "repo.codeowners")
    assert owners.met and owners.label == "a scan finds \u201cA CODEOWNERS\u201d"
    (checks,) = _checks(result, "evidence", "github.status-checks")
    assert not checks.met
    assert checks.label.startswith("a scan finds \u201cRequired status checks\u201d (")


def test_gates_read_review_utilisation_today_or_at_the_highest_planned_volume() -> None:
    from scoring.rubric import get_rubric

    rubric = get_rubric("operationalization", 2)
    rows = _facts(
        {
            "fact.prs-per-week": 100,
            "fact.active-reviewers": 20,
            "fact.review-hours-per-pr": 0.5,
            "fact.reviewer-hours-per-week": 8,
        }
    )
    result = _score(frame(rows), rubric=rubric)
    checks = _checks_of_kind(result, "review")
    assert checks and all(c.observed == pytest.approx(100 / 320) for c in checks)
    unmeasured = _checks_of_kind(
        _score(frame(_facts({"fact.prs-per-week": 100})), rubric=rubric), "review"
    )
    assert unmeasured and all(
        c.label.endswith("at most 80% (no review figures)") and c.observed is None
        for c in unmeasured
    ), unmeasured[0].label
    # Without a plan the figure is today's, and the label says so.
    assert all(c.label.endswith(" (now 31%)") for c in checks), checks[0].label
    planned = _score(
        frame(rows), rubric=rubric, review_overrides={"agent_prs_6m": 10, "agent_prs_12m": 60}
    )
    projection = planned.review.projection
    assert projection is not None
    highest = max(s.utilisation for s in projection.planned)
    assert highest > projection.states[0].utilisation
    checks = _checks_of_kind(planned, "review")
    assert checks and all(c.observed == pytest.approx(highest) for c in checks)
    # With a plan the figure is a forecast: named as one, beside today's, never as "now".
    forecast = f"({highest:.0%} at the planned volume; 31% today)"
    assert all(c.label.endswith(forecast) and "now" not in c.label for c in checks), checks[0].label


def _checks_of_kind(result: Result, kind: str) -> list[Any]:
    assert result.autonomy is not None
    return [c for step in result.autonomy.steps for c in step.checks if c.kind == kind]


def test_the_inputs_hash_changes_with_what_a_workshop_agreed() -> None:
    from scoring.engine import inputs_hash

    answers = _one_question([("e0", 2)])
    agreed = _room([3] * 5)
    first = inputs_hash(rubric=ONE, answers=answers, workshop=[agreed])
    assert first == inputs_hash(rubric=ONE, answers=answers, workshop=[_room([3] * 5)])
    assert first != inputs_hash(rubric=ONE, answers=answers)
    other = _room([3] * 5)
    other = type(other)(other.capability_id, 4, other.rationale, other.dissent, other.votes)
    assert first != inputs_hash(rubric=ONE, answers=answers, workshop=[other])


@pytest.mark.parametrize("blank", ["", " ", "n/a"])
def test_the_inputs_hash_reads_a_blank_or_text_number_as_no_number(blank: str) -> None:
    # As scoring does: a level answer exported with "n/a" in its number column has no number.
    from scoring.engine import inputs_hash

    answers = _one_question([("e0", 2), ("e1", 3)])
    blanks = answers.astype({"number": object})
    blanks["number"] = blank
    assert inputs_hash(rubric=ONE, answers=blanks) == inputs_hash(rubric=ONE, answers=answers)
    assert (
        _score(blanks, rubric=ONE).capabilities[0].score
        == _score(answers, rubric=ONE).capabilities[0].score
    )


@pytest.mark.parametrize(("prs", "projected"), [(0, False), (1, True), (2, True)])
def test_the_wall_is_skipped_only_when_the_survey_says_no_pull_requests(
    prs: int, projected: bool
) -> None:
    result = _score(frame(_facts({**SURVEY_WALL, "fact.prs-per-week": prs})))
    assert (result.review.projection is not None) is projected
    skipped = any(w.startswith("The review wall needs pull requests") for w in result.warnings)
    assert skipped is not projected


def test_a_dimension_reason_prints_the_dimensions_exact_level() -> None:
    from scoring.recommendations import load_catalogue_text

    catalogue = load_catalogue_text(
        "recommendations:\n"
        "  - id: rec.dim\n    title: Dim\n    capability: a.x\n"
        "    trigger: [{dimension_below: {dimension: a, level: 3}}]\n"
        "    why: because\n    steps: [one, two, three]\n    impact: 2\n    effort: 2\n",
        ONE,
    )
    rows = [("e0", "engineering", "a.x.q1", 2), ("e1", "engineering", "a.x.q1", 3)]
    result = _score(frame(rows), rubric=ONE, recommendations=catalogue, targets={"a": 4})
    (item,) = result.roadmap
    assert item.reasons == ("Dim a is at level 2.5, below 3, on the way to its target of 4.",)


def test_a_room_of_three_is_enough_people_for_no_first_impression_warning() -> None:
    warning = "Fewer than three people answered: treat every number as a first impression."
    two_answers = _one_question([("e0", 3), ("e1", 3)])
    assert warning in _score(two_answers, rubric=ONE).warnings
    assert warning in _score(two_answers, rubric=ONE, workshop=[_room([3, 3])]).warnings
    assert warning not in _score(two_answers, rubric=ONE, workshop=[_room([3, 3, 3])]).warnings
    three_answers = _one_question([("e0", 3), ("e1", 3), ("e2", 3)])
    assert warning not in _score(three_answers, rubric=ONE).warnings


def test_a_gate_requirement_on_an_answer_names_the_question_in_words() -> None:
    from scoring.rubric import get_rubric

    rubric = get_rubric("operationalization", 2)
    checks = _checks_of_kind(
        _score(frame(_facts({"fact.prs-per-week": 10})), rubric=rubric), "answer"
    )
    assert checks
    for check in checks:
        text = rubric.question(check.subject).text
        assert check.label.startswith(f"answers to \u201c{text}\u201d at level "), check.label
