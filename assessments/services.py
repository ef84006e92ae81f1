"""Work that spans models: invitations, redeeming links, saving answers, submitting.

Functions are keyword-only and named <noun>_<verb>. They validate against the assessment's
pinned rubric and raise `SurveyInputError` with a message fit for the respondent; on error
nothing is written.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from assessments.inputs import inputs_changed
from assessments.models import (
    Answer,
    Assessment,
    Invitation,
    Organisation,
    Respondent,
    Team,
    hash_token,
    new_token,
)
from scoring.rubric import AUDIENCES, FactQuestion, Question

MAX_SEQ = 2**62


class SurveyInputError(ValueError):
    """Input that the survey refuses; the message is shown to the person who sent it."""


class SurveyClosedError(SurveyInputError):
    pass


class LinkFullError(SurveyInputError):
    """The open link already has as many respondents as its owner allowed."""


# --- Organisations and assessments ---------------------------------------------------------


def organisation_create(*, name: str, creator: User, role: str) -> Organisation:
    from assessments.models import Membership

    with transaction.atomic():
        org = Organisation.objects.create(name=name)
        Membership.objects.create(user=creator, organisation=org, role=role)
    return org


def assessment_create(
    *,
    organisation: Organisation,
    title: str,
    created_by: User | None,
    teams: list[Team] | None = None,
    anonymous: bool = False,
    mode: str = Assessment.Mode.SELF,
    rubric_id: str,
    rubric_version: int,
    repositories_in_scope: int | None = None,
    export_named_answers: bool = False,
) -> Assessment:
    """A new assessment. `export_named_answers` (never with `anonymous`) is the promise, made
    before anyone answers, that exports may list each respondent's answers by name."""
    if anonymous and export_named_answers:
        raise ValueError("An anonymous assessment cannot export answers by respondent.")
    with transaction.atomic():
        assessment = Assessment.objects.create(
            organisation=organisation,
            title=title,
            created_by=created_by,
            anonymous=anonymous,
            mode=mode,
            rubric_id=rubric_id,
            rubric_version=rubric_version,
            repositories_in_scope=repositories_in_scope,
            export_named_answers=export_named_answers,
        )
        if teams:
            assessment.teams.set(teams)
    return assessment


# --- Invitations ----------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedLink:
    """A freshly minted link. The token exists only here: the database keeps its hash."""

    invitation: Invitation
    token: str
    label: str
    role: str


def _check_role_asked(assessment: Assessment, role: str) -> None:
    """A role the pinned rubric asks nothing of (security in version 1) cannot answer it."""
    asked = assessment.rubric.audiences
    if role not in asked:
        raise SurveyInputError(
            f"This assessment's rubric asks no questions of {role}; "
            f"choose one of {', '.join(asked)}."
        )


def invitation_create_personal(
    *,
    assessment: Assessment,
    role: str,
    name: str = "",
    email: str = "",
    now: datetime | None = None,
) -> IssuedLink:
    if role not in AUDIENCES:
        raise SurveyInputError(f"Unknown role {role!r}.")
    _check_role_asked(assessment, role)
    now = now or timezone.now()
    token = new_token()
    with transaction.atomic():
        invitation = Invitation.objects.create(
            assessment=assessment,
            kind=Invitation.Kind.PERSONAL,
            token_hash=hash_token(token),
            created_at=now,
            expires_at=Invitation.default_expiry(now),
        )
        Respondent.objects.create(
            assessment=assessment,
            invitation=invitation,
            role=role,
            # Anonymous assessments never store who a link was for.
            name="" if assessment.anonymous else name,
            email="" if assessment.anonymous else email,
            created_at=now,
        )
    return IssuedLink(invitation=invitation, token=token, label=name or email, role=role)


def invitation_create_open(
    *,
    assessment: Assessment,
    max_respondents: int | None = None,
    days: int | None = None,
    now: datetime | None = None,
) -> IssuedLink:
    """An open link; `max_respondents` caps how many people may join through it and `days`
    how long it works (default INVITATION_TTL_DAYS)."""
    now = now or timezone.now()
    token = new_token()
    invitation = Invitation.objects.create(
        assessment=assessment,
        kind=Invitation.Kind.OPEN,
        token_hash=hash_token(token),
        created_at=now,
        expires_at=now + timedelta(days=days) if days else Invitation.default_expiry(now),
        max_respondents=max_respondents,
    )
    return IssuedLink(invitation=invitation, token=token, label="Open link", role="")


