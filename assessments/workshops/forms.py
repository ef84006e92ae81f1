"""Workshop forms: they clean input only; rules live in services and core."""

from __future__ import annotations

from django import forms

from assessments.cleaning import CleanFieldsMixin
from assessments.workshops.models import ROLE_CHOICES
from assessments.workshops.services import MAX_NOTES, MAX_RATIONALE, MAX_REASON

LEVEL_CHOICES = [(n, str(n)) for n in range(1, 6)]


class _FirstError(CleanFieldsMixin, forms.Form):
    def first_error(self) -> str:
        for field, errors in self.errors.items():
            label = "" if field == "__all__" else f"{field.replace('_', ' ')}: "
            return f"{label}{errors[0]}"
        return "the form is incomplete."


class WorkshopForm(_FirstError):
    title = forms.CharField(max_length=200, strip=True, initial="Readiness workshop")
    minutes_per_capability = forms.IntegerField(
        min_value=1,
        max_value=60,
        initial=5,
        help_text="The timer for each capability; the room's twenty capabilities at 5 minutes "
        "take about two hours.",
    )


class AgreeForm(_FirstError):
    capability = forms.CharField(max_length=120)
    level = forms.TypedChoiceField(
        choices=LEVEL_CHOICES, coerce=int, widget=forms.RadioSelect, label="Agreed level"
    )
    rationale = forms.CharField(
        max_length=MAX_RATIONALE,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why the room settled on this level, in a sentence or two.",
    )


class DissentForm(_FirstError):
    capability = forms.CharField(max_length=120)
    role = forms.ChoiceField(choices=ROLE_CHOICES)
    who = forms.CharField(max_length=120, required=False, label="Who (optional)")
    reason = forms.CharField(max_length=MAX_REASON, widget=forms.Textarea(attrs={"rows": 2}))


class NotesForm(_FirstError):
    capability = forms.CharField(max_length=120)
    notes = forms.CharField(
        max_length=MAX_NOTES, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )


class CodeForm(_FirstError):
    code = forms.CharField(max_length=40, label="Workshop code")


class JoinForm(_FirstError):
    role = forms.ChoiceField(
        choices=ROLE_CHOICES, widget=forms.RadioSelect, label="Which best describes your work?"
    )
    display_name = forms.CharField(
        max_length=60, required=False, strip=True, label="Your name on the list (optional)"
    )
