"""The catalogue's work across models: steps, CSV/XLSX exchange, the pilot backlog of an
assessment and the catalogue's coverage as evidence for scoring. Event logs are in `logs.py`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.humanize.templatetags.humanize import apnumber
from django.db import transaction
from django.db.models import Max, Prefetch
from django.utils import timezone

from assessments.inputs import organisation_inputs_changed
from assessments.models import Assessment, Organisation
from assessments.processes.core import coverage as coverage_rules
from assessments.processes.core import table
from assessments.processes.core.suitability import (
    BACKLOG_SIZE,
    Blocker,
    Coverage,
    GateView,
    PilotItem,
    RoadmapRef,
    Suitability,
    Unmet,
    assess,
    coverage,
    rank,
)
from assessments.processes.models import Process, ProcessStep
from scoring.evidence import EvidenceFinding

# Fields an event log can measure; editing one by hand makes it a claim again.
MEASURABLE = ("runs_per_week", "error_rate", "recording")


# --- Catalogue ---------------------------------------------------------------------------------


def catalogue(organisation: Organisation, team_ids: Sequence[Any] = ()) -> list[Process]:
    return list(
        Process.objects.filter(organisation=organisation)
        .for_scope(list(team_ids))
        .select_related("team")
        .prefetch_related(
            Prefetch("steps", queryset=ProcessStep.objects.order_by("position", "pk"))
        )
    )


def assessment_scope(assessment: Assessment) -> list[Any]:
    """The team ids an assessment covers (none: the whole organisation)."""
    return list(assessment.teams.values_list("pk", flat=True))


def process_saved(*, process: Process, changed: Iterable[str]) -> None:
    """After a hand edit: fields typed in by a person are claims, not measurements."""
    measured = dict(process.measured or {})
    for name in changed:
        measured.pop(name, None)
    process.measured = measured
    process.updated_at = timezone.now()
    process.save(update_fields=["measured", "updated_at"])


def step_add(*, process: Process, name: str, system: str, api: str, decides: bool) -> ProcessStep:
    with transaction.atomic():
        Process.objects.select_for_update().filter(pk=process.pk).first()
        last = process.steps.aggregate(m=Max("position"))["m"]
        return process.steps.create(
            name=name,
            system=system,
            api=api,
            decides=decides,
            position=(last or 0) + 1,
        )


def step_move(*, step: ProcessStep, offset: int) -> None:
    """Move a step up (-1) or down (+1); positions are renumbered 1..n."""
    with transaction.atomic():
        Process.objects.select_for_update().filter(pk=step.process_id).first()
        steps = list(
            ProcessStep.objects.filter(process_id=step.process_id).order_by("position", "pk")
        )
        index = next(i for i, s in enumerate(steps) if s.pk == step.pk)
        target = max(0, min(len(steps) - 1, index + offset))
        steps.insert(target, steps.pop(index))
        for position, s in enumerate(steps, start=1):
            if s.position != position:
                s.position = position
                s.save(update_fields=["position"])


def step_delete(*, step: ProcessStep) -> None:
    with transaction.atomic():
        Process.objects.select_for_update().filter(pk=step.process_id).first()
        process_id = step.process_id
        step.delete()
        for position, s in enumerate(
            ProcessStep.objects.filter(process_id=process_id).order_by("position", "pk"), start=1
        ):
            if s.position != position:
                s.position = position
                s.save(update_fields=["position"])


# --- CSV and XLSX ----------------------------------------------------------------------------


def _row(process: Process) -> table.ProcessRow:
    return table.ProcessRow(
        row_number=0,
        name=process.name,
        team=process.team.name if process.team else "",
        owner=process.owner,
        trigger=process.trigger,
        outcome=process.outcome,
        steps=tuple(table.StepRow(s.name, s.system, s.api, s.decides) for s in process.steps.all()),
        runs_per_week=process.runs_per_week,
        minutes_per_run=process.minutes_per_run,
        error_rate=process.error_rate,
        verification=process.verification,
        reversibility=process.reversibility,
        blast_radius=int(process.blast_radius),
        doc_url=process.doc_url,
        recording=process.recording,
    )


def catalogue_export(*, organisation: Organisation, fmt: str) -> bytes:
    rows = [_row(p) for p in catalogue(organisation)]
    return table.write_xlsx(rows) if fmt == "xlsx" else table.write_csv(rows)


def catalogue_template(*, fmt: str) -> bytes:
    rows = [table.EXAMPLE]
    return table.write_xlsx(rows, with_help=True) if fmt == "xlsx" else table.write_csv(rows)


@dataclass(frozen=True)
class ImportReport:
    created: int
    updated: int
    problems: tuple[str, ...]
    total_rows: int
    unknown_columns: tuple[str, ...]


def catalogue_import(
    *, organisation: Organisation, data: bytes, filename: str, user: Any
) -> ImportReport:
    """Create or update (by name) a process per good row; a row with a problem imports
    nothing and is listed. Raises table.TableError when the file cannot be read at all."""
    header, raw_rows = table.read_table(data, filename)
    teams = {t.name: t for t in organisation.teams.all()}
    parsed = table.parse_rows(header, raw_rows, teams=set(teams))
    created = updated = 0
    existing = {p.name.lower(): p for p in organisation.processes.all()}
    for row in parsed.rows:
        with transaction.atomic():
            process = existing.get(row.name.lower())
            is_new = process is None
            if process is None:
                process = Process(
                    organisation=organisation,
                    origin=Process.Origin.IMPORTED,
                    created_by=user if getattr(user, "is_authenticated", False) else None,
                )
            values = {
                "name": row.name,
                "team": teams.get(row.team) if row.team else None,
                "owner": row.owner,
                "trigger": row.trigger,
                "outcome": row.outcome,
                "runs_per_week": row.runs_per_week,
                "minutes_per_run": row.minutes_per_run,
                "error_rate": row.error_rate,
                "verification": row.verification,
                "reversibility": row.reversibility,
                "blast_radius": row.blast_radius,
                "doc_url": row.doc_url,
                "recording": row.recording,
            }
            changed = [k for k, v in values.items() if getattr(process, k) != v]
            for key, value in values.items():
                setattr(process, key, value)
            measured = dict(process.measured or {})
            for name in changed:
                measured.pop(name, None)
            process.measured = measured
            process.updated_at = timezone.now()
            process.save()
            old_steps = [
                (s.name, s.system, s.api, s.decides) for s in process.steps.order_by("position")
            ]
            new_steps = [(s.name, s.system, s.api, s.decides) for s in row.steps]
            if old_steps != new_steps:
                process.steps.all().delete()
                ProcessStep.objects.bulk_create(
                    ProcessStep(
                        process=process,
                        position=i,
                        name=s.name,
                        system=s.system,
                        api=s.api,
                        decides=s.decides,
                    )
                    for i, s in enumerate(row.steps, start=1)
                )
                organisation_inputs_changed(organisation.pk)
            existing[row.name.lower()] = process
            created += is_new
            updated += not is_new
    return ImportReport(
        created=created,
        updated=updated,
        problems=tuple(str(p) for p in parsed.problems),
        total_rows=parsed.total_rows,
        unknown_columns=parsed.unknown_columns,
    )


# --- Suitability, coverage and the pilot backlog -----------------------------------------------


def suitability_for(processes: Sequence[Process]) -> dict[Any, Suitability]:
    return {p.pk: assess(p.facts()) for p in processes}


def coverage_for(assessment: Assessment) -> Coverage:
    return coverage(
        [p.facts() for p in catalogue(assessment.organisation, assessment_scope(assessment))]
    )


def evidence_for(assessment: Assessment) -> list[EvidenceFinding]:
    """The catalogue's coverage as findings on the process capabilities of the assessment's
    rubric (none when the rubric has no such capability or the catalogue is empty)."""
    capability_ids = {c.id for c in assessment.rubric.capabilities}
    return coverage_rules.findings(coverage_for(assessment), capability_ids)


def _ladder(result: dict[str, Any]) -> list[GateView]:
    autonomy = result.get("autonomy") or {}
    granted = autonomy.get("granted_index", -1)
    ladder = []
    for index, step in enumerate(autonomy.get("steps") or []):
        gate = step.get("gate") or {}
        missing = step.get("missing") or []
        ladder.append(
            GateView(
                id=str(gate.get("id", "")),
                title=str(gate.get("title", "")),
                granted=index <= granted,
                missing=tuple(
                    (str(m["capability_id"]), m.get("current"), int(m["required"]))
                    for m in missing
                    if m.get("kind", "capability") == "capability"
                ),
                # Question minimums, scan evidence, review headroom and track record
                # (rubric version 2) block a pilot as surely as a level does.
                unmet=tuple(
                    Unmet(
                        kind=str(m["kind"]),
                        capability_id=str(m["capability_id"]),
                        subject=str(m.get("subject", "")),
                        label=_unmet_label(m),
                    )
                    for m in missing
                    if m.get("kind", "capability") != "capability"
                ),
            )
        )
    return ladder


def _unmet_label(missing: dict[str, Any]) -> str:
    label = str(missing.get("label") or missing.get("subject", ""))
    if missing.get("kind") == "answer":
        current = missing.get("current")
        return f"{label} (now {current if current is not None else 'no answers'})"
    return label


def backlog(assessment: Assessment, result: dict[str, Any]) -> list[PilotItem]:
    """Every catalogued process in the assessment's scope, best pilot first, with the gate
    each pilot needs read from the result's autonomy ladder and its blockers linked to the
    result's roadmap."""
    processes = catalogue(assessment.organisation, assessment_scope(assessment))
    titles = {c["id"]: c["title"] for c in result.get("capabilities", [])}
    roadmap = [
        RoadmapRef(int(i["position"]), str(i["id"]), str(i["title"]), str(i["capability_id"]))
        for i in result.get("roadmap", [])
    ]
    return rank(
        [p.facts() for p in processes],
        ladder=_ladder(result),
        capability_titles=titles,
        roadmap=roadmap,
    )


