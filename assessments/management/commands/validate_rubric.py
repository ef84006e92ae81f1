from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assessments.scans.engine import load_catalogue
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
        # Evidence hooks name scan detectors; the rubric loader (pure scoring) cannot know
        # them, so a typo would silently mean "no evidence ever" without this check.
        detectors = set(load_catalogue().ids)
        unknown = [
            f"{path}: questions[{q.id}].evidence: {d!r} is not a scan detector "
            "(see assessments/scans/engine/detectors.yaml)"
            for q in rubric.questions
            for d in q.evidence
            if d not in detectors
        ]
        if unknown:
            for line in unknown:
                self.stderr.write(line)
            raise CommandError(f"{len(unknown)} problem(s) in {path}", returncode=1)
        self.stdout.write(
            f"{len(rubric.dimensions)} dimensions, {len(rubric.capabilities)} capabilities, "
            f"{len(rubric.questions)} questions"
        )
