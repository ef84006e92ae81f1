"""Engagement templates and the set-up an assessment was started with."""

from __future__ import annotations

import base64
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from scoring.rubric import DEFAULT_RUBRIC


class BrandFields(models.Model):
    """Report branding carried by a template and by the assessments started from it: the
    same values as a consultant's reports.Branding, checked the same way
    (engagements.services.brand_clean)."""

    brand_firm_name = models.CharField(max_length=120, blank=True)
    brand_colour = models.CharField(max_length=7, blank=True)
    brand_logo = models.BinaryField(blank=True, default=b"")
    brand_logo_type = models.CharField(max_length=20, blank=True)

    class Meta:
        abstract = True

    @property
    def has_brand(self) -> bool:
        return bool(self.brand_firm_name)

    def brand_logo_data_uri(self) -> str:
        if not self.brand_logo:
            return ""
        data = base64.b64encode(bytes(self.brand_logo)).decode()
        return f"data:{self.brand_logo_type};base64,{data}"

    def brand_values(self) -> dict[str, object]:
        return {
            "brand_firm_name": self.brand_firm_name,
            "brand_colour": self.brand_colour,
            "brand_logo": bytes(self.brand_logo or b""),
            "brand_logo_type": self.brand_logo_type,
        }


class EngagementTemplate(BrandFields):
    """A consultant's saved set-up for new clients: rubric version, targets, weights,
    anonymity, the roles to invite, the text for the report's cover and the branding of the
    reports (firm name, colour, logo; captured from the consultant's report branding when
    the template is saved, and copied to each assessment started from it)."""

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


class AssessmentSetup(BrandFields):
    """What an assessment was started with beyond its own fields: the template, the roles to
    invite, the report's cover text and its branding (empty firm name: none; reports then
    fall back to the facilitator's own branding). Copied along with a re-assessment."""

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