def _shared_blockers(items: list[PilotItem]) -> tuple[list[Blocker], str]:
    """The blockers shared by every pilot that is blocked at all (when there are several), in
    the first one's order, and who they are ("All four pilots", "Pilots 1, 2 and 4"): the
    report prints them once instead of repeating one long list under each pilot."""
    blocked = [i for i in items if i.blockers]
    if len(blocked) < 2:
        return [], ""
    rest = [set(i.blockers) for i in blocked[1:]]
    shared = [b for b in blocked[0].blockers if all(b in other for other in rest)]
    if len(blocked) == len(items):
        who = f"All {apnumber(len(items))} pilots"
    else:
        ranks = [str(i.rank) for i in blocked]
        who = f"Pilots {', '.join(ranks[:-1])} and {ranks[-1]}"
    return shared, who


def backlog_context(assessment: Assessment, result: dict[str, Any]) -> dict[str, Any]:
    """What the results page, the report and the exports show about processes."""
    items = backlog(assessment, result)
    cov = coverage_for(assessment)
    measured = [
        p for p in catalogue(assessment.organisation, assessment_scope(assessment)) if p.measured
    ]
    logs = []
    for process in measured:
        log = process.event_logs.filter(status="succeeded").order_by("-finished_at").first()
        if log is not None and log.analysis:
            logs.append({"process": process, "log": log, "analysis": log.analysis})
    top = items[:BACKLOG_SIZE]
    shared, shared_by = _shared_blockers(top)
    return {
        "items": items,
        "top": top,
        "shared_blockers": shared,
        "shared_by": shared_by,
        # Per pilot (by rank), what blocks it beyond the shared list.
        "own_blockers": {i.rank: [b for b in i.blockers if b not in shared] for i in top},
        "coverage": cov,
        "measured_logs": logs,
        "organisation": assessment.organisation,
    }


