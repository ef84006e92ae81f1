"""Numbers a reader can trust: a dimension nobody answered is named, not silently dropped."""

from __future__ import annotations

from datetime import UTC, datetime

from scoring.engine import score_assessment
from tests.scoring.helpers import frame, tiny_rubric

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def test_a_dimension_nobody_answered_is_listed_as_not_assessed() -> None:
    rubric = tiny_rubric()
    rows = [("p", "product", "a.x.q1", 4), ("p", "product", "a.y.q1", 4)]
    readiness = score_assessment(rubric=rubric, answers=frame(rows), now=NOW).readiness
    assert readiness.not_assessed == ("b",)
    assert readiness.limiting_dimension_id == "a"
    # A dimension weighted 0 does not count, so it is not "not assessed" either.
    ignored = score_assessment(
        rubric=rubric, answers=frame(rows), weights={"b": 0}, now=NOW
    ).readiness
    assert ignored.not_assessed == ()
    answered = frame(rows + [("p", "product", "b.x.q1", 1)])
    assert score_assessment(rubric=rubric, answers=answered, now=NOW).readiness.not_assessed == ()
