"""The recommendations catalogue, the roadmap built from it, and the autonomy gates."""

from __future__ import annotations

import collections
import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from scoring.autonomy import evaluate, get_gates
from scoring.recommendations import catalogue_path, get_catalogue, load_catalogue_text
from scoring.roadmap import NOW_LIMIT, Signals, build_roadmap
from scoring.rubric import RubricError, get_rubric

RUBRIC = get_rubric("operationalization", 1)
CATALOGUE = get_catalogue("operationalization", 1)


def test_shipped_catalogue_covers_every_capability_at_least_twice() -> None:
    assert len(CATALOGUE.items) >= 40
    per_capability = collections.Counter(r.capability_id for r in CATALOGUE.items.values())
    assert {c.id for c in RUBRIC.capabilities} == set(per_capability)
    assert min(per_capability.values()) >= 2
    for rec in CATALOGUE.items.values():
        assert 3 <= len(rec.steps) <= 6 and rec.why and rec.trigger, rec.id


@pytest.fixture
def raw() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(catalogue_path("operationalization", 1).read_text())
    return data


def _load(data: dict[str, Any]) -> None:
    load_catalogue_text(yaml.safe_dump(data, sort_keys=False), RUBRIC, source="catalogue.yaml")


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["recommendations"][0].update(capability="obs.nothing"), "unknown capability"),
        (
            lambda d: d["recommendations"][0].update(prerequisites=["rec.nowhere"]),
            "'rec.nowhere' is not in the catalogue",
        ),
        (
            lambda d: d["recommendations"][1].update(id=d["recommendations"][0]["id"]),
            "duplicate id",
        ),
        (
            lambda d: d["recommendations"][0].update(trigger=[{"moon_phase": 3}]),
            "unknown condition",
        ),
        (lambda d: d["recommendations"][0].update(impact=4), "must be 1, 2 or 3"),
        (lambda d: d["recommendations"][0].update(steps=["one", "two"]), "3 to 6"),
        (
            lambda d: d["recommendations"][0].update(
                trigger=[{"answer_at_most": {"question": "obs.nope", "level": 2}}]
            ),
            "not a question of the rubric",
        ),
        (
            lambda d: d["recommendations"][0].update(trigger=[{"capability_below": 9}]),
            "level from 2 to 5",
        ),
    ],
)
def test_broken_catalogues_are_refused(raw: dict[str, Any], mutate: Any, message: str) -> None:
    data = copy.deepcopy(raw)
    mutate(data)
    with pytest.raises(RubricError, match=message):
        _load(data)


def test_prerequisite_cycles_are_rejected_and_named(raw: dict[str, Any]) -> None:
    data = copy.deepcopy(raw)
    recs = {r["id"]: r for r in data["recommendations"]}
    recs["rec.obs.process-inventory"]["prerequisites"] = ["rec.obs.runbooks-agents-can-follow"]
    with pytest.raises(
        RubricError,
        match="cycle: rec.obs.process-inventory -> rec.obs.runbooks-agents-can-follow -> rec.obs.process-inventory",
    ):
        _load(data)


def _signals(level: int | None = 2, **overrides: Any) -> Signals:
    values: dict[str, Any] = {
        "capability_levels": {c.id: level for c in RUBRIC.capabilities},
        "capability_titles": {c.id: c.title for c in RUBRIC.capabilities},
        "dimension_levels": {d.id: level for d in RUBRIC.dimensions},
        "dimension_titles": {d.id: d.title for d in RUBRIC.dimensions},
        "question_medians": {q.id: float(level) if level else None for q in RUBRIC.questions},
        "question_texts": {q.id: q.text for q in RUBRIC.questions},
    }
    values.update(overrides)
    return Signals(**values)


def test_roadmap_orders_prerequisites_first_and_fills_buckets() -> None:
    items = build_roadmap(CATALOGUE, _signals(2))
    position = {item.id: item.position for item in items}
    for item in items:
        for p in item.prerequisites:
            assert position[p] < item.position, (p, item.id)
    buckets = [item.bucket for item in items]
    assert buckets == sorted(buckets, key=["now", "next", "later"].index)
    assert buckets.count("now") == NOW_LIMIT
    assert all(item.reasons for item in items)


def test_a_mature_organisation_gets_no_recommendations() -> None:
    assert build_roadmap(CATALOGUE, _signals(5)) == []


