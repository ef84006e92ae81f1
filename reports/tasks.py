"""Celery tasks: thin wrappers that take ids and call one service."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from celery.signals import worker_process_shutdown

from reports import jobs


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def render_report_pdf(job_id: str) -> None:
    jobs.pdf_render(job_id=job_id)


@worker_process_shutdown.connect
def _stop_kaleido(**_kwargs: Any) -> None:
    # One kaleido browser per worker process, closed with the process.
    from reports.pdf import stop_kaleido

    stop_kaleido()
