"""The recommendations catalogue: what to do about a gap, as validated data.

`scoring/recommendations/<rubric id>-<version>.yaml` lists recommendations, each tied to a
capability, with a trigger (the levels, answers, contradictions or review projection that
call for it), why it matters, concrete steps, impact and effort, and prerequisites. Loading
validates every entry against the rubric and rejects dependency cycles, naming the cycle.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from scoring.autonomy import get_gates
from scoring.rubric import ID_RE, Rubric, RubricError, RubricIssue, get_rubric
from scoring.yamlutil import load_unique

CATALOGUES_DIR = Path(__file__).resolve().parent / "recommendations"
_ENTRY = {"id", "title", "capability", "trigger", "why", "steps", "impact", "effort"}
_OPTIONAL = {
    "prerequisites",
    "first_30_days",
    "done_when",
    "owner_role",
    "effort_weeks",
    "raises_to",
    "unlocks",
}
# What a plan needs to schedule an item: required of every recommendation from rubric version 2
# on (version 1's catalogue predates them and stays valid without).
PLANNING = ("first_30_days", "done_when", "owner_role", "effort_weeks", "raises_to", "unlocks")
NO_GATE = "none"  # `unlocks` for work on a capability no autonomy gate reads
# How the roadmap orders work: "value" (impact / effort; version 1's catalogue) or "gates"
# (what the next autonomy gate needs first, then what unblocks most; see roadmap.py).
ORDERINGS = ("value", "gates")
CONDITIONS = {
    "capability_below",  # capability level (fully reached) below N
    "dimension_below",  # {dimension: id, level: N}: dimension level below N
    "answer_at_most",  # {question: id, level: N}: the question's median answer at most N
    "fact_at_least",  # {fact: id, value: X}: the fact's median answer at least X
    "fact_at_most",  # {fact: id, value: X}: the fact's median answer at most X
    "contradiction",  # true: answers claim more than scan evidence shows for the capability
    "review_saturates_below",  # review saturates at less than N times today's PR volume
    "no_data",  # true: nobody could answer the capability's questions
}
# Conditions that read how the organisation stands; see roadmap.py for how they decide
# whether an untriggered prerequisite is in place.
STANDING = (
    "capability_below",
    "dimension_below",
    "answer_at_most",
    "fact_at_least",
    "fact_at_most",
)


@dataclass(frozen=True)
class Condition:
    """One trigger condition. `value` is the threshold (a level, multiple or fact value, or a
    {dimension, level} mapping); `question_id` names the question or fact it reads."""

    kind: str
    value: Any
    question_id: str = ""


@dataclass(frozen=True)
class Recommendation:
    """A catalogue entry: `trigger` conditions (any one fires it), impact and effort 1-3."""

    id: str
    title: str
    capability_id: str
    trigger: tuple[Condition, ...]  # any one condition triggers the recommendation
    why: str
    steps: tuple[str, ...]
    impact: int
    effort: int
    prerequisites: tuple[str, ...]
    first_30_days: str = ""  # what to have done after the first 30 days
    done_when: str = ""  # the observable state that ends the work
    owner_role: str = ""  # who should own it
    effort_weeks: float | None = None  # person-weeks, an order of magnitude
    raises_to: int | None = None  # the capability level the work brings the organisation to
    unlocks: str = ""  # the autonomy gate the work helps unlock (a gate id, "none" or "")


@dataclass(frozen=True)
class Catalogue:
    rubric_key: str
    items: Mapping[str, Recommendation]
    ordering: str = "value"


def load_catalogue_text(text: str, rubric: Rubric, source: str = "<string>") -> Catalogue:
    """Parse and validate a catalogue against `rubric`; RubricError lists every problem with
    the file, the path inside it and the message."""
    issues: list[RubricIssue] = []

    def add(path: str, message: str) -> None:
        issues.append(RubricIssue(source, path, message))

    try:
        data = load_unique(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise RubricError(
            [RubricIssue(source, where, f"invalid YAML: {getattr(exc, 'problem', exc)}")]
        ) from None
    entries = data.get("recommendations") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise RubricError([RubricIssue(source, "recommendations", "must be a non-empty list")])
    assert isinstance(data, dict)
    for key in sorted(set(data) - {"rubric", "recommendations", "ordering"}, key=str):
        add(str(key), "unknown key; a catalogue has rubric, ordering and recommendations")
    ordering = data.get("ordering", "value")
    if ordering not in ORDERINGS:
        add("ordering", f"must be one of {', '.join(ORDERINGS)}, not {ordering!r}")
    if "rubric" in data and data["rubric"] != rubric.key:
        add("rubric", f"catalogue is for {data['rubric']!r}, not {rubric.key!r}")
    items: dict[str, Recommendation] = {}
    capability_ids = {c.id for c in rubric.capabilities}
    question_ids = {q.id for q in rubric.questions}
    dimension_ids = {d.id for d in rubric.dimensions}
    for index, entry in enumerate(entries):
        path = f"recommendations[{index}]"
        if not isinstance(entry, dict):
            add(path, "must be a mapping")
            continue
        for key in sorted(set(entry) - _ENTRY - _OPTIONAL):
            add(f"{path}.{key}", "unknown key")
        for key in sorted(_ENTRY - set(entry)):
            add(path, f"missing required key {key!r}")
        rec_id = entry.get("id")
        if not isinstance(rec_id, str) or not ID_RE.match(rec_id):
            add(f"{path}.id", f"id {rec_id!r} must be lower-case letters, digits, dashes and dots")
            continue
        if rec_id in items:
            add(f"{path}.id", f"duplicate id {rec_id!r}")
        capability = entry.get("capability")
        if capability not in capability_ids:
            add(f"{path}.capability", f"unknown capability {capability!r}")
        conditions = _conditions(
            entry.get("trigger"), f"{path}.trigger", add, question_ids, dimension_ids, rubric
        )
        steps = entry.get("steps")
        if (
            not isinstance(steps, list)
            or not 3 <= len(steps) <= 6
            or not all(isinstance(s, str) and s.strip() for s in steps)
        ):
            add(f"{path}.steps", "must be a list of 3 to 6 non-empty steps")
            steps = []
        for key in ("impact", "effort"):
            if type(entry.get(key)) is not int or entry.get(key) not in (1, 2, 3):
                add(f"{path}.{key}", f"must be 1, 2 or 3, not {entry.get(key)!r}")
        prerequisites = entry.get("prerequisites") or []
        if not isinstance(prerequisites, list):
            add(f"{path}.prerequisites", "must be a list of recommendation ids")
            prerequisites = []
        for key in ("title", "why"):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                add(f"{path}.{key}", "must be non-empty text")
        for key in ("first_30_days", "done_when", "owner_role"):
            if key in entry and (not isinstance(entry[key], str) or not entry[key].strip()):
                add(f"{path}.{key}", "must be non-empty text when given")
        weeks = entry.get("effort_weeks")
        if weeks is not None and (
            isinstance(weeks, bool) or not isinstance(weeks, int | float) or not 0 < weeks <= 52
        ):
            add(f"{path}.effort_weeks", f"must be a number of person-weeks, 0-52, not {weeks!r}")
            weeks = None
        raises_to = entry.get("raises_to")
        if raises_to is not None and (type(raises_to) is not int or raises_to not in (2, 3, 4, 5)):
            add(f"{path}.raises_to", f"must be a level from 2 to 5, not {raises_to!r}")
            raises_to = None
        items[rec_id] = Recommendation(
            id=rec_id,
            title=str(entry.get("title", "")).strip(),
            capability_id=str(capability),
            trigger=tuple(conditions),
            why=" ".join(str(entry.get("why", "")).split()),
            steps=tuple(" ".join(s.split()) for s in steps),
            impact=_one_to_three(entry.get("impact")),
            effort=_one_to_three(entry.get("effort")),
            prerequisites=tuple(str(p) for p in prerequisites),
            first_30_days=" ".join(str(entry.get("first_30_days", "")).split()),
            done_when=" ".join(str(entry.get("done_when", "")).split()),
            owner_role=" ".join(str(entry.get("owner_role", "")).split()),
            effort_weeks=float(weeks) if weeks is not None else None,
            raises_to=raises_to,
            unlocks=str(entry.get("unlocks", "")),
        )
        if rubric.version >= 2:
            for key in PLANNING:
                if key not in entry:
                    add(path, f"missing {key!r}: version 2 recommendations carry planning fields")
        if "unlocks" in entry:
            _check_unlocks(entry["unlocks"], str(capability), rubric, f"{path}.unlocks", add)
    for rec in items.values():
        for prerequisite in rec.prerequisites:
            if prerequisite not in items:
                add(
                    f"recommendations[{rec.id}].prerequisites",
                    f"{prerequisite!r} is not in the catalogue",
                )
            elif prerequisite == rec.id:
                add(
                    f"recommendations[{rec.id}].prerequisites",
                    "a recommendation cannot require itself",
                )
    cycle = _find_cycle(items)
    if cycle:
        add("recommendations", "prerequisites form a cycle: " + " -> ".join(cycle))
    if issues:
        raise RubricError(issues)
    return Catalogue(rubric.key, items, str(ordering))


def _check_unlocks(value: Any, capability_id: str, rubric: Rubric, path: str, add: Any) -> None:
    """`unlocks` names a gate with a requirement on the recommendation's capability, or
    "none" when no gate reads that capability."""
    gates = get_gates(rubric)
    reading = [g.id for g in gates if any(r.capability_id == capability_id for r in g.requires)]
    if value == NO_GATE:
        if reading:
            add(path, f"gate {reading[0]!r} reads {capability_id}: name the gate, not 'none'")
    elif value not in {g.id for g in gates}:
        add(path, f"{value!r} is not an autonomy gate of {rubric.key} (or 'none')")
    elif value not in reading:
        add(path, f"gate {value!r} has no requirement on {capability_id}")


def _conditions(
    raw: Any,
    path: str,
    add: Any,
    question_ids: set[str],
    dimension_ids: set[str],
    rubric: Rubric,
) -> list[Condition]:
    if not isinstance(raw, list) or not raw:
        add(path, "must be a non-empty list of conditions (any one triggers)")
        return []
    result = []
    for index, item in enumerate(raw):
        where = f"{path}[{index}]"
        if not isinstance(item, dict) or len(item) != 1:
            add(where, "each condition is a mapping with exactly one key")
            continue
        ((kind, value),) = item.items()
        if kind not in CONDITIONS:
            add(f"{where}.{kind}", f"unknown condition; use one of {', '.join(sorted(CONDITIONS))}")
            continue
        if kind in ("capability_below", "review_saturates_below") and not (
            isinstance(value, int | float) and value > 0
        ):
            add(f"{where}.{kind}", f"must be a positive number, not {value!r}")
            continue
        if kind == "capability_below" and value not in (2, 3, 4, 5):
            add(f"{where}.{kind}", f"must be a level from 2 to 5, not {value!r}")
            continue
        if kind == "dimension_below" and (
            not isinstance(value, dict)
            or value.get("dimension") not in dimension_ids
            or value.get("level") not in (2, 3, 4, 5)
        ):
            add(f"{where}.{kind}", "must be {dimension: <known id>, level: 2-5}")
            continue
        if kind == "answer_at_most":
            if not isinstance(value, dict) or set(value) != {"question", "level"}:
                add(f"{where}.{kind}", "must be {question: <id>, level: 1-4}")
                continue
            if value["question"] not in question_ids:
                add(
                    f"{where}.{kind}.question",
                    f"{value['question']!r} is not a question of the rubric",
                )
                continue
            if value["level"] not in (1, 2, 3, 4):
                add(f"{where}.{kind}.level", f"must be 1 to 4, not {value['level']!r}")
                continue
            result.append(Condition(kind, value["level"], value["question"]))
            continue
        if kind in ("fact_at_least", "fact_at_most"):
            facts = {f.id: f for f in rubric.facts}
            if not isinstance(value, dict) or set(value) != {"fact", "value"}:
                add(f"{where}.{kind}", "must be {fact: <id>, value: <number>}")
                continue
            fact = facts.get(value["fact"])
            if fact is None:
                add(f"{where}.{kind}.fact", f"{value['fact']!r} is not a fact of the rubric")
                continue
            number = value["value"]
            if (
                isinstance(number, bool)
                or not isinstance(number, int | float)
                or not fact.minimum <= number <= fact.maximum
            ):
                add(
                    f"{where}.{kind}.value",
                    f"must be a number from {fact.minimum:g} to {fact.maximum:g}, not {number!r}",
                )
                continue
            result.append(Condition(kind, float(number), fact.id))
            continue
        if kind in ("contradiction", "no_data") and value is not True:
            add(f"{where}.{kind}", "must be true")
            continue
        result.append(Condition(kind, value))
    return result


def _find_cycle(items: Mapping[str, Recommendation]) -> list[str]:
    """One prerequisite cycle as a path (a -> b -> a), or [] when the graph is acyclic."""
    state: dict[str, int] = {}  # 1 visiting, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for nxt in items[node].prerequisites:
            if nxt not in items:
                continue
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if state.get(nxt) is None:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return []

    for node in sorted(items):
        if state.get(node) is None:
            found = visit(node)
            if found:
                return found
    return []


def catalogue_path(rubric_id: str, version: int) -> Path:
    return CATALOGUES_DIR / f"{rubric_id}-{version}.yaml"


def load_catalogue(path: str | Path, rubric: Rubric) -> Catalogue:
    """Load and validate the catalogue file at `path` against `rubric`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RubricError([RubricIssue(str(path), "", f"cannot read the file: {exc}")]) from None
    return load_catalogue_text(text, rubric, source=str(path))


@functools.cache
def get_catalogue(rubric_id: str, version: int) -> Catalogue:
    """The shipped catalogue of a shipped rubric, validated once per process."""
    return load_catalogue(catalogue_path(rubric_id, version), get_rubric(rubric_id, version))


def shipped_catalogue(rubric: Rubric) -> Catalogue | None:
    """The shipped catalogue for `rubric`, validated against that very rubric object, or None
    when no catalogue ships for it (a custom or test rubric)."""
    path = catalogue_path(rubric.id, rubric.version)
    if not path.exists():
        return None
    shipped = _shipped_rubric(rubric)
    if shipped is not None and (shipped is rubric or shipped == rubric):
        return get_catalogue(rubric.id, rubric.version)
    return load_catalogue(path, rubric)


def _shipped_rubric(rubric: Rubric) -> Rubric | None:
    try:
        return get_rubric(rubric.id, rubric.version)
    except RubricError:
        return None


def _one_to_three(value: object) -> int:
    """The value when it is the integer 1, 2 or 3 (YAML's true and 1.0 are not), else 1."""
    return value if type(value) is int and value in (1, 2, 3) else 1
