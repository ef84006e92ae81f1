"""What a gates file turns into, read afresh: every kind of requirement parsed into exactly the
requirement the evaluation reads, and every refusal at its place with its whole message.

The other gate tests read the shipped gates through the per-process cache, loaded once when
their module is imported; these parse text on each call, so a fault in the parser shows here
(found by `make mutate`: the parser's mutants survived every cached test)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scoring.autonomy import (
    GATES_DIR,
    Requirement,
    gates_path,
    gates_rubric_key,
    load_gates,
    load_gates_text,
)
from scoring.rubric import RubricError, get_rubric

RUBRIC = get_rubric("operationalization", 2)
HEAD = "rubric: operationalization-2\ngates:\n  - {id: a, title: A}\n"


def _gate(body: str) -> tuple[Requirement, ...]:
    gates = load_gates_text(f"{HEAD}  - id: b\n    title: ' B  '\n{body}", RUBRIC)
    assert [g.id for g in gates] == ["a", "b"]
    assert gates[1].title == "B"
    return gates[1].requires


def _issues(body: str) -> list[tuple[str, str]]:
    with pytest.raises(RubricError) as caught:
        load_gates_text(f"{HEAD}  - id: b\n    title: B\n{body}", RUBRIC, source="g.yaml")
    assert all(issue.file == "g.yaml" for issue in caught.value.issues)
    return [(issue.path, issue.message) for issue in caught.value.issues]


def test_every_kind_of_requirement_is_read_into_what_the_evaluation_checks() -> None:
    requires = _gate(
        "    requires: {rev.policy-ownership: 4, obs.agent-runs: 2}\n"
        "    requires_answers: {rev.review-integrity.independent: 3}\n"
        "    requires_evidence:\n"
        "      rev.policy-ownership: [github.branch-protection, github.required-reviews]\n"
        "    requires_review_headroom: {capability: rev.flow-capacity, max_utilisation: 0.8}\n"
        "    requires_track_record:\n"
        "      {capability: dep.ai-governance, fact: fact.months-at-current-autonomy, at_least: 6}\n"
    )
    question = RUBRIC.question("rev.review-integrity.independent")
    assert requires == (
        Requirement("rev.policy-ownership", 4),
        Requirement("obs.agent-runs", 2),
        Requirement(question.capability_id, 3, "answer", "rev.review-integrity.independent"),
        Requirement("rev.policy-ownership", 0, "evidence", "github.branch-protection"),
        Requirement("rev.policy-ownership", 0, "evidence", "github.required-reviews"),
        Requirement("rev.flow-capacity", 0, "review", "", 0.8),
        Requirement("dep.ai-governance", 0, "track-record", "fact.months-at-current-autonomy", 6.0),
    )
    assert all(type(r.level) is int for r in requires)


def test_a_gate_keeps_its_description_on_one_line() -> None:
    gates = load_gates_text(
        f"{HEAD}  - id: b\n    title: B\n    description: |\n      two\n        lines\n",
        RUBRIC,
    )
    assert gates[1].description == "two lines"
    assert gates[0].description == ""


def test_one_bad_entry_does_not_hide_the_good_ones_after_it() -> None:
    # Every problem is listed in one pass: a bad entry is skipped, not the rest of the map.
    assert _issues(
        "    requires_answers: {nope.a: 3, rev.review-integrity.independent: 0, nope.b: 2}\n"
    ) == [
        ("gates[1].requires_answers.nope.a", "unknown question"),
        ("gates[1].requires_answers.rev.review-integrity.independent", "level must be 1-5, not 0"),
        ("gates[1].requires_answers.nope.b", "unknown question"),
    ]
    assert _issues(
        "    requires_evidence: {nope.a: [x], rev.policy-ownership: [], obs.agent-runs: [1, x]}\n"
    ) == [
        ("gates[1].requires_evidence.nope.a", "unknown capability"),
        ("gates[1].requires_evidence.rev.policy-ownership",
         "must be a non-empty list of scan detector ids"),
        ("gates[1].requires_evidence.obs.agent-runs", "1 is not a detector id"),
    ]  # fmt: skip
    assert _issues(
        "    requires: {nope.a: 3, obs.agent-runs: true, rev.policy-ownership: 9}\n"
    ) == [
        ("gates[1].requires.nope.a", "unknown capability"),
        ("gates[1].requires.obs.agent-runs", "level must be 1-5, not True"),
        ("gates[1].requires.rev.policy-ownership", "level must be 1-5, not 9"),
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "    requires_answers: [rev.review-integrity.independent]\n",
            [("gates[1].requires_answers", "must map question ids to levels")],
        ),
        (
            "    requires_answers: {rev.review-integrity.independent: true}\n",
            [
                (
                    "gates[1].requires_answers.rev.review-integrity.independent",
                    "level must be 1-5, not True",
                )
            ],
        ),
        (
            "    requires_evidence: [github.branch-protection]\n",
            [
                (
                    "gates[1].requires_evidence",
                    "must map capability ids to lists of scan detector ids",
                )
            ],
        ),
        (
            "    requires_evidence: {rev.policy-ownership: github.branch-protection}\n",
            [
                (
                    "gates[1].requires_evidence.rev.policy-ownership",
                    "must be a non-empty list of scan detector ids",
                )
            ],
        ),
        (
            "    requires_evidence: {rev.policy-ownership: [Not-An-Id]}\n",
            [
                (
                    "gates[1].requires_evidence.rev.policy-ownership",
                    "'Not-An-Id' is not a detector id",
                )
            ],
        ),
        (
            "    requires_review_headroom: {capability: rev.flow-capacity}\n",
            [
                (
                    "gates[1].requires_review_headroom",
                    "must be {capability: <id>, max_utilisation: <0-1>}",
                )
            ],
        ),
        (
            "    requires_review_headroom: [rev.flow-capacity, 0.5]\n",
            [
                (
                    "gates[1].requires_review_headroom",
                    "must be {capability: <id>, max_utilisation: <0-1>}",
                )
            ],
        ),
        (
            "    requires_review_headroom: {capability: nope.a, max_utilisation: 0.5}\n",
            [("gates[1].requires_review_headroom.capability", "unknown capability")],
        ),
        (
            "    requires_review_headroom: {capability: rev.flow-capacity, max_utilisation: 1}\n",
            [
                (
                    "gates[1].requires_review_headroom.max_utilisation",
                    "must be a number between 0 and 1, not 1",
                )
            ],
        ),
        (
            "    requires_review_headroom: {capability: rev.flow-capacity, max_utilisation: 0}\n",
            [
                (
                    "gates[1].requires_review_headroom.max_utilisation",
                    "must be a number between 0 and 1, not 0",
                )
            ],
        ),
        (
            "    requires_review_headroom: {capability: rev.flow-capacity, max_utilisation: true}\n",
            [
                (
                    "gates[1].requires_review_headroom.max_utilisation",
                    "must be a number between 0 and 1, not True",
                )
            ],
        ),
        (
            "    requires_review_headroom: {capability: rev.flow-capacity, max_utilisation: '0.5'}\n",
            [
                (
                    "gates[1].requires_review_headroom.max_utilisation",
                    "must be a number between 0 and 1, not '0.5'",
                )
            ],
        ),
        (
            "    requires_track_record: {capability: dep.ai-governance, at_least: 3}\n",
            [
                (
                    "gates[1].requires_track_record",
                    "must be {capability: <id>, fact: <fact id>, at_least: <number>}",
                )
            ],
        ),
        (
            "    requires_track_record: [dep.ai-governance]\n",
            [
                (
                    "gates[1].requires_track_record",
                    "must be {capability: <id>, fact: <fact id>, at_least: <number>}",
                )
            ],
        ),
        (
            "    requires_track_record:\n"
            "      {capability: nope.a, fact: fact.months-at-current-autonomy, at_least: 3}\n",
            [("gates[1].requires_track_record.capability", "unknown capability")],
        ),
        (
            "    requires_track_record: {capability: dep.ai-governance, fact: nope, at_least: 3}\n",
            [("gates[1].requires_track_record.fact", "unknown fact question")],
        ),
        (
            "    requires_track_record:\n"
            "      {capability: dep.ai-governance, fact: fact.months-at-current-autonomy, at_least: 0}\n",
            [
                (
                    "gates[1].requires_track_record.at_least",
                    "must be a number the fact can reach, not 0",
                )
            ],
        ),
        (
            "    requires_track_record:\n"
            "      {capability: dep.ai-governance, fact: fact.months-at-current-autonomy,"
            " at_least: 121}\n",
            [
                (
                    "gates[1].requires_track_record.at_least",
                    "must be a number the fact can reach, not 121",
                )
            ],
        ),
        (
            "    requires_track_record:\n"
            "      {capability: dep.ai-governance, fact: fact.months-at-current-autonomy,"
            " at_least: true}\n",
            [
                (
                    "gates[1].requires_track_record.at_least",
                    "must be a number the fact can reach, not True",
                )
            ],
        ),
        (
            "    requires_track_record:\n"
            "      {capability: dep.ai-governance, fact: fact.months-at-current-autonomy,"
            " at_least: '3'}\n",
            [
                (
                    "gates[1].requires_track_record.at_least",
                    "must be a number the fact can reach, not '3'",
                )
            ],
        ),
    ],
)
def test_each_broken_requirement_is_refused_at_its_place(
    body: str, expected: list[tuple[str, str]]
) -> None:
    assert _issues(body) == expected


@pytest.mark.parametrize(("at_least", "level"), [(120, 120.0), (0.5, 0.5)])
def test_a_track_record_may_ask_for_anything_the_fact_can_reach(
    at_least: float, level: float
) -> None:
    (requirement,) = _gate(
        "    requires_track_record:\n"
        "      {capability: dep.ai-governance, fact: fact.months-at-current-autonomy,"
        f" at_least: {at_least}}}\n"
    )
    assert requirement.threshold == level


@pytest.mark.parametrize("ceiling", [0.01, 0.99])
def test_a_review_ceiling_just_inside_zero_and_one_is_accepted(ceiling: float) -> None:
    (requirement,) = _gate(
        f"    requires_review_headroom: {{capability: rev.flow-capacity, max_utilisation: {ceiling}}}\n"
    )
    assert requirement.threshold == ceiling


def test_the_file_level_problems_are_each_named() -> None:
    with pytest.raises(RubricError) as caught:
        load_gates_text("rubric: other-1\ncolour: red\ngates:\n  - 3\n", RUBRIC, source="g.yaml")
    assert [(i.path, i.message) for i in caught.value.issues] == [
        ("colour", "unknown key; gates files have rubric and gates"),
        ("rubric", "gates are for 'other-1', not 'operationalization-2'"),
        ("gates[0]", "must be a mapping"),
        ("gates", "define at least two gates"),
    ]
    with pytest.raises(RubricError) as caught:
        load_gates_text("gates: {a: 1}\n", RUBRIC, source="g.yaml")
    assert [(i.file, i.path, i.message) for i in caught.value.issues] == [
        ("g.yaml", "gates", "must be a list of gates")
    ]
    with pytest.raises(RubricError) as caught:
        load_gates_text("gates: [\n", RUBRIC, source="g.yaml")
    ((file, path, message),) = [(i.file, i.path, i.message) for i in caught.value.issues]
    assert (file, path) == ("g.yaml", "") and message.startswith("invalid YAML: ")


def test_a_gate_without_an_id_or_title_or_with_a_bad_requires_is_refused() -> None:
    with pytest.raises(RubricError) as caught:
        load_gates_text(
            f"{HEAD}  - {{id: B!, title: ' ', requires: [x]}}\n  - {{id: a, title: C}}\n", RUBRIC
        )
    assert [(i.path, i.message) for i in caught.value.issues] == [
        ("gates[1].id", "id 'B!' must be lower-case letters, digits and dashes"),
        ("gates[1].title", "must be non-empty text"),
        ("gates[1].requires", "must map capability ids to levels"),
        ("gates[2].id", "duplicate id 'a'"),
    ]


def test_the_shipped_gates_read_from_their_file_name_their_rubric(tmp_path: Path) -> None:
    path = gates_path(RUBRIC)
    assert path == GATES_DIR / "operationalization-2.yaml"
    assert gates_rubric_key(path) == "operationalization-2"
    gates = load_gates(path, RUBRIC)
    assert gates[0].id == "suggest-only" and gates[0].requires == ()
    kinds = {r.kind for g in gates for r in g.requires}
    assert kinds == {"capability", "answer", "evidence", "review", "track-record"}

    other = tmp_path / "g.yaml"
    other.write_text("gates: []\n", encoding="utf-8")
    assert gates_rubric_key(other) is None
    other.write_text("rubric: 2\ngates: []\n", encoding="utf-8")
    assert gates_rubric_key(other) is None
    other.write_text("[1, 2]\n", encoding="utf-8")
    assert gates_rubric_key(other) is None
    other.write_text("rubric: café-1\ngates: []\n", encoding="utf-8")
    assert gates_rubric_key(other) == "café-1"


def test_a_gates_file_that_cannot_be_read_is_named_in_the_refusal(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(RubricError) as caught:
        load_gates(missing, RUBRIC)
    ((issue),) = caught.value.issues
    assert issue.file == str(missing) and issue.path == ""
    assert issue.message.startswith("cannot read the file: ") and "nope.yaml" in issue.message
    utf8 = tmp_path / "g.yaml"
    utf8.write_text(
        "# Gates — für alle\nrubric: operationalization-2\n"
        "gates:\n  - {id: a, title: Ä}\n  - {id: b, title: B}\n",
        encoding="utf-8",
    )
    assert [g.title for g in load_gates(utf8, RUBRIC)] == ["Ä", "B"]


def test_each_kind_of_check_reports_what_it_read_and_what_it_needed() -> None:
    from scoring.autonomy import GateInputs, RequirementCheck, evaluate

    question = "rev.review-integrity.independent"
    fact = "fact.months-at-current-autonomy"
    gates = load_gates_text(
        f"{HEAD}  - id: b\n    title: B\n"
        f"    requires_answers: {{{question}: 3}}\n"
        "    requires_evidence: {rev.policy-ownership: [github.branch-protection, det.two]}\n"
        "    requires_review_headroom: {capability: rev.flow-capacity, max_utilisation: 0.8}\n"
        f"    requires_track_record: {{capability: dep.ai-governance, fact: {fact}, at_least: 6}}\n",
        RUBRIC,
    )
    inputs = GateInputs(
        answers={question: 3.5},
        evidence={"github.branch-protection": "found", "det.two": "absent"},
        review_utilisation=0.5,
        facts={fact: 7},
    )
    autonomy = evaluate(gates=gates, levels={}, inputs=inputs)
    assert autonomy is not None
    capability = RUBRIC.question(question).capability_id
    assert autonomy.steps[1].checks == (
        RequirementCheck(
            capability, 3, 3, 3, True, False, "answer", question,
            f"answers to \u201c{question}\u201d at level 3", 3.5,
        ),
        RequirementCheck(
            "rev.policy-ownership", 0, None, None, True, False, "evidence",
            "github.branch-protection", "a scan finds \u201cgithub.branch-protection\u201d", 1.0,
        ),
        RequirementCheck(
            "rev.policy-ownership", 0, None, None, False, False, "evidence", "det.two",
            "a scan finds \u201cdet.two\u201d (absent)", 0.0,
        ),
        RequirementCheck(
            "rev.flow-capacity", 0, None, None, True, False, "review", "",
            "review utilisation at the planned agent volume at most 80% (now 50%)", 0.5,
        ),
        RequirementCheck(
            "dep.ai-governance", 0, None, None, True, False, "track-record", fact,
            f"\u201c{fact}\u201d at least 6 (now 7)", 7,
        ),
    )  # fmt: skip


def test_unknown_keys_of_any_type_are_each_named() -> None:
    with pytest.raises(RubricError) as caught:
        load_gates_text(f"{HEAD}  - {{id: b, title: B, 7: x, colour: red}}\n", RUBRIC)
    assert [(i.path, i.message) for i in caught.value.issues] == [
        ("gates[1].7", "unknown key"),
        ("gates[1].colour", "unknown key"),
    ]
