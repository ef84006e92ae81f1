"""The rubric loader: the shipped file is complete and well formed, and every kind of broken
file is refused with a message naming the file, the place inside it and the problem."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring import rubric as rubric_module
from scoring.rubric import (
    LEVELS,
    RUBRICS_DIR,
    Rubric,
    RubricError,
    RubricIssue,
    available_rubrics,
    get_rubric,
    load_rubric,
    load_rubric_text,
    rubric_path,
)

ROOT = Path(__file__).resolve().parents[2]
# Version 1's shape: version 2 is checked in test_rubric_versions.py.
V1 = ("operationalization", 1)
SHIPPED = rubric_path(*V1)

DIMENSIONS = {
    "observability": [
        "obs.process-docs",
        "obs.process-telemetry",
        "obs.system-telemetry",
        "obs.agent-runs",
        "obs.delivery-measurement",
    ],
    "integration": [
        "int.system-access",
        "int.agents-in-tools",
        "int.agent-identity",
        "int.context-ownership",
        "int.shared-capacity",
    ],
    "deployment": [
        "dep.ci-small-batches",
        "dep.automation-iac",
        "dep.safe-release",
        "dep.agent-runtime",
        "dep.ai-governance",
    ],
    "review": [
        "rev.policy-ownership",
        "rev.flow-capacity",
        "rev.automated-verification",
        "rev.agent-output-governance",
        "rev.learning-loop",
    ],
}
FACTS = [
    "fact.prs-per-week",
    "fact.active-reviewers",
    "fact.review-hours-per-pr",
    "fact.reviewer-hours-per-week",
    "fact.hours-to-first-review",
    "fact.deploys-per-week",
    "fact.ai-authored-share",
    "fact.agent-prs-per-week-6m",
    "fact.agent-prs-per-week-12m",
]


@pytest.fixture(scope="module")
def shipped() -> Rubric:
    return get_rubric(*V1)


@pytest.fixture(scope="module")
def good() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    return data


def _write(data: dict[str, Any], path: Path) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def _refusal(path: Path) -> RubricError:
    with pytest.raises(RubricError) as caught:
        load_rubric(path)
    return caught.value


# --- The shipped rubric ---------------------------------------------------------------------


def test_shipped_rubric_has_the_fixed_dimensions_and_capabilities(shipped: Rubric) -> None:
    assert shipped.key == "operationalization-1"
    assert {d.id: [c.id for c in d.capabilities] for d in shipped.dimensions} == DIMENSIONS
    assert list(DIMENSIONS) == [d.id for d in shipped.dimensions]
    assert len(shipped.capabilities) == 20
    assert 45 <= len(shipped.questions) <= 60
    assert [shipped.level_names[level] for level in LEVELS] == [
        "Ad hoc",
        "Repeatable",
        "Defined",
        "Managed",
        "Optimizing",
    ]


def test_dimension_targets_and_weights(shipped: Rubric) -> None:
    targets = {d.id: d.target_level for d in shipped.dimensions}
    assert targets["review"] == 4 and targets["deployment"] == 4
    assert all(target in (3, 4) for target in targets.values())
    assert all(d.weight == 1 for d in shipped.dimensions)
    assert all(f"target {d.target_level}" in d.summary.lower() for d in shipped.dimensions)


def test_every_capability_has_two_or_three_questions_and_a_dora_crosswalk(
    shipped: Rubric,
) -> None:
    for capability in shipped.capabilities:
        assert 2 <= len(capability.questions) <= 3, capability.id
        assert list(capability.levels) == list(LEVELS), capability.id
        assert capability.crosswalk.get("dora-core") or capability.crosswalk.get("dora-ai"), (
            capability.id
        )
        assert capability.weight > 0
        for question in capability.questions:
            assert question.id.startswith(capability.id + "."), question.id
            assert question.capability_id == capability.id
            assert question.dimension_id == capability.dimension_id


def test_every_question_has_five_distinct_anchored_levels(shipped: Rubric) -> None:
    vague = re.compile(r"^(strongly )?(agree|disagree|somewhat|mostly|partly|sometimes)\b", re.I)
    for question in shipped.questions:
        assert list(question.levels) == list(LEVELS), question.id
        texts = list(question.levels.values())
        assert len(set(texts)) == 5, question.id
        for level, text in question.levels.items():
            assert len(text) >= 25, f"{question.id} level {level} is too thin: {text!r}"
            assert not vague.match(text), f"{question.id} level {level} is not anchored: {text!r}"
        assert question.text.endswith("?"), question.id


def test_leaders_and_engineers_both_answer_every_dimension(shipped: Rubric) -> None:
    for audience in ("leadership", "engineering"):
        seen = {q.dimension_id for q in shipped.questions_for(audience)}
        assert seen == set(DIMENSIONS), audience
    for audience in shipped.audiences:  # security is asked only from version 2 on
        assert len(shipped.questions_for(audience)) >= 10, audience
    assert len(shipped.questions_for(None)) == len(shipped.questions)
    assert shipped.questions_for("consultant") == ()


def test_dora_ai_framework_lists_the_seven_capabilities(shipped: Rubric) -> None:
    assert set(shipped.frameworks["dora-ai"].items) == {
        "clear-ai-stance",
        "healthy-data-ecosystems",
        "ai-accessible-internal-data",
        "strong-version-control",
        "small-batches",
        "user-centric-focus",
        "quality-internal-platforms",
    }
    assert shipped.frameworks["dora-ai"].items["clear-ai-stance"] == (
        "Clear and communicated AI stance"
    )
    assert shipped.frameworks["dora-core"].url.startswith("https://dora.dev/")


def test_fact_questions_are_present_with_sane_bounds(shipped: Rubric) -> None:
    assert [f.id for f in shipped.facts] == FACTS
    prs = shipped.fact("fact.prs-per-week")
    assert prs.integer and prs.minimum == 0 and prs.maximum == 20000
    assert not prs.minimum <= 1_000_000 <= prs.maximum
    reviewers = shipped.fact("fact.active-reviewers")
    assert (reviewers.minimum, reviewers.maximum, reviewers.integer) == (1, 5000, True)
    share = shipped.fact("fact.ai-authored-share")
    assert (share.minimum, share.maximum, share.unit) == (0, 100, "percent")
    for fact in shipped.facts:
        assert fact.minimum < fact.maximum and fact.unit and fact.audience, fact.id
    assert shipped.facts_for("engineering")
    assert all("leadership" in f.audience for f in shipped.facts_for("leadership"))


def test_evidence_hooks_follow_the_naming_scheme_and_are_documented(shipped: Rubric) -> None:
    used = {hook for q in shipped.questions for hook in q.evidence}
    assert used
    assert all(hook.split(".")[0] in {"repo", "history", "github", "delivery"} for hook in used)
    table = (ROOT / "docs" / "rubric.md").read_text(encoding="utf-8").split("## Evidence hooks")[1]
    documented = set(re.findall(r"^\| `([a-z]+\.[a-z0-9-]+)` \|", table, re.M))
    assert used == documented


def test_lookups_by_id(shipped: Rubric) -> None:
    question = shipped.questions[0]
    assert shipped.question(question.id) is question
    assert shipped.capability(question.capability_id).dimension_id == question.dimension_id
    assert shipped.dimension("review").capabilities[0].id == "rev.policy-ownership"
    assert shipped.has_item(question.id) and shipped.has_item("fact.prs-per-week")
    assert not shipped.has_item("obs.nothing") and not shipped.has_item("review")
    for lookup, wrong in [
        (shipped.question, "fact.prs-per-week"),
        (shipped.fact, question.id),
        (shipped.capability, "review"),
        (shipped.dimension, "obs.process-docs"),
    ]:
        with pytest.raises(KeyError):
            lookup(wrong)


def test_loaded_rubric_is_immutable_and_hashable(shipped: Rubric) -> None:
    with pytest.raises(TypeError):
        shipped.questions[0].levels[1] = "changed"  # type: ignore[index]
    with pytest.raises(TypeError):
        shipped.frameworks["x"] = shipped.frameworks["dora-ai"]  # type: ignore[index]
    with pytest.raises(AttributeError):
        shipped.title = "changed"  # type: ignore[misc]
    assert len(set(shipped.questions)) == len(shipped.questions)
    assert {shipped: 1}[get_rubric(*V1)] == 1


def test_loading_twice_gives_equal_rubrics(shipped: Rubric) -> None:
    again = load_rubric(SHIPPED)
    assert again == shipped and again is not shipped


def test_get_rubric_is_cached() -> None:
    assert get_rubric("operationalization", 1) is get_rubric("operationalization", 1)
    assert get_rubric.cache_info().hits >= 1


@pytest.mark.parametrize(
    ("rubric_id", "version"),
    [
        ("operationalization", 99),
        ("operationalization", 0),
        ("no-such-rubric", 1),
        ("../rubrics/operationalization", 1),
        ("operationalization\n", 1),
    ],
)
def test_get_rubric_refuses_what_is_not_installed(rubric_id: str, version: int) -> None:
    with pytest.raises(RubricError, match=f"no rubric {re.escape(repr(rubric_id))} version"):
        get_rubric(rubric_id, version)


def test_available_rubrics_lists_the_shipped_files() -> None:
    listed = available_rubrics()
    assert ("operationalization", 1, "Operationalization readiness") in listed
    assert listed == sorted(listed)
    assert len(listed) == len(list(RUBRICS_DIR.glob("*-*.yaml")))


def test_rubric_directory_is_read_at_call_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, good: dict[str, Any]
) -> None:
    """Forks placed beside the shipped file are offered, and validated, like it."""
    fork = copy.deepcopy(good)
    fork.update(id="acme-readiness", version=2, title="ACME readiness")
    _write(fork, tmp_path / "acme-readiness-2.yaml")
    (tmp_path / "notes.yaml").write_text("not: a rubric\n")
    monkeypatch.setattr(rubric_module, "RUBRICS_DIR", tmp_path)
    get_rubric.cache_clear()
    try:
        assert rubric_path("x", 1) == tmp_path / "x-1.yaml"
        assert available_rubrics() == [("acme-readiness", 2, "ACME readiness")]
    finally:
        get_rubric.cache_clear()


LEVEL_TEXTS = "{1: One., 2: Two., 3: Three., 4: Four., 5: Five.}"


def _tiny(question_levels: str = LEVEL_TEXTS, fact_id: str = "fact.count") -> str:
    """The smallest valid rubric: one dimension, capability, question and fact."""
    return f"""
