"""Nobody is singled out: the k >= 3 rule, tested in each breakdown by role on its own.

Every number broken down by role (the perception groups, the heatmap's columns and hovers,
the drivers listed under a flagged gap with each group's mean per question, the leadership
optimism index) is checked with a role one short of the minimum group, so a breakdown that
forgets the rule fails here even while the others keep it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pytest

from reports import charts
from reports.presenters import present
from scoring.engine import score_assessment
from scoring.rubric import get_rubric
from scoring.scores import COLUMNS, MIN_GROUP

RUBRIC = get_rubric("operationalization", 1)
NOW = datetime(2026, 11, 1, tzinfo=UTC)
SMALL = MIN_GROUP - 1


def _result(groups: dict[str, tuple[int, int]], unknown: dict[str, int] | None = None) -> Any:
    """`groups`: role -> (respondents, level they all answer). `unknown`: role -> how many of
    its respondents answer "don't know" to every second question instead."""
    unknown = unknown or {}
    rows = []
    for role, (count, level) in groups.items():
        for n in range(count):
            for index, question in enumerate(RUBRIC.questions_for(role)):
                if n < unknown.get(role, 0) and index % 2:
                    rows.append((f"{role}-{n}", role, question.id, "dont_know", None, None))
                else:
                    rows.append((f"{role}-{n}", role, question.id, "level", level, None))
    answers = pd.DataFrame(rows, columns=list(COLUMNS))
    return score_assessment(rubric=RUBRIC, answers=answers, now=NOW).to_dict()


# Leaders one short of a group, everyone else in full groups far below them: a leadership
# column or mean would show what two people think.
SMALL_LEADERS = {
    "leadership": (SMALL, 5),
    "engineering": (MIN_GROUP, 1),
    "operations": (MIN_GROUP, 2),
}


def test_the_perception_groups_leave_out_a_role_below_the_minimum() -> None:
    result = _result(SMALL_LEADERS)
    assert result["perception"], "the engineers and operations form groups"
    for gap in result["perception"]:
        for group in gap["groups"]:
            assert "leadership" not in group["roles"], (gap["capability_id"], group)
            assert group["respondents"] >= MIN_GROUP


def test_the_heatmap_has_no_column_or_hover_for_a_role_below_the_minimum() -> None:
    figure = charts.heatmap(_result(SMALL_LEADERS))
    trace = figure.data[0]
    assert "Leadership" not in list(trace.x)
    assert "Engineering" in list(trace.x)
    hovers = json.dumps([list(row) for row in trace.customdata])
    assert "leadership" not in hovers.lower()


def test_the_optimism_index_is_not_computed_from_a_small_leadership_group() -> None:
    assert _result(SMALL_LEADERS)["leadership_optimism"] is None
    full = _result({**SMALL_LEADERS, "leadership": (MIN_GROUP, 5)})
    assert full["leadership_optimism"] > 2  # leaders at 5 against teams at 1 and 2


def test_a_merged_group_below_the_minimum_is_not_shown_anywhere() -> None:
    # Two small roles that together are still one short.
    result = _result(
        {"leadership": (1, 5), "product": (SMALL - 1 or 1, 5), "engineering": (MIN_GROUP, 1)}
    )
    merged = [g for gap in result["perception"] for g in gap["groups"] if len(g["roles"]) > 1]
    total = 1 + (SMALL - 1 or 1)
    assert bool(merged) is (total >= MIN_GROUP)
    assert "Other roles (merged)" not in list(charts.heatmap(result).data[0].x)


@pytest.mark.parametrize("answered", [SMALL, MIN_GROUP])
def test_a_drivers_group_mean_per_question_needs_the_minimum_of_answers_to_it(
    answered: int,
) -> None:
    # Leaders form a full group, but on every second question only `answered` of them give a
    # level (the rest say "don't know").
    leaders = MIN_GROUP + 1
    result = _result(
        {"leadership": (leaders, 5), "engineering": (MIN_GROUP, 1)},
        unknown={"leadership": leaders - answered},
    )
    flagged = [gap for gap in result["perception"] if gap["flagged"]]
    assert flagged
    second = {q.id for q in RUBRIC.questions_for("leadership")[1::2]}
    shown = [
        (gap["capability_id"], d["question_id"])
        for gap in flagged
        for d in gap["drivers"]
        if d["question_id"] in second and "leadership" in d["group_means"]
    ]
    assert bool(shown) is (answered >= MIN_GROUP)
    presented = present(result, RUBRIC)["perception_gaps"]
    lines = [d for gap in presented for d in gap["drivers"] if d["question_id"] in second]
    assert all(("leadership" in d["group_means"]) is (answered >= MIN_GROUP) for d in lines)
