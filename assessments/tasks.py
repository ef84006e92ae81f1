"""Celery tasks of the assessments app (autodiscovered): integration scans, event logs."""

from __future__ import annotations

from assessments.processes.tasks import analyse_log
from assessments.scans.tasks import run_scan

__all__ = ["analyse_log", "run_scan"]
