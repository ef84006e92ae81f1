"""The PDF job end to end through a real Celery worker on the configured broker, and what
happens when the broker cannot be reached."""

from __future__ import annotations

import io
import time
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from assessments.demo import DEMO_ASSESSMENT_ID, DEMO_PASSWORD, DEMO_USERNAME, seed_demo
from config.celery import app as celery_app
from reports.models import ReportJob

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _wait(job: ReportJob, timeout: float = 180) -> ReportJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.done:
            return job
        time.sleep(0.3)
    raise AssertionError(f"job still {job.status} ({job.stage}, {job.progress}%) after {timeout}s")


def test_pdf_is_made_by_a_real_worker_and_downloaded(celery_worker: Any) -> None:
    seed_demo()
    client = Client()
    assert client.login(username=DEMO_USERNAME, password=DEMO_PASSWORD)
    url = reverse("reports:report_pdf", args=[DEMO_ASSESSMENT_ID])
    response = client.post(url, {"paper": "a4"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert b'hx-trigger="every 1s"' in response.content  # the progress bar polls
    job = _wait(ReportJob.objects.get(assessment_id=DEMO_ASSESSMENT_ID))
    assert job.status == ReportJob.Status.SUCCEEDED, job.error
    assert job.attempts == 1 and job.progress == 100
    poll = client.get(
        reverse("reports:report_job", args=[DEMO_ASSESSMENT_ID, job.pk]), HTTP_HX_REQUEST="true"
    )
    assert poll.status_code == 286  # htmx: stop polling
    assert b"Download the PDF" in poll.content
    download = client.get(reverse("reports:report_download", args=[DEMO_ASSESSMENT_ID, job.pk]))
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment;")
    reader = PdfReader(io.BytesIO(download.content))
    assert len(reader.pages) == job.pages
    # Asking again for the same result reuses the stored PDF instead of rendering again.
    client.post(url, {"paper": "a4"}, HTTP_HX_REQUEST="true")
    assert ReportJob.objects.filter(assessment_id=DEMO_ASSESSMENT_ID).count() == 1
    # Another paper size is another document.
    client.post(url, {"paper": "letter"}, HTTP_HX_REQUEST="true")
    assert ReportJob.objects.filter(assessment_id=DEMO_ASSESSMENT_ID).count() == 2
    letter = _wait(ReportJob.objects.get(assessment_id=DEMO_ASSESSMENT_ID, paper="letter"))
    assert letter.status == ReportJob.Status.SUCCEEDED


def test_a_broker_outage_never_fails_the_request_and_the_job_waits(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    seed_demo()
    # A real, unreachable broker: nothing listens on port 9 of this machine. A fresh producer
    # pool picks up the new address; the original pool comes back after the test.
    # Celery reads CELERY_BROKER_URL from the environment before its own settings.
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:9/0")
    monkeypatch.setitem(celery_app.conf, "broker_url", "redis://127.0.0.1:9/0")
    monkeypatch.setitem(celery_app.conf, "broker_connection_timeout", 1)
    # Celery caches its connection pool and the producer pool built on it: drop both so the
    # next publish really dials the dead address (monkeypatch puts the live ones back).
    monkeypatch.setattr(celery_app, "_pool", None)
    monkeypatch.setattr(celery_app.amqp, "_producer_pool", None)
    client = Client()
    assert client.login(username=DEMO_USERNAME, password=DEMO_PASSWORD)
    started = time.monotonic()
    response = client.post(
        reverse("reports:report_pdf", args=[DEMO_ASSESSMENT_ID]), {"paper": "a4"}
    )
    assert time.monotonic() - started < 15
    assert response.status_code == 302
    job = ReportJob.objects.get(assessment_id=DEMO_ASSESSMENT_ID)
    assert job.status == ReportJob.Status.QUEUED
    assert "Could not enqueue ReportJob" in caplog.text
    # The page that polls the job says the job system is unavailable, rather than an error.
    page = client.get(reverse("reports:report", args=[DEMO_ASSESSMENT_ID]))
    assert page.status_code == 200
    assert b"The job system is unavailable right now" in page.content
