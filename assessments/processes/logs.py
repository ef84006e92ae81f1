"""Event logs in the app: upload, map columns, analyse as a Celery job, fill in the catalogue.

The analysis is the pure `core.eventlog`; this module stores the upload, runs it through the
shared job helpers (claim, progress, fail) and records the result on the EventLog row.
"""

from __future__ import annotations

import csv
import io
import logging
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from assessments.inputs import organisation_inputs_changed
from assessments.jobs import (
    BackgroundJob,
    Claim,
    job_claim,
    job_enqueue,
    job_fail,
    job_finish,
    job_progress,
    job_requeue_if_stuck,
    job_running,
)
from assessments.models import Organisation
from assessments.processes.core import eventlog, xes
from assessments.processes.models import EventLog, Process, ProcessStep

logger = logging.getLogger(__name__)
HEAD_BYTES = 65_536


class LogInputError(ValueError):
    """A log or a mapping the app refuses; the message is shown to the person."""


def log_upload(
    *, organisation: Organisation, upload: Any, process: Process | None, user: Any
) -> EventLog:
    """Store the upload and read its columns; nothing is kept when the file is not a log.
    A CSV file's columns are its header; an XES file's are its attribute keys (trace
    attributes as `case:key`), read from its first events."""
    head = upload.read(HEAD_BYTES)
    upload.seek(0)
    source = "xes" if xes.looks_like_xes(head) else "csv"
    try:
        if source == "xes":
            found = xes.sniff(upload)
            columns, preview = found.columns, found.preview
            suggested, delimiter = eventlog.suggest_mapping(columns), ","
        else:
            sniffed = eventlog.sniff(head)
            columns, preview = sniffed.columns, sniffed.preview
            suggested, delimiter = dict(sniffed.suggested), sniffed.delimiter
    except (eventlog.LogError, xes.XesError) as exc:
        raise LogInputError(str(exc)) from None
    finally:
        upload.seek(0)
    log = EventLog(
        organisation=organisation,
        process=process,
        upload_name=Path(upload.name).name[:255],
        upload_size=upload.size,
        columns=list(columns),
        preview=[dict(r) for r in preview],
        column_mapping={**suggested, "_delimiter": delimiter, "_format": source},
        stage="Waiting for the column mapping",
        requested_by=user if getattr(user, "is_authenticated", False) else None,
    )
    try:
        with transaction.atomic():
            log.upload.save(f"{log.pk}.{source}", upload, save=False)
            log.save()
    except BaseException:
        if log.upload:
            log.upload.delete(save=False)
        raise
    return log


def log_source(log: EventLog) -> str:
    """The file's format, xes or csv (logs stored before XES was read record none: CSV)."""
    return "xes" if log.column_mapping.get("_format") == "xes" else "csv"


def _sample_timestamps(log: EventLog, column: str) -> list[str]:
    """The column's values in the file's first rows (a partly read last line left out)."""
    if log_source(log) == "xes":
        with log.upload.open("rb") as handle:
            try:
                return xes.sample(handle, column)
            except xes.XesError as exc:
                raise LogInputError(str(exc)) from None
    with log.upload.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    lines = head.decode("utf-8-sig", errors="replace").splitlines()
    if len(head) >= HEAD_BYTES:
        lines = lines[:-1]
    delimiter = str(log.column_mapping.get("_delimiter", ","))
    reader = csv.DictReader(io.StringIO("\n".join(lines)), delimiter=delimiter)
    return [row.get(column) or "" for row in reader][:2000]


def log_map(
    *, log: EventLog, mapping: dict[str, str], time_zone: str, date_order: str, user: Any
) -> EventLog:
    """Record the mapping and queue the analysis. The date format is checked on the file's
    first rows now, so an ambiguous or unknown format is refused on the form, not in the job."""
    try:
        eventlog.detect_format(_sample_timestamps(log, mapping["timestamp"]), date_order)
    except eventlog.LogError as exc:
        raise LogInputError(str(exc)) from None
    with transaction.atomic():
        locked = EventLog.objects.select_for_update().get(pk=log.pk)
        if locked.mapped and not locked.done:
            raise LogInputError("This log is being analysed; wait for it to finish.")
        locked.column_mapping = {
            **mapping,
            "_delimiter": log.column_mapping.get("_delimiter", ","),
            "_format": log_source(log),
        }
        locked.time_zone = time_zone
        locked.date_order = date_order
        locked.mapped = True
        locked.status = BackgroundJob.Status.QUEUED
        locked.stage = "Waiting for a worker"
        locked.progress = 0
        locked.error = ""
        locked.analysis = {}
        locked.created_at = timezone.now()
        locked.finished_at = None
        locked.save()
        transaction.on_commit(lambda: log_enqueue(locked.pk))
    return locked


def task_sender(log_id: Any) -> Any:
    from assessments.processes.tasks import analyse_log

    return lambda: analyse_log.delay(str(log_id))


def log_enqueue(log_id: Any) -> bool:
    return job_enqueue(EventLog, log_id, task_sender(log_id))


