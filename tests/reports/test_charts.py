"""The chart builders draw what the result says: no invented levels, no hidden wall."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from reports import charts
from scoring.engine import score_assessment
from tests.scoring.helpers import frame, tiny_rubric

NOW = datetime(2026, 11, 1, tzinfo=UTC)
RUBRIC = tiny_rubric({"a": {"a.x": 1}, "b": {"b.x": 1}, "c": {"c.x": 1}})


def _result(review: dict[str, float] | None = None) -> dict[str, Any]:
    # Three engineers agree on a.x; on c.x one says 4 and three don't know (low confidence);
    # nobody answers b.x.
    rows: list[tuple[object, ...]] = [(f"e{i}", "engineering", "a.x.q1", 3) for i in range(3)]
    rows += [("e0", "engineering", "c.x.q1", 4)]
    rows += [(f"e{i}", "engineering", "c.x.q1", "dk") for i in range(1, 4)]
    return score_assessment(
        rubric=RUBRIC, answers=frame(rows), review_overrides=review, now=NOW
    ).to_dict()


def test_radar_leaves_a_gap_for_a_dimension_without_answers_and_says_no_data() -> None:
    figure = charts.radar(_result())
    current = next(t for t in figure.data if t.name == "Current")
    # Not drawn as level 1: the unanswered dimension is a gap in the line.
    assert list(current.r) == [3.0, None, 4.0, 3.0]
    assert list(current.customdata)[0] == "Dim a: level 3.0"
    assert list(current.theta)[1] == "Dim b (no data)"
    assert current.connectgaps is False
    assert list(current.customdata)[1] == "Dim b: no data"
    assert charts.radar_table(_result())[2][1] == "no data"


def test_radar_hover_marks_low_confidence_dimensions() -> None:
    result = _result()
    hover = list(next(t for t in charts.radar(result).data if t.name == "Current").customdata)
    low = {d["title"] for d in result["dimensions"] if d["low_confidence"]}
    assert "Dim c" in low and "Dim a" not in low
    assert hover[2] == "Dim c: level 4.0 (low confidence)"
    for d, text in zip(result["dimensions"], hover, strict=False):
        if d["exact_level"] is not None:
            assert text.endswith("(low confidence)") == d["low_confidence"]


def _wall(prs_per_week: float) -> Any:
    review = {
        "prs_per_week": prs_per_week,
        "reviewers": 10,
        "hours_per_pr": 1,
        "reviewer_hours_per_week": 20,
    }
    result = _result(review)
    return result["review"]["projection"]["saturation_multiplier"], charts.review_wall(result)


def test_review_wall_beyond_ten_times_today_is_on_the_chart() -> None:
    wall, figure = _wall(10)  # 200 reviews a week of capacity against 10: the wall at 20x
    assert wall == pytest.approx(20.0)
    low, high = figure.layout.xaxis.range
    assert low == 0 and high >= wall * 1.05
    texts = [a.text for a in figure.layout.annotations]
    assert any("the wall: 20.0\u00d7 today" in t for t in texts)


def test_review_wall_too_far_out_to_draw_is_named_at_the_edge() -> None:
    wall, figure = _wall(2)  # the wall at 100x
    assert wall == pytest.approx(100.0)
    assert figure.layout.xaxis.range[1] == charts.MAX_MULTIPLIER
    texts = [a.text for a in figure.layout.annotations]
    assert any("wall beyond 50\u00d7" in t and "100.0\u00d7 today" in t for t in texts)
    assert not figure.layout.shapes  # no wall line or shaded area drawn off the chart


def test_a_wall_within_ten_times_keeps_the_familiar_axis() -> None:
    wall, figure = _wall(50)  # the wall at 4x
    assert wall == pytest.approx(4.0)
    assert figure.layout.xaxis.range[1] == pytest.approx(6.4)
