"""The roadmap's rules one at a time (methodology 9): the wording of each reason, what counts
as read for a prerequisite, the order within a bucket under value and gate ordering, and what
each item says it enables and which gate it serves."""

from __future__ import annotations

from typing import Any

import pytest

from scoring import roadmap
from scoring.recommendations import Catalogue, Condition, load_catalogue_text
from scoring.roadmap import GateNeed, Signals, build_roadmap
from scoring.rubric import get_rubric

RUBRIC = get_rubric("operationalization", 1)
QUESTION = "obs.process-docs.inventory"  # a question on obs.process-docs


def _signals(**values: Any) -> Signals:
    base: dict[str, Any] = {
        "capability_levels": {"a.x": 2},
        "capability_titles": {"a.x": "Cap"},
        "dimension_levels": {"a": 1},
        "dimension_titles": {"a": "Dim"},
        "question_medians": {"a.x.q1": 1.5},
        "question_texts": {"a.x.q1": "Q?"},
        "fact_medians": {"fact.f": 30.0},
        "fact_texts": {"fact.f": "F?"},
    }
    base.update(values)
    return Signals(**base)


def _reason(condition: Condition, **signals: Any) -> roadmap.Reason:
    reason, readable = roadmap._evaluate(condition, "a.x", _signals(**signals))
    assert reason is not None and readable
    return reason


# --- Reasons --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "text"),
    [
        (3, "Cap is at level 2.8, below its target of 3."),
        (2, "Cap is at level 2.8 (target 2); this step leads on to level 3."),
        (4, "Cap is at level 2.8, below 3, on the way to its target of 4."),
        (None, "Cap is at level 2.8, below 3."),
    ],
)
def test_a_capability_below_its_threshold_is_worded_against_its_target(
    target: int | None, text: str
) -> None:
    targets = {"a.x": target} if target is not None else {}
    reason = _reason(
        Condition("capability_below", 3), capability_exact={"a.x": 2.8}, capability_targets=targets
    )
    assert (reason.kind, reason.subject, reason.observed, reason.threshold) == (
        "capability_below",
        "a.x",
        2.0,
        3.0,
    )
    assert reason.text == text


def test_without_an_exact_level_the_level_reached_is_printed() -> None:
    reason = _reason(Condition("capability_below", 3))
    assert reason.text == "Cap is at level 2, below 3."


def test_a_dimension_below_its_threshold_names_the_dimension_and_its_target() -> None:
    condition = Condition("dimension_below", {"dimension": "a", "level": 3})
    reason = _reason(condition, dimension_exact={"a": 1.4}, dimension_targets={"a": 3})
    assert (reason.kind, reason.subject, reason.observed, reason.threshold) == (
        "dimension_below",
        "a",
        1.0,
        3.0,
    )
    assert reason.text == "Dim is at level 1.4, below its target of 3."


def test_an_answer_reason_quotes_the_question_and_its_median() -> None:
    reason = _reason(Condition("answer_at_most", 2, "a.x.q1"))
    assert (reason.kind, reason.subject, reason.observed, reason.threshold) == (
        "answer_at_most",
        "a.x.q1",
        1.5,
        2.0,
    )
    assert reason.text == "Answers to \u201cQ?\u201d have a median of level 1.5."


@pytest.mark.parametrize(
    ("condition", "text"),
    [
        (Condition("answer_at_most", 2, "a.x.q1"), "\u201cQ?\u201d"),
        (Condition("fact_at_least", 24, "fact.f"), "\u201cF?\u201d"),
    ],
)
def test_a_reason_resting_on_fewer_than_three_people_never_shows_their_figure(
    condition: Condition, text: str
) -> None:
    reason = _reason(condition, few_answers=frozenset({condition.question_id}))
    assert (reason.kind, reason.subject, reason.observed) == (
        condition.kind,
        condition.question_id,
        None,
    )
    assert reason.threshold == float(condition.value)
    assert reason.text == (
        f"The answers to {text} point to it (fewer than three people answered, "
        "so no figure is shown)."
    )


@pytest.mark.parametrize(
    ("units", "texts", "text"),
    [
        (
            {"fact.f": "hours"},
            {"fact.f": "F?"},
            "Answers to \u201cF?\u201d have a median of 30 hours.",
        ),
        ({}, {"fact.f": "F?"}, "Answers to \u201cF?\u201d have a median of 30."),
        ({}, {}, "Answers to \u201cfact.f\u201d have a median of 30."),
    ],
)
def test_a_fact_reason_quotes_the_fact_its_median_and_its_unit(
    units: dict[str, str], texts: dict[str, str], text: str
) -> None:
    for kind, value in (("fact_at_least", 24), ("fact_at_most", 40)):
        reason = _reason(Condition(kind, value, "fact.f"), fact_units=units, fact_texts=texts)
        assert (reason.kind, reason.subject, reason.observed, reason.threshold) == (
            kind,
            "fact.f",
            30.0,
            float(value),
        )
        assert reason.text == text


