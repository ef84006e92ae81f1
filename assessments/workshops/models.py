"""Workshop rows: a session for an assessment, one item per capability, the people who joined
with the code, their votes, and the dissent recorded with an agreed level.

`Workshop.version` grows with every change any live view shows (a join, a vote, a state
change), and `phase` with every change a participant's phone shows; the live views poll with
the number they last rendered and get 204 while it is unchanged.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from assessments.workshops import core
from scoring.rubric import AUDIENCES

ROLE_CHOICES = [(a, a.capitalize()) for a in AUDIENCES]


class Workshop(models.Model):
    class Status(models.TextChoices):
        LOBBY = "lobby", "Not started"
        RUNNING = "running", "Running"
        PAUSED = "paused", "Paused"
        FINISHED = "finished", "Finished"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    assessment = models.ForeignKey(
        "assessments.Assessment", models.CASCADE, related_name="workshops"
    )
    title = models.CharField(max_length=200)
    code = models.CharField(max_length=core.CODE_LENGTH, unique=True)
    code_expires_at = models.DateTimeField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.LOBBY)
    current_item = models.ForeignKey(
        "WorkshopItem", models.SET_NULL, null=True, blank=True, related_name="+"
    )
    minutes_per_capability = models.PositiveSmallIntegerField(default=5)
    version = models.BigIntegerField(default=1)
    phase = models.BigIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_running(self) -> bool:
        return self.status == self.Status.RUNNING

    @property
    def is_finished(self) -> bool:
        return self.status == self.Status.FINISHED

    def code_usable(self, now: datetime | None = None) -> bool:
        return not self.is_finished and self.code_expires_at > (now or timezone.now())

    @property
    def display_code(self) -> str:
        return core.display_code(self.code)


class WorkshopItem(models.Model):
    """One capability in one workshop: its voting state, agreed level, notes and timer."""

    class State(models.TextChoices):
        PENDING = core.PENDING, "Not yet discussed"
        VOTING = core.VOTING, "Voting"
        REVEALED = core.REVEALED, "Votes shown"
        AGREED = core.AGREED, "Agreed"

    workshop = models.ForeignKey(Workshop, models.CASCADE, related_name="items")
    capability_id = models.CharField(max_length=120)
    position = models.PositiveSmallIntegerField()
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    round = models.PositiveSmallIntegerField(default=1)
    agreed_level = models.PositiveSmallIntegerField(null=True, blank=True)
    rationale = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    time_limit_seconds = models.PositiveIntegerField(default=300)
    timer_elapsed_seconds = models.PositiveIntegerField(default=0)
    timer_started_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    revealed_at = models.DateTimeField(null=True, blank=True)
    agreed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(
                fields=["workshop", "capability_id"], name="one_item_per_capability"
            ),
            models.CheckConstraint(
                condition=Q(agreed_level__isnull=True)
                | (Q(agreed_level__gte=1) & Q(agreed_level__lte=5)),
                name="agreed_level_in_range",
            ),
            models.CheckConstraint(
                condition=~Q(state="agreed") | Q(agreed_level__isnull=False),
                name="agreed_has_level",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.capability_id} ({self.state})"

    def timer(self, now: datetime | None = None) -> core.Timer:
        return core.timer_state(
            limit_seconds=self.time_limit_seconds,
            elapsed_before=self.timer_elapsed_seconds,
            started_at=self.timer_started_at,
            now=now or timezone.now(),
        )


class Participant(models.Model):
    """Someone who joined with the code, on their phone, without an account. In an
    anonymous assessment the display name is never stored."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workshop = models.ForeignKey(Workshop, models.CASCADE, related_name="participants")
    role = models.CharField(max_length=20, choices=ROLE_CHOICES)
    display_name = models.CharField(max_length=60, blank=True)
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["joined_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(role__in=list(AUDIENCES)), name="participant_role_known"
            )
        ]

    def __str__(self) -> str:
        return self.display_name or f"Participant ({self.role})"


class Vote(models.Model):
    """One vote per participant, capability and round: a repeated vote replaces the first."""

    class Choice(models.TextChoices):
        LEVEL = "level", "Level"
        DONT_KNOW = "dont_know", "Don't know"

    item = models.ForeignKey(WorkshopItem, models.CASCADE, related_name="votes")
    participant = models.ForeignKey(Participant, models.CASCADE, related_name="votes")
    round = models.PositiveSmallIntegerField()
    choice = models.CharField(max_length=20, choices=Choice.choices)
    level = models.PositiveSmallIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["item", "participant", "round"], name="one_vote_per_round"
            ),
            models.CheckConstraint(
                condition=(Q(choice="level") & Q(level__gte=1) & Q(level__lte=5))
                | (Q(choice="dont_know") & Q(level__isnull=True)),
                name="vote_level_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.participant_id}: {self.level or self.choice}"


class Dissent(models.Model):
    """Someone who disagreed with the agreed level, by role, and why."""

    item = models.ForeignKey(WorkshopItem, models.CASCADE, related_name="dissent")
    role = models.CharField(max_length=20, choices=ROLE_CHOICES)
    who = models.CharField(max_length=120, blank=True)
    reason = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.role}: {self.reason[:40]}"
