"""The scoring Result: plain frozen dataclasses, and their JSON form both ways.

`Result.to_dict()` gives JSON-ready data: keys in field order, tuples as lists, floats rounded
to 4 decimals (and always floats where a float is declared), no NaN or infinity anywhere.
`Result.from_dict()` rebuilds the dataclasses from that data (for example from a cached JSON
column), and `from_dict(r.to_dict()).to_dict() == r.to_dict()`. Data that does not fit the
declared types raises ResultFormatError naming the path, so a stale cache entry can be
recomputed instead of half-rendered.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Union

import numpy as np

from scoring.autonomy import Autonomy
from scoring.delivery import DeliveryMetrics
from scoring.evidence import ContradictionEntry, EvidenceVerdict
from scoring.review_capacity import ReviewProjection
from scoring.roadmap import RoadmapItem
from scoring.scores import FactValue, PerceptionGap, QuestionStat
from scoring.workshop import RoomSummary, WorkshopCapability

DECIMALS = 4


class ResultFormatError(ValueError):
    """Result data (a dict) that does not match the Result's shape."""


@dataclass(frozen=True)
class CapabilityResult:
    """One capability: self-reported score and level, spread, confidence and evidence."""

    id: str
    dimension_id: str
    title: str
    score: float | None  # 0-100; None when nobody gave a level
    level: int | None  # 1-5, the level fully reached
    exact_level: float | None  # 1 + score / 25
    target_level: int  # the dimension's target
    gap: float | None  # max(0, target - exact level), in levels
    weight: float
    n_respondents: int  # people who gave at least one level on the capability
    n_answers: int  # level answers
    n_unknown: int  # "don't know" and "not applicable" answers
    unknown_share: float
    q1: float | None  # quartiles of respondent values, in levels
    q3: float | None
    spread: float | None  # q3 - q1
    agreement: float | None  # r_wg in [0, 1]; None with one respondent
    confidence: float
    confidence_label: str  # high / medium / low
    low_confidence: bool
    evidence: EvidenceVerdict
    # Where the level comes from: "survey" (the median of answers), "workshop" (the level a
    # live workshop agreed, which wins; scoring.workshop.combine) or None without either.
    source: str | None = None
    survey_score: float | None = None  # the survey median's score, kept beside an agreed level
    workshop: WorkshopCapability | None = None  # the room's votes, rationale and dissent


@dataclass(frozen=True)
class DimensionResult:
    id: str
    title: str
    weight: float
    score: float | None  # weighted mean of capability scores
    level: int | None
    exact_level: float | None
    target_level: int
    gap: float | None
    confidence: float
    confidence_label: str
    low_confidence: bool
    adjusted_score: float | None  # the same mean over evidence-adjusted capability scores
    capability_ids: tuple[str, ...]


