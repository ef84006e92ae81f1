"""The rubric loader: the shipped file is complete, and every kind of broken file is refused
with a message naming the file, the place inside it and the problem."""

from __future__ import annotations

import copy
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from scoring import rubric as rubric_module
from scoring.rubric import (
    AUDIENCES,
    LEVELS,
    RubricError,
    available_rubrics,
    get_rubric,
    load_rubric,
    load_rubric_text,
    rubric_path,
)

SHIPPED = rubric_path("operationalization", 1)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def good() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(SHIPPED.read_text())
    return data


def test_shipped_rubric_has_four_dimensions_of_five_capabilities() -> None:
    rubric = get_rubric("operationalization", 1)
    assert [d.id for d in rubric.dimensions] == [
        "observability",
        "integration",
        "deployment",
        "review",
    ]
    assert [len(d.capabilities) for d in rubric.dimensions] == [5, 5, 5, 5]
    for capability in rubric.capabilities:
        assert 2 <= len(capability.questions) <= 3, capability.id
        assert set(capability.crosswalk) & {"dora-core", "dora-ai"}, capability.id
        assert list(capability.levels) == list(LEVELS)


def test_every_question_has_five_distinct_anchored_levels() -> None:
    for question in get_rubric("operationalization", 1).questions:
        assert list(question.levels) == list(LEVELS), question.id
        texts = list(question.levels.values())
        assert all(len(t) > 20 for t in texts), question.id
        assert len(set(texts)) == 5, question.id
        assert question.audience, question.id


def test_leaders_and_engineers_both_answer_every_dimension() -> None:
    rubric = get_rubric("operationalization", 1)
    for audience in ("leadership", "engineering"):
        seen = {q.dimension_id for q in rubric.questions_for(audience)}
        assert seen == {d.id for d in rubric.dimensions}, audience
    for audience in AUDIENCES:
        assert len(rubric.questions_for(audience)) >= 8, audience


def test_fact_questions_have_sane_bounds() -> None:
    rubric = get_rubric("operationalization", 1)
    ids = {f.id for f in rubric.facts}
    assert ids >= {
        "fact.prs-per-week",
        "fact.active-reviewers",
        "fact.review-hours-per-pr",
        "fact.reviewer-hours-per-week",
        "fact.hours-to-first-review",
        "fact.deploys-per-week",
        "fact.ai-authored-share",
        "fact.agent-prs-per-week-6m",
        "fact.agent-prs-per-week-12m",
    }
    prs = rubric.fact("fact.prs-per-week")
    assert not prs.minimum <= 1_000_000 <= prs.maximum
    assert rubric.fact("fact.active-reviewers").minimum >= 1


def test_lookups_by_id() -> None:
    rubric = get_rubric("operationalization", 1)
    question = rubric.questions[0]
    assert rubric.question(question.id) is question
    assert rubric.capability(question.capability_id).dimension_id == question.dimension_id
    assert rubric.has_item(question.id) and rubric.has_item("fact.prs-per-week")
    assert not rubric.has_item("obs.nothing")
    with pytest.raises(KeyError):
        rubric.question("fact.prs-per-week")
    assert rubric.key == "operationalization-1"


def test_get_rubric_is_cached_and_available_rubrics_lists_the_shipped_file() -> None:
    assert get_rubric("operationalization", 1) is get_rubric("operationalization", 1)
    assert ("operationalization", 1, "Operationalization readiness") in available_rubrics()
    with pytest.raises(RubricError, match="no rubric 'operationalization' version 99"):
        get_rubric("operationalization", 99)


def _first_question(data: dict[str, Any]) -> dict[str, Any]:
    return data["dimensions"][0]["capabilities"][0]["questions"][0]


