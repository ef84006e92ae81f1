"""score_assessment end to end: evidence, review, settings, caching hash."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from scoring.delivery import DeliveryData
from scoring.engine import ENGINE_VERSION, _source_fingerprint, inputs_hash, score_assessment
from scoring.errors import ScoringInputError
from scoring.evidence import EvidenceFinding
from scoring.recommendations import load_catalogue_text
from scoring.rubric import AUDIENCES, get_rubric
from tests.scoring.helpers import frame, tiny_rubric

RUBRIC = get_rubric("operationalization", 1)
NOW = datetime(2026, 11, 1, tzinfo=UTC)
BOT = "rev.policy-ownership.bot-bypass"


def _answers(level: int = 4) -> list[tuple[object, ...]]:
    rows = [(f"e{i}", "engineering", BOT, level) for i in range(3)]
    # Every review-wall fact from three people: fewer are not used (see test_review_*_few).
    facts = {
        "fact.prs-per-week": 120,
        "fact.active-reviewers": 20,
        "fact.review-hours-per-pr": 0.5,
        "fact.reviewer-hours-per-week": 6,
    }
    rows += [(f"e{i}", "engineering", f, v) for f, v in facts.items() for i in range(3)]
    return rows


def test_contradicting_evidence_is_registered_and_adjusts_the_score_beside_the_claim() -> None:
    evidence = [
        EvidenceFinding(
            "github.branch-protection",
            "rev.policy-ownership",
            "absent",
            3,
            "No branch protection on main",
            ("https://api.github.com/repos/acme/app/branches/main/protection",),
        ),
        EvidenceFinding(
            "repo.codeowners",
            "rev.policy-ownership",
            "absent",
            2,
            "No CODEOWNERS file",
            ("repo:CODEOWNERS",),
        ),
        EvidenceFinding(
            "github.ruleset-bypass-bots",
            "rev.policy-ownership",
            "unknown",
            3,
            "Could not read rulesets",
        ),
    ]
    result = score_assessment(rubric=RUBRIC, answers=frame(_answers(4)), evidence=evidence, now=NOW)
    cap = next(c for c in result.capabilities if c.id == "rev.policy-ownership")
    assert cap.score == 75.0  # the self-reported score is never changed by evidence
    assert (cap.evidence.verdict, cap.evidence.direction) == ("contradicts", "overclaim")
    assert cap.evidence.evidence_score == 0.0
    # coverage 5/6 -> evidence weight 5/12: 75 * 7/12 = 43.75
    assert cap.evidence.adjusted_score == pytest.approx(43.75)
    assert result.contradictions == ("rev.policy-ownership",)
    (entry,) = result.evidence_register
    assert (entry.capability_id, entry.direction, entry.claim_score, entry.evidence_score) == (
        "rev.policy-ownership",
        "overclaim",
        75.0,
        0.0,
    )
    # The register lists the findings that contradict the claim, strongest first, with
    # their pointers; the undeterminable one is not among them.
    assert [(f.detector, f.pointers) for f in entry.findings] == [
        (
            "github.branch-protection",
            ("https://api.github.com/repos/acme/app/branches/main/protection",),
        ),
        ("repo.codeowners", ("repo:CODEOWNERS",)),
    ]
    # Contradicting evidence lowers confidence: rwg 1, 3 respondents, no unknowns gives
    # 0.4*0.6 + 0.3 + 0.3 = 0.84, then x (1 - 0.3 * 5/6) = 0.63.
    assert cap.confidence == pytest.approx(0.63)
    assert any(i.id == "rec.rev.enforce-human-review" and i.bucket == "now" for i in result.roadmap)
    others = [c for c in result.capabilities if c.id != "rev.policy-ownership"]
    assert all(c.evidence.verdict == "unverifiable" for c in others)


def test_without_evidence_everything_is_unverifiable_and_adjusted_equals_claimed() -> None:
    result = score_assessment(rubric=RUBRIC, answers=frame(_answers()), now=NOW)
    for c in result.capabilities:
        assert c.evidence.verdict == "unverifiable"
        assert c.evidence.adjusted_score == c.score
    for d in result.dimensions:
        assert d.adjusted_score == d.score
    assert result.readiness.adjusted_score == result.readiness.score
    assert result.evidence_register == () and result.contradictions == ()


def _everyone_answers(level: int, *, unsure: str = "") -> pd.DataFrame:
    """Three people per role answer every question at `level`; on capability `unsure` all but
    one engineer say "don't know"."""
    rows: list[tuple[object, ...]] = []
    for role in AUDIENCES:
        for i in range(3):
            for q in RUBRIC.questions_for(role):
                lone = role == "engineering" and i == 0
                value = "dk" if q.capability_id == unsure and not lone else level
                rows.append((f"{role}{i}", role, q.id, value))
    return frame(rows)


POLICY_OVERCLAIM = [
    EvidenceFinding("github.branch-protection", "rev.policy-ownership", "absent", 3, "No rules"),
    EvidenceFinding("repo.codeowners", "rev.policy-ownership", "absent", 2, "No CODEOWNERS"),
]


def test_an_overclaim_refuted_by_evidence_no_longer_unlocks_autonomy() -> None:
    claimed = score_assessment(rubric=RUBRIC, answers=_everyone_answers(4), now=NOW).autonomy
    assert claimed is not None and claimed.granted.id == "unattended-processes"
    # Review policy is claimed at level 4 (75), but the scans find neither branch rules nor
    # code owners: adjusted 43.75, level 2, below the 3 that pull requests with review need.
    refuted = score_assessment(
        rubric=RUBRIC, answers=_everyone_answers(4), evidence=POLICY_OVERCLAIM, now=NOW
    ).autonomy
    assert refuted is not None
    assert refuted.granted.id == "suggest-only"
    assert refuted.next_gate is not None and refuted.next_gate.id == "pull-requests-with-review"
    assert [
        (m.capability_id, m.current, m.required, m.claimed) for m in refuted.missing_for_next
    ] == [("rev.policy-ownership", 2, 3, 4)]
    check = next(c for c in refuted.steps[1].checks if c.capability_id == "rev.policy-ownership")
    assert (check.current, check.claimed, check.met) == (2, 4, False)


def test_underclaims_never_raise_the_level_autonomy_reads() -> None:
    found = [
        EvidenceFinding(f.detector, f.capability, "found", f.strength, f.title)
        for f in POLICY_OVERCLAIM
    ]
    result = score_assessment(rubric=RUBRIC, answers=_everyone_answers(1), evidence=found, now=NOW)
    assert result.autonomy is not None and result.autonomy.granted.id == "suggest-only"
    shortfall = next(
        m for m in result.autonomy.missing_for_next if m.capability_id == "rev.policy-ownership"
    )
    assert (shortfall.current, shortfall.claimed) == (1, None)


def test_a_step_met_only_on_low_confidence_answers_is_marked() -> None:
    result = score_assessment(
        rubric=RUBRIC, answers=_everyone_answers(4, unsure="rev.policy-ownership"), now=NOW
    )
    autonomy = result.autonomy
    assert autonomy is not None and autonomy.granted.id == "unattended-processes"
    # Review policy rests on one engineer's answers: every step that needs it is marked.
    marked = [s.gate.id for s in autonomy.steps if s.low_confidence]
    assert marked == ["pull-requests-with-review", "auto-merge-low-risk"]
    check = next(c for c in autonomy.steps[1].checks if c.capability_id == "rev.policy-ownership")
    assert check.met and check.low_confidence


def test_review_projection_comes_from_fact_medians() -> None:
    result = score_assessment(rubric=RUBRIC, answers=frame(_answers()), now=NOW)
    projection = result.review.projection
    assert projection is not None
    assert projection.saturation_multiplier == pytest.approx(2.0)  # 20 x 6/0.5 = 240 vs 120
    assert result.review.source == "survey"


def test_review_needs_all_four_inputs_and_says_which_are_missing() -> None:
    rows = [r for r in _answers() if r[2] != "fact.active-reviewers"]
    review = score_assessment(rubric=RUBRIC, answers=frame(rows), now=NOW).review
    assert review.projection is None and review.missing == ("reviewers",)


def test_review_overrides_win_over_the_survey() -> None:
    result = score_assessment(
        rubric=RUBRIC,
        answers=frame(_answers()),
        review_overrides={"reviewers": 10, "agent_prs_12m": 120, "hours_to_first_review": 30},
        now=NOW,
    )
    projection = result.review.projection
    assert projection is not None and result.review.source == "overrides"
    # 10 reviewers x 12 PRs/week = 120 = today's volume: the wall is at 1x.
    assert projection.saturation_multiplier == pytest.approx(1.0)
    assert projection.inputs.observed_hours_to_first_review == 30
    # 120 agent PRs at the default one extra review round each: 120 + 2 x 120 = 3x today's load.
    assert [s.multiplier for s in projection.planned] == [3.0]


def test_a_median_reviewer_count_ending_in_half_rounds_up() -> None:
    rows = [r for r in _answers() if r[2] != "fact.active-reviewers"]
    rows += [(f"e{i}", "engineering", "fact.active-reviewers", 2 + i // 2) for i in range(4)]
    projection = score_assessment(rubric=RUBRIC, answers=frame(rows), now=NOW).review.projection
    assert projection is not None and projection.inputs.reviewers == 3


def test_review_overrides_are_validated() -> None:
    with pytest.raises(ScoringInputError, match="reviewers must be a whole number"):
        score_assessment(
            rubric=RUBRIC, answers=frame(_answers()), review_overrides={"reviewers": 0}, now=NOW
        )
    with pytest.raises(ScoringInputError, match="unknown review input"):
        score_assessment(
            rubric=RUBRIC, answers=frame(_answers()), review_overrides={"coffee": 1}, now=NOW
        )
    with pytest.raises(ScoringInputError, match="reviewers must be a whole number"):
        score_assessment(
            rubric=RUBRIC, answers=frame(_answers()), review_overrides={"reviewers": 2.5}, now=NOW
        )
    with pytest.raises(ScoringInputError, match="PRs per week must be above 0"):
        score_assessment(
            rubric=RUBRIC,
            answers=frame(_answers()),
            review_overrides={"prs_per_week": 1_000_000},
            now=NOW,
        )


def test_zero_prs_a_week_from_the_survey_skips_the_wall_with_a_warning() -> None:
    rows = [r for r in _answers() if r[2] != "fact.prs-per-week"]
    rows += [(f"e{i}", "engineering", "fact.prs-per-week", 0) for i in range(3)]
    result = score_assessment(rubric=RUBRIC, answers=frame(rows), now=NOW)
    assert result.review.projection is None and result.review.missing == ("prs_per_week",)
    assert any("above zero" in w for w in result.warnings)


def test_review_facts_from_fewer_than_three_people_leave_no_wall_and_say_so() -> None:
    # Groups of three or more, in every output: the wall prints its inputs (pull requests a
    # week, reviewers), so one person's number would be shown as the organisation's.
    rows = [r for r in _answers() if r[2] != "fact.prs-per-week"]
    rows += [("e0", "engineering", "fact.prs-per-week", 7919)]
    result = score_assessment(rubric=RUBRIC, answers=frame(rows), now=NOW)
    review = result.review
    assert review.projection is None
    assert dict(review.too_few) == {"prs_per_week": 1} and review.missing == ()
    assert "7919" not in json.dumps(result.to_dict())
    # Three answers draw it.
    rows += [(f"e{i}", "engineering", "fact.prs-per-week", 120) for i in (1, 2)]
    review = score_assessment(rubric=RUBRIC, answers=frame(rows), now=NOW).review
    assert review.projection is not None and not review.too_few
    # An explicit figure for the assessment needs no answers.
    rows = [r for r in rows if r[2] != "fact.prs-per-week" or r[0] == "e0"]
    review = score_assessment(
        rubric=RUBRIC, answers=frame(rows), review_overrides={"prs_per_week": 120}, now=NOW
    ).review
    assert review.projection is not None and not review.too_few


def test_review_optional_facts_from_fewer_than_three_people_are_left_out() -> None:
    rows = _answers() + [
        ("e0", "engineering", "fact.hours-to-first-review", 1913),
        ("e1", "engineering", "fact.hours-to-first-review", 1931),
        ("e0", "engineering", "fact.ai-authored-share", 37),
        ("e0", "engineering", "fact.agent-prs-per-week-6m", 7877),
    ]
    result = score_assessment(rubric=RUBRIC, answers=frame(rows), now=NOW)
    review = result.review
    assert review.projection is not None
    inputs = review.projection.inputs
    assert inputs.observed_hours_to_first_review is None and inputs.agent_prs_6m is None
    assert review.projection.reconciliation is None and not review.projection.planned
    assert inputs.agent is not None and inputs.agent.share == 0
    assert inputs.agent.sources["agent_share"] == "assumption"
    assert dict(review.too_few) == {
        "hours_to_first_review": 2,
        "agent_share": 1,
        "agent_prs_6m": 1,
    }
    plain = json.dumps(result.to_dict())
    assert not any(n in plain for n in ("1913", "1931", "1922", "7877"))


def test_inputs_hash_ignores_row_order_and_notices_a_changed_answer() -> None:
    answers = frame(_answers())
    first = inputs_hash(rubric=RUBRIC, answers=answers)
    assert first == inputs_hash(rubric=RUBRIC, answers=answers.iloc[::-1].reset_index(drop=True))
    changed = answers.copy()
    changed.loc[0, "level"] = 1
    assert inputs_hash(rubric=RUBRIC, answers=changed) != first
    assert inputs_hash(rubric=RUBRIC, answers=answers, targets={"review": 5}) != first
    assert inputs_hash(rubric=RUBRIC, answers=answers, weights={"review": 2}) != first
    assert inputs_hash(rubric=RUBRIC, answers=answers, review_overrides={"reviewers": 3}) != first
    assert first != inputs_hash(rubric=tiny_rubric(), answers=answers)
    assert ENGINE_VERSION.startswith("1.1+")


def test_the_engine_version_is_the_fingerprint_of_the_engines_files_now() -> None:
    # Stored results are keyed by ENGINE_VERSION (fixed at import): computing the fingerprint
    # again from the same files gives the same ten hex digits, so any change to how it is
    # computed, or to the files it reads, shows as a changed version.
    fingerprint = _source_fingerprint()
    assert f"1.1+{fingerprint}" == ENGINE_VERSION
    assert len(fingerprint) == 10 and int(fingerprint, 16) >= 0


def test_inputs_hash_canonicalises_equivalent_values() -> None:
    answers = frame(_answers())
    as_float = answers.astype({"level": "float64"})
    as_object = answers.astype({"level": "object"})
    first = inputs_hash(rubric=RUBRIC, answers=answers, weights={"review": 2})
    assert inputs_hash(rubric=RUBRIC, answers=as_float, weights={"review": 2.0}) == first
    assert inputs_hash(rubric=RUBRIC, answers=as_object, weights={"review": 2}) == first


def test_inputs_hash_covers_evidence_delivery_day_and_a_custom_catalogue() -> None:
    answers = frame(_answers())
    base = inputs_hash(rubric=RUBRIC, answers=answers, now=NOW)
    assert base == inputs_hash(rubric=RUBRIC, answers=answers, now=NOW + timedelta(days=3))
    finding = EvidenceFinding("repo.codeowners", "rev.policy-ownership", "absent", 2, "No file")
    assert inputs_hash(rubric=RUBRIC, answers=answers, evidence=[finding]) != base
    delivery = DeliveryData(
        pd.DataFrame([{"id": "d", "time": NOW, "status": "success", "shas": ["a"]}])
    )
    today = inputs_hash(rubric=RUBRIC, answers=answers, delivery=delivery, now=NOW)
    assert today != base
    later = NOW + timedelta(hours=5)
    assert today == inputs_hash(rubric=RUBRIC, answers=answers, delivery=delivery, now=later)
    tomorrow = NOW + timedelta(days=1)
    assert today != inputs_hash(rubric=RUBRIC, answers=answers, delivery=delivery, now=tomorrow)
    catalogue = load_catalogue_text(CUSTOM_CATALOGUE, RUBRIC)
    assert inputs_hash(rubric=RUBRIC, answers=answers, recommendations=catalogue) != base


def test_inputs_hash_ignores_the_column_order_of_delivery_exports() -> None:
    # The same export saved by another tool lists its columns in another order: same result.
    answers = frame(_answers())
    rows = [
        {"id": "d1", "time": NOW, "status": "success", "shas": ["a"]},
        {"id": "d2", "time": NOW, "status": "failure", "shas": ["b"]},
    ]
    deployments = pd.DataFrame(rows)
    reordered = deployments[list(reversed(deployments.columns))]
    first = inputs_hash(rubric=RUBRIC, answers=answers, delivery=DeliveryData(deployments))
    again = inputs_hash(rubric=RUBRIC, answers=answers, delivery=DeliveryData(reordered))
    assert first == again
    changed = deployments.assign(status=["success", "success"])
    assert inputs_hash(rubric=RUBRIC, answers=answers, delivery=DeliveryData(changed)) != first


def test_answers_without_the_expected_columns_are_refused_by_name() -> None:
    with pytest.raises(ScoringInputError) as caught:
        inputs_hash(rubric=RUBRIC, answers=frame(_answers()).drop(columns=["role", "number"]))
    assert caught.value.problems == ("answers lack the column(s): role, number",)


CUSTOM_CATALOGUE = """recommendations:
  - id: rec.custom
    title: Custom
    capability: rev.policy-ownership
    trigger: [{capability_below: 5}]
    why: Because.
    steps: [One., Two., Three.]
    impact: 2
    effort: 1
