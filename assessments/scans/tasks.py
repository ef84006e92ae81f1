"""Celery tasks for scans: take an id, call one service."""

from __future__ import annotations

from celery import Task, shared_task

from assessments.jobs import ClaimOutcome
from assessments.scans import services


@shared_task(
    bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True, max_retries=None
)
def run_scan(self: Task, run_id: str) -> None:
    claim = services.run_execute(run_id=run_id)
    if claim.outcome is ClaimOutcome.BUSY:
        # Another worker holds the run: look again when its heartbeat would be stale.
        raise self.retry(countdown=claim.retry_in)
