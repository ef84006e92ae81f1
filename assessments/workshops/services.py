"""Running a workshop: every change to a session goes through these functions.

Each change starts by bumping the workshop's `version` (and `phase` when phones must
redraw) in one UPDATE, inside the change's transaction. That UPDATE takes the workshop row's
write lock, so changes to one session happen one after another (a vote never slips in after
the reveal that closed its round), and the live views learn from the number alone whether
anything changed. Functions are keyword-only and raise `WorkshopRuleError` with a message
for the person who acted; on error nothing is written.
"""

from __future__ import annotations

import logging
import statistics
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Count, F
from django.utils import timezone

from assessments.models import Answer, Assessment, Respondent
from assessments.workshops import core
from assessments.workshops.core import WorkshopRuleError
from assessments.workshops.models import Dissent, Participant, Vote, Workshop, WorkshopItem
from scoring.rubric import AUDIENCES
from scoring.workshop import AgreedLevel, DissentNote, RoomVote, quartiles

logger = logging.getLogger(__name__)

MAX_RATIONALE = 2000
MAX_NOTES = 5000
MAX_REASON = 1000


class WorkshopInputError(WorkshopRuleError):
    """Input a workshop form or request refuses."""


def _code_ttl() -> timedelta:
    return timedelta(hours=settings.WORKSHOP_CODE_TTL_HOURS)


def _check_assessment_open(assessment: Assessment) -> None:
    if not assessment.is_open:
        raise WorkshopRuleError(
            "The assessment is closed: reopen it before running a workshop for it."
        )


# --- Setting up --------------------------------------------------------------------------


def workshop_create(
    *,
    assessment: Assessment,
    title: str,
    minutes_per_capability: int,
    created_by: User | None,
    now: datetime | None = None,
) -> Workshop:
    """A new session with one item per capability of the assessment's rubric, in order."""
    _check_assessment_open(assessment)
    if not 1 <= minutes_per_capability <= 60:
        raise WorkshopInputError("Minutes per capability must be between 1 and 60.")
    now = now or timezone.now()
    for _attempt in range(10):
        try:
            with transaction.atomic():
                workshop = Workshop.objects.create(
                    assessment=assessment,
                    title=title.strip()[:200] or "Workshop",
                    code=core.new_code(),
                    code_expires_at=now + _code_ttl(),
                    minutes_per_capability=minutes_per_capability,
                    created_by=created_by,
                    created_at=now,
                    updated_at=now,
                )
                WorkshopItem.objects.bulk_create(
                    WorkshopItem(
                        workshop=workshop,
                        capability_id=capability.id,
                        position=position,
                        time_limit_seconds=minutes_per_capability * 60,
                    )
                    for position, capability in enumerate(assessment.rubric.capabilities)
                )
            return workshop
        except IntegrityError:
            continue  # the code was taken: draw another
    raise WorkshopRuleError("Could not find a free join code; try again.")


# --- Changing a session -------------------------------------------------------------------


def _begin(workshop_id: uuid.UUID, *, phase: bool, now: datetime) -> Workshop:
    """Inside a transaction: bump the counters (taking the row's lock) and load fresh."""
    changes: dict[str, object] = {"version": F("version") + 1, "updated_at": now}
    if phase:
        changes["phase"] = F("phase") + 1
    Workshop.objects.filter(pk=workshop_id).update(**changes)
    workshop = Workshop.objects.select_related("assessment", "current_item").get(pk=workshop_id)
    # Now, and again once committed: a poll between the two may have cached the old value.
    key = _PHASE_KEY.format(workshop_id)
    _forget_phase(key)
    transaction.on_commit(lambda: _forget_phase(key))
    return workshop


# Phones poll every two seconds; most polls only ask "has the room moved on?". The answer
# comes from the cache for up to a second (shared Redis, or each process's own memory when no
# CACHE_URL is set: then a phone learns of a change at most a second late), and every change
# deletes the entry in the process that made it.
_PHASE_KEY = "workshop-phase:{}"
PHASE_CACHE_SECONDS = 1


