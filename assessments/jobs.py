"""Background jobs recorded on rows: PDF reports and integration scans share this shape.

A job row is created, then enqueued on commit; a worker claims it with a conditional update
(so a task delivered twice runs once), reports progress on the row as it goes, and finishes
it. A broker that cannot be reached never fails the request that made the job: the row stays
queued and is enqueued again when someone looks at it, or by `manage.py requeue_jobs`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

logger = logging.getLogger(__name__)

# A running job whose heartbeat is older than this belongs to a dead worker and may be retaken.
STALE_AFTER = timedelta(minutes=5)
# A queued job nobody picked up for this long is enqueued again when someone looks at it.
REQUEUE_AFTER = timedelta(seconds=30)


class BackgroundJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting for a worker"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Ready"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    stage = models.CharField(max_length=120, default="Waiting for a worker")
    progress = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def done(self) -> bool:
        return self.status in {self.Status.SUCCEEDED, self.Status.FAILED, self.Status.CANCELLED}


Job = TypeVar("Job", bound=BackgroundJob)


def job_claim(model: type[BackgroundJob], pk: Any) -> bool:
    """Take a job for this worker: True for exactly one caller per attempt."""
    now = timezone.now()
    claimable = Q(status=BackgroundJob.Status.QUEUED) | Q(
        status=BackgroundJob.Status.RUNNING, heartbeat_at__lt=now - STALE_AFTER
    )
    return bool(
        model._default_manager.filter(pk=pk)
        .filter(claimable)
        .update(
            status=BackgroundJob.Status.RUNNING,
            started_at=now,
            heartbeat_at=now,
            attempts=F("attempts") + 1,
            stage="Starting",
            progress=2,
        )
    )


def job_progress(model: type[BackgroundJob], pk: Any, stage: str, percent: int) -> None:
    model._default_manager.filter(pk=pk, status=BackgroundJob.Status.RUNNING).update(
        stage=stage[:120], progress=max(0, min(99, percent)), heartbeat_at=timezone.now()
    )


def job_fail(model: type[BackgroundJob], pk: Any, message: str) -> None:
    model._default_manager.filter(pk=pk).exclude(status=BackgroundJob.Status.SUCCEEDED).update(
        status=BackgroundJob.Status.FAILED,
        stage="Failed",
        error=message,
        finished_at=timezone.now(),
    )


def job_enqueue(send: Callable[[], Any], what: str) -> bool:
    """Publish a task; a broker outage is logged and the job stays queued."""
    try:
        send()
    except Exception:
        logger.exception("Could not enqueue %s; it stays queued", what)
        return False
    return True


def job_requeue_if_stuck(job: BackgroundJob, send: Callable[[], Any]) -> None:
    now = timezone.now()
    if job.status != BackgroundJob.Status.QUEUED or job.created_at >= now - REQUEUE_AFTER:
        return
    # Touch created_at first, so that polling does not enqueue it again every second.
    waiting = type(job)._default_manager.filter(
        pk=job.pk, status=BackgroundJob.Status.QUEUED, created_at=job.created_at
    )
    if waiting.update(created_at=now):
        job_enqueue(send, f"{type(job).__name__} {job.pk}")
