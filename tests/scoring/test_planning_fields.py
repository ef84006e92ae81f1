"""Every version 2 recommendation carries what a plan needs: the first 30 days, when it is done,
who owns it, its effort in person-weeks, the level it raises and the gate it is for; the
validator requires them from version 2 on and checks the gate, and version 1 stays valid."""

from __future__ import annotations

import pytest
import yaml

from scoring.autonomy import get_gates
from scoring.recommendations import (
    PLANNING,
    catalogue_path,
    get_catalogue,
    load_catalogue_text,
)
from scoring.rubric import RubricError, get_rubric

V1 = get_rubric("operationalization", 1)
V2 = get_rubric("operationalization", 2)


def _v2_entries() -> list[dict[str, object]]:
    return yaml.safe_load(catalogue_path(V2.id, V2.version).read_text())["recommendations"]


def test_every_version_2_recommendation_is_ready_to_plan() -> None:
    catalogue = get_catalogue(V2.id, V2.version)
    assert catalogue is not None
    gate_ids = {g.id for g in get_gates(V2)}
    for rec in catalogue.items.values():
        assert rec.first_30_days and rec.done_when and rec.owner_role, rec.id
        assert rec.first_30_days != rec.done_when, rec.id
        assert rec.effort_weeks is not None and 0 < rec.effort_weeks <= 52, rec.id
        assert rec.raises_to in (2, 3, 4, 5), rec.id
        assert rec.unlocks in gate_ids | {"none"}, rec.id


def test_the_gate_a_recommendation_unlocks_reads_its_capability() -> None:
    catalogue = get_catalogue(V2.id, V2.version)
    assert catalogue is not None
    gates = {g.id: g for g in get_gates(V2)}
    for rec in catalogue.items.values():
        if rec.unlocks != "none":
            assert any(r.capability_id == rec.capability_id for r in gates[rec.unlocks].requires)
    # The safety work named in the issue is planned for the step it guards.
    assert catalogue.items["rec.dep.hand-over-rules"].unlocks == "supervised-processes"
    assert catalogue.items["rec.obs.agent-cost-caps"].unlocks == "supervised-processes"
    assert catalogue.items["rec.rev.enforce-human-review"].unlocks == "pull-requests-with-review"


@pytest.mark.parametrize("field", PLANNING)
def test_a_version_2_recommendation_without_a_planning_field_is_refused(field: str) -> None:
    entries = _v2_entries()
    del entries[0][field]
    text = yaml.safe_dump({"rubric": V2.key, "ordering": "gates", "recommendations": entries})
    with pytest.raises(RubricError) as error:
        load_catalogue_text(text, V2)
    assert f"missing {field!r}" in str(error.value)
    assert "recommendations[0]" in str(error.value)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("merge-everything", "is not an autonomy gate"),
        # Process documentation is read by the process gates, not the pull-request one.
        ("pull-requests-with-review", "has no requirement on obs.process-docs"),
    ],
)
def test_a_wrong_gate_is_refused(value: str, message: str) -> None:
    entries = _v2_entries()
    assert entries[0]["capability"] == "obs.process-docs"
    entries[0]["unlocks"] = value
    text = yaml.safe_dump({"rubric": V2.key, "ordering": "gates", "recommendations": entries})
    with pytest.raises(RubricError) as error:
        load_catalogue_text(text, V2)
    assert message in str(error.value)
    assert "recommendations[0].unlocks" in str(error.value)


def test_none_is_refused_where_a_gate_reads_the_capability() -> None:
    entries = _v2_entries()
    entries[0]["unlocks"] = "none"
    text = yaml.safe_dump({"rubric": V2.key, "ordering": "gates", "recommendations": entries})
    with pytest.raises(RubricError, match="name the gate, not 'none'"):
        load_catalogue_text(text, V2)


def test_version_1_stays_valid_without_planning_fields() -> None:
    catalogue = get_catalogue(V1.id, V1.version)
    assert len(catalogue.items) > 40
    assert any(not rec.unlocks for rec in catalogue.items.values())


def test_version_1_recommendations_unlock_no_gate() -> None:
    # Version 1 predates `unlocks`; an export's "unlocks" column stays empty, not "None".
    # Read here, not through the per-process cache, so the reading itself is under test.
    catalogue = load_catalogue_text(
        catalogue_path(V1.id, V1.version).read_text(encoding="utf-8"), V1
    )
    assert {rec.unlocks for rec in catalogue.items.values()} == {""}
