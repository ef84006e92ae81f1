"""Integration scans in the app: sources added to an assessment, their runs, and findings.

The scanning itself is the pure engine in `assessments.scans.engine`; these rows record what
to scan, how each run went, and what it found. A source's findings are those of its current
run: a rescan swaps `current_run` in one transaction, so findings are replaced atomically.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from assessments.jobs import BackgroundJob
from assessments.scans.engine.cli import DEFAULT_WINDOW_DAYS, EPOCH


class ScanSource(models.Model):
    class Kind(models.TextChoices):
        REPO_URL = "repo_url", "Git repository (https URL)"
        REPO_ARCHIVE = "repo_archive", "Git repository (uploaded archive)"
        REPO_PATH = "repo_path", "Git repository (path on the server)"
        GITHUB = "github", "GitHub repository (API)"
        DEPLOYMENTS = "deployments", "Deployments export"
        INCIDENTS = "incidents", "Incidents export"
        CHANGES = "changes", "Changes export"

    REPOSITORY_KINDS = (Kind.REPO_URL, Kind.REPO_ARCHIVE, Kind.REPO_PATH)
    EXPORT_KINDS = (Kind.DEPLOYMENTS, Kind.INCIDENTS, Kind.CHANGES)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    assessment = models.ForeignKey(
        "assessments.Assessment", models.CASCADE, related_name="scan_sources"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    label = models.CharField(max_length=200)
    # What to scan: an https URL, a server path, or "owner/name" on GitHub.
    location = models.CharField(max_length=500, blank=True)
    # Uploads (archives, exports) stay out of MEDIA_URL's reach and are never served back.
    upload = models.FileField(upload_to="scan-uploads/%Y/%m/", blank=True)
    upload_name = models.CharField(max_length=255, blank=True)
    # A GitHub token, encrypted at rest (assessments.scans.secrets); never shown again.
    token_encrypted = models.BinaryField(blank=True, default=b"")
    # Delivery exports: the column mapping used and the imported rows (plain JSON records).
    column_mapping = models.JSONField(default=dict, blank=True)
    records = models.JSONField(default=list, blank=True)
    current_run = models.ForeignKey(
        "ScanRun", models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.label

    @property
    def is_export(self) -> bool:
        return self.kind in self.EXPORT_KINDS

    @property
    def is_repository(self) -> bool:
        """A git repository, scanned over a history window."""
        return self.kind in self.REPOSITORY_KINDS


class ScanRun(BackgroundJob):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    source = models.ForeignKey(ScanSource, models.CASCADE, related_name="runs")
    assessment = models.ForeignKey(
        "assessments.Assessment", models.CASCADE, related_name="scan_runs"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    cancel_requested = models.BooleanField(default=False)
    facts = models.JSONField(default=dict, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    partial = models.BooleanField(default=False)
    # The history window asked for (whole UTC days, both included); empty: the engine's
    # default, the 180 days up to the run (or up to `window_until`).
    window_since = models.DateField(null=True, blank=True)
    window_until = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Scan of {self.source} ({self.get_status_display()})"

    def window(self) -> tuple[date, date]:
        """The first and last day of history the run measures (as `engine.cli.history_window`
        reads its window: the last day defaults to the day the run was asked for, the first
        to 180 days ending on the last)."""
        last = self.window_until or self.created_at.astimezone(UTC).date()
        first = self.window_since or max(EPOCH, last - timedelta(days=DEFAULT_WINDOW_DAYS - 1))
        return first, last

    @property
    def suggested_window(self) -> dict[str, str] | None:
        """For a run that found no commit in its window: the window of the same length ending
        on the day of the last commit ({"since", "until", "last_commit"}), else None."""
        suggested = self.history.get("suggested_window")
        last = self.history.get("last_commit_at")
        if not isinstance(suggested, dict) or not last:
            return None
        return {
            "since": str(suggested.get("since", "")),
            "until": str(suggested.get("until", "")),
            "last_commit": str(last)[:10],
        }

    @property
    def history(self) -> dict[str, Any]:
        """The history facts of a repository scan (empty for other runs)."""
        history = (self.facts or {}).get("history")
        return history if isinstance(history, dict) else {}


class ScanFinding(models.Model):
    class Status(models.TextChoices):
        FOUND = "found", "Found"
        ABSENT = "absent", "Absent"
        UNKNOWN = "unknown", "Could not determine"

    run = models.ForeignKey(ScanRun, models.CASCADE, related_name="findings")
    detector = models.CharField(max_length=120)
    capability = models.CharField(max_length=120)
    status = models.CharField(max_length=10, choices=Status.choices)
    strength = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=300)
    detail = models.TextField(blank=True)
    evidence = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["capability", "detector"]

    def __str__(self) -> str:
        return f"{self.detector}: {self.status}"

    def pointers(self) -> list[str]:
        """Evidence as short text: path:line, a commit sha, an API URL or an export row."""
        out = []
        for pointer in self.evidence:
            ref = str(pointer.get("ref", ""))
            line: Any = pointer.get("line")
            if pointer.get("kind") == "file" and line:
                ref = f"{ref}:{line}"
            elif pointer.get("kind") == "row":
                ref = f"row {ref}"
            elif pointer.get("kind") == "searched":
                ref = f"searched {ref}"
            out.append(ref)
        return out
