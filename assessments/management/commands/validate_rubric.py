from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assessments.scans.engine import load_catalogue
from scoring.autonomy import Gate, gates_path, load_gates
from scoring.recommendations import catalogue_path
from scoring.recommendations import load_catalogue as load_recommendations
from scoring.rubric import (
    DEFAULT_RUBRIC,
    RubricError,
    authoring_problems,
    load_rubric,
    rubric_path,
)


class Command(BaseCommand):
    help = (
        "Check a rubric file (default: the shipped default), its authoring rules, and the "
        "autonomy gates and recommendations shipped for its version; print what it holds."
    )
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
        unknown += [f"{path}: {line}" for line in authoring_problems(rubric)]
        # The gates and the catalogue are versioned with the rubric: check them against it.
        gates: tuple[Gate, ...] = ()
        try:
            if gates_path(rubric).is_file():
                gates = load_gates(gates_path(rubric), rubric)
            if catalogue_path(rubric.id, rubric.version).is_file():
                load_recommendations(catalogue_path(rubric.id, rubric.version), rubric)
        except RubricError as exc:
            unknown += [str(issue) for issue in exc.issues]
        unknown += [
            f"{gates_path(rubric)}: gates[{gate.id}].requires_evidence: {r.subject!r} is not "
            "a scan detector"
            for gate in gates
            for r in gate.requires
            if r.kind == "evidence" and r.subject not in detectors
        ]
        if unknown:
            for line in unknown:
                self.stderr.write(line)
            raise CommandError(f"{len(unknown)} problem(s) in {path}", returncode=1)
        self.stdout.write(
            f"{len(rubric.dimensions)} dimensions, {len(rubric.capabilities)} capabilities, "
            f"{len(rubric.questions)} questions"
        )
