"""Outages that need no worker: a hung or dead broker and cache must never hold a request, and
the page must say what is going on. These run against sockets and servers the test owns."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.core.cache import caches
from django.test import Client
from django.urls import reverse

from config.celery import app as celery_app
from reports.models import ReportJob
from tests.chaos.hung import silent_server
from tests.factories import Personas, invite

pytestmark = pytest.mark.chaos


def _point_broker_at(monkeypatch: pytest.MonkeyPatch, settings: Any, url: str) -> None:
    monkeypatch.setenv("CELERY_BROKER_URL", url)
    monkeypatch.setitem(celery_app.conf, "broker_url", url)
    monkeypatch.setitem(
        celery_app.conf, "broker_transport_options", settings.REDIS_BROKER_TRANSPORT_OPTIONS
    )
    monkeypatch.setattr(celery_app, "_pool", None)
    monkeypatch.setattr(celery_app.amqp, "_producer_pool", None)


@pytest.mark.django_db(transaction=True)
def test_a_hung_broker_gives_a_fast_clear_answer_and_the_job_waits(
    personas: Personas, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    with silent_server() as port:
        _point_broker_at(monkeypatch, settings, f"redis://127.0.0.1:{port}/0")
        client = Client()
        client.force_login(personas.alice)
        started = time.monotonic()
        response = client.post(
            reverse("reports:report_pdf", args=[personas.assessment_a.pk]),
            {"paper": "a4"},
            HTTP_HX_REQUEST="true",
        )
        elapsed = time.monotonic() - started
        celery_app.pool.force_close_all()
    # Far below gunicorn's 30-second worker timeout, which used to turn this into a 500.
    assert elapsed < 15, elapsed
    assert response.status_code == 200
    assert b"The job system is unavailable right now" in response.content
    job = ReportJob.objects.get(assessment=personas.assessment_a)
    assert job.status == ReportJob.Status.QUEUED  # kept, to run when the broker is back


@pytest.mark.django_db
def test_a_job_that_no_worker_runs_says_so(personas: Personas) -> None:
    from assessments.models import WorkerHeartbeat

    job = ReportJob.objects.create(assessment=personas.assessment_a, render_hash="x" * 64)
    client = Client()
    client.force_login(personas.alice)
    url = reverse("reports:report_job", args=[personas.assessment_a.pk, job.pk])
    page = client.get(url, HTTP_HX_REQUEST="true")
    assert b"No background worker is running" in page.content
    WorkerHeartbeat.objects.create(name="host:1", queue=celery_app.conf.task_default_queue)
    page = client.get(url, HTTP_HX_REQUEST="true")
    assert b"No background worker is running" not in page.content
    assert b"Waiting for a worker" in page.content


@pytest.mark.django_db
@pytest.mark.parametrize("hung", [True, False], ids=["hung cache", "cache down"])
def test_survey_and_share_links_work_with_the_cache_unavailable(
    personas: Personas,
    settings: Any,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    hung: bool,
) -> None:
    from assessments import ratelimit

    monkeypatch.setattr(ratelimit, "_last_outage_log", 0.0)  # the outage is logged once a minute
    with silent_server() as port:
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                # Port 9 (discard) has nothing listening here: connection refused.
                "LOCATION": f"redis://127.0.0.1:{port if hung else 9}/0",
                "OPTIONS": {"socket_timeout": 1, "socket_connect_timeout": 1},
            }
        }
        try:
            respondent, token = invite(personas.assessment_a)
            client = Client()
            started = time.monotonic()
            redeemed = client.get(reverse("survey:redeem", args=[token]))
            bad = client.get(reverse("survey:redeem", args=["not-a-token"]))
            shared = client.get(reverse("reports:shared", args=["not-a-token"]))
            elapsed = time.monotonic() - started
        finally:
            caches["default"].close()
    assert redeemed.status_code == 302
    assert redeemed["Location"] == reverse("survey:home", args=[respondent.pk])
    assert client.get(redeemed["Location"]).status_code == 200
    assert bad.status_code == 404 and shared.status_code == 404  # the neutral pages, not 500
    assert elapsed < 12, elapsed
    assert "Cache unavailable, rate limits are not enforced" in caplog.text
