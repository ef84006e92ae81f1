"""Engagement forms: they clean input only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from assessments.cleaning import CleanFieldsMixin
from assessments.engagements.models import EngagementTemplate
from assessments.models import ROLE_CHOICES
from reports.forms import BrandingFields


class TemplateForm(BrandingFields):
    """A template's name, roles and cover text, and the branding of its clients' reports
    (checked exactly as on the branding page; an empty firm name: no branding)."""

    name = forms.CharField(max_length=120, strip=True, label="Template name")
    invitation_roles = forms.MultipleChoiceField(
        choices=ROLE_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )
    cover_text = forms.CharField(max_length=2000, required=False, widget=forms.Textarea)
    use_my_logo = forms.BooleanField(required=False, label="Use my current logo")

    field_order = ["name", "invitation_roles", "cover_text", "firm_name", "colour", "logo"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["colour"].required = False  # no colour given: the default one


class ReassessForm(CleanFieldsMixin, forms.Form):
    title = forms.CharField(max_length=200, strip=True)


class ClientStartForm(CleanFieldsMixin, forms.Form):
    template = forms.ModelChoiceField(queryset=EngagementTemplate.objects.none(), empty_label=None)
    organisation = forms.CharField(max_length=200, strip=True, label="Client organisation")
    title = forms.CharField(
        max_length=200, strip=True, label="First assessment", initial="Readiness assessment"
    )

    def __init__(self, *args: Any, templates: QuerySet[EngagementTemplate], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = templates  # type: ignore[attr-defined]