def backlog_rows(assessment: Assessment, result: dict[str, Any]) -> list[dict[str, Any]]:
    """The backlog as plain rows for CSV/XLSX exports."""
    rows = []
    for item in backlog(assessment, result):
        s = item.suitability
        rows.append(
            {
                "rank": item.rank,
                "process": s.name,
                "pilot_score": s.pilot_score,
                "suitability": s.suitability,
                **{f.id: f.value for f in s.factors},
                "value_hours_per_week": round(s.value_minutes / 60, 2),
                "risk": s.risk,
                "gate": item.gate.title if item.gate else "",
                "gate_granted": item.gate.granted if item.gate else None,
                "blocked_on": "; ".join(
                    f"{b.title} (level {b.current or 'no data'} of {b.required})"
                    if b.kind == "capability"
                    else b.label
                    for b in item.blockers
                ),
                "first_step": item.first_step,
                "why": item.why,
            }
        )
    return rows


def report_fingerprint(assessment: Assessment, result: dict[str, Any]) -> dict[str, Any]:
    """Everything the report shows about processes, as plain data: a stored PDF is reused only
    while this is unchanged."""
    context = backlog_context(assessment, result)
    return {
        "backlog": backlog_rows(assessment, result),
        "coverage": vars(context["coverage"]),
        "measured": [
            {"process": m["process"].name, "log": str(m["log"].pk), "at": str(m["log"].finished_at)}
            for m in context["measured_logs"]
        ],
    }


