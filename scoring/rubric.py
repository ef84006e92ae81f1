"""The rubric: a versioned maturity model loaded from YAML and validated with clear errors.

A rubric file `scoring/rubrics/<id>-<version>.yaml` holds dimensions > capabilities > questions,
each question with five anchored levels, plus numeric fact questions and crosswalks to public
frameworks. Validation collects every problem it finds (file, path inside the file, what is
wrong) and raises them together, so an author fixes a file in one pass. See docs/rubric.md.

Pure Python: no Django, no settings. Assessments pin `(id, version)`; a changed rubric is a new
file, so old results never change.
"""

from __future__ import annotations

import difflib
import functools
import math
import os
import re
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

import yaml

LEVELS: tuple[int, ...] = (1, 2, 3, 4, 5)
AUDIENCES: tuple[str, ...] = ("leadership", "engineering", "operations", "product", "security")
RUBRICS_DIR: Path = Path(__file__).resolve().parent / "rubrics"
DEFAULT_RUBRIC: tuple[str, int] = ("operationalization", 2)

ID_RE = re.compile(r"^[a-z][a-z0-9-]*(\.[a-z0-9-]+)*$")
# Greedy id, then the last "-<digits>": "acme-2024-3.yaml" is id "acme-2024", version 3.
FILENAME_RE = re.compile(r"^(?P<id>.+)-(?P<version>[0-9]+)\.ya?ml$")

_T = TypeVar("_T")


# --- Errors ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RubricIssue:
    """One problem: the file, where inside it (`dimensions[0].capabilities[2].id`), what."""

    file: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path or '(top level)'}: {self.message}"


class RubricError(Exception):
    """Every problem found in a rubric file; `str()` lists them one per line."""

    def __init__(self, issues: Iterable[RubricIssue]) -> None:
        self.issues: tuple[RubricIssue, ...] = tuple(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues))


# --- The model ------------------------------------------------------------------------------
#
# Every class is frozen and freezes its containers in __post_init__, so a rubric shared by all
# requests of a process cannot be changed by one of them. Equality compares content; hashing
# uses ids (mapping proxies are not hashable), which is consistent because equal objects have
# equal ids.


def _frozen_levels(levels: Mapping[int, str]) -> Mapping[int, str]:
    return MappingProxyType(dict(sorted(levels.items())))


@dataclass(frozen=True)
class Framework:
    id: str
    title: str
    url: str
    items: Mapping[str, str]  # item id -> item title

    def __post_init__(self) -> None:
        object.__setattr__(self, "items", MappingProxyType(dict(self.items)))

    def __hash__(self) -> int:
        return hash(("framework", self.id))


@dataclass(frozen=True)
class Question:
    id: str
    dimension_id: str
    capability_id: str
    text: str
    help: str
    audience: tuple[str, ...]
    levels: Mapping[int, str]  # exactly 1..5 -> anchored, observable description
    evidence: tuple[str, ...]  # scan detector ids that could confirm or contradict an answer

    def __post_init__(self) -> None:
        object.__setattr__(self, "audience", tuple(self.audience))
        object.__setattr__(self, "levels", _frozen_levels(self.levels))
        object.__setattr__(self, "evidence", tuple(self.evidence))

    def __hash__(self) -> int:
        return hash(("question", self.id))


@dataclass(frozen=True)
class Capability:
    id: str
    dimension_id: str
    title: str
    summary: str
    weight: float  # > 0, relative to the other capabilities of the dimension
    levels: Mapping[int, str]  # 1..5 -> what the level means for the capability
    crosswalk: Mapping[str, tuple[str, ...]]  # framework id -> item ids
    questions: tuple[Question, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "levels", _frozen_levels(self.levels))
        object.__setattr__(
            self,
            "crosswalk",
            MappingProxyType({key: tuple(items) for key, items in self.crosswalk.items()}),
        )
        object.__setattr__(self, "questions", tuple(self.questions))

    def __hash__(self) -> int:
        return hash(("capability", self.id))


@dataclass(frozen=True)
class Dimension:
    id: str
    title: str
    summary: str
    weight: float
    target_level: int  # the default target, 1..5; an assessment may set its own
    capabilities: tuple[Capability, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "capabilities", tuple(self.capabilities))

    def __hash__(self) -> int:
        return hash(("dimension", self.id))


