"""Top-level scans: a git repository, a GitHub repository through its API, a delivery export.

These are the functions the app (Celery tasks, `manage.py scan`) calls. Each takes plain
values, gets `now` passed in, and returns plain data (ScanResult / DeliveryImport).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from assessments.scans.engine.detectors import Catalogue, load_catalogue
from assessments.scans.engine.files import read_head, scan_files
from assessments.scans.engine.gitrunner import GitRunner
from assessments.scans.engine.history import scan_history, window_start
from assessments.scans.engine.historyfindings import unknown_history_findings
from assessments.scans.engine.model import (
    Finding,
    Limits,
    Progress,
    ScanError,
    ScanResult,
    ScanTimeout,
)
from assessments.scans.engine.sources import prepare_bare_copy
from assessments.scans.engine.urls import Resolver

if TYPE_CHECKING:  # imported where used: a git scan needs neither the GitHub client nor CSV
    from assessments.scans.engine.delivery import DeliveryImport
    from assessments.scans.engine.github import GitHubClient

SourceKind = Literal["url", "archive", "path"]


def _repo_size(runner: GitRunner, git_dir: Path) -> tuple[int, int]:
    """(bytes on disk, object count) of a repository, from `git count-objects -v`."""
    out = runner.run(["count-objects", "-v"], git_dir=git_dir, stage="files", percent=40)
    kib = objects = 0
    for line in out.decode("ascii", "replace").splitlines():
        key, _, value = line.partition(":")
        if not value.strip().isdigit():
            continue
        if key in ("size", "size-pack", "size-garbage"):
            kib += int(value.strip())
        elif key in ("count", "in-pack"):
            objects += int(value.strip())
    return kib * 1024, objects


def scan_repository(
    *,
    source: str | Path,
    kind: SourceKind,
    workdir: Path,
    now: datetime,
    window_days: int = 180,
    allowed_roots: Sequence[Path] = (),
    limits: Limits = Limits(),  # noqa: B008 (frozen, so a shared default is safe)
    progress: Progress | None = None,
    token: str | None = None,
    resolver: Resolver | None = None,
    catalogue: Catalogue | None = None,
    _allow_private_for_tests: bool = False,
) -> ScanResult:
    """Scan one git repository: file detectors at HEAD and history measures over the window.

    `workdir` is a directory the caller created for this job; the scan works in a fresh
    folder inside it and removes that folder (bare copy, extracted upload) before returning,
    whatever happens. `token` (optional, url scans) authenticates the clone and never leaves
    memory except in the clone's environment. Raises ScanError (user-safe message),
    ScanCancelled when `progress` raised it, ScanTimeout past `limits.timeout_seconds`.
    `_allow_private_for_tests` lets tests clone from a local server; production never sets it.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if kind not in ("url", "archive", "path"):
        raise ScanError(f"Unknown source kind {kind!r}: expected url, archive or path.")
    since = window_start(now, window_days)  # ScanError for a window git cannot read
    workdir = Path(workdir)
    if not workdir.is_dir():
        raise ScanError("The job folder does not exist.")
    catalogue = catalogue or load_catalogue()
    job = Path(tempfile.mkdtemp(prefix="scan-", dir=workdir))
    runner = GitRunner(
        job_root=job, deadline=time.monotonic() + limits.timeout_seconds, progress=progress
    )
    warnings: list[str] = []
    partial = False
    try:
        runner.check("preparing", 0)
        bare = prepare_bare_copy(
            source=source,
            kind=kind,
            runner=runner,
            workdir=job,
            limits=limits,
            allowed_roots=tuple(allowed_roots),
            resolver=resolver,
            token=token,
            since=since,
            _allow_private_for_tests=_allow_private_for_tests,
        )
        size, objects = _repo_size(runner, bare.path)
        if size > limits.max_repo_bytes:
            raise ScanError(
                f"The repository is larger than the limit of {limits.max_repo_bytes // (1024 * 1024)} MiB."
            )
        if objects > limits.max_objects:
            # Many tiny objects stay under the byte limit but make every later step slow.
            raise ScanError(
                f"The repository has more than {limits.max_objects:,} objects, the limit for a scan."
            )
        head, branch = read_head(runner=runner, git_dir=bare.path)
        shallow = bare.source_shallow
        if shallow is None:  # a complete copy: shallow only if its source was
            shallow = (
                runner.run(
                    ["rev-parse", "--is-shallow-repository"],
                    git_dir=bare.path,
                    stage="files",
                    percent=40,
                ).strip()
                == b"true"
            )
        if shallow:
            # A shallow copy (a CI checkout, say) holds only part of the history: every
            # history measure would silently undercount.
            warnings.append(
                "The repository is a shallow copy: its history is incomplete, so history "
                "measures cover only the commits it holds."
            )
            partial = True
        if bare.missing_blobs:
            # The copy was made without them (sources.check_missing): the file reader marks
            # each file a detector needed whose contents are missing; history reads them as
            # empty.
            at_head = bare.missing_at_head
            where = (
                f" At HEAD: {', '.join(at_head[:10])}"
                + (f" and {len(at_head) - 10} more" if len(at_head) > 10 else "")
                + "; a detector that needed one of them says so."
                if at_head
                else " None of them is at HEAD."
            )
            warnings.append(
                f"The source lacks the contents of {bare.missing_blobs} file version(s) (a "
                "partial or promisor clone, or a damaged pack), so they could not be read; "
                f"the scan read everything else.{where} History counts the commits that "
                "changed them, without those files' changed lines."
            )
            partial = True
        runner.check("files", 40)
        files = scan_files(catalogue=catalogue, runner=runner, git_dir=bare.path, limits=limits)
        warnings += files.warnings
        partial = partial or files.partial
        findings: list[Finding] = list(files.findings)
        history_facts: dict[str, Any] = {}
        try:
            runner.check("history", 60)
            history, history_facts = scan_history(
                runner=runner,
                git_dir=bare.path,
                catalogue=catalogue,
                head=head,
                now=now,
                window_days=window_days,
                limits=limits,
            )
            findings += history
            if history_facts["changes_records"]["truncated"]:
                warnings.append(
                    f"Only the newest {limits.max_change_records} changes are listed for "
                    "delivery metrics."
                )
            if history_facts["malformed_records"]:
                warnings.append(
                    f"{history_facts['malformed_records']} commit record(s) could not be read "
                    "and are left out of the history measures."
                )
                partial = True
        except ScanTimeout:
            findings += unknown_history_findings(
                catalogue, "Could not determine: the history scan hit the time limit."
            )
            warnings.append("The history scan hit the time limit; history measures are missing.")
            partial = True
        # Not runner.check(): the work is done, and a deadline that has passed (the history
        # timeout above) must not throw the partial result away. A cancel still stops it.
        if progress is not None:
            progress("done", 100)
        facts = {
            "repository": {
                "source": bare.display,
                "kind": kind,
                "head": head,
                "branch": branch,
                "size_bytes": size,
                "objects": objects,
                "shallow": shallow,
                "copied": "window" if bare.windowed else "all",
                "missing_blobs": bare.missing_blobs,
                "missing_at_head": list(bare.missing_at_head),
            },
            "files": files.facts,
            "history": history_facts,
        }
        return ScanResult(
            source=bare.display,
            findings=tuple(findings),
            facts=facts,
            warnings=tuple(warnings),
            partial=partial,
        )
    finally:
        runner.cleanup()
        shutil.rmtree(job, ignore_errors=True)