def test_reasons_say_why_this_organisation_got_an_item() -> None:
    levels = {c.id: 5 for c in RUBRIC.capabilities} | {"rev.policy-ownership": 2}
    medians = {q.id: 5.0 for q in RUBRIC.questions} | {"rev.policy-ownership.bot-bypass": 1.5}
    items = build_roadmap(
        CATALOGUE, _signals(5, capability_levels=levels, question_medians=medians)
    )
    item = next(i for i in items if i.id == "rec.rev.enforce-human-review")
    assert "Review policy and ownership is at level 2, below 3." in item.reasons
    assert any("median of level 1.5" in r for r in item.reasons)


def test_contradictions_and_the_review_wall_are_urgent() -> None:
    levels = {c.id: 5 for c in RUBRIC.capabilities} | {"rev.flow-capacity": 2}
    signals = _signals(
        5,
        capability_levels=levels,
        overclaims=frozenset({"rev.policy-ownership"}),
        saturation_multiplier=1.2,
    )
    items = {i.id: i for i in build_roadmap(CATALOGUE, signals)}
    assert items["rec.rev.enforce-human-review"].bucket == "now"
    assert (
        "claim more than the scan evidence shows"
        in items["rec.rev.enforce-human-review"].reasons[0]
    )
    assert items["rec.rev.plan-review-capacity"].bucket == "now"
    # Its prerequisite, the review SLA, is in Now too and listed first.
    assert items["rec.rev.review-slas"].bucket == "now"
    assert items["rec.rev.review-slas"].position < items["rec.rev.plan-review-capacity"].position


def test_no_data_triggers_nothing_that_needs_a_level() -> None:
    items = build_roadmap(CATALOGUE, _signals(None))
    assert all("below" not in reason for item in items for reason in item.reasons)


def test_autonomy_gates_are_cumulative_and_say_what_is_missing() -> None:
    gates = get_gates(RUBRIC)
    assert gates[0].id == "suggest-only" and not gates[0].requires
    everything = {c.id: 5 for c in RUBRIC.capabilities}
    top = evaluate(gates, everything)
    assert top.granted.id == gates[-1].id and top.next_gate is None
    levels = dict(everything, **{"int.agent-identity": 2})
    result = evaluate(gates, levels)
    assert result.granted.id == "suggest-only"
    assert result.next_gate is not None and result.next_gate.id == "pull-requests-with-review"
    assert [(m.capability_id, m.current, m.required) for m in result.missing_for_next] == [
        ("int.agent-identity", 2, 3)
    ]
    # A higher gate met on its own does not count while a lower one is not.
    assert result.steps[2].met and not result.steps[1].met


def test_missing_answers_do_not_meet_a_gate() -> None:
    result = evaluate(get_gates(RUBRIC), {})
    assert result.granted.id == "suggest-only"
    assert all(m.current is None for m in result.missing_for_next)


def test_gates_refer_to_real_capabilities(tmp_path: Path) -> None:
    from scoring.autonomy import load_gates

    bad = tmp_path / "gates.yaml"
    bad.write_text(
        "gates:\n  - {id: a, title: A, requires: {}}\n  - {id: b, title: B, requires: {obs.nothing: 3}}\n"
    )
    with pytest.raises(RubricError, match="unknown capability"):
        load_gates(bad, RUBRIC)


def _tiny(entries: str) -> Any:
    return load_catalogue_text("recommendations:\n" + entries, RUBRIC, source="tiny.yaml")


ENTRY = """  - id: {id}
    title: {id}
    capability: obs.process-docs
    trigger: [{{capability_below: 3}}]
    why: because
    steps: [one, two, three]
    impact: {impact}
    effort: {effort}
    prerequisites: [{prereqs}]
"""


def test_enablers_are_pulled_forward_to_their_dependents_bucket() -> None:
    catalogue = _tiny(
        ENTRY.format(id="rec.enabler", impact=1, effort=3, prereqs="")
        + ENTRY.format(id="rec.quick-win", impact=3, effort=1, prereqs="rec.enabler")
    )
    items = build_roadmap(catalogue, _signals(2))
    assert [(i.id, i.bucket) for i in items] == [("rec.enabler", "now"), ("rec.quick-win", "now")]
    assert items[1].prerequisites == ("rec.enabler",)


def test_overflow_never_puts_an_item_before_its_prerequisite() -> None:
    # Seven quick wins in a chain: Now holds five, the rest move to Next, in dependency order.
    text = ENTRY.format(id="rec.c0", impact=3, effort=1, prereqs="")
    for n in range(1, 7):
        text += ENTRY.format(id=f"rec.c{n}", impact=3, effort=1, prereqs=f"rec.c{n - 1}")
    items = build_roadmap(_tiny(text), _signals(2))
    assert [i.id for i in items] == [f"rec.c{n}" for n in range(7)]
    assert [i.bucket for i in items] == ["now"] * 5 + ["next"] * 2