@dataclass(frozen=True)
class FactQuestion:
    id: str
    text: str
    help: str
    unit: str
    minimum: float
    maximum: float
    integer: bool
    audience: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "audience", tuple(self.audience))

    def __hash__(self) -> int:
        return hash(("fact", self.id))


@dataclass(frozen=True)
class Rubric:
    id: str
    version: int
    title: str
    description: str
    level_names: Mapping[int, str]
    frameworks: Mapping[str, Framework]
    dimensions: tuple[Dimension, ...]
    facts: tuple[FactQuestion, ...]
    # Derived in __post_init__ so that lookups by id are O(1) and listings are not rebuilt.
    _capabilities: tuple[Capability, ...] = field(init=False, repr=False, compare=False)
    _questions: tuple[Question, ...] = field(init=False, repr=False, compare=False)
    _dimension_index: Mapping[str, Dimension] = field(init=False, repr=False, compare=False)
    _capability_index: Mapping[str, Capability] = field(init=False, repr=False, compare=False)
    _question_index: Mapping[str, Question] = field(init=False, repr=False, compare=False)
    _fact_index: Mapping[str, FactQuestion] = field(init=False, repr=False, compare=False)
    _by_audience: Mapping[str, tuple[Question, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        def put(name: str, value: object) -> None:
            object.__setattr__(self, name, value)

        put("level_names", _frozen_levels(self.level_names))
        put("frameworks", MappingProxyType(dict(self.frameworks)))
        put("dimensions", tuple(self.dimensions))
        put("facts", tuple(self.facts))
        capabilities = tuple(c for d in self.dimensions for c in d.capabilities)
        questions = tuple(q for c in capabilities for q in c.questions)
        put("_capabilities", capabilities)
        put("_questions", questions)
        put("_dimension_index", MappingProxyType({d.id: d for d in self.dimensions}))
        put("_capability_index", MappingProxyType({c.id: c for c in capabilities}))
        put("_question_index", MappingProxyType({q.id: q for q in questions}))
        put("_fact_index", MappingProxyType({f.id: f for f in self.facts}))
        put(
            "_by_audience",
            MappingProxyType(
                {a: tuple(q for q in questions if a in q.audience) for a in AUDIENCES}
            ),
        )

    def __hash__(self) -> int:
        return hash(("rubric", self.id, self.version))

    @property
    def key(self) -> str:
        """`<id>-<version>`, the name an assessment pins and the file's stem."""
        return f"{self.id}-{self.version}"

    @property
    def capabilities(self) -> tuple[Capability, ...]:
        """Every capability, in document order."""
        return self._capabilities

    @property
    def questions(self) -> tuple[Question, ...]:
        """Every question, in document order."""
        return self._questions

    def dimension(self, dimension_id: str) -> Dimension:
        """The dimension with this id; KeyError if there is none."""
        return self._dimension_index[dimension_id]

    def capability(self, capability_id: str) -> Capability:
        return self._capability_index[capability_id]

    def question(self, question_id: str) -> Question:
        return self._question_index[question_id]

    def fact(self, fact_id: str) -> FactQuestion:
        return self._fact_index[fact_id]

    def has_item(self, item_id: str) -> bool:
        """True for the id of a question or of a fact question (what a respondent answers)."""
        return item_id in self._question_index or item_id in self._fact_index

    @property
    def audiences(self) -> tuple[str, ...]:
        """The roles this rubric asks something of, in AUDIENCES order: a role no question or
        fact is for (security in version 1) cannot be invited to answer it."""
        asked = {a for q in self._questions for a in q.audience}
        asked.update(a for f in self.facts for a in f.audience)
        return tuple(a for a in AUDIENCES if a in asked)

    def questions_for(self, audience: str | None) -> tuple[Question, ...]:
        """The questions a respondent with this role sees, in document order; None = all.

        A role outside AUDIENCES sees no questions.
        """
        if audience is None:
            return self._questions
        return self._by_audience.get(audience, ())

    def facts_for(self, audience: str | None) -> tuple[FactQuestion, ...]:
        """The fact questions a respondent with this role sees; None = all."""
        if audience is None:
            return self.facts
        return tuple(f for f in self.facts if audience in f.audience)


# --- YAML with duplicate keys refused -------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """A SafeLoader that records duplicate mapping keys (PyYAML keeps the last one silently).

    Duplicates are collected rather than raised so that all of them, and every other problem
    in the file, are reported together.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        # (mapping node, first key node, repeated key node)
        self.duplicates: list[tuple[yaml.Node, yaml.Node, yaml.Node]] = []


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: dict[Hashable, yaml.Node] = {}
    for key_node, _value_node in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue  # `<<: *anchor` overrides on purpose
        key = loader.construct_object(key_node, deep=True)
        try:
            first = seen.setdefault(key, key_node)
        except TypeError:
            continue  # unhashable: construct_mapping below raises a clear error
        if first is not key_node:
            loader.duplicates.append((node, first, key_node))
    return loader.construct_mapping(node, deep=True)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _node_paths(root: yaml.Node) -> dict[int, str]:
    """Path of every node (`dimensions[0].capabilities`), keyed by id(node)."""
    paths: dict[int, str] = {}
    stack: list[tuple[yaml.Node, str]] = [(root, "")]
    while stack:
        node, path = stack.pop()
        if id(node) in paths:
            continue  # an alias: keep the anchor's path
        paths[id(node)] = path
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in reversed(node.value):
                key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
                stack.append((value_node, _join(path, key)))
        elif isinstance(node, yaml.SequenceNode):
            for index in reversed(range(len(node.value))):
                stack.append((node.value[index], f"{path}[{index}]"))
    return paths


def _parse(text: str, source: str) -> tuple[Any, list[RubricIssue]]:
    """The YAML document and any duplicate keys; RubricError if it is not valid YAML."""
    try:
        loader = _Loader(text)
    except yaml.reader.ReaderError as exc:
        # The reader checks the whole text first: a control character is refused here, before
        # parsing, so it has no mark; its position is an index into the text.
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - text.rfind("\n", 0, exc.position)
        problem = f"unacceptable character #x{exc.character:04x}: {exc.reason}"
        issue = RubricIssue(source, f"line {line}, column {column}", f"invalid YAML: {problem}")
        raise RubricError([issue]) from None
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = exc.problem or exc.context or str(exc)
        raise RubricError([RubricIssue(source, where, f"invalid YAML: {problem}")]) from None
    except RecursionError:
        raise RubricError([RubricIssue(source, "", "invalid YAML: nested too deeply")]) from None
    finally:
        loader.dispose()
    issues = []
    if loader.duplicates and root is not None:
        paths = _node_paths(root)
        for mapping, first, repeated in loader.duplicates:
            key = str(repeated.value) if isinstance(repeated, yaml.ScalarNode) else "?"
            issues.append(
                RubricIssue(
                    source,
                    _join(paths.get(id(mapping), ""), key),
                    f"duplicate key {key!r} on line {repeated.start_mark.line + 1} "
                    f"(first on line {first.start_mark.line + 1}); YAML would silently keep "
                    "only the last one",
                )
            )
    return data, issues


# --- Validation -----------------------------------------------------------------------------


def _kind(value: Any) -> str:
    names = {dict: "a mapping", list: "a list", str: "text", bool: "true/false"}
    if value is None:
        return "empty"
    return names.get(type(value), type(value).__name__)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


class _Checker:
    """Walks the parsed YAML, building objects and collecting issues instead of stopping.

    `mapping()` reports missing keys and required keys left empty; the value readers then skip
    None silently, so one problem gives one message.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self.issues: list[RubricIssue] = []
        self.ids: dict[str, str] = {}  # one namespace: dimensions, capabilities, questions, facts

    def add(self, path: str, message: str) -> None:
        self.issues.append(RubricIssue(self.source, path, message))

    def mapping(
        self, value: Any, path: str, required: Iterable[str], optional: Iterable[str]
    ) -> dict[str, Any]:
        required, optional = set(required), set(optional)
        if not isinstance(value, dict):
            self.add(path, f"must be a mapping, not {_kind(value)}")
            return {}
        known = required | optional
        for key in value:
            if key not in known:
                hint = difflib.get_close_matches(str(key), sorted(known), n=1, cutoff=0.7)
                self.add(
                    _join(path, str(key)),
                    "unknown key"
                    + (f" (did you mean {hint[0]!r}?)" if hint else "")
                    + f"; allowed here: {', '.join(sorted(known))}",
                )
        for key in sorted(required):
            if key not in value:
                self.add(path, f"missing required key {key!r}")
            elif value[key] is None:
                self.add(_join(path, key), "must not be empty")
        return {key: item for key, item in value.items() if key in known and item is not None}

    def text(self, value: Any, path: str) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            self.add(path, f"must be text, not {_kind(value)}")
            return ""
        if not value.strip():
            self.add(path, "must not be empty")
        return value.strip()

    def number(self, value: Any, path: str, default: float, *, positive: bool = False) -> float:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.add(path, f"must be a number, not {_kind(value)}")
            return default
        if not math.isfinite(value):
            self.add(path, f"must be a finite number, not {value}")
            return default
        if positive and value <= 0:
            self.add(path, f"must be greater than 0, not {value:g}")
        return float(value)

    def level(self, value: Any, path: str, default: int) -> int:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or value not in LEVELS:
            self.add(path, f"must be a level from 1 to 5, not {value!r}")
            return default
        return value

    def ident(self, value: Any, path: str, *, unique: bool = True) -> str:
        """The id, or "" when it is missing or malformed (reported once, here)."""
        if value is None:
            return ""
        if not isinstance(value, str) or not ID_RE.fullmatch(value):
            self.add(
                path,
                f"id {value!r} must be lower-case letters, digits and dashes in dot-separated "
                "parts, starting with a letter (like 'rev.policy-ownership.bot-bypass')",
            )
            return ""
        if unique:
            if value in self.ids:
                self.add(path, f"duplicate id {value!r} (first used at {self.ids[value]})")
            else:
                self.ids[value] = path
        return value

    def levels(self, value: Any, path: str) -> Mapping[int, str]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.add(path, f"must be a mapping of the levels 1 to 5, not {_kind(value)}")
            return {}
        result: dict[int, str] = {}
        for key, text in value.items():
            level_path = _join(path, str(key))
            if isinstance(key, bool) or key not in LEVELS:
                hint = " (write the number without quotes)" if str(key) in map(str, LEVELS) else ""
                self.add(level_path, f"unknown level {key!r}: levels are 1, 2, 3, 4 and 5{hint}")
                continue
            if text is None:
                self.add(level_path, "must not be empty")
                continue
            result[key] = self.text(text, level_path)
        for level in LEVELS:
            if level not in value:
                self.add(path, f"missing level {level}")
        texts = [text for text in result.values() if text]
        if len(set(texts)) != len(texts):
            self.add(path, "two levels have the same description")
        return result

    def audience(self, value: Any, path: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list) or not value:
            self.add(path, f"must be a non-empty list of: {', '.join(AUDIENCES)}")
            return ()
        result: list[str] = []
        for index, item in enumerate(value):
            if item not in AUDIENCES:
                self.add(
                    f"{path}[{index}]",
                    f"unknown audience {item!r}: use one of {', '.join(AUDIENCES)}",
                )
            elif item in result:
                self.add(f"{path}[{index}]", f"audience {item!r} is listed twice")
            else:
                result.append(item)
        return tuple(result)

    def id_list(self, value: Any, path: str, framework: Framework | None = None) -> tuple[str, ...]:
        """A list of ids without repeats; with `framework`, each must be one of its items."""
        if value is None:
            return ()
        if not isinstance(value, list):
            self.add(path, f"must be a list of ids, not {_kind(value)}")
            return ()
        result: list[str] = []
        for index, item in enumerate(value):
            item_id = self.ident(item, f"{path}[{index}]", unique=False)
            if item_id in result:
                self.add(f"{path}[{index}]", f"{item_id!r} is listed twice")
            elif framework is not None and item_id and item_id not in framework.items:
                self.add(
                    f"{path}[{index}]",
                    f"{item_id!r} is not an item of framework {framework.id!r}",
                )
            elif item_id:
                result.append(item_id)
        return tuple(result)

    def items(
        self,
        value: Any,
        path: str,
        build: Callable[[Any, str], _T | None],
        *,
        allow_empty: bool = False,
    ) -> list[_T]:
        """Build each element of a list, skipping the broken ones (their issues are recorded)."""
        if value is None:
            return []
        if not isinstance(value, list):
            self.add(path, f"must be a list, not {_kind(value)}")
            return []
        if not value and not allow_empty:
            self.add(path, "must be a non-empty list")
            return []
        built = (build(item, f"{path}[{index}]") for index, item in enumerate(value))
        return [item for item in built if item is not None]


_TOP_REQUIRED = ("id", "version", "title", "level_names", "dimensions")
_TOP_OPTIONAL = ("description", "frameworks", "facts")
_FRAMEWORK = (("title", "items"), ("url",))
_DIMENSION = (("id", "title", "capabilities"), ("summary", "weight", "target_level"))
_CAPABILITY = (("id", "title", "levels", "questions"), ("summary", "weight", "crosswalk"))
_QUESTION = (("id", "text", "audience", "levels"), ("help", "evidence"))
_FACT = (("id", "text", "unit", "min", "max", "audience"), ("help", "integer"))
DEFAULT_TARGET_LEVEL = 4


def _build(check: _Checker, data: Any, expected: tuple[str, int] | None) -> Rubric | None:
    top = check.mapping(data, "", _TOP_REQUIRED, _TOP_OPTIONAL)
    if not isinstance(data, dict):
        return None
    rubric_id = check.ident(top.get("id"), "id", unique=False)
    version = top.get("version")
    if version is not None and (
        isinstance(version, bool) or not isinstance(version, int) or version < 1
    ):
        check.add("version", f"must be a whole number from 1, not {version!r}")
        version = None
    if expected and rubric_id and version is not None and (rubric_id, version) != expected:
        check.add(
            "id" if rubric_id != expected[0] else "version",
            f"the file is named for {expected[0]!r} version {expected[1]} but declares "
            f"{rubric_id!r} version {version}: rename the file or fix the id and version",
        )
    frameworks = _frameworks(check, top.get("frameworks"))
    rubric = Rubric(
        id=rubric_id,
        version=version or 0,
        title=check.text(top.get("title"), "title"),
        description=check.text(top.get("description"), "description"),
        level_names=check.levels(top.get("level_names"), "level_names"),
        frameworks=frameworks,
        dimensions=tuple(
            check.items(
                top.get("dimensions"),
                "dimensions",
                lambda item, path: _dimension(check, item, path, frameworks),
            )
        ),
        facts=tuple(
            check.items(
                top.get("facts"),
                "facts",
                lambda item, path: _fact(check, item, path),
                allow_empty=True,
            )
        ),
    )
    return None if check.issues else rubric


def _frameworks(check: _Checker, data: Any) -> dict[str, Framework]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        check.add(
            "frameworks", f"must be a mapping of framework id to framework, not {_kind(data)}"
        )
        return {}
    result: dict[str, Framework] = {}
    for framework_id, body in data.items():
        path = f"frameworks.{framework_id}"
        check.ident(framework_id, path, unique=False)
        fields = check.mapping(body, path, *_FRAMEWORK)
        items: dict[str, str] = {}
        items_data = fields.get("items")
        if items_data is not None and (not isinstance(items_data, dict) or not items_data):
            check.add(f"{path}.items", "must be a non-empty mapping of item id to item title")
        elif items_data is not None:
            for item_id, title in items_data.items():
                item_path = f"{path}.items.{item_id}"
                check.ident(item_id, item_path, unique=False)
                if title is None:
                    check.add(item_path, "must not be empty")
                items[str(item_id)] = check.text(title, item_path)
        result[str(framework_id)] = Framework(
            id=str(framework_id),
            title=check.text(fields.get("title"), f"{path}.title"),
            url=check.text(fields.get("url"), f"{path}.url"),
            items=items,
        )
    return result


def _dimension(
    check: _Checker, data: Any, path: str, frameworks: Mapping[str, Framework]
) -> Dimension | None:
    fields = check.mapping(data, path, *_DIMENSION)
    if not isinstance(data, dict):
        return None
    dimension_id = check.ident(fields.get("id"), f"{path}.id")
    capabilities = check.items(
        fields.get("capabilities"),
        f"{path}.capabilities",
        lambda item, item_path: _capability(check, item, item_path, dimension_id, frameworks),
    )
    return Dimension(
        id=dimension_id,
        title=check.text(fields.get("title"), f"{path}.title"),
        summary=check.text(fields.get("summary"), f"{path}.summary"),
        weight=check.number(fields.get("weight"), f"{path}.weight", 1.0, positive=True),
        target_level=check.level(
            fields.get("target_level"), f"{path}.target_level", DEFAULT_TARGET_LEVEL
        ),
        capabilities=tuple(capabilities),
    )


def _capability(
    check: _Checker,
    data: Any,
    path: str,
    dimension_id: str,
    frameworks: Mapping[str, Framework],
) -> Capability | None:
    fields = check.mapping(data, path, *_CAPABILITY)
    if not isinstance(data, dict):
        return None
    capability_id = check.ident(fields.get("id"), f"{path}.id")
    crosswalk = _crosswalk(check, fields.get("crosswalk"), f"{path}.crosswalk", frameworks)
    questions = check.items(
        fields.get("questions"),
        f"{path}.questions",
        lambda item, item_path: _question(check, item, item_path, dimension_id, capability_id),
    )
    return Capability(
        id=capability_id,
        dimension_id=dimension_id,
        title=check.text(fields.get("title"), f"{path}.title"),
        summary=check.text(fields.get("summary"), f"{path}.summary"),
        weight=check.number(fields.get("weight"), f"{path}.weight", 1.0, positive=True),
        levels=check.levels(fields.get("levels"), f"{path}.levels"),
        crosswalk=crosswalk,
        questions=tuple(questions),
    )


def _crosswalk(
    check: _Checker, data: Any, path: str, frameworks: Mapping[str, Framework]
) -> dict[str, tuple[str, ...]]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        check.add(path, f"must be a mapping of framework id to item ids, not {_kind(data)}")
        return {}
    result: dict[str, tuple[str, ...]] = {}
    for framework_id, items in data.items():
        item_path = f"{path}.{framework_id}"
        framework = frameworks.get(str(framework_id))
        if framework is None:
            known = ", ".join(sorted(frameworks)) or "none"
            check.add(
                item_path,
                f"refers to framework {framework_id!r}, which the rubric does not define under "
                f"'frameworks' (defined: {known})",
            )
            continue
        if items is None or items == []:
            check.add(item_path, "must list at least one item id")
            continue
        result[str(framework_id)] = check.id_list(items, item_path, framework)
    return result


def _question(
    check: _Checker, data: Any, path: str, dimension_id: str, capability_id: str
) -> Question | None:
    fields = check.mapping(data, path, *_QUESTION)
    if not isinstance(data, dict):
        return None
    question_id = check.ident(fields.get("id"), f"{path}.id")
    if question_id and capability_id and not question_id.startswith(f"{capability_id}."):
        check.add(
            f"{path}.id",
            f"question id {question_id!r} must start with its capability's id "
            f"{capability_id + '.'!r}",
        )
    return Question(
        id=question_id,
        dimension_id=dimension_id,
        capability_id=capability_id,
        text=check.text(fields.get("text"), f"{path}.text"),
        help=check.text(fields.get("help"), f"{path}.help"),
        audience=check.audience(fields.get("audience"), f"{path}.audience"),
        levels=check.levels(fields.get("levels"), f"{path}.levels"),
        evidence=check.id_list(fields.get("evidence"), f"{path}.evidence"),
    )


def _fact(check: _Checker, data: Any, path: str) -> FactQuestion | None:
    fields = check.mapping(data, path, *_FACT)
    if not isinstance(data, dict):
        return None
    integer = fields.get("integer", False)
    if not isinstance(integer, bool):
        check.add(f"{path}.integer", f"must be true or false, not {integer!r}")
        integer = False
    minimum = check.number(fields.get("min"), f"{path}.min", math.nan)
    maximum = check.number(fields.get("max"), f"{path}.max", math.nan)
    if minimum >= maximum:  # False when either is missing or broken (NaN)
        check.add(path, f"min ({minimum:g}) must be less than max ({maximum:g})")
    if integer:
        for key, number in (("min", minimum), ("max", maximum)):
            if math.isfinite(number) and not number.is_integer():
                check.add(
                    f"{path}.{key}", f"must be a whole number for an integer fact, not {number:g}"
                )
    return FactQuestion(
        id=check.ident(fields.get("id"), f"{path}.id"),
        text=check.text(fields.get("text"), f"{path}.text"),
        help=check.text(fields.get("help"), f"{path}.help"),
        unit=check.text(fields.get("unit"), f"{path}.unit"),
        minimum=minimum,
        maximum=maximum,
        integer=integer,
        audience=check.audience(fields.get("audience"), f"{path}.audience"),
    )


# --- Loading --------------------------------------------------------------------------------


def _load(text: str, source: str, expected: tuple[str, int] | None) -> Rubric:
    data, issues = _parse(text, source)
    check = _Checker(source)
    check.issues.extend(issues)
    rubric = _build(check, data, expected)
    if check.issues or rubric is None:
        raise RubricError(check.issues)
    return rubric


def load_rubric_text(text: str, source: str = "<string>") -> Rubric:
    """Parse and validate a rubric; RubricError lists every problem found, each with `source`."""
    return _load(text, source, None)


def load_rubric(path: str | os.PathLike[str]) -> Rubric:
    """Load and validate a rubric file.

    When the file is named `<id>-<version>.yaml`, the id and version inside must match the
    name. RubricError lists every problem found (also when the file cannot be read).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise RubricError([RubricIssue(str(path), "", f"cannot read the file: {reason}")]) from None
    named = FILENAME_RE.fullmatch(path.name)
    expected = (named["id"], int(named["version"])) if named else None
    return _load(text, str(path), expected)


# --- Authoring rules a program can check ---------------------------------------------------

_CLAUSE = re.compile(r"[.;:]\s+|\.$")


def authoring_problems(rubric: Rubric) -> list[str]:
    """Breaks of docs/rubric.md's authoring rules that a program can see, one line each:
    a question is one question (a single question mark, at the end); no clause of four words
    or more is repeated across the levels of one question (levels must differ in what they
    say, not only in their connectives); every capability maps to at least one framework.
    The loader does not refuse these (a fork may be work in progress); validate_rubric does.
    """
    problems = []
    for question in rubric.questions:
        if question.text.count("?") != 1 or not question.text.endswith("?"):
            problems.append(
                f"questions[{question.id}].text: ask exactly one question, ending in '?'"
            )
        seen: dict[str, int] = {}
        for level, text in question.levels.items():
            for clause in (c.strip().lower() for c in _CLAUSE.split(text)):
                if len(clause.split()) < 4:
                    continue
                first = seen.setdefault(clause, level)
                if first != level:
                    problems.append(
                        f"questions[{question.id}].levels.{level}: repeats level {first}: "
                        f"{clause!r}"
                    )
    for capability in rubric.capabilities:
        if not capability.crosswalk:
            problems.append(f"capabilities[{capability.id}].crosswalk: map to a framework")
    return problems


# --- Shipped rubrics ------------------------------------------------------------------------


def rubric_path(rubric_id: str, version: int) -> Path:
    """Where the shipped rubric `<id>-<version>` lives (whether or not it exists)."""
    return RUBRICS_DIR / f"{rubric_id}-{version}.yaml"


@functools.cache
def get_rubric(rubric_id: str, version: int) -> Rubric:
    """The shipped rubric `<id>-<version>`, loaded and validated once per process.

    RubricError if no such file is installed (or it is invalid). Only successes are cached.
    """
    valid_name = isinstance(rubric_id, str) and ID_RE.fullmatch(rubric_id) is not None
    valid_version = isinstance(version, int) and not isinstance(version, bool) and version >= 1
    path = rubric_path(rubric_id, version) if valid_name and valid_version else None
    if path is None or not path.is_file():
        # Ids are checked first: they can come from a form, and must not walk the file system.
        raise RubricError(
            [
                RubricIssue(
                    str(path or RUBRICS_DIR),
                    "",
                    f"no rubric {rubric_id!r} version {version!r} is installed",
                )
            ]
        )
    return load_rubric(path)


def available_rubrics() -> list[tuple[str, int, str]]:
    """(id, version, title) of every shipped rubric file, sorted; RubricError if one is invalid."""
    found: list[tuple[str, int, str]] = []
    for path in RUBRICS_DIR.glob("*.yaml"):
        named = FILENAME_RE.fullmatch(path.name)
        if named and ID_RE.fullmatch(named["id"]):
            rubric = get_rubric(named["id"], int(named["version"]))
            found.append((rubric.id, rubric.version, rubric.title))
    return sorted(found)
