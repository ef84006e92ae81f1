"""PDF reports as background jobs: request (reusing an identical job), claim, render, record.

Enqueueing happens on commit, and a broker that cannot be reached never fails the request: the
job stays queued and is enqueued again by the next request that looks at it, or by
`manage.py requeue_jobs`. Claiming is a conditional update, so a task that is delivered twice
(a worker killed mid-task, acks_late) renders once.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from assessments.models import Assessment
from reports.compare import compare, previous_assessment
from reports.models import ReportJob
from reports.rendering import branding_for, render_hash, render_html, report_context
from reports.services import result_compute

logger = logging.getLogger(__name__)

# A running job whose heartbeat is older than this belongs to a dead worker and may be retaken.
STALE_AFTER = timedelta(minutes=5)
# A queued job nobody picked up for this long is enqueued again when someone looks at it.
REQUEUE_AFTER = timedelta(seconds=30)


def comparison_for(assessment: Assessment) -> dict[str, Any] | None:
    previous = previous_assessment(assessment)
    return compare(assessment, previous) if previous else None


def pdf_request(*, assessment: Assessment, user: Any, paper: str) -> ReportJob:
    """The job for the current result: an existing one when nothing changed, else a new one."""
    result = result_compute(assessment=assessment).data
    branding = branding_for(assessment, user)
    digest = render_hash(
        result, paper=paper, branding=branding, comparison=comparison_for(assessment)
    )
    live = [ReportJob.Status.QUEUED, ReportJob.Status.RUNNING, ReportJob.Status.SUCCEEDED]
    existing = ReportJob.objects.filter(
        assessment=assessment, render_hash=digest, status__in=live
    ).first()
    if existing is not None:
        requeue_if_stuck(existing)
        return existing
    job = ReportJob.objects.create(
        assessment=assessment,
        requested_by=user if getattr(user, "is_authenticated", False) else None,
        paper=paper,
        render_hash=digest,
    )
    transaction.on_commit(lambda: enqueue(job.pk))
    return job


def enqueue(job_id: Any) -> bool:
    from reports.tasks import render_report_pdf

    try:
        render_report_pdf.delay(str(job_id))
    except Exception:  # the broker is down: the job stays queued and is retried later
        logger.exception("Could not enqueue report job %s; it stays queued", job_id)
        return False
    return True


def requeue_if_stuck(job: ReportJob) -> None:
    now = timezone.now()
    if job.status != ReportJob.Status.QUEUED or job.created_at >= now - REQUEUE_AFTER:
        return
    # Touch created_at so that polling does not enqueue it again every second.
    waiting = ReportJob.objects.filter(
        pk=job.pk, status=ReportJob.Status.QUEUED, created_at=job.created_at
    )
    if waiting.update(created_at=now):
        enqueue(job.pk)


def _claim(job_id: str) -> bool:
    now = timezone.now()
    return bool(
        ReportJob.objects.filter(pk=job_id)
        .filter(
            Q(status=ReportJob.Status.QUEUED)
            | Q(status=ReportJob.Status.RUNNING, heartbeat_at__lt=now - STALE_AFTER)
        )
        .update(
            status=ReportJob.Status.RUNNING,
            started_at=now,
            heartbeat_at=now,
            attempts=F("attempts") + 1,
            stage="Starting",
            progress=2,
        )
    )


def _progress(job_id: str, stage: str, percent: int) -> None:
    ReportJob.objects.filter(pk=job_id, status=ReportJob.Status.RUNNING).update(
        stage=stage, progress=max(0, min(99, percent)), heartbeat_at=timezone.now()
    )


def pdf_render(*, job_id: str) -> None:
    """Render one job's PDF. Safe to call twice for the same job: only one call claims it."""
    if not _claim(job_id):
        logger.info("Report job %s was already taken or finished", job_id)
        return
    job = ReportJob.objects.select_related(
        "assessment", "assessment__organisation", "requested_by"
    ).get(pk=job_id)
    try:
        _progress(job_id, "Computing results", 5)
        result = result_compute(assessment=job.assessment).data
        branding = branding_for(job.assessment, job.requested_by)
        comparison = comparison_for(job.assessment)
        context = report_context(
            assessment=job.assessment,
            result=result,
            for_pdf=True,
            paper=job.paper,
            branding=branding,
            comparison=comparison,
            progress=lambda stage, pct: _progress(job_id, stage, pct),
        )
        _progress(job_id, "Laying out pages", 65)
        from reports.pdf import render_pdf

        pdf, pages, _fetcher = render_pdf(render_html(context, standalone=True))
        _progress(job_id, "Saving the file", 95)
        job.file.save(job.filename, ContentFile(pdf), save=False)
        job.render_hash = render_hash(
            result, paper=job.paper, branding=branding, comparison=comparison
        )
        job.pages = pages
        job.status = ReportJob.Status.SUCCEEDED
        job.stage = "Ready"
        job.progress = 100
        job.finished_at = timezone.now()
        job.save(
            update_fields=[
                "file",
                "render_hash",
                "pages",
                "status",
                "stage",
                "progress",
                "finished_at",
            ]
        )
    except Exception as exc:
        logger.exception("Report job %s failed", job_id)
        ReportJob.objects.filter(pk=job_id).update(
            status=ReportJob.Status.FAILED,
            stage="Failed",
            error=f"The report could not be rendered ({type(exc).__name__}). Try again; if it keeps failing, contact support.",
            finished_at=timezone.now(),
        )
