"""The scoring engine: answers, evidence and delivery records in; one Result out.

`score_assessment` is a pure function of its inputs (with `now` passed in), so the same inputs
always give the same result, and `inputs_hash` names those inputs for caching. The Result is
plain dataclasses; `Result.to_dict()` gives JSON-ready data with no NaN anywhere, which is what
pages, PDFs and exports render. Every formula is in docs/methodology.md.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd

from scoring import autonomy as autonomy_gates
from scoring import delivery as delivery_metrics
from scoring import review_capacity
from scoring.errors import ScoringInputError
from scoring.evidence import EvidenceFinding, EvidenceVerdict, reconcile, validate_findings
from scoring.recommendations import Catalogue, get_catalogue
from scoring.roadmap import RoadmapItem, Signals, build_roadmap
from scoring.rubric import AUDIENCES, Rubric
from scoring.scores import (
    POINTS_PER_LEVEL,
    FactValue,
    PerceptionGap,
    QuestionStat,
    answer_confidence,
    capability_stats,
    confidence_label,
    fact_values,
    leadership_optimism,
    level_to_score,
    perception_gaps,
    prepare,
    question_stats,
    score_to_exact_level,
    score_to_level,
    weighted_mean,
)


def _source_fingerprint() -> str:
    """A digest of the engine's code and data files: any change to how results are computed
    gives new cache keys, so a stored result is never served from older code."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for path in sorted([*package.glob("*.py"), *package.rglob("*.yaml")]):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


ENGINE_VERSION = "1.0+" + _source_fingerprint()


@dataclass(frozen=True)
class CapabilityResult:
    id: str
    dimension_id: str
    title: str
    score: float | None
    level: int | None
    exact_level: float | None
    target_level: int
    gap: float | None
    weight: float
    n_respondents: int
    n_answers: int
    n_unknown: int
    unknown_share: float
    q1: float | None
    q3: float | None
    spread: float | None
    agreement: float | None
    confidence: float
    confidence_label: str
    low_confidence: bool
    evidence: EvidenceVerdict


@dataclass(frozen=True)
class DimensionResult:
    id: str
    title: str
    weight: float
    score: float | None
    level: int | None
    exact_level: float | None
    target_level: int
    gap: float | None
    confidence: float
    confidence_label: str
    low_confidence: bool
    adjusted_score: float | None
    capability_ids: tuple[str, ...]


@dataclass(frozen=True)
class Readiness:
    score: float | None  # limited by the weakest dimension
    level: int | None
    weighted_mean: float | None
    limiting_dimension_id: str | None
    held_back_by: float  # points the weakest link takes off the weighted mean
    confidence: float
    confidence_label: str
    low_confidence: bool


@dataclass(frozen=True)
class ReviewResult:
    projection: review_capacity.ReviewProjection | None
    missing: tuple[str, ...]
    source: str  # "survey" or "overrides"


@dataclass(frozen=True)
class Result:
    engine_version: str
    rubric_key: str
    computed_at: str
    respondents: int
    respondents_by_role: Mapping[str, int]
    readiness: Readiness
    dimensions: tuple[DimensionResult, ...]
    capabilities: tuple[CapabilityResult, ...]
    questions: Mapping[str, QuestionStat]
    facts: Mapping[str, FactValue]
    perception: tuple[PerceptionGap, ...]
    leadership_optimism: float | None
    contradictions: tuple[str, ...]  # capability ids whose claims contradict the evidence
    roadmap: tuple[RoadmapItem, ...]
    autonomy: autonomy_gates.Autonomy
    review: ReviewResult
    delivery: delivery_metrics.DeliveryMetrics | None
    warnings: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        data = _plain(self)
        assert isinstance(data, dict)
        return data