def invitation_limit(
    *,
    invitation: Invitation,
    max_respondents: int | None,
    days: int | None,
    now: datetime | None = None,
) -> None:
    """Change an open link's cap and (when `days` is given) make it expire that many days
    from now."""
    if invitation.kind != Invitation.Kind.OPEN:
        raise SurveyInputError("Only open links have a cap.")
    invitation.max_respondents = max_respondents
    fields = ["max_respondents"]
    if days:
        invitation.expires_at = (now or timezone.now()) + timedelta(days=days)
        fields.append("expires_at")
    invitation.save(update_fields=fields)


def respondent_exclude(
    *, respondent: Respondent, excluded: bool, now: datetime | None = None
) -> None:
    """Leave a response out of the results (or count it again); its answers are kept."""
    respondent.excluded_at = (now or timezone.now()) if excluded else None
    respondent.save(update_fields=["excluded_at"])


def invitation_reissue(*, invitation: Invitation, now: datetime | None = None) -> IssuedLink:
    """Replace a link's token (the old link stops working) and restart its expiry. The
    respondent and their answers stay."""
    now = now or timezone.now()
    token = new_token()
    invitation.token_hash = hash_token(token)
    invitation.revoked_at = None
    invitation.expires_at = Invitation.default_expiry(now)
    invitation.save(update_fields=["token_hash", "revoked_at", "expires_at"])
    respondent = invitation.respondents.first()
    if invitation.kind == Invitation.Kind.OPEN or respondent is None:
        return IssuedLink(invitation=invitation, token=token, label="Open link", role="")
    label = respondent.name or respondent.email
    return IssuedLink(invitation=invitation, token=token, label=label, role=respondent.role)


def invitation_revoke(*, invitation: Invitation, now: datetime | None = None) -> None:
    if invitation.revoked_at is None:
        invitation.revoked_at = now or timezone.now()
        invitation.save(update_fields=["revoked_at"])


def invitation_redeem(*, token: str, now: datetime | None = None) -> Invitation | None:
    """The usable invitation behind a token, or None. Unknown, expired and revoked tokens are
    indistinguishable to the caller on purpose."""
    if not token or len(token) > 128:
        return None
    invitation = (
        Invitation.objects.usable(now)
        .select_related("assessment")
        .filter(token_hash=hash_token(token))
        .first()
    )
    if invitation is None:
        return None
    Invitation.objects.filter(pk=invitation.pk).update(uses=invitation.uses + 1)
    return invitation


def respondent_for_personal_link(
    *, invitation: Invitation, now: datetime | None = None
) -> Respondent:
    now = now or timezone.now()
    respondent = invitation.respondents.get()
    # Conditional update: the first visit marks the start, later ones change nothing.
    Respondent.objects.filter(pk=respondent.pk, status=Respondent.Status.INVITED).update(
        status=Respondent.Status.IN_PROGRESS, started_at=now
    )
    respondent.refresh_from_db()
    return respondent


def respondent_join(
    *, invitation: Invitation, role: str, name: str = "", now: datetime | None = None
) -> Respondent:
    """A new respondent through an open link."""
    if invitation.kind != Invitation.Kind.OPEN:
        raise SurveyInputError("This link is not an open link.")
    if role not in AUDIENCES:
        raise SurveyInputError("Choose the role that best describes your work.")
    _check_role_asked(invitation.assessment, role)
    if not invitation.assessment.is_open:
        raise SurveyClosedError("This assessment is closed and no longer takes answers.")
    now = now or timezone.now()
    with transaction.atomic():
        # Lock the link so that people joining at the same moment cannot pass its cap together.
        Invitation.objects.select_for_update().filter(pk=invitation.pk).first()
        if invitation.is_full():
            raise LinkFullError("This link already has as many people as its owner allowed.")
        return Respondent.objects.create(
            assessment=invitation.assessment,
            invitation=invitation,
            role=role,
            name="" if invitation.assessment.anonymous else name.strip()[:120],
            status=Respondent.Status.IN_PROGRESS,
            created_at=now,
            started_at=now,
        )


