from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assessments.scans.engine.cli import add_arguments, run, terminal_progress
from assessments.scans.engine.model import ScanError


class Command(BaseCommand):
    """`manage.py scan` itself is handed to the engine's CLI before Django starts (manage.py);
    this command serves `call_command("scan", ...)` and `django-admin scan`."""

    help = "Scan a git repository (https URL, local path or archive) and print its findings. No database needed."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            text = run(
                options["source"],
                as_json=options["json"],
                window_days=options["window_days"],
                since=options["since"],
                until=options["until"],
                timeout=options["timeout"],
                now=options["now"],
                progress=None if options["json"] else terminal_progress(sys.stderr),
            )
        except ScanError as exc:
            raise CommandError(str(exc)) from None
        if not options["json"]:
            sys.stderr.write("\n")
        self.stdout.write(text, ending="")
