from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from assessments.demo import CONSULTANT_USERNAME, seed_demo


class Command(BaseCommand):
    help = "Create the demo organisation and its completed assessment (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reset", action="store_true", help="Delete the demo organisations and rebuild them."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        info = seed_demo(reset=options["reset"])
        verb = "Created" if info.created else "Found existing"
        self.stdout.write(f"{verb} demo data.")
        self.stdout.write(f"Demo login: {info.username} / {info.password}  (leader)")
        self.stdout.write(
            f"Consultant login: {CONSULTANT_USERNAME} / {info.password}  (two client organisations)"
        )
        self.stdout.write(f"Demo assessment id: {info.assessment_id}")
        self.stdout.write(f"Demo assessment: {settings.SITE_URL}/assessments/{info.assessment_id}/")
