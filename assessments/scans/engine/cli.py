"""The command-line scan: `manage.py scan <url-or-path> [--json]`, and its rendering.

`manage.py` hands `scan` straight to `main()` before Django starts: a scan needs no settings,
database, Celery or pandas, and a user waits for the whole process, start-up included. The
Django command (assessments/management/commands/scan.py) wraps the same functions, for
`call_command` and `django-admin`. Rendering (an aligned table, or JSON) needs nothing but a
ScanResult.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from assessments.scans.engine.model import Finding, Limits, Progress, ScanError, ScanResult

ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz", ".tar", ".bundle")
URL_PREFIXES = ("https://", "http://", "git@", "ssh://", "git://", "file://")

_ORDER = {"found": 0, "absent": 1, "unknown": 2}


def _evidence(finding: Finding) -> str:
    if not finding.evidence:
        return "-"
    first = finding.evidence[0]
    ref = first.ref if first.kind != "commit" else first.ref[:12]
    text = ref + (f":{first.line}" if first.line else "")
    if len(finding.evidence) > 1:
        text += f" (+{len(finding.evidence) - 1})"
    return text


def _grouped(result: ScanResult) -> list[tuple[Finding, str]]:
    """One row per detector, its capabilities joined (a detector may speak to several)."""
    rows: dict[str, tuple[Finding, list[str]]] = {}
    for finding in result.findings:
        if finding.detector in rows:
            rows[finding.detector][1].append(finding.capability)
        else:
            rows[finding.detector] = (finding, [finding.capability])
    ordered = sorted(rows.values(), key=lambda item: (_ORDER[item[0].status], item[0].detector))
    return [(finding, ", ".join(caps)) for finding, caps in ordered]


def render_table(result: ScanResult) -> str:
    """An aligned table: status, detector, capability, evidence; then warnings."""
    header = ("STATUS", "DETECTOR", "CAPABILITY", "EVIDENCE")
    rows = [header] + [
        (finding.status, finding.detector, caps, _evidence(finding))
        for finding, caps in _grouped(result)
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3])) + "  " + row[3]
        for row in rows
    ]
    counts = {s: sum(1 for f, _c in _grouped(result) if f.status == s) for s in _ORDER}
    lines.append("")
    lines.append(
        f"{result.source}: {counts['found']} found, {counts['absent']} absent, "
        f"{counts['unknown']} could not be determined"
        + (" (partial result)" if result.partial else "")
    )
    lines += [f"warning: {w}" for w in result.warnings]
    return "\n".join(lines) + "\n"


def render_json(result: ScanResult, *, indent: int | None = 2) -> str:
    """`{"findings": [...], "facts": {...}}` plus source, warnings and partial."""
    data: dict[str, Any] = result.to_dict()
    ordered = {
        "findings": data["findings"],
        "facts": data["facts"],
        "source": data["source"],
        "warnings": data["warnings"],
        "partial": data["partial"],
    }
    return json.dumps(ordered, indent=indent, sort_keys=False, ensure_ascii=False) + "\n"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's options (Django's CommandParser is an ArgumentParser too)."""
    parser.add_argument(
        "source",
        help="An https clone URL, a local repository path, or a .zip/.tar.gz/.bundle archive.",
    )
    parser.add_argument(
        "--json", action="store_true", help='Print {"findings": [...], "facts": {...}} as JSON.'
    )
    parser.add_argument(
        "--window-days",
        type=int,
        default=180,
        help="How much history to read, in days up to now (default 180; at most back to 1970).",
    )
    parser.add_argument(
        "--timeout", type=float, default=900, help="Give up after this many seconds."
    )
    parser.add_argument(
        "--now",
        type=_aware,
        default=None,
        help="Scan as of this ISO date-time (UTC unless it says otherwise); default: now.",
    )


def _aware(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO date-time") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def run(
    source: str,
    *,
    as_json: bool = False,
    window_days: int = 180,
    timeout: float = 900,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> str:
    """Scan `source` and return the rendered result. Raises ScanError with a user-safe message."""
    from assessments.scans.engine.scan import scan_repository

    path = Path(source)
    target: str | Path
    roots: list[Path]
    if source.startswith(URL_PREFIXES):
        kind, target, roots = "url", source, []
    elif path.is_file() and source.endswith(ARCHIVE_SUFFIXES):
        kind, target, roots = "archive", path.resolve(), []
    elif path.is_dir():
        # A path given on the command line is trusted as a root, and still copied through a
        # clean bare clone before anything reads it.
        kind, target, roots = "path", path.resolve(), [path.resolve()]
    else:
        raise ScanError(
            f"{source!r} is not an https URL, an existing directory or a .zip/.tar.gz/.bundle file."
        )
    with tempfile.TemporaryDirectory(prefix="opready-scan-") as workdir:
        result = scan_repository(
            source=target,
            kind=kind,  # type: ignore[arg-type]
            workdir=Path(workdir),
            now=now or datetime.now(UTC),
            window_days=window_days,
            allowed_roots=roots,
            limits=Limits(timeout_seconds=timeout),
            progress=progress,
        )
    return render_json(result) if as_json else render_table(result)


def terminal_progress(stream: TextIO) -> Progress:
    def progress(stage: str, percent: int) -> None:
        stream.write(f"\r{percent:3d}% {stage[:60]:<60}")
        stream.flush()

    return progress


def main(
    argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """`manage.py scan ...` without Django; returns the exit status (1 on a refused scan)."""
    out, err = stdout or sys.stdout, stderr or sys.stderr
    parser = argparse.ArgumentParser(
        prog="manage.py scan",
        description="Scan a git repository (https URL, local path or archive) and print its "
        "findings. No database needed.",
    )
    add_arguments(parser)
    options = parser.parse_args(argv)
    try:
        text = run(
            options.source,
            as_json=options.json,
            window_days=options.window_days,
            timeout=options.timeout,
            now=options.now,
            progress=None if options.json else terminal_progress(err),
        )
    except ScanError as exc:
        if not options.json:
            err.write("\n")
        err.write(f"CommandError: {exc}\n")
        return 1
    if not options.json:
        err.write("\n")
    out.write(text)
    return 0