def log_requeue_if_stuck(log: EventLog) -> None:
    if log.mapped:
        job_requeue_if_stuck(log, task_sender(log.pk))


class _Superseded(Exception):
    """This attempt no longer owns the log's job (another worker took it over)."""


def log_execute(*, log_id: str) -> Claim:
    """The task body: claim the log, analyse it in chunks with progress, record the result.
    Safe to run any number of times: one call per attempt claims it, one attempt finishes it."""
    claim = job_claim(EventLog, log_id)
    if not claim.claimed:
        logger.info("Event log %s not run here: %s", log_id, claim.outcome.value)
        return claim
    attempt = claim.attempt
    log = EventLog.objects.get(pk=log_id)
    last = 0.0

    def progress(stage: str, percent: int) -> None:
        nonlocal last
        if time.monotonic() - last < 1.0 and percent < 99:
            return
        last = time.monotonic()
        if not job_progress(EventLog, log_id, attempt, stage, percent):
            raise _Superseded

    mapping = {k: v for k, v in log.column_mapping.items() if not k.startswith("_")}
    options = eventlog.LogOptions(
        mapping=mapping, time_zone=log.time_zone, date_order=log.date_order
    )
    try:
        with job_running(EventLog, log_id, attempt), log.upload.open("rb") as handle:
            analysis = eventlog.analyse(
                handle,
                options,
                delimiter=str(log.column_mapping.get("_delimiter", ",")),
                total_bytes=log.upload_size,
                progress=progress,
                source=log_source(log),
            )
    except _Superseded:
        logger.warning("Event log %s attempt %s was taken over; stopping", log_id, attempt)
        return claim
    except eventlog.LogError as exc:
        job_fail(EventLog, log_id, str(exc), attempt=attempt)
        return claim
    except Exception as exc:
        logger.exception("Event log %s failed", log_id)
        job_fail(
            EventLog,
            log_id,
            f"The analysis failed unexpectedly ({type(exc).__name__}).",
            attempt=attempt,
        )
        return claim
    job_finish(EventLog, log_id, attempt, stage="Done", analysis=analysis)
    return claim


def log_apply(*, log: EventLog, user: Any, now: datetime | None = None) -> Process:
    """Fill in the catalogue entry from the log, each field marked as measured: runs a week,
    the rework rate as error rate, "an event log exists", and the most common path as steps
    when the entry has none yet. A new entry is made when the log is not linked to one."""
    if log.status != BackgroundJob.Status.SUCCEEDED or not log.analysis:
        raise LogInputError("Only an analysed log can fill in the catalogue.")
    now = now or timezone.now()
    values = eventlog.prefill(log.analysis)
    source = f"event log {log.upload_name}"
    with transaction.atomic():
        process = log.process
        if process is None:
            name = Path(log.upload_name).stem[:200] or "Measured process"
            taken = set(log.organisation.processes.values_list("name", flat=True))
            base, n = name, 2
            while name in taken:
                name = f"{base} ({n})"
                n += 1
            process = Process.objects.create(
                organisation=log.organisation,
                name=name,
                origin=Process.Origin.LOG,
                created_by=user if getattr(user, "is_authenticated", False) else None,
            )
            log.process = process
        process.runs_per_week = values["runs_per_week"]
        process.error_rate = values["error_rate"]
        process.recording = Process.Recording.TRACE
        stamp = {"source": source, "log": str(log.pk), "at": now.isoformat()}
        process.measured = {
            **(process.measured or {}),
            "runs_per_week": {
                **stamp,
                "label": "Runs per week",
                "display": f"{values['runs_per_week']:g}",
            },
            "error_rate": {
                **stamp,
                "label": "Rework rate (cases with a repeated activity)",
                "display": f"{values['error_rate']:g}%",
            },
            "recording": {**stamp, "label": "Recording or trace", "display": "an event log"},
        }
        process.updated_at = now
        process.save()
        if not process.steps.exists() and values["steps"]:
            start = (process.steps.aggregate(m=Max("position"))["m"] or 0) + 1
            ProcessStep.objects.bulk_create(
                ProcessStep(process=process, position=start + i, name=name[:200], measured=True)
                for i, name in enumerate(values["steps"][:50])
            )
            organisation_inputs_changed(process.organisation_id)
        log.applied_at = now
        log.save(update_fields=["process", "applied_at"])
    return process


def flow_figure(analysis: dict[str, Any]) -> go.Figure | None:
    """The top variants as a Sankey diagram, step by step from Start to End."""
    from reports.charts import plain

    data = eventlog.sankey(analysis)
    if not data["value"]:
        return None
    figure = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={
                "label": [plain(label) for label in data["labels"]],
                "pad": 14,
                "thickness": 14,
                "color": "#6c9fd8",
                "line": {"color": "#17202b", "width": 0.5},
            },
            link={
                "source": data["source"],
                "target": data["target"],
                "value": data["value"],
                "color": "rgba(29, 90, 166, 0.25)",
            },
        )
    )
    figure.update_layout(
        height=380,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        font={"family": "DejaVu Sans, Arial, sans-serif", "size": 12, "color": "#17202b"},
        paper_bgcolor="white",
    )
    return figure
