"""Background jobs recorded on rows: PDF reports and integration scans share this shape.

A job row is created, then enqueued on commit. A worker claims it (`job_claim`), which records
who runs it (`owner`: host, process id and the process's start time) and which attempt this is
(`attempts`, used as a fencing token). While the job runs, a thread in the worker process beats
on the row every JOB_HEARTBEAT_SECONDS (`job_running`), so a long step without progress reports
still looks alive. Every later write of the attempt (progress, success, failure) is conditional
on the row still carrying that attempt number: an attempt that was taken over can never finish
the job a second time.

A job whose owner died is taken over by the next copy of its task:
- at once when the owner ran on this host and its process is gone (a pool process killed by the
  out-of-memory killer, a whole worker killed and restarted);
- otherwise once its heartbeat is older than JOB_STALE_SECONDS (an owner on another machine).
A copy that finds the job held by a live owner asks to be retried when the heartbeat would be
stale (`Claim.retry_in`), so a task is never dropped while its job is unfinished.

A job started JOB_MAX_ATTEMPTS times without finishing (its task kills its worker every time)
is given up and marked failed with a message, and its message is acknowledged, so the queue
keeps draining.

Enqueueing never fails a request: with the broker down or hung, publishing gives up within
seconds (short socket timeouts in settings), the row stays queued with its stage saying so, and
it is sent again by the page that polls it, by a worker starting up (`jobs_recover`), or by
`manage.py requeue_jobs`.
"""

from __future__ import annotations

import enum
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, ClassVar, TypeVar

from django.conf import settings
from django.db import connection, models
from django.db.models import F, Q
from django.utils import timezone

logger = logging.getLogger(__name__)

UNAVAILABLE_STAGE = "Waiting: the job system is unavailable"
UNAVAILABLE_MESSAGE = (
    "The job system is unavailable right now. Your request is saved and will start when it is "
    "back; try again in a minute."
)


def stale_after() -> timedelta:
    """A running job whose heartbeat is older than this belongs to a dead worker."""
    return timedelta(seconds=settings.JOB_STALE_SECONDS)


def requeue_after() -> timedelta:
    """A queued job whose message was sent this long ago and not picked up is sent again."""
    return timedelta(seconds=settings.JOB_REQUEUE_AFTER_SECONDS)


class BackgroundJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting for a worker"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Ready"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    stage = models.CharField(max_length=120, default="Waiting for a worker")
    progress = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Who runs the current attempt: "host:pid:process start time" (see _me()).
    owner = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # When a message for this job was last sent to the broker (None: never, or it failed).
    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    # Rows that may be sent to a worker at all (an event log waits for its column mapping).
    RUNNABLE: ClassVar[Q] = Q()

    class Meta:
        abstract = True

    @property
    def done(self) -> bool:
        return self.status in {self.Status.SUCCEEDED, self.Status.FAILED, self.Status.CANCELLED}

    @property
    def waiting_for_job_system(self) -> bool:
        return self.status == self.Status.QUEUED and self.stage == UNAVAILABLE_STAGE

    @property
    def owner_dead(self) -> bool:
        return self.status == self.Status.RUNNING and _owner_dead(self, timezone.now())


Job = TypeVar("Job", bound=BackgroundJob)


# --- Who is running: host, process, and whether that process still exists ------------------


def _process_stat(pid: int) -> tuple[str, str]:
    """The process's state letter and its start time in clock ticks since boot (Linux), so a
    recycled pid is not mistaken for the process that owned a job and a killed process that
    nobody has reaped yet (a zombie) counts as gone. Empty where /proc is not available."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read().decode(errors="replace")
    except OSError:
        return "", ""
    # The command name (field 2) is in parentheses and may contain spaces.
    fields = stat.rsplit(")", 1)[-1].split()
    return (fields[0] if fields else ""), (fields[19] if len(fields) > 19 else "")


def _process_start(pid: int) -> str:
    return _process_stat(pid)[1]


@cache
def _hostname() -> str:
    """This machine, as far as process ids go: the host name and, where Linux says, the
    process-id namespace, so that two containers that share a host name (`--hostname`, host
    networking) never judge each other's processes by their own process table."""
    try:
        namespace = f"/{os.stat('/proc/self/ns/pid').st_ino}"
    except OSError:
        namespace = ""
    return f"{socket.gethostname()[:80]}{namespace}"[:100]


def _me() -> str:
    pid = os.getpid()
    return f"{_hostname()}:{pid}:{_process_start(pid)}"


