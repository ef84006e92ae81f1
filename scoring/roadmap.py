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

A catalogue with `ordering: gates` (version 2) orders by what autonomy needs instead of by
value alone: an item serves a gate when its capability has an unmet requirement there (for a
requirement on one answer, when the item is triggered by that question). Base bucket: Now when
urgent or it serves the next gate, Next when it serves the gate after or its value is >= 1.5,
else Later. A prerequisite takes the nearest gate of what it enables. Among ready items:
earliest bucket, urgent, nearest gate served, most roadmap items unblocked (transitively),
highest value, highest impact, then catalogue order: never the id.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping
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
    gate_needs: tuple[GateNeed, ...] = ()  # the gates not yet granted, next first


def _unquoted(kind: str, question_id: str, question: str, wanted: Any) -> Reason:
    text = (
        f"The answers to \u201c{question}\u201d point to it (fewer than three people answered, "
        "so no figure is shown)."
    )
    return Reason(kind, question_id, None, float(wanted), text)


@dataclass(frozen=True)
class GateNeed:
    """A gate not granted yet and what it lacks: capabilities with an unmet requirement of any
    kind but a single answer, and the questions whose answer is below what it requires."""

    gate_id: str
    gate_title: str
    capabilities: frozenset[str]
    questions: frozenset[str]


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
    gate_id: str = ""  # the nearest gate not granted that this item helps unlock ("" none)
    gate_title: str = ""
    unblocks: int = 0  # roadmap items that wait on this one, directly or through others
    first_30_days: str = ""
    done_when: str = ""
    owner_role: str = ""
    effort_weeks: float | None = None
    raises_to: int | None = None
    unlocks: str = ""  # the gate the catalogue says the work is for ("none": no gate reads it)


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
            text = f"Answers to \u201c{question}\u201d have a median of {_quantity(median, unit)}."
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


_NO_GATE = 10**6


def _gate_rank(rec: Recommendation, needs: tuple[GateNeed, ...]) -> int:
    """Index of the nearest ungranted gate the recommendation helps unlock (_NO_GATE: none)."""
    questions = {c.question_id for c in rec.trigger if c.kind == "answer_at_most"}
    for index, need in enumerate(needs):
        if rec.capability_id in need.capabilities or questions & need.questions:
            return index
    return _NO_GATE


def _gates_bucket(item: Triggered, rank: int) -> int:
    """Gate ordering: Now for urgent work and what the next gate needs; Next for the gate
    after, or high value; otherwise Later. Enablers start last and are pulled forward."""
    if item.urgent or rank == 0:
        return 0
    if item.enabler:
        return 2
    return 1 if rank == 1 or item.rec.impact / item.rec.effort >= 1.5 else 2


def _descendants(rid: str, dependents: Mapping[str, list[str]]) -> set[str]:
    seen: set[str] = set()
    stack = list(dependents[rid])
    while stack:
        d = stack.pop()
        if d not in seen:
            seen.add(d)
            stack.extend(dependents[d])
    return seen


def build_roadmap(*, catalogue: Catalogue, signals: Signals) -> list[RoadmapItem]:
    """The roadmap: every triggered recommendation (and enabler), prerequisites first."""
    chosen = triggered(catalogue=catalogue, signals=signals)
    prereqs = {rid: [p for p in c.rec.prerequisites if p in chosen] for rid, c in chosen.items()}
    dependents: dict[str, list[str]] = {rid: [] for rid in chosen}
    for rid, ps in prereqs.items():
        for p in ps:
            dependents[p].append(rid)
    by_gates = catalogue.ordering == "gates"
    needs = signals.gate_needs
    rank = {rid: _gate_rank(c.rec, needs) for rid, c in chosen.items()}
    unblocks = {rid: len(_descendants(rid, dependents)) for rid in chosen}
    catalogue_index = {rid: i for i, rid in enumerate(catalogue.items)}
    if by_gates:
        bucket = {rid: _gates_bucket(c, rank[rid]) for rid, c in chosen.items()}
    else:
        bucket = {rid: _base_bucket(c) for rid, c in chosen.items()}
    urgent = {rid: c.urgent for rid, c in chosen.items()}

    def key(rid: str) -> tuple[Any, ...]:
        rec = chosen[rid].rec
        if by_gates:
            return (
                bucket[rid],
                0 if urgent[rid] else 1,
                rank[rid],
                -unblocks[rid],
                -rec.impact / rec.effort,
                -rec.impact,
                catalogue_index[rid],
                rid,
            )
        return (bucket[rid], 0 if urgent[rid] else 1, -rec.impact / rec.effort, -rec.impact, rid)

    # Reverse topological order (dependents before their prerequisites) pulls prerequisites
    # forward: a prerequisite takes its dependent's earlier bucket and nearer gate, and the
    # prerequisite of urgent work is urgent too.
    for rid in reversed(_topological(prereqs, dependents, key)):
        for p in prereqs[rid]:
            bucket[p] = min(bucket[p], bucket[rid])
            urgent[p] = urgent[p] or urgent[rid]
            rank[p] = min(rank[p], rank[rid])

    order = _topological(prereqs, dependents, key)
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
                gate_id=needs[rank[rid]].gate_id if rank[rid] < len(needs) else "",
                gate_title=needs[rank[rid]].gate_title if rank[rid] < len(needs) else "",
                unblocks=unblocks[rid],
                first_30_days=rec.first_30_days,
                done_when=rec.done_when,
                owner_role=rec.owner_role,
                effort_weeks=rec.effort_weeks,
                raises_to=rec.raises_to,
                unlocks=rec.unlocks,
            )
        )
    return items


def _topological(
    prereqs: Mapping[str, list[str]],
    dependents: Mapping[str, list[str]],
    key: Callable[[str], tuple[Any, ...]],
) -> list[str]:
    """Kahn's algorithm; among ready items the smallest `key` (a total order: deterministic).
    Version 1 (value): earliest bucket, urgent, highest value, highest impact, id. Gates:
    see the module docstring."""
    waiting = {rid: len(ps) for rid, ps in prereqs.items()}
    ready = [(key(rid), rid) for rid, n in waiting.items() if n == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        rid = heapq.heappop(ready)[-1]
        order.append(rid)
        for d in dependents[rid]:
            waiting[d] -= 1
            if waiting[d] == 0:
                heapq.heappush(ready, (key(d), d))
    return order


def _quantity(value: float, unit: str) -> str:
    """A fact's median in a sentence: percentages whole, as every other page prints them
    ("21%", never "20.85 percent"); other quantities to one decimal ("10.5 hours")."""
    if unit == "percent":
        return f"{round(value)}%"
    return f"{round(value, 1):g}{' ' + unit if unit else ''}"
