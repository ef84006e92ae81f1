"""The rubric: a versioned maturity model loaded from YAML and validated with clear errors.

A rubric file `scoring/rubrics/<id>-<version>.yaml` holds dimensions > capabilities > questions,
each question with five anchored levels, plus numeric fact questions and crosswalks to public
frameworks. Validation collects every problem it finds (file, path inside the file, what is
wrong) and raises them together, so an author fixes a file in one pass. See docs/rubric.md.

Pure Python: no Django, no settings. Assessments pin `(id, version)`; a changed rubric is a new
file, so old results never change.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

LEVELS: tuple[int, ...] = (1, 2, 3, 4, 5)
AUDIENCES: tuple[str, ...] = ("leadership", "engineering", "operations", "product")
RUBRICS_DIR: Path = Path(__file__).resolve().parent / "rubrics"
DEFAULT_RUBRIC: tuple[str, int] = ("operationalization", 1)

ID_RE = re.compile(r"^[a-z][a-z0-9-]*(\.[a-z0-9-]+)*$")
FILENAME_RE = re.compile(r"^(?P<id>[a-z][a-z0-9-]*?)-(?P<version>\d+)\.ya?ml$")


@dataclass(frozen=True)
class RubricIssue:
    file: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path or '(top level)'}: {self.message}"


class RubricError(Exception):
    """Every problem found in a rubric file, one per line."""

    def __init__(self, issues: list[RubricIssue] | tuple[RubricIssue, ...]) -> None:
        self.issues = tuple(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues))


@dataclass(frozen=True)
class Framework:
    id: str
    title: str
    url: str
    items: Mapping[str, str]


@dataclass(frozen=True)
class Question:
    id: str
    dimension_id: str
    capability_id: str
    text: str
    help: str
    audience: tuple[str, ...]
    levels: Mapping[int, str]
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class Capability:
    id: str
    dimension_id: str
    title: str
    summary: str
    weight: float
    levels: Mapping[int, str]
    crosswalk: Mapping[str, tuple[str, ...]]
    questions: tuple[Question, ...]


@dataclass(frozen=True)
class Dimension:
    id: str
    title: str
    summary: str
    weight: float
    target_level: int
    capabilities: tuple[Capability, ...]


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
    _index: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)
    _by_audience: Mapping[str, tuple[Question, ...]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        index: dict[str, Any] = {}
        for dimension in self.dimensions:
            index[f"d:{dimension.id}"] = dimension
            for capability in dimension.capabilities:
                index[f"c:{capability.id}"] = capability
                for question in capability.questions:
                    index[f"q:{question.id}"] = question
        for fact in self.facts:
            index[f"f:{fact.id}"] = fact
        object.__setattr__(self, "_index", MappingProxyType(index))
        object.__setattr__(
            self,
            "_by_audience",
            MappingProxyType(
                {
                    audience: tuple(q for q in self.questions if audience in q.audience)
                    for audience in AUDIENCES
                }
            ),
        )

    @property
    def key(self) -> str:
        return f"{self.id}-{self.version}"

    @property
    def capabilities(self) -> tuple[Capability, ...]:
        return tuple(c for d in self.dimensions for c in d.capabilities)

    @property
    def questions(self) -> tuple[Question, ...]:
        return tuple(q for c in self.capabilities for q in c.questions)

    def _get(self, prefix: str, item_id: str) -> Any:
        try:
            return self._index[f"{prefix}:{item_id}"]
        except KeyError:
            raise KeyError(item_id) from None

    def dimension(self, dimension_id: str) -> Dimension:
        result: Dimension = self._get("d", dimension_id)
        return result

    def capability(self, capability_id: str) -> Capability:
        result: Capability = self._get("c", capability_id)
        return result

    def question(self, question_id: str) -> Question:
        result: Question = self._get("q", question_id)
        return result

    def fact(self, fact_id: str) -> FactQuestion:
        result: FactQuestion = self._get("f", fact_id)
        return result

    def has_item(self, item_id: str) -> bool:
        return f"q:{item_id}" in self._index or f"f:{item_id}" in self._index

    def questions_for(self, audience: str | None) -> tuple[Question, ...]:
        if audience is None:
            return self.questions
        return self._by_audience.get(audience, ())


# --- Loading --------------------------------------------------------------------------------


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML silently keeps the last of two equal keys; a rubric must not."""


def _construct_mapping(
    loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False
) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping",
                node.start_mark,
                f"duplicate key {key!r} (first on line {seen[key] + 1})",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


