"""The version 2 roadmap on hand-made organisations: the first items are the ones a senior
consultant would name, and the order never depends on recommendation ids.

Each case writes down the expected first items and why a consultant would start there.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

import pytest

from scoring.autonomy import get_gates
from scoring.engine import score_assessment
from scoring.evidence import EvidenceFinding
from scoring.recommendations import Catalogue, get_catalogue
from scoring.result import Result
from scoring.rubric import Question, get_rubric
from tests.scoring.helpers import frame

RUBRIC = get_rubric("operationalization", 2)
CATALOGUE = get_catalogue("operationalization", 2)
NOW = datetime(2026, 11, 1, tzinfo=UTC)
# Every control a gate wants a scan to see, with the capability it belongs to.
GATE_DETECTORS = sorted(
    {
        (r.subject, r.capability_id)
        for g in get_gates(RUBRIC)
        for r in g.requires
        if r.kind == "evidence"
    }
)
# 100 pull requests a week against capacity for 320: review has room (utilisation 31%).
ROOMY_REVIEW = {
    "fact.prs-per-week": 100,
    "fact.active-reviewers": 20,
    "fact.review-hours-per-pr": 0.5,
    "fact.reviewer-hours-per-week": 8,
}


def _organisation(
    level_of: Callable[[Question], int],
    *,
    facts: Mapping[str, float] | None = None,
    scans: str | None = None,
    catalogue: Catalogue | None = None,
) -> Result:
    """Three respondents per role answering every question they see at `level_of`; scans,
    when given, report every gate's detector with that status."""
    rows: list[tuple[object, ...]] = []
    for r in range(3):
        for q in RUBRIC.questions:
            role = q.audience[0]
            rows.append((f"{role}{r}", role, q.id, level_of(q)))
    for fid, value in {**ROOMY_REVIEW, **(facts or {})}.items():
        rows += [(f"engineering{r}", "engineering", fid, value) for r in range(3)]
    evidence = [EvidenceFinding(d, c, scans, 2, d) for d, c in GATE_DETECTORS] if scans else []
    return score_assessment(
        rubric=RUBRIC, answers=frame(rows), evidence=evidence, recommendations=catalogue, now=NOW
    )


def _ids(result: Result, bucket: str | None = None) -> list[str]:
    return [i.id for i in result.roadmap if bucket is None or i.bucket == bucket]


def test_all_level_1_starts_with_identities_policy_ci_human_review_and_tracing() -> None:
    # Nothing is in place. Before agents may open a single pull request they need their own
    # identities (16 roadmap items wait on them), a stated policy (9), CI on every change (9),
    # enforced human review and traced runs: version 1 put human review in Next and CI in
    # Later because 36 of 48 items tied on value and ties broke by id.
    result = _organisation(lambda q: 1)
    assert result.autonomy is not None and result.autonomy.next_gate is not None
    assert result.autonomy.next_gate.id == "pull-requests-with-review"
    now = _ids(result, "now")
    assert set(now) == {
        "rec.int.agent-identities",
        "rec.dep.publish-ai-policy",
        "rec.dep.ci-on-every-change",
        "rec.rev.enforce-human-review",
        "rec.obs.trace-agent-runs",
    }
    assert now[0] == "rec.int.agent-identities"  # unblocks the most
    assert all(
        i.gate_id == "pull-requests-with-review" for i in result.roadmap if i.bucket == "now"
    )


def test_all_level_3_with_scans_works_on_what_auto_merge_needs() -> None:
    # Reviewed pull requests are granted; auto-merge on low-risk paths is next. A consultant
    # names code owners, enforced agent change rules, stronger required checks and tighter
    # agent security: exactly what that gate lacks.
    result = _organisation(lambda q: 3, scans="found")
    assert result.autonomy is not None
    assert result.autonomy.granted.id == "pull-requests-with-review"
    now = result.roadmap[:5]
    assert all(i.bucket == "now" and i.gate_id == "auto-merge-low-risk" for i in now)
    assert {"rec.rev.code-owners", "rec.dep.agent-change-rules", "rec.rev.automated-gates"} <= {
        i.id for i in now
    }


