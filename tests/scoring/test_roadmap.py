"""The roadmap: why each item is there, prerequisites first, enablers, Now/Next/Later."""

from __future__ import annotations

from typing import Any

from scoring.recommendations import Catalogue, get_catalogue, load_catalogue_text
from scoring.roadmap import BUCKETS, NEXT_LIMIT, NOW_LIMIT, Signals, build_roadmap
from scoring.rubric import get_rubric

RUBRIC = get_rubric("operationalization", 1)
CATALOGUE = get_catalogue("operationalization", 1)


def _signals(level: int | None = 2, **overrides: Any) -> Signals:
    values: dict[str, Any] = {
        "capability_levels": {c.id: level for c in RUBRIC.capabilities},
        "capability_titles": {c.id: c.title for c in RUBRIC.capabilities},
        "dimension_levels": {d.id: level for d in RUBRIC.dimensions},
        "dimension_titles": {d.id: d.title for d in RUBRIC.dimensions},
        "question_medians": {q.id: float(level) if level else None for q in RUBRIC.questions},
        "question_texts": {q.id: q.text for q in RUBRIC.questions},
        "fact_texts": {f.id: f.text for f in RUBRIC.facts},
    }
    values.update(overrides)
    return Signals(**values)


def _roadmap(catalogue: Catalogue = CATALOGUE, **kwargs: Any) -> list[Any]:
    return build_roadmap(catalogue=catalogue, signals=_signals(**kwargs))


def _assert_well_formed(items: list[Any]) -> None:
    position = {item.id: item.position for item in items}
    bucket = {item.id: BUCKETS.index(item.bucket) for item in items}
    assert [i.position for i in items] == list(range(1, len(items) + 1))
    for item in items:
        for p in item.prerequisites:
            assert position[p] < item.position, (p, item.id)
            assert bucket[p] <= bucket[item.id], (p, item.id)
        assert item.reasons and len(item.reasons) == len(item.triggers)
    buckets = [bucket[i.id] for i in items]
    assert buckets == sorted(buckets)
    assert buckets.count(0) <= NOW_LIMIT and buckets.count(1) <= NEXT_LIMIT


def test_roadmap_orders_prerequisites_first_and_fills_buckets() -> None:
    items = _roadmap(level=2)
    _assert_well_formed(items)
    assert [i.bucket for i in items].count("now") == NOW_LIMIT
    assert all(i.kind == "recommended" for i in items)


def test_a_mature_organisation_gets_no_recommendations() -> None:
    assert _roadmap(level=5) == []


def test_reasons_say_why_this_organisation_got_an_item() -> None:
    levels = {c.id: 5 for c in RUBRIC.capabilities} | {"rev.policy-ownership": 2}
    medians = {q.id: 5.0 for q in RUBRIC.questions} | {"rev.policy-ownership.bot-bypass": 1.5}
    items = _roadmap(level=5, capability_levels=levels, question_medians=medians)
    item = next(i for i in items if i.id == "rec.rev.enforce-human-review")
    assert "Review policy and ownership is at level 2, below 3." in item.reasons
    assert any("median of level 1.5" in r for r in item.reasons)
    # The same reasons, structured: what was observed against which threshold.
    kinds = {(t.kind, t.subject, t.observed, t.threshold) for t in item.triggers}
    assert ("capability_below", "rev.policy-ownership", 2.0, 3.0) in kinds
    assert ("answer_at_most", "rev.policy-ownership.bot-bypass", 1.5, 2.0) in kinds


def test_fact_conditions_trigger_from_fact_medians() -> None:
    facts = {"fact.hours-to-first-review": 30.0}
    items = _roadmap(level=5, fact_medians=facts)
    (item,) = items
    assert item.id == "rec.rev.review-slas"
    (trigger,) = item.triggers
    assert (trigger.kind, trigger.observed, trigger.threshold) == ("fact_at_least", 30.0, 24.0)
    assert _roadmap(level=5, fact_medians={"fact.hours-to-first-review": 23.0}) == []


def test_contradictions_and_the_review_wall_are_urgent() -> None:
    levels = {c.id: 5 for c in RUBRIC.capabilities} | {"rev.flow-capacity": 2}
    items = {
        i.id: i
        for i in _roadmap(
            level=5,
            capability_levels=levels,
            overclaims=frozenset({"rev.policy-ownership"}),
            saturation_multiplier=1.2,
        )
    }
    enforce = items["rec.rev.enforce-human-review"]
    assert enforce.bucket == "now"
    assert "claim more than the scan evidence shows" in enforce.reasons[0]
    assert items["rec.rev.plan-review-capacity"].bucket == "now"
    # Its prerequisite, the review SLA, is in Now too and listed first.
    assert items["rec.rev.review-slas"].bucket == "now"
    assert items["rec.rev.review-slas"].position < items["rec.rev.plan-review-capacity"].position
    assert items["rec.rev.review-slas"].enables == ("rec.rev.plan-review-capacity",)


