"""Gates and process rules read in the test itself (not only at import, where a mutation test
cannot see them), and the edges of evaluate, reach and detector_status a user would notice."""

from __future__ import annotations

import pytest

from scoring import autonomy as gates
from scoring.autonomy import (
    GateInputs,
    ProcessRule,
    ProcessScope,
    detector_status,
    evaluate,
    load_gates_text,
    reach,
)
from scoring.rubric import RubricError, get_rubric

RUBRIC = get_rubric("operationalization", 2)
HEAD = "rubric: operationalization-2\ngates:\n  - {id: base, title: Base}\n"


def _two_steps(requires: str = "{dep.agent-runtime: 3}", rule: str = "") -> str:
    text = HEAD + f"  - id: next\n    title: Next\n    requires: {requires}\n"
    return text + (f"    requires_process: {rule}\n" if rule else "")


def _process(**facts: object) -> ProcessScope:
    base: dict[str, object] = {
        "verification": "automated",
        "reversibility": "reversible",
        "blast_radius": 1,
        "documented": True,
    }
    base.update(facts)
    return ProcessScope(name="Refunds", **base)  # type: ignore[arg-type]


def test_the_shipped_gates_and_rules_read_from_their_file_hold_back_an_irreversible_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(gates, "_CACHE", {})
    monkeypatch.setattr(gates, "_RULES", {})
    ladder = gates.get_gates(RUBRIC)
    rules = gates.get_process_rules(RUBRIC)
    assert ladder[-1].id == "unattended-processes"
    detectors = {r.subject for g in ladder for r in g.requires if r.kind == "evidence"}
    org = evaluate(
        gates=ladder,
        levels={c.id: 5 for c in RUBRIC.capabilities},
        inputs=GateInputs(
            answers={q.id: 5.0 for q in RUBRIC.questions},
            evidence=dict.fromkeys(detectors, "found"),
            review_utilisation=0.5,
            facts={"fact.months-at-current-autonomy": 12},
        ),
    )
    assert org is not None and org.granted.id == "unattended-processes"
    where = reach(
        autonomy=org, processes=[_process(reversibility="irreversible")], process_rules=rules
    )
    assert ladder[where.scopes[0].granted_index].id == "supervised-processes"
    assert where.scopes[0].missing == (
        "fully reversible or reversible with effort (now cannot be undone)",
    )


def test_a_process_rule_may_leave_out_documented() -> None:
    ladder = load_gates_text(_two_steps(rule="{verification: [automated]}"), RUBRIC)
    assert [g.id for g in ladder] == ["base", "next"]


@pytest.mark.parametrize("rule", ["{}", "{verification: [automated], signed: true}", "[automated]"])
def test_an_empty_or_unknown_process_rule_is_refused_naming_the_keys(rule: str) -> None:
    with pytest.raises(RubricError) as error:
        load_gates_text(_two_steps(rule=rule), RUBRIC)
    assert (
        "gates[1].requires_process: must map some of documented, max_blast_radius, "
        "reversibility, verification to values"
    ) in str(error.value)


def test_an_unanswered_capability_does_not_meet_even_level_one() -> None:
    ladder = load_gates_text(_two_steps("{dep.agent-runtime: 1}"), RUBRIC)
    autonomy = evaluate(gates=ladder, levels={"dep.agent-runtime": None})
    assert autonomy is not None and autonomy.granted.id == "base"
    assert [(s.capability_id, s.current, s.required) for s in autonomy.missing_for_next] == [
        ("dep.agent-runtime", None, 1)
    ]


def test_the_granted_gate_holds_organisation_wide_and_the_next_does_not() -> None:
    ladder = load_gates_text(_two_steps(), RUBRIC)
    for level, held in ((3, (True, True)), (2, (True, False))):
        autonomy = evaluate(gates=ladder, levels={"dep.agent-runtime": level})
        assert autonomy is not None
        assert tuple(g.organisation for g in reach(autonomy=autonomy).gates) == held


def test_a_control_missing_in_one_scan_is_absent_whatever_the_order() -> None:
    for pairs in (
        [("repo.ci", "absent"), ("repo.ci", "found")],
        [("repo.ci", "found"), ("repo.ci", "absent"), ("repo.ci", "unknown")],
    ):
        assert detector_status(pairs) == {"repo.ci": "absent"}
    assert detector_status([("repo.ci", "unknown"), ("repo.ci", "found")]) == {"repo.ci": "found"}


def test_a_process_value_the_tables_do_not_know_is_shown_as_stored() -> None:
    rules = {"next": ProcessRule(("automated",), ("reversible",), 1, False)}
    ladder = load_gates_text(_two_steps(), RUBRIC)
    autonomy = evaluate(gates=ladder, levels={"dep.agent-runtime": 3})
    assert autonomy is not None
    process = _process(verification="peer_review", reversibility="partly", blast_radius=7)
    where = reach(autonomy=autonomy, processes=[process], process_rules=rules)
    assert where.scopes[0].missing == (
        "checked by automated tests or checks (now peer_review)",
        "fully reversible (now partly)",
        "a mistake reaches at most one person or team (now 7)",
    )


def test_an_evidence_requirement_reads_found_absent_and_not_determined_apart() -> None:
    from scoring.autonomy import GateInputs, Requirement, _check_other

    requirement = Requirement("c", 0, kind="evidence", subject="det.x")
    observed = {
        status: _check_other(requirement, GateInputs(evidence={"det.x": status})).observed
        for status in ("found", "absent", "unknown")
    }
    # A scan that could not tell is not counted as a scan that found the practice missing.
    assert observed == {"found": 1.0, "absent": 0.0, "unknown": None}
    assert _check_other(requirement, GateInputs()).observed is None