def test_strong_delivery_with_weak_review_fixes_review_first() -> None:
    # Deployment at 4 is no use while nobody has to approve agent changes: enforced human
    # review first, then provenance, response times and acceptance criteria.
    result = _organisation(
        lambda q: 4 if q.dimension_id == "deployment" else 1 if q.dimension_id == "review" else 3,
        scans="found",
    )
    now = _ids(result, "now")
    assert now[0] == "rec.rev.enforce-human-review"
    assert all(
        RUBRIC.capability(CATALOGUE.items[i].capability_id).dimension_id
        in ("review", "integration")
        for i in now
    )
    assert not any(CATALOGUE.items[i].capability_id.startswith("dep.") for i in now)


def test_a_saturated_review_queue_comes_before_anything_else() -> None:
    # 100 pull requests a week against capacity for 80: the review wall is here today, so
    # planning review capacity is urgent whatever the gates say.
    result = _organisation(
        lambda q: 3,
        facts={"fact.active-reviewers": 10, "fact.review-hours-per-pr": 1},
        scans="found",
    )
    assert result.roadmap[0].id == "rec.rev.plan-review-capacity"
    assert result.roadmap[0].bucket == "now"


def test_review_claimed_but_refuted_by_scans_starts_with_enforcing_review() -> None:
    # Answers claim level 4 review policy; the scans find no branch protection: the claim is
    # the first thing to make true.
    result = _organisation(
        lambda q: 4 if q.capability_id == "rev.policy-ownership" else 3, scans="absent"
    )
    assert result.roadmap[0].id == "rec.rev.enforce-human-review"


def test_the_order_does_not_depend_on_recommendation_ids() -> None:
    # Rename every recommendation so that alphabetical order is reversed: the roadmap, read
    # back through the renaming, is the same.
    result = _organisation(lambda q: 1)
    ids = sorted(CATALOGUE.items)
    rename = {old: f"rec.x{len(ids) - i:03d}" for i, old in enumerate(ids)}
    back = {new: old for old, new in rename.items()}
    renamed = Catalogue(
        CATALOGUE.rubric_key,
        {
            rename[rid]: dataclasses.replace(
                rec, id=rename[rid], prerequisites=tuple(rename[p] for p in rec.prerequisites)
            )
            for rid, rec in CATALOGUE.items.items()
        },
        CATALOGUE.ordering,
    )
    again = _organisation(lambda q: 1, catalogue=renamed)
    assert [(back[i.id], i.bucket) for i in again.roadmap] == [
        (i.id, i.bucket) for i in result.roadmap
    ]


def test_every_item_carries_what_a_plan_needs_when_the_catalogue_gives_it() -> None:
    result = _organisation(lambda q: 1)
    first = result.roadmap[0]
    assert first.first_30_days and first.done_when and first.owner_role
    assert first.effort_weeks is not None and first.raises_to == 3
    assert first.unblocks > 0 and first.gate_title


@pytest.mark.parametrize(
    ("impact", "effort", "rank", "urgent", "enabler", "bucket"),
    [
        (3, 2, 2, False, False, 1),  # value exactly 1.5: Next
        (2, 2, 2, False, False, 2),  # value 1, the highest below 1.5: Later
        (2, 1, 5, False, False, 1),  # value 2, far from any gate: Next
        (1, 3, 1, False, False, 1),  # the gate after the next: Next whatever its value
        (1, 3, 0, False, False, 0),  # the next gate: Now
        (1, 3, 4, True, False, 0),  # urgent: Now
        (3, 1, 1, False, True, 2),  # an enabler starts in Later
        (3, 1, 0, False, True, 0),  # ... unless it serves the next gate
    ],
)
def test_the_gate_ordering_base_bucket_at_each_edge(
    impact: int, effort: int, rank: int, urgent: bool, enabler: bool, bucket: int
) -> None:
    from scoring.recommendations import Recommendation
    from scoring.roadmap import Triggered, _gates_bucket

    rec = Recommendation("r", "R", "rev.policy-ownership", (), "", (), impact, effort, ())
    item = Triggered(rec, (), urgent, enabler)
    assert _gates_bucket(item, rank) == bucket
