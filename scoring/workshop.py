"""Levels agreed in a live workshop, as a source of their own beside survey medians.

A workshop room votes blind on a capability's anchored levels (or "don't know"), sees the
distribution, discusses, may re-vote once, and the facilitator records the level the room
agreed with a rationale and any dissent. This module takes those records as plain values and
gives the engine what it needs:

- `room_distribution`: the counts per level, median, quartiles and agreement of one round of
  votes, and the same counts by role where each shown role group has at least MIN_GROUP
  voters (smaller roles are pooled into "other roles" when together they reach MIN_GROUP,
  and hidden otherwise), which is the promise the survey makes to respondents too;
- `room_confidence`: the survey's confidence formula applied to the room's final round;
- `combine`: the rule that decides a capability's level and its source. An agreed level wins
  over the survey median (the room saw the survey's numbers and the evidence and argued it
  out), and the survey median stays beside it for the record.

No Django here: the app turns rows into these values (assessments.workshops.services).
Formulas and reasons: docs/methodology.md, section "Workshops and surveys".
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from scoring.errors import ScoringInputError
from scoring.rubric import AUDIENCES, LEVELS
from scoring.scores import FULL_RESPONDENTS, MIN_GROUP, UNIFORM_VARIANCE

VOTE_CHOICES = ("level", "dont_know")
COUNT_KEYS = ("1", "2", "3", "4", "5", "dont_know")
SOURCES = ("survey", "workshop")


@dataclass(frozen=True)
class RoomVote:
    """One participant's vote in one round: a level 1-5, or "don't know"."""

    participant_id: str
    role: str
    choice: str  # "level" or "dont_know"
    level: int | None


@dataclass(frozen=True)
class RoleGroupVotes:
    group: str  # a role, or "other roles (a, b)" when small roles were pooled
    roles: tuple[str, ...]
    voters: int
    counts: Mapping[str, int]  # COUNT_KEYS -> votes
    median: float | None


@dataclass(frozen=True)
class RoomDistribution:
    voters: int  # everyone who voted, "don't know" included
    level_voters: int  # those who chose a level
    counts: Mapping[str, int]  # COUNT_KEYS -> votes
    median: float | None
    q1: float | None
    q3: float | None
    agreement: float | None  # r_wg of the level votes, None with fewer than two
    groups: tuple[RoleGroupVotes, ...]
    pooled_roles: tuple[str, ...]  # roles shown together as "other roles"
    hidden_roles: tuple[str, ...]  # roles too small to show even pooled
    hidden_voters: int  # their votes: counted in the totals, not shown by role

    @property
    def spread(self) -> float | None:
        return None if self.q1 is None or self.q3 is None else self.q3 - self.q1


@dataclass(frozen=True)
class DissentNote:
    """Someone who disagreed with the agreed level: their role, optionally who (never in an
    anonymous assessment), and why."""

    role: str
    who: str
    reason: str


@dataclass(frozen=True)
class AgreedLevel:
    """What the room agreed for one capability, with the votes behind it."""

    capability_id: str
    level: int
    rationale: str
    dissent: tuple[DissentNote, ...]
    votes: tuple[RoomVote, ...]  # the final round
    first_round: tuple[RoomVote, ...] = ()  # the round before a re-vote, if there was one
    agreed_on: str = ""  # ISO date of the session that agreed it


@dataclass(frozen=True)
class WorkshopCapability:
    """The room's record for one capability, as the result carries it."""

    agreed_level: int
    rationale: str
    dissent: tuple[DissentNote, ...]
    distribution: RoomDistribution  # the final round
    first_round: RoomDistribution | None  # before the re-vote
    survey_level: float | None  # the survey median, for comparison
    difference: float | None  # agreed level minus survey median, in levels
    agreed_on: str = ""


@dataclass(frozen=True)
class RoomSummary:
    """The workshop as a whole: how many capabilities it agreed and who was in the room."""

    capabilities: int
    participants: int  # distinct voters over all agreed capabilities
    participants_by_role: Mapping[str, int] = field(default_factory=dict)
    sessions: tuple[str, ...] = ()  # ISO dates on which levels were agreed


def quartiles(values: Sequence[float]) -> tuple[float, float, float]:
    """Median and quartiles with linear interpolation, as pandas' quantile() computes them
    for the survey, so room and survey spreads are comparable."""
    ordered = sorted(values)
    n = len(ordered)

    def at(q: float) -> float:
        position = (n - 1) * q
        low = int(position)
        high = min(low + 1, n - 1)
        return ordered[low] + (ordered[high] - ordered[low]) * (position - low)

    return at(0.5), at(0.25), at(0.75)


def _counts(votes: Iterable[RoomVote]) -> dict[str, int]:
    counts = dict.fromkeys(COUNT_KEYS, 0)
    for vote in votes:
        counts[str(vote.level) if vote.choice == "level" else "dont_know"] += 1
    return counts


def validate_votes(votes: Iterable[RoomVote], where: str = "") -> None:
    problems = []
    seen: set[str] = set()
    for vote in votes:
        label = f"{where}vote of {vote.participant_id!r}"
        if vote.role not in AUDIENCES:
            problems.append(f"{label}: unknown role {vote.role!r}")
        if vote.choice not in VOTE_CHOICES:
            problems.append(f"{label}: unknown choice {vote.choice!r}")
        elif vote.choice == "level" and vote.level not in LEVELS:
            problems.append(f"{label}: level {vote.level!r} is outside 1-5")
        elif vote.choice == "dont_know" and vote.level is not None:
            problems.append(f"{label}: a don't-know vote carries no level")
        if vote.participant_id in seen:
            problems.append(f"{label}: more than one vote in the round")
        seen.add(vote.participant_id)
    if problems:
        raise ScoringInputError(problems)


