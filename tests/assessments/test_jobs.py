"""The job claim, fencing, give-up and requeue rules, without a worker (the chaos tests run the
same rules against real workers and faults)."""

from __future__ import annotations

import subprocess
import time
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from assessments import jobs
from assessments.jobs import ClaimOutcome, job_claim, job_finish, job_progress
from reports.models import ReportJob
from tests.factories import Personas

pytestmark = pytest.mark.django_db


@pytest.fixture
def job(personas: Personas) -> ReportJob:
    return ReportJob.objects.create(assessment=personas.assessment_a, render_hash="x" * 64)


def test_a_live_owner_keeps_its_job_and_a_copy_is_told_when_to_look_again(job: ReportJob) -> None:
    first = job_claim(ReportJob, job.pk)
    assert first.outcome is ClaimOutcome.CLAIMED and first.attempt == 1
    copy = job_claim(ReportJob, job.pk)
    assert copy.outcome is ClaimOutcome.BUSY
    assert 1 <= copy.retry_in <= 35


def test_a_stale_job_is_taken_over_and_only_the_new_attempt_can_finish_it(
    job: ReportJob, settings: Any
) -> None:
    first = job_claim(ReportJob, job.pk)
    stale = timezone.now() - timedelta(seconds=settings.JOB_STALE_SECONDS + 1)
    ReportJob.objects.filter(pk=job.pk).update(heartbeat_at=stale, owner="elsewhere:1:1")
    second = job_claim(ReportJob, job.pk)
    assert second.outcome is ClaimOutcome.CLAIMED and second.attempt == 2
    # The first attempt wakes up (a paused process, a slow disk): it can no longer touch the job.
    assert not job_progress(ReportJob, job.pk, first.attempt, "Late", 50)
    assert not job_finish(ReportJob, job.pk, first.attempt, pages=1)
    assert job_finish(ReportJob, job.pk, second.attempt, pages=2)
    job.refresh_from_db()
    assert (job.status, job.pages, job.attempts) == ("succeeded", 2, 2)
    assert job_claim(ReportJob, job.pk).outcome is ClaimOutcome.DONE


def test_a_job_whose_process_on_this_host_is_gone_is_taken_over_at_once(job: ReportJob) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    owner = f"{jobs._hostname()}:{dead.pid}:{jobs._process_start(dead.pid) or '1'}"
    ReportJob.objects.filter(pk=job.pk).update(
        status="running", attempts=1, heartbeat_at=timezone.now(), owner=owner
    )
    claim = job_claim(ReportJob, job.pk)
    assert claim.outcome is ClaimOutcome.CLAIMED and claim.attempt == 2


def test_a_job_whose_process_was_killed_but_not_yet_reaped_is_taken_over_at_once(
    job: ReportJob,
) -> None:
    """A pool process killed with its parent stays a zombie until init reaps it (seconds on
    some machines); a worker restarted in that window must still see the job as orphaned."""
    victim = subprocess.Popen(["sleep", "60"])
    owner = f"{jobs._hostname()}:{victim.pid}:{jobs._process_start(victim.pid)}"
    ReportJob.objects.filter(pk=job.pk).update(
        status="running", attempts=1, heartbeat_at=timezone.now(), owner=owner
    )
    try:
        assert job_claim(ReportJob, job.pk).outcome is ClaimOutcome.BUSY  # alive: left alone
        victim.kill()
        # Not waited for: the process is a zombie (its /proc entry and start time remain),
        # unless this process ignores SIGCHLD, when the kernel reaps it at once: gone either way.
        for _ in range(100):
            if jobs._process_stat(victim.pid)[0] in {"Z", ""}:
                break
            time.sleep(0.02)
        assert jobs._process_stat(victim.pid)[0] in {"Z", ""}
        claim = job_claim(ReportJob, job.pk)
        assert claim.outcome is ClaimOutcome.CLAIMED and claim.attempt == 2
    finally:
        victim.kill()
        victim.wait()


