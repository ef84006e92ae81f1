"""Celery tasks for the catalogue: take an id, call one service."""

from __future__ import annotations

from celery import shared_task

from assessments.processes import logs


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def analyse_log(log_id: str) -> None:
    logs.log_execute(log_id=log_id)
