"""Agent suitability of a process, and the ranked pilot backlog.

Every number here is explained where it is shown, and every formula is in docs/methodology.md
("Process suitability and the pilot backlog"). Six factors, each from 0 to 1:

- specified: written down (0.4), steps known (0.3), trigger, outcome and owner stated (0.1),
  a recording or trace of a run exists (0.2);
- verifiable: automated tests or checks 1, a checklist 0.6, a person's sign-off 0.3, nothing 0;
- reachable: the mean over the steps that name a system of "has an API the organisation can
  use" (yes 1, not known 0.5, no 0); 0 when no step names a system;
- reversible: fully 1, with effort 0.5, not at all 0;
- low blast radius: one person or team 1, several teams 2/3, customers or partners 1/3,
  money, legal or safety 0;
- volume: log(1 + runs per week) / log(1 + 100), at most 1 (100 runs a week count fully).

suitability = the mean of the six, 0-100.
value = runs per week x human minutes per run (minutes of work an agent could take on a week).
risk = blast radius (1-4) x irreversibility (1-3) x error rate (a share, at least 1%; 10% when
not known).
pilot score = suitability/100 x value/(value + 600) x 1/(1 + risk) x 100: half the value weight
at 10 hours a week, so one huge process cannot crowd out a safe, well-described one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Verification = Literal["automated", "checklist", "sign_off", "none"]
Reversibility = Literal["reversible", "effort", "irreversible"]
ApiAccess = Literal["yes", "no", "unknown"]
Recording = Literal["none", "recording", "trace"]
Mode = Literal["suggest", "reviewed"]

VERIFICATION_SCORE: dict[str, float] = {
    "automated": 1.0,
    "checklist": 0.6,
    "sign_off": 0.3,
    "none": 0.0,
}
VERIFICATION_TEXT = {
    "automated": "automated tests or checks",
    "checklist": "a checklist",
    "sign_off": "a person's sign-off",
    "none": "nothing",
}
REVERSIBILITY_SCORE = {"reversible": 1.0, "effort": 0.5, "irreversible": 0.0}
IRREVERSIBILITY = {"reversible": 1, "effort": 2, "irreversible": 3}
REVERSIBILITY_TEXT = {
    "reversible": "fully reversible",
    "effort": "reversible with effort",
    "irreversible": "cannot be undone",
}
# Blast radius of a mistake, 1 (one person or team) to 4 (money, legal or safety).
BLAST_TEXT = {
    1: "one person or team",
    2: "several teams",
    3: "customers or partners",
    4: "money, legal or safety",
}
API_SCORE = {"yes": 1.0, "unknown": 0.5, "no": 0.0}
FULL_VOLUME_RUNS = 100.0
# Minutes a week at which value counts half: 10 hours of human work.
HALF_VALUE_MINUTES = 600.0
UNKNOWN_ERROR_RATE = 0.10
MIN_ERROR_RATE = 0.01
BACKLOG_SIZE = 5

FACTORS = ("specified", "verifiable", "reachable", "reversible", "low_blast_radius", "volume")
FACTOR_TITLES = {
    "specified": "Specified",
    "verifiable": "Verifiable",
    "reachable": "Reachable",
    "reversible": "Reversible",
    "low_blast_radius": "Low blast radius",
    "volume": "Volume",
}

# A weak factor (below 0.5) named by what holds the process back, not by the factor's title:
# the low blast radius factor is weak when the blast radius is wide, so "held back by low
# blast radius" would say the opposite of the value.
HELD_BACK_BY = {
    "specified": "specification",
    "verifiable": "verification",
    "reachable": "system access",
    "reversible": "irreversibility",
    "low_blast_radius": "a wide blast radius",
    "volume": "volume",
}


@dataclass(frozen=True)
class StepFacts:
    name: str
    system: str = ""
    api: ApiAccess = "unknown"
    decides: bool = False  # a person decides here (judgement), rather than just executes


@dataclass(frozen=True)
class ProcessFacts:
    """What the catalogue knows about one process (claimed or measured)."""

    key: str
    name: str
    steps: tuple[StepFacts, ...] = ()
    runs_per_week: float | None = None
    minutes_per_run: float | None = None
    error_rate: float | None = None  # a share from 0 to 1
    verification: Verification = "none"
    reversibility: Reversibility = "effort"
    blast_radius: int = 2
    documented: bool = False  # written down somewhere a newcomer can find (a link)
    recording: Recording = "none"
    trigger: str = ""
    outcome: str = ""
    owner: str = ""
    measured: frozenset[str] = frozenset()  # fields that come from an event log


@dataclass(frozen=True)
class Factor:
    id: str
    title: str
    value: float  # 0-1
    explanation: str


@dataclass(frozen=True)
class Suitability:
    key: str
    name: str
    factors: tuple[Factor, ...]
    suitability: float  # 0-100
    value_minutes: float  # human minutes a week
    value_known: bool
    risk: float
    risk_explanation: str
    pilot_score: float  # 0-100
    value_explanation: str

    def factor(self, factor_id: str) -> Factor:
        return next(f for f in self.factors if f.id == factor_id)


@dataclass(frozen=True)
class Unmet:
    """A requirement of a gate other than a capability level: a safety-critical question's
    minimum (`answer`), scan evidence (`evidence`), review headroom (`review`) or a track
    record (`track-record`), with the sentence that says what is missing."""

    kind: str
    capability_id: str  # whose roadmap work meets it
    subject: str  # the question, detector or fact
    label: str


@dataclass(frozen=True)
class GateView:
    """One step of the autonomy ladder as the assessment's result sees it: its capability
    levels not met today (capability id, level now or None, level required) and its other
    requirements not met."""

    id: str
    title: str
    granted: bool
    missing: tuple[tuple[str, int | None, int], ...] = ()
    unmet: tuple[Unmet, ...] = ()


@dataclass(frozen=True)
class RoadmapRef:
    position: int
    id: str
    title: str
    capability_id: str


@dataclass(frozen=True)
class Blocker:
    """What stands between a pilot and the gate it needs: a capability level (kind
    "capability", with current and required) or another gate requirement (`label` says
    which), with the roadmap items that work on it."""

    capability_id: str
    title: str
    current: int | None
    required: int
    roadmap: tuple[RoadmapRef, ...]
    kind: str = "capability"
    label: str = ""


@dataclass(frozen=True)
class PilotItem:
    rank: int
    suitability: Suitability
    why: str
    mode: Mode
    gate: GateView | None
    gate_reason: str
    blockers: tuple[Blocker, ...]
    first_step: str
    first_step_kind: str


@dataclass(frozen=True)
class Coverage:
    """How much of the catalogue is written down, measured and verifiable."""

    processes: int
    with_owner: int
    written_down: int
    measured: int
    verifiable: int
    steps_known: int
    extra: Mapping[str, Any] = field(default_factory=dict)

    def share(self, count: int) -> float:
        return count / self.processes if self.processes else 0.0


# --- Factors ----------------------------------------------------------------------------------


def _plural(n: float, word: str) -> str:
    shown = f"{n:g}" if n != int(n) else str(int(n))
    return f"{shown} {word}{'' if n == 1 else 's'}"


def _specified(p: ProcessFacts) -> Factor:
    steps = len([s for s in p.steps if s.name.strip()])
    steps_part = 1.0 if steps >= 2 else 0.5 if steps == 1 else 0.0
    framed = bool(p.trigger.strip() and p.outcome.strip() and p.owner.strip())
    recorded = p.recording != "none"
    value = 0.4 * p.documented + 0.3 * steps_part + 0.1 * framed + 0.2 * recorded
    parts = [
        "written down" if p.documented else "not written down",
        f"{_plural(steps, 'step')} known" if steps else "no steps known",
        "trigger, outcome and owner stated" if framed else "trigger, outcome or owner missing",
        {"trace": "an event log or trace exists", "recording": "a recording exists"}.get(
            p.recording, "no recording or trace"
        ),
    ]
    return Factor("specified", FACTOR_TITLES["specified"], round(value, 4), "; ".join(parts))


def _verifiable(p: ProcessFacts) -> Factor:
    return Factor(
        "verifiable",
        FACTOR_TITLES["verifiable"],
        VERIFICATION_SCORE[p.verification],
        f"a good run is told from a bad one by {VERIFICATION_TEXT[p.verification]}",
    )


def _reachable(p: ProcessFacts) -> Factor:
    systems = [s for s in p.steps if s.system.strip()]
    if not systems:
        return Factor("reachable", FACTOR_TITLES["reachable"], 0.0, "no step names a system")
    value = sum(API_SCORE[s.api] for s in systems) / len(systems)
    with_api = sorted({s.system.strip() for s in systems if s.api == "yes"})
    without = sorted({s.system.strip() for s in systems if s.api == "no"})
    unknown = sorted({s.system.strip() for s in systems if s.api == "unknown"})
    parts = []
    if with_api:
        parts.append("API: " + ", ".join(with_api))
    if without:
        parts.append("no usable API: " + ", ".join(without))
    if unknown:
        parts.append("API not known: " + ", ".join(unknown))
    return Factor("reachable", FACTOR_TITLES["reachable"], round(value, 4), "; ".join(parts))


def _volume(p: ProcessFacts) -> Factor:
    if p.runs_per_week is None:
        return Factor("volume", FACTOR_TITLES["volume"], 0.0, "runs per week not known")
    runs = max(0.0, p.runs_per_week)
    value = min(1.0, math.log1p(runs) / math.log1p(FULL_VOLUME_RUNS))
    how = "measured" if "runs_per_week" in p.measured else "claimed"
    return Factor(
        "volume",
        FACTOR_TITLES["volume"],
        round(value, 4),
        f"{_plural(round(runs, 1), 'run')} a week ({how})",
    )


def error_rate_used(p: ProcessFacts) -> float:
    if p.error_rate is None:
        return UNKNOWN_ERROR_RATE
    return max(MIN_ERROR_RATE, min(1.0, p.error_rate))


def assess(p: ProcessFacts) -> Suitability:
    """The explained suitability, value, risk and pilot score of one process."""
    blast = min(4, max(1, p.blast_radius))
    factors = (
        _specified(p),
        _verifiable(p),
        _reachable(p),
        Factor(
            "reversible",
            FACTOR_TITLES["reversible"],
            REVERSIBILITY_SCORE[p.reversibility],
            REVERSIBILITY_TEXT[p.reversibility],
        ),
        Factor(
            "low_blast_radius",
            FACTOR_TITLES["low_blast_radius"],
            round((4 - blast) / 3, 4),
            f"a mistake reaches {BLAST_TEXT[blast]}",
        ),
        _volume(p),
    )
    suitability = 100 * sum(f.value for f in factors) / len(factors)
    value_known = p.runs_per_week is not None and p.minutes_per_run is not None
    value = max(0.0, p.runs_per_week or 0.0) * max(0.0, p.minutes_per_run or 0.0)
    if value_known:
        value_explanation = (
            f"{p.runs_per_week:g} runs a week x {p.minutes_per_run:g} minutes of human work "
            f"= {value / 60:.1f} hours a week"
        )
    else:
        value_explanation = "runs per week or minutes per run not known: value counted as 0"
    rate = error_rate_used(p)
    risk = blast * IRREVERSIBILITY[p.reversibility] * rate
    rate_text = (
        f"error rate {rate:.0%}"
        if p.error_rate is not None
        else f"error rate not known, {UNKNOWN_ERROR_RATE:.0%} assumed"
    )
    risk_explanation = (
        f"blast radius {blast} x irreversibility {IRREVERSIBILITY[p.reversibility]} x {rate_text}"
    )
    score = (suitability / 100) * (value / (value + HALF_VALUE_MINUTES)) / (1 + risk) * 100
    return Suitability(
        key=p.key,
        name=p.name,
        factors=factors,
        suitability=round(suitability, 2),
        value_minutes=round(value, 2),
        value_known=value_known,
        risk=round(risk, 4),
        risk_explanation=risk_explanation,
        pilot_score=round(score, 2),
        value_explanation=value_explanation,
    )


# --- The backlog ------------------------------------------------------------------------------


def pilot_mode(p: ProcessFacts) -> tuple[Mode, str]:
    """How a first pilot runs. "One process, one recording, one reviewable change at a time":
    a pilot starts with a person reviewing every change the agent makes, and stays at
    suggestions where a wrong action cannot be caught or undone."""
    decides = [s.name for s in p.steps if s.decides]
    if p.blast_radius >= 4 and p.reversibility == "irreversible":
        return "suggest", (
            "a mistake cannot be undone and reaches money, legal or safety: the agent "
            "suggests, a person acts"
        )
    if p.verification == "none" and decides:
        return "suggest", (
            f"a person decides at {decides[0]!r} and nothing checks the result: the agent "
            "suggests, a person decides"
        )
    return "reviewed", "the agent makes one change at a time and a person reviews each"


def _gate_for(mode: Mode, ladder: Sequence[GateView]) -> GateView | None:
    """The ladder's first step is suggestions only; its second is the first where an agent
    makes changes a person reviews (the ladder is ordered lowest first)."""
    if not ladder:
        return None
    return ladder[0] if mode == "suggest" or len(ladder) < 2 else ladder[1]


def _blockers(
    gate: GateView | None,
    ladder: Sequence[GateView],
    titles: Mapping[str, str],
    roadmap: Sequence[RoadmapRef],
) -> tuple[Blocker, ...]:
    """Every requirement not met up to and including the gate (steps are cumulative): each
    capability once with the highest level asked of it, then each other requirement once
    (question minimums, scan evidence, review headroom, track record). Each links the
    roadmap items on its capability; a track record has none, since only time at the step
    below earns it."""
    if gate is None:
        return ()
    wanted: dict[str, tuple[int | None, int]] = {}
    others: dict[tuple[str, str, str], Unmet] = {}
    for step in ladder:
        for capability_id, current, required in step.missing:
            known = wanted.get(capability_id)
            if known is None or required > known[1]:
                wanted[capability_id] = (current, required)
        for unmet in step.unmet:
            others.setdefault((unmet.kind, unmet.capability_id, unmet.subject), unmet)
        if step.id == gate.id:
            break

    def refs(capability_id: str) -> tuple[RoadmapRef, ...]:
        return tuple(r for r in roadmap if r.capability_id == capability_id)[:2]

    levels = tuple(
        Blocker(
            capability_id=cid,
            title=titles.get(cid, cid),
            current=current,
            required=required,
            roadmap=refs(cid),
        )
        for cid, (current, required) in wanted.items()
    )
    return levels + tuple(
        Blocker(
            capability_id=u.capability_id,
            title=titles.get(u.capability_id, u.capability_id),
            current=None,
            required=0,
            roadmap=() if u.kind == "track-record" else refs(u.capability_id),
            kind=u.kind,
            label=u.label,
        )
        for u in others.values()
    )


def first_step(
    p: ProcessFacts, blockers: Sequence[Blocker], mode: Mode = "reviewed"
) -> tuple[str, str]:
    """The one next thing to do for this pilot, and its kind (for filtering and tests)."""
    named_steps = [s for s in p.steps if s.name.strip()]
    if not p.documented and p.recording == "none":
        return "record", (
            f"Record one run of {p.name!r} (a screen recording or a written walkthrough with "
            "its inputs and outputs) and link it in the catalogue."
        )
    if len(named_steps) < 2:
        return "steps", f"Write down the steps of {p.name!r}, with the system each one touches."
    if p.verification in ("none", "sign_off"):
        return "check", (
            f"Write the acceptance check for {p.name!r}: how to tell a good run from a bad one "
            "without asking the person who did it."
        )
    no_api = [s.system.strip() for s in named_steps if s.system.strip() and s.api == "no"]
    if no_api:
        return "access", f"Give the agent API access to {no_api[0]}."
    unknown = [s.system.strip() for s in named_steps if s.system.strip() and s.api == "unknown"]
    if unknown:
        return "access", f"Find out whether {unknown[0]} has an API the agent may use."
    if blockers:
        b = blockers[0]
        # Named by title: the number a reader sees comes from the edited plan, which the
        # roadmap's own positions do not know.
        action = f" (roadmap: {b.roadmap[0].title})" if b.roadmap else ""
        if b.kind != "capability":
            return "unblock", f"Meet the gate's requirement: {b.label}{action}."
        return "unblock", f"Raise {b.title} to level {b.required}{action}."
    if mode == "suggest":
        return "pilot", (
            f"Pilot {p.name!r}: the agent drafts one run, a person carries it out and notes "
            "what the draft got wrong."
        )
    return "pilot", (
        f"Pilot {p.name!r}: the agent makes one change at a time and a person reviews each."
    )


def _why(s: Suitability) -> str:
    ranked = sorted(s.factors, key=lambda f: -f.value)
    strong = [f for f in ranked if f.value >= 0.75][:2]
    weak = [f for f in reversed(ranked) if f.value < 0.5][:2]
    parts = []
    if s.value_known:
        parts.append(f"saves up to {s.value_minutes / 60:.1f} hours of work a week")
    else:
        parts.append("value unknown until runs per week and minutes per run are filled in")
    if strong:
        parts.append(
            "strong on " + " and ".join(f"{f.title.lower()} ({f.explanation})" for f in strong)
        )
    if weak:
        parts.append(
            "held back by " + " and ".join(f"{HELD_BACK_BY[f.id]} ({f.explanation})" for f in weak)
        )
    parts.append(f"risk {s.risk:.2f} ({s.risk_explanation})")
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def rank(
    processes: Sequence[ProcessFacts],
    *,
    ladder: Sequence[GateView] = (),
    capability_titles: Mapping[str, str] | None = None,
    roadmap: Sequence[RoadmapRef] = (),
) -> list[PilotItem]:
    """Every process, best pilot first: by pilot score, then value, then name."""
    titles = capability_titles or {}
    assessed = [(p, assess(p)) for p in processes]
    assessed.sort(key=lambda pair: (-pair[1].pilot_score, -pair[1].value_minutes, pair[0].name))
    items = []
    for index, (p, s) in enumerate(assessed, start=1):
        mode, reason = pilot_mode(p)
        gate = _gate_for(mode, ladder)
        blockers = _blockers(gate, ladder, titles, roadmap)
        kind, step = first_step(p, blockers, mode)
        items.append(
            PilotItem(
                rank=index,
                suitability=s,
                why=_why(s),
                mode=mode,
                gate=gate,
                gate_reason=reason,
                blockers=blockers,
                first_step=step,
                first_step_kind=kind,
            )
        )
    return items


def coverage(processes: Sequence[ProcessFacts]) -> Coverage:
    return Coverage(
        processes=len(processes),
        with_owner=sum(1 for p in processes if p.owner.strip()),
        written_down=sum(1 for p in processes if p.documented),
        measured=sum(1 for p in processes if p.measured),
        verifiable=sum(1 for p in processes if p.verification in ("automated", "checklist")),
        steps_known=sum(1 for p in processes if len([s for s in p.steps if s.name.strip()]) >= 2),
    )
