from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from scoring.rubric import DEFAULT_RUBRIC, RubricError, load_rubric, rubric_path


class Command(BaseCommand):
    help = "Check a rubric file (default: the shipped one) and print what it holds."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", nargs="?", help="Rubric YAML file to check.")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"]) if options["path"] else rubric_path(*DEFAULT_RUBRIC)
        try:
            rubric = load_rubric(path)
        except RubricError as exc:
            for issue in exc.issues:
                self.stderr.write(str(issue))
            raise CommandError(f"{len(exc.issues)} problem(s) in {path}", returncode=1) from None
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}", returncode=1) from None
        self.stdout.write(
            f"{len(rubric.dimensions)} dimensions, {len(rubric.capabilities)} capabilities, "
            f"{len(rubric.questions)} questions"
        )