def _forget_phase(key: str) -> None:
    # The cache only spares the database; while it is down every poll reads the row instead.
    try:
        cache.delete(key)
    except Exception:
        logger.warning("Cache unavailable: workshop polls read the database", exc_info=True)


def current_phase(workshop_id: uuid.UUID) -> int | None:
    """The workshop's phase counter, read through a one-second cache; None if it is gone."""
    key = _PHASE_KEY.format(workshop_id)
    try:
        phase = cache.get(key)
    except Exception:
        phase = None
    if phase is None:
        phase = Workshop.objects.filter(pk=workshop_id).values_list("phase", flat=True).first()
        if phase is None:
            return None
        try:
            cache.set(key, phase, timeout=PHASE_CACHE_SECONDS)
        except Exception:
            logger.warning("Cache unavailable: workshop polls read the database", exc_info=True)
    return int(phase)


def _stop_timer(item: WorkshopItem | None, now: datetime) -> None:
    if item is None or item.timer_started_at is None:
        return
    item.timer_elapsed_seconds = item.timer(now).elapsed_seconds
    item.timer_started_at = None
    item.save(update_fields=["timer_elapsed_seconds", "timer_started_at"])


def _start_timer(item: WorkshopItem | None, now: datetime) -> None:
    if item is None or item.timer_started_at is not None or item.state == item.State.AGREED:
        return
    item.timer_started_at = now
    item.save(update_fields=["timer_started_at"])


def _item(workshop: Workshop, capability_id: str) -> WorkshopItem:
    try:
        return workshop.items.get(capability_id=capability_id)
    except WorkshopItem.DoesNotExist:
        raise WorkshopInputError("That capability is not part of this workshop.") from None


def _current(workshop: Workshop) -> WorkshopItem:
    if workshop.current_item is None:
        raise WorkshopRuleError("Open a capability first.")
    return workshop.current_item


def _check_live(workshop: Workshop) -> None:
    if workshop.is_finished:
        raise WorkshopRuleError("This workshop has finished.")
    if workshop.status == Workshop.Status.PAUSED:
        raise WorkshopRuleError("The workshop is paused: resume it first.")


def item_open(*, workshop: Workshop, capability_id: str, now: datetime | None = None) -> None:
    """Make a capability the one the room is on (starting the session if needed)."""
    now = now or timezone.now()
    with transaction.atomic():
        fresh = _begin(workshop.pk, phase=True, now=now)
        _check_live(fresh)
        _check_assessment_open(fresh.assessment)
        item = _item(fresh, capability_id)
        state = core.opened_state(item.state)
        if fresh.current_item_id != item.pk:
            _stop_timer(fresh.current_item, now)
        if fresh.status == Workshop.Status.LOBBY:
            fresh.status = Workshop.Status.RUNNING
            fresh.started_at = now
        fresh.current_item = item
        fresh.save(update_fields=["status", "started_at", "current_item"])
        item.state = state
        item.opened_at = item.opened_at or now
        item.save(update_fields=["state", "opened_at"])
        _start_timer(item, now)


def item_open_next(*, workshop: Workshop, now: datetime | None = None) -> str | None:
    """Open the next capability not yet agreed after the current one; its id, or None."""
    workshop = Workshop.objects.select_related("current_item").get(pk=workshop.pk)
    items = list(workshop.items.all())
    start = workshop.current_item.position + 1 if workshop.current_item else 0
    ordered = items[start:] + items[:start]
    for item in ordered:
        if item.state != WorkshopItem.State.AGREED and item.pk != workshop.current_item_id:
            item_open(workshop=workshop, capability_id=item.capability_id, now=now)
            return item.capability_id
    return None


def item_reveal(*, workshop: Workshop, now: datetime | None = None) -> None:
    now = now or timezone.now()
    with transaction.atomic():
        fresh = _begin(workshop.pk, phase=True, now=now)
        _check_live(fresh)
        item = _current(fresh)
        core.check_reveal(item.state)
        item.state = WorkshopItem.State.REVEALED
        item.revealed_at = now
        item.save(update_fields=["state", "revealed_at"])


