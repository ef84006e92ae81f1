"""Claims versus evidence: compare what respondents say with what scans found.

A finding says whether a good practice a detector looks for was found, was absent, or could
not be determined ("unknown", which never counts as absent). For each capability with at least
one determinable finding, the evidence score is the strength-weighted share of practices
found, on the same 0-100 scale as the self-reported score. Evidence weighs in proportion to
how much of the organisation the scanned sources cover (one repository of ten says little about
the other nine), and absence found in a small part of the organisation never contradicts a
claim about all of it. See docs/methodology.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from scoring.errors import ScoringInputError

Status = Literal["found", "absent", "unknown"]
Verdict = Literal["agrees", "contradicts", "unverifiable"]

# Claim and evidence disagree when they are more than one level (25 points) apart.
TOLERANCE = 25.0
# Strength points at which evidence counts fully in the adjusted score (two strong findings).
FULL_COVERAGE = 6.0
# At full coverage, evidence and claim weigh equally in the evidence-adjusted score.
MAX_EVIDENCE_WEIGHT = 0.5
# Practices found absent contradict a claim only when the scanned sources cover at least this
# share of the organisation: half of it, so absence is the majority's state, not an anecdote.
MIN_SCOPE_TO_REFUTE = 0.5


@dataclass(frozen=True)
class EvidenceFinding:
    """One scan result: did `detector` find the practice it looks for on `capability`?

    `strength` is how much the finding says about the capability (1 weak, 3 strong) and
    `pointers` where to look (file path, commit, API record), shown in the register.
    `source` names what was scanned (one repository, the process catalogue) and `scope` is the
    share of the organisation that source stands for, from 0 to 1 (1: all of it).
    """

    detector: str
    capability: str
    status: Status
    strength: int
    title: str
    pointers: tuple[str, ...] = ()
    source: str = ""
    scope: float = 1.0


@dataclass(frozen=True)
class EvidenceVerdict:
    """The claim-versus-evidence outcome for one capability (scores on 0-100)."""

    verdict: Verdict
    direction: Literal["", "overclaim", "underclaim"]
    evidence_score: float | None
    coverage: float
    adjusted_score: float | None
    found: int
    absent: int
    unknown: int
    findings: tuple[EvidenceFinding, ...]
    scope: float = 1.0  # share of the organisation the scanned sources cover


def evidence_scope(findings: Sequence[EvidenceFinding]) -> float:
    """The share of the organisation the findings' sources cover together: the sum over
    distinct sources of their scope, at most 1."""
    by_source: dict[str, float] = {}
    for finding in findings:
        by_source[finding.source] = max(by_source.get(finding.source, 0.0), finding.scope)
    return min(1.0, sum(by_source.values()))


def validate_findings(*, findings: Sequence[EvidenceFinding], capability_ids: set[str]) -> None:
    """ScoringInputError listing every finding with an unknown capability, status or strength."""
    problems = []
    for index, finding in enumerate(findings):
        if finding.capability not in capability_ids:
            problems.append(
                f"finding {index} ({finding.detector}): unknown capability {finding.capability!r}"
            )
        if finding.status not in ("found", "absent", "unknown"):
            problems.append(
                f"finding {index} ({finding.detector}): status must be found, absent or unknown"
            )
        if isinstance(finding.strength, bool) or finding.strength not in (1, 2, 3):
            problems.append(f"finding {index} ({finding.detector}): strength must be 1, 2 or 3")
        if not 0.0 < finding.scope <= 1.0:
            problems.append(f"finding {index} ({finding.detector}): scope must be in (0, 1]")
    if problems:
        raise ScoringInputError(problems)


def reconcile(*, claim_score: float | None, findings: Sequence[EvidenceFinding]) -> EvidenceVerdict:
    """The verdict for one capability: its self-reported score against its findings.

    Findings are kept in a canonical order, so the verdict does not depend on scan order.
    Coverage is scaled by the share of the organisation the sources cover; an overclaim needs
    sources covering at least MIN_SCOPE_TO_REFUTE of it (below that it stays unverifiable).
    """
    findings = sorted(findings, key=lambda f: (f.detector, f.status, f.title, f.pointers, f.source))
    determinable = [f for f in findings if f.status != "unknown"]
    found = sum(1 for f in determinable if f.status == "found")
    absent = len(determinable) - found
    unknown = len(findings) - len(determinable)
    scope = evidence_scope(findings)
    if not determinable:
        return EvidenceVerdict(
            "unverifiable",
            "",
            None,
            0.0,
            claim_score,
            found,
            absent,
            unknown,
            tuple(findings),
            scope,
        )
    total = sum(f.strength for f in determinable)
    evidence = 100.0 * sum(f.strength for f in determinable if f.status == "found") / total
    coverage = min(1.0, total / FULL_COVERAGE) * evidence_scope(determinable)
    if claim_score is None:
        # Evidence without any claim: nothing to agree or disagree with.
        return EvidenceVerdict(
            "unverifiable",
            "",
            evidence,
            coverage,
            None,
            found,
            absent,
            unknown,
            tuple(findings),
            scope,
        )
    weight = MAX_EVIDENCE_WEIGHT * coverage
    adjusted = (1 - weight) * claim_score + weight * evidence
    difference = claim_score - evidence
    verdict: Verdict
    direction: Literal["", "overclaim", "underclaim"]
    if difference > TOLERANCE and evidence_scope(determinable) < MIN_SCOPE_TO_REFUTE:
        # Absent in the part scanned says nothing about the larger part that was not.
        verdict, direction = "unverifiable", ""
    elif difference > TOLERANCE:
        verdict, direction = "contradicts", "overclaim"
    elif difference < -TOLERANCE:
        verdict, direction = "contradicts", "underclaim"
    else:
        verdict, direction = "agrees", ""
    return EvidenceVerdict(
        verdict,
        direction,
        evidence,
        coverage,
        adjusted,
        found,
        absent,
        unknown,
        tuple(findings),
        scope,
    )


@dataclass(frozen=True)
class ContradictionEntry:
    """One line of the contradictions register: a claim the scan evidence does not support.

    `findings` are the ones that contradict the claim, strongest first: the practices found
    absent for an overclaim, the ones found in place for an underclaim.
    """

    capability_id: str
    title: str
    direction: Literal["overclaim", "underclaim"]
    claim_score: float
    evidence_score: float
    difference: float  # claim - evidence, in points
    findings: tuple[EvidenceFinding, ...]


def contradiction_entry(
    *, capability_id: str, title: str, claim_score: float | None, verdict: EvidenceVerdict
) -> ContradictionEntry | None:
    """The register line for a contradicted claim, or None when the claim is not contradicted."""
    if (
        verdict.verdict != "contradicts"
        or claim_score is None
        or verdict.evidence_score is None
        or verdict.direction == ""
    ):
        return None
    against = "absent" if verdict.direction == "overclaim" else "found"
    findings = sorted(
        (f for f in verdict.findings if f.status == against),
        key=lambda f: (-f.strength, f.detector),
    )
    return ContradictionEntry(
        capability_id=capability_id,
        title=title,
        direction=verdict.direction,
        claim_score=claim_score,
        evidence_score=verdict.evidence_score,
        difference=claim_score - verdict.evidence_score,
        findings=tuple(findings),
    )
