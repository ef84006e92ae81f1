"""From triggered recommendations to a dependency-ordered roadmap: Now, Next, Later.

1. A recommendation is triggered when any of its conditions holds; each holding condition
   becomes a reason ("why you got this").
2. Prerequisites count only when they are themselves triggered: an untriggered prerequisite
   is taken as already in place.
3. Base bucket: Now when an urgent condition fired (answers contradicted by evidence, review
   saturating); otherwise from value = impact / effort: >= 1.5 Now, >= 1 Next, else Later.
4. Enablers are pulled forward: a prerequisite moves to its dependent's bucket if that is
   earlier, so nothing waits on work planned for later.
5. Items are ordered topologically (prerequisites first), preferring earlier buckets and
   higher value; Now holds at most NOW_LIMIT items and Next NEXT_LIMIT, overflow moving on in
   that order, and an item never sits in an earlier bucket than its prerequisites.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass, field

from scoring.recommendations import Catalogue, Condition, Recommendation

BUCKETS = ("now", "next", "later")
BUCKET_TITLES = {"now": "Now (30 days)", "next": "Next (90 days)", "later": "Later"}
NOW_LIMIT = 5
NEXT_LIMIT = 8


@dataclass(frozen=True)
class Signals:
    """What triggers look at, taken from the scores."""

    capability_levels: Mapping[str, int | None]
    capability_titles: Mapping[str, str]
    dimension_levels: Mapping[str, int | None]
    dimension_titles: Mapping[str, str]
    question_medians: Mapping[str, float | None]
    question_texts: Mapping[str, str]
    overclaims: frozenset[str] = frozenset()
    saturation_multiplier: float | None = None


@dataclass(frozen=True)
class RoadmapItem:
    id: str
    title: str
    capability_id: str
    bucket: str
    position: int
    why: str
    reasons: tuple[str, ...]
    steps: tuple[str, ...]
    impact: int
    effort: int
    prerequisites: tuple[str, ...]  # triggered prerequisites only, all earlier in the roadmap
    value: float = field(default=0.0)


def _reason(condition: Condition, capability_id: str, s: Signals) -> str | None:
    if condition.kind == "capability_below":
        level = s.capability_levels.get(capability_id)
        if level is not None and level < condition.value:
            return f"{s.capability_titles[capability_id]} is at level {level}, below {condition.value}."
    elif condition.kind == "no_data":
        if s.capability_levels.get(capability_id) is None:
            return f"Nobody could answer the questions on {s.capability_titles[capability_id]}."
    elif condition.kind == "dimension_below":
        dimension, wanted = condition.value["dimension"], condition.value["level"]
        level = s.dimension_levels.get(dimension)
        if level is not None and level < wanted:
            return f"{s.dimension_titles[dimension]} is at level {level}, below {wanted}."
    elif condition.kind == "answer_at_most":
        median = s.question_medians.get(condition.question_id)
        if median is not None and median <= condition.value:
            return f"Answers to \u201c{s.question_texts[condition.question_id]}\u201d have a median of level {median:g}."
    elif condition.kind == "contradiction":
        if capability_id in s.overclaims:
            return f"Answers on {s.capability_titles[capability_id]} claim more than the scan evidence shows."
    elif condition.kind == "review_saturates_below":
        m = s.saturation_multiplier
        if m is not None and m < condition.value:
            return f"Code review saturates at {m:.1f}\u00d7 today's pull-request volume."
    return None


URGENT = ("contradiction", "review_saturates_below")


def triggered(
    catalogue: Catalogue, signals: Signals
) -> dict[str, tuple[Recommendation, tuple[str, ...], bool]]:
    """Triggered recommendations with their reasons and whether an urgent condition fired."""
    result = {}
    for rec in catalogue.items.values():
        fired = [(c, r) for c in rec.trigger if (r := _reason(c, rec.capability_id, signals))]
        if fired:
            urgent = any(c.kind in URGENT for c, _r in fired)
            result[rec.id] = (rec, tuple(r for _c, r in fired), urgent)
    return result


def _base_bucket(rec: Recommendation, reasons: tuple[str, ...], urgent: bool) -> int:
    """Now when the evidence contradicts the answers or review is near its wall; otherwise by
    value = impact / effort."""
    if urgent:
        return 0
    value = rec.impact / rec.effort
    return 0 if value >= 1.5 else 1 if value >= 1 else 2


def build_roadmap(catalogue: Catalogue, signals: Signals) -> list[RoadmapItem]:
    chosen = triggered(catalogue, signals)
    prereqs = {
        rid: [p for p in rec.prerequisites if p in chosen] for rid, (rec, _r, _u) in chosen.items()
    }
    dependents: dict[str, list[str]] = {rid: [] for rid in chosen}
    for rid, ps in prereqs.items():
        for p in ps:
            dependents[p].append(rid)
    bucket = {
        rid: _base_bucket(rec, reasons, urgent) for rid, (rec, reasons, urgent) in chosen.items()
    }
    urgent = {rid: flag for rid, (_rec, _reasons, flag) in chosen.items()}

    # Reverse topological order (dependents before their prerequisites) pulls enablers forward:
    # a prerequisite takes its dependent's earlier bucket, and the enabler of urgent work is
    # urgent too.
    for rid in reversed(_topological(chosen, prereqs, dependents, bucket, urgent)):
        for p in prereqs[rid]:
            bucket[p] = min(bucket[p], bucket[rid])
            urgent[p] = urgent[p] or urgent[rid]

    order = _topological(chosen, prereqs, dependents, bucket, urgent)
    counts = [0, 0, 0]
    limits = (NOW_LIMIT, NEXT_LIMIT, 10**9)
    for rid in order:
        b = max([bucket[rid], *(bucket[p] for p in prereqs[rid])])
        while counts[b] >= limits[b]:
            b += 1
        bucket[rid] = b
        counts[b] += 1
    index = {rid: i for i, rid in enumerate(order)}
    final = sorted(chosen, key=lambda rid: (bucket[rid], index[rid]))
    items = []
    for position, rid in enumerate(final, start=1):
        rec, reasons, _urgent = chosen[rid]
        items.append(
            RoadmapItem(
                id=rid,
                title=rec.title,
                capability_id=rec.capability_id,
                bucket=BUCKETS[bucket[rid]],
                position=position,
                why=rec.why,
                reasons=reasons,
                steps=rec.steps,
                impact=rec.impact,
                effort=rec.effort,
                prerequisites=tuple(prereqs[rid]),
                value=rec.impact / rec.effort,
            )
        )
    return items


def _topological(
    chosen: Mapping[str, tuple[Recommendation, tuple[str, ...], bool]],
    prereqs: Mapping[str, list[str]],
    dependents: Mapping[str, list[str]],
    bucket: Mapping[str, int],
    urgent: Mapping[str, bool],
) -> list[str]:
    """Kahn's algorithm; among ready items the earliest bucket, then urgent ones, then the
    highest value, first."""

    def key(rid: str) -> tuple[int, int, float, int, str]:
        rec = chosen[rid][0]
        return (bucket[rid], 0 if urgent[rid] else 1, -rec.impact / rec.effort, -rec.impact, rid)

    waiting = {rid: len(ps) for rid, ps in prereqs.items()}
    ready = [key(rid) for rid, n in waiting.items() if n == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        rid = heapq.heappop(ready)[-1]
        order.append(rid)
        for d in dependents[rid]:
            waiting[d] -= 1
            if waiting[d] == 0:
                heapq.heappush(ready, key(d))
    return order
