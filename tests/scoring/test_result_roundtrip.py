"""Reading stored results back: `Result.from_dict` and the `to_plain` / `from_plain` pair.

A stored result must read back as the result that was computed, field for field and with the
declared types (tuples stay tuples, floats stay floats, nested records are records again), up
to the documented rounding to 4 decimals. A stored result written before a field existed reads
with that field's default. Anything else that does not fit raises ResultFormatError naming the
place, so a stale entry is recomputed instead of half-rendered.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
import pytest

from scoring.engine import Result, score_assessment
from scoring.result import ResultFormatError, from_plain, to_plain
from scoring.rubric import get_rubric
from scoring.workshop import AgreedLevel, DissentNote, RoomVote
from tests.scoring.helpers import frame
from tests.scoring.test_result import _rich_result

RUBRIC = get_rubric("operationalization", 1)
HALF_A_UNIT = 0.5 * 10**-4 + 1e-12  # floats are stored rounded to 4 decimals


def _same(computed: Any, read: Any, path: str = "result") -> None:
    """`read` is `computed` with the declared types, floats within the rounding."""
    if isinstance(computed, np.generic):
        computed = computed.item()
    if computed is None:
        assert read is None, path
    elif dataclasses.is_dataclass(computed):
        assert type(read) is type(computed), path
        for f in dataclasses.fields(computed):
            _same(getattr(computed, f.name), getattr(read, f.name), f"{path}.{f.name}")
    elif isinstance(computed, bool | str):
        assert type(read) is type(computed) and read == computed, path
    elif isinstance(computed, float):
        if math.isfinite(computed):
            assert type(read) is float and abs(read - computed) <= HALF_A_UNIT, path
        else:
            assert read is None, path
    elif isinstance(computed, int):
        assert read == computed and isinstance(read, int | float), path
    elif isinstance(computed, Mapping):
        assert isinstance(read, Mapping) and list(read) == [str(k) for k in computed], path
        for key, value in computed.items():
            _same(value, read[str(key)], f"{path}.{key}")
    elif isinstance(computed, tuple):
        assert type(read) is tuple and len(read) == len(computed), path
        for index, (a, b) in enumerate(zip(computed, read, strict=True)):
            _same(a, b, f"{path}[{index}]")
    elif isinstance(computed, frozenset):
        assert read == computed and type(read) is frozenset, path
    else:
        raise AssertionError(f"{path}: no rule for {type(computed).__name__}")


def _workshop_result() -> Result:
    capability = RUBRIC.capabilities[1]
    votes = tuple(RoomVote(f"p{i}", "engineering", "level", 2) for i in range(3))
    first = tuple(RoomVote(f"p{i}", "engineering", "level", 4) for i in range(3))
    agreed = AgreedLevel(
        capability.id,
        2,
        "Rollbacks are manual.",
        (DissentNote("product", "Ann", "We roll back weekly."),),
        votes,
        first_round=first,
        agreed_on="2026-06-01",
    )
    questions = [q for q in capability.questions if "engineering" in q.audience]
    rows = [(f"r{i}", "engineering", q.id, 3 + i % 2) for i in range(4) for q in questions]
    return score_assessment(
        rubric=RUBRIC,
        answers=frame(rows),
        workshop=[agreed],
        now=datetime(2026, 6, 2, tzinfo=UTC),
    )


@pytest.fixture(scope="module")
def rich() -> Result:
    return _rich_result()


@pytest.fixture(scope="module")
def workshop() -> Result:
    return _workshop_result()


def test_a_stored_result_reads_back_field_for_field(rich: Result) -> None:
    assert rich.autonomy is not None and rich.delivery is not None
    assert rich.delivery.evidence.slowest_changes  # a fixed-length pair inside a tuple
    assert rich.review.projection is not None and rich.evidence_register
    stored = json.loads(json.dumps(rich.to_dict(), allow_nan=False))
    _same(rich, Result.from_dict(stored))


def test_a_stored_workshop_result_reads_back_field_for_field(workshop: Result) -> None:
    assert workshop.room is not None
    assert any(c.workshop is not None and c.workshop.dissent for c in workshop.capabilities)
    stored = json.loads(json.dumps(workshop.to_dict(), allow_nan=False))
    _same(workshop, Result.from_dict(stored))


def test_a_result_stored_before_the_newer_fields_reads_with_their_defaults(
    workshop: Result,
) -> None:
    stored = workshop.to_dict()
    for key in ("evidence_register", "room"):
        del stored[key]
    for capability in stored["capabilities"]:
        for key in ("source", "survey_score", "workshop"):
            del capability[key]
    for key in ("adjusted_score", "not_assessed"):
        del stored["readiness"][key]
    del stored["review"]["too_few"]
    read = Result.from_dict(stored)
    assert (read.evidence_register, read.room) == ((), None)
    assert all(
        (c.source, c.survey_score, c.workshop) == (None, None, None) for c in read.capabilities
    )
    assert (read.readiness.adjusted_score, read.readiness.not_assessed) == (None, ())
    assert read.review.too_few == {}
    assert read.capabilities[0].evidence == workshop.capabilities[0].evidence


Break = Callable[[dict[str, Any]], Any]


def _put(*where: str | int, value: Any) -> Break:
    def change(data: dict[str, Any]) -> None:
        target: Any = data
        for key in where[:-1]:
            target = target[key]
        target[where[-1]] = value

    return change


def _drop(*where: str | int) -> Break:
    def change(data: dict[str, Any]) -> None:
        target: Any = data
        for key in where[:-1]:
            target = target[key]
        del target[where[-1]]

    return change


MALFORMED: list[tuple[str, Break, str]] = [
    ("required field missing", _drop("readiness"), "result.readiness: missing"),
    ("nested field missing", _drop("capabilities", 1, "q1"), "result.capabilities[1].q1: missing"),
    (
        "record as null",
        _put("readiness", value=None),
        "result.readiness: expected a mapping for Readiness",
    ),
    (
        "record as a list",
        _put("review", value=[]),
        "result.review: expected a mapping for ReviewResult",
    ),
    ("list as a mapping", _put("capabilities", value={}), "result.capabilities: expected a list"),
    (
        "mapping as a list",
        _put("respondents_by_role", value=[]),
        "result.respondents_by_role: expected a mapping",
    ),
    (
        "count with a fraction",
        _put("respondents", value=2.5),
        "result.respondents: expected a whole number, not 2.5",
    ),
    (
        "count as true",
        _put("respondents", value=True),
        "result.respondents: expected a whole number, not True",
    ),
    (
        "count in a mapping as text",
        _put("respondents_by_role", "engineering", value="3"),
        "result.respondents_by_role.engineering: expected a whole number, not '3'",
    ),
    (
        "score as true",
        _put("readiness", "score", value=True),
        "result.readiness.score: expected a number, not True",
    ),
    (
        "score as text",
        _put("capabilities", 0, "weight", value="1"),
        "result.capabilities[0].weight: expected a number, not '1'",
    ),
    (
        "text as a number",
        _put("engine_version", value=5),
        "result.engine_version: expected str, not 5",
    ),
    (
        "flag as 1",
        _put("capabilities", 3, "low_confidence", value=1),
        "result.capabilities[3].low_confidence: expected bool, not 1",
    ),
    (
        "value outside a fixed set",
        _put("capabilities", 0, "evidence", "verdict", value="maybe"),
        "result.capabilities[0].evidence.verdict: 'maybe' is not one of "
        "('agrees', 'contradicts', 'unverifiable')",
    ),
    (
        "pair with three items",
        _put("delivery", "evidence", "slowest_changes", 0, value=["a", "b", "c"]),
        "result.delivery.evidence.slowest_changes[0]: expected 2 items",
    ),
    (
        "pair with a number",
        _put("delivery", "evidence", "slowest_changes", 0, value=["a", 2]),
        "result.delivery.evidence.slowest_changes[0][1]: expected str, not 2",
    ),
    (
        "pair as text",
        _put("delivery", "evidence", "slowest_changes", 0, value="ab"),
        "result.delivery.evidence.slowest_changes[0]: expected a list",
    ),
    (
        "optional record of the wrong shape",
        _put("delivery", value=3),
        "result.delivery: expected a mapping for DeliveryMetrics",
    ),
    (
        "optional number as text",
        _put("leadership_optimism", value="high"),
        "result.leadership_optimism: expected a number, not 'high'",
    ),
    (
        "list item of the wrong type",
        _put("contradictions", value=["rev.policy-ownership", 7]),
        "result.contradictions[1]: expected str, not 7",
    ),
]


@pytest.mark.parametrize(("case", "change", "message"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_stored_data_that_does_not_fit_is_refused_naming_the_place(
    rich: Result, case: str, change: Break, message: str
) -> None:
    stored = json.loads(json.dumps(rich.to_dict()))
    change(stored)
    with pytest.raises(ResultFormatError) as caught:
        Result.from_dict(stored)
    assert str(caught.value) == message, case


def test_stored_data_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(ResultFormatError) as caught:
        Result.from_dict([])  # type: ignore[arg-type]  # stored data of the wrong shape, on purpose
    assert str(caught.value) == "result: expected a mapping for Result"


def test_optional_values_stored_as_null_read_as_none(rich: Result) -> None:
    stored = rich.to_dict()
    stored["autonomy"] = stored["delivery"] = stored["leadership_optimism"] = None
    read = Result.from_dict(stored)
    assert (read.autonomy, read.delivery, read.leadership_optimism) == (None, None, None)


# --- to_plain and from_plain on their own ---------------------------------------------------


@dataclass(frozen=True)
class Point:
    x: float
    label: str = ""


def test_to_plain_rounds_floats_and_writes_declared_floats_as_floats() -> None:
    # A class the serialiser has not met before (its type hints are read on first use).
    @dataclass(frozen=True)
    class Sample:
        ratio: float
        maybe: float | None
        unknown: float | None
        count: int | None
        either: int | str
        by_key: Mapping[str, float]
        series: tuple[float, ...]
        pair: tuple[str, int]
        tags: frozenset[int]
        weights: frozenset[float]
        point: Point
        kind: Literal["a", "b"]
        anything: Any = None

    sample = Sample(
        ratio=2,
        maybe=3,
        unknown=float("nan"),  # stored as null: JSON has no NaN
        count=4,
        either=5,
        by_key={"k": 1},
        series=(1, 0.123456),
        pair=("a", 6),
        tags=frozenset({3, 1, 2}),
        weights=frozenset({2, 0.5}),
        point=Point(np.float64(1 / 3)),
        kind="b",
        anything={1: [np.int64(7), float("inf")], "at": datetime(2026, 11, 1, 8, 30, tzinfo=UTC)},
    )
    plain = to_plain(sample)
    assert plain == {
        "ratio": 2.0,
        "maybe": 3.0,
        "unknown": None,
        "count": 4,
        "either": 5,
        "by_key": {"k": 1.0},
        "series": [1.0, 0.1235],
        "pair": ["a", 6],
        "tags": [1, 2, 3],
        "weights": [0.5, 2.0],
        "point": {"x": 0.3333, "label": ""},
        "kind": "b",
        "anything": {"1": [7, None], "at": "2026-11-01T08:30:00+00:00"},
    }
    assert [type(plain[k]) for k in ("ratio", "maybe", "count", "either")] == [
        float,
        float,
        int,
        int,
    ]
    assert type(plain["by_key"]["k"]) is float and type(plain["series"][0]) is float
    assert type(plain["weights"][1]) is float and type(plain["tags"][0]) is int
    assert type(plain["anything"]["1"][0]) is int
    json.dumps(plain, allow_nan=False)

    read = from_plain(Sample, plain, "sample")
    assert read == Sample(
        ratio=2.0,
        maybe=3.0,
        unknown=None,
        count=4,
        either=5,
        by_key={"k": 1.0},
        series=(1.0, 0.1235),
        pair=("a", 6),
        tags=frozenset({1, 2, 3}),
        weights=frozenset({0.5, 2.0}),
        point=Point(0.3333),
        kind="b",
        anything={"1": [7, None], "at": "2026-11-01T08:30:00+00:00"},
    )
    assert type(read.ratio) is float and type(read.series) is tuple and type(read.pair) is tuple


def test_to_plain_without_a_declared_type() -> None:
    assert to_plain(None) is None
    assert to_plain([1, 2.00004, np.float32(0.5)]) == [1, 2.0, 0.5]
    assert to_plain({3: {"a": (1, 2)}}) == {"3": {"a": [1, 2]}}
    assert to_plain({"b", "a"}) == ["a", "b"]
    assert to_plain((True, None, "x")) == [True, None, "x"]
    assert to_plain(np.bool_(True)) is True
    assert to_plain(np.int64(3)) == 3 and type(to_plain(np.int64(3))) is int
    assert to_plain(3, int | None) == 3 and type(to_plain(3, int | None)) is int
    assert to_plain(3, float | None) == 3.0 and type(to_plain(3, float | None)) is float
    assert to_plain(3, int | float) == 3 and type(to_plain(3, int | float)) is int
    assert to_plain(-math.inf) is None
    assert to_plain(Point) == str(Point)  # a class is not a record
    assert to_plain(b"x") == "b'x'"


def test_from_plain_reads_unions_by_trying_each_type_in_turn() -> None:
    assert from_plain(int | str, "a", "p") == "a"
    assert from_plain(int | str, 3, "p") == 3
    assert from_plain(float | None, None, "p") is None
    assert from_plain(float | None, 2, "p") == 2.0
    with pytest.raises(ResultFormatError) as caught:
        from_plain(int | str, None, "p")
    assert str(caught.value) == "p: missing value"
    with pytest.raises(ResultFormatError) as caught:
        from_plain(int | str, 2.5, "p")
    assert str(caught.value) == f"p: 2.5 fits none of {int | str}"
    with pytest.raises(ResultFormatError) as caught:
        from_plain(int | None, "x", "p")
    assert str(caught.value) == "p: expected a whole number, not 'x'"


@pytest.mark.parametrize(
    ("hint", "data", "message"),
    [
        (frozenset[int], "abc", "p: expected a list"),
        (frozenset[int], [1, "a"], "p[1]: expected a whole number, not 'a'"),
        (tuple[int, ...], {"a": 1}, "p: expected a list"),
        (tuple[str, int], ["a"], "p: expected 2 items"),
        (Mapping[str, int], [1], "p: expected a mapping"),
        (Mapping[str, int], {"a": 1, "b": "2"}, "p.b: expected a whole number, not '2'"),
        (dict[str, float], {"a": "x"}, "p.a: expected a number, not 'x'"),
        (Literal["a", "b"], "c", "p: 'c' is not one of ('a', 'b')"),
        (Point, {"label": "x"}, "p.x: missing"),
        (Point, {"x": 1, "label": 2}, "p.label: expected str, not 2"),
        (bool, "yes", "p: expected bool, not 'yes'"),
        (bytes, b"x", "p: cannot rebuild a <class 'bytes'>"),
    ],
)
def test_from_plain_refuses_what_does_not_fit(hint: Any, data: Any, message: str) -> None:
    with pytest.raises(ResultFormatError) as caught:
        from_plain(hint, data, "p")
    assert str(caught.value) == message


def test_from_plain_reads_each_container_as_declared() -> None:
    assert from_plain(frozenset[int], [2, 1], "p") == frozenset({1, 2})
    assert type(from_plain(frozenset[int], [2, 1], "p")) is frozenset
    assert from_plain(tuple[str, int], ["a", 1], "p") == ("a", 1)
    assert from_plain(tuple[float, ...], [1, 2.5], "p") == (1.0, 2.5)
    assert from_plain(Mapping[str, float], {1: 2}, "p") == {"1": 2.0}
    assert from_plain(Point, {"x": 1, "extra": "ignored"}, "p") == Point(1.0)
    assert from_plain(Any, {"a": [1]}, "p") == {"a": [1]}
