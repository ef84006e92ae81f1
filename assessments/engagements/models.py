"""Engagement templates and the set-up an assessment was started with."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from scoring.rubric import DEFAULT_RUBRIC


class EngagementTemplate(models.Model):
    """A consultant's saved set-up for new clients: rubric version, targets, weights,
    anonymity, the roles to invite, and the text for the report's cover. Reports for the
    consultant's clients carry the consultant's own branding (reports.Branding)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="engagement_templates"
    )
    name = models.CharField(max_length=120)
    rubric_id = models.CharField(max_length=80, default=DEFAULT_RUBRIC[0])
    rubric_version = models.PositiveIntegerField(default=DEFAULT_RUBRIC[1])
    targets = models.JSONField(default=dict, blank=True)
    weights = models.JSONField(default=dict, blank=True)
    anonymous = models.BooleanField(default=False)
    invitation_roles = models.JSONField(default=list, blank=True)
    cover_text = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="template_name_unique_per_owner")
        ]

    def __str__(self) -> str:
        return self.name


class AssessmentSetup(models.Model):
    """What an assessment was started with beyond its own fields: the template, the roles to
    invite and the report's cover text. Copied along with a re-assessment."""

    assessment = models.OneToOneField(
        "assessments.Assessment", models.CASCADE, related_name="setup", primary_key=True
    )
    template = models.ForeignKey(
        EngagementTemplate, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    previous = models.ForeignKey(
        "assessments.Assessment", models.SET_NULL, null=True, blank=True, related_name="+"
    )
    invitation_roles = models.JSONField(default=list, blank=True)
    cover_text = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"Set-up of {self.assessment_id}"
