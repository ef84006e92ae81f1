"""Cached results: the engine's output for one assessment, keyed by a hash of its inputs."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone

from assessments.jobs import BackgroundJob
from assessments.models import Assessment


class ResultSnapshot(models.Model):
    """One computed result. A change to answers, settings, evidence or the engine version gives
    a new hash, so a stale result is never served; old rows are pruned when a new one lands."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    assessment = models.ForeignKey(Assessment, models.CASCADE, related_name="results")
    inputs_hash = models.CharField(max_length=64)
    data = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)
    # How views find it without reading the inputs (reports.services.result_compute): the
    # assessment's inputs token and settings when it was computed, and the day it holds for
    # when delivery metrics make it depend on the date.
    inputs_token = models.CharField(max_length=32, blank=True, default="")
    settings_key = models.CharField(max_length=64, blank=True, default="")
    valid_on = models.DateField(null=True, blank=True)
    # What the results page draws from it (plotly figures), built on first view.
    figures = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "inputs_hash"], name="one_result_per_input_hash"
            )
        ]

    def __str__(self) -> str:
        return f"Result of {self.assessment} ({self.inputs_hash[:8]})"


class ReportJob(BackgroundJob):
    """A PDF being made, or made. Jobs are reused while the result, templates, paper size and
    branding stay the same (same render_hash), so a report is regenerated only on change."""

    class Paper(models.TextChoices):
        A4 = "a4", "A4"
        LETTER = "letter", "US Letter"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    assessment = models.ForeignKey(Assessment, models.CASCADE, related_name="report_jobs")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    paper = models.CharField(max_length=10, choices=Paper.choices, default=Paper.A4)
    render_hash = models.CharField(max_length=64)
    file = models.FileField(upload_to="reports/%Y/%m/", blank=True)
    pages = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["assessment", "render_hash"])]

    def __str__(self) -> str:
        return f"PDF of {self.assessment} ({self.get_status_display()})"

    @property
    def filename(self) -> str:
        stamp = (self.finished_at or self.created_at).strftime("%Y-%m-%d")
        return f"opready-gap-report-{stamp}-{self.paper}.pdf"


class ShareLink(models.Model):
    """A read-only link to an assessment's report for readers without an account."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    assessment = models.ForeignKey(Assessment, models.CASCADE, related_name="share_links")
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    views = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Share link for {self.assessment}"

    def is_usable(self, now: datetime | None = None) -> bool:
        """Not revoked, and strictly before its expiry (as `shared` redeems it)."""
        return self.revoked_at is None and self.expires_at > (now or timezone.now())

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "active" if self.expires_at > timezone.now() else "expired"


class Branding(models.Model):
    """A consultant's firm branding, used on reports they make for their client organisations."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, models.CASCADE, related_name="branding")
    firm_name = models.CharField(max_length=120, blank=True)
    colour = models.CharField(max_length=7, default="#1d5aa6")
    logo = models.BinaryField(blank=True, default=b"")
    logo_type = models.CharField(max_length=20, blank=True)

    def __str__(self) -> str:
        return self.firm_name or f"Branding of {self.user}"

    def logo_data_uri(self) -> str:
        if not self.logo:
            return ""
        import base64

        return f"data:{self.logo_type};base64,{base64.b64encode(bytes(self.logo)).decode()}"


class PlanDecision(models.Model):
    """What the leader or consultant decided about one roadmap item: its status, an owner, a
    target quarter and a note. `version` counts saves, so an edit made on a page opened before
    someone else's save is noticed instead of silently overwriting it."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        ACCEPTED = "accepted", "Accepted"
        DEFERRED = "deferred", "Deferred"
        REJECTED = "rejected", "Rejected"

    assessment = models.ForeignKey(Assessment, models.CASCADE, related_name="plan_decisions")
    item_id = models.CharField(max_length=80)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROPOSED)
    owner = models.CharField(max_length=120, blank=True)
    quarter = models.CharField(max_length=7, blank=True)  # "2027-Q1"
    note = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["assessment", "item_id"], name="one_decision_per_item")
        ]

    def __str__(self) -> str:
        return f"{self.item_id}: {self.get_status_display()}"


class PlanChange(models.Model):
    """One saved edit of a plan item: who, when, and each field's old and new value."""

    assessment = models.ForeignKey(Assessment, models.CASCADE, related_name="plan_changes")
    item_id = models.CharField(max_length=80)
    item_title = models.CharField(max_length=200)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    changed_by_name = models.CharField(max_length=200)  # kept when the account goes
    changed_at = models.DateTimeField(default=timezone.now)
    changes = models.JSONField()  # {"field": [old, new], ...}

    class Meta:
        ordering = ["-changed_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.item_title} changed by {self.changed_by_name}"
