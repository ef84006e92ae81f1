"""The workshop's rules as plain functions: join codes, the per-capability state machine,
the timer and the console's agreement/dissent summary. No Django here (a test enforces it);
`assessments.workshops.services` applies these rules to rows.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from scoring.workshop import RoomVote, room_distribution

# Six characters from an alphabet without look-alikes: no 0/O/D/Q, 1/I/L, 2/Z, 5/S, 6/G,
# 8/B or U/V, so a code read off a projector from the back of a room is typed right.
# 19 ** 6 is about 47 million codes; guessing is rate limited and codes expire.
CODE_ALPHABET = "ACEFHJKMNPRTWXY3479"
CODE_LENGTH = 6


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str | None:
    """The code as typed (any case, spaces or a dash in the middle) in canonical form, or
    None when it cannot be a code at all."""
    code = "".join(ch for ch in (text or "")[:40] if ch not in " -\t").upper()
    if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        return None
    return code


def display_code(code: str) -> str:
    """Split in two halves on screens: "ACE FHJ" is easier to read aloud and copy."""
    return f"{code[:3]} {code[3:]}"


# --- Capability states --------------------------------------------------------------------

PENDING, VOTING, REVEALED, AGREED = "pending", "voting", "revealed", "agreed"
MAX_ROUNDS = 2  # the first vote and one re-vote after discussion


class WorkshopRuleError(ValueError):
    """An action the current state does not allow; the message is shown as it is."""


def opened_state(state: str) -> str:
    """Opening a capability starts its vote; one already voted on (revealed or agreed) opens
    as it was, to look at its votes again or correct the agreed level, without a new vote."""
    return VOTING if state == PENDING else state


def check_reveal(state: str) -> None:
    if state != VOTING:
        raise WorkshopRuleError("Votes can be revealed only while the room is voting.")


def check_revote(state: str, round_number: int) -> None:
    if state != REVEALED:
        raise WorkshopRuleError("A re-vote starts after the votes have been revealed.")
    if round_number >= MAX_ROUNDS:
        raise WorkshopRuleError("The room has already re-voted once on this capability.")


def check_agree(state: str) -> None:
    if state not in (REVEALED, AGREED):
        raise WorkshopRuleError("Reveal the votes before recording the agreed level.")


def vote_refusal(
    *,
    running: bool,
    is_current: bool,
    state: str,
    round_number: int,
    voted_round: int,
) -> str | None:
    """Why a vote cannot be stored, in words for the participant; None when it can."""
    if not running:
        return "The workshop is paused or over: your vote was not counted."
    if not is_current or state in (PENDING, AGREED):
        return "Voting on this capability has closed: your vote was not counted."
    if state == REVEALED:
        return "The votes have been revealed, so voting has closed: your vote was not counted."
    if voted_round != round_number:
        return "The room is voting again: choose your level once more."
    return None


# --- Timer ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timer:
    limit_seconds: int
    elapsed_seconds: int
    running: bool

    @property
    def remaining_seconds(self) -> int:
        """Negative once over time."""
        return self.limit_seconds - self.elapsed_seconds

    @property
    def over(self) -> bool:
        return self.remaining_seconds < 0

    @property
    def text(self) -> str:
        seconds = abs(self.remaining_seconds)
        sign = "+" if self.over else ""
        return f"{sign}{seconds // 60}:{seconds % 60:02d}"


def timer_state(
    *, limit_seconds: int, elapsed_before: int, started_at: datetime | None, now: datetime
) -> Timer:
    """A capability's timer: the seconds spent before the last (re)start plus the running
    stretch, so a pause (or a session resumed another day) stops the clock."""
    running = started_at is not None
    elapsed = elapsed_before
    if started_at is not None:
        elapsed += max(0, int((now - started_at).total_seconds()))
    return Timer(limit_seconds, elapsed, running)


# --- Agreement and dissent, for the console ------------------------------------------------


@dataclass(frozen=True)
class AwayGroup:
    group: str
    voters: int
    higher: int
    lower: int


@dataclass(frozen=True)
class AgreementSummary:
    level: int
    voters: int  # level voters
    at_level: int
    within_one: int  # at the level or one either side
    higher: int  # above the level
    lower: int
    groups: tuple[AwayGroup, ...]  # by role group (k >= 3), who voted above or below
    hidden_voters: int

    @property
    def text(self) -> str:
        if not self.voters:
            return "Nobody chose a level."
        parts = [f"{self.at_level} of {self.voters} voted {self.level}"]
        if self.higher:
            parts.append(f"{self.higher} higher")
        if self.lower:
            parts.append(f"{self.lower} lower")
        return ", ".join(parts) + "."


def agreement_summary(votes: Sequence[RoomVote], level: int) -> AgreementSummary:
    """How the final round's votes sit against a (proposed or agreed) level, overall and by
    role group, with the same k >= 3 rule as the distribution."""
    distribution = room_distribution(votes)
    chosen = [v for v in votes if v.level is not None]
    groups = []
    for group in distribution.groups:
        members = [v for v in chosen if v.role in group.roles and v.level is not None]
        groups.append(
            AwayGroup(
                group.group,
                group.voters,
                sum(1 for v in members if v.level is not None and v.level > level),
                sum(1 for v in members if v.level is not None and v.level < level),
            )
        )
    return AgreementSummary(
        level=level,
        voters=len(chosen),
        at_level=sum(1 for v in chosen if v.level == level),
        within_one=sum(1 for v in chosen if v.level is not None and abs(v.level - level) <= 1),
        higher=sum(1 for v in chosen if v.level is not None and v.level > level),
        lower=sum(1 for v in chosen if v.level is not None and v.level < level),
        groups=tuple(groups),
        hidden_voters=distribution.hidden_voters,
    )


def suggested_level(votes: Sequence[RoomVote]) -> int | None:
    """The median vote rounded half down (the cautious side), as a starting point for the
    agreement form; the facilitator records what the room actually agreed."""
    median = room_distribution(votes).median
    if median is None:
        return None
    return int(median) if median - int(median) <= 0.5 else int(median) + 1
