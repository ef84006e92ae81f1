"""Invariants of the engine over random answers on the full shipped rubric (hypothesis)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring.engine import Result, score_assessment
from scoring.evidence import EvidenceFinding
from scoring.recommendations import Catalogue, Condition, Recommendation, shipped_catalogue
from scoring.roadmap import BUCKETS, NEXT_LIMIT, NOW_LIMIT, RoadmapItem, Signals, build_roadmap
from scoring.rubric import AUDIENCES, get_rubric

RUBRIC = get_rubric("operationalization", 1)
NOW = datetime(2026, 11, 1, tzinfo=UTC)
VALUES = st.sampled_from([1, 2, 3, 4, 5, 1, 2, 3, 4, 5, "dk", "na", None])
COLUMNS = ["respondent_id", "role", "question_id", "choice", "level", "number"]
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def answer_sets(draw: st.DrawFn) -> pd.DataFrame:
    rows = []
    for index in range(draw(st.integers(1, 7))):
        role = draw(st.sampled_from(AUDIENCES))
        for question in RUBRIC.questions_for(role):
            value = draw(VALUES)
            if value is None:
                continue
            if value in ("dk", "na"):
                choice = "dont_know" if value == "dk" else "not_applicable"
                rows.append((f"r{index}", role, question.id, choice, None, None))
            else:
                rows.append((f"r{index}", role, question.id, "level", value, None))
    return pd.DataFrame(rows, columns=COLUMNS)


def run(answers: pd.DataFrame) -> Result:
    return score_assessment(rubric=RUBRIC, answers=answers, now=NOW)


def scores(result: Result) -> dict[str, float | None]:
    values: dict[str, float | None] = {c.id: c.score for c in result.capabilities}
    values.update({d.id: d.score for d in result.dimensions})
    values["readiness"] = result.readiness.score
    return values


@SETTINGS
@given(answers=answer_sets(), data=st.data())
def test_raising_one_answer_never_lowers_its_capability_or_dimension(
    answers: pd.DataFrame, data: st.DataObject
) -> None:
    levels = answers.index[answers["choice"] == "level"]
    if levels.empty:
        return
    row = data.draw(st.sampled_from(list(levels)))
    current = int(answers.at[row, "level"])
    if current == 5:
        return
    raised = answers.copy()
    raised.at[row, "level"] = data.draw(st.integers(current + 1, 5))
    before, after = run(answers), run(raised)
    question = RUBRIC.question(answers.at[row, "question_id"])
    for key in (question.capability_id, question.dimension_id, "readiness"):
        assert scores(after)[key] >= scores(before)[key] - 1e-9, key  # type: ignore[operator]


@SETTINGS
@given(answers=answer_sets(), seed=st.integers(0, 10_000))
def test_order_of_respondents_and_rows_does_not_matter(answers: pd.DataFrame, seed: int) -> None:
    shuffled = answers.sample(frac=1, random_state=seed).reset_index(drop=True)
    assert _differences(run(answers).to_dict(), run(shuffled).to_dict()) == []


def _differences(a: object, b: object, path: str = "") -> list[str]:
    """Paths where two to_dict() results differ, for a readable failure."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [
            d for k in a.keys() | b.keys() for d in _differences(a.get(k), b.get(k), f"{path}.{k}")
        ]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in _differences(x, y, f"{path}[{i}]")
        ]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


@SETTINGS
@given(answers=answer_sets(), data=st.data())
def test_unknowns_never_change_a_score(answers: pd.DataFrame, data: st.DataObject) -> None:
    # A new respondent who only says "don't know" or "not applicable".
    extra = [
        (
            "unsure",
            "engineering",
            q.id,
            data.draw(st.sampled_from(["dont_know", "not_applicable"])),
            None,
            None,
        )
        for q in RUBRIC.questions_for("engineering")
        if data.draw(st.booleans())
    ]
    more = pd.concat([answers, pd.DataFrame(extra, columns=COLUMNS)], ignore_index=True)
    assert scores(run(answers)) == scores(run(more))


