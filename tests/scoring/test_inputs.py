"""Each configurable input changes the outputs it should, and nothing else.

The whole result is flattened to paths (`dimensions.review.score`, `readiness.confidence`)
and compared before and after one input changes: the paths that must move, move; every other
path stays as it was. Ignoring dimension weights in the headline, or letting a target leak into
a score, fails here even though each number still looks plausible on its own.
"""

from __future__ import annotations

import fnmatch
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest

from scoring.delivery import DeliveryData
from scoring.engine import score_assessment
from scoring.evidence import EvidenceFinding
from scoring.recommendations import get_catalogue
from scoring.rubric import AUDIENCES, get_rubric
from scoring.scores import COLUMNS

RUBRIC = get_rubric("operationalization", 1)
NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
ALWAYS = {"engine_version", "computed_at"}


def _answers() -> pd.DataFrame:
    """Twelve respondents, three per role, answering everything their role sees with levels
    that differ by dimension (so weights and targets have something to move)."""
    rng = random.Random(16)
    rows: list[tuple[Any, ...]] = []
    for role in AUDIENCES:
        for n in range(3):
            rid = f"{role}-{n}"
            for index, dimension in enumerate(RUBRIC.dimensions):
                for capability in dimension.capabilities:
                    for question in capability.questions:
                        if role in question.audience:
                            level = min(5, max(1, 1 + index + rng.choice([-1, 0, 0, 1])))
                            rows.append((rid, role, question.id, "level", level, None))
            for fact, value in (
                ("fact.prs-per-week", 60),
                ("fact.active-reviewers", 8),
                ("fact.review-hours-per-pr", 1),
                ("fact.reviewer-hours-per-week", 10),
            ):
                if role in RUBRIC.fact(fact).audience:
                    rows.append((rid, role, fact, "number", None, float(value)))
    return pd.DataFrame(rows, columns=list(COLUMNS))


ANSWERS = _answers()