id: tiny
version: 1
title: Tiny
level_names: {LEVEL_TEXTS}
dimensions:
  - id: dim
    title: Dim
    capabilities:
      - id: dim.cap
        title: Cap
        levels: {LEVEL_TEXTS}
        questions:
          - id: dim.cap.q
            text: Is it so?
            audience: [product]
            levels: {question_levels}
facts:
  - id: {json.dumps(fact_id)}
    text: How many?
    unit: things
    min: 0
    max: 10
    audience: [product]
"""


def test_a_minimal_rubric_loads_with_defaults() -> None:
    tiny = load_rubric_text(_tiny())
    assert tiny.dimension("dim").target_level == 4
    assert tiny.dimension("dim").weight == 1.0
    question = tiny.question("dim.cap.q")
    assert (question.help, question.evidence, dict(tiny.frameworks)) == ("", (), {})
    assert tiny.fact("fact.count").integer is False
    assert tiny.questions_for("product") == (question,)
    assert tiny.questions_for("leadership") == ()


def test_issue_and_error_text() -> None:
    issue = RubricIssue("r-1.yaml", "dimensions[0].id", "duplicate id 'x'")
    assert str(issue) == "r-1.yaml: dimensions[0].id: duplicate id 'x'"
    assert str(RubricIssue("r-1.yaml", "", "must be a mapping")) == (
        "r-1.yaml: (top level): must be a mapping"
    )
    error = RubricError([issue, issue])
    assert str(error) == f"{issue}\n{issue}" and error.issues == (issue, issue)


# --- Broken variants of the shipped file ----------------------------------------------------

Mutation = Callable[[dict[str, Any]], None]
Q0 = "dimensions[0].capabilities[0].questions[0]"


def _question(data: dict[str, Any], d: int = 0, c: int = 0, q: int = 0) -> dict[str, Any]:
    question: dict[str, Any] = data["dimensions"][d]["capabilities"][c]["questions"][q]
    return question


def _capability(data: dict[str, Any], d: int = 0, c: int = 0) -> dict[str, Any]:
    capability: dict[str, Any] = data["dimensions"][d]["capabilities"][c]
    return capability


def _rename_key(mapping: dict[str, Any], old: str, new: str) -> None:
    items = list(mapping.items())
    mapping.clear()
    mapping.update((new if key == old else key, value) for key, value in items)


BROKEN: list[tuple[str, Mutation, str, str]] = [
    (
        "duplicate question id",
        lambda d: _question(d, q=1).update(id=_question(d)["id"]),
        "dimensions[0].capabilities[0].questions[1].id",
        "duplicate id 'obs.process-docs.inventory' (first used at " + Q0 + ".id)",
    ),
    (
        "capability id reused as a fact id",
        lambda d: d["facts"][0].update(id="obs.process-docs"),
        "facts[0].id",
        "duplicate id 'obs.process-docs'",
    ),
    (
        "level 6",
        lambda d: _question(d)["levels"].update({6: "Beyond optimizing."}),
        f"{Q0}.levels.6",
        "unknown level 6: levels are 1, 2, 3, 4 and 5",
    ),
    (
        "level 0",
        lambda d: _capability(d, 2, 1)["levels"].update({0: "Nothing at all."}),
        "dimensions[2].capabilities[1].levels.0",
        "unknown level 0",
    ),
    (
        "level named high",
        lambda d: _question(d)["levels"].update(high="Very good."),
        f"{Q0}.levels.high",
        "unknown level 'high'",
    ),
    (
        "missing level 3",
        lambda d: _question(d)["levels"].pop(3),
        f"{Q0}.levels",
        "missing level 3",
    ),
    (
        "empty level text",
        lambda d: _question(d)["levels"].update({4: " "}),
        f"{Q0}.levels.4",
        "must not be empty",
    ),
    (
        "two levels with the same text",
        lambda d: _question(d)["levels"].update({2: _question(d)["levels"][1]}),
        f"{Q0}.levels",
        "two levels have the same description",
    ),
    (
        "unknown audience",
        lambda d: _question(d).update(audience=["leadership", "ceo"]),
        f"{Q0}.audience[1]",
        "unknown audience 'ceo': use one of leadership, engineering, operations, product",
    ),
    (
        "no audience",
        lambda d: _question(d).update(audience=[]),
        f"{Q0}.audience",
        "must be a non-empty list",
    ),
    (
        "dangling crosswalk framework",
        lambda d: _capability(d).update(crosswalk={"itil": ["change-enablement"]}),
        "dimensions[0].capabilities[0].crosswalk.itil",
        "refers to framework 'itil', which the rubric does not define",
    ),
    (
        "dangling crosswalk item",
        lambda d: _capability(d, 3, 1).update(crosswalk={"dora-core": ["time-travel"]}),
        "dimensions[3].capabilities[1].crosswalk.dora-core[0]",
        "'time-travel' is not an item of framework 'dora-core'",
    ),
    (
        "typo'd key",
        lambda d: _rename_key(_question(d), "levels", "levles"),
        f"{Q0}.levles",
        "unknown key (did you mean 'levels'?)",
    ),
    (
        "missing key",
        lambda d: _question(d).pop("text"),
        Q0,
        "missing required key 'text'",
    ),
    (
        "bad id syntax",
        lambda d: _question(d).update(id="Obs Process"),
        f"{Q0}.id",
        "id 'Obs Process' must be lower-case letters, digits and dashes",
    ),
    (
        "question filed under another capability",
        lambda d: _question(d).update(id="rev.policy-ownership.elsewhere"),
        f"{Q0}.id",
        "must start with its capability's id 'obs.process-docs.'",
    ),
    (
        "bad evidence id",
        lambda d: _question(d).update(evidence=["GitHub Branch Protection"]),
        f"{Q0}.evidence[0]",
        "must be lower-case letters",
    ),
    (
        "target level 0",
        lambda d: d["dimensions"][1].update(target_level=0),
        "dimensions[1].target_level",
        "must be a level from 1 to 5, not 0",
    ),
    (
        "weight -1",
        lambda d: _capability(d, 0, 1).update(weight=-1),
        "dimensions[0].capabilities[1].weight",
        "must be greater than 0, not -1",
    ),
    (
        "weight as text",
        lambda d: d["dimensions"][0].update(weight="heavy"),
        "dimensions[0].weight",
        "must be a number, not text",
    ),
    (
        "fact min equal to max",
        lambda d: d["facts"][0].update(min=10, max=10),
        "facts[0]",
        "min (10) must be less than max (10)",
    ),
    (
        "fact min above max",
        lambda d: d["facts"][2].update(min=50, max=5),
        "facts[2]",
        "min (50) must be less than max (5)",
    ),
    (
        "fractional bound on an integer fact",
        lambda d: d["facts"][0].update(max=99.5),
        "facts[0].max",
        "must be a whole number",
    ),
    (
        "empty question text",
        lambda d: _question(d).update(text="  "),
        f"{Q0}.text",
        "must not be empty",
    ),
    (
        "question text that is a number",
        lambda d: _question(d).update(text=42),
        f"{Q0}.text",
        "must be text, not int",
    ),
    ("no dimensions", lambda d: d.update(dimensions=[]), "dimensions", "must be a non-empty list"),
    (
        "level names missing",
        lambda d: d.pop("level_names"),
        "",
        "missing required key 'level_names'",
    ),
    ("version zero", lambda d: d.update(version=0), "version", "must be a whole number from 1"),
]


@pytest.mark.parametrize(("case", "mutate", "where", "message"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_rubrics_are_refused_with_file_path_and_problem(
    good: dict[str, Any],
    tmp_path: Path,
    case: str,
    mutate: Mutation,
    where: str,
    message: str,
) -> None:
    data = copy.deepcopy(good)
    mutate(data)
    path = _write(data, tmp_path / "operationalization-1.yaml")
    error = _refusal(path)
    matching = [i for i in error.issues if i.path == where and message in i.message]
    assert matching, f"{case}: expected {where}: {message}, got:\n{error}"
    # One mistake, one message (a renamed key is both unknown and missing).
    assert len(error.issues) == (2 if case == "typo'd key" else 1), str(error)
    assert all(issue.file == str(path) for issue in error.issues)
    assert f"{path}: {where or '(top level)'}: " in str(error)


def test_file_name_must_match_id_and_version(good: dict[str, Any], tmp_path: Path) -> None:
    error = _refusal(_write(good, tmp_path / "operationalization-2.yaml"))
    assert [(i.path, i.message) for i in error.issues] == [
        (
            "version",
            "the file is named for 'operationalization' version 2 but declares "
            "'operationalization' version 1: rename the file or fix the id and version",
        )
    ]
    assert "'acme' version 1" in str(_refusal(_write(good, tmp_path / "acme-1.yaml")))


def test_a_file_not_named_like_a_rubric_is_not_checked_against_its_name(
    good: dict[str, Any], tmp_path: Path
) -> None:
    assert load_rubric(_write(good, tmp_path / "draft.yaml")).key == "operationalization-1"


def test_all_problems_are_reported_at_once(good: dict[str, Any], tmp_path: Path) -> None:
    data = copy.deepcopy(good)
    _question(data)["levels"][7] = "Beyond."
    data["dimensions"][2]["target_level"] = 9
    data["facts"][1]["audience"] = ["nobody"]
    _capability(data, 3, 4)["weight"] = 0
    _rename_key(_question(data, 0, 0, 1), "help", "hlep")
    error = _refusal(_write(data, tmp_path / "operationalization-3.yaml"))
    assert {issue.path for issue in error.issues} == {
        f"{Q0}.levels.7",
        "dimensions[2].target_level",
        "facts[1].audience[0]",
        "dimensions[3].capabilities[4].weight",
        "dimensions[0].capabilities[0].questions[1].hlep",
        "version",  # and the file name does not match either
    }
    assert len(str(error).splitlines()) == len(error.issues) == 6


def test_non_mapping_documents_are_refused() -> None:
    for text, kind in [("", "empty"), ("- a\n- b\n", "a list"), ("just text\n", "text")]:
        with pytest.raises(
            RubricError, match=f"x.yaml: \\(top level\\): must be a mapping, not {kind}"
        ):
            load_rubric_text(text, source="x.yaml")


def test_unreadable_file_is_a_rubric_error(tmp_path: Path) -> None:
    with pytest.raises(RubricError, match="cannot read the file"):
        load_rubric(tmp_path / "missing-1.yaml")


# --- YAML-level problems --------------------------------------------------------------------


def _line_of(text: str, needle: str, occurrence: int = 1) -> int:
    index = -1
    for _ in range(occurrence):
        index = text.index(needle, index + 1)
    return text.count("\n", 0, index) + 1


def test_duplicate_level_key_is_refused_not_silently_merged() -> None:
    original = SHIPPED.read_text(encoding="utf-8")
    first = "              3: A maintained inventory names each recurring process"
    text = original.replace(first, "              3: Twice.\n" + first, 1)
    with pytest.raises(RubricError) as caught:
        load_rubric_text(text, source="dup.yaml")
    (issue,) = caught.value.issues
    assert issue.path == f"{Q0}.levels.3"
    line = _line_of(text, "              3: Twice.")
    assert issue.message.startswith(f"duplicate key '3' on line {line + 1} (first on line {line})")
    assert str(issue).startswith("dup.yaml: dimensions[0].capabilities[0].questions[0].levels.3:")


def test_duplicate_question_id_key_and_other_duplicates_are_all_reported() -> None:
    text = SHIPPED.read_text(encoding="utf-8")
    text = text.replace(
        "          - id: obs.process-docs.followable\n",
        "          - id: obs.process-docs.followable\n            id: obs.process-docs.copy\n",
        1,
    )
    text = text.replace("  dora-ai:\n    title:", "  dora-ai:\n    title: Twice\n    title:", 1)
    text = text.replace("\nversion: 1\n", "\nversion: 1\nlevel_names: {}\n", 1)
    with pytest.raises(RubricError) as caught:
        load_rubric_text(text, source="dup.yaml")
    paths = [issue.path for issue in caught.value.issues]
    assert "dimensions[0].capabilities[0].questions[1].id" in paths
    assert "frameworks.dora-ai.title" in paths
    assert "level_names" in paths
    assert all("duplicate key" in issue.message for issue in caught.value.issues)


def test_invalid_yaml_reports_line_and_column() -> None:
    text = "id: x\nversion: 1\ntitle: [unclosed\nlevel_names: {}\n"
    with pytest.raises(RubricError) as caught:
        load_rubric_text(text, source="bad.yaml")
    (issue,) = caught.value.issues
    assert re.fullmatch(r"line [345], column \d+", issue.path), issue.path
    assert str(issue).startswith(f"bad.yaml: {issue.path}: invalid YAML: ")


def test_invalid_yaml_in_the_shipped_file_points_at_the_broken_line(tmp_path: Path) -> None:
    text = SHIPPED.read_text(encoding="utf-8").replace(
        "    title: Review\n", "    title: Review\n   summary: [not closed\n", 1
    )
    path = tmp_path / "operationalization-1.yaml"
    path.write_text(text, encoding="utf-8")
    (issue,) = _refusal(path).issues
    assert issue.path.startswith(f"line {_line_of(text, '   summary: [not closed')}, column ")
    assert issue.file == str(path) and issue.message.startswith("invalid YAML")


@settings(max_examples=60, deadline=None)
@given(st.integers().filter(lambda n: n not in LEVELS))
def test_any_level_outside_one_to_five_is_refused(level: int) -> None:
    levels = LEVEL_TEXTS.replace("}", f", {level}: Out of range.}}")
    with pytest.raises(RubricError) as caught:
        load_rubric_text(_tiny(question_levels=levels))
    assert [i.path for i in caught.value.issues] == [
        f"dimensions[0].capabilities[0].questions[0].levels.{level}"
    ]


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet="abcdimXYZ019-._ \n", max_size=12))
def test_ids_are_accepted_exactly_when_they_match_the_pattern(candidate: str) -> None:
    well_formed = re.fullmatch(r"[a-z][a-z0-9-]*(\.[a-z0-9-]+)*", candidate) is not None
    taken = candidate in {"dim", "dim.cap", "dim.cap.q"}
    try:
        load_rubric_text(_tiny(fact_id=candidate))
    except RubricError as error:
        assert not well_formed or taken, str(error)
        assert [i.path for i in error.issues] == ["facts[0].id"]
    else:
        assert well_formed and not taken


# --- Boundaries -----------------------------------------------------------------------------


def test_scoring_imports_no_django() -> None:
    code = (
        "import sys, scoring, scoring.rubric; "
        "scoring.rubric.get_rubric(*scoring.rubric.DEFAULT_RUBRIC); "
        "bad = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')); "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_released_rubric_files_never_change() -> None:
    import hashlib

    from scoring.rubric import RUBRICS_DIR

    lines = (RUBRICS_DIR / "published.sha256").read_text().splitlines()
    published = dict(
        reversed(line.split()) for line in lines if line.strip() and not line.startswith("#")
    )
    assert "operationalization-1.yaml" in published
    for name, digest in published.items():
        actual = hashlib.sha256((RUBRICS_DIR / name).read_bytes()).hexdigest()
        assert actual == digest, (
            f"{name} was released and assessments pin it: never edit it in place. Copy it to "
            "the next version instead (docs/rubric.md, 'Versions are immutable')."
        )


def test_authoring_problems_name_each_broken_rule_at_its_edge() -> None:
    from scoring.rubric import authoring_problems
    from tests.scoring.helpers import ALL, LEVELS, tiny_rubric_text

    text = tiny_rubric_text({"a": {"a.x": 4}})
    text = text.replace("text: Question 1 on a.x?", "text: Is it one? Or two?")
    text = text.replace("text: Question 2 on a.x?", "text: Question two has no mark")
    # A clause of four words repeated (in other letter case, after a short clause) is flagged;
    # a repeated clause of three words is not.
    repeated = (
        "{1: Reviews are done weekly. Few, 2: And more; reviews ARE done weekly.,"
        " 3: Three words here. x, 4: three words here., 5: Five.}"
    )
    text = text.replace(
        f"text: Question 3 on a.x?\n            audience: {ALL}\n            levels: {LEVELS}",
        f"text: Question 3 on a.x?\n            audience: {ALL}\n            levels: {repeated}",
    )
    assert repeated in text
    problems = authoring_problems(load_rubric_text(text, source="tiny-1.yaml"))
    assert problems == [
        "questions[a.x.q1].text: ask exactly one question, ending in '?'",
        "questions[a.x.q2].text: ask exactly one question, ending in '?'",
        "questions[a.x.q3].levels.2: repeats level 1: 'reviews are done weekly'",
        "capabilities[a.x].crosswalk: map to a framework",
    ]


@pytest.mark.parametrize(
    ("title", "kind"),
    [("{a: 1}", "a mapping"), ("[a]", "a list"), ("true", "true/false"), ("3", "int")],
)
def test_a_value_of_the_wrong_kind_is_named_in_plain_words(title: str, kind: str) -> None:
    from tests.scoring.helpers import tiny_rubric_text

    text = tiny_rubric_text().replace("title: Tiny", f"title: {title}")
    with pytest.raises(RubricError) as caught:
        load_rubric_text(text, source="tiny-1.yaml")
    assert [(i.path, i.message) for i in caught.value.issues] == [
        ("title", f"must be text, not {kind}")
    ]
