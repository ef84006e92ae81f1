"""Rubric versions side by side: version 1 keeps scoring as it did, version 2 is the default."""

from __future__ import annotations

import json
from typing import Any

from scoring.autonomy import get_gates
from scoring.recommendations import shipped_catalogue
from scoring.rubric import DEFAULT_RUBRIC, get_rubric
from tests.scoring import v1_fixture


def _contained(stored: Any, now: Any, path: str = "") -> list[str]:
    """Where `stored` differs from `now`; keys added since (new fields with defaults) are
    allowed, a changed or removed value is not."""
    if isinstance(stored, dict):
        if not isinstance(now, dict):
            return [path]
        problems = []
        for key, value in stored.items():
            if key == "engine_version":  # a digest of the engine's source: changes by design
                continue
            if key not in now:
                problems.append(f"{path}.{key} removed")
            else:
                problems += _contained(value, now[key], f"{path}.{key}")
        return problems
    if isinstance(stored, list):
        if not isinstance(now, list) or len(stored) != len(now):
            return [f"{path} length"]
        problems = []
        for index, (a, b) in enumerate(zip(stored, now, strict=True)):
            problems += _contained(a, b, f"{path}[{index}]")
        return problems
    return [] if stored == now else [f"{path}: {stored!r} -> {now!r}"]


def test_a_version_1_assessment_scores_exactly_as_its_stored_result() -> None:
    stored = json.loads(v1_fixture.STORED.read_text())
    now = json.loads(json.dumps(v1_fixture.score().to_dict()))
    assert _contained(stored, now) == []


def test_new_assessments_get_version_2_and_version_1_stays_installed() -> None:
    assert DEFAULT_RUBRIC == ("operationalization", 2)
    assert get_rubric("operationalization", 1).version == 1


def test_gates_and_catalogue_are_versioned_with_the_rubric() -> None:
    v1, v2 = get_rubric("operationalization", 1), get_rubric("operationalization", 2)
    assert [g.id for g in get_gates(v1)] == [
        "suggest-only",
        "pull-requests-with-review",
        "auto-merge-low-risk",
        "unattended-processes",
    ]
    assert [g.id for g in get_gates(v2)] == [
        "suggest-only",
        "pull-requests-with-review",
        "auto-merge-low-risk",
        "supervised-processes",
        "unattended-processes",
    ]
    one, two = shipped_catalogue(v1), shipped_catalogue(v2)
    assert one is not None and two is not None
    assert one.rubric_key == "operationalization-1"
    assert two.rubric_key == "operationalization-2"


# --- Version 2's content ----------------------------------------------------------------------

V2 = get_rubric("operationalization", 2)
NEW_CAPABILITIES = {
    "int.agent-security": {"owasp-llm", "owasp-agentic", "nist-ai-rmf", "aws-agentic-scoping"},
    "int.model-data": {"owasp-llm", "nist-ai-rmf", "aws-agentic-scoping"},
    "dep.agent-containment": {"owasp-agentic", "nist-ai-rmf", "aws-agentic-scoping"},
    "rev.review-integrity": {"owasp-agentic", "nist-ai-rmf", "aws-agentic-scoping"},
}


def test_version_2_keeps_every_version_1_capability_and_adds_the_missing_coverage() -> None:
    v1 = get_rubric("operationalization", 1)
    assert {c.id for c in v1.capabilities} <= {c.id for c in V2.capabilities}
    for capability_id, frameworks in NEW_CAPABILITIES.items():
        capability = V2.capability(capability_id)
        assert 2 <= len(capability.questions) <= 4, capability_id
        assert frameworks <= set(capability.crosswalk), capability_id
    asked = {q.id for q in V2.questions}
    # Cost caps, the agent register, enablement, users, rework: each asked by a question.
    assert {
        "obs.agent-runs.cost",
        "dep.ai-governance.register",
        "dep.ai-governance.enablement",
        "obs.delivery-measurement.user-outcomes",
        "obs.delivery-measurement.agent-acceptance",
        "dep.agent-containment.hand-over",
    } <= asked


def test_version_2_follows_the_authoring_rules_a_program_can_check() -> None:
    from scoring.rubric import authoring_problems

    assert authoring_problems(V2) == []
    assert authoring_problems(get_rubric("operationalization", 1)) == []


def test_the_duplicated_and_hypothetical_questions_are_gone() -> None:
    asked = {q.id for q in V2.questions}
    assert "rev.flow-capacity.size" not in asked  # dep.ci-small-batches.batch-size asks it
    assert "rev.flow-capacity.load" not in asked  # "if agents doubled..." became what happened
    assert not [q.id for q in V2.questions if q.text.lower().startswith("if ")]


def test_change_failure_bands_leave_no_gap_and_meet_the_scan_threshold() -> None:
    levels = V2.question("dep.safe-release.failure-rate").levels
    # Every rate from 0 to 100% falls in exactly one band: 30% is level 2's lower edge
    # (more than 30%) and level 3's upper edge (at most 30%); 15%, the scan's "good"
    # threshold, is level 4's upper edge.
    assert "More than 30%" in levels[2]
    assert "More than 15% and at most 30%" in levels[3]
    assert "at most 15%" in levels[4]
    assert "5% or less" in levels[5]
    recovery = V2.question("dep.safe-release.recovery-time").levels
    assert "at most a day" in recovery[3] and "More than a day" in recovery[2]


def test_every_crosswalk_claims_a_framework_the_capability_really_addresses() -> None:
    # Entries removed in version 2 after checking them one by one: agent identity is not the
    # AI stance, and dangerous workflows belong to agent security.
    identity = V2.capability("int.agent-identity").crosswalk
    assert "dora-ai" not in identity
    assert "dangerous-workflow" not in identity.get("openssf-scorecard", ())
    assert (
        "dangerous-workflow" in V2.capability("int.agent-security").crosswalk["openssf-scorecard"]
    )
    # The user-centric focus the crosswalk claims is now asked by a question for product.
    measurement = V2.capability("obs.delivery-measurement")
    assert measurement.crosswalk["dora-ai"] == ("user-centric-focus",)
    assert "product" in V2.question("obs.delivery-measurement.user-outcomes").audience


def test_the_version_2_catalogue_covers_every_capability_and_merges_the_duplicate() -> None:
    catalogue = shipped_catalogue(V2)
    assert catalogue is not None and catalogue.ordering == "gates"
    per_capability: dict[str, int] = {}
    for rec in catalogue.items.values():
        per_capability[rec.capability_id] = per_capability.get(rec.capability_id, 0) + 1
    assert {c.id for c in V2.capabilities if per_capability.get(c.id, 0) < 2} == set()
    # "Enforce small pull requests" repeated "work in small batches" on a removed question.
    assert "rec.rev.small-pull-requests" not in catalogue.items
    # The moves from level 3 to 4 exist: triggered by answers at level 3.
    three_to_four = [
        r.id
        for r in catalogue.items.values()
        if r.raises_to == 4 and any(c.kind == "answer_at_most" and c.value == 3 for c in r.trigger)
    ]
    assert len(three_to_four) >= 5
