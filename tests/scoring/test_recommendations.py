"""The recommendations catalogue: the shipped file is complete, broken files are refused."""

from __future__ import annotations

import collections
import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from scoring.recommendations import (
    catalogue_path,
    get_catalogue,
    load_catalogue,
    load_catalogue_text,
    shipped_catalogue,
)
from scoring.rubric import RubricError, get_rubric
from tests.scoring.helpers import tiny_rubric

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
        (lambda d: d["recommendations"][0].update(impact=True), "must be 1, 2 or 3, not True"),
        (lambda d: d["recommendations"][0].update(effort=2.0), "must be 1, 2 or 3, not 2.0"),
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


def test_every_capability_with_scan_detectors_has_a_recommendation_for_contradictions() -> None:
    # Where scans can contradict the answers, the register must lead to something to do.
    scanned = {c.id for c in RUBRIC.capabilities if any(q.evidence for q in c.questions)}
    answered = {
        r.capability_id
        for r in CATALOGUE.items.values()
        if any(t.kind == "contradiction" for t in r.trigger)
    }
    assert scanned <= answered, scanned - answered


@pytest.mark.parametrize(
    ("trigger", "message"),
    [
        ({"fact_at_least": {"fact": "fact.nothing", "value": 1}}, "not a fact of the rubric"),
        ({"fact_at_most": {"fact": "fact.prs-per-week", "value": -1}}, "must be a number from"),
        ({"fact_at_least": {"fact": "fact.prs-per-week"}}, "must be {fact: <id>, value"),
        ({"dimension_below": {"dimension": "nowhere", "level": 3}}, "dimension: <known id>"),
        ({"contradiction": "yes"}, "must be true"),
        ({"review_saturates_below": 0}, "positive number"),
        ({"capability_below": 3, "no_data": True}, "exactly one key"),
    ],
)
def test_broken_triggers_are_refused_with_their_path(
    raw: dict[str, Any], trigger: dict[str, Any], message: str
) -> None:
    data = copy.deepcopy(raw)
    data["recommendations"][2]["trigger"] = [trigger]
    with pytest.raises(RubricError, match=re.escape(message)) as caught:
        _load(data)
    assert "catalogue.yaml: recommendations[2].trigger[0]" in str(caught.value)


def test_every_problem_is_reported_at_once(raw: dict[str, Any]) -> None:
    data = copy.deepcopy(raw)
    data["recommendations"][0]["impact"] = 0
    data["recommendations"][1]["effort"] = "high"
    data["recommendations"][2]["colour"] = "red"
    with pytest.raises(RubricError) as caught:
        _load(data)
    paths = [issue.path for issue in caught.value.issues]
    assert paths == [
        "recommendations[0].impact",
        "recommendations[1].effort",
        "recommendations[2].colour",
    ]


def test_a_catalogue_for_another_rubric_is_refused(raw: dict[str, Any]) -> None:
    data = copy.deepcopy(raw)
    data["rubric"] = "operationalization-2"
    with pytest.raises(RubricError, match="catalogue is for 'operationalization-2'"):
        _load(data)


def test_question_ids_are_checked_against_the_rubric_passed_in(tmp_path: Path) -> None:
    # The shipped catalogue names questions a small rubric does not have.
    with pytest.raises(RubricError, match="not a question of the rubric"):
        load_catalogue(catalogue_path("operationalization", 1), tiny_rubric())


def test_a_rubric_without_a_catalogue_has_none_and_the_shipped_one_is_cached() -> None:
    assert shipped_catalogue(tiny_rubric()) is None
    assert shipped_catalogue(RUBRIC) is CATALOGUE


def test_duplicate_yaml_keys_are_refused() -> None:
    text = catalogue_path("operationalization", 1).read_text()
    text = text.replace("    impact: 3\n", "    impact: 3\n    impact: 2\n", 1)
    with pytest.raises(RubricError, match="duplicate key 'impact'"):
        load_catalogue_text(text, RUBRIC, source="dup.yaml")
