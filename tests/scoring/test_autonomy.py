"""Agent autonomy gates: cumulative steps, what is missing for the next, validated data."""

from __future__ import annotations

import re

import pytest

from scoring.autonomy import GATES_PATH, evaluate, get_gates, load_gates_text
from scoring.rubric import RubricError, get_rubric
from tests.scoring.helpers import tiny_rubric

RUBRIC = get_rubric("operationalization", 1)
GATES = get_gates(RUBRIC)
EVERYTHING: dict[str, int | None] = {c.id: 5 for c in RUBRIC.capabilities}


def test_the_shipped_gates_climb_from_suggest_only_to_unattended() -> None:
    assert [g.id for g in GATES] == [
        "suggest-only",
        "pull-requests-with-review",
        "auto-merge-low-risk",
        "unattended-processes",
    ]
    assert not GATES[0].requires
    auto_merge = {r.capability_id: r.level for r in GATES[2].requires}
    # Auto-merge without a human needs trusted checks, enforced policy, fast rollback and
    # traceable agent runs.
    assert auto_merge["rev.automated-verification"] >= 4
    assert auto_merge["rev.policy-ownership"] >= 4
    assert auto_merge["dep.safe-release"] >= 3
    assert auto_merge["obs.agent-runs"] >= 3


def test_everything_at_five_grants_the_top_gate() -> None:
    top = evaluate(gates=GATES, levels=EVERYTHING)
    assert top is not None
    assert top.granted.id == GATES[-1].id and top.next_gate is None and not top.missing_for_next


def test_gates_are_cumulative_and_say_exactly_what_is_missing() -> None:
    levels = dict(EVERYTHING, **{"int.agent-identity": 2})
    result = evaluate(gates=GATES, levels=levels)
    assert result is not None
    assert result.granted.id == "suggest-only" and result.granted_index == 0
    assert result.next_gate is not None and result.next_gate.id == "pull-requests-with-review"
    assert [(m.capability_id, m.current, m.required) for m in result.missing_for_next] == [
        ("int.agent-identity", 2, 3)
    ]
    # A higher gate met on its own does not count while a lower one is not.
    assert result.steps[2].met and not result.steps[1].met


def test_exactly_at_the_required_level_meets_it() -> None:
    levels: dict[str, int | None] = {c.id: 1 for c in RUBRIC.capabilities}
    levels.update({r.capability_id: r.level for r in GATES[1].requires})
    result = evaluate(gates=GATES, levels=levels)
    assert result is not None and result.granted.id == "pull-requests-with-review"
    # The next step lists every unmet requirement of auto-merge with current and required.
    expected = [
        (r.capability_id, levels[r.capability_id], r.level)
        for r in GATES[2].requires
        if (levels[r.capability_id] or 0) < r.level
    ]
    assert [(m.capability_id, m.current, m.required) for m in result.missing_for_next] == expected


def test_missing_answers_do_not_meet_a_gate() -> None:
    result = evaluate(gates=GATES, levels={})
    assert result is not None and result.granted.id == "suggest-only"
    assert result.missing_for_next
    assert all(m.current is None for m in result.missing_for_next)


def test_a_rubric_without_gates_gets_none() -> None:
    assert get_gates(tiny_rubric()) == ()
    assert evaluate(gates=(), levels={}) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "gates:\n  - {id: a, title: A, requires: {}}\n"
            "  - {id: b, title: B, requires: {obs.nothing: 3}}\n",
            "gates[1].requires.obs.nothing: unknown capability",
        ),
        (
            "gates:\n  - {id: a, title: A, requires: {}}\n"
            "  - {id: b, title: B, requires: {obs.agent-runs: 7}}\n",
            "level must be 1-5",
        ),
        (
            "gates:\n  - {id: a, title: A, requires: {}}\n  - {id: a, title: B}\n",
            "duplicate id 'a'",
        ),
        (
            "gates:\n  - {id: a, title: A, requires: {obs.agent-runs: 2}}\n  - {id: b, title: B}\n",
            "the first gate is the baseline",
        ),
        ("gates:\n  - {id: a, title: A}\n", "define at least two gates"),
        (
            "gates:\n  - {id: a, title: A, colour: red}\n  - {id: b, title: B}\n",
            "gates[0].colour: unknown key",
        ),
        (
            "rubric: other-1\ngates:\n  - {id: a, title: A}\n  - {id: b, title: B}\n",
            "gates are for 'other-1'",
        ),
        ("gates:\n  - {id: a, title: A, title: B}\n", "duplicate key 'title'"),
    ],
)
def test_broken_gates_are_refused(text: str, message: str) -> None:
    with pytest.raises(RubricError, match=re.escape(message)):
        load_gates_text(text, RUBRIC, source="gates.yaml")


def test_the_shipped_file_names_its_rubric() -> None:
    assert "rubric: operationalization-1" in GATES_PATH.read_text()
