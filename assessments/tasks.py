"""Celery tasks of the assessments app (autodiscovered): integration scans."""

from __future__ import annotations

from assessments.scans.tasks import run_scan

__all__ = ["run_scan"]
