from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assessments.scans.engine.cli import render_json, render_table
from assessments.scans.engine.model import Limits, ScanError
from assessments.scans.engine.scan import scan_repository

ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz", ".tar", ".bundle")


class Command(BaseCommand):
    help = "Scan a git repository (https URL, local path or archive) and print its findings. No database needed."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "source",
            help="An https clone URL, a local repository path, or a .zip/.tar.gz/.bundle archive.",
        )
        parser.add_argument(
            "--json", action="store_true", help='Print {"findings": [...], "facts": {...}} as JSON.'
        )
        parser.add_argument(
            "--window-days", type=int, default=180, help="How much history to read (default 180)."
        )
        parser.add_argument(
            "--timeout", type=float, default=900, help="Give up after this many seconds."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        source: str = options["source"]
        path = Path(source)
        target: str | Path
        roots: list[Path]
        if source.startswith(("https://", "http://", "git@", "ssh://", "git://", "file://")):
            kind, target, roots = "url", source, []
        elif path.is_file() and source.endswith(ARCHIVE_SUFFIXES):
            kind, target, roots = "archive", path.resolve(), []
        elif path.is_dir():
            # A path given on the command line is trusted as a root, and still copied through
            # a clean bare clone before anything reads it.
            kind, target, roots = "path", path.resolve(), [path.resolve()]
        else:
            raise CommandError(
                f"{source!r} is not an https URL, an existing directory or a .zip/.tar.gz/.bundle file."
            )
        progress = None if options["json"] else self._progress
        with tempfile.TemporaryDirectory(prefix="opready-scan-") as workdir:
            try:
                result = scan_repository(
                    source=target,
                    kind=kind,  # type: ignore[arg-type]
                    workdir=Path(workdir),
                    now=datetime.now(UTC),
                    window_days=options["window_days"],
                    allowed_roots=roots,
                    limits=Limits(timeout_seconds=options["timeout"]),
                    progress=progress,
                )
            except ScanError as exc:
                raise CommandError(str(exc)) from None
        if not options["json"]:
            sys.stderr.write("\n")
        self.stdout.write(
            render_json(result) if options["json"] else render_table(result), ending=""
        )

    @staticmethod
    def _progress(stage: str, percent: int) -> None:
        sys.stderr.write(f"\r{percent:3d}% {stage[:60]:<60}")
        sys.stderr.flush()
