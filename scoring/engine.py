"""The scoring engine: answers, evidence and delivery records in; one Result out.

`score_assessment` is a pure function of its inputs (with `now` passed in), so the same inputs
always give the same result, and `inputs_hash` names those inputs for caching. The Result is
plain dataclasses (`scoring.result`); `Result.to_dict()` gives JSON-ready data with no NaN
anywhere, which is what pages, PDFs and exports render, and `Result.from_dict()` reads it back.
Every formula is in docs/methodology.md.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from scoring import autonomy as autonomy_gates
from scoring import delivery as delivery_metrics
from scoring import review_capacity
from scoring.delivery import DeliveryData
from scoring.errors import ScoringInputError
from scoring.evidence import (
    ContradictionEntry,
    EvidenceFinding,
    contradiction_entry,
    reconcile,
    validate_findings,
)
from scoring.recommendations import Catalogue, shipped_catalogue
from scoring.result import (
    CapabilityResult,
    DimensionResult,
    Readiness,
    Result,
    ResultFormatError,
    ReviewResult,
    to_plain,
)
from scoring.roadmap import GateNeed, Signals, build_roadmap
from scoring.rubric import LEVELS, Rubric
from scoring.scores import (
    COLUMNS,
    MIN_GROUP,
    POINTS_PER_LEVEL,
    FactValue,
    answer_confidence,
    capability_stats,
    confidence_label,
    fact_values,
    facts_shown,
    leadership_optimism,
    level_to_score,
    perception_gaps,
    prepare,
    question_stats,
    questions_shown,
    score_to_exact_level,
    score_to_level,
    weighted_mean,
)
from scoring.workshop import (
    AgreedLevel,
    by_capability,
    check_agreed,
    combine,
    room_confidence,
    room_summary,
)

__all__ = [
    "ENGINE_VERSION",
    "AgreedLevel",
    "CapabilityResult",
    "Catalogue",
    "DeliveryData",
    "DimensionResult",
    "EvidenceFinding",
    "Readiness",
    "Result",
    "ResultFormatError",
    "ReviewResult",
    "ScoringInputError",
    "inputs_hash",
    "score_assessment",
]

# Evidence that agrees with the answers raises confidence by up to this much; evidence that
# contradicts them scales it down by up to this share (both scaled by evidence coverage).
AGREEING_EVIDENCE_BONUS = 0.2
CONTRADICTING_EVIDENCE_PENALTY = 0.3
MAX_WEIGHT = 100.0


def _source_fingerprint() -> str:
    """A digest of the engine's code and data files: any change to how results are computed
    gives new cache keys, so a stored result is never served from older code."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for path in sorted([*package.glob("*.py"), *package.rglob("*.yaml")]):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


ENGINE_VERSION = "1.1+" + _source_fingerprint()


def _check_settings(
    rubric: Rubric, targets: Mapping[str, int], weights: Mapping[str, float]
) -> None:
    problems = []
    dimension_ids = {d.id for d in rubric.dimensions}
    capability_ids = {c.id for c in rubric.capabilities}
    for key, level in targets.items():
        if key not in dimension_ids:
            problems.append(f"target for unknown dimension {key!r}")
        elif isinstance(level, bool) or level not in LEVELS:
            problems.append(f"target for {key} must be a level from 1 to 5, not {level!r}")
    for key, weight in weights.items():
        if key not in dimension_ids | capability_ids:
            problems.append(f"weight for unknown dimension or capability {key!r}")
        elif (
            isinstance(weight, bool)
            or not isinstance(weight, int | float)
            or not math.isfinite(weight)
            or not 0 <= weight <= MAX_WEIGHT
        ):
            problems.append(f"weight for {key} must be a number from 0 to 100, not {weight!r}")
    if problems:
        raise ScoringInputError(problems)
    for dimension in rubric.dimensions:
        if not any(weights.get(c.id, c.weight) > 0 for c in dimension.capabilities):
            problems.append(f"weights leave no capability of {dimension.id} with weight above 0")
    if not any(weights.get(d.id, d.weight) > 0 for d in rubric.dimensions):
        problems.append("weights leave no dimension with weight above 0")
    if problems:
        raise ScoringInputError(problems)