# --- Answers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedAnswer:
    choice: str
    level: int | None
    number: float | None
    comment: str


def questions_for(respondent: Respondent) -> list[Question]:
    return list(respondent.assessment.rubric.questions_for(respondent.role))


def facts_for(respondent: Respondent) -> list[FactQuestion]:
    return [f for f in respondent.assessment.rubric.facts if respondent.role in f.audience]


def parse_answer(
    *, respondent: Respondent, question_id: str, value: str, comment: str
) -> ParsedAnswer:
    """Check one posted answer against the pinned rubric and the respondent's role."""
    rubric = respondent.assessment.rubric
    value = (value or "").strip()
    comment = (comment or "").replace("\r\n", "\n").strip()
    if len(comment) > settings.ANSWER_COMMENT_MAX_LENGTH:
        raise SurveyInputError(
            f"Comments are limited to {settings.ANSWER_COMMENT_MAX_LENGTH} characters "
            f"(this one has {len(comment)})."
        )
    if "\x00" in comment:
        raise SurveyInputError("The comment contains a character that cannot be stored.")
    if not rubric.has_item(question_id):
        raise SurveyInputError("That question is not part of this assessment.")
    try:
        fact = rubric.fact(question_id)
    except KeyError:
        fact = None
    if fact is not None:
        if respondent.role not in fact.audience:
            raise SurveyInputError("That question is not part of your survey.")
        return _parse_fact(fact, value, comment)
    question = rubric.question(question_id)
    if respondent.role not in question.audience:
        raise SurveyInputError("That question is not part of your survey.")
    if value == "":
        return ParsedAnswer(Answer.Choice.NONE, None, None, comment)
    if value == "dk":
        return ParsedAnswer(Answer.Choice.DONT_KNOW, None, None, comment)
    if value == "na":
        return ParsedAnswer(Answer.Choice.NOT_APPLICABLE, None, None, comment)
    if value in {"1", "2", "3", "4", "5"}:
        return ParsedAnswer(Answer.Choice.LEVEL, int(value), None, comment)
    raise SurveyInputError('Choose one of the five levels, "Don\'t know" or "Not applicable".')


def _parse_fact(fact: FactQuestion, value: str, comment: str) -> ParsedAnswer:
    if value == "":
        return ParsedAnswer(Answer.Choice.NONE, None, None, comment)
    if value == "dk":
        return ParsedAnswer(Answer.Choice.DONT_KNOW, None, None, comment)
    try:
        number = float(value.replace(",", ""))
    except ValueError:
        raise SurveyInputError(f"Enter a number ({fact.unit}).") from None
    if not math.isfinite(number):
        raise SurveyInputError(f"Enter a number ({fact.unit}).")
    if fact.integer and number != int(number):
        raise SurveyInputError("Enter a whole number.")
    if not fact.minimum <= number <= fact.maximum:
        raise SurveyInputError(
            f"Enter a value between {fact.minimum:g} and {fact.maximum:g} {fact.unit}."
        )
    return ParsedAnswer(Answer.Choice.NUMBER, None, number, comment)


def parse_seq(raw: str | None) -> int:
    """The client's sequence number for a write, or a server one for plain form posts.

    The browser sends milliseconds since the epoch (kept strictly increasing per page), so the
    latest edit wins even across two tabs; a plain form post gets the server's clock.
    """
    if raw is None or raw == "":
        return time.time_ns() // 1_000_000
    try:
        seq = int(raw)
    except ValueError:
        raise SurveyInputError("Malformed request (sequence number).") from None
    if not 0 < seq < MAX_SEQ:
        raise SurveyInputError("Malformed request (sequence number).")
    return seq


@dataclass(frozen=True)
class SaveOutcome:
    answer: Answer
    stale: bool  # True when a newer write was already stored and this one changed nothing
    # The respondent's answers once this one is stored, by question id (for progress).
    answers: dict[str, Answer] = field(default_factory=dict)


