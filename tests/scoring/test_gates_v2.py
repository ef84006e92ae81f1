"""Version 2 autonomy gates: requirements that cannot be averaged away, checked at their
boundaries, and a gates file that says what "low risk" may never include."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from scoring.autonomy import GateInputs, evaluate, get_gates, load_gates_text
from scoring.rubric import RubricError, get_rubric

RUBRIC = get_rubric("operationalization", 2)
GATES = get_gates(RUBRIC)
IDS = [g.id for g in GATES]


def _everything(
    *,
    levels: Mapping[str, int | None] | None = None,
    answers: Mapping[str, float | None] | None = None,
    evidence: Mapping[str, str] | None = None,
    utilisation: float | None = 0.5,
    months: float | None = 12,
) -> tuple[dict[str, int | None], GateInputs]:
    """An organisation at 5 everywhere, every control seen by a scan, with overrides."""
    all_levels: dict[str, int | None] = {c.id: 5 for c in RUBRIC.capabilities}
    all_levels.update(levels or {})
    all_answers: dict[str, float | None] = {q.id: 5.0 for q in RUBRIC.questions}
    all_answers.update(answers or {})
    detectors = {r.subject for g in GATES for r in g.requires if r.kind == "evidence"}
    all_evidence = dict.fromkeys(detectors, "found")
    all_evidence.update(evidence or {})
    inputs = GateInputs(
        answers=all_answers,
        evidence=all_evidence,
        review_utilisation=utilisation,
        facts={"fact.months-at-current-autonomy": months},
        question_texts={q.id: q.text for q in RUBRIC.questions},
    )
    return all_levels, inputs


def _granted(**overrides: object) -> str:
    levels, inputs = _everything(**overrides)  # type: ignore[arg-type]
    autonomy = evaluate(gates=GATES, levels=levels, inputs=inputs)
    assert autonomy is not None
    return autonomy.granted.id


def test_the_ladder_splits_merging_code_from_running_processes_unattended() -> None:
    assert IDS == [
        "suggest-only",
        "pull-requests-with-review",
        "auto-merge-low-risk",
        "supervised-processes",
        "unattended-processes",
    ]
    assert _granted() == "unattended-processes"


@pytest.mark.parametrize(
    ("question", "required", "gate_below"),
    [
        # A second person approves: below 3, agents may not even open pull requests for review.
        ("rev.review-integrity.independent", 3, "suggest-only"),
        ("int.agent-security.untrusted-input", 3, "suggest-only"),
        ("rev.policy-ownership.bot-bypass", 3, "suggest-only"),
        # The checks are the review on low-risk paths.
        ("rev.automated-verification.checks", 4, "pull-requests-with-review"),
        # Kill switch, cost caps and hand-over come before work nobody approves step by step.
        ("dep.agent-containment.kill-switch", 3, "pull-requests-with-review"),
        ("obs.agent-runs.cost", 3, "auto-merge-low-risk"),
        ("dep.agent-containment.hand-over", 3, "auto-merge-low-risk"),
        # Reversible runs before unattended ones.
        ("dep.agent-containment.undo", 4, "supervised-processes"),
        ("dep.agent-containment.drills", 4, "supervised-processes"),
    ],
)
def test_one_safety_critical_answer_below_its_minimum_blocks_whatever_else_is_high(
    question: str, required: int, gate_below: str
) -> None:
    # At the highest minimum any gate sets every gate holds; half a level under the lowest
    # minimum the gate that sets it does not, even with every capability, including this
    # question's own, at 5.
    highest = max(r.level for g in GATES for r in g.requires if r.subject == question)
    assert _granted(answers={question: float(highest)}) == "unattended-processes"
    assert _granted(answers={question: required - 0.5}) == gate_below
    assert _granted(answers={question: None}) == gate_below


@pytest.mark.parametrize(
    ("capability", "required", "gate_below"),
    [
        ("rev.review-integrity", 3, "suggest-only"),
        ("int.agent-security", 4, "pull-requests-with-review"),
        ("dep.agent-containment", 3, "pull-requests-with-review"),
        ("dep.agent-containment", 4, "supervised-processes"),
        ("int.model-data", 3, "suggest-only"),
    ],
)
def test_a_required_capability_one_level_short_blocks_its_gate(
    capability: str, required: int, gate_below: str
) -> None:
    assert IDS.index(_granted(levels={capability: required})) > IDS.index(gate_below)
    assert _granted(levels={capability: required - 1}) == gate_below
    assert _granted(levels={capability: None}) == _granted(levels={capability: 1})


@pytest.mark.parametrize("status", ["absent", "unknown", None])
def test_a_control_a_scan_can_see_must_have_been_seen(status: str | None) -> None:
    # Branch protection claimed at 5 but absent, undetermined or never scanned: no gate.
    evidence = {"github.branch-protection": status} if status else {}
    levels, inputs = _everything()
    assert inputs.evidence is not None
    merged = {k: v for k, v in inputs.evidence.items() if k != "github.branch-protection"}
    merged.update(evidence)  # type: ignore[arg-type]
    autonomy = evaluate(
        gates=GATES,
        levels=levels,
        inputs=GateInputs(
            answers=inputs.answers,
            evidence=merged,
            review_utilisation=0.5,
            facts=inputs.facts,
        ),
    )
    assert autonomy is not None and autonomy.granted.id == "suggest-only"
    (shortfall,) = autonomy.missing_for_next
    assert shortfall.kind == "evidence" and shortfall.subject == "github.branch-protection"
    assert shortfall.capability_id == "rev.policy-ownership"


def test_review_needs_spare_capacity_at_the_planned_agent_volume() -> None:
    assert _granted(utilisation=0.8) == "unattended-processes"  # the ceiling itself holds
    assert _granted(utilisation=0.81) == "suggest-only"
    assert _granted(utilisation=None) == "suggest-only"  # no review figures, no review gate


def test_each_step_needs_a_track_record_at_the_step_below() -> None:
    assert _granted(months=6) == "unattended-processes"
    assert _granted(months=5) == "supervised-processes"
    assert _granted(months=3) == "supervised-processes"
    assert _granted(months=2) == "pull-requests-with-review"
    assert _granted(months=None) == "pull-requests-with-review"


def test_next_gate_lists_each_kind_of_shortfall_with_a_readable_label() -> None:
    levels, inputs = _everything(answers={"rev.review-integrity.independent": 2.0})
    autonomy = evaluate(gates=GATES, levels=levels, inputs=inputs)
    assert autonomy is not None
    (shortfall,) = autonomy.missing_for_next
    assert shortfall.kind == "answer" and shortfall.required == 3 and shortfall.current == 2
    assert "Who may approve an agent" in shortfall.label


def test_low_risk_paths_never_include_what_keeps_auto_merge_safe() -> None:
    description = GATES[IDS.index("auto-merge-low-risk")].description
    low_risk, never = description.split("Tests,", 1)
    for path in ("tests", "CI configuration", "code owner", "dependency manifests"):
        assert path.lower() not in low_risk.lower().replace("tests,", "")
        assert path.lower() in ("tests," + never).lower()


def test_the_anchor_gate_3_reads_allows_what_gate_3_grants() -> None:
    # Version 1's level 4 demanded human approval of every bot change, which auto-merge on
    # low-risk paths contradicts; version 2's level 4 carves those paths out.
    anchor = RUBRIC.question("rev.policy-ownership.bot-bypass").levels[4]
    assert "low risk" in anchor
    auto = GATES[IDS.index("auto-merge-low-risk")]
    assert any(
        r.capability_id == "rev.policy-ownership" and r.level == 4 and r.kind == "capability"
        for r in auto.requires
    )


@pytest.mark.parametrize(
    ("snippet", "message"),
    [
        ("requires_answers: {nope.question: 3}", "unknown question"),
        ("requires_answers: {rev.review-integrity.independent: 6}", "level must be 1-5"),
        ("requires_evidence: {rev.policy-ownership: []}", "non-empty list"),
        (
            "requires_review_headroom: {capability: rev.flow-capacity, max_utilisation: 1.2}",
            "between 0 and 1",
        ),
        (
            "requires_track_record: {capability: dep.ai-governance, fact: fact.nope, at_least: 3}",
            "unknown fact",
        ),
    ],
)
def test_broken_requirements_are_refused_with_their_place(snippet: str, message: str) -> None:
    text = (
        "rubric: operationalization-2\ngates:\n  - {id: a, title: A, requires: {}}\n"
        f"  - id: b\n    title: B\n    {snippet}\n"
    )
    with pytest.raises(RubricError) as caught:
        load_gates_text(text, RUBRIC)
    assert message in str(caught.value)
    assert "gates[1]" in str(caught.value)