def item_revote(*, workshop: Workshop, now: datetime | None = None) -> None:
    now = now or timezone.now()
    with transaction.atomic():
        fresh = _begin(workshop.pk, phase=True, now=now)
        _check_live(fresh)
        item = _current(fresh)
        core.check_revote(item.state, item.round)
        item.state = WorkshopItem.State.VOTING
        item.round += 1
        item.save(update_fields=["state", "round"])


def item_agree(
    *,
    workshop: Workshop,
    capability_id: str,
    level: int,
    rationale: str,
    now: datetime | None = None,
) -> None:
    """Record (or correct) the level the room agreed, with its rationale."""
    if level not in (1, 2, 3, 4, 5):
        raise WorkshopInputError("Choose the agreed level, 1 to 5.")
    rationale = rationale.replace("\r\n", "\n").strip()
    if len(rationale) > MAX_RATIONALE:
        raise WorkshopInputError(f"Keep the rationale under {MAX_RATIONALE} characters.")
    now = now or timezone.now()
    with transaction.atomic():
        fresh = _begin(workshop.pk, phase=True, now=now)
        if fresh.is_finished:
            raise WorkshopRuleError("This workshop has finished.")
        _check_assessment_open(fresh.assessment)
        item = _item(fresh, capability_id)
        core.check_agree(item.state)
        _stop_timer(item, now)
        item.state = WorkshopItem.State.AGREED
        item.agreed_level = level
        item.rationale = rationale
        item.agreed_at = now
        item.save(update_fields=["state", "agreed_level", "rationale", "agreed_at"])


def dissent_add(
    *, workshop: Workshop, capability_id: str, role: str, who: str, reason: str
) -> Dissent:
    reason = reason.replace("\r\n", "\n").strip()
    if role not in AUDIENCES:
        raise WorkshopInputError("Choose the role of the person who disagreed.")
    if not reason:
        raise WorkshopInputError("Say why they disagreed.")
    if len(reason) > MAX_REASON:
        raise WorkshopInputError(f"Keep the reason under {MAX_REASON} characters.")
    now = timezone.now()
    with transaction.atomic():
        fresh = _begin(workshop.pk, phase=False, now=now)
        item = _item(fresh, capability_id)
        if item.state != WorkshopItem.State.AGREED:
            raise WorkshopRuleError("Record the agreed level first, then who disagreed.")
        return Dissent.objects.create(
            item=item,
            role=role,
            who="" if fresh.assessment.anonymous else who.strip()[:120],
            reason=reason,
            created_at=now,
        )


def dissent_remove(*, workshop: Workshop, dissent_id: int) -> None:
    with transaction.atomic():
        _begin(workshop.pk, phase=False, now=timezone.now())
        Dissent.objects.filter(item__workshop=workshop, pk=dissent_id).delete()


def notes_save(*, workshop: Workshop, capability_id: str, notes: str) -> None:
    notes = notes.replace("\r\n", "\n").strip()
    if len(notes) > MAX_NOTES:
        raise WorkshopInputError(f"Notes are limited to {MAX_NOTES} characters.")
    with transaction.atomic():
        fresh = _begin(workshop.pk, phase=False, now=timezone.now())
        item = _item(fresh, capability_id)
        item.notes = notes
        item.save(update_fields=["notes"])


def timer_extend(*, workshop: Workshop, seconds: int = 60) -> None:
    with transaction.atomic():
        fresh = _begin(workshop.pk, phase=False, now=timezone.now())
        item = _current(fresh)
        item.time_limit_seconds = min(item.time_limit_seconds + seconds, 4 * 3600)
        item.save(update_fields=["time_limit_seconds"])