def test_a_contradiction_names_the_capability_the_scans_refute() -> None:
    reason = _reason(Condition("contradiction", True), overclaims=frozenset({"a.x"}))
    assert (reason.kind, reason.subject, reason.observed, reason.threshold) == (
        "contradiction",
        "a.x",
        None,
        None,
    )
    assert reason.text == "Answers on Cap claim more than the scan evidence shows."
    assert roadmap._evaluate(Condition("contradiction", True), "a.x", _signals()) == (None, True)


def test_the_review_wall_reason_gives_the_multiple_to_one_decimal() -> None:
    reason = _reason(Condition("review_saturates_below", 2), saturation_multiplier=1.34)
    assert (reason.kind, reason.subject, reason.observed, reason.threshold) == (
        "review_saturates_below",
        "review",
        1.34,
        2.0,
    )
    assert reason.text == "Code review saturates at 1.3\u00d7 today's pull-request volume."
    condition = Condition("review_saturates_below", 2)
    assert roadmap._evaluate(condition, "a.x", _signals()) == (None, False)


def test_no_data_says_nobody_could_answer_and_is_quiet_once_someone_did() -> None:
    reason = _reason(Condition("no_data", True), capability_levels={"a.x": None})
    assert (reason.kind, reason.subject, reason.observed, reason.threshold) == (
        "no_data",
        "a.x",
        None,
        None,
    )
    assert reason.text == "Nobody could answer the questions on Cap."
    assert roadmap._evaluate(Condition("no_data", True), "a.x", _signals()) == (None, True)


@pytest.mark.parametrize(
    ("condition", "signals"),
    [
        (Condition("capability_below", 3), {"capability_levels": {"a.x": None}}),
        (Condition("dimension_below", {"dimension": "a", "level": 3}), {"dimension_levels": {}}),
        (Condition("answer_at_most", 2, "a.x.q1"), {"question_medians": {"a.x.q1": None}}),
        (Condition("fact_at_least", 2, "fact.f"), {"fact_medians": {}}),
        (Condition("fact_at_most", 2, "fact.f"), {"fact_medians": {"fact.f": None}}),
        (Condition("something_new", 2), {}),
    ],
)
def test_a_condition_nobody_answered_neither_fires_nor_counts_as_read(
    condition: Condition, signals: dict[str, Any]
) -> None:
    assert roadmap._evaluate(condition, "a.x", _signals(**signals)) == (None, False)


# --- Roadmaps from small catalogues ---------------------------------------------------------


def _entry(
    rec_id: str,
    impact: int = 2,
    effort: int = 2,
    prereqs: str = "",
    capability: str = "obs.process-docs",
    trigger: str = "{capability_below: 3}",
) -> str:
    return (
        f"  - id: {rec_id}\n    title: T {rec_id}\n    capability: {capability}\n"
        f"    trigger: [{trigger}]\n    why: because\n    steps: [one, two, three]\n"
        f"    impact: {impact}\n    effort: {effort}\n    prerequisites: [{prereqs}]\n"
    )


def _catalogue(*entries: str, ordering: str = "value") -> Catalogue:
    loaded = load_catalogue_text("recommendations:\n" + "".join(entries), RUBRIC, "t.yaml")
    return Catalogue(loaded.rubric_key, loaded.items, ordering)


def _roadmap(catalogue: Catalogue, **values: Any) -> list[roadmap.RoadmapItem]:
    base: dict[str, Any] = {
        "capability_levels": {c.id: 2 for c in RUBRIC.capabilities},
        "capability_titles": {c.id: c.title for c in RUBRIC.capabilities},
        "dimension_levels": {d.id: 2 for d in RUBRIC.dimensions},
        "dimension_titles": {d.id: d.title for d in RUBRIC.dimensions},
        "question_medians": {q.id: 2.0 for q in RUBRIC.questions},
        "question_texts": {q.id: q.text for q in RUBRIC.questions},
    }
    base.update(values)
    return build_roadmap(catalogue=catalogue, signals=Signals(**base))


