"""Scans in the app: add sources, run them as jobs, keep their findings, and hand evidence and
delivery records to the scoring engine."""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from assessments.inputs import inputs_changed
from assessments.jobs import (
    BackgroundJob,
    Claim,
    job_claim,
    job_enqueue,
    job_fail,
    job_progress,
    job_requeue_if_stuck,
    job_running,
    stale_after,
)
from assessments.models import Assessment
from assessments.scans import secrets
from assessments.scans.engine import MappingError, delivery_findings
from assessments.scans.engine import model as engine_model
from assessments.scans.engine.cli import history_window
from assessments.scans.engine.deliveryfindings import delivery_data
from assessments.scans.engine.detectors import load_catalogue
from assessments.scans.engine.scan import (
    parse_delivery_export,
    scan_github,
    scan_repository,
)
from assessments.scans.models import ScanFinding, ScanRun, ScanSource
from scoring.delivery import DeliveryData
from scoring.evidence import EvidenceFinding

logger = logging.getLogger(__name__)
ScanError = engine_model.ScanError


class ScanInputError(ValueError):
    """A source the app refuses; the message is shown to the person who added it."""


# --- Adding sources ---------------------------------------------------------------------------


def source_add(
    *,
    assessment: Assessment,
    kind: str,
    user: Any,
    location: str = "",
    label: str = "",
    upload: Any = None,
    token: str = "",
    since: date | None = None,
    until: date | None = None,
) -> tuple[ScanSource, ScanRun | None]:
    """A new source and, for repositories and GitHub, its first run (enqueued on commit).

    Exports are parsed straight away with the suggested column mapping; when it lacks a
    required field, the source is kept with an empty import for the user to map (see
    `export_import`). `since`/`until` (repositories): the history window of the first run,
    as `run_create` takes it. If anything fails, nothing is kept: no row and no uploaded file.
    """
    if kind not in ScanSource.Kind.values:
        raise ScanInputError("Unknown kind of source.")
    source = ScanSource(
        assessment=assessment,
        kind=kind,
        location=location,
        label=label or location or (upload.name if upload else kind),
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    if token:
        source.token_encrypted = secrets.encrypt(token)
    try:
        with transaction.atomic():
            if upload is not None:
                source.upload_name = Path(upload.name).name[:255]
                source.upload.save(f"{source.pk}.bin", upload, save=False)
            source.save()
            if source.is_export:
                export_import(source=source, mapping=None)
                return source, None
            run = run_create(source=source, user=user, since=since, until=until)
    except BaseException:
        # The rollback removed the row; the stored file is not transactional.
        if source.upload:
            source.upload.delete(save=False)
        raise
    return source, run


def export_import(*, source: ScanSource, mapping: dict[str, str] | None) -> Any:
    """Parse an uploaded export with a column mapping (None: the suggested one), keep the good
    rows, and record a finished run whose warnings list the bad rows.

    When the suggested mapping lacks a required field, the import is recorded empty instead
    (a failed run naming the field, with the export's columns in its facts) so the user can
    choose the columns on the mapping page; None is returned then. An explicit mapping that
    lacks one raises ScanInputError.
    """
    with source.upload.open("rb") as handle:
        data = handle.read(settings.EXPORT_MAX_UPLOAD_BYTES + 1)
    if len(data) > settings.EXPORT_MAX_UPLOAD_BYTES:
        raise ScanInputError("The export is larger than the upload limit.")
    try:
        imported = parse_delivery_export(
            data=data,
            filename=source.upload_name,
            kind=source.kind,  # type: ignore[arg-type]  # an export kind, checked when added
            mapping=mapping,
        )
    except MappingError as exc:
        if mapping is not None:
            raise ScanInputError(str(exc)) from None
        _export_needs_mapping(source=source, error=exc)
        return None
    except ScanError as exc:
        raise ScanInputError(str(exc)) from None
    _store_import(
        source,
        mapping=dict(imported.mapping),
        records=list(imported.rows),
        status=BackgroundJob.Status.SUCCEEDED,
        stage="Imported",
        facts={
            "rows": len(imported.rows),
            "total_rows": imported.total_rows,
            "columns": list(imported.columns),
            "read_as": list(imported.notes),
        },
        warnings=[str(e) for e in imported.errors[:500]] + list(imported.warnings),
        partial=bool(imported.errors),
    )
    return imported


def _export_needs_mapping(*, source: ScanSource, error: MappingError) -> None:
    _store_import(
        source,
        mapping={},
        records=[],
        status=BackgroundJob.Status.FAILED,
        stage="Needs a column mapping",
        facts={"rows": 0, "total_rows": error.total_rows, "columns": list(error.columns)},
        error=f"{error} Choose the column for each required field, then import.",
    )


def _store_import(
    source: ScanSource,
    *,
    mapping: dict[str, str],
    records: list[dict[str, Any]],
    **run_fields: Any,
) -> None:
    """An export's import as a finished run, made the source's current one atomically; the
    delivery findings are recomputed from all exports."""
    now = timezone.now()
    with transaction.atomic():
        run = ScanRun.objects.create(
            source=source,
            assessment=source.assessment,
            progress=100,
            started_at=now,
            finished_at=now,
            **run_fields,
        )
        source.column_mapping = mapping
        source.records = records
        source.current_run = run
        source.save(update_fields=["column_mapping", "records", "current_run"])
        delivery_findings_refresh(assessment=source.assessment)


def delivery_findings_refresh(*, assessment: Assessment) -> None:
    """Recompute the delivery.* findings (DORA measures as evidence) from all imported
    exports, and keep them on the newest deployments export's current run."""
    exports = list(
        assessment.scan_sources.filter(kind__in=ScanSource.EXPORT_KINDS).order_by("-created_at")
    )
    holder = next(
        (s for s in exports if s.kind == ScanSource.Kind.DEPLOYMENTS and s.current_run_id), None
    )
    if holder is None:
        return

    deployments, incidents, changes = _delivery_rows(assessment)
    result = delivery_findings(
        deployments=deployments,
        incidents=incidents,
        changes=changes,
        now=timezone.now(),
        environments=production_environments(),
    )
    ScanFinding.objects.filter(
        run_id=holder.current_run_id, detector__startswith="delivery."
    ).delete()
    ScanFinding.objects.bulk_create(_finding_rows(holder.current_run_id, result.findings))
    inputs_changed(assessment_ids=[holder.assessment_id])


def run_active(*, source: ScanSource) -> ScanRun | None:
    """The source's queued run, or its running one whose worker is still alive."""
    alive = timezone.now() - stale_after()
    return (
        source.runs.filter(
            Q(status=BackgroundJob.Status.QUEUED)
            | Q(status=BackgroundJob.Status.RUNNING, heartbeat_at__gte=alive)
        )
        .order_by("-created_at")
        .first()
    )


def run_create(
    *, source: ScanSource, user: Any, since: date | None = None, until: date | None = None
) -> ScanRun:
    """A new run of the source, enqueued on commit, measuring the history from `since` to
    `until` (whole UTC days, both included; None: the engine's defaults, see
    `engine.cli.history_window`). Raises ScanInputError for a window that cannot be read, and
    while another run of the same source is queued or running: two runs of one source would
    race to become its current run."""
    if since is not None or until is not None:
        if source.kind not in ScanSource.REPOSITORY_KINDS:
            raise ScanInputError("Only git repositories are scanned over a chosen window.")
        try:
            history_window(now=timezone.now(), since=since, until=until)
        except ScanError as exc:
            raise ScanInputError(str(exc)) from None
    with transaction.atomic():
        # Lock the source so two rescans posted together cannot both pass the check.
        ScanSource.objects.select_for_update().filter(pk=source.pk).first()
        if run_active(source=source) is not None:
            raise ScanInputError(
                "This source is already being scanned; wait for that scan to finish or cancel it."
            )
        run = ScanRun.objects.create(
            source=source,
            assessment=source.assessment,
            requested_by=user if getattr(user, "is_authenticated", False) else None,
            window_since=since,
            window_until=until,
        )
        transaction.on_commit(lambda: run_enqueue(run.pk))
    return run


def task_sender(run_id: Any) -> Any:
    from assessments.scans.tasks import run_scan

    return lambda: run_scan.delay(str(run_id))


def run_enqueue(run_id: Any) -> bool:
    return job_enqueue(ScanRun, run_id, task_sender(run_id))


def run_requeue_if_stuck(run: ScanRun) -> None:
    job_requeue_if_stuck(run, task_sender(run.pk))


def run_cancel(*, run: ScanRun) -> None:
    """Ask a run to stop: a queued run stops at once, a running one at its next step, and
    one whose worker died (no heartbeat for JOB_STALE_SECONDS) at once as well."""
    now = timezone.now()
    ScanRun.objects.filter(pk=run.pk).filter(
        Q(status=BackgroundJob.Status.QUEUED)
        | Q(status=BackgroundJob.Status.RUNNING, heartbeat_at__lt=now - stale_after())
    ).update(
        status=BackgroundJob.Status.CANCELLED,
        stage="Cancelled",
        finished_at=now,
        cancel_requested=True,
    )
    ScanRun.objects.filter(pk=run.pk, status=BackgroundJob.Status.RUNNING).update(
        cancel_requested=True
    )


# --- Running a scan (the task body) -----------------------------------------------------------


class _Superseded(Exception):
    """This attempt no longer owns the run (another worker took it over)."""


def run_execute(*, run_id: str) -> Claim:
    """Claim and run one scan; safe to call any number of times for the same run: one call
    per attempt claims it, and only one attempt can record findings."""
    claim = job_claim(ScanRun, run_id)
    if not claim.claimed:
        logger.info("Scan run %s not run here: %s", run_id, claim.outcome.value)
        return claim
    attempt = claim.attempt
    run = ScanRun.objects.select_related("source", "assessment").get(pk=run_id)
    workdir = Path(settings.SCAN_WORK_ROOT) / str(run.pk)

    last_check = 0.0

    def progress(stage: str, percent: int) -> None:
        # The engine calls this several times a second during long git commands; look at
        # the database at most once a second.
        nonlocal last_check
        if time.monotonic() - last_check < 1.0:
            return
        last_check = time.monotonic()
        if ScanRun.objects.filter(pk=run_id, cancel_requested=True).exists():
            raise engine_model.ScanCancelled("Cancelled.")
        if not job_progress(ScanRun, run_id, attempt, stage, percent):
            raise _Superseded

    try:
        with job_running(ScanRun, run_id, attempt):
            workdir.mkdir(parents=True, exist_ok=True)
            result = _scan(run, workdir, progress)
            _record(run, result, attempt)
    except engine_model.ScanCancelled:
        ScanRun.objects.filter(pk=run_id, attempts=attempt).update(
            status=BackgroundJob.Status.CANCELLED, stage="Cancelled", finished_at=timezone.now()
        )
    except _Superseded:
        logger.warning("Scan run %s attempt %s was taken over; stopping", run_id, attempt)
    except ScanError as exc:
        job_fail(ScanRun, run_id, str(exc), attempt=attempt)
    except Exception as exc:
        logger.exception("Scan run %s failed", run_id)
        job_fail(
            ScanRun,
            run_id,
            f"The scan failed unexpectedly ({type(exc).__name__}).",
            attempt=attempt,
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return claim


def _scan(run: ScanRun, workdir: Path, progress: Any) -> engine_model.ScanResult:
    source = run.source
    now = timezone.now()
    # A repository is measured over the run's window: as of the midnight ending its last day.
    as_of, days = history_window(now=now, since=run.window_since, until=run.window_until)
    limits = engine_model.Limits(timeout_seconds=settings.SCAN_TIMEOUT_SECONDS)
    if source.kind == ScanSource.Kind.GITHUB:
        token = secrets.decrypt(bytes(source.token_encrypted))
        if not token:
            raise ScanError(
                "The stored GitHub token can no longer be read; add the source again with a new token."
            )
        return scan_github(repo=source.location, token=token, now=now, progress=progress)
    if source.kind == ScanSource.Kind.REPO_URL:
        clone_token = None
        if source.token_encrypted:
            clone_token = secrets.decrypt(bytes(source.token_encrypted))
            if not clone_token:
                raise ScanError(
                    "The stored access token can no longer be read; add the source again with a new token."
                )
        return scan_repository(
            source=source.location,
            kind="url",
            workdir=workdir,
            now=as_of,
            window_days=days,
            limits=limits,
            progress=progress,
            token=clone_token,
        )
    if source.kind == ScanSource.Kind.REPO_PATH:
        return scan_repository(
            source=source.location,
            kind="path",
            workdir=workdir,
            now=as_of,
            window_days=days,
            limits=limits,
            progress=progress,
            allowed_roots=settings.SCAN_ALLOWED_ROOTS,
        )
    if source.kind == ScanSource.Kind.REPO_ARCHIVE:
        # The engine reads the upload from a copy inside the job folder, named as uploaded so
        # it can tell the archive format (it checks the magic bytes as well).
        local = workdir / Path(source.upload_name or "upload.bin").name
        with source.upload.open("rb") as handle, open(local, "wb") as out:
            shutil.copyfileobj(handle, out, length=1024 * 1024)
        return scan_repository(
            source=local,
            kind="archive",
            workdir=workdir,
            now=as_of,
            window_days=days,
            limits=limits,
            progress=progress,
        )
    raise ScanError("This source is imported, not scanned.")


def _record(run: ScanRun, result: engine_model.ScanResult, attempt: int) -> None:
    """Store the findings and make this run the source's current one, atomically.

    A cancel asked for after the scan's last progress check still wins: the run ends
    cancelled and keeps nothing. A run becomes current only if it is newer than the current
    one: when an older run finishes last, its findings stay on it and the source keeps the
    newer run.
    """
    now = timezone.now()
    with transaction.atomic():
        # Lock the source: two runs finishing together must not both switch current_run.
        source = ScanSource.objects.select_for_update().filter(pk=run.source_id).first()
        if source is None:
            return  # removed while it ran; its runs went with it
        finished = ScanRun.objects.filter(
            pk=run.pk, status=BackgroundJob.Status.RUNNING, cancel_requested=False, attempts=attempt
        ).update(
            status=BackgroundJob.Status.SUCCEEDED,
            stage="Done",
            progress=100,
            finished_at=now,
            facts=_json_safe(result.facts),
            warnings=list(result.warnings),
            partial=result.partial,
        )
        if not finished:
            ScanRun.objects.filter(
                pk=run.pk, status=BackgroundJob.Status.RUNNING, attempts=attempt
            ).update(status=BackgroundJob.Status.CANCELLED, stage="Cancelled", finished_at=now)
            return
        ScanFinding.objects.bulk_create(_finding_rows(run.pk, result.findings))
        current = source.current_run
        if current is None or current.created_at <= run.created_at:
            source.current_run = run
            source.save(update_fields=["current_run"])
            if source.kind in ScanSource.REPOSITORY_KINDS:
                # Its commits are the changes lead time is measured from: the delivery
                # findings must measure what the results page measures.
                delivery_findings_refresh(assessment=source.assessment)


def scan_result_record(
    *,
    assessment: Assessment,
    kind: str,
    location: str,
    label: str,
    result: engine_model.ScanResult,
    user: Any,
) -> ScanSource:
    """A source with one finished run holding an engine result made elsewhere (the demo's
    repository, scanned when it is seeded), current at once; delivery findings follow."""
    now = timezone.now()
    with transaction.atomic():
        source = ScanSource.objects.create(
            assessment=assessment,
            kind=kind,
            location=location,
            label=label,
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        run = ScanRun.objects.create(
            source=source,
            assessment=assessment,
            status=BackgroundJob.Status.SUCCEEDED,
            stage="Done",
            progress=100,
            started_at=now,
            finished_at=now,
            facts=_json_safe(result.facts),
            warnings=list(result.warnings),
            partial=result.partial,
        )
        ScanFinding.objects.bulk_create(_finding_rows(run.pk, result.findings))
        source.current_run = run
        source.save(update_fields=["current_run"])
        delivery_findings_refresh(assessment=assessment)
    return source


def _finding_rows(run_id: Any, findings: Sequence[engine_model.Finding]) -> list[ScanFinding]:
    return [
        ScanFinding(
            run_id=run_id,
            detector=f.detector,
            capability=f.capability,
            status=f.status,
            strength=f.strength,
            title=f.title[:300],
            detail=f.detail,
            evidence=[p.to_dict() for p in f.evidence],
        )
        for f in findings
    ]


def _json_safe(value: Any) -> Any:
    import json

    return json.loads(json.dumps(value, default=str))


# --- Evidence and delivery records for scoring ---------------------------------------------


def current_findings(assessment: Assessment) -> list[ScanFinding]:
    return list(
        # A source's findings are those of its current run only.
        ScanFinding.objects.filter(
            run__source__assessment=assessment, run__source__current_run=F("run")
        )
        .select_related("run", "run__source")
        .order_by("capability", "detector")
    )


def repository_runs(assessment: Assessment) -> list[ScanRun]:
    """The current run of each scanned git repository, with its source: what history each
    one measured (its window) and, for a quiet one, the window it suggests."""
    return list(
        ScanRun.objects.filter(
            source__assessment=assessment,
            source__kind__in=ScanSource.REPOSITORY_KINDS,
            source__current_run=F("pk"),
        )
        .select_related("source")
        .order_by("source__created_at")
    )


# With the number of repositories in scope not recorded, the scanned repositories are taken to
# stand for a third of the organisation: enough to inform a score, never to refute a claim by
# absence (docs/methodology.md, section 8).
UNRECORDED_SCOPE = 1 / 3


def source_scopes(assessment: Assessment) -> dict[str, float]:
    """Per scanned source (by id): the share of the organisation it stands for. A repository
    is one of the assessment's `repositories_in_scope` (a third of the organisation, shared
    among the scanned repositories, when that number is not recorded); an export stands for
    what it was exported from, taken as all of it."""
    sources = [s for s in assessment.scan_sources.all() if s.current_run_id is not None]
    repositories = [s for s in sources if not s.is_export]
    in_scope = assessment.repositories_in_scope
    scopes = {}
    for source in sources:
        if source.is_export:
            scopes[str(source.pk)] = 1.0
        elif in_scope:
            scopes[str(source.pk)] = min(1.0, 1 / in_scope)
        else:
            scopes[str(source.pk)] = UNRECORDED_SCOPE / len(repositories)
    return scopes


def scan_coverage(assessment: Assessment) -> dict[str, Any]:
    """What was scanned and what was not, for the report: the repositories scanned, the number
    in scope (None when not recorded) and the share of the organisation they cover."""
    sources = [s for s in assessment.scan_sources.all() if s.current_run_id is not None]
    repositories = sorted(s.label for s in sources if not s.is_export)
    exports = sorted(s.label for s in sources if s.is_export)
    in_scope = assessment.repositories_in_scope
    if not repositories:
        share = 0.0
    elif in_scope:
        share = min(1.0, len(repositories) / in_scope)
    else:
        share = UNRECORDED_SCOPE
    return {
        "repositories": repositories,
        "exports": exports,
        "in_scope": in_scope,
        "unscanned": max(0, in_scope - len(repositories)) if in_scope else None,
        "share": share,
    }


def _grouped(findings: Sequence[ScanFinding]) -> list[tuple[ScanFinding, list[ScanFinding]]]:
    """Findings with alternatives (detectors of one catalogue group, such as the CI systems)
    gathered per source and capability: (first finding, the group's findings) pairs, a finding
    with no group on its own."""
    groups = {d.id: d.group for d in load_catalogue().detectors if d.group}
    out: list[tuple[ScanFinding, list[ScanFinding]]] = []
    index: dict[tuple[str, str, str], list[ScanFinding]] = {}
    for finding in findings:
        group = groups.get(finding.detector, "")
        if not group:
            out.append((finding, [finding]))
            continue
        key = (str(finding.run.source_id), finding.capability, group)
        if key not in index:
            index[key] = []
            out.append((finding, index[key]))
        index[key].append(finding)
    return out


def _one_fact(members: list[ScanFinding], group: str) -> tuple[str, int, str, list[str]]:
    """Status, strength, title and pointers of a group of alternatives read as one fact: in
    place when any is found ("CI: GitHub Actions workflows"), absent only when every one was
    looked for and none is there, could not determine otherwise."""
    found = [f for f in members if f.status == ScanFinding.Status.FOUND]
    if found:
        titles = ", ".join(f.title for f in found)
        pointers = [p for f in found for p in f.pointers()]
        return "found", max(f.strength for f in found), f"{group}: {titles}", pointers
    status = "absent" if all(f.status == ScanFinding.Status.ABSENT for f in members) else "unknown"
    titles = ", ".join(f.title for f in members)
    return status, max(f.strength for f in members), f"{group}: none found ({titles})", []


def evidence_for(assessment: Assessment) -> list[EvidenceFinding]:
    """The scans' findings as evidence: alternatives read as one fact, each finding weighed by
    the share of the organisation its source stands for."""
    scopes = source_scopes(assessment)
    groups = {d.id: d.group for d in load_catalogue().detectors if d.group}
    evidence = []
    for first, members in _grouped(current_findings(assessment)):
        source = str(first.run.source_id)
        if first.detector not in groups:
            status, strength, title = first.status, first.strength, first.title
            pointers = first.pointers()
            detector = first.detector
        else:
            group = groups[first.detector]
            status, strength, title, pointers = _one_fact(members, group)
            detector = "group:" + group.lower().replace(" ", "-")
        evidence.append(
            EvidenceFinding(
                detector=detector,
                capability=first.capability,
                status=status,  # type: ignore[arg-type]
                strength=strength,
                title=title,
                pointers=tuple(pointers),
                source=source,
                scope=scopes.get(source, 1.0),
            )
        )
    return evidence


def production_environments() -> tuple[str, ...] | None:
    """The environment names counted as production (settings.DELIVERY_ENVIRONMENTS); None
    (an empty setting) counts every environment."""
    names = tuple(settings.DELIVERY_ENVIRONMENTS)
    return names or None


def _delivery_rows(
    assessment: Assessment,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]] | None, list[dict[str, Any]] | None]:
    """Deployments and incidents from exports, changes from exports and repository history.
    Incidents or changes are None when nothing supplies them; an incident export without
    rows gives an empty list (no failed deployment), not None."""
    sources = list(assessment.scan_sources.select_related("current_run"))
    deployments = [r for s in sources if s.kind == ScanSource.Kind.DEPLOYMENTS for r in s.records]
    incident_sources = [s for s in sources if s.kind == ScanSource.Kind.INCIDENTS]
    imported = [
        s
        for s in incident_sources
        if s.current_run is not None and s.current_run.status == BackgroundJob.Status.SUCCEEDED
    ]
    incidents = [r for s in incident_sources for r in s.records] if imported else None
    changes = [r for s in sources if s.kind == ScanSource.Kind.CHANGES for r in s.records]
    for s in sources:
        if s.kind in ScanSource.REPOSITORY_KINDS and s.current_run is not None:
            changes += _history_changes(s.current_run.facts)
    return deployments, incidents, changes or None


def delivery_for(assessment: Assessment) -> DeliveryData | None:
    """The delivery records the results and the findings both measure (one definition)."""
    deployments, incidents, changes = _delivery_rows(assessment)
    if not deployments:
        return None
    return delivery_data(
        deployments=deployments,
        incidents=incidents,
        changes=changes,
        environments=production_environments(),
    )


def _history_changes(facts: dict[str, Any]) -> list[dict[str, Any]]:
    records = (facts.get("history") or facts).get("changes_records") or {}
    shas: Sequence[str] = records.get("sha") or []
    times: Sequence[str] = records.get("time") or []
    ai: Sequence[bool] = records.get("ai_assisted") or [False] * len(shas)
    return [
        {"sha": s, "time": t, "ai_assisted": bool(a)}
        for s, t, a in zip(shas, times, ai, strict=False)
    ]


def scan_sources_summary(assessment: Assessment) -> list[dict[str, Any]]:
    """For the report appendix: each source, when it last ran, how many findings."""
    rows = []
    for source in assessment.scan_sources.select_related("current_run"):
        run = source.current_run
        if run is None:
            continue
        rows.append(
            {
                "label": source.label,
                "kind": source.get_kind_display(),
                "finished_at": run.finished_at,
                "findings": run.findings.count()
                if not source.is_export
                else f"{len(source.records)} rows",
            }
        )
    return rows
