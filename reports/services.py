"""The adapter between the database and the pure scoring engine.

Rows become the engine's plain inputs here (and only here); the engine's result is cached as
JSON by a hash of those inputs, so it is recomputed exactly when something it depends on
changes: an answer, a submission, the targets or weights, scan evidence, a level agreed in a
workshop or the engine itself. Views find it without reading the inputs: by the assessment's
inputs token (assessments.inputs), which every such change replaces.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import CharField, Q
from django.db.models.functions import Cast
from django.utils import timezone

from assessments.inputs import token_for
from assessments.models import Answer, Assessment, InputsVersion, Respondent
from assessments.processes import services as processes
from assessments.scans import services as scans
from assessments.scans.engine.detectors import practice_titles
from assessments.workshops import services as workshops
from reports import charts
from reports.models import ResultSnapshot
from scoring.delivery import DeliveryData
from scoring.engine import ENGINE_VERSION, inputs_hash, score_assessment
from scoring.errors import ScoringInputError
from scoring.evidence import EvidenceFinding

logger = logging.getLogger(__name__)
ANSWER_COLUMNS = ["respondent_id", "role", "question_id", "choice", "level", "number"]


def excluded_count(assessment: Assessment) -> int:
    """Finished responses that an owner left out of the results (their answers are kept): the
    results page and the report say how many, so nobody reads a count that silently shrank."""
    return Respondent.objects.filter(
        assessment=assessment,
        status=Respondent.Status.SUBMITTED,
        excluded_at__isnull=False,
    ).count()


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
        # The id as text: turning every row's id into a UUID object cost more than scoring.
        .annotate(rid=Cast("respondent_id", output_field=CharField()))
        .values_list("rid", "respondent__role", "question_id", "choice", "level", "number")
    )
    frame = pd.DataFrame.from_records(list(rows), columns=ANSWER_COLUMNS)
    # One canonical spelling (str(uuid)) whatever the database's: converted once per respondent.
    codes, ids = pd.factorize(frame["respondent_id"])
    canonical = np.array([str(uuid.UUID(str(i))) for i in ids], dtype=object)
    frame["respondent_id"] = canonical[codes] if len(codes) else frame["respondent_id"].astype(str)
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
    snapshot_id: Any = None
    figures: dict[str, Any] = field(default_factory=dict)


class ResultUnavailable(Exception):
    """The stored inputs cannot be scored; the message is safe to show."""


def _settings_key(assessment: Assessment) -> str:
    """What the cache key takes straight from the assessment row: the engine, the pinned
    rubric, targets, weights, the repositories in scope and the production environments.
    Everything else the result reads is in the inputs token."""
    head = {
        "engine": ENGINE_VERSION,
        "rubric": assessment.rubric.key,
        "targets": assessment.targets or {},
        "weights": assessment.weights or {},
        # Evidence weighs by the share of the organisation scanned (issue 10), and delivery
        # counts the environments named production: both change the result without an input.
        "repositories_in_scope": assessment.repositories_in_scope,
        "environments": list(settings.DELIVERY_ENVIRONMENTS),
    }
    return hashlib.sha256(json.dumps(head, sort_keys=True, default=str).encode()).hexdigest()


def _cached(assessment: Assessment, now: datetime) -> ResultSnapshot | None:
    """One query: the snapshot stored under the assessment's current inputs token and settings,
    and, for results with delivery metrics (which measure up to today), computed today."""
    token = InputsVersion.objects.filter(assessment=assessment).values("token")[:1]
    return (
        ResultSnapshot.objects.filter(
            assessment=assessment, settings_key=_settings_key(assessment), inputs_token=token
        )
        .filter(Q(valid_on__isnull=True) | Q(valid_on=now.date()))
        .first()
    )


def _view(snapshot: ResultSnapshot, *, fresh: bool) -> ResultView:
    return ResultView(
        snapshot.data,
        snapshot.inputs_hash,
        snapshot.created_at,
        fresh=fresh,
        snapshot_id=snapshot.pk,
        figures=snapshot.figures or {},
    )


def result_compute(*, assessment: Assessment, now: datetime | None = None) -> ResultView:
    """The assessment's result: found by one lookup while its inputs token and settings are
    unchanged (the time does not grow with the number of answers); otherwise the inputs are
    read, and scored unless a snapshot of the same inputs (by hash) already exists."""
    now = now or timezone.now()
    cached = _cached(assessment, now)
    if cached is not None:
        return _view(cached, fresh=False)
    # The token is read before the inputs: a change committed in between gives a new token,
    # so what is stored below under this one is never served as current.
    token = token_for(assessment)
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
    excluded = excluded_count(assessment)
    # The same answers with a different number left out (an excluded response that had no
    # counted answer) must not be served the old count.
    digest = hashlib.sha256(f"{digest}:excluded={excluded}".encode()).hexdigest()
    lookup = {
        "settings_key": _settings_key(assessment),
        "inputs_token": token,
        "valid_on": now.date() if delivery is not None else None,
    }
    same = ResultSnapshot.objects.filter(assessment=assessment, inputs_hash=digest).first()
    if same is not None:
        ResultSnapshot.objects.filter(pk=same.pk).update(**lookup)
        return _view(same, fresh=False)
    try:
        result = score_assessment(
            rubric=rubric,
            answers=answers,
            evidence=evidence,
            delivery=delivery,
            targets=targets,
            weights=weights,
            workshop=agreed,
            evidence_titles=practice_titles(),
            now=now,
        )
    except ScoringInputError as exc:
        logger.warning("Assessment %s cannot be scored: %s", assessment.pk, exc)
        raise ResultUnavailable(str(exc)) from exc
    data = result.to_dict()
    data["excluded_respondents"] = excluded
    try:
        with transaction.atomic():
            snapshot = ResultSnapshot.objects.create(
                assessment=assessment, inputs_hash=digest, data=data, created_at=now, **lookup
            )
    except IntegrityError:  # computed concurrently by another request: same inputs, same data
        snapshot = ResultSnapshot.objects.get(assessment=assessment, inputs_hash=digest)
    ResultSnapshot.objects.filter(assessment=assessment).exclude(pk=snapshot.pk).delete()
    # Read back what was stored: PostgreSQL's jsonb keeps keys in its own order, and a page
    # must read the same whether its result was just computed or found in the cache.
    snapshot.refresh_from_db(fields=["data"])
    return _view(snapshot, fresh=True)


def _charts_fingerprint() -> str:
    """The chart builders' code and plotly's version: a change to either redraws."""
    import plotly

    digest = hashlib.sha256(Path(charts.__file__).read_bytes())
    digest.update(plotly.__version__.encode())
    return digest.hexdigest()[:16]


CHARTS_VERSION = _charts_fingerprint()


def result_figures(view: ResultView) -> dict[str, Any]:
    """The results page's plotly figures, built once per result and stored beside it."""
    if view.figures.get("version") == CHARTS_VERSION:
        return view.figures
    result = view.data
    figures = {
        "version": CHARTS_VERSION,
        "radar": charts.figure_json(charts.radar(result)),
        "heatmap": charts.figure_json(charts.heatmap(result)),
        "review": charts.figure_json(charts.review_wall(result)),
    }
    if view.snapshot_id is not None:
        stored = ResultSnapshot.objects.filter(pk=view.snapshot_id)
        stored.update(figures=figures)
        # As stored (jsonb orders keys its own way), so a cached view draws the same page.
        figures = stored.values_list("figures", flat=True).first() or figures
    return figures


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
