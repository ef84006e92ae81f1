"""Every threshold docs/methodology.md names, tested at the value, just below and just above.

A flag or bucket that slides from `>=` to `>` at its edge changes nothing away from the edge,
so each rule is pinned exactly where it switches. Thresholds are read from where they are
defined (module constants) or, where the code holds a literal, found by bisection and checked
against the methodology's own text, so a deliberate change of a threshold (in code and docs
together) keeps these tests true while a slipped comparison fails them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from scoring import delivery, evidence, review_capacity, roadmap, scores
from scoring.autonomy import Gate, Requirement, evaluate
from scoring.engine import MAX_WEIGHT, score_assessment
from scoring.errors import ScoringInputError
from scoring.evidence import EvidenceFinding, reconcile
from scoring.recommendations import Condition
from scoring.rubric import LEVELS
from tests.scoring.helpers import frame, tiny_rubric

METHODOLOGY = (Path(__file__).resolve().parents[2] / "docs" / "methodology.md").read_text()
NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
TINY = tiny_rubric({"a": {"a.x": 1}, "b": {"b.x": 1}})


def _section(number: int) -> str:
    """The text of methodology section `number` (## N. Title ... up to the next ##)."""
    match = re.search(rf"^## {number}\. .*?(?=^## |\Z)", METHODOLOGY, re.M | re.S)
    assert match, f"docs/methodology.md has no section {number}"
    return match.group(0)


def _edges(
    f: Callable[[float], object], lo: float, hi: float, samples: int = 2000
) -> list[tuple[float, object, object]]:
    """Where a step function changes value on [lo, hi]: (the first x with the new value, the
    value below, the value from x on), to the last representable float."""
    xs = [lo + (hi - lo) * i / samples for i in range(samples + 1)]
    found = []
    for a, b in zip(xs, xs[1:], strict=False):
        if f(a) == f(b):
            continue
        below, above = a, b
        while math.nextafter(below, math.inf) < above:
            middle = (below + above) / 2
            if middle in (below, above):
                break
            if f(middle) == f(a):
                below = middle
            else:
                above = middle
        found.append((above, f(below), f(above)))
    return found


def _documented(value: float, text: str) -> bool:
    """`value` appears in `text` as a plain number (0.7 as "0.7" or "0.70", 15 % as "15")."""
    spelled = {f"{value:g}", f"{value:.2f}", f"{value:,.0f}", f"{value:.1f}"}
    return any(re.search(rf"(?<![\d.]){re.escape(s)}(?![\d])", text) for s in spelled)


# --- 1. Levels and scores -------------------------------------------------------------------


@pytest.mark.parametrize("level", LEVELS[1:])
def test_a_level_is_reached_exactly_at_its_score_and_not_just_below(level: int) -> None:
    edge = (level - 1) * scores.POINTS_PER_LEVEL
    assert scores.score_to_level(edge) == level
    assert scores.score_to_level(edge - 1e-6) == level - 1
    assert scores.score_to_level(edge + 1e-6) == level
    assert scores.level_to_score(level) == pytest.approx(edge)


def test_level_reached_edges_are_exactly_the_multiples_of_one_level() -> None:
    edges = _edges(scores.score_to_level, 0.0, 100.0)
    assert [round(x, 6) for x, _b, _a in edges] == [
        (k - 1) * scores.POINTS_PER_LEVEL for k in LEVELS[1:]
    ]
    assert scores.score_to_level(100.0) == max(LEVELS)
    assert _documented(scores.POINTS_PER_LEVEL, _section(1))


# --- 4. Confidence --------------------------------------------------------------------------


def test_confidence_labels_switch_at_round_documented_values_that_belong_to_the_higher_label() -> (
    None
):
    edges = _edges(scores.confidence_label, 0.0, 1.0)
    assert [(b, a) for _x, b, a in edges] == [("low", "medium"), ("medium", "high")]
    table = _section(4)
    for x, lower, upper in edges:
        # A `>=` that slid to `>` moves the edge to the next float above the round number.
        assert x == round(x, 6), f"{lower}->{upper} switches at {x!r}, just past a round value"
        assert scores.confidence_label(x) == upper
        assert scores.confidence_label(x - 1e-9) == lower
        assert scores.confidence_label(x + 1e-9) == upper
        assert _documented(x, table), f"docs/methodology.md section 4 does not state {x}"


def _stats(n: int, unknown: int = 0, agreement: float | None = 1.0) -> scores.CapabilityStats:
    return scores.CapabilityStats(3.0, n, n, unknown, 3.0, 3.0, agreement if n > 1 else None)


def test_head_count_stops_raising_confidence_exactly_at_full_respondents() -> None:
    full = scores.FULL_RESPONDENTS
    below, at, above = (scores.answer_confidence(_stats(n)) for n in (full - 1, full, full + 1))
    assert below < at
    assert at == above
    assert _documented(full, _section(4))


def test_agreement_is_measured_from_two_respondents_and_not_from_one() -> None:
    rubric = tiny_rubric({"a": {"a.x": 1}})
    one = scores.prepare(rubric=rubric, answers=frame([("r1", "engineering", "a.x.q1", 3)]))
    two = scores.prepare(
        rubric=rubric,
        answers=frame([("r1", "engineering", "a.x.q1", 3), ("r2", "engineering", "a.x.q1", 3)]),
    )
    assert scores.capability_stats(rubric=rubric, prepared=one)["a.x"].agreement is None
    assert scores.capability_stats(rubric=rubric, prepared=two)["a.x"].agreement == 1.0


# --- 5. Dimensions and overall readiness ----------------------------------------------------


def _dimension_scores(a: int, b: int) -> pd.DataFrame:
    """Answers giving dimension a the level `a` and b the level `b` (one respondent each)."""
    return frame([("r1", "engineering", "a.x.q1", a), ("r1", "engineering", "b.x.q1", b)])


@pytest.mark.parametrize(
    ("a", "b", "held_back"),
    [
        (4, 2, False),  # mean 50 = weakest 25 + one level: exactly at the cap
        (3, 2, False),  # mean 37.5: below the cap
        (5, 2, True),  # mean 62.5: above the cap, readiness is the weakest + one level
    ],
)
def test_readiness_is_capped_one_level_above_the_weakest_dimension(
    a: int, b: int, held_back: bool
) -> None:
    result = score_assessment(rubric=TINY, answers=_dimension_scores(a, b), now=NOW)
    mean = (scores.level_to_score(a) + scores.level_to_score(b)) / 2
    cap = scores.level_to_score(b) + scores.POINTS_PER_LEVEL
    assert result.readiness.weighted_mean == pytest.approx(mean)
    assert result.readiness.score == pytest.approx(min(mean, cap))
    assert (result.readiness.held_back_by > 0) is held_back
    assert result.readiness.limiting_dimension_id == "b"


@pytest.mark.parametrize(("weight", "in_readiness"), [(0.0, False), (0.01, True), (1.0, True)])
def test_a_dimension_counts_in_readiness_from_any_weight_above_zero(
    weight: float, in_readiness: bool
) -> None:
    result = score_assessment(
        rubric=TINY, answers=_dimension_scores(5, 1), weights={"b": weight}, now=NOW
    )
    assert (result.readiness.limiting_dimension_id == "b") is in_readiness
    assert (result.readiness.score == 100.0) is not in_readiness


@pytest.mark.parametrize(
    ("weight", "accepted"),
    [(0, True), (-0.01, False), (MAX_WEIGHT, True), (MAX_WEIGHT + 0.01, False)],
)
def test_weights_are_accepted_from_zero_to_the_maximum_and_refused_outside(
    weight: float, accepted: bool
) -> None:
    answers = _dimension_scores(3, 3)
    weights = {"a.x": weight, "b": 1}
    if weight == 0:
        weights = {"a": 0, "b": 1}  # a capability weight of 0 would leave dimension a empty
    if accepted:
        score_assessment(rubric=TINY, answers=answers, weights=weights, now=NOW)
    else:
        with pytest.raises(ScoringInputError, match="from 0 to 100"):
            score_assessment(rubric=TINY, answers=answers, weights=weights, now=NOW)


@pytest.mark.parametrize(("target", "accepted"), [(0, False), (1, True), (5, True), (6, False)])
def test_targets_are_accepted_from_one_to_five_and_refused_outside(
    target: int, accepted: bool
) -> None:
    answers = _dimension_scores(3, 3)
    if accepted:
        result = score_assessment(rubric=TINY, answers=answers, targets={"a": target}, now=NOW)
        assert result.dimensions[0].target_level == target
    else:
        with pytest.raises(ScoringInputError, match="level from 1 to 5"):
            score_assessment(rubric=TINY, answers=answers, targets={"a": target}, now=NOW)


# --- 6. Targets and gaps --------------------------------------------------------------------


@pytest.mark.parametrize(("level", "target", "gap"), [(3, 3, 0.0), (3, 4, 1.0), (3, 2, 0.0)])
def test_the_gap_is_zero_at_or_above_the_target_and_the_shortfall_below(
    level: int, target: int, gap: float
) -> None:
    result = score_assessment(
        rubric=TINY, answers=_dimension_scores(level, level), targets={"a": target}, now=NOW
    )
    assert result.dimensions[0].gap == pytest.approx(gap)
    assert result.capabilities[0].gap == pytest.approx(gap)


# --- 7. Perception gaps: groups of at least MIN_GROUP, flags from GAP_THRESHOLD --------------


def _role_rows(role: str, values: Sequence[int], question: str = "a.x.q1") -> list[tuple]:
    return [(f"{role}-{i}", role, question, v) for i, v in enumerate(values)]


def _gaps(rows: list[tuple], rubric: object = None) -> list[scores.PerceptionGap]:
    rubric = rubric or tiny_rubric({"a": {"a.x": 1}})
    prepared = scores.prepare(rubric=rubric, answers=frame(rows))  # type: ignore[arg-type]
    return scores.perception_gaps(rubric=rubric, prepared=prepared)  # type: ignore[arg-type]


@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_a_role_stands_alone_from_min_group_respondents(offset: int) -> None:
    n = scores.MIN_GROUP + offset
    rows = _role_rows("engineering", [3] * n) + _role_rows("leadership", [4] * scores.MIN_GROUP)
    groups = {g.group for g in _gaps(rows)[0].groups}
    assert ("engineering" in groups) is (n >= scores.MIN_GROUP)
    assert _documented(scores.MIN_GROUP, _section(7))


@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_small_roles_merge_and_the_merged_group_shows_only_from_min_group(offset: int) -> None:
    # Every small role below MIN_GROUP; together they have MIN_GROUP + offset people.
    total = scores.MIN_GROUP + offset
    small = ["operations", "product", "engineering"]
    sizes = [min(scores.MIN_GROUP - 1, total - s) for s in range(0, total, scores.MIN_GROUP - 1)]
    rows = _role_rows("leadership", [4] * scores.MIN_GROUP)
    for role, size in zip(small, sizes, strict=False):
        rows += _role_rows(role, [2] * size)
    gap = _gaps(rows)[0]
    merged = [g for g in gap.groups if g.group.startswith("other roles")]
    assert bool(merged) is (total >= scores.MIN_GROUP)
    if merged:
        assert merged[0].respondents == total
        assert all(len(merged[0].roles) >= 2 or total < scores.MIN_GROUP for _ in [0])


def _group_of_mean(role: str, mean: float, size: int = 10) -> list[tuple]:
    """`size` respondents of `role`, whole levels 1-5, whose mean is `mean` (to 1/size)."""
    total = round(mean * size)
    base, extra = divmod(total, size)
    values = [base + 1] * extra + [base] * (size - extra)
    assert all(1 <= v <= 5 for v in values) and sum(values) == total
    return _role_rows(role, values)


@pytest.mark.parametrize(("delta", "flagged"), [(-0.1, False), (0.0, True), (0.1, True)])
def test_a_perception_gap_is_flagged_from_the_threshold_on(delta: float, flagged: bool) -> None:
    high = 4.5
    rows = _group_of_mean("leadership", high) + _group_of_mean(
        "engineering", high - scores.GAP_THRESHOLD - delta
    )
    gap = _gaps(rows)[0]
    assert gap.gap == pytest.approx(scores.GAP_THRESHOLD + delta)
    assert gap.flagged is flagged
    assert bool(gap.drivers) is flagged
    assert _documented(scores.GAP_THRESHOLD, _section(7)) or "one level" in _section(7)


@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_a_gap_drivers_group_mean_is_shown_only_where_min_group_answered_the_question(
    offset: int,
) -> None:
    # Two questions; every engineer answers q1, only MIN_GROUP + offset of them answer q2.
    rubric = tiny_rubric({"a": {"a.x": 2}})
    size = scores.MIN_GROUP + 1
    answered = scores.MIN_GROUP + offset
    rows = []
    for i in range(size):
        rows += [(f"lead-{i}", "leadership", "a.x.q1", 5), (f"lead-{i}", "leadership", "a.x.q2", 5)]
        rows.append((f"eng-{i}", "engineering", "a.x.q1", 1))
        rows.append((f"eng-{i}", "engineering", "a.x.q2", 1 if i < answered else "dk"))
    gap = _gaps(rows, rubric)[0]
    assert gap.flagged
    drivers = {d.question_id: d for d in gap.drivers}
    assert set(drivers["a.x.q1"].group_means) == {"leadership", "engineering"}
    shown = "a.x.q2" in drivers and "engineering" in drivers["a.x.q2"].group_means
    assert shown is (answered >= scores.MIN_GROUP)


@pytest.mark.parametrize("offset", [-1, 0])
def test_leadership_optimism_needs_leaders_in_a_group_of_their_own(offset: int) -> None:
    leaders = scores.MIN_GROUP + offset
    rows = _role_rows("leadership", [5] * leaders) + _role_rows(
        "engineering", [2] * scores.MIN_GROUP
    )
    rows += _role_rows("operations", [2] * scores.MIN_GROUP)
    optimism = scores.leadership_optimism(_gaps(rows))
    if leaders >= scores.MIN_GROUP:
        assert optimism == pytest.approx(3.0)
    else:
        assert optimism is None


# --- 8. Claims versus evidence --------------------------------------------------------------


def _findings(found: int, absent: int) -> list[EvidenceFinding]:
    """Strength-3 findings: `found` in place and `absent` missing."""
    return [EvidenceFinding(f"d{i}", "a.x", "found", 3, "t") for i in range(found)] + [
        EvidenceFinding(f"e{i}", "a.x", "absent", 3, "t") for i in range(absent)
    ]


@pytest.mark.parametrize(
    ("difference", "verdict", "direction"),
    [
        (-1e-6, "agrees", ""),
        (0.0, "agrees", ""),
        (1e-6, "contradicts", "overclaim"),
    ],
)
def test_an_overclaim_contradicts_only_beyond_the_tolerance(
    difference: float, verdict: str, direction: str
) -> None:
    claim = 50.0 + evidence.TOLERANCE + difference  # evidence 50: one found, one absent
    result = reconcile(claim_score=claim, findings=_findings(1, 1))
    assert (result.verdict, result.direction) == (verdict, direction)
    assert _documented(evidence.TOLERANCE, _section(8))


@pytest.mark.parametrize(
    ("difference", "verdict", "direction"),
    [(-1e-6, "agrees", ""), (0.0, "agrees", ""), (1e-6, "contradicts", "underclaim")],
)
def test_an_underclaim_contradicts_only_beyond_the_tolerance(
    difference: float, verdict: str, direction: str
) -> None:
    claim = 50.0 - evidence.TOLERANCE - difference
    result = reconcile(claim_score=claim, findings=_findings(1, 1))
    assert (result.verdict, result.direction) == (verdict, direction)


@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_coverage_is_full_exactly_from_the_full_coverage_strength(offset: int) -> None:
    total = evidence.FULL_COVERAGE + offset
    findings = [EvidenceFinding(f"d{i}", "a.x", "found", 1, "t") for i in range(int(total))]
    result = reconcile(claim_score=100.0, findings=findings)
    assert result.coverage == pytest.approx(min(1.0, total / evidence.FULL_COVERAGE))
    assert (result.coverage == 1.0) is (offset >= 0)
    assert result.adjusted_score == pytest.approx(100.0)
    assert _documented(evidence.FULL_COVERAGE, _section(8))


@pytest.mark.parametrize(("strength", "accepted"), [(0, False), (1, True), (3, True), (4, False)])
def test_finding_strength_is_accepted_from_one_to_three(strength: int, accepted: bool) -> None:
    finding = EvidenceFinding("d", "a.x", "found", strength, "t")
    answers = _dimension_scores(3, 3)
    if accepted:
        score_assessment(rubric=TINY, answers=answers, evidence=[finding], now=NOW)
    else:
        with pytest.raises(ScoringInputError, match="strength"):
            score_assessment(rubric=TINY, answers=answers, evidence=[finding], now=NOW)


@pytest.mark.parametrize(("level", "accepted"), [(0, False), (1, True), (5, True), (6, False)])
def test_answer_levels_are_accepted_from_one_to_five(level: int, accepted: bool) -> None:
    answers = pd.DataFrame(
        [("r1", "engineering", "a.x.q1", "level", level, None)],
        columns=list(scores.COLUMNS),
    )
    if accepted:
        score_assessment(rubric=TINY, answers=answers, now=NOW)
    else:
        with pytest.raises(ScoringInputError):
            score_assessment(rubric=TINY, answers=answers, now=NOW)


# --- 9. Roadmap conditions and buckets ------------------------------------------------------


def _signals(**values: object) -> roadmap.Signals:
    base: dict[str, object] = {
        "capability_levels": {"a.x": None},
        "capability_titles": {"a.x": "Cap"},
        "dimension_levels": {"a": None},
        "dimension_titles": {"a": "Dim"},
        "question_medians": {"a.x.q1": None},
        "question_texts": {"a.x.q1": "Q?"},
        "fact_texts": {"fact.f": "F?"},
    }
    base.update(values)
    return roadmap.Signals(**base)  # type: ignore[arg-type]


def _fires(condition: Condition, signals: roadmap.Signals) -> bool:
    reason, readable = roadmap._evaluate(condition, "a.x", signals)
    assert readable
    return reason is not None


@pytest.mark.parametrize(("level", "fires"), [(2, True), (3, False), (4, False)])
def test_capability_below_fires_strictly_below_its_level(level: int, fires: bool) -> None:
    signals = _signals(capability_levels={"a.x": level})
    assert _fires(Condition("capability_below", 3), signals) is fires


@pytest.mark.parametrize(("level", "fires"), [(2, True), (3, False), (4, False)])
def test_dimension_below_fires_strictly_below_its_level(level: int, fires: bool) -> None:
    signals = _signals(dimension_levels={"a": level})
    assert _fires(Condition("dimension_below", {"dimension": "a", "level": 3}), signals) is fires


@pytest.mark.parametrize(("median", "fires"), [(1.5, True), (2.0, True), (2.5, False)])
def test_answer_at_most_fires_at_and_below_its_level(median: float, fires: bool) -> None:
    signals = _signals(question_medians={"a.x.q1": median})
    assert _fires(Condition("answer_at_most", 2, "a.x.q1"), signals) is fires


@pytest.mark.parametrize(
    ("kind", "median", "fires"),
    [
        ("fact_at_least", 9.99, False),
        ("fact_at_least", 10.0, True),
        ("fact_at_least", 10.01, True),
        ("fact_at_most", 9.99, True),
        ("fact_at_most", 10.0, True),
        ("fact_at_most", 10.01, False),
    ],
)
def test_fact_conditions_include_their_value(kind: str, median: float, fires: bool) -> None:
    signals = _signals(fact_medians={"fact.f": median})
    assert _fires(Condition(kind, 10, "fact.f"), signals) is fires


@pytest.mark.parametrize(("multiple", "fires"), [(2.99, True), (3.0, False), (3.01, False)])
def test_review_saturates_below_fires_strictly_below_its_multiple(
    multiple: float, fires: bool
) -> None:
    signals = _signals(saturation_multiplier=multiple)
    assert _fires(Condition("review_saturates_below", 3), signals) is fires


def _value_rule() -> tuple[float, float]:
    match = re.search(r"value = impact / effort: ≥ ([\d.]+) Now, ≥ ([\d.]+) \*\*Next", _section(9))
    assert match, "docs/methodology.md section 9 no longer states the value buckets"
    return float(match.group(1)), float(match.group(2))


@pytest.mark.parametrize("impact", [1, 2, 3])
@pytest.mark.parametrize("effort", [1, 2, 3])
def test_every_impact_and_effort_lands_in_the_bucket_the_methodology_gives(
    impact: int, effort: int
) -> None:
    now, next_ = _value_rule()
    rec = type("Rec", (), {"impact": impact, "effort": effort})()
    item = roadmap.Triggered(rec, (), urgent=False, enabler=False)  # type: ignore[arg-type]
    value = impact / effort
    expected = 0 if value >= now else 1 if value >= next_ else 2
    assert roadmap._base_bucket(item) == expected


# --- 10. Autonomy gates ---------------------------------------------------------------------


@pytest.mark.parametrize(("level", "met"), [(2, False), (3, True), (4, True), (None, False)])
def test_a_gate_requirement_is_met_from_its_level(level: int | None, met: bool) -> None:
    gates = (
        Gate("g1", "Suggest", "", ()),
        Gate("g2", "Open PRs", "", (Requirement("a.x", 3),)),
    )
    autonomy = evaluate(gates=gates, levels={"a.x": level})
    assert autonomy is not None
    assert autonomy.steps[1].met is met
    assert autonomy.granted_index == (1 if met else 0)


# --- 11. The review wall --------------------------------------------------------------------


@pytest.mark.parametrize(("arrivals", "saturated"), [(19.99, False), (20.0, True), (20.01, True)])
def test_review_saturates_exactly_when_arrivals_reach_capacity(
    arrivals: float, saturated: bool
) -> None:
    state = review_capacity.queue_state(
        multiplier=1.0, arrivals=arrivals, servers=2, service_rate=10.0
    )
    assert state.saturated is saturated
    assert (state.wait_hours is None) is saturated


def _review_facts(reviewers: Sequence[int]) -> pd.DataFrame:
    rows: list[tuple] = []
    # Each answer twice, so that every fact has at least three numbers (the median is the same).
    for i, count in enumerate(reviewers * 2):
        rows += [
            (f"r{i}", "engineering", "fact.prs-per-week", 10),
            (f"r{i}", "engineering", "fact.active-reviewers", count),
            (f"r{i}", "engineering", "fact.review-hours-per-pr", 1),
            (f"r{i}", "engineering", "fact.reviewer-hours-per-week", 10),
        ]
    return frame(rows)


@pytest.mark.parametrize(("answers", "reviewers"), [((2, 2), 2), ((2, 3), 3), ((3, 3), 3)])
def test_a_reviewer_median_ending_in_a_half_rounds_up(
    answers: tuple[int, int], reviewers: int
) -> None:
    result = score_assessment(rubric=TINY, answers=_review_facts(answers), now=NOW)
    assert result.review.projection is not None
    assert result.review.projection.inputs.reviewers == reviewers


@pytest.mark.parametrize(
    ("override", "accepted"),
    [
        ({"reviewers": 0}, False),
        ({"reviewers": 1}, True),
        ({"prs_per_week": review_capacity.MAX_PRS_PER_WEEK}, True),
        ({"prs_per_week": review_capacity.MAX_PRS_PER_WEEK + 1}, False),
        ({"reviewer_hours_per_week": review_capacity.WORKING_HOURS_PER_WEEK}, True),
        ({"reviewer_hours_per_week": review_capacity.WORKING_HOURS_PER_WEEK + 0.01}, False),
        ({"hours_per_pr": 40}, True),
        ({"hours_per_pr": 40.01}, False),
        ({"hours_per_pr": 0}, False),
    ],
)
def test_explicit_review_inputs_are_refused_just_past_their_limits(
    override: dict[str, float], accepted: bool
) -> None:
    values = {"prs_per_week": 10, "reviewers": 2, "hours_per_pr": 1, "reviewer_hours_per_week": 10}
    values.update(override)
    answers = _dimension_scores(3, 3)
    if accepted:
        result = score_assessment(rubric=TINY, answers=answers, review_overrides=values, now=NOW)
        assert result.review.projection is not None
    else:
        with pytest.raises(ScoringInputError):
            score_assessment(rubric=TINY, answers=answers, review_overrides=values, now=NOW)


# --- 12. Delivery metrics (DORA) ------------------------------------------------------------


def test_time_buckets_switch_exactly_at_their_documented_upper_bounds() -> None:
    labels = [label for _limit, label in delivery.TIME_BUCKETS] + ["One year"]
    section = _section(12)
    for index, (limit, label) in enumerate(delivery.TIME_BUCKETS):
        assert delivery.time_bucket(limit - 1e-6) == label
        assert delivery.time_bucket(limit) == labels[index + 1]
        assert delivery.time_bucket(limit + 1e-6) == labels[index + 1]
        assert _documented(limit, section), f"section 12 does not give {limit:g} h"
    edges = _edges(delivery.time_bucket, 0.0, delivery.TIME_BUCKETS[-1][0] * 1.1, 20000)
    assert [round(x, 6) for x, _b, _a in edges] == [limit for limit, _ in delivery.TIME_BUCKETS]


def _failure_rule() -> tuple[float, float]:
    match = re.search(r"up to (\d+) % \"[^\"]+\"; under (\d+) %", _section(12))
    assert match, "docs/methodology.md section 12 no longer states the failure-rate buckets"
    return int(match.group(1)) / 100, int(match.group(2)) / 100


def test_change_failure_buckets_include_the_first_edge_and_exclude_the_second() -> None:
    up_to, under = _failure_rule()
    first, second, third = "0-15%", "16-45%", "46-60%"
    assert delivery.failure_bucket(up_to - 1e-9) == first
    assert delivery.failure_bucket(up_to) == first
    assert delivery.failure_bucket(up_to + 1e-9) == second
    assert delivery.failure_bucket(under - 1e-9) == second
    assert delivery.failure_bucket(under) == third
    assert delivery.failure_bucket(under + 1e-9) == third


def _frequency_rule() -> int:
    match = re.search(
        r"\*\*Daily\*\* when the median number of days .*? at least (\d+)", METHODOLOGY
    )
    assert match, "docs/methodology.md no longer states when deployment frequency is Daily"
    return int(match.group(1))


@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_deployment_frequency_is_daily_from_the_documented_days_per_week(offset: int) -> None:
    days = _frequency_rule() + offset
    today = pd.Timestamp(NOW).floor("D")
    # Twenty weeks of deployments on `days` days of every Sunday-start week, up to today.
    times = []
    for week in range(20):
        sunday = today - pd.Timedelta(days=(today.day_of_week + 1) % 7) - pd.Timedelta(weeks=week)
        times += [sunday + pd.Timedelta(days=d, hours=10) for d in range(days)]
    times = [t for t in times if t <= pd.Timestamp(NOW)]
    deployments = pd.DataFrame(
        {
            "id": [f"d{i}" for i in range(len(times))],
            "time": times,
            "status": "success",
            "shas": [[] for _ in times],
        }
    )
    data = delivery.DeliveryData(
        deployments=deployments,
        changes=pd.DataFrame(columns=["id", "time"]),
        incidents=pd.DataFrame(columns=["id", "created", "resolved", "deployment_id"]),
    )
    metrics = delivery.compute(data, now=NOW + timedelta(hours=1))
    assert metrics.deployment_frequency == ("Daily" if offset >= 0 else "Weekly")


def _disagreement_rule() -> float:
    match = re.search(
        r"\*\*the larger is at least (\d+(?:\.\d+)?) times\s+the\s+smaller\*\*", METHODOLOGY
    )
    assert match, "docs/methodology.md no longer states when records and answers disagree"
    return float(match.group(1))


@pytest.mark.parametrize(("offset", "disagree"), [(-1e-9, False), (0.0, True), (1e-9, True)])
def test_records_and_answers_disagree_from_the_documented_factor(
    offset: float, disagree: bool
) -> None:
    factor = _disagreement_rule()
    assert factor == delivery.DISAGREEMENT_FACTOR
    measured = 4.0
    answered = measured * (factor + offset)
    assert (delivery.disagreement(measured, answered) is not None) == disagree
    assert (delivery.disagreement(answered, measured) is not None) == disagree