def _check_now(now: Any) -> None:
    if not isinstance(now, datetime) or now.tzinfo is None:
        raise ScoringInputError([f"now must be a timezone-aware datetime, not {now!r}"])


def score_assessment(
    *,
    rubric: Rubric,
    answers: pd.DataFrame,
    evidence: Sequence[EvidenceFinding] = (),
    delivery: DeliveryData | None = None,
    targets: Mapping[str, int] | None = None,
    weights: Mapping[str, float] | None = None,
    review_overrides: Mapping[str, float] | None = None,
    recommendations: Catalogue | None = None,
    workshop: Sequence[AgreedLevel] = (),
    evidence_titles: Mapping[str, str] | None = None,
    now: datetime,
) -> Result:
    """Score one assessment. Raises ScoringInputError listing every problem with the inputs.

    answers: one row per (respondent, question) with COLUMNS; evidence: scan findings;
    delivery: deployment/change/incident records for the DORA measures; targets: level per
    dimension (default: the rubric's); weights: per dimension or capability, 0-100 (default:
    the rubric's); review_overrides: explicit review-wall inputs that win over the survey's
    facts (see REVIEW_INPUTS and OPTIONAL_REVIEW_INPUTS); recommendations: the catalogue
    (default: the one shipped for the rubric, none for a rubric without one); workshop:
    levels agreed in a live workshop, which replace the survey median of their capability
    (scoring.workshop.combine; each capability says its source); evidence_titles: what each
    scan detector looks for, so gate requirements read as practices rather than ids; now:
    aware.
    """
    _check_now(now)
    targets = dict(targets or {})
    weights = dict(weights or {})
    _check_settings(rubric, targets, weights)
    validate_findings(findings=evidence, capability_ids={c.id for c in rubric.capabilities})
    check_agreed(workshop, (c.id for c in rubric.capabilities))
    agreed = by_capability(workshop)
    prepared = prepare(rubric=rubric, answers=answers)
    stats = capability_stats(rubric=rubric, prepared=prepared)
    findings_by_capability: dict[str, list[EvidenceFinding]] = {}
    for finding in evidence:
        findings_by_capability.setdefault(finding.capability, []).append(finding)

    capabilities = []
    register: list[ContradictionEntry] = []
    for dimension in rubric.dimensions:
        target = targets.get(dimension.id, dimension.target_level)
        for capability in dimension.capabilities:
            s = stats[capability.id]
            combined = combine(survey_median=s.median, agreed=agreed.get(capability.id))
            score = level_to_score(combined.level) if combined.level is not None else None
            verdict = reconcile(
                claim_score=score, findings=findings_by_capability.get(capability.id, [])
            )
            if combined.workshop is not None:
                confidence = room_confidence(combined.workshop.distribution)
            else:
                confidence = answer_confidence(s)
            if verdict.verdict == "agrees":
                confidence = min(1.0, confidence + AGREEING_EVIDENCE_BONUS * verdict.coverage)
            elif verdict.verdict == "contradicts":
                confidence *= 1.0 - CONTRADICTING_EVIDENCE_PENALTY * verdict.coverage
            # Head count caps the label: the room's level voters for an agreed level, else the
            # survey's respondents on this capability.
            heads = (
                combined.workshop.distribution.level_voters
                if combined.workshop is not None
                else s.n_respondents
            )
            label = confidence_label(confidence, heads)
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
                    source=combined.source,
                    survey_score=level_to_score(s.median) if s.median is not None else None,
                    workshop=combined.workshop,
                )
            )
            entry = contradiction_entry(
                capability_id=capability.id,
                title=capability.title,
                claim_score=score,
                verdict=verdict,
            )
            if entry is not None:
                register.append(entry)
    by_id = {c.id: c for c in capabilities}
    order = {c.id: i for i, c in enumerate(capabilities)}
    register.sort(key=lambda e: (-abs(e.difference), order[e.capability_id]))

    dimensions = [
        _dimension(
            dimension.id,
            dimension.title,
            [by_id[c.id] for c in dimension.capabilities],
            weight=float(weights.get(dimension.id, dimension.weight)),
            target=targets.get(dimension.id, dimension.target_level),
        )
        for dimension in rubric.dimensions
    ]

    readiness = _readiness(dimensions)
    gaps = perception_gaps(rubric=rubric, prepared=prepared)
    questions = question_stats(rubric=rubric, prepared=prepared)
    facts = fact_values(rubric=rubric, prepared=prepared)
    warnings: list[str] = []
    review = _review(facts, review_overrides, warnings)
    measured = delivery_metrics.compute(delivery, now=now) if delivery is not None else None
    overclaims = frozenset(c.id for c in capabilities if c.evidence.direction == "overclaim")
    autonomy = autonomy_gates.evaluate(
        gates=autonomy_gates.get_gates(rubric),
        levels={c.id: _gate_level(c) for c in capabilities},
        claimed={c.id: c.level for c in capabilities},
        low_confidence=frozenset(c.id for c in capabilities if c.low_confidence),
        inputs=autonomy_gates.GateInputs(
            answers={qid: q.median for qid, q in questions.items()},
            evidence=_detector_status(evidence),
            review_utilisation=_planned_utilisation(review),
            review_utilisation_today=_today_utilisation(review),
            facts={fid: f.median for fid, f in facts.items()},
            question_texts={q.id: q.text for q in rubric.questions},
            fact_texts={f.id: f.text for f in rubric.facts},
            # What each detector looks for, from the scan catalogue where the caller knows it
            # (a detector never scanned has no finding to take its title from).
            evidence_titles={**{f.detector: f.title for f in evidence}, **(evidence_titles or {})},
        ),
    )

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
        fact_medians={fid: f.median for fid, f in facts.items()},
        fact_texts={f.id: f.text for f in rubric.facts},
        capability_exact={c.id: c.exact_level for c in capabilities},
        capability_targets={c.id: c.target_level for c in capabilities},
        dimension_exact={d.id: d.exact_level for d in dimensions},
        dimension_targets={d.id: d.target_level for d in dimensions},
        fact_units={f.id: f.unit for f in rubric.facts},
        few_answers=frozenset(
            [qid for qid, q in questions_shown(questions).items() if q.withheld]
            + [fid for fid, f in facts_shown(facts).items() if f.withheld]
        ),
        gate_needs=_gate_needs(autonomy),
    )
    catalogue = recommendations if recommendations is not None else shipped_catalogue(rubric)
    if catalogue is None:
        warnings.append(f"No recommendations catalogue ships for rubric {rubric.key}.")
        roadmap = []
    else:
        roadmap = build_roadmap(catalogue=catalogue, signals=signals)
    respondents = prepared.frame.drop_duplicates("respondent_id")
    by_role = respondents["role"].value_counts()
    answered = prepared.per_respondent["respondent_id"].nunique()
    room = room_summary(workshop)
    if answered < 3 and (room is None or room.participants < 3):
        warnings.insert(
            0, "Fewer than three people answered: treat every number as a first impression."
        )
    missing = [c.title for c in capabilities if c.score is None]
    if missing:
        warnings.append("No answers yet for: " + ", ".join(missing) + ".")
    return Result(
        engine_version=ENGINE_VERSION,
        rubric_key=rubric.key,
        computed_at=now.isoformat(),
        respondents=int(len(respondents)),
        respondents_by_role={role: int(by_role.get(role, 0)) for role in rubric.audiences},
        readiness=readiness,
        dimensions=tuple(dimensions),
        capabilities=tuple(capabilities),
        questions=questions_shown(questions),
        facts=facts_shown(facts),
        perception=tuple(gaps),
        leadership_optimism=leadership_optimism(gaps),
        contradictions=tuple(c.id for c in capabilities if c.evidence.verdict == "contradicts"),
        roadmap=tuple(roadmap),
        autonomy=autonomy,
        review=review,
        delivery=measured,
        warnings=tuple(warnings),
        evidence_register=tuple(register),
        room=room,
    )