def answer_save(
    *,
    respondent: Respondent,
    question_id: str,
    value: str,
    comment: str,
    seq: int,
    now: datetime | None = None,
) -> SaveOutcome:
    """Validate and store one answer unless a newer one (higher seq) is already stored.

    Four statements in the transaction: lock the respondent (reading whether answers may still
    change), read its answers, write this one, note the time of the last answer."""
    parsed = parse_answer(
        respondent=respondent, question_id=question_id, value=value, comment=comment
    )
    now = now or timezone.now()
    with transaction.atomic():
        _lock_open_respondent(respondent)
        answers = {a.question_id: a for a in respondent.answers.all()}
        outcome = _store(respondent, question_id, parsed, seq, now, answers.get(question_id))
        if not outcome.stale:
            _touch(respondent, now)
    answers[question_id] = outcome.answer
    return SaveOutcome(outcome.answer, outcome.stale, answers)


def _store(
    respondent: Respondent,
    question_id: str,
    parsed: ParsedAnswer,
    seq: int,
    now: datetime,
    stored: Answer | None,
    *,
    same_seq_wins: bool = False,
) -> SaveOutcome:
    """Inside the respondent's lock, given the stored row (read under that lock): an UPDATE
    of that row conditional on its `seq` being older, or an INSERT guarded by the unique
    constraint. Where the database has no row locks (SQLite) a concurrent write can still
    come between the read and the write; then the row is read again and the sequence numbers
    compared once more. Whatever the interleaving, the row ends with the values of the
    highest seq.

    A page post resent from the same page (the back button) carries the seq it wrote before:
    `same_seq_wins` lets it replace its own earlier write."""
    values = {
        "choice": parsed.choice,
        "level": parsed.level,
        "number": parsed.number,
        "comment": parsed.comment,
        "seq": seq,
        "updated_at": now,
    }
    rows = Answer.objects.filter(respondent=respondent, question_id=question_id)
    for _attempt in range(2):
        if stored is None:
            try:
                with transaction.atomic():
                    answer = Answer.objects.create(
                        respondent=respondent, question_id=question_id, **values
                    )
            except IntegrityError:  # another request inserted first
                stored = rows.first()
                continue
            return SaveOutcome(answer, stale=False)
        if stored.seq > seq or (stored.seq == seq and not same_seq_wins):
            return SaveOutcome(stored, stale=True)
        older = Q(seq__lte=seq) if same_seq_wins else Q(seq__lt=seq)
        if Answer.objects.filter(older, pk=stored.pk).update(**values):
            for name, new in values.items():
                setattr(stored, name, new)
            return SaveOutcome(stored, stale=False)
        stored = rows.first()  # written in between: compare again
    return SaveOutcome(rows.get(), stale=True)


def _lock_open_respondent(respondent: Respondent) -> None:
    """Inside a transaction: lock the respondent's row and, in the same statement, check that
    answers may change. Submitting takes the same lock, so no answer slips in after the
    submission."""
    row = (
        Respondent.objects.select_for_update(of=("self",))
        .filter(pk=respondent.pk)
        .values_list("status", "assessment__status")
        .first()
    )
    if row is None:
        raise SurveyClosedError("This survey link no longer works.")
    status, assessment_status = row
    if status == Respondent.Status.SUBMITTED:
        raise SurveyClosedError("You have already submitted your answers; they can't be changed.")
    if assessment_status != Assessment.Status.OPEN:
        raise SurveyClosedError("This assessment is closed and no longer takes answers.")


def _touch(respondent: Respondent, now: datetime) -> None:
    """One UPDATE: the time of the last answer, and "started" the first time."""
    invited = Q(status=Respondent.Status.INVITED)
    Respondent.objects.filter(pk=respondent.pk).update(
        last_answer_at=now,
        status=Case(When(invited, then=Value(Respondent.Status.IN_PROGRESS)), default=F("status")),
        started_at=Case(When(invited, then=Value(now)), default=F("started_at")),
    )


