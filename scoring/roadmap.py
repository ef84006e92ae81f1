"""From triggered recommendations to a dependency-ordered roadmap: Now, Next, Later.

1. A recommendation is triggered when any of its conditions holds; each holding condition
   becomes a reason ("why you got this"), with the answer, level, fact or contradiction behind
   it.
2. A prerequisite that is not triggered is in place when at least one of its standing
   conditions (capability, dimension, answer or fact) could be read and none fired: the edge is
   dropped. When none could be read (nobody answered), it cannot be taken as in place and joins
   the roadmap as an *enabler* of the items that need it, with its own prerequisites by the
   same rule.
3. Base bucket: Now when an urgent condition fired (answers contradicted by evidence, review
   saturating); otherwise from value = impact / effort: >= 1.5 Now, >= 1 Next, else Later.
   Enablers start in Later.
4. Prerequisites are pulled forward: a prerequisite moves to its dependent's bucket if that is
   earlier, so nothing waits on work planned for later.
5. Items are ordered topologically (prerequisites first), preferring earlier buckets, urgent
   items and higher value; Now holds at most NOW_LIMIT items and Next NEXT_LIMIT, overflow
   moving on in that order, and an item never sits in an earlier bucket than its
   prerequisites.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from scoring.recommendations import STANDING, Catalogue, Condition, Recommendation
from scoring.scores import level_text

BUCKETS = ("now", "next", "later")
BUCKET_TITLES = {"now": "Now (30 days)", "next": "Next (90 days)", "later": "Later"}
# What a team can run in parallel next to its day job: about five initiatives in a month,
# eight in a quarter. Overflow moves on rather than pretending everything is "now".
NOW_LIMIT = 5
NEXT_LIMIT = 8
URGENT = ("contradiction", "review_saturates_below")


@dataclass(frozen=True)
class Signals:
    """What triggers read, taken from the scores (None where nobody answered)."""

    capability_levels: Mapping[str, int | None]
    capability_titles: Mapping[str, str]
    dimension_levels: Mapping[str, int | None]
    dimension_titles: Mapping[str, str]
    question_medians: Mapping[str, float | None]
    question_texts: Mapping[str, str]
    overclaims: frozenset[str] = frozenset()
    saturation_multiplier: float | None = None
    fact_medians: Mapping[str, float | None] = field(default_factory=dict)
    fact_texts: Mapping[str, str] = field(default_factory=dict)
    # For the reasons' wording only (triggers read the levels above): the exact levels as the
    # report prints them, each capability's and dimension's target, and each fact's unit.
    capability_exact: Mapping[str, float | None] = field(default_factory=dict)
    capability_targets: Mapping[str, int] = field(default_factory=dict)
    dimension_exact: Mapping[str, float | None] = field(default_factory=dict)
    dimension_targets: Mapping[str, int] = field(default_factory=dict)
    fact_units: Mapping[str, str] = field(default_factory=dict)
    # Questions and facts fewer than three people answered: a reason may rest on them but
    # never quotes their figure, which would be one or two people's answers.
    few_answers: frozenset[str] = frozenset()


def _unquoted(kind: str, question_id: str, question: str, wanted: Any) -> Reason:
    text = (
        f"The answers to \u201c{question}\u201d point to it (fewer than three people answered, "
        "so no figure is shown)."
    )
    return Reason(kind, question_id, None, float(wanted), text)


@dataclass(frozen=True)
class Reason:
    """One condition that fired: what was observed against which threshold.

    kind is a condition kind, or "enabler" for an untriggered prerequisite brought in because
    nothing shows it is in place (subject is then the recommendation that needs it).
    """

    kind: str
    subject: str  # the capability, dimension, question or fact id; for enablers a rec id
    observed: float | None
    threshold: float | None
    text: str


@dataclass(frozen=True)
class RoadmapItem:
    id: str
    title: str
    capability_id: str
    bucket: str
    position: int
    why: str
    reasons: tuple[str, ...]  # the texts of `triggers`, for display
    steps: tuple[str, ...]
    impact: int
    effort: int
    prerequisites: tuple[str, ...]  # prerequisites on the roadmap, all earlier in it
    value: float = 0.0
    kind: Literal["recommended", "enabler"] = "recommended"
    triggers: tuple[Reason, ...] = ()
    enables: tuple[str, ...] = ()  # roadmap items that list this one as a prerequisite


def _evaluate(condition: Condition, capability_id: str, s: Signals) -> tuple[Reason | None, bool]:
    """(the reason when the condition holds, whether the condition could be read at all)."""
    kind = condition.kind
    if kind == "capability_below":
        level = s.capability_levels.get(capability_id)
        if level is None:
            return None, False
        if level < condition.value:
            title = s.capability_titles[capability_id]
            text = _below_text(
                title,
                s.capability_exact.get(capability_id),
                level,
                condition.value,
                s.capability_targets.get(capability_id),
            )
            return Reason(kind, capability_id, float(level), float(condition.value), text), True
        return None, True
    if kind == "no_data":
        if s.capability_levels.get(capability_id) is None:
            text = f"Nobody could answer the questions on {s.capability_titles[capability_id]}."
            return Reason(kind, capability_id, None, None, text), True
        return None, True
    if kind == "dimension_below":
        dimension, wanted = condition.value["dimension"], condition.value["level"]
        level = s.dimension_levels.get(dimension)
        if level is None:
            return None, False
        if level < wanted:
            text = _below_text(
                s.dimension_titles[dimension],
                s.dimension_exact.get(dimension),
                level,
                wanted,
                s.dimension_targets.get(dimension),
            )
            return Reason(kind, dimension, float(level), float(wanted), text), True
        return None, True
    if kind == "answer_at_most":
        median = s.question_medians.get(condition.question_id)
        if median is None:
            return None, False
        if median <= condition.value:
            question = s.question_texts[condition.question_id]
            if condition.question_id in s.few_answers:
                return _unquoted(kind, condition.question_id, question, condition.value), True
            text = f"Answers to \u201c{question}\u201d have a median of level {median:g}."
            reason = Reason(kind, condition.question_id, median, float(condition.value), text)
            return reason, True
        return None, True
    if kind in ("fact_at_least", "fact_at_most"):
        median = s.fact_medians.get(condition.question_id)
        if median is None:
            return None, False
        holds = median >= condition.value if kind == "fact_at_least" else median <= condition.value
        if holds:
            question = s.fact_texts.get(condition.question_id, condition.question_id)
            if condition.question_id in s.few_answers:
                return _unquoted(kind, condition.question_id, question, condition.value), True
            unit = s.fact_units.get(condition.question_id, "")
            text = (
                f"Answers to \u201c{question}\u201d have a median of {median:g}"
                f"{' ' + unit if unit else ''}."
            )
            reason = Reason(kind, condition.question_id, median, float(condition.value), text)
            return reason, True
        return None, True
    if kind == "contradiction":
        if capability_id in s.overclaims:
            title = s.capability_titles[capability_id]
            text = f"Answers on {title} claim more than the scan evidence shows."
            return Reason(kind, capability_id, None, None, text), True
        return None, True
    if kind == "review_saturates_below":
        m = s.saturation_multiplier
        if m is None:
            return None, False
        if m < condition.value:
            text = f"Code review saturates at {m:.1f}\u00d7 today's pull-request volume."
            return Reason(kind, "review", m, float(condition.value), text), True
        return None, True
    return None, False


def _below_text(
    title: str, exact: float | None, level: int, threshold: int, target: int | None
) -> str:
    """ "X is at level 2.8, below 3, the target." The level as printed everywhere else, and the
    threshold named for what it is: the target, or a step beyond (or short of) the target."""
    shown = level_text(exact) if exact is not None else str(level)
    if target is None:
        return f"{title} is at level {shown}, below {threshold}."
    if threshold == target:
        return f"{title} is at level {shown}, below its target of {target}."
    if threshold > target:
        return (
            f"{title} is at level {shown} (target {target}); this step leads on to "
            f"level {threshold}."
        )
    return f"{title} is at level {shown}, below {threshold}, on the way to its target of {target}."


@dataclass(frozen=True)
class Triggered:
    """A recommendation on its way to the roadmap, with the reasons it is there."""

    rec: Recommendation
    reasons: tuple[Reason, ...]
    urgent: bool
    enabler: bool


def triggered(*, catalogue: Catalogue, signals: Signals) -> dict[str, Triggered]:
    """Triggered recommendations plus the enablers they need, with their reasons."""
    chosen: dict[str, Triggered] = {}
    in_place: dict[str, bool] = {}
    for rec in catalogue.items.values():
        fired: list[Reason] = []
        readable = False
        for condition in rec.trigger:
            reason, could_read = _evaluate(condition, rec.capability_id, signals)
            if reason is not None:
                fired.append(reason)
            readable = readable or (could_read and condition.kind in STANDING)
        if fired:
            urgent = any(r.kind in URGENT for r in fired)
            chosen[rec.id] = Triggered(rec, tuple(fired), urgent, False)
        else:
            in_place[rec.id] = readable
    # Enablers: untriggered prerequisites nothing shows to be in place, transitively.
    pending = list(chosen)
    while pending:
        rid = pending.pop()
        for p in catalogue.items[rid].prerequisites:
            if p in chosen or in_place.get(p, True):
                continue
            rec = catalogue.items[p]
            title = catalogue.items[rid].title
            capability = signals.capability_titles.get(rec.capability_id, rec.capability_id)
            text = (
                f"Comes before \u201c{title}\u201d, and no answers show it is in place "
                f"({capability})."
            )
            chosen[p] = Triggered(rec, (Reason("enabler", rid, None, None, text),), False, True)
            pending.append(p)
    return chosen


def _base_bucket(item: Triggered) -> int:
    """Now when the evidence contradicts the answers or review is near its wall; otherwise by
    value = impact / effort. Enablers start last and are pulled forward by what needs them."""
    if item.urgent:
        return 0
    if item.enabler:
        return 2
    value = item.rec.impact / item.rec.effort
    return 0 if value >= 1.5 else 1 if value >= 1 else 2


def build_roadmap(*, catalogue: Catalogue, signals: Signals) -> list[RoadmapItem]:
    """The roadmap: every triggered recommendation (and enabler), prerequisites first."""
    chosen = triggered(catalogue=catalogue, signals=signals)
    prereqs = {rid: [p for p in c.rec.prerequisites if p in chosen] for rid, c in chosen.items()}
    dependents: dict[str, list[str]] = {rid: [] for rid in chosen}
    for rid, ps in prereqs.items():
        for p in ps:
            dependents[p].append(rid)
    bucket = {rid: _base_bucket(c) for rid, c in chosen.items()}
    urgent = {rid: c.urgent for rid, c in chosen.items()}

    # Reverse topological order (dependents before their prerequisites) pulls prerequisites
    # forward: a prerequisite takes its dependent's earlier bucket, and the prerequisite of
    # urgent work is urgent too.
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
        c = chosen[rid]
        rec = c.rec
        items.append(
            RoadmapItem(
                id=rid,
                title=rec.title,
                capability_id=rec.capability_id,
                bucket=BUCKETS[bucket[rid]],
                position=position,
                why=rec.why,
                reasons=tuple(r.text for r in c.reasons),
                steps=rec.steps,
                impact=rec.impact,
                effort=rec.effort,
                prerequisites=tuple(sorted(prereqs[rid], key=index.__getitem__)),
                value=rec.impact / rec.effort,
                kind="enabler" if c.enabler else "recommended",
                triggers=c.reasons,
                enables=tuple(sorted(dependents[rid], key=index.__getitem__)),
            )
        )
    return items


def _topological(
    chosen: Mapping[str, Triggered],
    prereqs: Mapping[str, list[str]],
    dependents: Mapping[str, list[str]],
    bucket: Mapping[str, int],
    urgent: Mapping[str, bool],
) -> list[str]:
    """Kahn's algorithm; among ready items the earliest bucket, then urgent ones, then the
    highest value, then the highest impact, then the id (a total order: deterministic)."""

    def key(rid: str) -> tuple[int, int, float, int, str]:
        rec = chosen[rid].rec
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