def _local_process_gone(owner: str) -> bool:
    """True when `owner` names a process on this host that no longer exists."""
    host, _, rest = owner.partition(":")
    pid_text, _, started = rest.partition(":")
    if host != _hostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # exists, belongs to someone else
    state, start = _process_stat(pid)
    # A pool process killed with its parent stays a zombie until init reaps it, which takes
    # seconds on some machines: its job is orphaned all the same.
    return state in {"Z", "X"} or (bool(started) and start != started)


def _owner_dead(job: BackgroundJob, now: datetime) -> bool:
    if job.heartbeat_at is None or job.heartbeat_at < now - stale_after():
        return True
    return _local_process_gone(job.owner)


# --- Claiming, progress and finishing, fenced by the attempt number ------------------------


class ClaimOutcome(enum.Enum):
    CLAIMED = "claimed"  # run it now, as attempt `attempt`
    DONE = "done"  # finished, cancelled or gone: nothing to do
    BUSY = "busy"  # a live owner runs it: try again in `retry_in` seconds
    GAVE_UP = "gave_up"  # too many attempts: marked failed


@dataclass(frozen=True)
class Claim:
    outcome: ClaimOutcome
    attempt: int = 0
    retry_in: float = 0.0

    @property
    def claimed(self) -> bool:
        return self.outcome is ClaimOutcome.CLAIMED


def job_claim(model: type[BackgroundJob], pk: Any) -> Claim:
    """Take a job for this process. Of any number of concurrent callers, at most one gets
    CLAIMED for a given attempt (a conditional UPDATE on the attempt number)."""
    now = timezone.now()
    manager = model._default_manager
    job = manager.filter(pk=pk).first()
    if job is None or job.done:
        return Claim(ClaimOutcome.DONE)
    if job.status == BackgroundJob.Status.RUNNING and not _owner_dead(job, now):
        assert job.heartbeat_at is not None  # noqa: S101 - _owner_dead checked it
        stale_in = (job.heartbeat_at + stale_after() - now).total_seconds()
        return Claim(ClaimOutcome.BUSY, retry_in=max(1.0, stale_in + 1.0))
    if job.attempts >= settings.JOB_MAX_ATTEMPTS:
        failed = (
            manager.filter(pk=pk, attempts=job.attempts, status=job.status)
            .exclude(status__in=[BackgroundJob.Status.SUCCEEDED, BackgroundJob.Status.CANCELLED])
            .update(
                status=BackgroundJob.Status.FAILED,
                stage="Failed",
                error=(
                    f"This job was started {job.attempts} times and its worker stopped each "
                    "time before it finished, so it was given up to let other jobs run. "
                    "Try again later; if it fails again, contact support."
                ),
                finished_at=now,
            )
        )
        if failed:
            logger.error("Gave up %s %s after %s attempts", model.__name__, pk, job.attempts)
        return Claim(ClaimOutcome.GAVE_UP)
    taken = manager.filter(pk=pk, attempts=job.attempts, status=job.status).update(
        status=BackgroundJob.Status.RUNNING,
        owner=_me(),
        started_at=now,
        heartbeat_at=now,
        attempts=F("attempts") + 1,
        stage="Starting" if job.attempts == 0 else "Starting again (the previous worker stopped)",
        progress=2,
    )
    if not taken:
        return job_claim(model, pk)  # someone else changed it first: look again
    if job.attempts:
        logger.warning(
            "Took over %s %s from %s (attempt %s)",
            model.__name__,
            pk,
            job.owner or "a worker",
            job.attempts + 1,
        )
    return Claim(ClaimOutcome.CLAIMED, attempt=job.attempts + 1)


def _mine(model: type[BackgroundJob], pk: Any, attempt: int) -> models.QuerySet[Any]:
    return model._default_manager.filter(
        pk=pk, attempts=attempt, status=BackgroundJob.Status.RUNNING
    )


def job_progress(
    model: type[BackgroundJob], pk: Any, attempt: int, stage: str, percent: int
) -> bool:
    """Record progress; False when this attempt no longer owns the job (taken over, cancelled)."""
    return bool(
        _mine(model, pk, attempt).update(
            stage=stage[:120], progress=max(0, min(99, percent)), heartbeat_at=timezone.now()
        )
    )


