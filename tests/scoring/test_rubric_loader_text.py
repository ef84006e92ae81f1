"""The rubric loader on documents written here, not on the shipped file.

The shipped rubric is loaded once per process and cached, so tests that only read it never run
the loader again (and mutation testing cannot see the loader's bugs through them). These tests
load small documents from text and temporary files: a complete one reads back with every value
it declares, and each broken variant is refused with exactly the messages a rubric author would
read, each naming the place inside the file.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from scoring import rubric as rubric_module
from scoring.rubric import (
    AUDIENCES,
    Capability,
    Dimension,
    FactQuestion,
    Framework,
    Question,
    Rubric,
    RubricError,
    available_rubrics,
    get_rubric,
    load_rubric,
    load_rubric_text,
)

ONE_TO_FIVE = (1, 2, 3, 4, 5)
LEVEL_NAMES = {5: "Optimizing", 4: "Managed", 3: "Defined", 2: "Repeatable", 1: "Ad hoc"}
CAP_LEVELS = {1: "Nothing yet.", 2: "Some teams.", 3: "Most teams.", 4: "All teams.", 5: "Tuned."}
SIZE_LEVELS = {
    1: "Changes of weeks.",
    2: "Changes of days.",
    3: "Daily changes.",
    4: "Hourly changes.",
    5: "Continuous flow.",
}
REVIEW_LEVELS = {
    1: "No review.",
    2: "Ad hoc review.",
    3: "Rules.",
    4: "Rules kept.",
    5: "Measured.",
}
ID_RULE = (
    "must be lower-case letters, digits and dashes in dot-separated parts, starting with a "
    "letter (like 'rev.policy-ownership.bot-bypass')"
)
ROLES = "leadership, engineering, operations, product, security"
Q0 = "dimensions[0].capabilities[0].questions[0]"
Q1 = "dimensions[0].capabilities[0].questions[1]"
C0 = "dimensions[0].capabilities[0]"


def document() -> dict[str, Any]:
    """A small rubric that uses every key the loader reads, optional ones included."""
    return {
        "id": "tiny",
        "version": 1,
        "title": "Tiny readiness",
        "description": "A rubric for the loader's tests.",
        "level_names": dict(LEVEL_NAMES),  # written 5..1: the loader orders them
        "frameworks": {
            "dora": {
                "title": "DORA capabilities",
                "url": "https://dora.dev/capabilities/",
                "items": {"small-batches": "Working in small batches", "testing": "Tests"},
            },
            # "testing" is an item of two frameworks: item ids are per framework.
            "sre": {"title": "Site reliability", "items": {"testing": "Testing for reliability"}},
            "itil": {"title": "ITIL", "items": {"change": "Change enablement"}},
        },
        "dimensions": [
            {
                "id": "flow",
                "title": "Flow",
                "summary": "How work moves.",
                "weight": 2,
                "target_level": 3,
                "capabilities": [
                    {
                        "id": "flow.batches",
                        "title": "Small batches",
                        "summary": "Changes are small.",
                        "weight": 0.5,
                        "levels": dict(CAP_LEVELS),
                        "crosswalk": {"dora": ["small-batches", "testing"], "sre": ["testing"]},
                        "questions": [
                            {
                                "id": "flow.batches.size",
                                "text": "How large is a typical change?",
                                "help": "Count the lines of the last ten changes.",
                                "audience": ["engineering", "leadership"],
                                "levels": dict(SIZE_LEVELS),
                                "evidence": ["history.change-size", "repo.tests"],
                            },
                            {
                                "id": "flow.batches.review",
                                "text": "Who reviews a change?",
                                "audience": ["operations"],
                                "levels": dict(REVIEW_LEVELS),
                                # the same hook may back several questions
                                "evidence": ["history.change-size"],
                            },
                        ],
                    }
                ],
            },
            {
                "id": "safety",
                "title": "Safety",
                "capabilities": [
                    {
                        "id": "safety.rollback",
                        "title": "Rollback",
                        "levels": dict(CAP_LEVELS),
                        "questions": [
                            {
                                "id": "safety.rollback.time",
                                "text": "How fast can you roll back?",
                                "audience": ["security"],
                                "levels": dict(SIZE_LEVELS),
                            }
                        ],
                    }
                ],
            },
        ],
        "facts": [
            {
                "id": "fact.deploys",
                "text": "How many deploys a week?",
                "help": "Count last month's.",
                "unit": "deploys",
                "min": 0,
                "max": 500,
                "integer": True,
                "audience": ["engineering"],
            },
            {
                "id": "fact.share",
                "text": "What share of changes is reviewed?",
                "unit": "percent",
                "min": 0.5,
                "max": 100,
                "audience": ["leadership", "product"],
            },
        ],
    }


def _text(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _load(data: Any) -> Rubric:
    return load_rubric_text(_text(data), source="tiny-1.yaml")


def _issues(data_or_text: Any, source: str = "tiny-1.yaml") -> list[tuple[str, str]]:
    text = data_or_text if isinstance(data_or_text, str) else _text(data_or_text)
    with pytest.raises(RubricError) as caught:
        load_rubric_text(text, source=source)
    assert all(issue.file == source for issue in caught.value.issues)
    return [(issue.path, issue.message) for issue in caught.value.issues]


def _dim(data: dict[str, Any], d: int = 0) -> dict[str, Any]:
    dimension: dict[str, Any] = data["dimensions"][d]
    return dimension


def _cap(data: dict[str, Any], d: int = 0, c: int = 0) -> dict[str, Any]:
    capability: dict[str, Any] = data["dimensions"][d]["capabilities"][c]
    return capability


def _q(data: dict[str, Any], q: int = 0) -> dict[str, Any]:
    question: dict[str, Any] = _cap(data)["questions"][q]
    return question


# --- A complete document reads back with every value ---------------------------------------


def test_every_declared_value_is_read_back() -> None:
    rubric = _load(document())
    assert (rubric.id, rubric.version, rubric.key) == ("tiny", 1, "tiny-1")
    assert (rubric.title, rubric.description) == (
        "Tiny readiness",
        "A rubric for the loader's tests.",
    )
    assert list(rubric.level_names.items()) == sorted(LEVEL_NAMES.items())

    assert list(rubric.frameworks) == ["dora", "sre", "itil"]
    dora = rubric.frameworks["dora"]
    assert (dora.id, dora.title, dora.url) == (
        "dora",
        "DORA capabilities",
        "https://dora.dev/capabilities/",
    )
    assert dict(dora.items) == {"small-batches": "Working in small batches", "testing": "Tests"}
    assert rubric.frameworks["sre"].url == ""  # optional
    assert dict(rubric.frameworks["sre"].items) == {"testing": "Testing for reliability"}

    flow, safety = rubric.dimensions
    assert (flow.id, flow.title, flow.summary, flow.target_level) == (
        "flow",
        "Flow",
        "How work moves.",
        3,
    )
    assert flow.weight == 2.0 and isinstance(flow.weight, float)
    # Left out: no summary, weight 1, target level 4.
    assert (safety.id, safety.title, safety.summary, safety.weight, safety.target_level) == (
        "safety",
        "Safety",
        "",
        1.0,
        4,
    )
    assert [c.id for c in flow.capabilities] == ["flow.batches"]

    batches = rubric.capability("flow.batches")
    assert (batches.dimension_id, batches.title, batches.summary, batches.weight) == (
        "flow",
        "Small batches",
        "Changes are small.",
        0.5,
    )
    assert dict(batches.levels) == CAP_LEVELS
    assert dict(batches.crosswalk) == {"dora": ("small-batches", "testing"), "sre": ("testing",)}
    rollback = rubric.capability("safety.rollback")
    assert (rollback.dimension_id, rollback.summary, rollback.weight) == ("safety", "", 1.0)
    assert dict(rollback.crosswalk) == {}

    size = rubric.question("flow.batches.size")
    assert size == Question(
        id="flow.batches.size",
        dimension_id="flow",
        capability_id="flow.batches",
        text="How large is a typical change?",
        help="Count the lines of the last ten changes.",
        audience=("engineering", "leadership"),
        levels=SIZE_LEVELS,
        evidence=("history.change-size", "repo.tests"),
    )
    review = rubric.question("flow.batches.review")
    assert (review.help, review.audience, review.evidence) == (
        "",
        ("operations",),
        ("history.change-size",),
    )
    assert dict(review.levels) == REVIEW_LEVELS
    time = rubric.question("safety.rollback.time")
    assert (time.dimension_id, time.capability_id, time.evidence) == (
        "safety",
        "safety.rollback",
        (),
    )

    deploys, share = rubric.facts
    assert deploys == FactQuestion(
        id="fact.deploys",
        text="How many deploys a week?",
        help="Count last month's.",
        unit="deploys",
        minimum=0.0,
        maximum=500.0,
        integer=True,
        audience=("engineering",),
    )
    assert (share.help, share.unit, share.minimum, share.maximum, share.integer) == (
        "",
        "percent",
        0.5,
        100.0,
        False,
    )
    assert share.audience == ("leadership", "product")


def test_listings_and_lookups_of_a_loaded_rubric() -> None:
    rubric = _load(document())
    assert [c.id for c in rubric.capabilities] == ["flow.batches", "safety.rollback"]
    assert [q.id for q in rubric.questions] == [
        "flow.batches.size",
        "flow.batches.review",
        "safety.rollback.time",
    ]
    assert rubric.dimension("safety").capabilities[0] is rubric.capability("safety.rollback")
    assert rubric.fact("fact.share").unit == "percent"
    assert rubric.has_item("flow.batches.review") and rubric.has_item("fact.deploys")
    assert not rubric.has_item("flow.batches") and not rubric.has_item("flow")
    for lookup, wrong in [
        (rubric.dimension, "flow.batches"),
        (rubric.capability, "flow"),
        (rubric.question, "fact.deploys"),
        (rubric.fact, "flow.batches.size"),
    ]:
        with pytest.raises(KeyError):
            lookup(wrong)
    by_role = {role: [q.id for q in rubric.questions_for(role)] for role in AUDIENCES}
    assert by_role == {
        "leadership": ["flow.batches.size"],
        "engineering": ["flow.batches.size"],
        "operations": ["flow.batches.review"],
        "product": [],
        "security": ["safety.rollback.time"],
    }
    assert rubric.questions_for(None) == rubric.questions
    assert rubric.questions_for("consultant") == ()
    assert [f.id for f in rubric.facts_for("product")] == ["fact.share"]
    assert [f.id for f in rubric.facts_for("leadership")] == ["fact.share"]
    assert [f.id for f in rubric.facts_for("engineering")] == ["fact.deploys"]
    assert rubric.facts_for("operations") == () and rubric.facts_for("consultant") == ()
    assert rubric.facts_for(None) == rubric.facts
    assert rubric.audiences == AUDIENCES


def test_a_loaded_rubric_cannot_be_changed_through_its_containers() -> None:
    rubric = _load(document())
    capability = rubric.capability("flow.batches")
    for container, key in [
        (rubric.level_names, 1),
        (rubric.frameworks, "x"),
        (rubric.frameworks["dora"].items, "x"),
        (capability.levels, 1),
        (capability.crosswalk, "x"),
        (rubric.question("flow.batches.size").levels, 1),
    ]:
        with pytest.raises(TypeError):
            # The test writes into a read-only mapping on purpose: that write must fail.
            container[key] = "changed"  # type: ignore[index]
    assert isinstance(capability.crosswalk["dora"], tuple)
    assert isinstance(rubric.dimensions, tuple) and isinstance(rubric.facts, tuple)


def test_the_model_freezes_what_it_is_given() -> None:
    """Built directly (as forks and tests do), every container is copied into an immutable one,
    and levels are ordered 1 to 5, so a caller's list or dict cannot change a shared rubric."""
    levels = {3: "c", 1: "a", 2: "b", 5: "e", 4: "d"}
    # Mutable lists and dicts where the model declares tuples and read-only mappings, on
    # purpose (hence the type ignores below): the model must copy them into frozen ones.
    audience, evidence = ["product"], ["repo.tests"]
    question = Question("d.c.q", "d", "d.c", "Q?", "", audience, levels, evidence)  # type: ignore[arg-type]
    crosswalk = {"dora": ["testing"]}
    capability = Capability("d.c", "d", "C", "", 1.0, levels, crosswalk, [question])  # type: ignore[arg-type]
    dimension = Dimension("d", "D", "", 1.0, 4, [capability])  # type: ignore[arg-type]
    fact = FactQuestion("fact.n", "N?", "", "n", 0.0, 1.0, False, ["product"])  # type: ignore[arg-type]
    items = {"testing": "Tests"}
    framework = Framework("dora", "DORA", "", items)
    rubric = Rubric("r", 1, "R", "", levels, {"dora": framework}, [dimension], [fact])  # type: ignore[arg-type]
    audience.append("security")
    evidence.append("repo.other")
    levels[6] = "f"
    crosswalk["dora"].append("other")
    items["other"] = "Other"
    assert (question.audience, question.evidence) == (("product",), ("repo.tests",))
    assert list(question.levels) == list(capability.levels) == list(rubric.level_names)
    assert list(question.levels) == [1, 2, 3, 4, 5]
    assert capability.crosswalk["dora"] == ("testing",)
    assert capability.questions == (question,) and dimension.capabilities == (capability,)
    assert fact.audience == ("product",) and rubric.facts == (fact,)
    assert dict(framework.items) == {"testing": "Tests"}
    assert rubric.dimensions == (dimension,)
    # Writes into read-only mappings, on purpose: each must fail.
    with pytest.raises(TypeError):
        framework.items["x"] = "y"  # type: ignore[index]
    with pytest.raises(TypeError):
        rubric.frameworks["x"] = framework  # type: ignore[index]
    assert rubric.questions_for("product") == (question,)


