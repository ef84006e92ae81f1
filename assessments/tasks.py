"""Celery tasks of the assessments app (autodiscovered): integration scans, event logs,
invitation e-mails."""

from __future__ import annotations

from celery import Task, shared_task

from assessments.jobs import ClaimOutcome
from assessments.processes.tasks import analyse_log
from assessments.scans.tasks import run_scan

__all__ = ["analyse_log", "run_scan", "send_mailout"]


@shared_task(
    bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True, max_retries=None
)
def send_mailout(self: Task, mailout_id: str) -> None:
    from assessments import mailouts

    claim = mailouts.mailout_send(mailout_id=mailout_id)
    if claim.outcome is ClaimOutcome.BUSY:
        # Another worker is sending it: look again when its heartbeat would be stale.
        raise self.retry(countdown=claim.retry_in)
