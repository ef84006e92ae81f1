"""Tenancy (organisations, teams, memberships) and the survey (assessments, invitations,
respondents, answers).

Every tenant-owned row hangs off an Organisation; views reach rows only through
`assessments.access`, which starts each query from the user's memberships.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from assessments.jobs import BackgroundJob
from scoring.rubric import AUDIENCES, DEFAULT_RUBRIC, get_rubric

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from scoring.rubric import Rubric

ROLE_CHOICES = [(a, a.capitalize()) for a in AUDIENCES]


def hash_token(token: str) -> str:
    """Invitation tokens are stored only as SHA-256 digests: a database leak reveals no links."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    # 32 bytes = 256 bits from the OS CSPRNG, URL-safe.
    return secrets.token_urlsafe(32)


class Organisation(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, models.CASCADE, related_name="teams")
    name = models.CharField(max_length=120)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="team_name_unique_in_org")
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner (leader)"
        FACILITATOR = "facilitator", "Facilitator (consultant)"
        MEMBER = "member", "Member (read only)"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(Organisation, models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation"], name="one_membership_per_org")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.organisation} ({self.role})"

    @property
    def can_write(self) -> bool:
        """Owners and facilitators run assessments; members only read."""
        return self.role in {self.Role.OWNER, self.Role.FACILITATOR}

    @property
    def can_manage_members(self) -> bool:
        return self.role == self.Role.OWNER


class MemberInvitation(models.Model):
    """An invitation to join an organisation with a role, which the invited person accepts
    (logging in, or creating an account). Inviting never reveals whether an account exists for
    the address; the token is stored hashed, like survey links."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(
        Organisation, models.CASCADE, related_name="member_invitations"
    )
    email = models.EmailField(max_length=254)
    role = models.CharField(max_length=20, choices=Membership.Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation of {self.email} to {self.organisation}"

    def is_usable(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and self.accepted_at is None and self.expires_at > now

    @property
    def state(self) -> str:
        if self.accepted_at is not None:
            return "accepted"
        if self.revoked_at is not None:
            return "revoked"
        return "pending" if self.expires_at > timezone.now() else "expired"


class AssessmentQuerySet(models.QuerySet["Assessment"]):
    def for_user(self, user: User) -> AssessmentQuerySet:
        return self.filter(organisation__memberships__user=user)

    def open(self) -> AssessmentQuerySet:
        return self.filter(status=Assessment.Status.OPEN)


class Assessment(models.Model):
    class Mode(models.TextChoices):
        SELF = "self", "Self-assessment"
        WORKSHOP = "workshop", "Facilitated workshop"

    class Status(models.TextChoices):
        OPEN = "open", "Open for answers"
        CLOSED = "closed", "Closed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(Organisation, models.CASCADE, related_name="assessments")
    title = models.CharField(max_length=200)
    mode = models.CharField(max_length=20, choices=Mode.choices, default=Mode.SELF)
    teams = models.ManyToManyField(Team, blank=True, related_name="assessments")
    anonymous = models.BooleanField(
        default=False,
        help_text="Hide respondents' names from everyone, including the leader.",
    )
    # The rubric version is pinned at creation: later versions never change old results.
    rubric_id = models.CharField(max_length=80, default=DEFAULT_RUBRIC[0])
    rubric_version = models.PositiveIntegerField(default=DEFAULT_RUBRIC[1])
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Scoring settings: dimension id -> target level; dimension or capability id -> weight.
    # Empty means the rubric's defaults.
    targets = models.JSONField(default=dict, blank=True)
    weights = models.JSONField(default=dict, blank=True)
    # An optional survey section asking respondents which processes they run.
    ask_processes = models.BooleanField(default=False)
    # How many repositories (or services) the assessment's scope holds: scan evidence from some
    # of them is weighed by the share they are (None: not recorded; see docs/methodology.md).
    repositories_in_scope = models.PositiveIntegerField(null=True, blank=True)
    # Chosen at creation and told to respondents on their start page: only then may exports
    # list each respondent's answers under their name (or number).
    export_named_answers = models.BooleanField(default=False)

    objects = AssessmentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title

    @property
    def rubric(self) -> Rubric:
        return get_rubric(self.rubric_id, self.rubric_version)

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def scope_label(self) -> str:
        names = [t.name for t in self.teams.all()]
        return ", ".join(names) if names else "Whole organisation"

    def close(self, now: datetime | None = None) -> None:
        self.status = self.Status.CLOSED
        self.closed_at = now or timezone.now()
        self.save(update_fields=["status", "closed_at"])

    def reopen(self) -> None:
        self.status = self.Status.OPEN
        self.closed_at = None
        self.save(update_fields=["status", "closed_at"])


class InvitationQuerySet(models.QuerySet["Invitation"]):
    def usable(self, now: datetime | None = None) -> InvitationQuerySet:
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True, expires_at__gt=now)


class Invitation(models.Model):
    """A link to the survey. Personal links belong to one respondent; an open link lets anyone
    who has it start a new response, choosing their role."""

    class Kind(models.TextChoices):
        PERSONAL = "personal", "Personal link"
        OPEN = "open", "Open link"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    assessment = models.ForeignKey(Assessment, models.CASCADE, related_name="invitations")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    uses = models.PositiveIntegerField(default=0)
    # Open links only: how many people may join through it (None: no cap).
    max_respondents = models.PositiveIntegerField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.assessment}"

    def is_usable(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and self.expires_at > now

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        if self.is_full():
            return "full"
        return "active"

    def is_full(self) -> bool:
        return (
            self.kind == self.Kind.OPEN
            and self.max_respondents is not None
            and self.respondents.count() >= self.max_respondents
        )

    @staticmethod
    def default_expiry(now: datetime | None = None) -> datetime:
        return (now or timezone.now()) + timedelta(days=settings.INVITATION_TTL_DAYS)


class Respondent(models.Model):
    class Status(models.TextChoices):
        INVITED = "invited", "Invited"
        IN_PROGRESS = "in_progress", "Started"
        SUBMITTED = "submitted", "Finished"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    assessment = models.ForeignKey(Assessment, models.CASCADE, related_name="respondents")
    invitation = models.ForeignKey(
        Invitation, models.SET_NULL, null=True, blank=True, related_name="respondents"
    )
    role = models.CharField(max_length=20, choices=ROLE_CHOICES)
    # Left empty in anonymous assessments: the name is never stored, so it cannot leak.
    name = models.CharField(max_length=120, blank=True)
    email = models.EmailField(blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.INVITED)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    last_answer_at = models.DateTimeField(null=True, blank=True)
    # Set when an owner or facilitator leaves this response out of the results (for example,
    # answers that look automated); the answers are kept and can be counted again.
    excluded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(role__in=list(AUDIENCES)), name="respondent_role_known"
            ),
            models.CheckConstraint(
                condition=~Q(status="submitted") | Q(submitted_at__isnull=False),
                name="submitted_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.name or f"Respondent ({self.role})"

    @property
    def is_submitted(self) -> bool:
        return self.status == self.Status.SUBMITTED

    @property
    def can_answer(self) -> bool:
        return not self.is_submitted and self.assessment.is_open


class Answer(models.Model):
    """One row per (respondent, question). `seq` orders writes: a request carrying a lower
    sequence number than the stored one is stale and changes nothing."""

    class Choice(models.TextChoices):
        NONE = "none", "No answer yet"
        LEVEL = "level", "Level"
        DONT_KNOW = "dont_know", "Don't know"
        NOT_APPLICABLE = "not_applicable", "Not applicable"
        NUMBER = "number", "Number"

    respondent = models.ForeignKey(Respondent, models.CASCADE, related_name="answers")
    question_id = models.CharField(max_length=120)
    choice = models.CharField(max_length=20, choices=Choice.choices)
    level = models.PositiveSmallIntegerField(null=True, blank=True)
    number = models.FloatField(null=True, blank=True)
    comment = models.TextField(blank=True)
    seq = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["question_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["respondent", "question_id"], name="one_answer_per_question"
            ),
            models.CheckConstraint(
                condition=(Q(choice="level") & Q(level__gte=1) & Q(level__lte=5))
                | (~Q(choice="level") & Q(level__isnull=True)),
                name="answer_level_in_range",
            ),
            models.CheckConstraint(
                condition=Q(choice="number", number__isnull=False)
                | (~Q(choice="number") & Q(number__isnull=True)),
                name="answer_number_only_for_facts",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.question_id}: {self.display_value}"

    @property
    def display_value(self) -> str:
        if self.choice == self.Choice.LEVEL:
            return str(self.level)
        if self.choice == self.Choice.NUMBER:
            return f"{self.number:g}"
        return self.get_choice_display()

    @property
    def form_value(self) -> str:
        """The value as the survey form posts it: "1".."5", "dk", "na" or the number."""
        if self.choice == self.Choice.LEVEL:
            return str(self.level)
        if self.choice == self.Choice.DONT_KNOW:
            return "dk"
        if self.choice == self.Choice.NOT_APPLICABLE:
            return "na"
        return f"{self.number:g}" if self.number is not None else ""


class InputsVersion(models.Model):
    """A token that changes whenever anything the assessment's result is computed from changes
    (see assessments.inputs), so a cached result is found by one indexed lookup instead of by
    reading and hashing every answer. Kept apart from Assessment so that saving a stale
    Assessment instance can never write an old token back."""

    assessment = models.OneToOneField(
        Assessment, models.CASCADE, primary_key=True, related_name="inputs_version"
    )
    token = models.CharField(max_length=32)
    changed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Inputs of {self.assessment_id} ({self.token[:8]})"


class WorkerHeartbeat(models.Model):
    """A Celery worker process that is up: each writes its row every WORKER_HEARTBEAT_SECONDS
    and removes it when it stops, so pages can say "no worker is running" instead of showing a
    job waiting for ever, and the readiness endpoint can report the newest heartbeat's age."""

    name = models.CharField(max_length=200, unique=True)  # host:pid of the worker's main process
    queue = models.CharField(max_length=200)
    started_at = models.DateTimeField(default=timezone.now)
    seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-seen_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.queue})"