"""


def test_a_custom_catalogue_replaces_the_shipped_one() -> None:
    catalogue = load_catalogue_text(CUSTOM_CATALOGUE, RUBRIC)
    result = score_assessment(
        rubric=RUBRIC, answers=frame(_answers()), recommendations=catalogue, now=NOW
    )
    assert [i.id for i in result.roadmap] == ["rec.custom"]


def test_a_small_custom_rubric_scores_without_catalogue_or_gates() -> None:
    rubric = tiny_rubric()
    rows = [(f"p{i}", "product", "a.x.q1", 2 + i) for i in range(3)]
    result = score_assessment(rubric=rubric, answers=frame(rows), now=NOW)
    assert result.rubric_key == "tiny-1"
    a = next(d for d in result.dimensions if d.id == "a")
    assert a.score == pytest.approx(50.0)  # a.x: median(2, 3, 4) = 3 -> 50; a.y unanswered
    assert result.roadmap == () and result.autonomy is None
    assert any("No recommendations catalogue" in w for w in result.warnings)


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({"a.x": 0, "a.y": 0}, "no capability of a with weight above 0"),
        ({"a": 0, "b": 0}, "no dimension with weight above 0"),
    ],
)
def test_weights_that_leave_nothing_to_score_are_refused(
    weights: dict[str, float], message: str
) -> None:
    with pytest.raises(ScoringInputError, match=message):
        score_assessment(rubric=tiny_rubric(), answers=frame([]), weights=weights, now=NOW)


def test_a_dimension_weighted_zero_is_neither_averaged_nor_the_weakest_link() -> None:
    rubric = tiny_rubric()
    rows = [("p", "product", "a.x.q1", 4), ("p", "product", "a.y.q1", 4)]
    rows += [("p", "product", "b.x.q1", 1)]
    plain = score_assessment(rubric=rubric, answers=frame(rows), now=NOW).readiness
    # a: 75, b: 0 -> mean 37.5, limited to 0 + 25 = 25 by b.
    assert (plain.weighted_mean, plain.score, plain.limiting_dimension_id) == (37.5, 25.0, "b")
    ignored = score_assessment(
        rubric=rubric, answers=frame(rows), weights={"b": 0}, now=NOW
    ).readiness
    assert (ignored.weighted_mean, ignored.score, ignored.limiting_dimension_id) == (
        75.0,
        75.0,
        "a",
    )


def test_a_naive_now_is_refused() -> None:
    with pytest.raises(ScoringInputError, match="timezone-aware"):
        score_assessment(rubric=RUBRIC, answers=frame([]), now=datetime(2026, 11, 1))


def test_delivery_metrics_join_the_result() -> None:
    deployments = pd.DataFrame(
        [
            {"id": f"d{k}", "time": NOW - timedelta(days=k), "status": "success", "shas": [f"c{k}"]}
            for k in range(1, 30)
        ]
    )
    changes = pd.DataFrame(
        [{"sha": f"c{k}", "time": NOW - timedelta(days=k, hours=3)} for k in range(1, 30)]
    )
    result = score_assessment(
        rubric=RUBRIC,
        answers=frame(_answers()),
        delivery=DeliveryData(deployments, changes),
        now=NOW,
    )
    assert result.delivery is not None
    assert result.delivery.deployment_frequency == "Daily"
    assert result.delivery.lead_time_hours == pytest.approx(3)