def job_finish(model: type[BackgroundJob], pk: Any, attempt: int, **fields: Any) -> bool:
    """Mark the job succeeded with `fields`, if this attempt still owns it. Exactly one attempt
    of a job can succeed."""
    return bool(
        _mine(model, pk, attempt).update(
            status=BackgroundJob.Status.SUCCEEDED,
            stage=fields.pop("stage", "Ready"),
            progress=100,
            finished_at=timezone.now(),
            **fields,
        )
    )


def job_fail(model: type[BackgroundJob], pk: Any, message: str, attempt: int | None = None) -> bool:
    rows = model._default_manager.filter(pk=pk).exclude(
        status__in=[BackgroundJob.Status.SUCCEEDED, BackgroundJob.Status.CANCELLED]
    )
    if attempt is not None:
        rows = rows.filter(attempts=attempt)
    return bool(
        rows.update(
            status=BackgroundJob.Status.FAILED,
            stage="Failed",
            error=message,
            finished_at=timezone.now(),
        )
    )


@contextmanager
def job_running(model: type[BackgroundJob], pk: Any, attempt: int) -> Iterator[None]:
    """Beat on the job's row from a thread while the body runs, so that a long step (laying out
    a PDF, cloning a repository) never makes a live job look dead. The thread dies with the
    process, so a killed worker's job goes stale."""
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(settings.JOB_HEARTBEAT_SECONDS):
                try:
                    if not _mine(model, pk, attempt).update(heartbeat_at=timezone.now()):
                        return  # finished, taken over or cancelled
                except Exception:
                    logger.warning("Could not record the heartbeat of %s %s", model.__name__, pk)
        finally:
            connection.close()  # this thread's own database connection

    thread = threading.Thread(target=beat, name=f"heartbeat-{pk}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)


# --- Sending, and sending again --------------------------------------------------------------


def job_enqueue(model: type[BackgroundJob], pk: Any, send: Callable[[], Any]) -> bool:
    """Publish the job's task. A broker outage (down or hung) is logged, the row stays queued
    and says so; it is sent again later."""
    rows = model._default_manager.filter(pk=pk)
    try:
        send()
    except Exception as exc:
        logger.warning("Could not enqueue %s %s (%s); it stays queued", model.__name__, pk, exc)
        rows.filter(status=BackgroundJob.Status.QUEUED).update(stage=UNAVAILABLE_STAGE)
        return False
    rows.update(enqueued_at=timezone.now())
    rows.filter(status=BackgroundJob.Status.QUEUED, stage=UNAVAILABLE_STAGE).update(
        stage="Waiting for a worker"
    )
    return True


def job_needs_sending(job: BackgroundJob, now: datetime | None = None) -> bool:
    """A queued job whose message may be lost, or a running one whose owner died."""
    now = now or timezone.now()
    if job.done:
        return False
    recently_sent = job.enqueued_at is not None and job.enqueued_at >= now - requeue_after()
    if recently_sent:
        return False
    if job.status == BackgroundJob.Status.QUEUED:
        return True
    return _owner_dead(job, now)


def job_requeue_if_stuck(job: BackgroundJob, send: Callable[[], Any]) -> bool:
    """Send the job again if it needs it; at most once per JOB_REQUEUE_AFTER_SECONDS however
    many pages poll it (the conditional update on `enqueued_at` picks one)."""
    return _requeue(job, send) is Requeue.SENT


class Requeue(enum.Enum):
    SENT = "sent"
    NOT_NEEDED = "not needed"  # not stuck, or another process picked it first
    BROKER_DOWN = "broker down"


def _requeue(job: BackgroundJob, send: Callable[[], Any]) -> Requeue:
    now = timezone.now()
    if not job_needs_sending(job, now):
        return Requeue.NOT_NEEDED
    model = type(job)
    picked = model._default_manager.filter(pk=job.pk, enqueued_at=job.enqueued_at).update(
        enqueued_at=now
    )
    if not picked:
        return Requeue.NOT_NEEDED
    # Not sent (the broker is down): `enqueued_at` keeps this attempt's time, so pages
    # polling the job do not each wait out the broker timeout again before
    # JOB_REQUEUE_AFTER_SECONDS; the stage says so, which the workers' sweep looks for.
    return Requeue.SENT if job_enqueue(model, job.pk, send) else Requeue.BROKER_DOWN


# --- Whether any worker is alive --------------------------------------------------------------


def workers_alive(now: datetime | None = None) -> bool:
    from assessments.models import WorkerHeartbeat

    now = now or timezone.now()
    fresh = now - timedelta(seconds=3 * settings.WORKER_HEARTBEAT_SECONDS)
    return WorkerHeartbeat.objects.filter(
        queue=settings.CELERY_TASK_DEFAULT_QUEUE, seen_at__gte=fresh
    ).exists()


def newest_worker_heartbeat() -> datetime | None:
    from assessments.models import WorkerHeartbeat

    row = (
        WorkerHeartbeat.objects.filter(queue=settings.CELERY_TASK_DEFAULT_QUEUE)
        .order_by("-seen_at")
        .first()
    )
    return row.seen_at if row else None


@dataclass(frozen=True)
class StuckJob:
    kind: str
    job: BackgroundJob
    reason: str


def job_models() -> dict[str, tuple[type[BackgroundJob], Callable[[Any], Callable[[], Any]]]]:
    """Every kind of job, with the function that makes the sender of its task."""
    from assessments.mailouts import task_sender as mailout_sender
    from assessments.models import Mailout
    from assessments.processes.logs import task_sender as log_sender
    from assessments.processes.models import EventLog
    from assessments.scans.models import ScanRun
    from assessments.scans.services import task_sender as scan_sender
    from reports.jobs import task_sender as report_sender
    from reports.models import ReportJob

    return {
        "report": (ReportJob, report_sender),
        "scan": (ScanRun, scan_sender),
        "event log": (EventLog, log_sender),
        "mailout": (Mailout, mailout_sender),
    }


def jobs_stuck(now: datetime | None = None, orphans_only: bool = False) -> list[StuckJob]:
    """Unfinished jobs that need sending again: queued ones whose message is old or was never
    sent, and running ones whose owner died. `orphans_only` leaves out queued jobs that were
    sent and are merely waiting their turn behind a long queue (their message is most likely
    still in the broker): what a running worker's periodic sweep wants."""
    now = now or timezone.now()
    out: list[StuckJob] = []
    for kind, (model, _sender) in job_models().items():
        unfinished = (
            model._default_manager.filter(_orphans(now) if orphans_only else _unfinished())
            .filter(model.RUNNABLE)
            .only("pk", "status", "stage", "enqueued_at", "heartbeat_at", "owner", "created_at")
            .order_by("created_at")
        )
        for job in unfinished:
            if not job_needs_sending(job, now):
                continue
            if job.status == BackgroundJob.Status.QUEUED:
                reason = "never sent" if job.enqueued_at is None else "not picked up"
            else:
                reason = f"worker gone (last heartbeat {job.heartbeat_at:%Y-%m-%d %H:%M:%S})"
            out.append(StuckJob(kind, job, reason))
    return out


def _unfinished() -> Q:
    return Q(status=BackgroundJob.Status.QUEUED) | Q(status=BackgroundJob.Status.RUNNING)


def _orphans(now: datetime) -> Q:
    """What a running worker's sweep looks at, narrowed in SQL (every worker runs it on every
    beat): queued jobs never sent or whose last send failed, and running jobs whose heartbeat
    is stale or whose owner ran on this host (`_local_process_gone` decides those)."""
    queued = Q(status=BackgroundJob.Status.QUEUED) & (
        Q(enqueued_at__isnull=True) | Q(stage=UNAVAILABLE_STAGE)
    )
    running = Q(status=BackgroundJob.Status.RUNNING) & (
        Q(heartbeat_at__isnull=True)
        | Q(heartbeat_at__lt=now - stale_after())
        | Q(owner__startswith=f"{_hostname()}:")
    )
    return queued | running


def jobs_recover(
    now: datetime | None = None, orphans_only: bool = False, limit: int | None = None
) -> int:
    """Send stuck jobs again (at most `limit`), oldest first, until the broker refuses one;
    returns how many were sent. Run by each worker as it starts, by each running worker every
    WORKER_HEARTBEAT_SECONDS (`orphans_only`: a worker restarted sooner than JOB_STALE_SECONDS
    after a crash on another host finds its jobs still looking alive at start-up)."""
    sent = 0
    senders = job_models()
    for stuck in jobs_stuck(now, orphans_only=orphans_only)[:limit]:
        _model, sender = senders[stuck.kind]
        outcome = _requeue(stuck.job, sender(stuck.job.pk))
        if outcome is Requeue.SENT:
            logger.warning("Recovered %s job %s (%s)", stuck.kind, stuck.job.pk, stuck.reason)
            sent += 1
        elif outcome is Requeue.BROKER_DOWN:
            break  # each further send would wait out the broker timeout: try on a later pass
    return sent