def test_ids_outside_the_shared_namespace_may_repeat_one() -> None:
    """Dimensions, capabilities, questions and facts share one id namespace; the rubric's own
    id, framework ids, framework items and evidence hooks do not take part in it."""
    data = document()
    data["id"] = "flow"
    data["frameworks"]["safety"] = data["frameworks"].pop("itil")
    data["frameworks"]["sre"]["items"]["flow.batches"] = "Named like a capability"
    rubric = _load(data)
    assert rubric.id == "flow" and "safety" in rubric.frameworks
    # Shared between two questions in document(); shared between frameworks too.
    assert rubric.question("flow.batches.review").evidence == ("history.change-size",)


def test_optional_lists_may_be_empty_or_left_out() -> None:
    data = document()
    data["facts"] = []
    del data["frameworks"]
    del _cap(data)["crosswalk"]
    rubric = _load(data)
    assert rubric.facts == () and dict(rubric.frameworks) == {}
    data.pop("facts")
    assert _load(data).facts == ()


def test_an_integer_flag_left_empty_means_not_an_integer() -> None:
    data = document()
    data["facts"][0]["integer"] = None
    data["facts"][0]["max"] = 10.5
    assert _load(data).fact("fact.deploys").integer is False


def test_text_is_stripped_and_levels_may_come_in_any_order() -> None:
    data = document()
    data["title"] = "  Padded title  "
    _q(data)["levels"] = dict(reversed(list(SIZE_LEVELS.items())))
    rubric = _load(data)
    assert rubric.title == "Padded title"
    assert list(rubric.question("flow.batches.size").levels) == list(ONE_TO_FIVE)


