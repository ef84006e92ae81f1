"""Agent autonomy gates: the most autonomy an organisation can safely grant today.

Steps are cumulative: a step is granted when its own requirements and those of every step
below it are met. Requirements never average: each one is checked on its own, so one unmet
requirement blocks its gate however high everything else is. A requirement is one of

- capability: the capability has fully reached a level (`requires`);
- answer: one question's median answer reaches a level (`requires_answers`), so a strong
  answer cannot offset a weak safety-critical one inside the same capability;
- evidence: a scan found the control (`requires_evidence`); "absent", "could not determine" and
  "not scanned" all leave it unmet, because a control a scan can see must be seen;
- review headroom: at the planned agent pull-request volume (today's volume when no plan was
  given), review utilisation stays at or under a ceiling (`requires_review_headroom`);
- track record: a fact's median, such as the months spent at the step below without an
  agent-caused serious incident, reaches a minimum (`requires_track_record`).

A capability without answers does not meet a requirement. The levels a gate reads are the
caller's (the engine passes the lower of claim and evidence where scan evidence contradicts the
answers); a requirement met only on low-confidence answers is marked, not refused. The gates
are data, one file per rubric version (`scoring/gates/<rubric id>-<version>.yaml`), so a
consultant can read and adapt them, and an assessment pinned to a version keeps its gates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from scoring.rubric import ID_RE, LEVELS, Rubric, RubricError, RubricIssue
from scoring.yamlutil import load_unique

GATES_DIR = Path(__file__).resolve().parent / "gates"
GATES_PATH = GATES_DIR / "operationalization-1.yaml"  # version 1's gates, kept for its tests
_GATE_KEYS = {
    "id",
    "title",
    "description",
    "requires",
    "requires_answers",
    "requires_evidence",
    "requires_review_headroom",
    "requires_track_record",
    "requires_process",
}
Kind = Literal["capability", "answer", "evidence", "review", "track-record"]


@dataclass(frozen=True)
class Requirement:
    """One requirement. `capability_id` is the capability whose work meets it (for an answer,
    the question's capability); `subject` the question, detector or fact it reads ("" for a
    capability); `level` the threshold: a level 1-5, a utilisation ceiling (review) or a
    minimum (track record); unused for evidence."""

    capability_id: str
    level: int
    kind: Kind = "capability"
    subject: str = ""
    threshold: float | None = None


@dataclass(frozen=True)
class Gate:
    id: str
    title: str
    description: str
    requires: tuple[Requirement, ...]


@dataclass(frozen=True)
class Shortfall:
    """A requirement not met: the capability's level now (None: no answers) and the one needed.

    `claimed` is the self-reported level when it differs from `current` (evidence lowered it).
    For other kinds, `label` says what was read and `observed` what it showed.
    """

    capability_id: str
    current: int | None
    required: int
    claimed: int | None = None
    kind: str = "capability"
    subject: str = ""
    label: str = ""
    observed: float | None = None


@dataclass(frozen=True)
class RequirementCheck:
    """One requirement of a gate against the level the gate reads."""

    capability_id: str
    required: int
    current: int | None  # the level the gate reads (None: no answers)
    claimed: int | None  # the self-reported level; above `current` when evidence lowered it
    met: bool
    low_confidence: bool  # met, but only on answers of low confidence
    kind: str = "capability"
    subject: str = ""
    label: str = ""  # for kinds other than capability: what was read, as a sentence fragment
    observed: float | None = None  # for kinds other than capability: the value read


@dataclass(frozen=True)
class GateStatus:
    gate: Gate
    met: bool  # this gate's own requirements, regardless of the gates below it
    missing: tuple[Shortfall, ...]
    checks: tuple[RequirementCheck, ...] = ()  # every requirement, in the gate's order
    low_confidence: bool = False  # met, but some requirement only with low confidence


@dataclass(frozen=True)
class Autonomy:
    """The highest gate granted today, every gate's status, and what the next one lacks
    (cumulative: every unmet requirement up to and including the next gate)."""

    granted: Gate
    granted_index: int
    steps: tuple[GateStatus, ...]
    next_gate: Gate | None
    missing_for_next: tuple[Shortfall, ...]


def load_gates_text(text: str, rubric: Rubric, source: str = "<string>") -> tuple[Gate, ...]:
    """Parse and validate gates against `rubric`; RubricError lists every problem."""
    return _parse_gates(text, rubric, source)[0]


def _parse_gates(
    text: str, rubric: Rubric, source: str
) -> tuple[tuple[Gate, ...], dict[str, ProcessRule]]:
    """The gates and, per gate id, what a catalogued process must show to run at it."""
    rules: dict[str, ProcessRule] = {}
    issues: list[RubricIssue] = []

    def add(path: str, message: str) -> None:
        issues.append(RubricIssue(source, path, message))

    try:
        data = load_unique(text)
    except yaml.YAMLError as exc:
        raise RubricError([RubricIssue(source, "", f"invalid YAML: {exc}")]) from None
    if not isinstance(data, dict) or not isinstance(data.get("gates"), list):
        raise RubricError([RubricIssue(source, "gates", "must be a list of gates")])
    for key in sorted(set(data) - {"rubric", "gates"}, key=str):
        add(str(key), "unknown key; gates files have rubric and gates")
    if "rubric" in data and data["rubric"] != rubric.key:
        add("rubric", f"gates are for {data['rubric']!r}, not {rubric.key!r}")
    capability_ids = {c.id for c in rubric.capabilities}
    gates: list[Gate] = []
    seen: set[str] = set()
    for index, item in enumerate(data["gates"]):
        where = f"gates[{index}]"
        if not isinstance(item, dict):
            add(where, "must be a mapping")
            continue
        for key in sorted(set(item) - _GATE_KEYS, key=str):
            add(f"{where}.{key}", "unknown key")
        gate_id = item.get("id")
        if not isinstance(gate_id, str) or not ID_RE.match(gate_id):
            add(f"{where}.id", f"id {gate_id!r} must be lower-case letters, digits and dashes")
        elif gate_id in seen:
            add(f"{where}.id", f"duplicate id {gate_id!r}")
        seen.add(str(gate_id))
        if not isinstance(item.get("title"), str) or not item["title"].strip():
            add(f"{where}.title", "must be non-empty text")
        requires = item.get("requires") or {}
        if not isinstance(requires, dict):
            add(f"{where}.requires", "must map capability ids to levels")
            requires = {}
        found = _requirements(requires, f"{where}.requires", capability_ids, add)
        found += _answer_requirements(item.get("requires_answers"), where, rubric, add)
        found += _evidence_requirements(item.get("requires_evidence"), where, capability_ids, add)
        found += _review_requirement(
            item.get("requires_review_headroom"), where, capability_ids, add
        )
        found += _track_record(item.get("requires_track_record"), where, rubric, add)
        rule = _process_rule(item.get("requires_process"), where, add)
        if rule is not None:
            rules[str(gate_id)] = rule
        gates.append(
            Gate(
                str(gate_id),
                str(item.get("title", "")).strip(),
                " ".join(str(item.get("description", "")).split()),
                tuple(found),
            )
        )
    if len(gates) < 2:
        add("gates", "define at least two gates")
    elif gates[0].requires:
        add("gates[0]", "the first gate is the baseline and requires nothing")
    if issues:
        raise RubricError(issues)
    return tuple(gates), rules


def _requirements(
    requires: Mapping[Any, Any], where: str, capability_ids: set[str], add: Any
) -> list[Requirement]:
    result = []
    for cap, level in requires.items():
        if cap not in capability_ids:
            add(f"{where}.{cap}", "unknown capability")
        elif isinstance(level, bool) or level not in LEVELS:
            add(f"{where}.{cap}", f"level must be 1-5, not {level!r}")
        else:
            result.append(Requirement(str(cap), int(level)))
    return result


def _answer_requirements(raw: Any, where: str, rubric: Rubric, add: Any) -> list[Requirement]:
    path = f"{where}.requires_answers"
    if raw is None:
        return []
    if not isinstance(raw, dict):
        add(path, "must map question ids to levels")
        return []
    result = []
    for qid, level in raw.items():
        try:
            question = rubric.question(str(qid))
        except KeyError:
            add(f"{path}.{qid}", "unknown question")
            continue
        if isinstance(level, bool) or level not in LEVELS:
            add(f"{path}.{qid}", f"level must be 1-5, not {level!r}")
            continue
        result.append(Requirement(question.capability_id, int(level), "answer", question.id))
    return result


def _evidence_requirements(
    raw: Any, where: str, capability_ids: set[str], add: Any
) -> list[Requirement]:
    path = f"{where}.requires_evidence"
    if raw is None:
        return []
    if not isinstance(raw, dict):
        add(path, "must map capability ids to lists of scan detector ids")
        return []
    result = []
    for cap, detectors in raw.items():
        if cap not in capability_ids:
            add(f"{path}.{cap}", "unknown capability")
            continue
        if not isinstance(detectors, list) or not detectors:
            add(f"{path}.{cap}", "must be a non-empty list of scan detector ids")
            continue
        for detector in detectors:
            if not isinstance(detector, str) or not ID_RE.match(detector):
                add(f"{path}.{cap}", f"{detector!r} is not a detector id")
                continue
            result.append(Requirement(str(cap), 0, "evidence", detector))
    return result


def _review_requirement(
    raw: Any, where: str, capability_ids: set[str], add: Any
) -> list[Requirement]:
    path = f"{where}.requires_review_headroom"
    if raw is None:
        return []
    if not isinstance(raw, dict) or set(raw) != {"capability", "max_utilisation"}:
        add(path, "must be {capability: <id>, max_utilisation: <0-1>}")
        return []
    ceiling = raw["max_utilisation"]
    if raw["capability"] not in capability_ids:
        add(f"{path}.capability", "unknown capability")
        return []
    if isinstance(ceiling, bool) or not isinstance(ceiling, int | float) or not 0 < ceiling < 1:
        add(f"{path}.max_utilisation", f"must be a number between 0 and 1, not {ceiling!r}")
        return []
    return [Requirement(str(raw["capability"]), 0, "review", "", float(ceiling))]


def _track_record(raw: Any, where: str, rubric: Rubric, add: Any) -> list[Requirement]:
    path = f"{where}.requires_track_record"
    if raw is None:
        return []
    if not isinstance(raw, dict) or set(raw) != {"capability", "fact", "at_least"}:
        add(path, "must be {capability: <id>, fact: <fact id>, at_least: <number>}")
        return []
    if raw["capability"] not in {c.id for c in rubric.capabilities}:
        add(f"{path}.capability", "unknown capability")
        return []
    try:
        fact = rubric.fact(str(raw["fact"]))
    except KeyError:
        add(f"{path}.fact", "unknown fact question")
        return []
    minimum = raw["at_least"]
    if (
        isinstance(minimum, bool)
        or not isinstance(minimum, int | float)
        or not fact.minimum < minimum <= fact.maximum
    ):
        add(f"{path}.at_least", f"must be a number the fact can reach, not {minimum!r}")
        return []
    return [Requirement(str(raw["capability"]), 0, "track-record", fact.id, float(minimum))]


# What the process catalogue records about a process, as the gates read it (the same
# vocabulary as assessments/processes, which scoring cannot import).
PROCESS_VERIFICATION = ("automated", "checklist", "sign_off", "none")
PROCESS_REVERSIBILITY = ("reversible", "effort", "irreversible")
_PROCESS_RULE_KEYS = {"verification", "reversibility", "max_blast_radius", "documented"}
_VERIFICATION_TEXT = {
    "automated": "automated tests or checks",
    "checklist": "a checklist",
    "sign_off": "a person's sign-off",
    "none": "nothing",
}
_REVERSIBILITY_TEXT = {
    "reversible": "fully reversible",
    "effort": "reversible with effort",
    "irreversible": "cannot be undone",
}
_BLAST_TEXT = {
    1: "one person or team",
    2: "several teams",
    3: "customers or partners",
    4: "money, legal or safety",
}


@dataclass(frozen=True)
class ProcessRule:
    """What one catalogued process must show to run at a gate (`requires_process`): how its
    result is checked, how far it can be undone, the largest blast radius (1 one team .. 4
    money, legal or safety) and whether it is written down. Empty tuples accept anything."""

    verification: tuple[str, ...] = ()
    reversibility: tuple[str, ...] = ()
    max_blast_radius: int | None = None
    documented: bool = False


def _process_rule(raw: Any, where: str, add: Any) -> ProcessRule | None:
    path = f"{where}.requires_process"
    if raw is None:
        return None
    if not isinstance(raw, dict) or not raw or set(raw) - _PROCESS_RULE_KEYS:
        add(path, "must map some of " + ", ".join(sorted(_PROCESS_RULE_KEYS)) + " to values")
        return None
    lists: dict[str, tuple[str, ...]] = {}
    for key, allowed in (
        ("verification", PROCESS_VERIFICATION),
        ("reversibility", PROCESS_REVERSIBILITY),
    ):
        values = raw.get(key, [])
        if not isinstance(values, list) or any(v not in allowed for v in values):
            add(f"{path}.{key}", f"must be a list of {', '.join(allowed)}")
            return None
        lists[key] = tuple(str(v) for v in values)
    radius = raw.get("max_blast_radius")
    if radius is not None and (type(radius) is not int or radius not in _BLAST_TEXT):
        add(f"{path}.max_blast_radius", f"must be 1-4, not {radius!r}")
        return None
    documented = raw.get("documented", False)
    if not isinstance(documented, bool):
        add(f"{path}.documented", f"must be true or false, not {documented!r}")
        return None
    return ProcessRule(lists["verification"], lists["reversibility"], radius, documented)


def load_gates(path: Path, rubric: Rubric) -> tuple[Gate, ...]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RubricError([RubricIssue(str(path), "", f"cannot read the file: {exc}")]) from None
    return load_gates_text(text, rubric, source=str(path))


_CACHE: dict[Rubric, tuple[Gate, ...]] = {}
_RULES: dict[Rubric, dict[str, ProcessRule]] = {}


def gates_path(rubric: Rubric) -> Path:
    """Where the gates for `rubric` live (whether or not the file exists)."""
    return GATES_DIR / f"{rubric.key}.yaml"


def get_process_rules(rubric: Rubric) -> dict[str, ProcessRule]:
    """Per gate id of the shipped gates for `rubric`, what a process must show to run at it
    ({} for a rubric without a gates file or without process rules)."""
    if rubric not in _RULES:
        path = gates_path(rubric)
        if path.is_file() and gates_rubric_key(path) == rubric.key:
            _RULES[rubric] = _parse_gates(path.read_text(encoding="utf-8"), rubric, str(path))[1]
        else:
            _RULES[rubric] = {}
    return _RULES[rubric]


def gates_rubric_key(path: Path = GATES_PATH) -> str | None:
    """The rubric key a gates file is written for."""
    data = load_unique(path.read_text(encoding="utf-8"))
    key = data.get("rubric") if isinstance(data, dict) else None
    return key if isinstance(key, str) else None


def get_gates(rubric: Rubric) -> tuple[Gate, ...]:
    """The shipped gates for `rubric`, validated once per process; () for a rubric without
    a gates file (a custom or test rubric)."""
    if rubric not in _CACHE:
        path = gates_path(rubric)
        _CACHE[rubric] = (
            load_gates(path, rubric)
            if path.is_file() and gates_rubric_key(path) == rubric.key
            else ()
        )
    return _CACHE[rubric]


@dataclass(frozen=True)
class GateInputs:
    """What gates read besides capability levels (every field optional: what is missing
    leaves the requirements that read it unmet).

    answers: each question's median answer; evidence: per scan detector "found", "absent"
    or "unknown"; review_utilisation: the highest review utilisation at the planned agent
    volume (or today's when there is no plan); review_utilisation_today: today's, given only
    when review_utilisation is a forecast at a planned volume, so that the label can say
    which figure is which; facts: each fact's median; question_texts,
    fact_texts and evidence_titles (scan detector -> the practice it looks for): for the
    labels.
    """

    answers: Mapping[str, float | None] | None = None
    evidence: Mapping[str, str] | None = None
    review_utilisation: float | None = None
    review_utilisation_today: float | None = None
    facts: Mapping[str, float | None] | None = None
    question_texts: Mapping[str, str] | None = None
    fact_texts: Mapping[str, str] | None = None
    evidence_titles: Mapping[str, str] | None = None


_EVIDENCE_WORDS = {"absent": "absent", "unknown": "could not be determined", None: "not scanned"}


def evidence_label(
    detector: str, status: str | None, titles: Mapping[str, str] | None, *, met: bool = False
) -> str:
    """A scan-evidence requirement in words: the practice the scan looks for (its id where no
    title is known) and, unless met, what the scan said."""
    practice = (titles or {}).get(detector) or detector
    label = f"a scan finds “{practice}”"
    return label if met else f"{label} ({_EVIDENCE_WORDS.get(status, status)})"


def _check_other(r: Requirement, inputs: GateInputs) -> RequirementCheck:
    """A requirement of a kind other than capability, read from `inputs`."""
    observed: float | None
    if r.kind == "answer":
        observed = (inputs.answers or {}).get(r.subject)
        met = observed is not None and observed >= r.level
        text = (inputs.question_texts or {}).get(r.subject, r.subject)
        label = f"answers to \u201c{text}\u201d at level {r.level}"
        current = None if observed is None else int(observed)
        return RequirementCheck(
            r.capability_id,
            r.level,
            current,
            current,
            met,
            False,
            r.kind,
            r.subject,
            label,
            observed,
        )
    if r.kind == "evidence":
        status = (inputs.evidence or {}).get(r.subject)
        met = status == "found"
        label = evidence_label(r.subject, status, inputs.evidence_titles, met=met)
        return RequirementCheck(
            r.capability_id,
            0,
            None,
            None,
            met,
            False,
            r.kind,
            r.subject,
            label,
            1.0 if met else 0.0 if status == "absent" else None,
        )
    if r.kind == "review":
        assert r.threshold is not None
        observed = inputs.review_utilisation
        met = observed is not None and observed <= r.threshold
        today = inputs.review_utilisation_today
        # A forecast is named as one, beside today's figure: "now" is only ever today's.
        label = f"review utilisation at the planned agent volume at most {r.threshold:.0%}" + (
            " (no review figures)"
            if observed is None
            else f" (now {observed:.0%})"
            if today is None
            else f" ({observed:.0%} at the planned volume; {today:.0%} today)"
        )
        return RequirementCheck(
            r.capability_id, 0, None, None, met, False, r.kind, r.subject, label, observed
        )
    assert r.kind == "track-record" and r.threshold is not None
    observed = (inputs.facts or {}).get(r.subject)
    met = observed is not None and observed >= r.threshold
    text = (inputs.fact_texts or {}).get(r.subject, r.subject)
    label = f"\u201c{text}\u201d at least {r.threshold:g}" + (
        " (no answer)" if observed is None else f" (now {observed:g})"
    )
    return RequirementCheck(
        r.capability_id, 0, None, None, met, False, r.kind, r.subject, label, observed
    )


def evaluate(
    *,
    gates: tuple[Gate, ...],
    levels: Mapping[str, int | None],
    claimed: Mapping[str, int | None] | None = None,
    low_confidence: frozenset[str] = frozenset(),
    inputs: GateInputs | None = None,
) -> Autonomy | None:
    """The autonomy granted for these capability levels; None when there are no gates.

    levels: what each gate reads; claimed: the self-reported levels, when `levels` were lowered
    by evidence (default: the same); low_confidence: capabilities whose answers are of low
    confidence, which mark a step they help meet; inputs: what requirements of other kinds
    read (answers, scan evidence, review headroom, track record).
    """
    if not gates:
        return None
    claimed = levels if claimed is None else claimed
    inputs = inputs or GateInputs()
    steps = []
    for gate in gates:
        checks = []
        for r in gate.requires:
            if r.kind != "capability":
                checks.append(_check_other(r, inputs))
                continue
            current = levels.get(r.capability_id)
            met = (current or 0) >= r.level
            checks.append(
                RequirementCheck(
                    capability_id=r.capability_id,
                    required=r.level,
                    current=current,
                    claimed=claimed.get(r.capability_id),
                    met=met,
                    low_confidence=met and r.capability_id in low_confidence,
                )
            )
        missing = tuple(
            Shortfall(
                c.capability_id,
                c.current,
                c.required,
                c.claimed if c.claimed != c.current else None,
                c.kind,
                c.subject,
                c.label,
                c.observed,
            )
            for c in checks
            if not c.met
        )
        steps.append(
            GateStatus(
                gate,
                not missing,
                missing,
                tuple(checks),
                not missing and any(c.low_confidence for c in checks),
            )
        )
    granted = 0
    for index, status in enumerate(steps):
        if not status.met:
            break
        granted = index
    next_index = granted + 1
    if next_index >= len(steps):
        return Autonomy(gates[granted], granted, tuple(steps), None, ())
    # Everything unmet up to and including the next step (cumulative requirements), each
    # requirement once (a capability with the highest level asked of it).
    shortfalls: dict[tuple[str, str, str], Shortfall] = {}
    for status in steps[: next_index + 1]:
        for s in status.missing:
            key = (s.kind, s.capability_id, s.subject)
            known = shortfalls.get(key)
            if known is None or s.required > known.required:
                shortfalls[key] = s
    return Autonomy(
        gates[granted], granted, tuple(steps), gates[next_index], tuple(shortfalls.values())
    )


# --- Where each gate holds: per scanned repository and per catalogued process ----------------


@dataclass(frozen=True)
class ProcessScope:
    """One catalogued process, as process rules read it."""

    name: str
    verification: str
    reversibility: str
    blast_radius: int
    documented: bool


@dataclass(frozen=True)
class ScopeStatus:
    """The highest gate that holds for one repository or process (index into the ladder;
    0 is the baseline) and, for the gate above it, what this repository or process lacks."""

    kind: Literal["repository", "process"]
    name: str
    granted_index: int
    missing: tuple[str, ...]


@dataclass(frozen=True)
class GateReach:
    """Where one gate holds: organisation-wide, and for which repositories and processes."""

    gate: Gate
    organisation: bool
    repositories: tuple[str, ...]
    processes: tuple[str, ...]


@dataclass(frozen=True)
class Reach:
    gates: tuple[GateReach, ...]
    scopes: tuple[ScopeStatus, ...]


def detector_status(findings: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Per scan detector, from (detector, status) pairs: "absent" when any scan found the
    practice missing, else "found" when any found it, else "unknown". A control must hold
    everywhere it was looked for."""
    status: dict[str, str] = {}
    for detector, found in findings:
        known = status.get(detector)
        if known == "absent" or found == "absent":
            status[detector] = "absent"
        elif known == "found" or found == "found":
            status[detector] = "found"
        else:
            status[detector] = "unknown"
    return status


def _repository_missing(
    status: GateStatus, evidence: Mapping[str, str], titles: Mapping[str, str] | None
) -> list[str]:
    """What a gate lacks for one repository: the organisation-wide requirements (answers,
    levels, review headroom, track record) as the organisation stands, and the scan evidence
    as this repository's own scan found it."""
    n = sum(1 for c in status.checks if c.kind != "evidence" and not c.met)
    missing = [f"{n} organisation-wide requirement{'s' if n > 1 else ''}"] if n else []
    for r in status.gate.requires:
        if r.kind == "evidence" and evidence.get(r.subject) != "found":
            missing.append(evidence_label(r.subject, evidence.get(r.subject), titles))
    return missing


def _process_missing(
    status: GateStatus, rule: ProcessRule | None, process: ProcessScope
) -> list[str]:
    """What a gate lacks for one process: the gate organisation-wide, then the process rule."""
    missing = []
    if not status.met:
        n = len(status.missing)
        missing.append(f"{n} organisation-wide requirement{'s' if n > 1 else ''}")
    if rule is None:
        return missing
    if rule.verification and process.verification not in rule.verification:
        wanted = " or ".join(_VERIFICATION_TEXT[v] for v in rule.verification)
        now = _VERIFICATION_TEXT.get(process.verification, process.verification)
        missing.append(f"checked by {wanted} (now {now})")
    if rule.reversibility and process.reversibility not in rule.reversibility:
        wanted = " or ".join(_REVERSIBILITY_TEXT[v] for v in rule.reversibility)
        now = _REVERSIBILITY_TEXT.get(process.reversibility, process.reversibility)
        missing.append(f"{wanted} (now {now})")
    if rule.max_blast_radius is not None and process.blast_radius > rule.max_blast_radius:
        missing.append(
            f"a mistake reaches at most {_BLAST_TEXT[rule.max_blast_radius]} "
            f"(now {_BLAST_TEXT.get(process.blast_radius, process.blast_radius)})"
        )
    if rule.documented and not process.documented:
        missing.append("written down where a newcomer can find it")
    return missing


def _climb(missing_per_gate: Sequence[list[str]]) -> tuple[int, tuple[str, ...]]:
    """Gates are cumulative: the highest index before the first gate with something missing,
    and what that gate lacks."""
    for index, missing in enumerate(missing_per_gate):
        if missing:
            return index - 1, tuple(missing)
    return len(missing_per_gate) - 1, ()


def reach(
    *,
    autonomy: Autonomy,
    repositories: Mapping[str, Mapping[str, str]] | None = None,
    processes: Sequence[ProcessScope] = (),
    process_rules: Mapping[str, ProcessRule] | None = None,
    evidence_titles: Mapping[str, str] | None = None,
) -> Reach:
    """Where each gate holds besides the organisation as a whole.

    A repository holds a gate when the organisation meets the gate's requirements that are
    not scan evidence and this repository's own scan found every control the gate asks a scan
    to see (repositories: name -> detector -> "found" / "absent" / "unknown"), for that gate
    and every gate below. So branch protection missing in one repository holds back that
    repository, not the ones that have it. A process holds a gate when the organisation holds
    it and the process meets the gate's process rule (how its result is checked, how far it
    can be undone, its blast radius, whether it is written down), for that gate and every gate
    below: a money-moving process that cannot be undone does not run unattended because the
    organisation could run a low-risk one so.
    """
    rules = process_rules or {}
    steps = autonomy.steps
    scopes: list[ScopeStatus] = []
    for name, evidence in sorted((repositories or {}).items()):
        index, missing = _climb([_repository_missing(s, evidence, evidence_titles) for s in steps])
        scopes.append(ScopeStatus("repository", name, max(index, 0), missing))
    for process in sorted(processes, key=lambda p: p.name.lower()):
        per_gate = [_process_missing(s, rules.get(s.gate.id), process) for s in steps]
        index, missing = _climb(per_gate)
        scopes.append(ScopeStatus("process", process.name, max(index, 0), missing))
    gates = tuple(
        GateReach(
            gate=status.gate,
            organisation=index <= autonomy.granted_index,
            repositories=tuple(
                s.name for s in scopes if s.kind == "repository" and s.granted_index >= index
            ),
            processes=tuple(
                s.name for s in scopes if s.kind == "process" and s.granted_index >= index
            ),
        )
        for index, status in enumerate(steps)
    )
    return Reach(gates, tuple(scopes))
