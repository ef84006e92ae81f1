"""Template filters for background-job partials."""

from __future__ import annotations

from django import template

from assessments.jobs import BackgroundJob, workers_alive

register = template.Library()


@register.filter
def worker_alive(job: BackgroundJob) -> bool:
    """Whether any worker is up to run `job` (a worker's heartbeat is recent)."""
    return workers_alive()
