from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from assessments.demo import CONSULTANT_USERNAME, DemoUserConflict, seed_demo


class Command(BaseCommand):
    help = "Create the demo organisation and its completed assessment (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--reset", action="store_true", help="Delete the demo organisations and rebuild them."
        )
        parser.add_argument(
            "--without-evidence",
            action="store_true",
            help="Skip the demo repository scan and delivery exports (no git needed).",
        )
        parser.add_argument(
            "--allow-without-debug",
            action="store_true",
            help="Seed even with DEBUG=0 (a staging site). The demo logins have a published "
            "password: never use this on a site that holds real data.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["allow_without_debug"]:
            raise CommandError(
                "seed_demo creates logins whose password is published in the README, so it "
                "runs only with DEBUG=1. On a staging site, pass --allow-without-debug."
            )
        try:
            info = seed_demo(reset=options["reset"], evidence=not options["without_evidence"])
        except DemoUserConflict as exc:
            raise CommandError(str(exc)) from None
        verb = "Created" if info.created else "Found existing"
        self.stdout.write(f"{verb} demo data.")
        self.stdout.write(f"Demo login: {info.username} / {info.password}  (leader)")
        self.stdout.write(
            f"Consultant login: {CONSULTANT_USERNAME} / {info.password}  (two client organisations)"
        )
        self.stdout.write(f"Demo assessment id: {info.assessment_id}")
        self.stdout.write(f"Demo assessment: {settings.SITE_URL}/assessments/{info.assessment_id}/")