def test_within_a_bucket_urgent_work_comes_first_then_value_then_impact_then_id() -> None:
    items = _roadmap(
        _catalogue(
            _entry("rec.a-even", 1, 1),
            _entry("rec.b-urgent", 1, 3, trigger="{contradiction: true}"),
            _entry("rec.c-quick", 3, 1),
            _entry("rec.d-big-even", 3, 3),
            _entry("rec.e-mid", 3, 2),
            _entry("rec.f-even-too", 1, 1),
        ),
        overclaims=frozenset({"obs.process-docs"}),
    )
    assert [(i.id, i.bucket) for i in items] == [
        ("rec.b-urgent", "now"),  # urgent, whatever its value
        ("rec.c-quick", "now"),  # value 3
        ("rec.e-mid", "now"),  # value 1.5
        ("rec.d-big-even", "next"),  # value 1, impact 3
        ("rec.a-even", "next"),  # value 1, impact 1, then by id
        ("rec.f-even-too", "next"),
    ]
    assert [i.position for i in items] == [1, 2, 3, 4, 5, 6]
    assert [i.value for i in items] == [1 / 3, 3.0, 1.5, 1.0, 1.0, 1.0]


def test_the_prerequisite_of_urgent_work_is_urgent_too() -> None:
    items = _roadmap(
        _catalogue(
            _entry("rec.quick", 3, 1),
            _entry("rec.base", 1, 3),
            _entry("rec.urgent", 1, 3, "rec.base", trigger="{contradiction: true}"),
        ),
        overclaims=frozenset({"obs.process-docs"}),
    )
    # rec.base, at value 0.33, would wait behind the quick win; as the prerequisite of urgent
    # work it goes first, then the urgent item, then the quick win.
    assert [(i.id, i.bucket) for i in items] == [
        ("rec.base", "now"),
        ("rec.urgent", "now"),
        ("rec.quick", "now"),
    ]


@pytest.mark.parametrize(("count", "now"), [(4, 4), (5, 5), (6, 5)])
def test_now_holds_at_most_five_items_and_the_rest_move_on(count: int, now: int) -> None:
    items = _roadmap(_catalogue(*(_entry(f"rec.q{n}", 3, 1) for n in range(count))))
    assert [i.bucket for i in items] == ["now"] * now + ["next"] * (count - now)


@pytest.mark.parametrize(("count", "next_"), [(8, 8), (9, 8)])
def test_next_holds_at_most_eight_items_and_the_rest_move_on(count: int, next_: int) -> None:
    items = _roadmap(_catalogue(*(_entry(f"rec.n{n}", 2, 2) for n in range(count))))
    assert [i.bucket for i in items] == ["next"] * next_ + ["later"] * (count - next_)


def test_an_item_lists_what_it_enables_and_needs_in_roadmap_order_not_by_id() -> None:
    items = _roadmap(
        _catalogue(
            _entry("rec.base", 2, 2),
            _entry("rec.a-slow", 1, 3, "rec.base"),
            _entry("rec.z-quick", 3, 1, "rec.base"),
            _entry("rec.y-needs-both", 1, 3, "rec.a-slow, rec.z-quick"),
        )
    )
    by_id = {i.id: i for i in items}
    assert [i.id for i in items] == ["rec.base", "rec.z-quick", "rec.a-slow", "rec.y-needs-both"]
    assert by_id["rec.base"].enables == ("rec.z-quick", "rec.a-slow")
    assert by_id["rec.y-needs-both"].prerequisites == ("rec.z-quick", "rec.a-slow")
    assert [by_id[r].unblocks for r in ("rec.base", "rec.z-quick", "rec.y-needs-both")] == [3, 1, 0]
    # Without gates to serve, no item names one.
    assert {(i.gate_id, i.gate_title) for i in items} == {("", "")}


def test_an_enabler_names_the_item_that_needs_it() -> None:
    items = _roadmap(
        _catalogue(
            _entry("rec.base", 1, 3, capability="rev.policy-ownership"),
            _entry("rec.top", 3, 1, "rec.base"),
        ),
        capability_levels={c.id: 2 for c in RUBRIC.capabilities} | {"rev.policy-ownership": None},
    )
    base = items[0]
    assert (base.id, base.kind, base.bucket) == ("rec.base", "enabler", "now")
    (reason,) = base.triggers
    assert (reason.kind, reason.subject, reason.observed, reason.threshold) == (
        "enabler",
        "rec.top",
        None,
        None,
    )
    title = next(c.title for c in RUBRIC.capabilities if c.id == "rev.policy-ownership")
    assert reason.text == (
        f"Comes before \u201cT rec.top\u201d, and no answers show it is in place ({title})."
    )


def test_a_prerequisite_judged_only_by_a_dimension_that_was_answered_is_in_place() -> None:
    dimension = RUBRIC.dimensions[0].id
    items = _roadmap(
        _catalogue(
            _entry(
                "rec.base",
                capability="rev.policy-ownership",
                trigger=f"{{dimension_below: {{dimension: {dimension}, level: 2}}}}",
            ),
            _entry("rec.top", 3, 1, "rec.base"),
        ),
        capability_levels={c.id: 2 for c in RUBRIC.capabilities} | {"rev.policy-ownership": None},
    )
    assert [(i.id, i.prerequisites) for i in items] == [("rec.top", ())]


