"""One level, one rounding: the level every page prints, and the reasons' wording."""

from __future__ import annotations

import pytest

from scoring import roadmap
from scoring.scores import level_text, score_to_exact_level, score_to_level


@pytest.mark.parametrize(
    ("exact", "text"),
    [
        (2.8, "2.8"),
        (2.96, "2.9"),
        (3.0, "3.0"),
        (1 + 50 / 25, "3.0"),
        (2.9999999999, "3.0"),
        (1.0, "1.0"),
        (5.0, "5.0"),
        (None, "not assessed"),
    ],
)
def test_a_level_prints_rounded_down_to_one_decimal(exact: float | None, text: str) -> None:
    assert level_text(exact) == text


@pytest.mark.parametrize("score", [i / 4 for i in range(401)])
def test_the_printed_level_never_crosses_the_level_reached(score: float) -> None:
    # A badge coloured "level 2" never prints 3.0, and a printed 3.0 means level 3 is reached.
    assert int(float(level_text(score_to_exact_level(score)))) == score_to_level(score)


def _signals(**extra: object) -> roadmap.Signals:
    base: dict[str, object] = {
        "capability_levels": {"c": 3},
        "capability_titles": {"c": "System telemetry"},
        "dimension_levels": {},
        "dimension_titles": {},
        "question_medians": {},
        "question_texts": {},
        "capability_exact": {"c": 3.44},
        "capability_targets": {"c": 3},
    }
    return roadmap.Signals(**(base | extra))  # type: ignore[arg-type]


def _reason(kind: str, value: object, signals: roadmap.Signals) -> str:
    condition = roadmap.Condition(kind, value)
    reason, _ = roadmap._evaluate(condition, "c", signals)
    assert reason is not None
    return reason.text


def test_a_reason_names_the_real_target_not_the_threshold_as_one() -> None:
    text = _reason("capability_below", 4, _signals())
    assert "below 4" not in text
    assert text == "System telemetry is at level 3.4 (target 3); this step leads on to level 4."
    at_target = _reason(
        "capability_below", 3, _signals(capability_levels={"c": 2}, capability_exact={"c": 2.8})
    )
    assert at_target == "System telemetry is at level 2.8, below its target of 3."


def test_a_fact_median_carries_its_unit() -> None:
    signals = _signals(
        fact_medians={"fact.x": 20.47},
        fact_texts={"fact.x": "How many?"},
        fact_units={"fact.x": "PRs per week"},
    )
    condition = roadmap.Condition("fact_at_least", 10.0, question_id="fact.x")
    reason, _ = roadmap._evaluate(condition, "c", signals)
    assert reason is not None
    assert reason.text.endswith("a median of 20.5 PRs per week.")


@pytest.mark.parametrize(
    ("median", "unit", "said"),
    [
        (20.85, "percent", "a median of 21%."),
        (20.4, "percent", "a median of 20%."),
        (7.0, "hours", "a median of 7 hours."),
        (10.55, "", "a median of 10.6."),
    ],
)
def test_a_fact_median_is_said_as_the_report_prints_numbers(
    median: float, unit: str, said: str
) -> None:
    signals = _signals(
        fact_medians={"fact.x": median},
        fact_texts={"fact.x": "How much?"},
        fact_units={"fact.x": unit},
    )
    condition = roadmap.Condition("fact_at_least", 1.0, question_id="fact.x")
    reason, _ = roadmap._evaluate(condition, "c", signals)
    assert reason is not None
    assert reason.text.endswith(said), reason.text
