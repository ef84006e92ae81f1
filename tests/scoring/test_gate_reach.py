"""Where each autonomy gate holds: per scanned repository and per catalogued process, beside
the organisation as a whole (scoring.autonomy.reach)."""

from __future__ import annotations

import pytest

from scoring.autonomy import (
    GateInputs,
    ProcessScope,
    detector_status,
    evaluate,
    get_gates,
    get_process_rules,
    load_gates_text,
    reach,
)
from scoring.rubric import RubricError, get_rubric

RUBRIC = get_rubric("operationalization", 2)
GATES = get_gates(RUBRIC)
RULES = get_process_rules(RUBRIC)
DETECTORS = sorted({r.subject for g in GATES for r in g.requires if r.kind == "evidence"})


def _autonomy(evidence: dict[str, str]):  # type: ignore[no-untyped-def]
    """An organisation at level 5 on every answer and capability, with this scan evidence."""
    autonomy = evaluate(
        gates=GATES,
        levels={c.id: 5 for c in RUBRIC.capabilities},
        inputs=GateInputs(
            answers={q.id: 5.0 for q in RUBRIC.questions},
            evidence=evidence,
            review_utilisation=0.5,
            facts={"fact.months-at-current-autonomy": 12},
        ),
    )
    assert autonomy is not None
    return autonomy


def _process(name: str, **facts: object) -> ProcessScope:
    base: dict[str, object] = {
        "verification": "automated",
        "reversibility": "reversible",
        "blast_radius": 1,
        "documented": True,
    }
    base.update(facts)
    return ProcessScope(name=name, **base)  # type: ignore[arg-type]


def test_a_repository_without_branch_protection_holds_back_only_itself() -> None:
    good = dict.fromkeys(DETECTORS, "found")
    bad = {**good, "github.branch-protection": "absent"}
    org = _autonomy(detector_status([(d, s) for r in (good, bad) for d, s in r.items()]))
    # Organisation-wide, one unprotected repository blocks agent pull requests everywhere...
    assert org.granted.id == "suggest-only"
    where = reach(
        autonomy=org,
        repositories={"api": good, "legacy": bad},
        evidence_titles={"github.branch-protection": "The default branch is protected"},
    )
    by_id = {g.gate.id: g for g in where.gates}
    # ...but the protected repository holds every step, the unprotected one only the baseline.
    assert by_id["unattended-processes"].repositories == ("api",)
    assert by_id["pull-requests-with-review"].repositories == ("api",)
    assert by_id["suggest-only"].repositories == ("api", "legacy")
    assert not by_id["pull-requests-with-review"].organisation
    legacy = next(s for s in where.scopes if s.name == "legacy")
    assert legacy.granted_index == 0
    # Named by the practice the scan looks for, and what the scan said.
    assert legacy.missing == ("a scan finds \u201cThe default branch is protected\u201d (absent)",)


def test_a_repository_never_scanned_for_a_control_does_not_hold_its_gate() -> None:
    partial = {d: "found" for d in DETECTORS if not d.startswith("github.")}
    org = _autonomy(dict.fromkeys(DETECTORS, "found"))
    where = reach(autonomy=org, repositories={"archive-only": partial})
    scope = where.scopes[0]
    assert scope.granted_index == 0
    # With no title known, the detector's id stands in.
    assert "a scan finds \u201cgithub.branch-protection\u201d (not scanned)" in scope.missing


def test_organisation_wide_shortfalls_hold_back_every_repository() -> None:
    autonomy = evaluate(
        gates=GATES,
        levels={c.id: 5 for c in RUBRIC.capabilities},
        inputs=GateInputs(
            answers={q.id: 5.0 for q in RUBRIC.questions},
            evidence=dict.fromkeys(DETECTORS, "found"),
            review_utilisation=0.95,  # the review wall: no spare capacity for agent PRs
            facts={"fact.months-at-current-autonomy": 12},
        ),
    )
    assert autonomy is not None
    where = reach(autonomy=autonomy, repositories={"api": dict.fromkeys(DETECTORS, "found")})
    assert where.scopes[0].granted_index == 0
    assert where.scopes[0].missing == ("1 organisation-wide requirement",)


@pytest.mark.parametrize(
    ("facts", "highest", "reason"),
    [
        ({}, "unattended-processes", ""),
        (
            {"reversibility": "irreversible"},
            "supervised-processes",
            "fully reversible or reversible with effort (now cannot be undone)",
        ),
        (
            {"verification": "checklist"},
            "supervised-processes",
            "checked by automated tests or checks (now a checklist)",
        ),
        (
            {"blast_radius": 4},
            "auto-merge-low-risk",
            "a mistake reaches at most customers or partners (now money, legal or safety)",
        ),
        (
            {"documented": False, "blast_radius": 3, "verification": "checklist"},
            "auto-merge-low-risk",
            "written down where a newcomer can find it",
        ),
    ],
)
def test_a_process_holds_the_gates_its_own_risk_allows(
    facts: dict[str, object], highest: str, reason: str
) -> None:
    org = _autonomy(dict.fromkeys(DETECTORS, "found"))
    assert org.granted.id == "unattended-processes"
    where = reach(autonomy=org, processes=[_process("Refunds", **facts)], process_rules=RULES)
    scope = where.scopes[0]
    assert GATES[scope.granted_index].id == highest
    assert (reason in scope.missing) if reason else scope.missing == ()


def test_a_process_never_holds_a_gate_the_organisation_does_not() -> None:
    org = _autonomy({**dict.fromkeys(DETECTORS, "found"), "repo.agent-tracing": "absent"})
    assert org.granted.id == "auto-merge-low-risk"
    where = reach(autonomy=org, processes=[_process("Release notes")], process_rules=RULES)
    assert GATES[where.scopes[0].granted_index].id == "auto-merge-low-risk"
    by_id = {g.gate.id: g for g in where.gates}
    assert by_id["supervised-processes"].processes == ()
    assert by_id["auto-merge-low-risk"].processes == ("Release notes",)


def test_a_bad_process_rule_is_refused_with_its_path() -> None:
    text = (
        "rubric: operationalization-2\n"
        "gates:\n"
        "  - {id: base, title: Base}\n"
        "  - id: next\n"
        "    title: Next\n"
        "    requires: {dep.agent-runtime: 3}\n"
        "    requires_process: {verification: [robots], max_blast_radius: 9}\n"
    )
    with pytest.raises(RubricError) as error:
        load_gates_text(text, RUBRIC)
    assert "gates[1].requires_process.verification" in str(error.value)
