"""What a recommendations catalogue turns into, parsed from text on each call: every field and
every kind of trigger condition read exactly, every refusal at its place with its message.

The roadmap tests read the shipped catalogue through the per-process cache, loaded once when
their modules are imported; these parse text, so a fault in the parser shows here (found by
`make mutate`: the parser's mutants survived every cached test)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scoring.recommendations import (
    Catalogue,
    Condition,
    Recommendation,
    load_catalogue,
    load_catalogue_text,
)
from scoring.rubric import RubricError, get_rubric

RUBRIC = get_rubric("operationalization", 2)
STEPS = "[One step., Two  steps., Three.]"


def _entry(rid: str = "a.one", **fields: str) -> str:
    base = {
        "id": rid,
        "title": "' A title '",
        "capability": "rev.policy-ownership",
        "trigger": "[{capability_below: 3}]",
        "why": "Because.",
        "steps": STEPS,
        "impact": "2",
        "effort": "1",
        # Version 2 requires the planning fields; each test overrides what it checks.
        "first_30_days": "Started.",
        "done_when": "Done.",
        "owner_role": "Platform lead",
        "effort_weeks": "1",
        "raises_to": "3",
        "unlocks": "pull-requests-with-review",
    }
    base.update(fields)
    lines = [f"    {key}: {value}" for key, value in base.items() if value != "-"]
    return "  -\n" + "\n".join(lines) + "\n"


def _load(*entries: str, head: str = "rubric: operationalization-2\n") -> Catalogue:
    return load_catalogue_text(head + "recommendations:\n" + "".join(entries), RUBRIC, "c.yaml")


def _issues(*entries: str, head: str = "rubric: operationalization-2\n") -> list[tuple[str, str]]:
    with pytest.raises(RubricError) as caught:
        _load(*entries, head=head)
    assert all(issue.file == "c.yaml" for issue in caught.value.issues)
    return [(issue.path, issue.message) for issue in caught.value.issues]


def test_every_field_and_every_condition_is_read_exactly() -> None:
    catalogue = _load(
        _entry("a.base"),
        _entry(
            "a.full",
            trigger=(
                "[{capability_below: 5}, {dimension_below: {dimension: review, level: 2}},"
                " {answer_at_most: {question: rev.review-integrity.independent, level: 4}},"
                " {fact_at_least: {fact: fact.prs-per-week, value: 0}},"
                " {fact_at_most: {fact: fact.review-hours-per-pr, value: 40}},"
                " {contradiction: true}, {review_saturates_below: 1.5}, {no_data: true}]"
            ),
            why="'Two\n      lines.'",
            impact="3",
            effort="2",
            prerequisites="[a.base]",
            first_30_days="' A  start. '",
            done_when="Done.",
            owner_role="'Head  of platform'",
            effort_weeks="0.5",
            raises_to="3",
        ),
        head="rubric: operationalization-2\nordering: gates\n",
    )
    assert catalogue.rubric_key == "operationalization-2"
    assert catalogue.ordering == "gates"
    assert catalogue.items["a.full"] == Recommendation(
        id="a.full",
        title="A title",
        capability_id="rev.policy-ownership",
        trigger=(
            Condition("capability_below", 5),
            Condition("dimension_below", {"dimension": "review", "level": 2}),
            Condition("answer_at_most", 4, "rev.review-integrity.independent"),
            Condition("fact_at_least", 0.0, "fact.prs-per-week"),
            Condition("fact_at_most", 40.0, "fact.review-hours-per-pr"),
            Condition("contradiction", True),
            Condition("review_saturates_below", 1.5),
            Condition("no_data", True),
        ),
        why="Two lines.",
        steps=("One step.", "Two steps.", "Three."),
        impact=3,
        effort=2,
        prerequisites=("a.base",),
        first_30_days="A start.",
        done_when="Done.",
        owner_role="Head of platform",
        effort_weeks=0.5,
        raises_to=3,
        unlocks="pull-requests-with-review",
    )
    base = catalogue.items["a.base"]
    assert (base.first_30_days, base.done_when, base.owner_role) == (
        "Started.",
        "Done.",
        "Platform lead",
    )
    assert (base.effort_weeks, base.raises_to, base.prerequisites) == (1, 3, ())
    assert _load(_entry()).ordering == "value"


@pytest.mark.parametrize(
    ("trigger", "expected"),
    [
        ("[]", [("", "must be a non-empty list of conditions (any one triggers)")]),
        (
            "[{capability_below: 3, no_data: true}, [x], {nope: 1}]",
            [
                ("[0]", "each condition is a mapping with exactly one key"),
                ("[1]", "each condition is a mapping with exactly one key"),
                (
                    "[2].nope",
                    "unknown condition; use one of answer_at_most, capability_below,"
                    " contradiction, dimension_below, fact_at_least, fact_at_most, no_data,"
                    " review_saturates_below",
                ),
            ],
        ),
        (
            "[{nope: 1}, {no_data: 1}]",
            [
                (
                    "[0].nope",
                    "unknown condition; use one of answer_at_most, capability_below,"
                    " contradiction, dimension_below, fact_at_least, fact_at_most, no_data,"
                    " review_saturates_below",
                ),
                ("[1].no_data", "must be true"),
            ],
        ),
        (
            "[{capability_below: 0}, {review_saturates_below: x}, {capability_below: 1},"
            " {capability_below: 6}, {review_saturates_below: 0.5}]",
            [
                ("[0].capability_below", "must be a positive number, not 0"),
                ("[1].review_saturates_below", "must be a positive number, not 'x'"),
                ("[2].capability_below", "must be a level from 2 to 5, not 1"),
                ("[3].capability_below", "must be a level from 2 to 5, not 6"),
            ],
        ),
        (
            "[{dimension_below: {dimension: nope, level: 3}},"
            " {dimension_below: {dimension: review, level: 1}}, {dimension_below: 3}]",
            [
                ("[0].dimension_below", "must be {dimension: <known id>, level: 2-5}"),
                ("[1].dimension_below", "must be {dimension: <known id>, level: 2-5}"),
                ("[2].dimension_below", "must be {dimension: <known id>, level: 2-5}"),
            ],
        ),
        (
            "[{answer_at_most: {question: rev.review-integrity.independent}},"
            " {answer_at_most: {question: nope, level: 2}},"
            " {answer_at_most: {question: rev.review-integrity.independent, level: 5}},"
            " {answer_at_most: 2}]",
            [
                ("[0].answer_at_most", "must be {question: <id>, level: 1-4}"),
                ("[1].answer_at_most.question", "'nope' is not a question of the rubric"),
                ("[2].answer_at_most.level", "must be 1 to 4, not 5"),
                ("[3].answer_at_most", "must be {question: <id>, level: 1-4}"),
            ],
        ),
        (
            "[{fact_at_least: {fact: fact.prs-per-week}},"
            " {fact_at_most: {fact: nope, value: 2}},"
            " {fact_at_least: {fact: fact.review-hours-per-pr, value: 0.01}},"
            " {fact_at_most: {fact: fact.review-hours-per-pr, value: 41}},"
            " {fact_at_most: {fact: fact.review-hours-per-pr, value: true}}]",
            [
                ("[0].fact_at_least", "must be {fact: <id>, value: <number>}"),
                ("[1].fact_at_most.fact", "'nope' is not a fact of the rubric"),
                ("[2].fact_at_least.value", "must be a number from 0.05 to 40, not 0.01"),
                ("[3].fact_at_most.value", "must be a number from 0.05 to 40, not 41"),
                ("[4].fact_at_most.value", "must be a number from 0.05 to 40, not True"),
            ],
        ),
        (
            "[{contradiction: yes please}, {no_data: false}, {contradiction: true}]",
            [("[0].contradiction", "must be true"), ("[1].no_data", "must be true")],
        ),
    ],
)
def test_each_broken_condition_is_refused_at_its_place(
    trigger: str, expected: list[tuple[str, str]]
) -> None:
    place = "recommendations[0].trigger"
    assert _issues(_entry(trigger=trigger)) == [(place + p, m) for p, m in expected]


def test_the_lowest_values_a_fact_condition_may_name_are_accepted() -> None:
    catalogue = _load(
        _entry(trigger="[{fact_at_least: {fact: fact.review-hours-per-pr, value: 0.05}}]")
    )
    assert catalogue.items["a.one"].trigger == (
        Condition("fact_at_least", 0.05, "fact.review-hours-per-pr"),
    )


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"effort_weeks": "0"}, [(".effort_weeks", "must be a number of person-weeks, 0-52, not 0")]),
        ({"effort_weeks": "53"}, [(".effort_weeks", "must be a number of person-weeks, 0-52, not 53")]),
        ({"effort_weeks": "true"}, [(".effort_weeks", "must be a number of person-weeks, 0-52, not True")]),
        ({"raises_to": "1"}, [(".raises_to", "must be a level from 2 to 5, not 1")]),
        ({"raises_to": "3.0"}, [(".raises_to", "must be a level from 2 to 5, not 3.0")]),
        ({"impact": "4", "effort": "true"}, [(".impact", "must be 1, 2 or 3, not 4"), (".effort", "must be 1, 2 or 3, not True")]),
        ({"steps": "[a, b]"}, [(".steps", "must be a list of 3 to 6 non-empty steps")]),
        ({"steps": "[a, b, ' ']"}, [(".steps", "must be a list of 3 to 6 non-empty steps")]),
        ({"title": "' '", "why": "-"}, [("", "missing required key 'why'"), (".title", "must be non-empty text"), (".why", "must be non-empty text")]),
        ({"owner_role": "' '"}, [(".owner_role", "must be non-empty text when given")]),
        ({"prerequisites": "a.one"}, [(".prerequisites", "must be a list of recommendation ids")]),
        (
            {"capability": "nope", "unlocks": "none"},
            [(".capability", "unknown capability 'nope'")],
        ),
        ({"colour": "red"}, [(".colour", "unknown key")]),
    ],
)  # fmt: skip
def test_each_broken_field_is_refused_at_its_place(
    fields: dict[str, str], expected: list[tuple[str, str]]
) -> None:
    assert _issues(_entry(**fields)) == [(f"recommendations[0]{p}", m) for p, m in expected]


@pytest.mark.parametrize(("weeks", "raises_to"), [("52", "2"), ("0.1", "5")])
def test_the_edges_of_effort_weeks_and_raises_to_are_accepted(weeks: str, raises_to: str) -> None:
    rec = _load(_entry(effort_weeks=weeks, raises_to=raises_to)).items["a.one"]
    assert (rec.effort_weeks, rec.raises_to) == (float(weeks), int(raises_to))


def test_catalogue_level_problems_are_each_named() -> None:
    assert _issues(
        "  - 3\n",
        _entry("Bad_Id"),
        _entry("a.one"),
        _entry("a.one", prerequisites="[a.one, a.gone]"),  # the later entry of an id counts
        head="rubric: other-1\nordering: size\ncolour: red\n",
    ) == [
        ("colour", "unknown key; a catalogue has rubric, ordering and recommendations"),
        ("ordering", "must be one of value, gates, not 'size'"),
        ("rubric", "catalogue is for 'other-1', not 'operationalization-2'"),
        ("recommendations[0]", "must be a mapping"),
        ("recommendations[1].id", "id 'Bad_Id' must be lower-case letters, digits, dashes and dots"),
        ("recommendations[3].id", "duplicate id 'a.one'"),
        ("recommendations[a.one].prerequisites", "a recommendation cannot require itself"),
        ("recommendations[a.one].prerequisites", "'a.gone' is not in the catalogue"),
        ("recommendations", "prerequisites form a cycle: a.one -> a.one"),
    ]  # fmt: skip


def test_a_prerequisite_cycle_is_named_as_a_path() -> None:
    assert _issues(
        _entry("a.one", prerequisites="[a.two]"), _entry("a.two", prerequisites="[a.one]")
    ) == [("recommendations", "prerequisites form a cycle: a.one -> a.two -> a.one")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("recommendations: []\n", ("recommendations", "must be a non-empty list")),
        ("- 1\n", ("recommendations", "must be a non-empty list")),
        ("recommendations: [\n  {a: 1\n", ("line 3, column 1", "invalid YAML: ")),
    ],
)
def test_a_catalogue_that_is_not_one_is_refused(text: str, expected: tuple[str, str]) -> None:
    with pytest.raises(RubricError) as caught:
        load_catalogue_text(text, RUBRIC, "c.yaml")
    ((issue),) = caught.value.issues
    assert issue.file == "c.yaml" and issue.path == expected[0]
    assert issue.message.startswith(expected[1])
    if expected[1] == "invalid YAML: ":
        assert "expected ',' or '}'" in issue.message  # the parser's own words, not the repr
        assert "line" not in issue.message  # the place is the issue's path, said once


def test_an_unreadable_catalogue_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(RubricError) as caught:
        load_catalogue(missing, RUBRIC)
    ((issue),) = caught.value.issues
    assert (issue.file, issue.path) == (str(missing), "")
    assert issue.message.startswith("cannot read the file: ") and "nope.yaml" in issue.message


def test_a_catalogue_with_a_character_yaml_refuses_is_refused_without_a_place() -> None:
    # The reader's error carries no line and column: the refusal still names the file.
    with pytest.raises(RubricError) as caught:
        load_catalogue_text("recommendations: \x07\n", RUBRIC, "c.yaml")
    ((issue),) = caught.value.issues
    assert (issue.file, issue.path) == ("c.yaml", "")
    assert issue.message.startswith("invalid YAML: unacceptable character #x0007")