def workshop_pause(*, workshop: Workshop, now: datetime | None = None) -> None:
    now = now or timezone.now()
    with transaction.atomic():
        fresh = _begin(workshop.pk, phase=True, now=now)
        if fresh.status != Workshop.Status.RUNNING:
            raise WorkshopRuleError("Only a running workshop can be paused.")
        _stop_timer(fresh.current_item, now)
        fresh.status = Workshop.Status.PAUSED
        fresh.paused_at = now
        fresh.save(update_fields=["status", "paused_at"])


def workshop_resume(*, workshop: Workshop, now: datetime | None = None) -> None:
    """Resume a paused session (another day, too): the join code works again for another
    WORKSHOP_CODE_TTL_HOURS, and people who joined before continue where they were."""
    now = now or timezone.now()
    with transaction.atomic():
        fresh = _begin(workshop.pk, phase=True, now=now)
        if fresh.status != Workshop.Status.PAUSED:
            raise WorkshopRuleError("Only a paused workshop can be resumed.")
        _check_assessment_open(fresh.assessment)
        fresh.status = Workshop.Status.RUNNING
        fresh.paused_at = None
        fresh.code_expires_at = max(fresh.code_expires_at, now + _code_ttl())
        fresh.save(update_fields=["status", "paused_at", "code_expires_at"])
        _start_timer(fresh.current_item, now)


def workshop_finish(*, workshop: Workshop, now: datetime | None = None) -> None:
    now = now or timezone.now()
    with transaction.atomic():
        fresh = _begin(workshop.pk, phase=True, now=now)
        if fresh.is_finished:
            return
        _stop_timer(fresh.current_item, now)
        fresh.status = Workshop.Status.FINISHED
        fresh.finished_at = now
        fresh.save(update_fields=["status", "finished_at"])


# --- Participants -------------------------------------------------------------------------


def workshop_for_code(*, code: str, now: datetime | None = None) -> Workshop | None:
    """The workshop a code opens, or None: unknown, expired and finished codes look the same."""
    normal = core.normalise_code(code)
    if normal is None:
        return None
    workshop = Workshop.objects.select_related("assessment__organisation").filter(code=normal)
    found = workshop.first()
    if found is None or not found.code_usable(now):
        return None
    return found


def participant_join(
    *, workshop: Workshop, role: str, display_name: str = "", now: datetime | None = None
) -> Participant:
    if role not in AUDIENCES:
        raise WorkshopInputError("Choose the role that best describes your work.")
    now = now or timezone.now()
    if not workshop.code_usable(now):
        raise WorkshopRuleError("This workshop code has expired or the workshop is over.")
    name = " ".join(display_name.split())[:60]
    with transaction.atomic():
        _begin(workshop.pk, phase=False, now=now)
        return Participant.objects.create(
            workshop=workshop,
            role=role,
            display_name="" if workshop.assessment.anonymous else name,
            joined_at=now,
        )


def parse_vote(value: str) -> tuple[str, int | None]:
    value = (value or "").strip()
    if value in {"1", "2", "3", "4", "5"}:
        return Vote.Choice.LEVEL, int(value)
    if value == "dk":
        return Vote.Choice.DONT_KNOW, None
    raise WorkshopInputError('Choose one of the five levels or "Don\'t know".')


def vote_cast(
    *,
    participant: Participant,
    capability_id: str,
    round_number: int,
    value: str,
    now: datetime | None = None,
) -> Vote:
    """Store the participant's vote for the open capability and round. A repeated vote
    (a double tap, a resend after a dropped connection) replaces the earlier one: one row
    per participant, capability and round, written with INSERT ... ON CONFLICT UPDATE."""
    choice, level = parse_vote(value)
    now = now or timezone.now()
    with transaction.atomic():
        workshop = _begin(participant.workshop_id, phase=False, now=now)
        item = workshop.current_item
        refusal = core.vote_refusal(
            running=workshop.is_running,
            is_current=item is not None and item.capability_id == capability_id,
            state=item.state if item is not None else core.PENDING,
            round_number=item.round if item is not None else 0,
            voted_round=round_number,
        )
        if refusal is not None or item is None:
            raise WorkshopRuleError(refusal or "Voting on this capability has closed.")
        Vote.objects.bulk_create(
            [
                Vote(
                    item=item,
                    participant=participant,
                    round=item.round,
                    choice=choice,
                    level=level,
                    updated_at=now,
                )
            ],
            update_conflicts=True,
            unique_fields=["item", "participant", "round"],
            update_fields=["choice", "level", "updated_at"],
        )
        stored = Vote.objects.get(item=item, participant=participant, round=item.round)
    # The caller redraws the phone from these fresh rows without loading them again.
    stored.item = item
    participant.workshop = workshop
    return stored