def test_no_data_triggers_nothing_that_needs_a_level() -> None:
    items = _roadmap(level=None)
    assert all("below" not in reason for item in items for reason in item.reasons)


def _tiny(entries: str) -> Catalogue:
    return load_catalogue_text("recommendations:\n" + entries, RUBRIC, source="tiny.yaml")


ENTRY = """  - id: {id}
    title: {id}
    capability: {capability}
    trigger: [{{capability_below: 3}}]
    why: because
    steps: [one, two, three]
    impact: {impact}
    effort: {effort}
    prerequisites: [{prereqs}]
"""


def entry(
    rec_id: str,
    impact: int = 2,
    effort: int = 2,
    prereqs: str = "",
    capability: str = "obs.process-docs",
) -> str:
    return ENTRY.format(
        id=rec_id, impact=impact, effort=effort, prereqs=prereqs, capability=capability
    )


def test_buckets_follow_value_impact_over_effort() -> None:
    # value 3/1 = 3 -> Now; 2/2 = 1 -> Next; 1/3 = 0.33 -> Later.
    catalogue = _tiny(entry("rec.quick", 3, 1) + entry("rec.even", 2, 2) + entry("rec.slow", 1, 3))
    assert [(i.id, i.bucket) for i in _roadmap(catalogue)] == [
        ("rec.quick", "now"),
        ("rec.even", "next"),
        ("rec.slow", "later"),
    ]


def test_enablers_are_pulled_forward_to_their_dependents_bucket() -> None:
    catalogue = _tiny(
        entry("rec.enabler", impact=1, effort=3) + entry("rec.quick-win", 3, 1, "rec.enabler")
    )
    items = _roadmap(catalogue)
    assert [(i.id, i.bucket) for i in items] == [("rec.enabler", "now"), ("rec.quick-win", "now")]
    assert items[1].prerequisites == ("rec.enabler",)


def test_overflow_never_puts_an_item_before_its_prerequisite() -> None:
    # Seven quick wins in a chain: Now holds five, the rest move to Next, in dependency order.
    text = entry("rec.c0", 3, 1)
    for n in range(1, 7):
        text += entry(f"rec.c{n}", 3, 1, f"rec.c{n - 1}")
    items = _roadmap(_tiny(text))
    assert [i.id for i in items] == [f"rec.c{n}" for n in range(7)]
    assert [i.bucket for i in items] == ["now"] * 5 + ["next"] * 2


def test_a_prerequisite_shown_to_be_in_place_is_dropped() -> None:
    # rec.base is on a capability at level 4 (its trigger, below 3, does not fire): in place.
    catalogue = _tiny(
        entry("rec.base", capability="rev.policy-ownership")
        + entry("rec.top", 3, 1, "rec.base", capability="obs.process-docs")
    )
    levels = {c.id: 2 for c in RUBRIC.capabilities} | {"rev.policy-ownership": 4}
    items = _roadmap(catalogue, capability_levels=levels)
    assert [(i.id, i.prerequisites) for i in items] == [("rec.top", ())]


def test_a_prerequisite_nobody_could_assess_joins_as_an_enabler_first() -> None:
    # rec.base's capability has no answers: nothing shows it is in place, so it comes first,
    # in the bucket of the quick win that needs it, and says why it is there.
    catalogue = _tiny(
        entry("rec.root", capability="dep.ci-small-batches")
        + entry("rec.base", 1, 3, "rec.root", capability="rev.policy-ownership")
        + entry("rec.top", 3, 1, "rec.base", capability="obs.process-docs")
    )
    levels = {c.id: 2 for c in RUBRIC.capabilities} | {
        "rev.policy-ownership": None,
        "dep.ci-small-batches": None,
    }
    items = _roadmap(catalogue, capability_levels=levels)
    _assert_well_formed(items)
    assert [(i.id, i.kind, i.bucket) for i in items] == [
        ("rec.root", "enabler", "now"),
        ("rec.base", "enabler", "now"),
        ("rec.top", "recommended", "now"),
    ]
    (reason,) = items[1].triggers
    assert (reason.kind, reason.subject) == ("enabler", "rec.top")
    assert reason.text.startswith("Comes before \u201crec.top\u201d")
    assert items[1].enables == ("rec.top",)


def test_whole_catalogue_with_mixed_levels_is_well_formed() -> None:
    levels: dict[str, int | None] = {
        c.id: (None if i % 4 == 0 else 1 + i % 5) for i, c in enumerate(RUBRIC.capabilities)
    }
    medians = {q.id: (None if levels[q.capability_id] is None else 2.0) for q in RUBRIC.questions}
    items = _roadmap(
        level=3, capability_levels=levels, question_medians=medians, saturation_multiplier=1.5
    )
    _assert_well_formed(items)
    assert any(i.kind == "enabler" for i in items)
