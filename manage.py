#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

from __future__ import annotations

import os
import sys


def main() -> None:
    if sys.argv[1:2] == ["scan"]:
        # The scan engine needs no Django: skip settings, apps, Celery and pandas, whose
        # imports would be most of a small scan's time (assessments/scans/engine/cli.py).
        from assessments.scans.engine.cli import main as scan

        sys.exit(scan(sys.argv[2:]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
