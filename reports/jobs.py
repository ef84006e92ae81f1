"""PDF reports as background jobs: request (reusing an identical job), claim, render, record.
The job mechanics (claiming, progress, broker outages) are in `assessments.jobs`."""

from __future__ import annotations

import logging
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction

from assessments.jobs import (
    Claim,
    job_claim,
    job_enqueue,
    job_fail,
    job_finish,
    job_progress,
    job_requeue_if_stuck,
    job_running,
)
from assessments.models import Assessment
from reports.chartimages import ChartRendererUnavailable
from reports.compare import automatic_comparison, previous_assessment
from reports.models import ReportJob
from reports.rendering import branding_for, render_hash, render_html, report_context
from reports.services import result_compute

logger = logging.getLogger(__name__)


def comparison_for(assessment: Assessment) -> dict[str, Any] | None:
    """The report's "what changed since" with the previous assessment: in full when the two
    are comparable, else only why not (reports.compare.automatic_comparison)."""
    previous = previous_assessment(assessment)
    return automatic_comparison(assessment, previous) if previous else None


def pdf_request(*, assessment: Assessment, user: Any, paper: str) -> ReportJob:
    """The job for the current result: an existing one when nothing changed, else a new one."""
    result = result_compute(assessment=assessment).data
    branding = branding_for(assessment, user)
    digest = render_hash(
        result,
        assessment=assessment,
        paper=paper,
        branding=branding,
        comparison=comparison_for(assessment),
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
    job.refresh_from_db()  # the stage says whether the job system took it
    return job


def task_sender(job_id: Any) -> Any:
    from reports.tasks import render_report_pdf

    return lambda: render_report_pdf.delay(str(job_id))


def enqueue(job_id: Any) -> bool:
    return job_enqueue(ReportJob, job_id, task_sender(job_id))


def requeue_if_stuck(job: ReportJob) -> None:
    job_requeue_if_stuck(job, task_sender(job.pk))


class Superseded(Exception):
    """This attempt no longer owns the job (another worker took it over)."""


def pdf_render(*, job_id: str) -> Claim:
    """Render one job's PDF. Safe to call any number of times for the same job: one call per
    attempt claims it, and only one attempt can finish it (one result, one file)."""
    claim = job_claim(ReportJob, job_id)
    if not claim.claimed:
        logger.info("Report job %s not run here: %s", job_id, claim.outcome.value)
        return claim
    attempt = claim.attempt

    def progress(stage: str, percent: int) -> None:
        if not job_progress(ReportJob, job_id, attempt, stage, percent):
            raise Superseded

    job = ReportJob.objects.select_related(
        "assessment", "assessment__organisation", "requested_by"
    ).get(pk=job_id)
    try:
        with job_running(ReportJob, job_id, attempt):
            _render(job, attempt, progress)
    except Superseded:
        logger.warning("Report job %s attempt %s was taken over; stopping", job_id, attempt)
    except ChartRendererUnavailable as exc:  # "try again" would not help: say what would
        logger.exception("Report job %s failed", job_id)
        job_fail(ReportJob, job_id, str(exc), attempt=attempt)
    except Exception as exc:
        logger.exception("Report job %s failed", job_id)
        job_fail(
            ReportJob,
            job_id,
            f"The report could not be rendered ({type(exc).__name__}). "
            "Try again; if it keeps failing, contact support.",
            attempt=attempt,
        )
    return claim


def _render(job: ReportJob, attempt: int, progress: Any) -> None:
    progress("Computing results", 5)
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
        progress=progress,
        charts_by_reference=True,
    )
    progress("Laying out pages", 30)
    from reports.pdf import render_pdf

    # WeasyPrint reads the page and its styles while any chart not in the cache is drawn.
    html = render_html(context, standalone=True)
    pdf, pages, _fetcher = render_pdf(html, charts=context["chart_drawing"])
    progress("Saving the file", 95)
    job.file.save(job.filename, ContentFile(pdf), save=False)
    finished = job_finish(
        ReportJob,
        job.pk,
        attempt,
        file=job.file.name,
        render_hash=render_hash(
            result,
            assessment=job.assessment,
            paper=job.paper,
            branding=branding,
            comparison=comparison,
        ),
        pages=pages,
    )
    if not finished:
        # Another attempt owns the job now: keep exactly one file, the winner's.
        job.file.delete(save=False)
        raise Superseded
