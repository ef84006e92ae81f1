"""The version of an assessment's scoring inputs: one token per assessment that changes whenever
anything its result is computed from changes, so the results, report and PDF views find a
cached result with one indexed lookup instead of reading and hashing every answer.

What the result reads, and what changes the token:

- answers of submitted, counted respondents: a submission, an exclusion or its undoing, a
  respondent's role or status, a respondent removed (answers cannot change once submitted);
- scan evidence and delivery records: a scan source saved or removed, a run saved (a new
  current run), findings written;
- the process catalogue of the organisation (Process, ProcessStep) and the assessment's teams;
- workshop agreements (items, dissent notes, votes removed with a participant);
- targets, weights, the rubric pin and the engine itself are part of the cache key directly
  (reports.services), so they need no token.

Saves and deletes of these models are caught by the receivers below, so no write path can
forget them; writes that bypass model signals (QuerySet.update, bulk_create) call
`inputs_changed` themselves, inside the same transaction as the write. The token is only ever
replaced after the write it stands for, so a reader that sees the old token stores a result
under a token that is never current again: at worst one extra computation, never a stale page.

Cache invalidation is plumbing rather than a business rule, which is why it is the one place
this project listens to model signals.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django.db.models import Model, Q
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone

from assessments.models import Assessment, InputsVersion, Respondent, Team
from assessments.processes.models import Process, ProcessStep
from assessments.scans.models import ScanRun, ScanSource
from assessments.workshops.models import Dissent, Vote, Workshop, WorkshopItem

# Respondent fields that no result reads: touching them (every autosave does) changes nothing.
_RESPONDENT_FIELDS_UNREAD = frozenset({"last_answer_at", "started_at", "name", "email"})


def new_token() -> str:
    return uuid.uuid4().hex


def inputs_changed(*, assessment_ids: Iterable[Any] = (), where: Q | None = None) -> None:
    """Give the assessments (by id, or matching `where`) a new inputs token: one UPDATE.
    An assessment with no token row yet has no cached result to invalidate."""
    condition = Q(assessment_id__in=list(assessment_ids))
    if where is not None:
        condition |= where
    InputsVersion.objects.filter(condition).update(token=new_token(), changed_at=timezone.now())


def organisation_inputs_changed(organisation_id: Any) -> None:
    """The process catalogue is the organisation's: every one of its assessments reads it."""
    inputs_changed(where=Q(assessment__organisation_id=organisation_id))


def token_for(assessment: Assessment) -> str:
    """The current token, created on first use (before the inputs are read)."""
    row, _created = InputsVersion.objects.get_or_create(
        assessment=assessment, defaults={"token": new_token()}
    )
    return row.token


# --- Receivers ------------------------------------------------------------------------------


def _respondent_saved(
    sender: Any, instance: Respondent, created: bool, update_fields: Any, **kw: Any
) -> None:
    if created and instance.status != Respondent.Status.SUBMITTED:
        return  # someone invited or starting: nothing counts until they submit
    if update_fields is not None and set(update_fields) <= _RESPONDENT_FIELDS_UNREAD:
        return
    inputs_changed(assessment_ids=[instance.assessment_id])


def _assessment_row(sender: Any, instance: Model, **kw: Any) -> None:
    inputs_changed(assessment_ids=[instance.assessment_id])  # type: ignore[attr-defined]


def _workshop_item(sender: Any, instance: WorkshopItem, **kw: Any) -> None:
    inputs_changed(where=Q(assessment__workshops__pk=instance.workshop_id))


def _item_child(sender: Any, instance: Dissent | Vote, **kw: Any) -> None:
    inputs_changed(where=Q(assessment__workshops__items__pk=instance.item_id))


def _process(sender: Any, instance: Process, **kw: Any) -> None:
    organisation_inputs_changed(instance.organisation_id)


def _process_step(sender: Any, instance: ProcessStep, **kw: Any) -> None:
    inputs_changed(where=Q(assessment__organisation__processes__pk=instance.process_id))


def _team_removed(sender: Any, instance: Team, **kw: Any) -> None:
    organisation_inputs_changed(instance.organisation_id)


def _assessment_teams(sender: Any, instance: Any, action: str, pk_set: Any, **kw: Any) -> None:
    if not action.startswith("post_"):
        return
    if isinstance(instance, Assessment):
        inputs_changed(assessment_ids=[instance.pk])
    else:  # changed from the team's side
        organisation_inputs_changed(instance.organisation_id)


def connect() -> None:
    """Called once from AssessmentsConfig.ready()."""
    uid = "assessments.inputs"
    post_save.connect(_respondent_saved, sender=Respondent, dispatch_uid=f"{uid}.r")
    post_delete.connect(_assessment_row, sender=Respondent, dispatch_uid=f"{uid}.rd")
    for model in (ScanSource, ScanRun, Workshop):
        post_save.connect(_assessment_row, sender=model, dispatch_uid=f"{uid}.{model.__name__}")
        post_delete.connect(_assessment_row, sender=model, dispatch_uid=f"{uid}.{model.__name__}d")
    post_save.connect(_workshop_item, sender=WorkshopItem, dispatch_uid=f"{uid}.wi")
    post_delete.connect(_workshop_item, sender=WorkshopItem, dispatch_uid=f"{uid}.wid")
    post_save.connect(_item_child, sender=Dissent, dispatch_uid=f"{uid}.ds")
    post_delete.connect(_item_child, sender=Dissent, dispatch_uid=f"{uid}.dsd")
    post_delete.connect(_item_child, sender=Vote, dispatch_uid=f"{uid}.vd")
    post_save.connect(_process, sender=Process, dispatch_uid=f"{uid}.p")
    post_delete.connect(_process, sender=Process, dispatch_uid=f"{uid}.pd")
    post_save.connect(_process_step, sender=ProcessStep, dispatch_uid=f"{uid}.ps")
    post_delete.connect(_process_step, sender=ProcessStep, dispatch_uid=f"{uid}.psd")
    post_delete.connect(_team_removed, sender=Team, dispatch_uid=f"{uid}.t")
    m2m_changed.connect(_assessment_teams, sender=Assessment.teams.through, dispatch_uid=f"{uid}.m")
