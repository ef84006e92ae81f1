"""The adapter between the database and the pure scoring engine.

Rows become the engine's plain inputs here (and only here); the engine's result is cached as
JSON by a hash of those inputs, so it is recomputed exactly when something it depends on
changes: an answer, a submission, the targets or weights, scan evidence, a level agreed in a
workshop or the engine itself.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
from django.db import IntegrityError, transaction
from django.utils import timezone

from assessments.models import Answer, Assessment, Respondent
from assessments.processes import services as processes
from assessments.scans import services as scans
from assessments.workshops import services as workshops
from reports.models import ResultSnapshot
from scoring.delivery import DeliveryData
from scoring.engine import inputs_hash, score_assessment
from scoring.errors import ScoringInputError
from scoring.evidence import EvidenceFinding

logger = logging.getLogger(__name__)
ANSWER_COLUMNS = ["respondent_id", "role", "question_id", "choice", "level", "number"]


def answers_frame(assessment: Assessment) -> pd.DataFrame:
    """Answers of submitted respondents: a half-finished survey does not count yet, nor one
    that an owner excluded from the results."""
    rows = (
        Answer.objects.filter(
            respondent__assessment=assessment,
            respondent__status=Respondent.Status.SUBMITTED,
            respondent__excluded_at__isnull=True,
        )
        .exclude(choice=Answer.Choice.NONE)
        .values_list(
            "respondent_id", "respondent__role", "question_id", "choice", "level", "number"
        )
    )
    frame = pd.DataFrame.from_records(list(rows), columns=ANSWER_COLUMNS)
    frame["respondent_id"] = frame["respondent_id"].astype(str)
    return frame


def evidence_for(assessment: Assessment) -> list[EvidenceFinding]:
    """Findings of the assessment's integration scans (their current runs) and the process
    catalogue's coverage."""
    return scans.evidence_for(assessment) + processes.evidence_for(assessment)


def delivery_for(assessment: Assessment) -> DeliveryData | None:
    """Deployment, change and incident records from exports and repository history."""
    return scans.delivery_for(assessment)


@dataclass(frozen=True)
class ResultView:
    data: dict[str, Any]
    inputs_hash: str
    computed_at: datetime
    fresh: bool  # computed by this call rather than read from the cache


class ResultUnavailable(Exception):
    """The stored inputs cannot be scored; the message is safe to show."""


def result_compute(*, assessment: Assessment, now: datetime | None = None) -> ResultView:
    """The assessment's result, from the cache when its inputs are unchanged."""
    now = now or timezone.now()
    rubric = assessment.rubric
    answers = answers_frame(assessment)
    evidence = evidence_for(assessment)
    delivery = delivery_for(assessment)
    agreed = workshops.agreed_levels_for(assessment)
    targets: dict[str, int] = assessment.targets or {}
    weights: dict[str, float] = assessment.weights or {}
    digest = inputs_hash(
        rubric=rubric,
        answers=answers,
        evidence=evidence,
        delivery=delivery,
        targets=targets,
        weights=weights,
        workshop=agreed,
        now=now,
    )
    cached = ResultSnapshot.objects.filter(assessment=assessment, inputs_hash=digest).first()
    if cached is not None:
        return ResultView(cached.data, digest, cached.created_at, fresh=False)
    try:
        result = score_assessment(
            rubric=rubric,
            answers=answers,
            evidence=evidence,
            delivery=delivery,
            targets=targets,
            weights=weights,
            workshop=agreed,
            now=now,
        )
    except ScoringInputError as exc:
        logger.warning("Assessment %s cannot be scored: %s", assessment.pk, exc)
        raise ResultUnavailable(str(exc)) from exc
    data = result.to_dict()
    try:
        with transaction.atomic():
            snapshot = ResultSnapshot.objects.create(
                assessment=assessment, inputs_hash=digest, data=data, created_at=now
            )
    except IntegrityError:  # computed concurrently by another request: same inputs, same data
        snapshot = ResultSnapshot.objects.get(assessment=assessment, inputs_hash=digest)
    ResultSnapshot.objects.filter(assessment=assessment).exclude(pk=snapshot.pk).delete()
    return ResultView(snapshot.data, digest, snapshot.created_at, fresh=True)


def settings_update(
    *,
    assessment: Assessment,
    targets: dict[str, int],
    weights: dict[str, float],
    repositories_in_scope: int | None = None,
) -> None:
    """Store targets and weights that differ from the rubric's defaults, and how many
    repositories the assessment's scope holds (None: not known)."""
    rubric = assessment.rubric
    assessment.targets = {
        d.id: targets[d.id]
        for d in rubric.dimensions
        if targets.get(d.id, d.target_level) != d.target_level
    }
    defaults = {d.id: d.weight for d in rubric.dimensions} | {
        c.id: c.weight for c in rubric.capabilities
    }
    assessment.weights = {k: v for k, v in weights.items() if k in defaults and v != defaults[k]}
    assessment.repositories_in_scope = repositories_in_scope
    assessment.save(update_fields=["targets", "weights", "repositories_in_scope"])