def _gate_needs(autonomy: autonomy_gates.Autonomy | None) -> tuple[GateNeed, ...]:
    """The gates not granted yet, next first, with what each lacks (for the roadmap)."""
    if autonomy is None:
        return ()
    return tuple(
        GateNeed(
            gate_id=step.gate.id,
            gate_title=step.gate.title,
            capabilities=frozenset(m.capability_id for m in step.missing if m.kind != "answer"),
            questions=frozenset(m.subject for m in step.missing if m.kind == "answer"),
        )
        for step in autonomy.steps[autonomy.granted_index + 1 :]
    )


def _detector_status(findings: Sequence[EvidenceFinding]) -> dict[str, str]:
    """Per scan detector over every scanned source (autonomy.detector_status)."""
    return autonomy_gates.detector_status((f.detector, f.status) for f in findings)


def _planned_utilisation(review: ReviewResult) -> float | None:
    """Review utilisation at the planned agent volume: the highest of the planned horizons,
    or today's when no plan was given; None without review figures."""
    projection = review.projection
    if projection is None:
        return None
    if projection.planned:
        return max(state.utilisation for state in projection.planned)
    return 1 / projection.saturation_multiplier if projection.saturation_multiplier > 0 else None


def _today_utilisation(review: ReviewResult) -> float | None:
    """Today's review utilisation when _planned_utilisation is a forecast at a planned
    volume (for the gate label to name both); None when there is no plan."""
    projection = review.projection
    if projection is None or not projection.planned:
        return None
    return 1 / projection.saturation_multiplier if projection.saturation_multiplier > 0 else None