class _Checker:
    """Walks the parsed YAML, building objects and collecting issues instead of stopping."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.issues: list[RubricIssue] = []
        self.ids: dict[str, str] = {}

    def add(self, path: str, message: str) -> None:
        self.issues.append(RubricIssue(self.source, path, message))

    def mapping(
        self, value: Any, path: str, required: set[str], optional: set[str]
    ) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.add(path, f"must be a mapping, not {_kind(value)}")
            return {}
        for key in value:
            if key not in required | optional:
                hint = _closest(str(key), required | optional)
                self.add(
                    _join(path, str(key)),
                    "unknown key" + (f" (did you mean {hint!r}?)" if hint else ""),
                )
        for key in sorted(required - set(value)):
            self.add(path, f"missing required key {key!r}")
        return value

    def text(self, value: Any, path: str, *, required: bool = True) -> str:
        if value is None and not required:
            return ""
        if not isinstance(value, str):
            self.add(path, f"must be text, not {_kind(value)}")
            return ""
        if required and not value.strip():
            self.add(path, "must not be empty")
        return value.strip()

    def number(self, value: Any, path: str, *, positive: bool = False) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.add(path, f"must be a number, not {_kind(value)}")
            return 1.0
        if positive and value <= 0:
            self.add(path, f"must be greater than 0, not {value}")
        return float(value)

    def level(self, value: Any, path: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value not in LEVELS:
            self.add(path, f"must be a level from 1 to 5, not {value!r}")
            return 1
        return value

    def ident(self, value: Any, path: str, *, unique: bool = True) -> str:
        if not isinstance(value, str) or not ID_RE.match(value):
            self.add(
                path,
                f"id {value!r} must be lower-case letters, digits and dashes, in dot-separated parts",
            )
            return str(value)
        if unique:
            if value in self.ids:
                self.add(path, f"duplicate id {value!r} (first used at {self.ids[value]})")
            else:
                self.ids[value] = path
        return value

    def levels(self, value: Any, path: str) -> Mapping[int, str]:
        if not isinstance(value, dict):
            self.add(path, f"must be a mapping of levels 1 to 5, not {_kind(value)}")
            return MappingProxyType({})
        result: dict[int, str] = {}
        for key, text in value.items():
            if isinstance(key, bool) or key not in LEVELS:
                self.add(
                    _join(path, str(key)), f"unknown level {key!r}: levels are 1, 2, 3, 4 and 5"
                )
                continue
            result[key] = self.text(text, _join(path, str(key)))
        for missing in (level for level in LEVELS if level not in value):
            self.add(path, f"missing level {missing}")
        texts = [t for t in result.values() if t]
        if len(set(texts)) != len(texts):
            self.add(path, "two levels have the same description")
        return MappingProxyType(dict(sorted(result.items())))

    def audience(self, value: Any, path: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not value:
            self.add(path, "must be a non-empty list of audiences")
            return ()
        result = []
        for index, item in enumerate(value):
            if item not in AUDIENCES:
                self.add(
                    f"{path}[{index}]",
                    f"unknown audience {item!r}: use one of {', '.join(AUDIENCES)}",
                )
            elif item not in result:
                result.append(item)
        return tuple(result)

    def id_list(self, value: Any, path: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.add(path, f"must be a list, not {_kind(value)}")
            return ()
        return tuple(self.ident(item, f"{path}[{i}]", unique=False) for i, item in enumerate(value))


def _kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "text", type(None): "empty"}.get(
        type(value), type(value).__name__
    )


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _closest(key: str, options: set[str]) -> str | None:
    import difflib

    matches = difflib.get_close_matches(key, sorted(options), n=1, cutoff=0.7)
    return matches[0] if matches else None


_TOP = {"id", "version", "title", "description", "level_names", "frameworks", "dimensions", "facts"}
_DIMENSION = {"id", "title", "summary", "weight", "target_level", "capabilities"}
_CAPABILITY = {"id", "title", "summary", "weight", "levels", "crosswalk", "questions"}
_QUESTION = {"id", "text", "levels", "audience"}
_FACT = {"id", "text", "unit", "min", "max", "audience"}


def load_rubric_text(text: str, source: str = "<string>") -> Rubric:
    """Parse and validate a rubric; raise RubricError listing every problem found."""
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        raise RubricError(
            [RubricIssue(source, where, f"invalid YAML: {exc.problem or exc}")]
        ) from None
    except yaml.YAMLError as exc:
        raise RubricError([RubricIssue(source, "", f"invalid YAML: {exc}")]) from None
    check = _Checker(source)
    rubric = _build(check, data)
    if check.issues or rubric is None:
        raise RubricError(check.issues)
    return rubric


def load_rubric(path: str | os.PathLike[str]) -> Rubric:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RubricError([RubricIssue(str(path), "", f"cannot read the file: {exc}")]) from None
    rubric = load_rubric_text(text, source=str(path))
    named = FILENAME_RE.match(path.name)
    if named and (named["id"], int(named["version"])) != (rubric.id, rubric.version):
        raise RubricError(
            [
                RubricIssue(
                    str(path),
                    "id",
                    f"the file is named for {named['id']!r} version {named['version']} but "
                    f"declares {rubric.id!r} version {rubric.version}: rename one of them",
                )
            ]
        )
    return rubric


def _build(check: _Checker, data: Any) -> Rubric | None:
    top = check.mapping(
        data,
        "",
        {"id", "version", "title", "level_names", "dimensions"},
        _TOP - {"id", "version", "title", "level_names", "dimensions"},
    )
    if not top:
        return None
    rubric_id = check.ident(top.get("id"), "id", unique=False)
    version = top.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        check.add("version", f"must be a whole number from 1, not {version!r}")
        version = 1
    frameworks = _frameworks(check, top.get("frameworks") or {})
    level_names = check.levels(top.get("level_names"), "level_names")
    dimensions_data = top.get("dimensions")
    dimensions: list[Dimension] = []
    if not isinstance(dimensions_data, list) or not dimensions_data:
        check.add("dimensions", "must be a non-empty list")
    else:
        for index, item in enumerate(dimensions_data):
            dimension = _dimension(check, item, f"dimensions[{index}]", frameworks)
            if dimension is not None:
                dimensions.append(dimension)
    facts_data = top.get("facts") or []
    facts: list[FactQuestion] = []
    if not isinstance(facts_data, list):
        check.add("facts", "must be a list")
    else:
        for index, item in enumerate(facts_data):
            fact = _fact(check, item, f"facts[{index}]")
            if fact is not None:
                facts.append(fact)
    return Rubric(
        id=rubric_id,
        version=version,
        title=check.text(top.get("title"), "title"),
        description=check.text(top.get("description"), "description", required=False),
        level_names=level_names,
        frameworks=MappingProxyType(frameworks),
        dimensions=tuple(dimensions),
        facts=tuple(facts),
    )


def _frameworks(check: _Checker, data: Any) -> dict[str, Framework]:
    if not isinstance(data, dict):
        check.add("frameworks", f"must be a mapping of framework ids, not {_kind(data)}")
        return {}
    result = {}
    for framework_id, body in data.items():
        path = f"frameworks.{framework_id}"
        check.ident(framework_id, path, unique=False)
        fields = check.mapping(body, path, {"title", "items"}, {"url"})
        items_data = fields.get("items")
        items: dict[str, str] = {}
        if not isinstance(items_data, dict) or not items_data:
            check.add(f"{path}.items", "must be a non-empty mapping of item id to title")
        else:
            for item_id, title in items_data.items():
                check.ident(item_id, f"{path}.items.{item_id}", unique=False)
                items[str(item_id)] = check.text(title, f"{path}.items.{item_id}")
        result[str(framework_id)] = Framework(
            id=str(framework_id),
            title=check.text(fields.get("title"), f"{path}.title"),
            url=check.text(fields.get("url"), f"{path}.url", required=False),
            items=MappingProxyType(items),
        )
    return result


def _dimension(
    check: _Checker, data: Any, path: str, frameworks: dict[str, Framework]
) -> Dimension | None:
    fields = check.mapping(
        data, path, {"id", "title", "capabilities"}, _DIMENSION - {"id", "title", "capabilities"}
    )
    if not fields:
        return None
    dimension_id = check.ident(fields.get("id"), f"{path}.id")
    capabilities = []
    caps_data = fields.get("capabilities")
    if not isinstance(caps_data, list) or not caps_data:
        check.add(f"{path}.capabilities", "must be a non-empty list")
    else:
        for index, item in enumerate(caps_data):
            capability = _capability(
                check, item, f"{path}.capabilities[{index}]", dimension_id, frameworks
            )
            if capability is not None:
                capabilities.append(capability)
    return Dimension(
        id=dimension_id,
        title=check.text(fields.get("title"), f"{path}.title"),
        summary=check.text(fields.get("summary"), f"{path}.summary", required=False),
        weight=check.number(fields.get("weight", 1), f"{path}.weight", positive=True),
        target_level=check.level(fields.get("target_level", 4), f"{path}.target_level"),
        capabilities=tuple(capabilities),
    )


def _capability(
    check: _Checker, data: Any, path: str, dimension_id: str, frameworks: dict[str, Framework]
) -> Capability | None:
    fields = check.mapping(
        data,
        path,
        {"id", "title", "levels", "questions"},
        _CAPABILITY - {"id", "title", "levels", "questions"},
    )
    if not fields:
        return None
    capability_id = check.ident(fields.get("id"), f"{path}.id")
    crosswalk = _crosswalk(check, fields.get("crosswalk") or {}, f"{path}.crosswalk", frameworks)
    questions = []
    questions_data = fields.get("questions")
    if not isinstance(questions_data, list) or not questions_data:
        check.add(f"{path}.questions", "must be a non-empty list")
    else:
        for index, item in enumerate(questions_data):
            question = _question(
                check, item, f"{path}.questions[{index}]", dimension_id, capability_id
            )
            if question is not None:
                questions.append(question)
    return Capability(
        id=capability_id,
        dimension_id=dimension_id,
        title=check.text(fields.get("title"), f"{path}.title"),
        summary=check.text(fields.get("summary"), f"{path}.summary", required=False),
        weight=check.number(fields.get("weight", 1), f"{path}.weight", positive=True),
        levels=check.levels(fields.get("levels"), f"{path}.levels"),
        crosswalk=MappingProxyType(crosswalk),
        questions=tuple(questions),
    )


def _crosswalk(
    check: _Checker, data: Any, path: str, frameworks: dict[str, Framework]
) -> dict[str, tuple[str, ...]]:
    if not isinstance(data, dict):
        check.add(path, f"must be a mapping of framework id to item ids, not {_kind(data)}")
        return {}
    result = {}
    for framework_id, items in data.items():
        item_path = f"{path}.{framework_id}"
        framework = frameworks.get(str(framework_id))
        if framework is None:
            check.add(
                item_path,
                f"refers to framework {framework_id!r}, which the rubric does not define under 'frameworks'",
            )
            continue
        ids = check.id_list(items, item_path)
        for index, item_id in enumerate(ids):
            if item_id not in framework.items:
                check.add(
                    f"{item_path}[{index}]",
                    f"{item_id!r} is not an item of framework {framework_id!r}",
                )
        result[str(framework_id)] = ids
    return result


def _question(
    check: _Checker, data: Any, path: str, dimension_id: str, capability_id: str
) -> Question | None:
    fields = check.mapping(data, path, _QUESTION, {"help", "evidence"})
    if not fields:
        return None
    return Question(
        id=check.ident(fields.get("id"), f"{path}.id"),
        dimension_id=dimension_id,
        capability_id=capability_id,
        text=check.text(fields.get("text"), f"{path}.text"),
        help=check.text(fields.get("help"), f"{path}.help", required=False),
        audience=check.audience(fields.get("audience"), f"{path}.audience"),
        levels=check.levels(fields.get("levels"), f"{path}.levels"),
        evidence=check.id_list(fields.get("evidence"), f"{path}.evidence"),
    )


def _fact(check: _Checker, data: Any, path: str) -> FactQuestion | None:
    fields = check.mapping(data, path, _FACT, {"help", "integer"})
    if not fields:
        return None
    minimum = check.number(fields.get("min", 0), f"{path}.min")
    maximum = check.number(fields.get("max", 1), f"{path}.max")
    if minimum >= maximum:
        check.add(path, f"min ({minimum:g}) must be less than max ({maximum:g})")
    integer = fields.get("integer", False)
    if not isinstance(integer, bool):
        check.add(f"{path}.integer", f"must be true or false, not {integer!r}")
        integer = False
    return FactQuestion(
        id=check.ident(fields.get("id"), f"{path}.id"),
        text=check.text(fields.get("text"), f"{path}.text"),
        help=check.text(fields.get("help"), f"{path}.help", required=False),
        unit=check.text(fields.get("unit"), f"{path}.unit"),
        minimum=minimum,
        maximum=maximum,
        integer=integer,
        audience=check.audience(fields.get("audience"), f"{path}.audience"),
    )


# --- Shipped rubrics ------------------------------------------------------------------------


def rubric_path(rubric_id: str, version: int) -> Path:
    return RUBRICS_DIR / f"{rubric_id}-{version}.yaml"


@functools.cache
def get_rubric(rubric_id: str, version: int) -> Rubric:
    """The shipped rubric `<id>-<version>`, loaded once per process."""
    path = rubric_path(rubric_id, version)
    if not path.is_file():
        raise RubricError(
            [RubricIssue(str(path), "", f"no rubric {rubric_id!r} version {version} is installed")]
        )
    return load_rubric(path)


def available_rubrics() -> list[tuple[str, int, str]]:
    """(id, version, title) of every shipped rubric file, sorted; loading validates each."""
    found = []
    for path in sorted(RUBRICS_DIR.glob("*.yaml")):
        named = FILENAME_RE.match(path.name)
        if named:
            rubric = get_rubric(named["id"], int(named["version"]))
            found.append((rubric.id, rubric.version, rubric.title))
    return sorted(found)