# --- What respondents say about the processes they run ----------------------------------------

MAX_SUGGESTIONS = 3


@dataclass(frozen=True)
class Suggestion:
    name: str
    respondents: int
    runs_per_week: float | None
    minutes_per_run: float | None
    notes: tuple[str, ...]


def respondent_reports_save(
    *,
    respondent: Any,
    confirmed: dict[Any, tuple[float | None, float | None]],
    suggestions: Sequence[tuple[str, float | None, float | None, str]],
) -> None:
    """Replace what this respondent said: processes of the catalogue they run (by id, with
    optional runs a week and minutes a run) and up to three processes not listed."""
    from assessments.processes.models import ProcessReport

    assessment = respondent.assessment
    allowed = {p.pk: p for p in catalogue(assessment.organisation, assessment_scope(assessment))}
    with transaction.atomic():
        ProcessReport.objects.filter(respondent=respondent).delete()
        ProcessReport.objects.bulk_create(
            [
                ProcessReport(
                    respondent=respondent,
                    process=allowed[pk],
                    name=allowed[pk].name,
                    runs_per_week=runs,
                    minutes_per_run=minutes,
                )
                for pk, (runs, minutes) in confirmed.items()
                if pk in allowed
            ]
            + [
                ProcessReport(
                    respondent=respondent,
                    name=name[:200],
                    runs_per_week=runs,
                    minutes_per_run=minutes,
                    note=note[:500],
                )
                for name, runs, minutes, note in suggestions[:MAX_SUGGESTIONS]
                if name.strip()
            ]
        )


def _median(values: Sequence[float | None]) -> float | None:
    known = sorted(v for v in values if v is not None)
    if not known:
        return None
    middle = len(known) // 2
    return known[middle] if len(known) % 2 else (known[middle - 1] + known[middle]) / 2


def respondent_summary(organisation: Organisation) -> dict[str, Any]:
    """Confirmations per catalogued process and the processes respondents added, grouped by
    name (case-insensitive); counts and medians only, never who said what."""
    from assessments.processes.models import ProcessReport

    reports = list(
        ProcessReport.objects.filter(respondent__assessment__organisation=organisation)
        .select_related("process")
        .order_by("created_at")
    )
    confirmed: dict[Any, list[ProcessReport]] = {}
    suggested: dict[str, list[ProcessReport]] = {}
    existing = {p.name.lower() for p in organisation.processes.all()}
    for report in reports:
        if report.process_id:
            confirmed.setdefault(report.process_id, []).append(report)
        elif report.name.lower() not in existing:
            suggested.setdefault(report.name.strip().lower(), []).append(report)
    return {
        "confirmed": {
            pk: {
                "respondents": len(rows),
                "runs_per_week": _median([r.runs_per_week for r in rows]),
                "minutes_per_run": _median([r.minutes_per_run for r in rows]),
            }
            for pk, rows in confirmed.items()
        },
        "suggestions": sorted(
            (
                Suggestion(
                    name=rows[0].name.strip(),
                    respondents=len(rows),
                    runs_per_week=_median([r.runs_per_week for r in rows]),
                    minutes_per_run=_median([r.minutes_per_run for r in rows]),
                    notes=tuple(r.note for r in rows if r.note)[:5],
                )
                for rows in suggested.values()
            ),
            key=lambda s: (-s.respondents, s.name.lower()),
        ),
    }


def suggestion_accept(*, organisation: Organisation, name: str, user: Any) -> Process:
    """Add a process respondents named to the catalogue, with their median figures."""
    summary = respondent_summary(organisation)
    match = next(
        (s for s in summary["suggestions"] if s.name.lower() == name.strip().lower()), None
    )
    if match is None:
        raise LookupError(name)
    return Process.objects.create(
        organisation=organisation,
        name=match.name[:200],
        runs_per_week=match.runs_per_week,
        minutes_per_run=match.minutes_per_run,
        origin=Process.Origin.RESPONDENT,
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
