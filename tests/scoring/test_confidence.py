"""Confidence a reader can believe: head count caps the label, and saying "don't know"
instead of dissenting never makes a group look more certain."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring.engine import score_assessment
from scoring.evidence import EvidenceFinding
from scoring.scores import answer_confidence, capability_stats, confidence_label, prepare
from tests.scoring.helpers import frame, tiny_rubric

NOW = datetime(2026, 11, 1, tzinfo=UTC)
TINY = tiny_rubric()
RANK = {"low": 0, "medium": 1, "high": 2}


def _confidence(rows: list[tuple[object, ...]]) -> tuple[float, str, int]:
    stats = capability_stats(rubric=TINY, prepared=prepare(rubric=TINY, answers=frame(rows)))["a.x"]
    value = answer_confidence(stats)
    return value, confidence_label(value, stats.n_respondents), stats.n_respondents


@pytest.mark.parametrize(
    ("respondents", "label"), [(1, "low"), (2, "low"), (3, "medium"), (4, "medium"), (5, "high")]
)
def test_high_confidence_needs_five_respondents(respondents: int, label: str) -> None:
    # Everyone agrees perfectly and nobody says "don't know": only the head count differs.
    rows: list[tuple[object, ...]] = []
    for i in range(respondents):
        rows += [(f"r{i}", "product", "a.x.q1", 4), (f"r{i}", "product", "a.x.q2", 4)]
    result = score_assessment(rubric=TINY, answers=frame(rows), now=NOW)
    capability = next(c for c in result.capabilities if c.id == "a.x")
    assert capability.confidence_label == label
    # Nor do dimension and readiness read "high" on the strength of two or three people.
    dimension = next(d for d in result.dimensions if d.id == "a")
    assert RANK[dimension.confidence_label] <= RANK[label]
    assert RANK[result.readiness.confidence_label] <= RANK[label]


def test_agreeing_scan_evidence_does_not_make_three_people_high() -> None:
    rows = [(f"r{i}", "product", q, 5) for i in range(3) for q in ("a.x.q1", "a.x.q2")]
    findings = [EvidenceFinding(f"test.d{i}", "a.x", "found", 3, "found") for i in range(2)]
    result = score_assessment(rubric=TINY, answers=frame(rows), evidence=findings, now=NOW)
    capability = next(c for c in result.capabilities if c.id == "a.x")
    assert capability.evidence.verdict == "agrees"
    assert capability.confidence >= 0.9
    assert capability.confidence_label == "medium"


ANSWER = st.one_of(st.integers(1, 5), st.just("dk"), st.just("na"), st.none())


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    people=st.lists(st.tuples(ANSWER, ANSWER), min_size=1, max_size=14),
    pick=st.integers(0, 1_000),
)
def test_turning_an_answer_into_dont_know_never_raises_confidence(
    people: list[tuple[object, object]], pick: int
) -> None:
    rows = [
        (f"r{i:02d}", "product", question, answer)
        for i, pair in enumerate(people)
        for question, answer in zip(("a.x.q1", "a.x.q2"), pair, strict=True)
        if answer is not None
    ]
    levels = [k for k, row in enumerate(rows) if isinstance(row[3], int)]
    if not levels:
        return
    k = levels[pick % len(levels)]
    changed = [*rows[:k], (*rows[k][:3], "dk"), *rows[k + 1 :]]
    before, before_label, _ = _confidence(rows)
    after, after_label, _ = _confidence(changed)
    assert after <= before + 1e-9
    assert RANK[after_label] <= RANK[before_label]


def test_a_dissenter_who_says_dont_know_leaves_confidence_where_it_was_or_lower() -> None:
    # Four say 4, one dissents at 1: agreement is poor. Before this rule, the same dissenter
    # saying "don't know" instead made the group look united and raised confidence.
    agree = [(f"r{i}", "product", "a.x.q1", 4) for i in range(4)]
    dissent, _, _ = _confidence([*agree, ("r4", "product", "a.x.q1", 1)])
    silent, _, _ = _confidence([*agree, ("r4", "product", "a.x.q1", "dk")])
    assert silent <= dissent


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(
        st.tuples(st.floats(1, 5), st.floats(0, 4)).map(lambda p: (p[0], min(5.0, p[0] + p[1]))),
        min_size=2,
        max_size=9,
    )
)
def test_the_bound_used_for_many_unknowns_is_never_kinder_than_the_exact_worst_case(
    values: list[tuple[float, float]],
) -> None:
    import numpy as np

    from scoring import scores

    low = np.array([v[0] for v in values])
    high = np.array([v[1] for v in values])
    exact = scores._agreement_at_worst(low, high)
    original = scores.EXACT_WORST_CASE_MAX
    scores.EXACT_WORST_CASE_MAX = -1  # force the bound
    try:
        bound = scores._agreement_at_worst(low, high)
    finally:
        scores.EXACT_WORST_CASE_MAX = original
    assert exact is not None and bound is not None
    assert bound <= exact + 1e-9
