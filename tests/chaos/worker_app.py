"""The real Celery app, with fault hooks that the chaos tests switch on from outside.

Started as `celery -A tests.chaos.worker_app worker`: every task, setting and signal is the
production one; the hooks only pause or kill the process running a PDF job, at the start of
its real work (after it has claimed the job and its heartbeat is running), for PDF jobs and
scans alike:

- a file `pause` in OPREADY_CHAOS_DIR: the task writes `paused-<pid>` and waits until the file
  is removed (so the test knows which process to kill, and when);
- an assessment or scan source titled "Poison ...": the process kills itself, every time (a
  poison task).
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import django

from config.celery import app

django.setup()  # before the hooks import app modules

from assessments.scans import services as scan_services  # noqa: E402
from reports import jobs as report_jobs  # noqa: E402

__all__ = ["app"]

CONTROL = Path(os.environ["OPREADY_CHAOS_DIR"])
_real_result_compute = report_jobs.result_compute
_real_scan = scan_services._scan


def _fault_point(title: str) -> None:
    if title.startswith("Poison"):
        os.kill(os.getpid(), signal.SIGKILL)
    pause = CONTROL / "pause"
    if pause.exists():
        (CONTROL / f"paused-{os.getpid()}").write_text(str(os.getpid()))
        while pause.exists():
            time.sleep(0.05)


def _result_compute_with_faults(*, assessment: Any, **kwargs: Any) -> Any:
    _fault_point(assessment.title)
    return _real_result_compute(assessment=assessment, **kwargs)


def _scan_with_faults(run: Any, *args: Any) -> Any:
    _fault_point(run.source.label)
    return _real_scan(run, *args)


report_jobs.result_compute = _result_compute_with_faults  # type: ignore[assignment]
scan_services._scan = _scan_with_faults