def _plain(value: Any) -> Any:
    """JSON-ready copy: dataclasses and mappings to dicts, tuples to lists, floats rounded,
    NaN and infinities to None."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping | MappingProxyType):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value) if isinstance(value, set | frozenset) else value
        return [_plain(v) for v in items]
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        return round(value, 4) if math.isfinite(value) else None
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return _plain(value.item())
    return str(value)


def _check_settings(
    rubric: Rubric, targets: Mapping[str, int], weights: Mapping[str, float]
) -> None:
    problems = []
    dimension_ids = {d.id for d in rubric.dimensions}
    capability_ids = {c.id for c in rubric.capabilities}
    for key, level in targets.items():
        if key not in dimension_ids:
            problems.append(f"target for unknown dimension {key!r}")
        elif isinstance(level, bool) or level not in (1, 2, 3, 4, 5):
            problems.append(f"target for {key} must be a level from 1 to 5, not {level!r}")
    for key, weight in weights.items():
        if key not in dimension_ids | capability_ids:
            problems.append(f"weight for unknown dimension or capability {key!r}")
        elif (
            isinstance(weight, bool)
            or not isinstance(weight, int | float)
            or not math.isfinite(weight)
            or not 0 <= weight <= 100
        ):
            problems.append(f"weight for {key} must be a number from 0 to 100, not {weight!r}")
    if problems:
        raise ScoringInputError(problems)


def score_assessment(
    *,
    rubric: Rubric,
    answers: pd.DataFrame,
    evidence: Sequence[EvidenceFinding] = (),
    delivery: delivery_metrics.DeliveryData | None = None,
    targets: Mapping[str, int] | None = None,
    weights: Mapping[str, float] | None = None,
    review_overrides: Mapping[str, float] | None = None,
    recommendations: Catalogue | None = None,
    now: datetime,
) -> Result:
    targets = dict(targets or {})
    weights = dict(weights or {})
    _check_settings(rubric, targets, weights)
    validate_findings(evidence, {c.id for c in rubric.capabilities})
    prepared = prepare(rubric, answers)
    stats = capability_stats(rubric, prepared)
    findings_by_capability: dict[str, list[EvidenceFinding]] = {}
    for finding in evidence:
        findings_by_capability.setdefault(finding.capability, []).append(finding)

    capabilities = []
    for dimension in rubric.dimensions:
        target = targets.get(dimension.id, dimension.target_level)
        for capability in dimension.capabilities:
            s = stats[capability.id]
            score = level_to_score(s.median) if s.median is not None else None
            verdict = reconcile(score, findings_by_capability.get(capability.id, []))
            confidence = answer_confidence(s)
            if verdict.verdict == "agrees":
                confidence = min(1.0, confidence + 0.2 * verdict.coverage)
            elif verdict.verdict == "contradicts":
                confidence *= 1.0 - 0.3 * verdict.coverage
            label = confidence_label(confidence)
            exact = score_to_exact_level(score) if score is not None else None
            capabilities.append(
                CapabilityResult(
                    id=capability.id,
                    dimension_id=dimension.id,
                    title=capability.title,
                    score=score,
                    level=score_to_level(score) if score is not None else None,
                    exact_level=exact,
                    target_level=target,
                    gap=max(0.0, target - exact) if exact is not None else None,
                    weight=float(weights.get(capability.id, capability.weight)),
                    n_respondents=s.n_respondents,
                    n_answers=s.n_level_answers,
                    n_unknown=s.n_unknown,
                    unknown_share=s.unknown_share,
                    q1=s.q1,
                    q3=s.q3,
                    spread=s.spread,
                    agreement=s.agreement,
                    confidence=confidence,
                    confidence_label=label,
                    low_confidence=label == "low",
                    evidence=verdict,
                )
            )
    by_id = {c.id: c for c in capabilities}

    dimensions = []
    for dimension in rubric.dimensions:
        caps = [by_id[c.id] for c in dimension.capabilities]
        cap_weights = {c.id: c.weight for c in caps}
        score = weighted_mean({c.id: c.score for c in caps}, cap_weights)
        adjusted = weighted_mean({c.id: c.evidence.adjusted_score for c in caps}, cap_weights)
        total_weight = sum(cap_weights.values()) or 1.0
        # A capability without answers counts as zero confidence in its dimension.
        confidence = sum(c.confidence * c.weight for c in caps) / total_weight
        target = targets.get(dimension.id, dimension.target_level)
        exact = score_to_exact_level(score) if score is not None else None
        label = confidence_label(confidence)
        dimensions.append(
            DimensionResult(
                id=dimension.id,
                title=dimension.title,
                weight=float(weights.get(dimension.id, dimension.weight)),
                score=score,
                level=score_to_level(score) if score is not None else None,
                exact_level=exact,
                target_level=target,
                gap=max(0.0, target - exact) if exact is not None else None,
                confidence=confidence,
                confidence_label=label,
                low_confidence=label == "low",
                adjusted_score=adjusted,
                capability_ids=tuple(c.id for c in caps),
            )
        )

    readiness = _readiness(dimensions)
    gaps = perception_gaps(rubric, prepared)
    questions = question_stats(rubric, prepared)
    facts = fact_values(rubric, prepared)
    review = _review(facts, review_overrides)
    measured = delivery_metrics.compute(delivery, now=now) if delivery is not None else None
    overclaims = frozenset(c.id for c in capabilities if c.evidence.direction == "overclaim")
    signals = Signals(
        capability_levels={c.id: c.level for c in capabilities},
        capability_titles={c.id: c.title for c in capabilities},
        dimension_levels={d.id: d.level for d in dimensions},
        dimension_titles={d.id: d.title for d in dimensions},
        question_medians={qid: q.median for qid, q in questions.items()},
        question_texts={q.id: q.text for q in rubric.questions},
        overclaims=overclaims,
        saturation_multiplier=review.projection.saturation_multiplier
        if review.projection
        else None,
    )
    catalogue = (
        recommendations if recommendations is not None else get_catalogue(rubric.id, rubric.version)
    )
    roadmap = build_roadmap(catalogue, signals)
    autonomy = autonomy_gates.evaluate(
        autonomy_gates.get_gates(rubric), {c.id: c.level for c in capabilities}
    )

    respondents = prepared.frame.drop_duplicates("respondent_id")
    by_role = respondents["role"].value_counts()
    warnings = []
    answered = prepared.per_respondent["respondent_id"].nunique()
    if answered < 3:
        warnings.append(
            "Fewer than three people answered: treat every number as a first impression."
        )
    missing = [c.title for c in capabilities if c.score is None]
    if missing:
        warnings.append("No answers yet for: " + ", ".join(missing) + ".")
    return Result(
        engine_version=ENGINE_VERSION,
        rubric_key=rubric.key,
        computed_at=now.isoformat(),
        respondents=int(len(respondents)),
        respondents_by_role={role: int(by_role.get(role, 0)) for role in AUDIENCES},
        readiness=readiness,
        dimensions=tuple(dimensions),
        capabilities=tuple(capabilities),
        questions=questions,
        facts=facts,
        perception=tuple(gaps),
        leadership_optimism=leadership_optimism(gaps),
        contradictions=tuple(c.id for c in capabilities if c.evidence.verdict == "contradicts"),
        roadmap=tuple(roadmap),
        autonomy=autonomy,
        review=review,
        delivery=measured,
        warnings=tuple(warnings),
    )


def _readiness(dimensions: list[DimensionResult]) -> Readiness:
    scored = [d for d in dimensions if d.score is not None]
    confidence = sum(d.confidence * d.weight for d in dimensions) / (
        sum(d.weight for d in dimensions) or 1.0
    )
    label = confidence_label(confidence)
    if not scored:
        return Readiness(None, None, None, None, 0.0, confidence, label, True)
    mean = weighted_mean({d.id: d.score for d in scored}, {d.id: d.weight for d in scored})
    assert mean is not None
    weakest = min(scored, key=lambda d: (d.score, -(d.gap or 0.0)))
    assert weakest.score is not None
    # The weakest link: readiness may exceed the weakest dimension by at most one level.
    limited = min(mean, weakest.score + POINTS_PER_LEVEL)
    return Readiness(
        score=limited,
        level=score_to_level(limited),
        weighted_mean=mean,
        limiting_dimension_id=weakest.id,
        held_back_by=mean - limited,
        confidence=confidence,
        confidence_label=label,
        low_confidence=label == "low",
    )


REVIEW_FACTS = {
    "prs_per_week": "fact.prs-per-week",
    "reviewers": "fact.active-reviewers",
    "hours_per_pr": "fact.review-hours-per-pr",
    "reviewer_hours_per_week": "fact.reviewer-hours-per-week",
}


def _review(facts: Mapping[str, FactValue], overrides: Mapping[str, float] | None) -> ReviewResult:
    overrides = dict(overrides or {})
    unknown = set(overrides) - set(REVIEW_FACTS) - {"agent_prs_6m", "agent_prs_12m"}
    if unknown:
        raise ScoringInputError([f"unknown review input {k!r}" for k in sorted(unknown)])
    values: dict[str, float | None] = {}
    for key, fact_id in REVIEW_FACTS.items():
        fact = facts.get(fact_id)
        values[key] = overrides.get(key, fact.median if fact else None)
    missing = tuple(k for k, v in values.items() if v is None)
    source = "overrides" if overrides else "survey"
    if missing:
        return ReviewResult(None, missing, source)

    def fact_or_override(key: str, fact_id: str) -> float | None:
        if key in overrides:
            return overrides[key]
        fact = facts.get(fact_id)
        return fact.median if fact else None

    inputs = review_capacity.ReviewInputs(
        prs_per_week=float(values["prs_per_week"]),  # type: ignore[arg-type]
        reviewers=round(float(values["reviewers"])),  # type: ignore[arg-type]
        hours_per_pr=float(values["hours_per_pr"]),  # type: ignore[arg-type]
        reviewer_hours_per_week=float(values["reviewer_hours_per_week"]),  # type: ignore[arg-type]
        agent_prs_6m=fact_or_override("agent_prs_6m", "fact.agent-prs-per-week-6m"),
        agent_prs_12m=fact_or_override("agent_prs_12m", "fact.agent-prs-per-week-12m"),
        observed_hours_to_first_review=fact_or_override(
            "hours_to_first_review", "fact.hours-to-first-review"
        ),
    )
    if inputs.prs_per_week <= 0:
        return ReviewResult(None, ("prs_per_week",), source)
    if overrides:
        review_capacity.validate_inputs(inputs)  # explicit input: refuse it loudly
    try:
        return ReviewResult(review_capacity.project(inputs), (), source)
    except ScoringInputError:
        return ReviewResult(None, tuple(REVIEW_FACTS), source)


def inputs_hash(
    *,
    rubric: Rubric,
    answers: pd.DataFrame,
    evidence: Sequence[EvidenceFinding] = (),
    delivery: delivery_metrics.DeliveryData | None = None,
    targets: Mapping[str, int] | None = None,
    weights: Mapping[str, float] | None = None,
    review_overrides: Mapping[str, float] | None = None,
    now: datetime | None = None,
) -> str:
    """A stable name for the inputs of `score_assessment`: same inputs, same hash."""
    digest = hashlib.sha256()
    head = {
        "engine": ENGINE_VERSION,
        "rubric": rubric.key,
        "targets": dict(sorted((targets or {}).items())),
        "weights": dict(sorted((weights or {}).items())),
        "review": dict(sorted((review_overrides or {}).items())),
        "evidence": sorted(json.dumps(_plain(f), sort_keys=True) for f in evidence),
        # Delivery metrics measure up to `now`, so the day matters when there are records.
        "day": now.date().isoformat() if (delivery is not None and now is not None) else None,
    }
    digest.update(json.dumps(head, sort_keys=True).encode())
    columns = ["respondent_id", "role", "question_id", "choice", "level", "number"]
    frame = answers.loc[:, columns].astype(str).sort_values(["respondent_id", "question_id"])
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    if delivery is not None:
        for part in (delivery.deployments, delivery.changes, delivery.incidents):
            if part is not None and not part.empty:
                digest.update(
                    pd.util.hash_pandas_object(part.astype(str), index=False).to_numpy().tobytes()
                )
    return digest.hexdigest()
