"""Forms for the catalogue: they clean input and name their fields explicitly."""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from django import forms

from assessments.cleaning import CleanFieldsMixin
from assessments.models import Organisation
from assessments.processes.models import Process, ProcessStep

PROCESS_FIELDS = [
    "name",
    "team",
    "owner",
    "trigger",
    "outcome",
    "runs_per_week",
    "minutes_per_run",
    "error_rate",
    "verification",
    "reversibility",
    "blast_radius",
    "doc_url",
    "recording",
]


class ProcessForm(CleanFieldsMixin, forms.ModelForm[Process]):
    class Meta:
        model = Process
        fields = PROCESS_FIELDS
        labels = {
            "team": "Team (optional)",
            "runs_per_week": "Runs per week",
            "minutes_per_run": "Minutes of human work per run",
            "error_rate": "Error or rework rate (%)",
            "verification": "How a good run is told from a bad one",
            "reversibility": "Can a mistake be undone?",
            "blast_radius": "Who a mistake reaches",
            "doc_url": "Where it is written down (link)",
            "recording": "A recording or trace of a run",
        }
        help_texts = {
            "trigger": "What starts a run: a ticket, a date, a request.",
            "outcome": "What a finished run produces.",
            "error_rate": "Percent of runs with an error or rework, 0-100.",
        }
        error_messages = {"name": {"required": "Give the process a name."}}
        widgets = {
            "trigger": forms.TextInput(),
            "outcome": forms.TextInput(),
        }

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organisation = organisation
        team_field = self.fields["team"]
        assert isinstance(team_field, forms.ModelChoiceField)
        team_field.queryset = organisation.teams.all()
        team_field.empty_label = "Whole organisation"
        for name in ("runs_per_week", "minutes_per_run", "error_rate"):
            self.fields[name].widget.attrs.update({"step": "any", "min": "0"})

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the process a name.")
        others = self.organisation.processes.filter(name__iexact=name)
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise forms.ValidationError("This organisation already has a process of that name.")
        return name


class StepForm(CleanFieldsMixin, forms.ModelForm[ProcessStep]):
    class Meta:
        model = ProcessStep
        fields = ["name", "system", "api", "decides"]
        labels = {
            "name": "Step",
            "system": "System it touches",
            "api": "Has an API we can use",
            "decides": "A person decides here",
        }
        error_messages = {"name": {"required": "Give the step a name."}}

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the step a name.")
        return name


class UploadForm(CleanFieldsMixin, forms.Form):
    file = forms.FileField(label="File")

    def __init__(self, *args: Any, limit: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limit = limit

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > self.limit:
            raise forms.ValidationError(
                f"The file is larger than {self.limit // (1024 * 1024)} MB."
            )
        return upload


class LogUploadForm(UploadForm):
    process = forms.ModelChoiceField(
        queryset=Process.objects.none(),
        required=False,
        empty_label="A new catalogue entry, named after the file",
        label="Which process the log records",
    )

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        process_field = self.fields["process"]
        assert isinstance(process_field, forms.ModelChoiceField)
        process_field.queryset = organisation.processes.all()

    def clean_file(self) -> Any:
        upload = super().clean_file()
        head = upload.read(4096)
        upload.seek(0)
        if b"\x00" in head or head[:4] == b"PK\x03\x04" or head[:2] == b"\x1f\x8b":
            raise forms.ValidationError(
                "This is not a CSV or XES event log (checked by its content, not its name). "
                "A compressed log (.zip, .gz, .xes.gz) has to be unpacked first."
            )
        return upload


DATE_ORDERS = [
    ("auto", "Recognise it (ISO 8601, epoch seconds, RFC 2822 ...)"),
    ("dayfirst", "Day before month (31/05/2024 14:00)"),
    ("monthfirst", "Month before day (05/31/2024 2:00 PM)"),
]


def _zones() -> list[tuple[str, str]]:
    zones = sorted(z for z in available_timezones() if "/" in z or z == "UTC")
    return [(z, z) for z in ["UTC", *[z for z in zones if z != "UTC"]]]


class LogMappingForm(CleanFieldsMixin, forms.Form):
    case = forms.ChoiceField(label="Case id (required)")
    activity = forms.ChoiceField(label="Activity (required)")
    timestamp = forms.ChoiceField(label="Timestamp (required)")
    resource = forms.ChoiceField(label="Resource (who did it)", required=False)
    time_zone = forms.ChoiceField(
        label="Time zone of timestamps without one",
        help_text="Timestamps that carry an offset (Z, +02:00) keep it.",
    )
    date_order = forms.ChoiceField(label="Date format", choices=DATE_ORDERS)

    def __init__(self, *args: Any, columns: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        options = [(c, c) for c in columns]
        for name in ("case", "activity", "timestamp"):
            self.fields[name].choices = [("", "(choose a column)"), *options]  # type: ignore[attr-defined]
        self.fields["resource"].choices = [("", "(not in this log)"), *options]  # type: ignore[attr-defined]
        self.fields["time_zone"].choices = _zones()  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        chosen = [data.get(n) for n in ("case", "activity", "timestamp", "resource") if data.get(n)]
        if len(chosen) != len(set(chosen)):
            raise forms.ValidationError("Choose a different column for each field.")
        return data

    def mapping(self) -> dict[str, str]:
        return {
            name: self.cleaned_data[name]
            for name in ("case", "activity", "timestamp", "resource")
            if self.cleaned_data.get(name)
        }
