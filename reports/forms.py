"""The scoring settings a leader may change: a target level per dimension, and weights for
dimensions and for capabilities within them."""

from __future__ import annotations

import re
from typing import Any

from django import forms

from assessments.cleaning import CleanFieldsMixin
from scoring.rubric import Rubric

LEVEL_CHOICES = [(level, f"{level}") for level in range(1, 6)]


class ScoringSettingsForm(CleanFieldsMixin, forms.Form):
    def __init__(
        self,
        *args: Any,
        rubric: Rubric,
        targets: dict[str, int],
        weights: dict[str, float],
        repositories_in_scope: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.rubric = rubric
        self.fields["repositories_in_scope"] = forms.IntegerField(
            required=False,
            min_value=1,
            max_value=100_000,
            initial=repositories_in_scope,
            label="Repositories or services in scope",
            help_text="How many there are in all, scanned or not; scan evidence is weighed by "
            "the share scanned. Empty: not known.",
        )
        for d in rubric.dimensions:
            self.fields[f"target_{d.id}"] = forms.TypedChoiceField(
                label=f"{d.title} target",
                choices=LEVEL_CHOICES,
                coerce=int,
                initial=targets.get(d.id, d.target_level),
            )
            self.fields[f"weight_{d.id}"] = self._weight(
                f"{d.title} weight", weights.get(d.id, d.weight)
            )
            for c in d.capabilities:
                self.fields[f"weight_{c.id}"] = self._weight(c.title, weights.get(c.id, c.weight))

    @staticmethod
    def _weight(label: str, initial: float) -> forms.FloatField:
        return forms.FloatField(label=label, min_value=0, max_value=10, initial=initial)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        groups = [("dimension", [d.id for d in self.rubric.dimensions], "At least one dimension")]
        groups += [
            ("capability", [c.id for c in d.capabilities], f"At least one capability of {d.title}")
            for d in self.rubric.dimensions
        ]
        for _kind, ids, subject in groups:
            values = [cleaned.get(f"weight_{key}") for key in ids]
            if all(v is not None for v in values) and sum(values) <= 0:  # type: ignore[arg-type]
                raise forms.ValidationError(f"{subject} needs a weight above 0.")
        return cleaned

    def targets(self) -> dict[str, int]:
        return {d.id: self.cleaned_data[f"target_{d.id}"] for d in self.rubric.dimensions}

    def weights(self) -> dict[str, float]:
        ids = [d.id for d in self.rubric.dimensions] + [c.id for c in self.rubric.capabilities]
        return {key: self.cleaned_data[f"weight_{key}"] for key in ids}

    def rows(self) -> list[tuple[Any, Any]]:
        return [(self[f"target_{d.id}"], self[f"weight_{d.id}"]) for d in self.rubric.dimensions]

    def capability_rows(self) -> list[tuple[str, list[Any]]]:
        return [
            (d.title, [self[f"weight_{c.id}"] for c in d.capabilities])
            for d in self.rubric.dimensions
        ]


class BrandingFields(CleanFieldsMixin, forms.Form):
    """The report branding fields, shared by the branding page and engagement templates."""

    MAX_LOGO_BYTES = 300_000
    firm_name = forms.CharField(max_length=120, required=False, strip=True, label="Firm name")
    colour = forms.RegexField(
        # \Z, not $: "$" also matches before a final newline.
        regex=r"^#[0-9a-fA-F]{6}\Z",
        max_length=7,
        initial="#1d5aa6",
        label="Brand colour",
        error_messages={"invalid": "Use a colour like #1d5aa6."},
        widget=forms.TextInput(attrs={"type": "color"}),
    )
    logo = forms.FileField(required=False, label="Logo (PNG or JPEG, at most 300 KB)")

    def clean_logo(self) -> tuple[bytes, str] | None:
        upload = self.cleaned_data.get("logo")
        if not upload:
            return None
        if upload.size > self.MAX_LOGO_BYTES:
            raise forms.ValidationError("The logo is larger than 300 KB.")
        data = upload.read(self.MAX_LOGO_BYTES + 1)
        # The type comes from the file's first bytes, never from its name or the browser.
        if data.startswith(b"\x89PNG\r\n\x1a\n"):
            return data, "image/png"
        if data.startswith(b"\xff\xd8\xff"):
            return data, "image/jpeg"
        raise forms.ValidationError("The logo must be a PNG or JPEG image.")


class BrandingForm(BrandingFields):
    remove_logo = forms.BooleanField(required=False, label="Remove the current logo")


class PlanItemForm(CleanFieldsMixin, forms.Form):
    """One roadmap item's decision. The item id is checked against the roadmap by the service;
    `version` is the decision's version the editor's page showed (0 before the first save)."""

    item = forms.CharField(max_length=80)
    version = forms.IntegerField(min_value=0, max_value=10**9)
    status = forms.ChoiceField(
        choices=[
            ("proposed", "Proposed"),
            ("accepted", "Accepted"),
            ("deferred", "Deferred"),
            ("rejected", "Rejected"),
        ],
        error_messages={"invalid_choice": "Choose proposed, accepted, deferred or rejected."},
    )
    owner = forms.CharField(max_length=120, required=False, label="Owner")
    quarter = forms.CharField(
        max_length=7,
        required=False,
        label="Target quarter",
        help_text="For example 2027-Q1.",
        error_messages={"max_length": "Write the quarter as a year and quarter: 2027-Q1."},
    )
    note = forms.CharField(max_length=1000, required=False, widget=forms.Textarea, label="Note")

    def clean_quarter(self) -> str:
        value = re.sub(r"[\s-]+", "", self.cleaned_data.get("quarter", "")).upper()
        if not value:
            return ""
        match = re.fullmatch(r"(\d{4})Q([1-4])", value)
        if not match or not 2000 <= int(match.group(1)) <= 2100:
            raise forms.ValidationError("Write the quarter as a year and quarter: 2027-Q1.")
        return f"{match.group(1)}-Q{match.group(2)}"
