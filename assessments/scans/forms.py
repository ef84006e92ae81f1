"""What a leader types or uploads to add a scan source. Every form names its fields."""

from __future__ import annotations

import re
from datetime import UTC, date
from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone

from assessments.cleaning import CleanFieldsMixin
from assessments.scans.engine.cli import DEFAULT_WINDOW_DAYS, EPOCH
from assessments.scans.engine.model import ScanError
from assessments.scans.engine.urls import validate_remote_url

GITHUB_REPO = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
ARCHIVE_MAGIC = (b"PK\x03\x04", b"\x1f\x8b", b"# v2 git bundle", b"# v3 git bundle")


class HistoryWindowForm(CleanFieldsMixin, forms.Form):
    """The days of history a repository scan measures: both optional, whole UTC days, both
    included. Left empty, the scan measures the 180 days up to now (or ending on `until`)."""

    since = forms.DateField(
        label="History from (optional)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="First day of history to measure (YYYY-MM-DD).",
    )
    until = forms.DateField(
        label="History until (optional)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=f"Last day, included. Empty: today; empty start: the {DEFAULT_WINDOW_DAYS} days ending on it.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The window comes after what to scan, in every form that has it.
        self.order_fields([n for n in self.fields if n not in ("since", "until")])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        today = timezone.now().astimezone(UTC).date()
        for name, label, value in (("since", "start", since), ("until", "end", until)):
            if value is None:
                continue
            if value > today:
                self.add_error(
                    name,
                    f"The {label} day {value.isoformat()} is in the future (today is "
                    f"{today.isoformat()}, UTC): there is no history there yet.",
                )
            elif value < EPOCH:
                self.add_error(
                    name, f"The {label} day is before 1970-01-01: git stores no earlier date."
                )
        if since and until and since > until:
            self.add_error(
                "until",
                f"The end day {until.isoformat()} is before the start day {since.isoformat()}: "
                "the window would be empty.",
            )
        return cleaned

    def window(self) -> tuple[date | None, date | None]:
        return self.cleaned_data.get("since"), self.cleaned_data.get("until")


class RepoUrlForm(HistoryWindowForm):
    url = forms.CharField(
        label="Repository URL",
        max_length=500,
        help_text="An https clone URL, e.g. https://github.com/owner/repo.git",
    )
    token = forms.CharField(
        label="Access token (private repositories only)",
        required=False,
        max_length=500,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )

    def clean_url(self) -> str:
        """The URL as the engine normalises it; the scan checks its addresses again."""
        url: str = self.cleaned_data["url"].strip()
        _scheme, sep, rest = url.partition("://")
        if sep and "@" in rest.split("/", 1)[0]:
            self._forget_url()
            raise forms.ValidationError("Do not put credentials in the URL; use the token field.")
        if "?" in url or "#" in url:
            # A query or fragment can carry a token (?access_token=...): never keep or show it.
            self._forget_url()
            raise forms.ValidationError(
                "Remove the query string (?...) and fragment (#...) from the URL; put an "
                "access token in the token field."
            )
        if not url.lower().startswith("https://"):
            raise forms.ValidationError("Use an https:// URL; other protocols are not scanned.")
        try:
            normalised, _host = validate_remote_url(url)
        except ScanError as exc:
            raise forms.ValidationError(str(exc)) from None
        return normalised

    def _forget_url(self) -> None:
        """Leave the refused URL out of the re-rendered form: it may hold a secret."""
        self.data = {**dict(self.data.items()), "url": ""}  # items(): one value per field


class RepoPathForm(HistoryWindowForm):
    path = forms.CharField(label="Path on the server", max_length=500)

    def clean_path(self) -> str:
        path: str = self.cleaned_data["path"].strip()
        if not settings.SCAN_ALLOWED_ROOTS:
            raise forms.ValidationError(
                "Scanning server paths is turned off (SCAN_ALLOWED_ROOTS is empty)."
            )
        if not path.startswith("/"):
            raise forms.ValidationError("Give an absolute path.")
        return path


class UploadForm(CleanFieldsMixin, forms.Form):
    file = forms.FileField(label="File")

    def __init__(
        self, *args: Any, limit: int, magic: tuple[bytes, ...] = (), kinds: str = "", **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.limit, self.magic, self.kinds = limit, magic, kinds

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > self.limit:
            raise forms.ValidationError(
                f"The file is larger than {self.limit // (1024 * 1024)} MB."
            )
        if self.magic:
            head = upload.read(64)
            upload.seek(0)
            if not head.startswith(self.magic) and not _is_tar(upload):
                raise forms.ValidationError(
                    f"This is not {self.kinds} (checked by its content, not its name)."
                )
        return upload


class RepoArchiveForm(UploadForm, HistoryWindowForm):
    """An uploaded repository, with the history window to measure."""


def _is_tar(upload: Any) -> bool:
    upload.seek(257)
    marker = upload.read(5)
    upload.seek(0)
    return bool(marker == b"ustar")


class GitHubForm(CleanFieldsMixin, forms.Form):
    repo = forms.CharField(
        label="Repository", max_length=140, help_text="owner/name, e.g. acme/payments"
    )
    token = forms.CharField(
        label="Token",
        max_length=500,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="A fine-grained token with read access to pull requests, administration (branch rules), actions and deployments. Stored encrypted; never shown again.",
    )

    def clean_repo(self) -> str:
        repo: str = self.cleaned_data["repo"].strip().removeprefix("https://github.com/").strip("/")
        if not GITHUB_REPO.match(repo):
            raise forms.ValidationError("Give the repository as owner/name.")
        return repo


EXPORT_KIND_CHOICES = [
    ("deployments", "Deployments"),
    ("incidents", "Incidents"),
    ("changes", "Changes"),
]


class ExportForm(UploadForm):
    kind = forms.ChoiceField(choices=EXPORT_KIND_CHOICES, label="What the export holds")


class MappingForm(CleanFieldsMixin, forms.Form):
    """One select per field of the export kind, choosing a column of the uploaded file."""

    def __init__(
        self,
        *args: Any,
        fields: dict[str, tuple[bool, Any]],
        columns: list[str],
        initial_mapping: dict[str, str],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", "(not in this export)")] + [(c, c) for c in columns]
        for name, (required, _aliases) in fields.items():
            self.fields[name] = forms.ChoiceField(
                choices=choices,
                required=required,
                initial=initial_mapping.get(name, ""),
                label=name.replace("_", " ") + (" (required)" if required else ""),
            )

    def mapping(self) -> dict[str, str]:
        return {name: column for name, column in self.cleaned_data.items() if column}