# --- Gate ordering --------------------------------------------------------------------------


NEEDS = (
    GateNeed("gate.next", "Next gate", frozenset({"rev.policy-ownership"}), frozenset()),
    GateNeed("gate.after", "Gate after", frozenset(), frozenset({QUESTION})),
)


def test_gate_ordering_puts_what_the_next_gate_needs_first_and_names_the_gate() -> None:
    catalogue = _catalogue(
        _entry("rec.a-none", 3, 1),
        _entry(
            "rec.b-after", 1, 3, trigger=f"{{answer_at_most: {{question: {QUESTION}, level: 2}}}}"
        ),
        _entry("rec.c-next", 1, 3, capability="rev.policy-ownership"),
        ordering="gates",
    )
    items = {i.id: i for i in _roadmap(catalogue, gate_needs=NEEDS)}
    assert [(i.id, i.bucket) for i in items.values()] == [
        ("rec.c-next", "now"),  # serves the next gate
        ("rec.b-after", "next"),  # triggered by the question the gate after needs
        ("rec.a-none", "next"),  # no gate: value 3 makes it Next, after what serves a gate
    ]
    assert (items["rec.c-next"].gate_id, items["rec.c-next"].gate_title) == (
        "gate.next",
        "Next gate",
    )
    assert (items["rec.b-after"].gate_id, items["rec.b-after"].gate_title) == (
        "gate.after",
        "Gate after",
    )
    assert (items["rec.a-none"].gate_id, items["rec.a-none"].gate_title) == ("", "")


def test_a_question_serves_a_gate_only_through_an_answer_condition() -> None:
    # An item on the question's capability, triggered by its level rather than by that answer,
    # does not serve a gate that needs the answer.
    catalogue = _catalogue(_entry("rec.b", 1, 3), ordering="gates")
    (item,) = _roadmap(catalogue, gate_needs=NEEDS)
    assert (item.gate_id, item.bucket) == ("", "later")


def test_gate_ordering_within_a_bucket_urgent_then_gate_then_unblocked_then_catalogue() -> None:
    catalogue = _catalogue(
        _entry("rec.z-plain", 1, 3, capability="rev.policy-ownership"),
        _entry("rec.y-urgent", 1, 3, trigger="{contradiction: true}"),
        _entry("rec.x-blocker", 1, 3, capability="rev.policy-ownership"),
        _entry("rec.w-waits", 1, 3, "rec.x-blocker", capability="rev.policy-ownership"),
        _entry("rec.v-high", 2, 3, capability="rev.policy-ownership"),
        ordering="gates",
    )
    items = _roadmap(catalogue, gate_needs=NEEDS, overclaims=frozenset({"obs.process-docs"}))
    assert [(i.id, i.bucket) for i in items] == [
        ("rec.y-urgent", "now"),  # urgent, though it serves no gate
        ("rec.x-blocker", "now"),  # the next gate, and one item waits on it
        ("rec.v-high", "now"),  # the next gate, higher value
        ("rec.z-plain", "now"),  # the next gate: before the later catalogue entry, never by id
        ("rec.w-waits", "now"),
    ]
    assert items[1].unblocks == 1 and items[1].enables == ("rec.w-waits",)


def test_a_prerequisite_takes_the_nearer_gate_of_what_it_enables() -> None:
    catalogue = _catalogue(
        _entry("rec.base", 1, 3),
        _entry("rec.top", 1, 3, "rec.base", capability="rev.policy-ownership"),
        ordering="gates",
    )
    items = _roadmap(catalogue, gate_needs=NEEDS)
    assert [(i.id, i.bucket, i.gate_id) for i in items] == [
        ("rec.base", "now", "gate.next"),
        ("rec.top", "now", "gate.next"),
    ]


def test_gate_ordering_prefers_value_to_size_among_equals() -> None:
    # Both serve the next gate and unblock nothing: value 2 (2/1) before value 1 (3/3), though
    # the second is bigger in impact and in impact x effort.
    catalogue = _catalogue(
        _entry("rec.a-big", 3, 3, capability="rev.policy-ownership"),
        _entry("rec.b-cheap", 2, 1, capability="rev.policy-ownership"),
        ordering="gates",
    )
    items = _roadmap(catalogue, gate_needs=NEEDS)
    assert [(i.id, i.bucket) for i in items] == [("rec.b-cheap", "now"), ("rec.a-big", "now")]