def room_distribution(votes: Sequence[RoomVote]) -> RoomDistribution:
    """The distribution of one round of votes, overall and by role group (see module doc)."""
    validate_votes(votes)
    levels = [float(v.level) for v in votes if v.choice == "level" and v.level is not None]
    median = q1 = q3 = agreement = None
    if levels:
        median, q1, q3 = quartiles(levels)
        if len(levels) >= 2:
            agreement = max(0.0, 1.0 - statistics.pvariance(levels) / UNIFORM_VARIANCE)
    by_role: dict[str, list[RoomVote]] = {}
    for vote in votes:
        by_role.setdefault(vote.role, []).append(vote)
    big = [r for r in AUDIENCES if len(by_role.get(r, [])) >= MIN_GROUP]
    small = [r for r in AUDIENCES if 0 < len(by_role.get(r, [])) < MIN_GROUP]
    groups: list[tuple[str, tuple[str, ...]]] = [(r, (r,)) for r in big]
    pooled: tuple[str, ...] = ()
    hidden: tuple[str, ...] = ()
    if small and sum(len(by_role[r]) for r in small) >= MIN_GROUP:
        pooled = tuple(small)
        groups.append((f"other roles ({', '.join(small)})", pooled))
    else:
        hidden = tuple(small)
    shown = []
    for label, roles in groups:
        members = [v for r in roles for v in by_role[r]]
        member_levels = [float(v.level) for v in members if v.level is not None]
        shown.append(
            RoleGroupVotes(
                group=label,
                roles=roles,
                voters=len(members),
                counts=_counts(members),
                median=statistics.median(member_levels) if member_levels else None,
            )
        )
    return RoomDistribution(
        voters=len(votes),
        level_voters=len(levels),
        counts=_counts(votes),
        median=median,
        q1=q1,
        q3=q3,
        agreement=agreement,
        groups=tuple(shown),
        pooled_roles=pooled,
        hidden_roles=hidden,
        hidden_voters=sum(len(by_role[r]) for r in hidden),
    )


def room_confidence(distribution: RoomDistribution) -> float:
    """The survey's formula on the room's final round: 0.4 x min(1, level voters / 5) +
    0.3 x (1 - don't-know share) + 0.3 x agreement (0.5 when unmeasurable); 0 without votes.
    A room that agreed a level by discussion but voted all over the place stays less certain
    than one that voted as one."""
    if distribution.voters == 0 or distribution.level_voters == 0:
        return 0.0
    count = min(1.0, distribution.level_voters / FULL_RESPONDENTS)
    known = distribution.level_voters / distribution.voters
    agreement = distribution.agreement if distribution.agreement is not None else 0.5
    return 0.4 * count + 0.3 * known + 0.3 * agreement


@dataclass(frozen=True)
class Combined:
    """The level a capability is scored at, and where it comes from."""

    level: float | None  # in levels (1..5): the agreed level or the survey median
    source: str | None  # "workshop", "survey", or None without either
    workshop: WorkshopCapability | None


def combine(*, survey_median: float | None, agreed: AgreedLevel | None) -> Combined:
    """An agreed level wins; otherwise the survey median; otherwise no level.

    The room is usually calibrating the survey (it sees the survey median and spread and the
    scan evidence before it votes), so its deliberate answer replaces the median instead of
    being averaged with it: averaging would let forty quick survey answers outvote the
    argument the room just had, or the other way round, depending only on head counts.
    """
    if agreed is None:
        return Combined(survey_median, "survey" if survey_median is not None else None, None)
    if agreed.level not in LEVELS:
        raise ScoringInputError(
            [f"agreed level for {agreed.capability_id} must be 1-5, not {agreed.level!r}"]
        )
    validate_votes(agreed.votes, f"{agreed.capability_id}: ")
    validate_votes(agreed.first_round, f"{agreed.capability_id} (first round): ")
    record = WorkshopCapability(
        agreed_level=agreed.level,
        rationale=agreed.rationale,
        dissent=agreed.dissent,
        distribution=room_distribution(agreed.votes),
        first_round=room_distribution(agreed.first_round) if agreed.first_round else None,
        survey_level=survey_median,
        difference=(agreed.level - survey_median) if survey_median is not None else None,
        agreed_on=agreed.agreed_on,
    )
    return Combined(float(agreed.level), "workshop", record)


def room_summary(agreed: Sequence[AgreedLevel]) -> RoomSummary | None:
    if not agreed:
        return None
    roles: dict[str, str] = {}
    for item in agreed:
        for vote in (*item.votes, *item.first_round):
            roles[vote.participant_id] = vote.role
    by_role = {role: sum(1 for r in roles.values() if r == role) for role in AUDIENCES}
    return RoomSummary(
        capabilities=len(agreed),
        participants=len(roles),
        participants_by_role={k: v for k, v in by_role.items() if v},
        sessions=tuple(sorted({a.agreed_on for a in agreed if a.agreed_on})),
    )


def check_agreed(agreed: Sequence[AgreedLevel], capability_ids: Iterable[str]) -> None:
    known = set(capability_ids)
    problems = []
    seen: set[str] = set()
    for item in agreed:
        if item.capability_id not in known:
            problems.append(f"agreed level for unknown capability {item.capability_id!r}")
        if item.capability_id in seen:
            problems.append(f"more than one agreed level for {item.capability_id}")
        seen.add(item.capability_id)
    if problems:
        raise ScoringInputError(problems)


def by_capability(agreed: Sequence[AgreedLevel]) -> Mapping[str, AgreedLevel]:
    return {a.capability_id: a for a in agreed}