class PageInputError(SurveyInputError):
    """Some fields of a posted page are invalid; `errors` maps each item id to its reason."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        count = len(errors)
        super().__init__(
            "1 answer needs your attention."
            if count == 1
            else f"{count} answers need your attention."
        )


def answers_save_page(
    *,
    respondent: Respondent,
    posted: dict[str, tuple[str, str]],
    seq: int,
    now: datetime | None = None,
) -> list[str]:
    """Save a whole posted page (the plain-form path, and the "Save and continue" button):
    every field valid, or nothing saved.

    `seq` says how new the page is: when it was rendered, or with JavaScript the latest edit.
    Unchanged answers are left alone; an answer changed elsewhere (another tab, a later
    autosave) since then is kept, not overwritten, and its id is returned so the page can say so.
    """
    errors: dict[str, str] = {}
    parsed: dict[str, ParsedAnswer] = {}
    for qid, (value, comment) in posted.items():
        try:
            parsed[qid] = parse_answer(
                respondent=respondent, question_id=qid, value=value, comment=comment
            )
        except SurveyInputError as exc:
            errors[qid] = str(exc)
    if errors:
        raise PageInputError(errors)
    now = now or timezone.now()
    conflicts: list[str] = []
    with transaction.atomic():
        _lock_open_respondent(respondent)
        stored = {a.question_id: a for a in respondent.answers.filter(question_id__in=parsed)}
        written = False
        for qid, answer in parsed.items():
            old = stored.get(qid)
            if old is None:
                if answer.choice == Answer.Choice.NONE and not answer.comment:
                    continue
            elif (old.choice, old.level, old.number, old.comment) == (
                answer.choice,
                answer.level,
                answer.number,
                answer.comment,
            ):
                continue
            elif old.seq > seq:
                conflicts.append(qid)
                continue
            outcome = _store(respondent, qid, answer, seq, now, old, same_seq_wins=True)
            written = written or not outcome.stale
        if written:
            _touch(respondent, now)
    return conflicts


def respondent_submit(*, respondent: Respondent, now: datetime | None = None) -> bool:
    """Submit once. Returns True for the one call that changed the state; double clicks, two
    tabs and retries return False and change nothing."""
    _check_open(respondent)
    if respondent.is_submitted:
        return False
    if not respondent.answers.exclude(choice=Answer.Choice.NONE).exists():
        raise SurveyInputError("Answer at least one question before you submit.")
    now = now or timezone.now()
    with transaction.atomic():
        Respondent.objects.select_for_update().filter(pk=respondent.pk).first()
        changed = Respondent.objects.filter(
            pk=respondent.pk,
            status__in=[Respondent.Status.INVITED, Respondent.Status.IN_PROGRESS],
        ).update(status=Respondent.Status.SUBMITTED, submitted_at=now)
        if changed:
            inputs_changed(assessment_ids=[respondent.assessment_id])
    respondent.refresh_from_db()
    return changed == 1


def _check_open(respondent: Respondent) -> None:
    if not Assessment.objects.filter(pk=respondent.assessment_id, status="open").exists():
        raise SurveyClosedError("This assessment is closed and no longer takes answers.")


# --- Progress -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SectionProgress:
    id: str
    title: str
    answered: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.answered / self.total) if self.total else 100

    @property
    def complete(self) -> bool:
        return self.answered >= self.total


FACTS_SECTION = "facts"


def respondent_progress(
    respondent: Respondent, answers: dict[str, Answer] | None = None
) -> list[SectionProgress]:
    """Answered / total per dimension (and the facts page) for this respondent's role."""
    if answers is None:
        answers = {a.question_id: a for a in respondent.answers.all()}
    answered = {qid for qid, a in answers.items() if a.choice != Answer.Choice.NONE}
    rubric = respondent.assessment.rubric
    sections = []
    for dim in rubric.dimensions:
        qids = [
            q.id for c in dim.capabilities for q in c.questions if respondent.role in q.audience
        ]
        if qids:
            sections.append(
                SectionProgress(dim.id, dim.title, len(answered.intersection(qids)), len(qids))
            )
    fact_ids = [f.id for f in facts_for(respondent)]
    if fact_ids:
        sections.append(
            SectionProgress(
                FACTS_SECTION, "Numbers", len(answered.intersection(fact_ids)), len(fact_ids)
            )
        )
    return sections