def test_a_running_workers_sweep_sends_orphans_and_leaves_jobs_waiting_their_turn(
    personas: Personas, settings: Any
) -> None:
    old = timezone.now() - timedelta(seconds=settings.JOB_REQUEUE_AFTER_SECONDS + 5)
    stale = timezone.now() - timedelta(seconds=settings.JOB_STALE_SECONDS + 5)
    waiting = ReportJob.objects.create(
        assessment=personas.assessment_a, render_hash="a" * 64, enqueued_at=old
    )
    never_sent = ReportJob.objects.create(assessment=personas.assessment_a, render_hash="b" * 64)
    orphan = ReportJob.objects.create(
        assessment=personas.assessment_a,
        render_hash="c" * 64,
        status="running",
        attempts=1,
        heartbeat_at=stale,
        enqueued_at=old,
        owner="another-host:1:1",
    )
    alive = ReportJob.objects.create(
        assessment=personas.assessment_a,
        render_hash="d" * 64,
        status="running",
        attempts=1,
        heartbeat_at=timezone.now(),
        enqueued_at=old,
        owner="another-host:2:2",
    )
    # Its last send failed (the broker was down): it waits for nothing, so it is swept too.
    refused = ReportJob.objects.create(
        assessment=personas.assessment_a,
        render_hash="e" * 64,
        enqueued_at=old,
        stage=jobs.UNAVAILABLE_STAGE,
    )
    swept = {s.job.pk for s in jobs.jobs_stuck(orphans_only=True)}
    assert swept == {never_sent.pk, orphan.pk, refused.pk}
    # Start-up recovery and `requeue_jobs` also resend the queued job whose message is old.
    everything = {waiting.pk, never_sent.pk, orphan.pk, refused.pk}
    assert {s.job.pk for s in jobs.jobs_stuck()} == everything
    assert jobs.jobs_recover(orphans_only=True, limit=2) == 2  # oldest first, at most 2
    never_sent.refresh_from_db()
    orphan.refresh_from_db()
    assert never_sent.enqueued_at is not None and orphan.enqueued_at > old
    assert jobs.jobs_recover(orphans_only=True) == 1
    refused.refresh_from_db()
    waiting.refresh_from_db()
    alive.refresh_from_db()
    assert refused.stage != jobs.UNAVAILABLE_STAGE and refused.enqueued_at > old
    assert waiting.enqueued_at == old and alive.enqueued_at == old
    assert jobs.jobs_recover(orphans_only=True) == 0  # just sent: not again straight away


def test_a_job_that_keeps_killing_its_worker_is_given_up_with_a_message(
    job: ReportJob, settings: Any
) -> None:
    stale = timezone.now() - timedelta(hours=1)
    ReportJob.objects.filter(pk=job.pk).update(
        status="running", attempts=settings.JOB_MAX_ATTEMPTS, heartbeat_at=stale
    )
    assert job_claim(ReportJob, job.pk).outcome is ClaimOutcome.GAVE_UP
    job.refresh_from_db()
    assert job.status == "failed"
    assert f"started {settings.JOB_MAX_ATTEMPTS} times" in job.error


def test_requeue_jobs_lists_requeues_and_fails_stuck_jobs(personas: Personas) -> None:
    old = timezone.now() - timedelta(hours=2)
    never_sent = ReportJob.objects.create(assessment=personas.assessment_a, render_hash="a" * 64)
    orphan = ReportJob.objects.create(
        assessment=personas.assessment_a,
        render_hash="b" * 64,
        status="running",
        attempts=1,
        heartbeat_at=old,
        enqueued_at=old,
        owner="gone:1:1",
    )
    fresh = ReportJob.objects.create(
        assessment=personas.assessment_a, render_hash="c" * 64, enqueued_at=timezone.now()
    )
    out = StringIO()
    call_command("requeue_jobs", stdout=out)
    listing = out.getvalue()
    assert str(never_sent.pk) in listing and "never sent" in listing
    assert str(orphan.pk) in listing and "worker gone" in listing
    assert str(fresh.pk) not in listing
    assert "2 stuck job(s)" in listing
    never_sent.refresh_from_db()
    assert never_sent.enqueued_at is None  # listing changes nothing

    out = StringIO()
    call_command("requeue_jobs", "--requeue", stdout=out)  # the filesystem broker of the tests
    assert out.getvalue().count("sent again") == 2
    never_sent.refresh_from_db()
    assert never_sent.enqueued_at is not None
    out = StringIO()
    call_command("requeue_jobs", stdout=out)
    assert "No stuck jobs." in out.getvalue()  # just sent: not stuck again until re-checked

    ReportJob.objects.update(enqueued_at=old)
    out = StringIO()
    call_command("requeue_jobs", "--fail", stdout=out)
    orphan.refresh_from_db()
    assert orphan.status == "failed" and "administrator" in orphan.error
