"""Celery tasks for the catalogue: take an id, call one service."""

from __future__ import annotations

from celery import Task, shared_task

from assessments.jobs import ClaimOutcome
from assessments.processes import logs


@shared_task(
    bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True, max_retries=None
)
def analyse_log(self: Task, log_id: str) -> None:
    claim = logs.log_execute(log_id=log_id)
    if claim.outcome is ClaimOutcome.BUSY:
        # Another worker holds the log: look again when its heartbeat would be stale.
        raise self.retry(countdown=claim.retry_in)
