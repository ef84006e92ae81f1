"""Celery tasks: thin wrappers that take ids and call one service."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task
from celery.signals import worker_process_init, worker_process_shutdown

from assessments.jobs import ClaimOutcome
from reports import jobs


@shared_task(
    bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True, max_retries=None
)
def render_report_pdf(self: Task, job_id: str) -> None:
    claim = jobs.pdf_render(job_id=job_id)
    if claim.outcome is ClaimOutcome.BUSY:
        # Another worker holds the job: look again when its heartbeat would be stale, so the
        # job is taken over if that worker died without this message being lost.
        raise self.retry(countdown=claim.retry_in)


@worker_process_init.connect
def _start_kaleido(**_kwargs: Any) -> None:
    # Warm before the first job rather than inside it: the browser's start (about 2 s) is
    # paid once per worker process, in the background, not by someone waiting for a PDF.
    from reports.chartimages import warm_kaleido_in_background

    warm_kaleido_in_background()


@worker_process_shutdown.connect
def _stop_kaleido(**_kwargs: Any) -> None:
    # One kaleido browser per worker process, closed with the process.
    from reports.chartimages import stop_kaleido

    stop_kaleido()