class Mailout(BackgroundJob):
    """A batch of invitation or reminder e-mails, sent by a worker (assessments.mailouts):
    forty messages over SMTP can take longer than a request should. One item per person."""

    class Kind(models.TextChoices):
        INVITATIONS = "invitations", "invitation"
        REMINDERS = "reminders", "reminder"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    assessment = models.ForeignKey(Assessment, models.CASCADE, related_name="mailouts")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    sender = models.CharField(max_length=200, blank=True)  # who the invitation says invites
    total = models.PositiveIntegerField(default=0)
    sent = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.total} {self.get_kind_display()}(s) for {self.assessment}"


class MailoutItem(models.Model):
    """One person's message. `sealed` holds the link (and, for an anonymous assessment, the
    address, which is stored nowhere else) encrypted, only until the message is sent or given
    up. `started_at` is set, by a conditional update, before the message is handed to the mail
    server, so a retried task never sends it twice: an item started and not recorded as sent
    is reported as not known to be sent, never sent again."""

    mailout = models.ForeignKey(Mailout, models.CASCADE, related_name="items")
    invitation = models.ForeignKey(Invitation, models.CASCADE, related_name="mailout_items")
    sealed = models.BinaryField(blank=True, default=b"")
    started_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["mailout", "invitation"], name="one_message_per_invitation_and_mailout"
            )
        ]

    def __str__(self) -> str:
        return f"Message {self.pk} of {self.mailout_id}"


# Integration scans live in their own module; importing them here registers them with the app.
from assessments.engagements.models import AssessmentSetup, EngagementTemplate  # noqa: E402
from assessments.processes.models import (  # noqa: E402
    EventLog,
    Process,
    ProcessReport,
    ProcessStep,
)
from assessments.scans.models import ScanFinding, ScanRun, ScanSource  # noqa: E402
from assessments.workshops.models import (  # noqa: E402
    Dissent,
    Participant,
    Vote,
    Workshop,
    WorkshopItem,
)

__all__ = [
    "Answer",
    "Assessment",
    "AssessmentSetup",
    "Dissent",
    "EngagementTemplate",
    "EventLog",
    "InputsVersion",
    "Invitation",
    "Mailout",
    "MailoutItem",
    "MemberInvitation",
    "Membership",
    "Organisation",
    "Participant",
    "Process",
    "ProcessReport",
    "ProcessStep",
    "Respondent",
    "ScanFinding",
    "ScanRun",
    "ScanSource",
    "Team",
    "Vote",
    "Workshop",
    "WorkshopItem",
    "WorkerHeartbeat",
]