def _set(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


Q0 = ["dimensions", 0, "capabilities", 0, "questions", 0]
BROKEN: list[tuple[str, Callable[[dict[str, Any]], None], str, str]] = [
    (
        "duplicate question id",
        lambda d: d["dimensions"][0]["capabilities"][0]["questions"][1].update(
            id=_first_question(d)["id"]
        ),
        "dimensions[0].capabilities[0].questions[1].id",
        "duplicate id",
    ),
    (
        "level 6",
        lambda d: _first_question(d)["levels"].update({6: "beyond"}),
        "dimensions[0].capabilities[0].questions[0].levels.6",
        "unknown level 6",
    ),
    (
        "missing level 3",
        lambda d: _first_question(d)["levels"].pop(3),
        "dimensions[0].capabilities[0].questions[0].levels",
        "missing level 3",
    ),
    (
        "unknown audience",
        _set([*Q0, "audience"], ["leadership", "ceo"]),
        "dimensions[0].capabilities[0].questions[0].audience[1]",
        "unknown audience 'ceo'",
    ),
    (
        "dangling crosswalk framework",
        _set(["dimensions", 0, "capabilities", 0, "crosswalk"], {"itil": ["change"]}),
        "dimensions[0].capabilities[0].crosswalk.itil",
        "does not define",
    ),
    (
        "dangling crosswalk item",
        _set(["dimensions", 0, "capabilities", 0, "crosswalk"], {"dora-core": ["time-travel"]}),
        "dimensions[0].capabilities[0].crosswalk.dora-core[0]",
        "'time-travel' is not an item",
    ),
    (
        "typo'd key",
        lambda d: _first_question(d).update(levles=_first_question(d).pop("levels")),
        "dimensions[0].capabilities[0].questions[0].levles",
        "did you mean 'levels'",
    ),
    (
        "bad id syntax",
        _set([*Q0, "id"], "Obs Process"),
        "dimensions[0].capabilities[0].questions[0].id",
        "must be lower-case",
    ),
    (
        "target level 0",
        _set(["dimensions", 1, "target_level"], 0),
        "dimensions[1].target_level",
        "must be a level from 1 to 5",
    ),
    (
        "negative weight",
        _set(["dimensions", 0, "capabilities", 1, "weight"], -1),
        "dimensions[0].capabilities[1].weight",
        "greater than 0",
    ),
    (
        "fact min >= max",
        lambda d: d["facts"][0].update(min=10, max=10),
        "facts[0]",
        "must be less than max",
    ),
    (
        "empty question text",
        _set([*Q0, "text"], "  "),
        "dimensions[0].capabilities[0].questions[0].text",
        "must not be empty",
    ),
    ("no dimensions", _set(["dimensions"], []), "dimensions", "non-empty list"),
]


@pytest.mark.parametrize(("case", "mutate", "where", "message"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_rubrics_are_refused_with_file_path_and_problem(
    good: dict[str, Any],
    tmp_path: Path,
    case: str,
    mutate: Callable[[dict[str, Any]], None],
    where: str,
    message: str,
) -> None:
    data = copy.deepcopy(good)
    mutate(data)
    path = tmp_path / "operationalization-1.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    with pytest.raises(RubricError) as caught:
        load_rubric(path)
    matching = [i for i in caught.value.issues if i.path == where and message in i.message]
    assert matching, f"{case}: expected {where}: {message}, got:\n{caught.value}"
    assert str(path) in str(caught.value)


def test_duplicate_yaml_keys_are_refused_not_silently_merged() -> None:
    text = SHIPPED.read_text().replace(
        "          1: Processes live in people's heads; nobody could list them.\n",
        "          1: Processes live in people's heads; nobody could list them.\n          1: Again.\n",
        1,
    )
    with pytest.raises(RubricError, match=r"line \d+.*duplicate key 1"):
        load_rubric_text(text, source="dup.yaml")


def test_invalid_yaml_reports_the_line() -> None:
    with pytest.raises(RubricError) as caught:
        load_rubric_text("id: x\nversion: 1\ntitle: [unclosed\n", source="bad.yaml")
    assert "bad.yaml: line 4" in str(caught.value) or "bad.yaml: line 3" in str(caught.value)
    assert "invalid YAML" in str(caught.value)


def test_file_name_must_match_id_and_version(good: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "operationalization-2.yaml"
    path.write_text(yaml.safe_dump(good, sort_keys=False, allow_unicode=True))
    with pytest.raises(RubricError, match="named for 'operationalization' version 2 but declares"):
        load_rubric(path)


def test_all_problems_are_reported_at_once(good: dict[str, Any], tmp_path: Path) -> None:
    data = copy.deepcopy(good)
    _first_question(data)["levels"][7] = "x"
    data["dimensions"][2]["target_level"] = 9
    data["facts"][1]["audience"] = ["nobody"]
    path = tmp_path / "operationalization-1.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    with pytest.raises(RubricError) as caught:
        load_rubric(path)
    assert len(caught.value.issues) >= 3
    text = str(caught.value)
    assert (
        "levels.7" in text
        and "dimensions[2].target_level" in text
        and "facts[1].audience[0]" in text
    )


def test_loaded_rubric_is_immutable() -> None:
    rubric = get_rubric("operationalization", 1)
    with pytest.raises(TypeError):
        rubric.questions[0].levels[1] = "changed"  # type: ignore[index]
    with pytest.raises(AttributeError):
        rubric.title = "changed"  # type: ignore[misc]


def test_scoring_imports_no_django() -> None:
    code = "import sys, scoring.rubric; sys.exit(1 if any(m == 'django' or m.startswith('django.') for m in sys.modules) else 0)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_rubrics_dir_is_read_at_call_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Start-up validation (and forks placed beside the shipped file) rely on this."""
    monkeypatch.setattr(rubric_module, "RUBRICS_DIR", tmp_path)
    assert rubric_path("x", 1) == tmp_path / "x-1.yaml"
