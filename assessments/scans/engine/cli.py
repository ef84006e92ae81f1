"""The command-line scan: `manage.py scan <url-or-path> [--json]`, and its rendering.

The history window is either `--window-days N` (the N days up to now, 180 by default) or
`--since YYYY-MM-DD` and/or `--until YYYY-MM-DD` (whole UTC days, both included): the scan
then runs as of the midnight ending `--until`, over exactly the days from `--since`, so the
window copy (sources.window_copy) and the history measures cover the same [since, until].

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
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, TextIO

from assessments.scans.engine.model import Finding, Limits, Progress, ScanError, ScanResult

ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz", ".tar", ".bundle")
URL_PREFIXES = ("https://", "http://", "git@", "ssh://", "git://", "file://")

_ORDER = {"found": 0, "absent": 1, "unknown": 2}
DEFAULT_WINDOW_DAYS = 180


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
    history = result.facts.get("history") or {}
    suggested = history.get("suggested_window")
    if history.get("commits") == 0 and suggested:
        lines.append(
            f"note: no commits in the window; the last commit was on {suggested['until']}. "
            f"To measure the team at work: --since {suggested['since']} "
            f"--until {suggested['until']}"
        )
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
        default=None,
        help=f"How much history to read, in days up to now (default {DEFAULT_WINDOW_DAYS}; at "
        "most back to 1970). Not with --since/--until.",
    )
    parser.add_argument(
        "--since",
        type=_day,
        default=None,
        help="Read the history from this day (YYYY-MM-DD, UTC, included); default: "
        f"{DEFAULT_WINDOW_DAYS} days before --until.",
    )
    parser.add_argument(
        "--until",
        type=_day,
        default=None,
        help="Read the history up to this day (YYYY-MM-DD, UTC, included); default: today.",
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


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


EPOCH = date(1970, 1, 1)


def history_window(
    *,
    now: datetime,
    window_days: int | None = None,
    since: date | None = None,
    until: date | None = None,
) -> tuple[datetime, int]:
    """(the instant the scan runs as of, window length in days) for the options given.

    With `since`/`until` (whole UTC days, both included) the scan runs as of the midnight
    that ends `until`, over the days from `since`: the window starts at `since`'s midnight
    exactly. Raises ScanError, worded for the command line, for a window that cannot be read.
    """
    if since is None and until is None:
        return now, DEFAULT_WINDOW_DAYS if window_days is None else window_days
    if window_days is not None:
        raise ScanError(
            "Give either --window-days or --since/--until, not both: --window-days counts back "
            "from now, --since/--until name the days."
        )
    today = now.astimezone(UTC).date()
    for name, value in (("--since", since), ("--until", until)):
        if value is None:
            continue
        if value > today:
            raise ScanError(
                f"{name} {value.isoformat()} is in the future (today is {today.isoformat()}, "
                "UTC): there is no history to read there yet."
            )
        if value < EPOCH:
            raise ScanError(
                f"{name} {value.isoformat()} is before 1970-01-01: git stores no earlier date."
            )
    last = until or today
    first = since or max(EPOCH, last - timedelta(days=DEFAULT_WINDOW_DAYS - 1))
    if last < first:
        raise ScanError(
            f"--until {last.isoformat()} is before --since {first.isoformat()}: the window "
            "would be empty."
        )
    end = datetime.combine(last + timedelta(days=1), time(), tzinfo=UTC)
    return end, (last - first).days + 1


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
    window_days: int | None = None,
    since: date | None = None,
    until: date | None = None,
    timeout: float = 900,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> str:
    """Scan `source` and return the rendered result. Raises ScanError with a user-safe message."""
    from assessments.scans.engine.scan import scan_repository

    as_of, days = history_window(
        now=now or datetime.now(UTC), window_days=window_days, since=since, until=until
    )

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
            now=as_of,
            window_days=days,
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
            since=options.since,
            until=options.until,
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