@pytest.mark.parametrize("level", [1, 5])
def test_target_levels_one_and_five_are_accepted(level: int) -> None:
    data = document()
    _dim(data)["target_level"] = level
    assert _load(data).dimension("flow").target_level == level


# --- Broken documents: exactly these messages, at exactly these places ----------------------

Change = Callable[[dict[str, Any]], Any]


def _set(getter: Callable[[dict[str, Any]], dict[str, Any]], **values: Any) -> Change:
    return lambda data: getter(data).update(values)


def _drop(getter: Callable[[dict[str, Any]], dict[str, Any]], key: str) -> Change:
    return lambda data: getter(data).pop(key)


def _top(data: dict[str, Any]) -> dict[str, Any]:
    return data


def _fact(index: int) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda data: data["facts"][index]


def _framework(name: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda data: data["frameworks"][name]


def _levels(getter: Callable[[dict[str, Any]], dict[str, Any]], levels: Any) -> Change:
    return _set(getter, levels=levels)


def _with_level(**changes: Any) -> dict[Any, Any]:
    levels: dict[Any, Any] = dict(SIZE_LEVELS)
    for key, value in changes.items():
        if value is ...:
            levels.pop(int(key[1:]))
        else:
            levels[int(key[1:]) if key[1:].isdigit() else key[1:]] = value
    return levels


TOP_KEYS = "description, dimensions, facts, frameworks, id, level_names, title, version"
QUESTION_KEYS = "audience, evidence, help, id, levels, text"

REFUSED: list[tuple[str, Change, list[tuple[str, str]]]] = [
    # The top level
    (
        "version true",
        _set(_top, version=True),
        [("version", "must be a whole number from 1, not True")],
    ),
    (
        "version 1.5",
        _set(_top, version=1.5),
        [("version", "must be a whole number from 1, not 1.5")],
    ),
    (
        "version text",
        _set(_top, version="2"),
        [("version", "must be a whole number from 1, not '2'")],
    ),
    ("version 0", _set(_top, version=0), [("version", "must be a whole number from 1, not 0")]),
    (
        "two required keys missing",
        lambda d: (d.pop("title"), d.pop("dimensions")),
        [("", "missing required key 'dimensions'"), ("", "missing required key 'title'")],
    ),
    ("empty title", _set(_top, title=None), [("title", "must not be empty")]),
    ("blank title", _set(_top, title="   "), [("title", "must not be empty")]),
    ("id with capitals", _set(_top, id="Tiny"), [("id", f"id 'Tiny' {ID_RULE}")]),
    ("numeric id", _set(_top, id=5), [("id", f"id 5 {ID_RULE}")]),
    (
        "misspelt key",
        _set(_top, titel="Tiny"),
        [("titel", f"unknown key (did you mean 'title'?); allowed here: {TOP_KEYS}")],
    ),
    (
        "key too far from any to guess",
        _set(_top, frame="x"),
        [("frame", f"unknown key; allowed here: {TOP_KEYS}")],
    ),
    (
        "description as a list",
        _set(_top, description=["a"]),
        [("description", "must be text, not a list")],
    ),
    (
        "description as a number",
        _set(_top, description=1.5),
        [("description", "must be text, not float")],
    ),
    (
        "description true",
        _set(_top, description=True),
        [("description", "must be text, not true/false")],
    ),
    (
        "dimensions as a mapping",
        _set(_top, dimensions={"a": 1}),
        [("dimensions", "must be a list, not a mapping")],
    ),
    ("no dimensions", _set(_top, dimensions=[]), [("dimensions", "must be a non-empty list")]),
    ("facts as text", _set(_top, facts="none"), [("facts", "must be a list, not text")]),
    (
        "level names as a list",
        _set(_top, level_names=["a"]),
        [("level_names", "must be a mapping of the levels 1 to 5, not a list")],
    ),
    (
        "level name 6",
        lambda d: d["level_names"].update({6: "Beyond"}),
        [("level_names.6", "unknown level 6: levels are 1, 2, 3, 4 and 5")],
    ),
    # Frameworks
    (
        "frameworks as a list",
        _set(_top, frameworks=["dora"]),
        [
            ("frameworks", "must be a mapping of framework id to framework, not a list"),
            (
                f"{C0}.crosswalk.dora",
                "refers to framework 'dora', which the rubric does not define under "
                "'frameworks' (defined: none)",
            ),
            (
                f"{C0}.crosswalk.sre",
                "refers to framework 'sre', which the rubric does not define under "
                "'frameworks' (defined: none)",
            ),
        ],
    ),
    (
        "framework as text",
        lambda d: d["frameworks"].update(itil="x"),
        [("frameworks.itil", "must be a mapping, not text")],
    ),
    (
        "framework id with capitals",
        lambda d: d["frameworks"].update(ITIL=d["frameworks"].pop("itil")),
        [("frameworks.ITIL", f"id 'ITIL' {ID_RULE}")],
    ),
    (
        "framework without title",
        _drop(_framework("itil"), "title"),
        [("frameworks.itil", "missing required key 'title'")],
    ),
    (
        "framework items as a list",
        _set(_framework("itil"), items=["change"]),
        [("frameworks.itil.items", "must be a non-empty mapping of item id to item title")],
    ),
    (
        "framework items empty",
        _set(_framework("itil"), items={}),
        [("frameworks.itil.items", "must be a non-empty mapping of item id to item title")],
    ),
    (
        "framework item without title",
        _set(_framework("itil"), items={"change": None}),
        [("frameworks.itil.items.change", "must not be empty")],
    ),
    (
        "framework item id with a space",
        _set(_framework("itil"), items={"Change Mgmt": "x"}),
        [("frameworks.itil.items.Change Mgmt", f"id 'Change Mgmt' {ID_RULE}")],
    ),
    (
        "framework item title a number",
        _set(_framework("itil"), items={"change": 3}),
        [("frameworks.itil.items.change", "must be text, not int")],
    ),
    # Dimensions
    (
        "dimension as text",
        lambda d: d["dimensions"].insert(0, "flow"),
        [("dimensions[0]", "must be a mapping, not text")],
    ),
    ("dimension without id", _drop(_dim, "id"), [("dimensions[0]", "missing required key 'id'")]),
    (
        "dimension id reused by a fact",
        _set(_fact(1), id="flow"),
        [("facts[1].id", "duplicate id 'flow' (first used at dimensions[0].id)")],
    ),
    (
        "target level true",
        _set(_dim, target_level=True),
        [("dimensions[0].target_level", "must be a level from 1 to 5, not True")],
    ),
    (
        "target level 2.0",
        _set(_dim, target_level=2.0),
        [("dimensions[0].target_level", "must be a level from 1 to 5, not 2.0")],
    ),
    (
        "target level 6",
        _set(_dim, target_level=6),
        [("dimensions[0].target_level", "must be a level from 1 to 5, not 6")],
    ),
    (
        "target level 0",
        _set(_dim, target_level=0),
        [("dimensions[0].target_level", "must be a level from 1 to 5, not 0")],
    ),
    (
        "dimension weight 0",
        _set(_dim, weight=0),
        [("dimensions[0].weight", "must be greater than 0, not 0")],
    ),
    (
        "dimension weight true",
        _set(_dim, weight=True),
        [("dimensions[0].weight", "must be a number, not true/false")],
    ),
    (
        "dimension weight infinite",
        _set(_dim, weight=float("inf")),
        [("dimensions[0].weight", "must be a finite number, not inf")],
    ),
    (
        "dimension weight NaN",
        _set(_dim, weight=float("nan")),
        [("dimensions[0].weight", "must be a finite number, not nan")],
    ),
    (
        "dimension weight text",
        _set(_dim, weight="heavy"),
        [("dimensions[0].weight", "must be a number, not text")],
    ),
    (
        "dimension weight mapping",
        _set(_dim, weight={"a": 1}),
        [("dimensions[0].weight", "must be a number, not a mapping")],
    ),
    (
        "capabilities empty",
        _set(_dim, capabilities=[]),
        [("dimensions[0].capabilities", "must be a non-empty list")],
    ),
    # Capabilities
    ("capability without id", _drop(_cap, "id"), [(C0, "missing required key 'id'")]),
    (
        "capability id with a space",
        _set(_cap, id="flow batches"),
        [(f"{C0}.id", f"id 'flow batches' {ID_RULE}")],
    ),
    (
        "capability weight -1",
        _set(_cap, weight=-1),
        [(f"{C0}.weight", "must be greater than 0, not -1")],
    ),
    (
        "capability weight 0.0",
        _set(_cap, weight=0.0),
        [(f"{C0}.weight", "must be greater than 0, not 0")],
    ),
    (
        "capability levels as a list",
        _set(_cap, levels=["a"]),
        [(f"{C0}.levels", "must be a mapping of the levels 1 to 5, not a list")],
    ),
    (
        "crosswalk as a list",
        _set(_cap, crosswalk=["dora"]),
        [(f"{C0}.crosswalk", "must be a mapping of framework id to item ids, not a list")],
    ),
    (
        "crosswalk to an unknown framework, then a bad item",
        _set(_cap, crosswalk={"cobit": ["x"], "dora": ["nothing"]}),
        [
            (
                f"{C0}.crosswalk.cobit",
                "refers to framework 'cobit', which the rubric does not define under "
                "'frameworks' (defined: dora, itil, sre)",
            ),
            (f"{C0}.crosswalk.dora[0]", "'nothing' is not an item of framework 'dora'"),
        ],
    ),
    (
        "crosswalk entries without items",
        _set(_cap, crosswalk={"dora": None, "sre": [], "itil": ["nothing"]}),
        [
            (f"{C0}.crosswalk.dora", "must list at least one item id"),
            (f"{C0}.crosswalk.sre", "must list at least one item id"),
            (f"{C0}.crosswalk.itil[0]", "'nothing' is not an item of framework 'itil'"),
        ],
    ),
    (
        "crosswalk item twice",
        _set(_cap, crosswalk={"dora": ["testing", "testing"]}),
        [(f"{C0}.crosswalk.dora[1]", "'testing' is listed twice")],
    ),
    (
        "crosswalk item id with a space",
        _set(_cap, crosswalk={"dora": ["Bad Item"]}),
        [(f"{C0}.crosswalk.dora[0]", f"id 'Bad Item' {ID_RULE}")],
    ),
    (
        "crosswalk items as text",
        _set(_cap, crosswalk={"dora": "testing"}),
        [(f"{C0}.crosswalk.dora", "must be a list of ids, not text")],
    ),
    # Levels
    (
        "a level written with quotes",
        _levels(_q, _with_level(**{"_3": ..., "_x": None}) | {"3": "Daily changes."}),
        [
            (f"{Q0}.levels.x", "unknown level 'x': levels are 1, 2, 3, 4 and 5"),
            (
                f"{Q0}.levels.3",
                "unknown level '3': levels are 1, 2, 3, 4 and 5 (write the number without quotes)",
            ),
            (f"{Q0}.levels", "missing level 3"),
        ],
    ),
    (
        "a level named true",
        _levels(_q, _with_level(_1=...) | {True: "Changes of weeks."}),
        [(f"{Q0}.levels.True", "unknown level True: levels are 1, 2, 3, 4 and 5")],
    ),
    (
        "each broken level is reported, not only the first",
        _levels(_q, {0: "Zero.", 1: "One.", 2: None, 3: 7, 4: 8, 5: "Five."}),
        [
            (f"{Q0}.levels.0", "unknown level 0: levels are 1, 2, 3, 4 and 5"),
            (f"{Q0}.levels.2", "must not be empty"),
            (f"{Q0}.levels.3", "must be text, not int"),
            (f"{Q0}.levels.4", "must be text, not int"),
        ],
    ),
    (
        "two levels alike once stripped",
        _levels(_q, _with_level(_2="  Changes of weeks. ")),
        [(f"{Q0}.levels", "two levels have the same description")],
    ),
    ("a blank level", _levels(_q, _with_level(_4="  ")), [(f"{Q0}.levels.4", "must not be empty")]),
    (
        "two levels missing",
        _levels(_q, _with_level(_2=..., _4=...)),
        [(f"{Q0}.levels", "missing level 2"), (f"{Q0}.levels", "missing level 4")],
    ),
    # Questions
    (
        "question filed under another capability",
        _set(_q, id="safety.rollback.size"),
        [
            (
                f"{Q0}.id",
                "question id 'safety.rollback.size' must start with its capability's id 'flow.batches.'",
            )
        ],
    ),
    (
        "question id that only shares the capability's prefix",
        _set(_q, id="flow.batches-size"),
        [
            (
                f"{Q0}.id",
                "question id 'flow.batches-size' must start with its capability's id 'flow.batches.'",
            )
        ],
    ),
    (
        "question id with capitals",
        _set(_q, id="Flow.batches.size"),
        [(f"{Q0}.id", f"id 'Flow.batches.size' {ID_RULE}")],
    ),
    ("question without id", _drop(_q, "id"), [(Q0, "missing required key 'id'")]),
    (
        "question id twice",
        _set(lambda d: _q(d, 1), id="flow.batches.size"),
        [(f"{Q1}.id", f"duplicate id 'flow.batches.size' (first used at {Q0}.id)")],
    ),
    (
        "question as a list",
        lambda d: _cap(d)["questions"].insert(0, ["a"]),
        [(Q0, "must be a mapping, not a list")],
    ),
    ("question text a number", _set(_q, text=42), [(f"{Q0}.text", "must be text, not int")]),
    (
        "question key misspelt",
        lambda d: _q(d).update(hlep=_q(d).pop("help")),
        [(f"{Q0}.hlep", f"unknown key (did you mean 'help'?); allowed here: {QUESTION_KEYS}")],
    ),
    (
        "audience as text",
        _set(_q, audience="engineering"),
        [(f"{Q0}.audience", f"must be a non-empty list of: {ROLES}")],
    ),
    (
        "audience empty",
        _set(_q, audience=[]),
        [(f"{Q0}.audience", f"must be a non-empty list of: {ROLES}")],
    ),
    (
        "audience twice",
        _set(_q, audience=["engineering", "engineering"]),
        [(f"{Q0}.audience[1]", "audience 'engineering' is listed twice")],
    ),
    (
        "unknown audience",
        _set(_q, audience=["engineering", "ceo"]),
        [(f"{Q0}.audience[1]", f"unknown audience 'ceo': use one of {ROLES}")],
    ),
    (
        "evidence as text",
        _set(_q, evidence="repo.tests"),
        [(f"{Q0}.evidence", "must be a list of ids, not text")],
    ),
    (
        "evidence twice",
        _set(_q, evidence=["repo.tests", "repo.tests"]),
        [(f"{Q0}.evidence[1]", "'repo.tests' is listed twice")],
    ),
    (
        "evidence id with capitals",
        _set(_q, evidence=["Repo.Tests"]),
        [(f"{Q0}.evidence[0]", f"id 'Repo.Tests' {ID_RULE}")],
    ),
    # Facts
    (
        "fact as text",
        lambda d: d["facts"].insert(0, "fact"),
        [("facts[0]", "must be a mapping, not text")],
    ),
    (
        "fact id taken by a question",
        _set(_fact(1), id="flow.batches.size"),
        [("facts[1].id", f"duplicate id 'flow.batches.size' (first used at {Q0}.id)")],
    ),
    (
        "capability summary a number",
        _set(_cap, summary=3),
        [(f"{C0}.summary", "must be text, not int")],
    ),
    (
        "capability title a list",
        _set(_cap, title=["a"]),
        [(f"{C0}.title", "must be text, not a list")],
    ),
    (
        "fact text a list",
        _set(_fact(0), text=["a"]),
        [("facts[0].text", "must be text, not a list")],
    ),
    ("fact help a number", _set(_fact(0), help=2), [("facts[0].help", "must be text, not int")]),
    ("fact unit a number", _set(_fact(0), unit=2), [("facts[0].unit", "must be text, not int")]),
    (
        "dimension summary a number",
        _set(_dim, summary=2),
        [("dimensions[0].summary", "must be text, not int")],
    ),
    (
        "dimension title a list",
        _set(_dim, title=["a"]),
        [("dimensions[0].title", "must be text, not a list")],
    ),
    ("question help a number", _set(_q, help=2), [(f"{Q0}.help", "must be text, not int")]),
    (
        "framework title a number",
        _set(_framework("itil"), title=2),
        [("frameworks.itil.title", "must be text, not int")],
    ),
    (
        "framework url a list",
        _set(_framework("itil"), url=["a"]),
        [("frameworks.itil.url", "must be text, not a list")],
    ),
    (
        "fact max as text",
        _set(_fact(0), max="lots"),
        [("facts[0].max", "must be a number, not text")],
    ),
    ("question text left empty", _set(_q, text=None), [(f"{Q0}.text", "must not be empty")]),
    ("fact without unit", _drop(_fact(0), "unit"), [("facts[0]", "missing required key 'unit'")]),
    ("fact without min", _drop(_fact(0), "min"), [("facts[0]", "missing required key 'min'")]),
    (
        "fact min as text",
        _set(_fact(0), min="low"),
        [("facts[0].min", "must be a number, not text")],
    ),
    (
        "fact min equal to max",
        _set(_fact(0), min=5, max=5),
        [("facts[0]", "min (5) must be less than max (5)")],
    ),
    (
        "fact min above max",
        _set(_fact(1), min=50, max=5.5),
        [("facts[1]", "min (50) must be less than max (5.5)")],
    ),
    (
        "integer fact with a fractional min",
        _set(_fact(0), min=0.5),
        [("facts[0].min", "must be a whole number for an integer fact, not 0.5")],
    ),
    (
        "integer fact with a fractional max",
        _set(_fact(0), max=99.5),
        [("facts[0].max", "must be a whole number for an integer fact, not 99.5")],
    ),
    (
        "integer flag as text",
        _set(_fact(1), integer="yes"),
        [("facts[1].integer", "must be true or false, not 'yes'")],
    ),
    (
        "fact audience unknown",
        _set(_fact(0), audience=["board"]),
        [("facts[0].audience[0]", f"unknown audience 'board': use one of {ROLES}")],
    ),
]


@pytest.mark.parametrize(("case", "change", "expected"), REFUSED, ids=[r[0] for r in REFUSED])
def test_a_broken_document_is_refused_with_exactly_these_messages(
    case: str, change: Change, expected: list[tuple[str, str]]
) -> None:
    data = copy.deepcopy(document())
    change(data)
    assert _issues(data) == expected, case


def test_several_problems_in_one_file_are_all_reported_in_document_order() -> None:
    data = document()
    data["version"] = 0
    _dim(data)["weight"] = -2
    _q(data, 1)["audience"] = ["ceo"]
    data["facts"][1]["min"] = 200
    assert _issues(data) == [
        ("version", "must be a whole number from 1, not 0"),
        (f"{Q1}.audience[0]", f"unknown audience 'ceo': use one of {ROLES}"),
        ("dimensions[0].weight", "must be greater than 0, not -2"),
        ("facts[1]", "min (200) must be less than max (100)"),
    ]


@pytest.mark.parametrize(
    ("text", "kind"), [("", "empty"), ("- a\n", "a list"), ("3\n", "int"), ("true\n", "true/false")]
)
def test_a_document_that_is_not_a_mapping_is_refused(text: str, kind: str) -> None:
    assert _issues(text) == [("", f"must be a mapping, not {kind}")]


def test_a_text_without_a_name_is_reported_as_a_string() -> None:
    with pytest.raises(RubricError) as caught:
        load_rubric_text("- a\n")
    assert str(caught.value) == "<string>: (top level): must be a mapping, not a list"


# --- The file name and reading the file -----------------------------------------------------


def _write(path: Path, data: Any) -> Path:
    path.write_text(_text(data), encoding="utf-8")
    return path


def _file_issues(path: Path) -> list[tuple[str, str]]:
    with pytest.raises(RubricError) as caught:
        load_rubric(path)
    assert all(issue.file == str(path) for issue in caught.value.issues)
    return [(issue.path, issue.message) for issue in caught.value.issues]


def test_a_file_named_for_its_id_and_version_loads(tmp_path: Path) -> None:
    rubric = load_rubric(_write(tmp_path / "tiny-1.yaml", document()))
    assert rubric.key == "tiny-1" and rubric.title == "Tiny readiness"
    assert load_rubric(str(_write(tmp_path / "tiny-1.yml", document()))).key == "tiny-1"
    assert load_rubric(_write(tmp_path / "tiny.yaml", document())).key == "tiny-1"


def test_a_file_named_for_another_id_or_version_is_refused(tmp_path: Path) -> None:
    assert _file_issues(_write(tmp_path / "tiny-2.yaml", document())) == [
        (
            "version",
            "the file is named for 'tiny' version 2 but declares 'tiny' version 1: rename the "
            "file or fix the id and version",
        )
    ]
    assert _file_issues(_write(tmp_path / "small-tiny-1.yaml", document())) == [
        (
            "id",
            "the file is named for 'small-tiny' version 1 but declares 'tiny' version 1: "
            "rename the file or fix the id and version",
        )
    ]


def test_a_broken_id_or_version_is_not_also_reported_as_a_misnamed_file(tmp_path: Path) -> None:
    data = document()
    data["version"] = 0
    assert _file_issues(_write(tmp_path / "tiny-1.yaml", data)) == [
        ("version", "must be a whole number from 1, not 0")
    ]
    data = document()
    data["id"] = "Tiny"
    assert _file_issues(_write(tmp_path / "tiny-1.yaml", data)) == [("id", f"id 'Tiny' {ID_RULE}")]


def test_a_file_that_cannot_be_read_is_refused_with_the_reason(tmp_path: Path) -> None:
    missing = tmp_path / "tiny-1.yaml"
    assert _file_issues(missing) == [("", "cannot read the file: No such file or directory")]
    folder = tmp_path / "folder-1.yaml"
    folder.mkdir()
    assert _file_issues(folder) == [("", "cannot read the file: Is a directory")]
    latin = tmp_path / "latin-1.yaml"
    latin.write_bytes(b"\xfftitle: caf\xe9\n")
    assert _file_issues(latin) == [
        (
            "",
            "cannot read the file: 'utf-8' codec can't decode byte 0xff in position 0: "
            "invalid start byte",
        )
    ]


def test_forks_in_the_rubric_folder_are_listed_and_oddly_named_files_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = document()
    _write(tmp_path / "tiny-1.yaml", data)
    data["version"], data["title"] = 2, "Tiny readiness, second edition"
    _write(tmp_path / "tiny-2.yaml", data)
    _write(tmp_path / "Draft Copy-1.yaml", data)  # not an id: never loaded
    (tmp_path / "notes.yaml").write_text("not: a rubric\n", encoding="utf-8")
    monkeypatch.setattr(rubric_module, "RUBRICS_DIR", tmp_path)
    get_rubric.cache_clear()
    try:
        assert available_rubrics() == [
            ("tiny", 1, "Tiny readiness"),
            ("tiny", 2, "Tiny readiness, second edition"),
        ]
    finally:
        get_rubric.cache_clear()


# --- YAML: duplicate keys, anchors, syntax errors ------------------------------------------

SMALL = """\
id: tiny
version: 1
title: Tiny
level_names: &names {1: One., 2: Two., 3: Three., 4: Four., 5: Five.}
dimensions:
  - id: dim
    title: Dim
    capabilities:
      - id: dim.cap
        title: Cap
        levels: *names
        questions:
          - id: dim.cap.q
            text: Is it so?
            audience: [product]
            levels:
              <<: *names
              5: Five, and measured.
"""


def test_anchors_aliases_and_merge_keys_are_read_as_yaml_defines_them() -> None:
    rubric = load_rubric_text(SMALL)
    assert dict(rubric.capability("dim.cap").levels) == dict(rubric.level_names)
    assert dict(rubric.question("dim.cap.q").levels) == {
        1: "One.",
        2: "Two.",
        3: "Three.",
        4: "Four.",
        5: "Five, and measured.",  # a key beside a merge overrides the merged one
    }


def _line(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def test_a_duplicate_key_is_reported_with_its_place_and_both_lines() -> None:
    text = SMALL.replace(
        "            text: Is it so?\n", "            text: Is it so?\n            text: Or not?\n"
    )
    assert _issues(text) == [
        (
            f"{Q0}.text",
            f"duplicate key 'text' on line {_line(text, 'text: Or not?')} (first on line "
            f"{_line(text, 'text: Is it so?')}); YAML would silently keep only the last one",
        )
    ]


def test_duplicates_after_an_alias_or_a_merge_key_are_still_found_where_they_are() -> None:
    text = SMALL.replace(
        "              5: Five, and measured.\n",
        "              5: Five, and measured.\n              5: Twice.\n",
    )
    text += "facts: []\nfacts: []\n"
    # The top-level mapping is checked before the values inside it.
    assert _issues(text) == [
        (
            "facts",
            f"duplicate key 'facts' on line {_line(text, 'facts: []') + 1} (first on line "
            f"{_line(text, 'facts: []')}); YAML would silently keep only the last one",
        ),
        (
            f"{Q0}.levels.5",
            f"duplicate key '5' on line {_line(text, '5: Twice.')} (first on line "
            f"{_line(text, '5: Five, and measured.')}); YAML would silently keep only the last one",
        ),
    ]


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        # A flow sequence left open: the error is where the parser gave up.
        (
            "id: x\ntitle: [unclosed\nversion: 1\n",
            "line 3, column 8",
            "invalid YAML: expected ',' or ']', but got ':'",
        ),
        (
            "id: x\n  title: y\n",
            "line 2, column 8",
            "invalid YAML: mapping values are not allowed here",
        ),
        ("id: *nothing\n", "line 1, column 5", "invalid YAML: found undefined alias 'nothing'"),
        (
            'title: "a\\qb"\n',
            "line 1, column 11",
            "invalid YAML: found unknown escape character 'q'",
        ),
    ],
)
def test_invalid_yaml_is_reported_at_its_line_and_column(
    text: str, where: str, message: str
) -> None:
    assert _issues(text, source="bad.yaml") == [(where, message)]


