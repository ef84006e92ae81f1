"""The Result's JSON form: stable, NaN-free, and read back to the same Result."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from scoring.delivery import DeliveryData
from scoring.engine import Result, score_assessment
from scoring.evidence import EvidenceFinding
from scoring.result import ResultFormatError
from scoring.rubric import get_rubric
from tests.scoring.helpers import frame, tiny_rubric

RUBRIC = get_rubric("operationalization", 1)
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def _rich_result() -> Result:
    """A result with every part filled: gaps, evidence, review, delivery, roadmap, gates."""
    rows: list[tuple[object, ...]] = []
    for i in range(3):
        for role, level in (("leadership", 5), ("engineering", 2), ("operations", 1)):
            for q in RUBRIC.questions_for(role):
                rows.append((f"{role}{i}", role, q.id, level if i else "dk"))
    facts = {
        "fact.prs-per-week": 120,
        "fact.active-reviewers": 20,
        "fact.review-hours-per-pr": 0.5,
        "fact.reviewer-hours-per-week": 6,
        "fact.agent-prs-per-week-6m": 60,
    }
    # Three people give each number: the review wall uses none from fewer.
    rows += [(f"engineering{i}", "engineering", f, v) for f, v in facts.items() for i in range(3)]
    evidence = [
        EvidenceFinding(
            "github.branch-protection", "rev.policy-ownership", "absent", 3, "t", ("p",)
        ),
        EvidenceFinding("repo.test-suite", "rev.automated-verification", "found", 3, "Tests"),
    ]
    deployments = pd.DataFrame(
        [
            {"id": f"d{k}", "time": NOW - timedelta(days=k), "status": "success", "shas": [f"c{k}"]}
            for k in range(1, 20)
        ]
    )
    changes = pd.DataFrame(
        [
            {"sha": f"c{k}", "time": NOW - timedelta(days=k, hours=k), "ai_assisted": k % 2 == 0}
            for k in range(1, 20)
        ]
    )
    incidents = pd.DataFrame(
        [{"id": "i1", "created": NOW - timedelta(days=2), "resolved": NOW, "sha": "c2"}]
    )
    return score_assessment(
        rubric=RUBRIC,
        answers=frame(rows),
        evidence=evidence,
        delivery=DeliveryData(deployments, changes, incidents),
        now=NOW,
    )


def test_a_rich_result_survives_a_json_round_trip() -> None:
    result = _rich_result()
    assert result.perception and result.roadmap and result.evidence_register
    assert result.review.projection is not None and result.delivery is not None
    assert result.delivery.lead_time_split is not None
    text = json.dumps(result.to_dict(), allow_nan=False)
    again = Result.from_dict(json.loads(text))
    assert isinstance(again, Result)
    assert json.dumps(again.to_dict(), allow_nan=False) == text
    assert again.readiness.limiting_dimension_id == result.readiness.limiting_dimension_id
    assert again.capabilities[0].evidence.findings == result.capabilities[0].evidence.findings


def test_an_empty_result_survives_a_round_trip() -> None:
    result = score_assessment(rubric=tiny_rubric(), answers=frame([]), now=NOW)
    assert Result.from_dict(result.to_dict()).to_dict() == result.to_dict()


def test_to_dict_keeps_field_order_and_declared_floats() -> None:
    data = _rich_result().to_dict()
    assert list(data)[:4] == ["engine_version", "rubric_key", "computed_at", "respondents"]
    states = data["review"]["projection"]["states"]
    assert [s["multiplier"] for s in states] == [1.0, 2.0, 3.0, 5.0, 10.0]
    assert all(isinstance(s["multiplier"], float) for s in states)


def test_data_that_does_not_fit_is_refused_with_its_path() -> None:
    data = _rich_result().to_dict()
    broken = json.loads(json.dumps(data))
    del broken["readiness"]["score"]
    with pytest.raises(ResultFormatError, match=r"result\.readiness\.score: missing"):
        Result.from_dict(broken)
    broken = json.loads(json.dumps(data))
    broken["capabilities"][2]["n_respondents"] = "three"
    with pytest.raises(ResultFormatError, match=r"result\.capabilities\[2\]\.n_respondents"):
        Result.from_dict(broken)
    broken = json.loads(json.dumps(data))
    broken["capabilities"][0]["evidence"]["verdict"] = "maybe"
    with pytest.raises(ResultFormatError, match="'maybe' is not one of"):
        Result.from_dict(broken)
