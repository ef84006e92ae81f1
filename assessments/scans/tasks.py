"""Celery tasks for scans: take an id, call one service."""

from __future__ import annotations

from celery import shared_task

from assessments.scans import services


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_scan(run_id: str) -> None:
    services.run_execute(run_id=run_id)