def _flatten(value: Any, path: str = "") -> dict[str, Any]:
    """Leaf values by dotted path; lists of records are keyed by their id where they have one."""
    out: dict[str, Any] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            out.update(_flatten(item, f"{path}.{key}" if path else str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            key = str(index)
            if isinstance(item, dict):
                key = str(item.get("id") or item.get("capability_id") or index)
            out.update(_flatten(item, f"{path}.{key}"))
        if not value:
            out[path] = []
    else:
        out[path] = value
    return out


def _result(**changes: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {"rubric": RUBRIC, "answers": ANSWERS, "now": NOW}
    arguments.update(changes)
    return _flatten(score_assessment(**arguments).to_dict())


BASE = _result()


def _changed(after: dict[str, Any]) -> set[str]:
    keys = set(BASE) | set(after)
    return {k for k in keys if BASE.get(k) != after.get(k) and k not in ALWAYS}


def _assert_only(changed: set[str], allowed: list[str], required: list[str]) -> None:
    stray = sorted(p for p in changed if not any(fnmatch.fnmatchcase(p, a) for a in allowed))
    assert not stray, f"changed where it must not: {stray[:12]}"
    for pattern in required:
        assert any(fnmatch.fnmatchcase(p, pattern) for p in changed), f"{pattern} did not change"


def _dimension_of(capability_id: str) -> str:
    return next(d.id for d in RUBRIC.dimensions if capability_id in {c.id for c in d.capabilities})


def test_the_base_result_has_distinct_dimension_scores_to_weigh() -> None:
    scores = [BASE[f"dimensions.{d.id}.score"] for d in RUBRIC.dimensions]
    assert len(set(scores)) == len(scores)


@pytest.mark.parametrize("dimension", [d.id for d in RUBRIC.dimensions])
def test_a_dimension_weight_moves_the_headline_and_nothing_below_it(dimension: str) -> None:
    changed = _changed(_result(weights={dimension: 4}))
    _assert_only(
        changed,
        allowed=["readiness.*", f"dimensions.{dimension}.weight"],
        required=["readiness.weighted_mean", f"dimensions.{dimension}.weight"],
    )


def test_a_dimension_weight_of_zero_takes_it_out_of_the_headline() -> None:
    weakest = BASE["readiness.limiting_dimension_id"]
    changed = _changed(_result(weights={weakest: 0}))
    _assert_only(
        changed,
        allowed=["readiness.*", f"dimensions.{weakest}.weight"],
        required=["readiness.limiting_dimension_id", "readiness.score"],
    )


def _capability_off_its_dimension_mean() -> str:
    for dimension in RUBRIC.dimensions:
        mean = BASE[f"dimensions.{dimension.id}.score"]
        for capability in dimension.capabilities:
            if abs(BASE[f"capabilities.{capability.id}.score"] - mean) > 5:
                return capability.id
    raise AssertionError("every capability sits on its dimension's mean")


def test_a_capability_weight_moves_its_dimension_and_the_headline_only() -> None:
    capability = _capability_off_its_dimension_mean()
    dimension = _dimension_of(capability)
    changed = _changed(_result(weights={capability: 5}))
    _assert_only(
        changed,
        allowed=[
            f"capabilities.{capability}.weight",
            f"dimensions.{dimension}.*",
            "readiness.*",
            # A dimension's level can cross a roadmap trigger (dimension_below).
            "roadmap.*",
        ],
        required=[f"capabilities.{capability}.weight", f"dimensions.{dimension}.score"],
    )


@pytest.mark.parametrize("dimension", [d.id for d in RUBRIC.dimensions])
def test_a_target_moves_targets_and_gaps_of_its_dimension_only(dimension: str) -> None:
    current = BASE[f"dimensions.{dimension}.target_level"]
    target = 5 if current != 5 else 1
    capabilities = [c.id for c in RUBRIC.dimension(dimension).capabilities]
    changed = _changed(_result(targets={dimension: target}))
    _assert_only(
        changed,
        allowed=[
            f"dimensions.{dimension}.target_level",
            f"dimensions.{dimension}.gap",
            *(f"capabilities.{c}.target_level" for c in capabilities),
            *(f"capabilities.{c}.gap" for c in capabilities),
            # Ties for the weakest dimension are broken by the distance to the target.
            "readiness.limiting_dimension_id",
            # Reasons name the target ("below its target of 3"); the triggers do not move.
            "roadmap.*.reasons.*",
            "roadmap.*.triggers.*.text",
        ],
        required=[f"dimensions.{dimension}.target_level"],
    )


def test_explicit_review_inputs_move_the_review_wall_and_what_it_triggers_only() -> None:
    overrides = {
        "prs_per_week": 75,
        "reviewers": 8,
        "hours_per_pr": 1,
        "reviewer_hours_per_week": 10,
    }
    changed = _changed(_result(review_overrides=overrides))
    _assert_only(
        changed,
        allowed=["review.*", "roadmap.*"],
        required=["review.source", "review.projection.inputs.prs_per_week"],
    )


def _evidence(capability: str, status: str) -> list[EvidenceFinding]:
    return [
        EvidenceFinding("det.one", capability, status, 3, "One", ("repo:one",)),
        EvidenceFinding("det.two", capability, status, 3, "Two", ("repo:two",)),
    ]


@pytest.mark.parametrize("status", ["absent", "found"])
def test_scan_evidence_moves_verdicts_confidence_and_adjusted_scores_never_the_claims(
    status: str,
) -> None:
    capability = max(RUBRIC.capabilities, key=lambda c: BASE[f"capabilities.{c.id}.score"]).id
    if status == "found":
        capability = min(RUBRIC.capabilities, key=lambda c: BASE[f"capabilities.{c.id}.score"]).id
    dimension = _dimension_of(capability)
    changed = _changed(_result(evidence=_evidence(capability, status)))
    _assert_only(
        changed,
        allowed=[
            f"capabilities.{capability}.evidence.*",
            f"capabilities.{capability}.confidence*",
            f"capabilities.{capability}.low_confidence",
            f"dimensions.{dimension}.confidence*",
            f"dimensions.{dimension}.low_confidence",
            f"dimensions.{dimension}.adjusted_score",
            "readiness.confidence*",
            "readiness.low_confidence",
            "readiness.adjusted_score",
            "contradictions*",
            "evidence_register*",
            "roadmap*",
            "autonomy.*",
        ],
        required=[
            f"capabilities.{capability}.evidence.verdict",
            f"capabilities.{capability}.confidence",
            f"dimensions.{dimension}.adjusted_score",
        ],
    )
    for path in changed:
        assert not path.endswith((".score", ".level", ".exact_level", ".gap")), path


def _delivery() -> DeliveryData:
    start = NOW - timedelta(days=40)
    deployments = [
        {"id": f"d{i}", "time": start + timedelta(days=i), "status": "success", "shas": [f"s{i}"]}
        for i in range(40)
    ]
    changes = [{"sha": f"s{i}", "time": start + timedelta(days=i, hours=-5)} for i in range(40)]
    return DeliveryData(pd.DataFrame(deployments), pd.DataFrame(changes), None)


def test_delivery_records_move_the_delivery_metrics_only() -> None:
    changed = _changed(_result(delivery=_delivery()))
    _assert_only(changed, allowed=["delivery*"], required=["delivery.lead_time_hours"])


def test_the_clock_changes_nothing_without_delivery_records() -> None:
    assert _changed(_result(now=NOW + timedelta(days=400))) == set()


def test_the_clock_moves_only_the_delivery_window_with_delivery_records() -> None:
    with_delivery = _flatten(
        score_assessment(rubric=RUBRIC, answers=ANSWERS, delivery=_delivery(), now=NOW).to_dict()
    )
    later = _flatten(
        score_assessment(
            rubric=RUBRIC, answers=ANSWERS, delivery=_delivery(), now=NOW + timedelta(days=30)
        ).to_dict()
    )
    changed = {
        k
        for k in set(with_delivery) | set(later)
        if with_delivery.get(k) != later.get(k) and k not in ALWAYS
    }
    _assert_only(changed, allowed=["delivery.*"], required=["delivery.window_end"])


def test_the_recommendation_catalogue_moves_the_roadmap_only() -> None:
    catalogue = get_catalogue("operationalization", 1)
    first = next(iter(catalogue.items))
    trimmed = type(catalogue)(
        **{
            **{f: getattr(catalogue, f) for f in catalogue.__dataclass_fields__},
            "items": {k: v for k, v in catalogue.items.items() if k != first},
        }
    )
    changed = _changed(_result(recommendations=trimmed))
    _assert_only(changed, allowed=["roadmap*"], required=["roadmap*"])
