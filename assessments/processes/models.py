"""The process catalogue in the database: processes with ordered steps, event logs measured
against them, and what respondents said about the processes they run.

A process belongs to an organisation and optionally to one of its teams. Fields a log measured
are named in `measured` (field -> where and when), so pages can say "measured" rather than
"claimed"; editing such a field by hand makes it a claim again.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from assessments.jobs import BackgroundJob
from assessments.processes.core.suitability import ProcessFacts, StepFacts


class ProcessQuerySet(models.QuerySet["Process"]):
    def for_scope(self, team_ids: list[Any]) -> ProcessQuerySet:
        """Processes of the whole organisation plus those of the given teams (all when none)."""
        if not team_ids:
            return self
        return self.filter(Q(team__isnull=True) | Q(team_id__in=team_ids))


class Process(models.Model):
    class Verification(models.TextChoices):
        AUTOMATED = "automated", "Automated tests or checks"
        CHECKLIST = "checklist", "A checklist"
        SIGN_OFF = "sign_off", "A person signs it off"
        NONE = "none", "Nothing"

    class Reversibility(models.TextChoices):
        REVERSIBLE = "reversible", "Fully reversible"
        EFFORT = "effort", "Reversible with effort"
        IRREVERSIBLE = "irreversible", "Cannot be undone"

    class BlastRadius(models.IntegerChoices):
        TEAM = 1, "One person or team"
        TEAMS = 2, "Several teams"
        CUSTOMERS = 3, "Customers or partners"
        CRITICAL = 4, "Money, legal or safety"

    class Recording(models.TextChoices):
        NONE = "none", "None"
        RECORDING = "recording", "A recording or walkthrough of a run"
        TRACE = "trace", "An event log or trace"

    class Origin(models.TextChoices):
        ENTERED = "entered", "Entered"
        IMPORTED = "imported", "Imported"
        RESPONDENT = "respondent", "Suggested by a respondent"
        LOG = "log", "From an event log"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(
        "assessments.Organisation", models.CASCADE, related_name="processes"
    )
    team = models.ForeignKey(
        "assessments.Team", models.SET_NULL, null=True, blank=True, related_name="processes"
    )
    name = models.CharField(max_length=200)
    owner = models.CharField(max_length=200, blank=True)
    trigger = models.CharField(max_length=500, blank=True)
    outcome = models.CharField(max_length=500, blank=True)
    runs_per_week = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(1_000_000)]
    )
    minutes_per_run = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(100_000)]
    )
    # Percent of runs with an error or rework, 0-100.
    error_rate = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    verification = models.CharField(
        max_length=20, choices=Verification.choices, default=Verification.NONE
    )
    reversibility = models.CharField(
        max_length=20, choices=Reversibility.choices, default=Reversibility.EFFORT
    )
    blast_radius = models.PositiveSmallIntegerField(
        choices=BlastRadius.choices, default=BlastRadius.TEAMS
    )
    doc_url = models.URLField("Where it is written down", max_length=500, blank=True)
    recording = models.CharField(max_length=20, choices=Recording.choices, default=Recording.NONE)
    measured = models.JSONField(default=dict, blank=True)
    origin = models.CharField(max_length=20, choices=Origin.choices, default=Origin.ENTERED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = ProcessQuerySet.as_manager()

    class Meta:
        ordering = ["name", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "name"], name="process_name_unique_in_org"
            ),
            models.CheckConstraint(
                condition=Q(blast_radius__gte=1) & Q(blast_radius__lte=4),
                name="process_blast_radius_1_to_4",
            ),
            models.CheckConstraint(
                condition=Q(error_rate__isnull=True)
                | (Q(error_rate__gte=0) & Q(error_rate__lte=100)),
                name="process_error_rate_percent",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def is_measured(self, field: str) -> bool:
        return field in (self.measured or {})

    def facts(self) -> ProcessFacts:
        """The plain facts the pure suitability rules read."""
        steps = tuple(
            StepFacts(name=s.name, system=s.system, api=s.api, decides=s.decides)  # type: ignore[arg-type]
            for s in self.steps.all()
        )
        return ProcessFacts(
            key=str(self.pk),
            name=self.name,
            steps=steps,
            runs_per_week=self.runs_per_week,
            minutes_per_run=self.minutes_per_run,
            error_rate=None if self.error_rate is None else self.error_rate / 100,
            verification=self.verification,  # type: ignore[arg-type]
            reversibility=self.reversibility,  # type: ignore[arg-type]
            blast_radius=int(self.blast_radius),
            documented=bool(self.doc_url),
            recording=self.recording,  # type: ignore[arg-type]
            trigger=self.trigger,
            outcome=self.outcome,
            owner=self.owner,
            measured=frozenset(self.measured or {}),
        )


class ProcessStep(models.Model):
    class Api(models.TextChoices):
        YES = "yes", "Yes"
        NO = "no", "No"
        UNKNOWN = "unknown", "Not known"

    process = models.ForeignKey(Process, models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField(default=0)
    name = models.CharField(max_length=200)
    system = models.CharField(max_length=200, blank=True)
    api = models.CharField(max_length=10, choices=Api.choices, default=Api.UNKNOWN)
    decides = models.BooleanField(
        default=False, help_text="A person decides here (judgement), rather than just executes."
    )
    measured = models.BooleanField(default=False)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.name


class EventLog(BackgroundJob):
    """An uploaded event log, its column mapping and, once the job has run, its analysis."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organisation = models.ForeignKey(
        "assessments.Organisation", models.CASCADE, related_name="event_logs"
    )
    process = models.ForeignKey(
        Process, models.SET_NULL, null=True, blank=True, related_name="event_logs"
    )
    # Uploads stay out of MEDIA_URL's reach and are never served back.
    upload = models.FileField(upload_to="process-logs/%Y/%m/", blank=True)
    upload_name = models.CharField(max_length=255, blank=True)
    upload_size = models.BigIntegerField(default=0)
    columns = models.JSONField(default=list, blank=True)
    preview = models.JSONField(default=list, blank=True)
    column_mapping = models.JSONField(default=dict, blank=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    date_order = models.CharField(max_length=20, default="auto")
    mapped = models.BooleanField(default=False)
    analysis = models.JSONField(default=dict, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )

    RUNNABLE = Q(mapped=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.upload_name or "Event log"


class ProcessReport(models.Model):
    """A respondent listing a process they run, or confirming one of the catalogue's."""

    respondent = models.ForeignKey(
        "assessments.Respondent", models.CASCADE, related_name="process_reports"
    )
    process = models.ForeignKey(
        Process, models.SET_NULL, null=True, blank=True, related_name="reports"
    )
    name = models.CharField(max_length=200)
    runs_per_week = models.FloatField(null=True, blank=True)
    minutes_per_run = models.FloatField(null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["respondent", "process"],
                condition=Q(process__isnull=False),
                name="one_confirmation_per_process",
            )
        ]

    def __str__(self) -> str:
        return self.name