@SETTINGS
@given(answers=answer_sets(), data=st.data())
def test_unknowns_from_existing_respondents_never_change_a_score(
    answers: pd.DataFrame, data: st.DataObject
) -> None:
    extra = []
    answered = set(zip(answers["respondent_id"], answers["question_id"], strict=True))
    for respondent, role in (
        answers[["respondent_id", "role"]].drop_duplicates().itertuples(index=False)
    ):
        for q in RUBRIC.questions_for(role):
            if (respondent, q.id) not in answered and data.draw(st.booleans()):
                choice = data.draw(st.sampled_from(["dont_know", "not_applicable"]))
                extra.append((respondent, role, q.id, choice, None, None))
    more = pd.concat([answers, pd.DataFrame(extra, columns=COLUMNS)], ignore_index=True)
    before, after = run(answers), run(more)
    assert scores(before) == scores(after)
    for b, a in zip(before.capabilities, after.capabilities, strict=True):
        assert a.confidence <= b.confidence + 1e-12  # unknowns may only lower confidence


def _walk(value: object) -> list[float]:
    if isinstance(value, dict):
        return [x for v in value.values() for x in _walk(v)]
    if isinstance(value, list):
        return [x for v in value for x in _walk(v)]
    return [value] if isinstance(value, float) else []


FINDINGS = st.lists(
    st.builds(
        EvidenceFinding,
        detector=st.sampled_from(["d1", "d2", "d3"]),
        capability=st.sampled_from([c.id for c in RUBRIC.capabilities]),
        status=st.sampled_from(["found", "absent", "unknown"]),
        strength=st.integers(1, 3),
        title=st.just("t"),
        pointers=st.just(("p",)),
    ),
    max_size=12,
)


@SETTINGS
@given(answers=answer_sets(), evidence=FINDINGS)
def test_all_outputs_stay_in_range(answers: pd.DataFrame, evidence: list[EvidenceFinding]) -> None:
    result = score_assessment(rubric=RUBRIC, answers=answers, evidence=evidence, now=NOW)
    data = result.to_dict()
    json.dumps(data, allow_nan=False)  # no NaN or infinity anywhere
    assert Result.from_dict(data).to_dict() == data
    for c in result.capabilities:
        assert c.score is None or 0 <= c.score <= 100
        adjusted = c.evidence.adjusted_score
        assert adjusted is None or 0 <= adjusted <= 100
        assert c.level is None or 1 <= c.level <= 5
        assert 0 <= c.confidence <= 1
        assert c.agreement is None or 0 <= c.agreement <= 1
        assert c.gap is None or 0 <= c.gap <= 4
    for d in result.dimensions:
        assert d.score is None or 0 <= d.score <= 100
        assert 0 <= d.confidence <= 1
    r = result.readiness
    assert r.score is None or 0 <= r.score <= 100
    assert r.held_back_by >= 0
    assert r.weighted_mean is None or r.score is not None and r.score <= r.weighted_mean + 1e-9
    assert 0 <= r.confidence <= 1
    for gap in result.perception:
        assert all(g.respondents >= 3 for g in gap.groups)  # nobody singled out
        assert all(1 <= g.level <= 5 for g in gap.groups)


def _assert_prerequisites_come_first(catalogue: Catalogue, roadmap: Sequence[RoadmapItem]) -> None:
    """Every prerequisite the catalogue names that is on the roadmap is listed for its item,
    placed before it, and never in a later bucket; positions run 1..n and buckets in order."""
    ids = {item.id for item in roadmap}
    position = {item.id: item.position for item in roadmap}
    bucket = {item.id: BUCKETS.index(item.bucket) for item in roadmap}
    assert len(ids) == len(roadmap)
    assert [i.position for i in roadmap] == list(range(1, len(roadmap) + 1))
    assert [bucket[i.id] for i in roadmap] == sorted(bucket[i.id] for i in roadmap)
    for item in roadmap:
        expected = set(catalogue.items[item.id].prerequisites) & ids
        assert set(item.prerequisites) == expected, item.id
        for p in expected:
            assert position[p] < position[item.id], (p, item.id)
            assert bucket[p] <= bucket[item.id], (p, item.id, "prerequisite in a later bucket")
        for d in item.enables:
            assert item.id in catalogue.items[d].prerequisites and d in ids