def test_characters_yaml_does_not_allow_are_refused_at_their_place(tmp_path: Path) -> None:
    """PyYAML checks every character before parsing; a control character pasted into a file
    was a crash (a bare ReaderError) instead of a refusal naming the file and the place."""
    expected = [
        (
            "line 2, column 9",
            "invalid YAML: unacceptable character #x0007: special characters are not allowed",
        )
    ]
    assert _issues("id: x\ntitle: a\x07b\n") == expected
    # Columns count from the last line break, also when that is the file's first character.
    assert _issues("\ntitle: a\x07b\n")[0][0] == "line 2, column 9"
    assert _issues("title: a\x07b\n")[0][0] == "line 1, column 9"
    path = tmp_path / "tiny-1.yaml"
    path.write_text(_text(document()).replace("title: Tiny readiness", "title: Tiny\x1b[0m"))
    assert _file_issues(path) == [
        (
            f"line {_line(path.read_text(), chr(27))}, column 12",
            "invalid YAML: unacceptable character #x001b: special characters are not allowed",
        )
    ]


def test_a_document_nested_too_deeply_is_refused_not_a_crash() -> None:
    assert _issues("[" * 5000 + "]" * 5000) == [("", "invalid YAML: nested too deeply")]


def test_a_question_whose_only_mark_is_not_at_the_end_breaks_the_authoring_rule() -> None:
    from scoring.rubric import authoring_problems

    data = document()
    _q(data)["text"] = "Is it small? Say which."
    _q(data, 1)["text"] = "Who reviews a change?"
    assert authoring_problems(_load(data)) == [
        "questions[flow.batches.size].text: ask exactly one question, ending in '?'",
        "capabilities[safety.rollback].crosswalk: map to a framework",
    ]


def test_a_duplicate_inside_an_anchored_mapping_is_reported_where_the_anchor_is() -> None:
    """The alias that reuses the mapping later does not move the report to the alias."""
    text = SMALL.replace("3: Three., 4: Four.", "3: Three., 3: Third., 4: Four.")
    line = _line(text, "3: Third.")
    assert _issues(text) == [
        (
            "level_names.3",
            f"duplicate key '3' on line {line} (first on line {line}); YAML would silently keep "
            "only the last one",
        )
    ]
