"""The job system against real faults: a real Redis that the test kills and restarts, real
prefork workers whose pool processes and main processes the test kills. Each test is bounded
in seconds (JOB_STALE_SECONDS=4 in these workers). The PDF test follows the reported break
exactly; the others use scans of a small local repository, the same job machinery with a
lighter body."""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from assessments import services
from assessments.jobs import BackgroundJob
from assessments.models import Assessment
from assessments.scans import services as scans
from assessments.scans.models import ScanRun, ScanSource
from reports.models import ReportJob
from tests.chaos.conftest import wait_for
from tests.factories import Personas, invite
from tests.scans.engine.gitbuild import RepoBuilder, day

pytestmark = [pytest.mark.chaos, pytest.mark.django_db(transaction=True)]


def _finished(job: BackgroundJob, timeout: float = 120, worker: Any = None) -> Any:
    def done() -> bool:
        job.refresh_from_db()
        return job.done

    try:
        wait_for(done, timeout, f"{type(job).__name__} {job.pk} to finish", interval=0.2)
    except AssertionError as exc:
        # What the worker said is what tells a missed recovery from a slow one.
        said = worker.output()[-6000:] if worker is not None else ""
        raise AssertionError(
            f"{exc}; job: status={job.status} attempts={job.attempts} owner={job.owner} "
            f"heartbeat_at={job.heartbeat_at} enqueued_at={job.enqueued_at}\n{said}"
        ) from None
    return job


def _answered(assessment: Assessment) -> None:
    respondent, _ = invite(assessment, role="engineering")
    for question in assessment.rubric.questions_for("engineering")[:6]:
        services.answer_save(
            respondent=respondent, question_id=question.id, value="3", comment="", seq=1
        )
    services.respondent_submit(respondent=respondent)


def _request_pdf(personas: Personas, paper: str = "a4") -> ReportJob:
    client = Client()
    client.force_login(personas.alice)
    url = reverse("reports:report_pdf", args=[personas.assessment_a.pk])
    assert client.post(url, {"paper": paper}).status_code == 302
    return ReportJob.objects.get(assessment=personas.assessment_a, paper=paper)


def _scan(chaos: Any, personas: Personas, label: str = "service") -> ScanRun:
    repo = RepoBuilder(chaos.repos / label.split(":")[0].lower().replace(" ", "-"))
    repo.write({"README.md": "hello\n", ".github/workflows/ci.yml": "on: push\njobs: {}\n"})
    repo.commit("First", when=day(1))
    source = ScanSource.objects.create(
        assessment=personas.assessment_a,
        kind=ScanSource.Kind.REPO_PATH,
        label=label,
        location=str(repo.path),
    )
    return scans.run_create(source=source, user=None)


def test_a_pool_process_killed_mid_pdf_is_taken_over_and_finishes_once(
    chaos: Any, personas: Personas
) -> None:
    _answered(personas.assessment_a)
    worker = chaos.worker(concurrency=1)
    chaos.pause_jobs()
    job = _request_pdf(personas)
    victim = chaos.paused_pid()
    job.refresh_from_db()
    assert job.status == ReportJob.Status.RUNNING and job.attempts == 1
    os.kill(victim, signal.SIGKILL)  # what the out-of-memory killer does
    chaos.release_jobs()
    _finished(job)
    assert job.status == ReportJob.Status.SUCCEEDED, job.error
    assert job.attempts == 2, "the redelivered task must take the job over, not discard itself"
    assert worker.alive
    # One result, one file: the stored PDF is the only file written since the job started.
    folder = settings.MEDIA_ROOT / os.path.dirname(job.file.name)
    assert job.started_at is not None
    written = [
        p.name for p in folder.iterdir() if p.stat().st_mtime >= job.started_at.timestamp() - 30
    ]
    assert written == [os.path.basename(job.file.name)]
    # Asking again for the same PDF returns the finished job, not a stuck one.
    assert _request_pdf(personas).pk == job.pk


def test_a_whole_worker_killed_and_restarted_recovers_its_job_at_start_up(
    chaos: Any, personas: Personas
) -> None:
    worker = chaos.worker(concurrency=1)
    chaos.pause_jobs()
    run = _scan(chaos, personas)
    chaos.paused_pid()
    worker.kill_all()
    chaos.release_jobs()
    run.refresh_from_db()
    assert run.status == ScanRun.Status.RUNNING  # frozen: nothing runs it any more
    started = time.monotonic()
    restarted = chaos.worker(concurrency=1)
    _finished(run, timeout=180, worker=restarted)
    assert run.status == ScanRun.Status.SUCCEEDED, run.error
    assert run.attempts == 2
    assert run.findings.exists()
    assert "Recovered scan job" in restarted.output()
    # Far below the broker's one-hour visibility timeout.
    assert time.monotonic() - started < 180  # loaded CI machines: minutes, never the hour


def test_a_worker_already_running_takes_over_the_job_of_a_worker_killed_beside_it(
    chaos: Any, personas: Personas
) -> None:
    """The second worker started while the first was alive, so its start-up recovery found
    nothing; nobody polls the page. Its periodic sweep must notice the orphan on its own."""
    doomed = chaos.worker(concurrency=1)
    chaos.pause_jobs()
    run = _scan(chaos, personas)
    chaos.paused_pid()
    run.refresh_from_db()
    assert run.status == ScanRun.Status.RUNNING and run.attempts == 1
    survivor = chaos.worker(concurrency=1)
    doomed.kill_all()
    chaos.release_jobs()
    _finished(run, timeout=120, worker=survivor)
    assert run.status == ScanRun.Status.SUCCEEDED, run.error
    assert run.attempts == 2
    assert "Recovered scan job" in survivor.output()
    assert survivor.alive


def test_redis_killed_while_a_task_runs_does_not_stop_the_worker(
    chaos: Any, personas: Personas
) -> None:
    """With a job running and a free pool slot (its BRPOP in flight), losing Redis used to end
    the worker with "Unrecoverable error: AttributeError ... 'hostname'" (see config/celery.py)."""
    worker = chaos.worker(concurrency=2)
    chaos.pause_jobs()
    run = _scan(chaos, personas)
    chaos.paused_pid()
    chaos.redis.kill()
    time.sleep(1.5)  # the consumer notices and starts reconnecting
    chaos.release_jobs()
    _finished(run)  # the running job finishes without the broker
    assert run.status == ScanRun.Status.SUCCEEDED, run.error
    assert worker.alive, worker.output()[-4000:]
    chaos.redis.start()
    # The worker reconnects and takes new work.
    second = _scan(chaos, personas, label="second")
    _finished(second, timeout=60)
    assert second.status == ScanRun.Status.SUCCEEDED, second.error
    assert worker.alive
    assert "Unrecoverable error" not in worker.output()


def test_a_poison_task_is_given_up_and_the_queue_keeps_draining(
    chaos: Any, personas: Personas
) -> None:
    worker = chaos.worker(concurrency=1)
    bad = _scan(chaos, personas, label="Poison: kills its worker")
    good = _scan(chaos, personas, label="healthy")
    _finished(bad, timeout=90)
    assert bad.status == ScanRun.Status.FAILED
    assert bad.attempts == settings.JOB_MAX_ATTEMPTS
    assert "started 3 times" in bad.error
    _finished(good, timeout=60)
    assert good.status == ScanRun.Status.SUCCEEDED, good.error
    assert worker.alive