def scan_github(
    *,
    repo: str,
    token: str,
    now: datetime,
    window_days: int = 90,
    client: GitHubClient | None = None,
    progress: Progress | None = None,
    sleep: Callable[[float], None] = time.sleep,
    max_wait_seconds: float = 60.0,
    catalogue: Catalogue | None = None,
) -> ScanResult:
    """Scan a GitHub repository ("owner/name") through the REST API with the user's token.

    Endpoints that answer 403/404 (no permission) make their findings "unknown"; a rate limit
    that resets within `max_wait_seconds` is waited out with `sleep`, a longer one stops the
    scan with a partial result. 401 raises ScanError("GitHub rejected the token").
    """
    from assessments.scans.engine.github import GitHubClient
    from assessments.scans.engine.githubscan import scan_github_repository

    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    client = client or GitHubClient(token=token, sleep=sleep, max_wait_seconds=max_wait_seconds)
    return scan_github_repository(
        repo=repo,
        client=client,
        now=now,
        window_days=window_days,
        progress=progress,
        catalogue=catalogue or load_catalogue(),
    )


def parse_delivery_export(
    *,
    data: bytes,
    filename: str,
    kind: Literal["deployments", "incidents", "changes"],
    mapping: Mapping[str, str] | None = None,
) -> DeliveryImport:
    """Parse an uploaded CSV or JSON export of deployments, incidents or changes.

    Without `mapping`, the suggested mapping for the detected columns is used. Good rows are
    returned even when others are malformed; each bad row is reported with its number,
    column and problem. A missing required column raises ScanError naming it and the
    columns that were found.
    """
    from assessments.scans.engine.delivery import parse_export

    return parse_export(data=data, filename=filename, kind=kind, mapping=mapping)
