"""Agent autonomy gates: the most autonomy an organisation can safely grant today.

Steps are cumulative: a step is granted when its own requirements and those of every step
below it are met. A capability without answers does not meet a requirement. The levels a gate
reads are the caller's (the engine passes the lower of claim and evidence where scan evidence
contradicts the answers); a requirement met only on low-confidence answers is marked, not
refused. The gates are data (`scoring/autonomy.yaml`, written for one rubric) so a consultant
can read and adapt them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from scoring.rubric import ID_RE, LEVELS, Rubric, RubricError, RubricIssue
from scoring.yamlutil import load_unique

GATES_PATH = Path(__file__).resolve().parent / "autonomy.yaml"
_GATE_KEYS = {"id", "title", "description", "requires"}


@dataclass(frozen=True)
class Requirement:
    capability_id: str
    level: int


@dataclass(frozen=True)
class Gate:
    id: str
    title: str
    description: str
    requires: tuple[Requirement, ...]


@dataclass(frozen=True)
class Shortfall:
    """A requirement not met: the capability's level now (None: no answers) and the one needed.

    `claimed` is the self-reported level when it differs from `current` (evidence lowered it).
    """

    capability_id: str
    current: int | None
    required: int
    claimed: int | None = None


@dataclass(frozen=True)
class RequirementCheck:
    """One requirement of a gate against the level the gate reads."""

    capability_id: str
    required: int
    current: int | None  # the level the gate reads (None: no answers)
    claimed: int | None  # the self-reported level; above `current` when evidence lowered it
    met: bool
    low_confidence: bool  # met, but only on answers of low confidence


@dataclass(frozen=True)
class GateStatus:
    gate: Gate
    met: bool  # this gate's own requirements, regardless of the gates below it
    missing: tuple[Shortfall, ...]
    checks: tuple[RequirementCheck, ...] = ()  # every requirement, in the gate's order
    low_confidence: bool = False  # met, but some requirement only with low confidence


@dataclass(frozen=True)
class Autonomy:
    """The highest gate granted today, every gate's status, and what the next one lacks
    (cumulative: every unmet requirement up to and including the next gate)."""

    granted: Gate
    granted_index: int
    steps: tuple[GateStatus, ...]
    next_gate: Gate | None
    missing_for_next: tuple[Shortfall, ...]


def load_gates_text(text: str, rubric: Rubric, source: str = "<string>") -> tuple[Gate, ...]:
    """Parse and validate gates against `rubric`; RubricError lists every problem."""
    issues: list[RubricIssue] = []

    def add(path: str, message: str) -> None:
        issues.append(RubricIssue(source, path, message))

    try:
        data = load_unique(text)
    except yaml.YAMLError as exc:
        raise RubricError([RubricIssue(source, "", f"invalid YAML: {exc}")]) from None
    if not isinstance(data, dict) or not isinstance(data.get("gates"), list):
        raise RubricError([RubricIssue(source, "gates", "must be a list of gates")])
    for key in sorted(set(data) - {"rubric", "gates"}, key=str):
        add(str(key), "unknown key; gates files have rubric and gates")
    if "rubric" in data and data["rubric"] != rubric.key:
        add("rubric", f"gates are for {data['rubric']!r}, not {rubric.key!r}")
    capability_ids = {c.id for c in rubric.capabilities}
    gates: list[Gate] = []
    seen: set[str] = set()
    for index, item in enumerate(data["gates"]):
        where = f"gates[{index}]"
        if not isinstance(item, dict):
            add(where, "must be a mapping")
            continue
        for key in sorted(set(item) - _GATE_KEYS, key=str):
            add(f"{where}.{key}", "unknown key")
        gate_id = item.get("id")
        if not isinstance(gate_id, str) or not ID_RE.match(gate_id):
            add(f"{where}.id", f"id {gate_id!r} must be lower-case letters, digits and dashes")
        elif gate_id in seen:
            add(f"{where}.id", f"duplicate id {gate_id!r}")
        seen.add(str(gate_id))
        if not isinstance(item.get("title"), str) or not item["title"].strip():
            add(f"{where}.title", "must be non-empty text")
        requires = item.get("requires") or {}
        if not isinstance(requires, dict):
            add(f"{where}.requires", "must map capability ids to levels")
            requires = {}
        gates.append(
            Gate(
                str(gate_id),
                str(item.get("title", "")).strip(),
                " ".join(str(item.get("description", "")).split()),
                tuple(_requirements(requires, f"{where}.requires", capability_ids, add)),
            )
        )
    if len(gates) < 2:
        add("gates", "define at least two gates")
    elif gates[0].requires:
        add("gates[0]", "the first gate is the baseline and requires nothing")
    if issues:
        raise RubricError(issues)
    return tuple(gates)


def _requirements(
    requires: Mapping[Any, Any], where: str, capability_ids: set[str], add: Any
) -> list[Requirement]:
    result = []
    for cap, level in requires.items():
        if cap not in capability_ids:
            add(f"{where}.{cap}", "unknown capability")
        elif isinstance(level, bool) or level not in LEVELS:
            add(f"{where}.{cap}", f"level must be 1-5, not {level!r}")
        else:
            result.append(Requirement(str(cap), int(level)))
    return result


def load_gates(path: Path, rubric: Rubric) -> tuple[Gate, ...]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RubricError([RubricIssue(str(path), "", f"cannot read the file: {exc}")]) from None
    return load_gates_text(text, rubric, source=str(path))


_CACHE: dict[Rubric, tuple[Gate, ...]] = {}


def gates_rubric_key(path: Path = GATES_PATH) -> str | None:
    """The rubric key a gates file is written for."""
    data = load_unique(path.read_text(encoding="utf-8"))
    key = data.get("rubric") if isinstance(data, dict) else None
    return key if isinstance(key, str) else None


def get_gates(rubric: Rubric) -> tuple[Gate, ...]:
    """The shipped gates for `rubric`, validated once per process; () for another rubric."""
    if rubric not in _CACHE:
        _CACHE[rubric] = load_gates(GATES_PATH, rubric) if gates_rubric_key() == rubric.key else ()
    return _CACHE[rubric]


def evaluate(
    *,
    gates: tuple[Gate, ...],
    levels: Mapping[str, int | None],
    claimed: Mapping[str, int | None] | None = None,
    low_confidence: frozenset[str] = frozenset(),
) -> Autonomy | None:
    """The autonomy granted for these capability levels; None when there are no gates.

    levels: what each gate reads; claimed: the self-reported levels, when `levels` were lowered
    by evidence (default: the same); low_confidence: capabilities whose answers are of low
    confidence, which mark a step they help meet.
    """
    if not gates:
        return None
    claimed = levels if claimed is None else claimed
    steps = []
    for gate in gates:
        checks = []
        for r in gate.requires:
            current = levels.get(r.capability_id)
            met = (current or 0) >= r.level
            checks.append(
                RequirementCheck(
                    capability_id=r.capability_id,
                    required=r.level,
                    current=current,
                    claimed=claimed.get(r.capability_id),
                    met=met,
                    low_confidence=met and r.capability_id in low_confidence,
                )
            )
        missing = tuple(
            Shortfall(
                c.capability_id,
                c.current,
                c.required,
                c.claimed if c.claimed != c.current else None,
            )
            for c in checks
            if not c.met
        )
        steps.append(
            GateStatus(
                gate,
                not missing,
                missing,
                tuple(checks),
                not missing and any(c.low_confidence for c in checks),
            )
        )
    granted = 0
    for index, status in enumerate(steps):
        if not status.met:
            break
        granted = index
    next_index = granted + 1
    if next_index >= len(steps):
        return Autonomy(gates[granted], granted, tuple(steps), None, ())
    # Everything unmet up to and including the next step (cumulative requirements), each
    # capability once with the highest level asked of it.
    shortfalls: dict[str, Shortfall] = {}
    for status in steps[: next_index + 1]:
        for s in status.missing:
            known = shortfalls.get(s.capability_id)
            if known is None or s.required > known.required:
                shortfalls[s.capability_id] = s
    return Autonomy(
        gates[granted], granted, tuple(steps), gates[next_index], tuple(shortfalls.values())
    )
