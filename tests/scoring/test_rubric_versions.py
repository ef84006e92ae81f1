"""Rubric versions side by side: version 1 keeps scoring as it did, version 2 is the default."""

from __future__ import annotations

import json
from typing import Any

from scoring.autonomy import get_gates
from scoring.recommendations import shipped_catalogue
from scoring.rubric import DEFAULT_RUBRIC, get_rubric
from tests.scoring import v1_fixture


def _contained(stored: Any, now: Any, path: str = "") -> list[str]:
    """Where `stored` differs from `now`; keys added since (new fields with defaults) are
    allowed, a changed or removed value is not."""
    if isinstance(stored, dict):
        if not isinstance(now, dict):
            return [path]
        problems = []
        for key, value in stored.items():
            if key == "engine_version":  # a digest of the engine's source: changes by design
                continue
            if key not in now:
                problems.append(f"{path}.{key} removed")
            else:
                problems += _contained(value, now[key], f"{path}.{key}")
        return problems
    if isinstance(stored, list):
        if not isinstance(now, list) or len(stored) != len(now):
            return [f"{path} length"]
        problems = []
        for index, (a, b) in enumerate(zip(stored, now, strict=True)):
            problems += _contained(a, b, f"{path}[{index}]")
        return problems
    return [] if stored == now else [f"{path}: {stored!r} -> {now!r}"]


def test_a_version_1_assessment_scores_exactly_as_its_stored_result() -> None:
    stored = json.loads(v1_fixture.STORED.read_text())
    now = json.loads(json.dumps(v1_fixture.score().to_dict()))
    assert _contained(stored, now) == []


def test_new_assessments_get_version_2_and_version_1_stays_installed() -> None:
    assert DEFAULT_RUBRIC == ("operationalization", 2)
    assert get_rubric("operationalization", 1).version == 1


def test_gates_and_catalogue_are_versioned_with_the_rubric() -> None:
    v1, v2 = get_rubric("operationalization", 1), get_rubric("operationalization", 2)
    assert [g.id for g in get_gates(v1)] == [
        "suggest-only",
        "pull-requests-with-review",
        "auto-merge-low-risk",
        "unattended-processes",
    ]
    assert [g.id for g in get_gates(v2)] == [
        "suggest-only",
        "pull-requests-with-review",
        "auto-merge-low-risk",
        "supervised-processes",
        "unattended-processes",
    ]
    one, two = shipped_catalogue(v1), shipped_catalogue(v2)
    assert one is not None and two is not None
    assert one.rubric_key == "operationalization-1"
    assert two.rubric_key == "operationalization-2"
