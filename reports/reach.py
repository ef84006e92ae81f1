"""Where each autonomy gate holds: the organisation, each scanned repository, each catalogued
process. The rules are scoring.autonomy.reach; this adapter reads the scans and the process
catalogue and turns the answer into what the results page and the report show."""

from __future__ import annotations

from typing import Any

from assessments.models import Assessment
from assessments.processes import services as processes
from assessments.scans import services as scans
from assessments.scans.engine.detectors import practice_titles
from scoring import autonomy as gates
from scoring.autonomy import Autonomy
from scoring.result import ResultFormatError, from_plain


def _repositories(assessment: Assessment) -> dict[str, dict[str, str]]:
    """Per scanned repository (by its label), the state of each detector its scan ran."""
    labels = {
        str(s.pk): s.label
        for s in assessment.scan_sources.all()
        if not s.is_export and s.current_run_id is not None
    }
    pairs: dict[str, list[tuple[str, str]]] = {}
    for finding in scans.evidence_for(assessment):
        if finding.source in labels:
            pairs.setdefault(finding.source, []).append((finding.detector, finding.status))
    named: dict[str, dict[str, str]] = {}
    for source, found in pairs.items():
        name = labels[source]
        # Two sources may carry one label (an archive and the GitHub API of one repository):
        # they are one repository, and a control must hold in both.
        named[name] = gates.detector_status([*named.get(name, {}).items(), *found])
    return named


def _processes(assessment: Assessment) -> list[gates.ProcessScope]:
    return [
        gates.ProcessScope(
            name=p.name,
            verification=p.verification,
            reversibility=p.reversibility,
            blast_radius=int(p.blast_radius),
            documented=bool(p.doc_url),
        )
        for p in processes.catalogue(
            assessment.organisation, processes.assessment_scope(assessment)
        )
    ]


def gate_reach(assessment: Assessment, result: dict[str, Any]) -> dict[str, Any] | None:
    """Per gate: whether it holds organisation-wide and for which repositories and processes;
    per repository and process: the highest gate it holds and what the next one lacks. None
    for a rubric without gates, or when there is neither a scanned repository nor a process."""
    data = result.get("autonomy")
    if not data:
        return None
    repositories = _repositories(assessment)
    catalogued = _processes(assessment)
    if not repositories and not catalogued:
        return None
    try:
        autonomy = from_plain(Autonomy, data, "autonomy")
    except ResultFormatError:
        return None
    found = gates.reach(
        autonomy=autonomy,
        repositories=repositories,
        processes=catalogued,
        process_rules=gates.get_process_rules(assessment.rubric),
        evidence_titles=practice_titles(),
    )
    titles = [g.gate.title for g in found.gates]
    return {
        "gates": [
            {
                "id": g.gate.id,
                "title": g.gate.title,
                "organisation": g.organisation,
                "repositories": list(g.repositories),
                "processes": list(g.processes),
            }
            for g in found.gates[1:]  # the baseline holds everywhere
        ],
        "scopes": [
            {
                "kind": s.kind,
                "name": s.name,
                "gate": titles[s.granted_index],
                "next": titles[s.granted_index + 1] if s.granted_index + 1 < len(titles) else "",
                "missing": list(s.missing),
            }
            for s in found.scopes
        ],
        "repositories": len(repositories),
        "processes": len(catalogued),
    }