@SETTINGS
@given(answers=answer_sets())
def test_roadmap_never_lists_an_item_before_its_prerequisites(answers: pd.DataFrame) -> None:
    catalogue = shipped_catalogue(RUBRIC)
    assert catalogue is not None
    _assert_prerequisites_come_first(catalogue, run(answers).roadmap)


CAPABILITY_IDS = [c.id for c in RUBRIC.capabilities]
DIMENSION_IDS = [d.id for d in RUBRIC.dimensions]
CONDITIONS = st.one_of(
    st.builds(Condition, st.just("capability_below"), st.integers(2, 5)),
    st.builds(
        Condition,
        st.just("dimension_below"),
        st.fixed_dictionaries(
            {"dimension": st.sampled_from(DIMENSION_IDS), "level": st.integers(2, 5)}
        ),
    ),
    st.builds(Condition, st.just("no_data"), st.just(True)),
    st.builds(Condition, st.just("contradiction"), st.just(True)),
    st.builds(Condition, st.just("review_saturates_below"), st.sampled_from([1.5, 2.0, 3.0])),
)


@st.composite
def dag_catalogues(draw: st.DrawFn) -> Catalogue:
    """A random catalogue whose prerequisites form a DAG: each item may require only items
    earlier in a random order, so ids say nothing about the dependency order."""
    size = draw(st.integers(1, 18))
    ids = draw(st.permutations([f"rec.r{i:02d}" for i in range(size)]))
    items = {}
    for index, rec_id in enumerate(ids):
        earlier = ids[:index]
        prerequisites = (
            draw(st.lists(st.sampled_from(earlier), max_size=3, unique=True)) if earlier else []
        )
        items[rec_id] = Recommendation(
            id=rec_id,
            title=f"Item {rec_id}",
            capability_id=draw(st.sampled_from(CAPABILITY_IDS)),
            trigger=tuple(draw(st.lists(CONDITIONS, min_size=1, max_size=3))),
            why="Why.",
            steps=("One.", "Two.", "Three."),
            impact=draw(st.integers(1, 3)),
            effort=draw(st.integers(1, 3)),
            prerequisites=tuple(prerequisites),
        )
    return Catalogue(RUBRIC.key, items)


LEVEL_OR_NONE = st.one_of(st.none(), st.integers(1, 5))


@st.composite
def random_signals(draw: st.DrawFn) -> Signals:
    return Signals(
        capability_levels={c: draw(LEVEL_OR_NONE) for c in CAPABILITY_IDS},
        capability_titles={c.id: c.title for c in RUBRIC.capabilities},
        dimension_levels={d: draw(LEVEL_OR_NONE) for d in DIMENSION_IDS},
        dimension_titles={d.id: d.title for d in RUBRIC.dimensions},
        question_medians={},
        question_texts={},
        overclaims=frozenset(draw(st.lists(st.sampled_from(CAPABILITY_IDS), max_size=4))),
        saturation_multiplier=draw(st.one_of(st.none(), st.floats(0.5, 5.0))),
    )


@settings(max_examples=150, deadline=None)
@given(catalogue=dag_catalogues(), signals=random_signals())
def test_random_dag_catalogues_keep_prerequisites_first_and_never_in_a_later_bucket(
    catalogue: Catalogue, signals: Signals
) -> None:
    roadmap = build_roadmap(catalogue=catalogue, signals=signals)
    _assert_prerequisites_come_first(catalogue, roadmap)
    buckets = [i.bucket for i in roadmap]
    assert buckets.count("now") <= NOW_LIMIT and buckets.count("next") <= NEXT_LIMIT
    # Deterministic: the same catalogue and signals give the same roadmap.
    assert build_roadmap(catalogue=catalogue, signals=signals) == roadmap
