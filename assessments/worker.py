"""What a Celery worker does for the job system as it starts and stops.

On start-up (in the worker's main process, after the pool has started) it recovers jobs left
behind by dead workers (`jobs.jobs_recover`) and starts beating on its WorkerHeartbeat row; on
each beat it sweeps again for jobs orphaned since (a job whose worker died looks alive until its
heartbeat is JOB_STALE_SECONDS old, which may be after this worker started; on another host,
nothing else would notice until somebody opened its page). On shutdown it stops and removes
the row.

The heartbeat thread lives in the main process, which forks new pool processes whenever one
dies. A database connection open in this thread at the moment of a fork would be inherited by
the child and closed there (the child drops other threads' state), which would cut the parent's
connection. So the thread opens a connection for each beat and closes it straight after, and a
lock held around each beat keeps forks out of that window (os.register_at_fork).
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

logger = logging.getLogger(__name__)

SWEEP_LIMIT = 20
_beat_lock = threading.Lock()
_stop = threading.Event()
_thread: threading.Thread | None = None
_fork_hooks_installed = False


def _name() -> str:
    from assessments.jobs import _hostname

    return f"{_hostname()}:{os.getpid()}"[:200]


def _beat_once() -> None:
    from assessments.models import WorkerHeartbeat

    with _beat_lock:
        try:
            now = timezone.now()
            updated = WorkerHeartbeat.objects.filter(name=_name()).update(seen_at=now)
            if not updated:
                WorkerHeartbeat.objects.update_or_create(
                    name=_name(),
                    defaults={"queue": settings.CELERY_TASK_DEFAULT_QUEUE, "seen_at": now},
                )
        except Exception as exc:
            logger.warning("Could not record the worker heartbeat (%s)", exc)
        finally:
            connection.close()


def _recover(orphans_only: bool) -> int:
    from assessments.jobs import jobs_recover

    with _beat_lock:
        try:
            # This holds the beat lock, which keeps the pool from forking a replacement
            # process: it stops at the first refused send, and a sweep takes a bounded number.
            limit = SWEEP_LIMIT if orphans_only else None
            recovered = jobs_recover(orphans_only=orphans_only, limit=limit)
            if recovered:
                logger.warning("Recovered %s job(s) left by stopped workers", recovered)
            return recovered
        except Exception:
            logger.exception("Could not recover jobs")
            return 0
        finally:
            connection.close()


def _loop() -> None:
    while not _stop.wait(settings.WORKER_HEARTBEAT_SECONDS):
        _beat_once()
        if not _stop.is_set():
            _recover(orphans_only=True)


def _install_fork_hooks() -> None:
    global _fork_hooks_installed
    if _fork_hooks_installed:
        return
    os.register_at_fork(
        before=_beat_lock.acquire,
        after_in_parent=_beat_lock.release,
        after_in_child=_beat_lock.release,
    )
    _fork_hooks_installed = True


def worker_started(**_kwargs: Any) -> None:
    """celery.signals.worker_ready: recover orphaned jobs, then start the heartbeat."""
    global _thread

    _install_fork_hooks()
    _beat_once()
    _recover(orphans_only=False)
    _stop.clear()
    _thread = threading.Thread(target=_loop, name="opready-worker-heartbeat", daemon=True)
    _thread.start()


def worker_stopping(**_kwargs: Any) -> None:
    """celery.signals.worker_shutdown: stop beating and remove this worker's row."""
    from assessments.models import WorkerHeartbeat

    _stop.set()
    if _thread is not None:
        _thread.join(timeout=5)
    try:
        WorkerHeartbeat.objects.filter(name=_name()).delete()
    except Exception as exc:
        logger.warning("Could not remove the worker heartbeat (%s)", exc)
    finally:
        connection.close()