@dataclass(frozen=True)
class Readiness:
    """Overall readiness: the weighted mean of dimensions, limited by the weakest link."""

    score: float | None  # min(weighted mean, weakest dimension + 25)
    level: int | None
    weighted_mean: float | None  # the plain weighted mean, before the weakest-link limit
    limiting_dimension_id: str | None
    held_back_by: float  # points the weakest link takes off the weighted mean (>= 0)
    confidence: float
    confidence_label: str
    low_confidence: bool
    adjusted_score: float | None = None  # the same rule over evidence-adjusted dimensions
    # Dimensions that count (weight above 0) but that nobody answered: readiness is computed
    # without them, so the weakest-link rule could not look at them and every headline says so.
    not_assessed: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReviewResult:
    projection: ReviewProjection | None  # None when an input is missing (see `missing`)
    missing: tuple[str, ...]
    source: str  # "survey", or "overrides" when any input was given explicitly
    # Inputs (by review-input key) that fewer than MIN_GROUP people answered, with how many
    # did: the wall neither uses nor prints them. A required one leaves no projection.
    too_few: Mapping[str, int] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class Result:
    engine_version: str
    rubric_key: str
    computed_at: str
    respondents: int
    respondents_by_role: Mapping[str, int]
    readiness: Readiness
    dimensions: tuple[DimensionResult, ...]
    capabilities: tuple[CapabilityResult, ...]
    questions: Mapping[str, QuestionStat]
    facts: Mapping[str, FactValue]
    perception: tuple[PerceptionGap, ...]
    leadership_optimism: float | None
    contradictions: tuple[str, ...]  # capability ids whose claims contradict the evidence
    roadmap: tuple[RoadmapItem, ...]
    autonomy: Autonomy | None  # None for a rubric without gates
    review: ReviewResult
    delivery: DeliveryMetrics | None
    warnings: tuple[str, ...]
    evidence_register: tuple[ContradictionEntry, ...] = ()  # largest disagreement first
    room: RoomSummary | None = None  # the live workshop, when levels were agreed in one

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data: stable key order, rounded floats, no NaN."""
        data = to_plain(self)
        assert isinstance(data, dict)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Result:
        """The Result that `to_dict()` described; ResultFormatError if the data does not fit."""
        result = from_plain(cls, data, "result")
        assert isinstance(result, Result)
        return result


# --- Serialisation, directed by the declared types ------------------------------------------

_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _strip_optional(hint: Any) -> Any:
    if typing.get_origin(hint) in (Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return hint


def _arg(hint: Any, index: int) -> Any:
    args = typing.get_args(_strip_optional(hint))
    return args[index] if len(args) > index else Any


def _number(value: float) -> float | None:
    return round(value, DECIMALS) if math.isfinite(value) else None


def to_plain(value: Any, hint: Any = Any) -> Any:
    """JSON-ready copy of `value`: dataclasses and mappings to dicts, tuples to lists, floats
    rounded, NaN and infinities to None; an int where a float is declared becomes a float."""
    if value is None:
        return None
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        hints = _hints(type(value))
        return {
            f.name: to_plain(getattr(value, f.name), hints.get(f.name, Any))
            for f in dataclasses.fields(value)
        }
    if isinstance(value, Mapping):
        inner = _arg(hint, 1)
        return {str(k): to_plain(v, inner) for k, v in value.items()}
    if isinstance(value, list | tuple):
        inner = _arg(hint, 0)
        return [to_plain(v, inner) for v in value]
    if isinstance(value, set | frozenset):
        inner = _arg(hint, 0)
        return [to_plain(v, inner) for v in sorted(value)]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool | str):
        return value
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, int):
        return _number(float(value)) if _strip_optional(hint) is float else value
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def from_plain(hint: Any, data: Any, path: str) -> Any:
    """Rebuild a value of type `hint` from its `to_plain` form."""
    if hint is Any:
        return data
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (Union, types.UnionType):
        if data is None:
            if type(None) in args:
                return None
            raise ResultFormatError(f"{path}: missing value")
        options = [a for a in args if a is not type(None)]
        if len(options) == 1:
            return from_plain(options[0], data, path)
        for option in options:
            try:
                return from_plain(option, data, path)
            except ResultFormatError:
                continue
        raise ResultFormatError(f"{path}: {data!r} fits none of {hint}")
    if origin is Literal:
        if data not in args:
            raise ResultFormatError(f"{path}: {data!r} is not one of {args}")
        return data
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if not isinstance(data, Mapping):
            raise ResultFormatError(f"{path}: expected a mapping for {hint.__name__}")
        hints = _hints(hint)
        kwargs = {}
        for f in dataclasses.fields(hint):
            if f.name in data:
                kwargs[f.name] = from_plain(hints[f.name], data[f.name], f"{path}.{f.name}")
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ResultFormatError(f"{path}.{f.name}: missing")
        return hint(**kwargs)
    if origin is tuple:
        if not isinstance(data, list | tuple):
            raise ResultFormatError(f"{path}: expected a list")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(from_plain(args[0], v, f"{path}[{i}]") for i, v in enumerate(data))
        if len(args) != len(data):
            raise ResultFormatError(f"{path}: expected {len(args)} items")
        return tuple(
            from_plain(a, v, f"{path}[{i}]")
            for i, (a, v) in enumerate(zip(args, data, strict=True))
        )
    if origin in (frozenset, set):
        if not isinstance(data, list | tuple):
            raise ResultFormatError(f"{path}: expected a list")
        return frozenset(from_plain(args[0], v, f"{path}[{i}]") for i, v in enumerate(data))
    if origin in (dict, Mapping):
        if not isinstance(data, Mapping):
            raise ResultFormatError(f"{path}: expected a mapping")
        return {str(k): from_plain(args[1], v, f"{path}.{k}") for k, v in data.items()}
    if hint is float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            raise ResultFormatError(f"{path}: expected a number, not {data!r}")
        return float(data)
    if hint is int:
        if isinstance(data, bool) or not isinstance(data, int):
            raise ResultFormatError(f"{path}: expected a whole number, not {data!r}")
        return data
    if hint is bool or hint is str:
        if not isinstance(data, hint):
            raise ResultFormatError(f"{path}: expected {hint.__name__}, not {data!r}")
        return data
    raise ResultFormatError(f"{path}: cannot rebuild a {hint}")
