"""Cached results: the engine's output for one assessment, keyed by a hash of its inputs."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from assessments.models import Assessment


class ResultSnapshot(models.Model):
    """One computed result. A change to answers, settings, evidence or the engine version gives
    a new hash, so a stale result is never served; old rows are pruned when a new one lands."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    assessment = models.ForeignKey(Assessment, models.CASCADE, related_name="results")
    inputs_hash = models.CharField(max_length=64)
    data = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "inputs_hash"], name="one_result_per_input_hash"
            )
        ]

    def __str__(self) -> str:
        return f"Result of {self.assessment} ({self.inputs_hash[:8]})"