# --- Reading ------------------------------------------------------------------------------


def room_votes(item: WorkshopItem, round_number: int) -> list[RoomVote]:
    return [
        RoomVote(str(pid), role, choice, level)
        for pid, role, choice, level in item.votes.filter(round=round_number)
        .order_by("participant_id")
        .values_list("participant_id", "participant__role", "choice", "level")
    ]


def vote_counts(item: WorkshopItem) -> dict[str, int]:
    """How many have voted in the open round, by role: counts only, never what."""
    rows = (
        item.votes.filter(round=item.round)
        .values("participant__role")
        .annotate(n=Count("id"))
        .values_list("participant__role", "n")
    )
    return {role: int(n) for role, n in rows}


@dataclass(frozen=True)
class SurveyCapability:
    respondents: int
    median: float | None
    q1: float | None
    q3: float | None

    @property
    def spread(self) -> float | None:
        return None if self.q1 is None or self.q3 is None else self.q3 - self.q1


def survey_capability(*, assessment: Assessment, capability_id: str) -> SurveyCapability:
    """The survey's median and spread for one capability, computed as scoring does: each
    submitted respondent's mean level over the capability's questions, then the median and
    quartiles of those means."""
    question_ids = [q.id for q in assessment.rubric.capability(capability_id).questions]
    rows = Answer.objects.filter(
        respondent__assessment=assessment,
        respondent__status=Respondent.Status.SUBMITTED,
        question_id__in=question_ids,
        choice=Answer.Choice.LEVEL,
    ).values_list("respondent_id", "level")
    per_respondent: dict[object, list[int]] = {}
    for respondent_id, level in rows:
        if level is not None:
            per_respondent.setdefault(respondent_id, []).append(level)
    means = [statistics.fmean(levels) for levels in per_respondent.values()]
    if not means:
        return SurveyCapability(0, None, None, None)
    median, q1, q3 = quartiles(means)
    return SurveyCapability(len(means), median, q1, q3)


def agreed_levels_for(assessment: Assessment) -> list[AgreedLevel]:
    """Every capability a workshop of the assessment agreed, as plain values for scoring.
    With several workshops, the most recent agreement on a capability wins."""
    items = (
        WorkshopItem.objects.filter(
            workshop__assessment=assessment, state=WorkshopItem.State.AGREED
        )
        .select_related("workshop")
        .prefetch_related("dissent")
        .order_by("agreed_at", "pk")
    )
    latest: dict[str, WorkshopItem] = {}
    for item in items:
        latest[item.capability_id] = item
    capability_ids = {c.id for c in assessment.rubric.capabilities}
    result = []
    for capability_id, item in latest.items():
        if capability_id not in capability_ids or item.agreed_level is None:
            continue
        result.append(
            AgreedLevel(
                capability_id=capability_id,
                level=item.agreed_level,
                rationale=item.rationale,
                dissent=tuple(
                    DissentNote(role=d.role, who=d.who, reason=d.reason) for d in item.dissent.all()
                ),
                votes=tuple(room_votes(item, item.round)),
                first_round=tuple(room_votes(item, 1)) if item.round > 1 else (),
                agreed_on=item.agreed_at.date().isoformat() if item.agreed_at else "",
            )
        )
    result.sort(key=lambda a: a.capability_id)
    return result


def participants_by_role(workshop: Workshop) -> dict[str, int]:
    rows = workshop.participants.values("role").annotate(n=Count("id")).values_list("role", "n")
    return {role: int(n) for role, n in rows}
