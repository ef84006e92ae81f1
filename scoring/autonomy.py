"""Agent autonomy gates: the most autonomy an organisation can safely grant today.

Steps are cumulative: a step is granted when its own requirements and those of every step
below it are met. A capability without answers does not meet a requirement. The gates are data
(`scoring/autonomy.yaml`) so a consultant can read and adapt them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from scoring.rubric import Rubric, RubricError, RubricIssue

GATES_PATH = Path(__file__).resolve().parent / "autonomy.yaml"


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
    capability_id: str
    current: int | None
    required: int


@dataclass(frozen=True)
class GateStatus:
    gate: Gate
    met: bool
    missing: tuple[Shortfall, ...]


@dataclass(frozen=True)
class Autonomy:
    granted: Gate
    granted_index: int
    steps: tuple[GateStatus, ...]
    next_gate: Gate | None
    missing_for_next: tuple[Shortfall, ...]


def load_gates(path: Path, rubric: Rubric) -> tuple[Gate, ...]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    issues = []
    gates = []
    capability_ids = {c.id for c in rubric.capabilities}
    for index, item in enumerate(data.get("gates", []) if isinstance(data, dict) else []):
        where = f"gates[{index}]"
        requires = []
        for cap, level in (item.get("requires") or {}).items():
            if cap not in capability_ids:
                issues.append(
                    RubricIssue(str(path), f"{where}.requires.{cap}", "unknown capability")
                )
            if level not in (1, 2, 3, 4, 5):
                issues.append(
                    RubricIssue(
                        str(path), f"{where}.requires.{cap}", f"level must be 1-5, not {level!r}"
                    )
                )
            requires.append(Requirement(cap, int(level) if isinstance(level, int) else 5))
        gates.append(
            Gate(
                str(item.get("id")),
                str(item.get("title")),
                " ".join(str(item.get("description", "")).split()),
                tuple(requires),
            )
        )
    if len(gates) < 2:
        issues.append(RubricIssue(str(path), "gates", "define at least two gates"))
    elif gates[0].requires:
        issues.append(
            RubricIssue(
                str(path), "gates[0]", "the first gate is the baseline and requires nothing"
            )
        )
    if issues:
        raise RubricError(issues)
    return tuple(gates)


_CACHE: dict[str, tuple[Gate, ...]] = {}


def get_gates(rubric: Rubric) -> tuple[Gate, ...]:
    """The shipped gates, validated against the rubric once per process."""
    if rubric.key not in _CACHE:
        _CACHE[rubric.key] = load_gates(GATES_PATH, rubric)
    return _CACHE[rubric.key]


def evaluate(gates: tuple[Gate, ...], levels: Mapping[str, int | None]) -> Autonomy:
    steps = []
    for gate in gates:
        missing = tuple(
            Shortfall(r.capability_id, levels.get(r.capability_id), r.level)
            for r in gate.requires
            if (levels.get(r.capability_id) or 0) < r.level
        )
        steps.append(GateStatus(gate, not missing, missing))
    granted = 0
    for index, status in enumerate(steps):
        if not status.met:
            break
        granted = index
    next_index = granted + 1
    if next_index < len(steps):
        # Everything unmet up to and including the next step (cumulative requirements).
        shortfalls: dict[str, Shortfall] = {}
        for status in steps[: next_index + 1]:
            for s in status.missing:
                if (
                    s.capability_id not in shortfalls
                    or s.required > shortfalls[s.capability_id].required
                ):
                    shortfalls[s.capability_id] = s
        return Autonomy(
            gates[granted], granted, tuple(steps), gates[next_index], tuple(shortfalls.values())
        )
    return Autonomy(gates[granted], granted, tuple(steps), None, ())
