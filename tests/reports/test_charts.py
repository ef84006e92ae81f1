"""The chart builders draw what the result says: no invented levels, no hidden wall."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pytest

from reports import charts, numbers
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
    assert list(current.theta)[1] == "Dim b (not assessed)"
    assert current.connectgaps is False
    assert list(current.customdata)[1] == "Dim b: not assessed"
    assert charts.radar_table(_result())[2][1] == "not assessed"


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


MARKUP = '<b>Ops</b> & <a href="https://evil.test">more</a><br>'
LITERAL = '&lt;b&gt;Ops&lt;/b&gt; &amp; &lt;a href="https://evil.test"&gt;more&lt;/a&gt;&lt;br&gt;'


def _comparison(titles: list[str], dimensions: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "series": [
            {
                "title": title,
                "date": f"2026-0{n + 1}-01",
                "readiness": 20.0 + 10 * n,
                "dimensions": {d["id"]: 10.0 + 5 * n + i for i, d in enumerate(dimensions)},
            }
            for n, title in enumerate(titles)
        ],
        "dimensions": dimensions,
    }


def test_titles_with_markup_are_drawn_as_text_in_every_chart() -> None:
    # Plotly reads <b>, <a href> and <br> in labels as markup; escaped, it shows them as typed.
    result = _result()
    result["dimensions"][0]["title"] = MARKUP
    result["capabilities"][0]["title"] = MARKUP
    radar = next(t for t in charts.radar(result).data if t.name == "Current")
    assert list(radar.theta)[0] == LITERAL
    assert list(radar.customdata)[0].startswith(LITERAL)
    bars = charts.capability_bars(result, result["capabilities"][0]["dimension_id"])
    assert list(bars.data[0].y)[0] == LITERAL
    heatmap = charts.heatmap(result).data[0]
    assert list(heatmap.y)[0] == LITERAL
    assert list(heatmap.customdata)[0][0].startswith(LITERAL + "<br>")
    trend = charts.trend(_comparison([MARKUP, "Autumn"], [{"id": "a", "title": MARKUP}]))
    assert list(trend.data[0].x)[0] == f"{LITERAL}<br>2026-01-01"
    assert trend.data[1].name == LITERAL
    # The tables are rendered by Django, which escapes them itself: plain text there.
    assert charts.radar_table(result)[1][0] == MARKUP


def _lightness(colour: str) -> float:
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return (0.299 * red + 0.587 * green + 0.114 * blue) / 255


def test_trend_lines_stay_apart_in_greyscale_and_the_legend_clears_the_labels() -> None:
    dimensions = [{"id": k, "title": f"Dim {k}"} for k in "abcd"]
    figure = charts.trend(_comparison(["Spring", "Autumn"], dimensions))
    # The legend sits above the plot, where it cannot cover the assessment names below it.
    assert figure.layout.legend.y >= 1 and figure.layout.legend.yanchor == "bottom"
    lines = [(t.line.color, t.line.dash or "solid", t.marker.symbol) for t in figure.data]
    assert len(lines) == 5
    lightness = sorted(_lightness(colour) for colour, _dash, _symbol in lines)
    # None of them pale (the old light blue read as almost white in greyscale) ...
    assert max(lightness) <= 0.62
    # ... each a step apart in lightness, and each with its own dash and marker as well.
    assert all(b - a >= 0.08 for a, b in zip(lightness, lightness[1:], strict=False))
    assert len({dash for _c, dash, _s in lines}) == 5
    assert len({symbol for _c, _d, symbol in lines}) == 5


def _planned_wall() -> Any:
    # The demo's shape: the wall at 1.4x today, planned work at 1.39x (just short of the wall)
    # and at 2.44x (beyond it).
    review = {
        "prs_per_week": 150,
        "reviewers": 10,
        "hours_per_pr": 1,
        "reviewer_hours_per_week": 21,
        "agent_prs_6m": 58,
        "agent_prs_12m": 216,
        # Agent PRs reviewed like the rest, so the planned points sit where the layout needs.
        "agent_rework_rounds": 0,
    }
    result = _result(review)
    return result["review"]["projection"], charts.review_wall(result)


def test_review_wall_labels_keep_clear_of_the_wall_and_the_curve() -> None:
    projection, figure = _planned_wall()
    wall, right = projection["saturation_multiplier"], figure.layout.xaxis.range[1]
    assert wall == pytest.approx(1.4)
    # The wall is named above the plot, where neither the curve nor a marker can run.
    label = next(a for a in figure.layout.annotations if "the wall" in a.text)
    assert label.yref == "paper" and label.y >= 1 and label.yanchor == "bottom"
    points = {t.name: t for t in figure.data if t.mode == "markers+text"}
    # A point short of the wall is labelled above and to its left: away from the wall line
    # to its right and above the curve, which rises to the right.
    short = points["Planned in 6 months"]
    assert short.x[0] < wall and short.textposition == "top left"
    # A point beyond the wall has its label wholly inside the saturated area.
    beyond = points["Planned in 12 months"]
    assert beyond.x[0] > wall
    plot_px = charts.WALL_SIZE[0] - charts.WALL_MARGIN["l"] - charts.WALL_MARGIN["r"]
    width = max(len(line) for line in beyond.text[0].split("<br>")) * charts.CHAR_PX / plot_px
    start = {
        "middle left": beyond.x[0] / right - width,
        "middle right": beyond.x[0] / right,
        "bottom center": beyond.x[0] / right - width / 2,
    }[beyond.textposition]
    assert wall / right < start and start + width <= 1
    assert "beyond the wall" in beyond.text[0]


def test_review_wall_log_axis_labels_only_powers_of_ten_above_the_floor() -> None:
    _projection, figure = _planned_wall()
    axis = figure.layout.yaxis
    assert axis.type == "log" and axis.range[0] == pytest.approx(-2)
    assert list(axis.ticktext)[0] == "0.1"  # nothing at the floor, where "0×" sits below
    assert [float(t) for t in axis.ticktext] == pytest.approx(list(axis.tickvals))
    assert all(round(math.log10(v), 9).is_integer() for v in axis.tickvals)


def test_capability_levels_are_printed_clear_of_the_target_line() -> None:
    result = _result()
    dimension = result["dimensions"][0]
    figure = charts.capability_bars(result, dimension["id"])
    bars, target, labels = figure.data
    assert not bars.text  # nothing at the bar's end, where the target line may be
    assert min(labels.x) > max(5, dimension["target_level"])
    assert list(labels.text) == [numbers.num(v, 1) for v in bars.x]


@pytest.mark.parametrize(
    ("level", "target", "gap"),
    [
        (2.15, 3, "0.9"),
        (2.96, 3, "0.1"),
        (1.04, 4, "3.0"),
        (None, 3, "-"),
        (3.4, 3, "0.0"),
        (3.0, 3, "0.0"),
    ],
)
def test_a_gap_is_the_target_less_the_level_as_printed(
    level: float | None, target: int, gap: str
) -> None:
    assert numbers.gap_text(level, target) == gap


@pytest.mark.parametrize(
    ("later", "earlier", "places", "text"),
    [(2.0, 1.25, 1, "+0.7"), (1.0, 1.04, 1, "0.0"), (1.25, 2.0, 1, "-0.7"), (32.4, 11.6, 0, "+20")],
)
def test_a_change_is_the_difference_of_the_numbers_as_printed(
    later: float, earlier: float, places: int, text: str
) -> None:
    assert numbers.difference(later, earlier, places) == text