def _gate_level(capability: CapabilityResult) -> int | None:
    """The level autonomy gates read: the claimed level, or the level of the evidence-adjusted
    score when scan evidence contradicts the claim and that is lower. An overclaim the scans
    refute cannot unlock autonomy; an underclaim never raises it above what people report."""
    verdict = capability.evidence
    if capability.level is None or verdict.verdict != "contradicts":
        return capability.level
    if verdict.adjusted_score is None:
        return capability.level
    return min(capability.level, score_to_level(verdict.adjusted_score))


def _dimension(
    dimension_id: str, title: str, caps: list[CapabilityResult], *, weight: float, target: int
) -> DimensionResult:
    """Weighted means of the capabilities; unanswered capabilities count as zero confidence."""
    cap_weights = {c.id: c.weight for c in caps}
    score = weighted_mean({c.id: c.score for c in caps}, cap_weights)
    adjusted = weighted_mean({c.id: c.evidence.adjusted_score for c in caps}, cap_weights)
    total_weight = sum(cap_weights.values()) or 1.0
    confidence = sum(c.confidence * c.weight for c in caps) / total_weight
    exact = score_to_exact_level(score) if score is not None else None
    # Never more certain than its most certain capability, whose label already counts heads.
    label = _capped_label(confidence, (c.confidence_label for c in caps))
    return DimensionResult(
        id=dimension_id,
        title=title,
        weight=weight,
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


_LABEL_RANK = {"low": 0, "medium": 1, "high": 2}


def _capped_label(confidence: float, parts: Iterable[str]) -> str:
    """The label of `confidence`, lowered to the best label among the parts it averages: two
    respondents cannot make a dimension "high" by being averaged with nothing."""
    best = max(parts, key=_LABEL_RANK.__getitem__, default="low")
    return min(confidence_label(confidence), best, key=_LABEL_RANK.__getitem__)


def _weakest_link(scores: Mapping[str, float], weights: Mapping[str, float]) -> float:
    """min(weighted mean, lowest score + one level): readiness may exceed the weakest
    dimension by at most one level."""
    mean = weighted_mean(dict(scores), weights)
    assert mean is not None
    return min(mean, min(scores.values()) + POINTS_PER_LEVEL)


def _readiness(dimensions: list[DimensionResult]) -> Readiness:
    total = sum(d.weight for d in dimensions) or 1.0
    confidence = sum(d.confidence * d.weight for d in dimensions) / total
    label = _capped_label(confidence, (d.confidence_label for d in dimensions if d.weight > 0))
    # A dimension weighted 0 is left out of the mean and cannot be the weakest link either.
    scored = [d for d in dimensions if d.score is not None and d.weight > 0]
    not_assessed = tuple(d.id for d in dimensions if d.score is None and d.weight > 0)
    if not scored:
        return Readiness(None, None, None, None, 0.0, confidence, label, True, None, not_assessed)
    weights = {d.id: d.weight for d in scored}
    scores = {d.id: d.score for d in scored if d.score is not None}
    mean = weighted_mean(dict(scores), weights)
    assert mean is not None
    # On a tie, the dimension furthest below its target limits readiness.
    weakest = min(scored, key=lambda d: (d.score, -(d.gap or 0.0)))
    limited = _weakest_link(scores, weights)
    adjusted = {d.id: d.adjusted_score for d in scored if d.adjusted_score is not None}
    return Readiness(
        score=limited,
        level=score_to_level(limited),
        weighted_mean=mean,
        limiting_dimension_id=weakest.id,
        held_back_by=max(0.0, mean - limited),
        confidence=confidence,
        confidence_label=label,
        low_confidence=label == "low",
        adjusted_score=_weakest_link(adjusted, weights) if adjusted else None,
        not_assessed=not_assessed,
    )


# Review-wall inputs by override key, and the fact each one comes from by default.
REVIEW_INPUTS = {
    "prs_per_week": "fact.prs-per-week",
    "reviewers": "fact.active-reviewers",
    "hours_per_pr": "fact.review-hours-per-pr",
    "reviewer_hours_per_week": "fact.reviewer-hours-per-week",
}
OPTIONAL_REVIEW_INPUTS = {
    "agent_prs_6m": "fact.agent-prs-per-week-6m",
    "agent_prs_12m": "fact.agent-prs-per-week-12m",
    "hours_to_first_review": "fact.hours-to-first-review",
}
# Agent pull requests' own parameters (scoring.review_capacity.AgentParameters), by override
# key. The share comes from the survey's "share of merged changes authored by AI agents"
# (a percentage) where answered; the others are defaults with their sources in
# docs/methodology.md, section 11, until a rubric asks for them.
AGENT_REVIEW_INPUTS = (
    "agent_share",
    "agent_acceptance_rate",
    "agent_review_hours_per_pr",
    "agent_rework_rounds",
)
AGENT_SHARE_FACT = "fact.ai-authored-share"


def _agent_parameters(
    facts: Mapping[str, FactValue],
    overrides: Mapping[str, float],
    hours_per_pr: float,
    too_few: dict[str, int],
) -> review_capacity.AgentParameters:
    sources: dict[str, str] = {}

    def pick(key: str, fallback: float, source: str) -> float:
        if key in overrides:
            sources[key] = "override"
            return float(overrides[key])
        sources[key] = source
        return fallback

    share_fact = facts.get(AGENT_SHARE_FACT)
    share_median = share_fact.median if share_fact else None
    if share_fact and 0 < share_fact.n < MIN_GROUP and "agent_share" not in overrides:
        # One or two people's share would be printed as the survey's: counted as unanswered.
        too_few["agent_share"] = share_fact.n
        share_median = None
    if share_median is not None and "agent_share" not in overrides:
        share, sources["agent_share"] = share_median / 100.0, "survey"
    else:
        share = pick("agent_share", 0.0, "assumption")
    return review_capacity.AgentParameters(
        share=share,
        acceptance_rate=pick(
            "agent_acceptance_rate", review_capacity.AGENT_ACCEPTANCE_RATE, "published"
        ),
        review_hours_per_pr=pick(
            "agent_review_hours_per_pr",
            hours_per_pr * review_capacity.AGENT_REVIEW_HOURS_RATIO,
            "assumption",
        ),
        rework_rounds=pick(
            "agent_rework_rounds", review_capacity.AGENT_REWORK_ROUNDS, "assumption"
        ),
        sources=sources,
    )


def _review(
    facts: Mapping[str, FactValue], overrides: Mapping[str, float] | None, warnings: list[str]
) -> ReviewResult:
    """The review-wall projection from fact medians, with explicit overrides winning.

    A fact fewer than MIN_GROUP people answered is not used (groups of three or more, in
    every output: the wall prints its inputs): a required one leaves no projection, an
    optional one counts as unanswered; `too_few` says which and how many answered.
    An override the model refuses raises ScoringInputError; survey facts are already within
    the rubric's bounds, and a projection they cannot support is skipped with a warning.
    """
    overrides = dict(overrides or {})
    problems = [
        f"unknown review input {k!r}"
        for k in sorted(overrides)
        if k not in REVIEW_INPUTS
        and k not in OPTIONAL_REVIEW_INPUTS
        and k not in AGENT_REVIEW_INPUTS
    ]
    for key, given in sorted(overrides.items()):
        if isinstance(given, bool) or not isinstance(given, int | float):
            problems.append(f"review input {key} must be a number, not {given!r}")
    if problems:
        raise ScoringInputError(problems)
    source = "overrides" if overrides else "survey"

    too_few: dict[str, int] = {}

    def value(key: str, fact_id: str) -> float | None:
        if key in overrides:
            return float(overrides[key])
        fact = facts.get(fact_id)
        if fact is not None and fact.median is not None and fact.n < MIN_GROUP:
            too_few[key] = fact.n
            return None
        return fact.median if fact else None

    values = {key: value(key, fact_id) for key, fact_id in REVIEW_INPUTS.items()}
    if too_few:
        missing = tuple(k for k, v in values.items() if v is None and k not in too_few)
        return ReviewResult(None, missing, source, too_few)
    missing = tuple(k for k, v in values.items() if v is None)
    if missing:
        return ReviewResult(None, missing, source)
    prs, reviewers, hours_per_pr, reviewer_hours = (
        values["prs_per_week"],
        values["reviewers"],
        values["hours_per_pr"],
        values["reviewer_hours_per_week"],
    )
    assert prs is not None and reviewers is not None
    assert hours_per_pr is not None and reviewer_hours is not None
    if "reviewers" not in overrides:
        # A median of whole numbers can end in .5: round halves up to a whole reviewer.
        reviewers = math.floor(reviewers + 0.5)
    elif not reviewers.is_integer():
        raise ScoringInputError([f"reviewers must be a whole number, not {reviewers:g}"])
    if prs <= 0 and "prs_per_week" not in overrides:
        warnings.append(
            "The review wall needs pull requests per week above zero; the median answer is 0."
        )
        return ReviewResult(None, ("prs_per_week",), source)
    inputs = review_capacity.ReviewInputs(
        prs_per_week=prs,
        reviewers=int(reviewers),
        hours_per_pr=hours_per_pr,
        reviewer_hours_per_week=reviewer_hours,
        agent_prs_6m=value("agent_prs_6m", OPTIONAL_REVIEW_INPUTS["agent_prs_6m"]),
        agent_prs_12m=value("agent_prs_12m", OPTIONAL_REVIEW_INPUTS["agent_prs_12m"]),
        observed_hours_to_first_review=value(
            "hours_to_first_review", OPTIONAL_REVIEW_INPUTS["hours_to_first_review"]
        ),
        agent=_agent_parameters(facts, overrides, hours_per_pr, too_few),
    )
    try:
        return ReviewResult(review_capacity.project(inputs), (), source, too_few)
    except ScoringInputError as exc:
        if overrides:
            raise  # explicit input: refuse it loudly
        warnings.append(f"The review wall could not be projected: {exc}")
        return ReviewResult(None, (), source, too_few)


# --- Cache keys -----------------------------------------------------------------------------


def _canonical_answers(answers: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in COLUMNS if c not in answers.columns]
    if missing:
        raise ScoringInputError([f"answers lack the column(s): {', '.join(missing)}"])
    frame = pd.DataFrame(
        {
            "respondent_id": answers["respondent_id"].astype(str).to_numpy(),
            "role": answers["role"].astype(str).to_numpy(),
            "question_id": answers["question_id"].astype(str).to_numpy(),
            "choice": answers["choice"].astype(str).to_numpy(),
            "level": pd.to_numeric(answers["level"], errors="coerce").astype("float64").to_numpy(),
            "number": pd.to_numeric(answers["number"], errors="coerce")
            .astype("float64")
            .to_numpy(),
        }
    )
    return frame.sort_values(list(COLUMNS), kind="mergesort").reset_index(drop=True)


def _canonical_records(frame: pd.DataFrame) -> pd.DataFrame:
    text = frame.reindex(columns=sorted(frame.columns, key=str)).astype(str)
    return text.sort_values(list(text.columns), kind="mergesort").reset_index(drop=True)


def _json_number(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return str(value)


def inputs_hash(
    *,
    rubric: Rubric,
    answers: pd.DataFrame,
    evidence: Sequence[EvidenceFinding] = (),
    delivery: DeliveryData | None = None,
    targets: Mapping[str, int] | None = None,
    weights: Mapping[str, float] | None = None,
    review_overrides: Mapping[str, float] | None = None,
    recommendations: Catalogue | None = None,
    workshop: Sequence[AgreedLevel] = (),
    now: datetime | None = None,
) -> str:
    """A stable name for the inputs of `score_assessment`: inputs that score the same hash
    the same (row order, 3 vs 3.0), any change that can alter the result changes it.

    Includes ENGINE_VERSION (a digest of the scoring code and data) and the rubric key. `now`
    matters only with delivery records, and then only its date (delivery metrics measure up to
    the end of that day); `computed_at` in a cached result is when it was first computed.
    """
    digest = hashlib.sha256()
    head = {
        "engine": ENGINE_VERSION,
        "rubric": rubric.key,
        "targets": {str(k): _json_number(v) for k, v in (targets or {}).items()},
        "weights": {str(k): _json_number(v) for k, v in (weights or {}).items()},
        "review": {str(k): _json_number(v) for k, v in (review_overrides or {}).items()},
        "evidence": sorted(json.dumps(to_plain(f), sort_keys=True) for f in evidence),
        "catalogue": to_plain(recommendations) if recommendations is not None else None,
        "day": now.date().isoformat() if (delivery is not None and now is not None) else None,
        "workshop": sorted(json.dumps(to_plain(a), sort_keys=True) for a in workshop),
    }
    digest.update(json.dumps(head, sort_keys=True, default=str).encode())
    canonical = _canonical_answers(answers)
    digest.update(pd.util.hash_pandas_object(canonical, index=False).to_numpy().tobytes())
    if delivery is not None:
        digest.update(json.dumps(delivery.environments).encode())
        for name in ("deployments", "changes", "incidents"):
            part = getattr(delivery, name)
            # An empty export (no incidents: failure rate 0) differs from no export (unknown).
            digest.update(name.encode() + (b"-" if part is None else b"+"))
            if part is not None and not part.empty:
                records = _canonical_records(part)
                digest.update(",".join(records.columns).encode())
                digest.update(pd.util.hash_pandas_object(records, index=False).to_numpy().tobytes())
    return digest.hexdigest()
