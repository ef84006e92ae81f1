"""Claims versus evidence: compare what respondents say with what scans found.

A finding says whether a good practice a detector looks for was found, was absent, or could
not be determined ("unknown", which never counts as absent). For each capability with at least
one determinable finding, the evidence score is the strength-weighted share of practices
found, on the same 0-100 scale as the self-reported score. See docs/methodology.md.
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


@dataclass(frozen=True)
class EvidenceFinding:
    detector: str
    capability: str
    status: Status
    strength: int
    title: str
    pointers: tuple[str, ...] = ()


@dataclass(frozen=True)
class EvidenceVerdict:
    verdict: Verdict
    direction: Literal["", "overclaim", "underclaim"]
    evidence_score: float | None
    coverage: float
    adjusted_score: float | None
    found: int
    absent: int
    unknown: int
    findings: tuple[EvidenceFinding, ...]


def validate_findings(findings: Sequence[EvidenceFinding], capability_ids: set[str]) -> None:
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
        if finding.strength not in (1, 2, 3):
            problems.append(f"finding {index} ({finding.detector}): strength must be 1, 2 or 3")
    if problems:
        raise ScoringInputError(problems)


def reconcile(claim_score: float | None, findings: Sequence[EvidenceFinding]) -> EvidenceVerdict:
    """The verdict for one capability: its self-reported score against its findings."""
    determinable = [f for f in findings if f.status != "unknown"]
    found = sum(1 for f in determinable if f.status == "found")
    absent = len(determinable) - found
    unknown = len(findings) - len(determinable)
    if not determinable:
        return EvidenceVerdict(
            "unverifiable", "", None, 0.0, claim_score, found, absent, unknown, tuple(findings)
        )
    total = sum(f.strength for f in determinable)
    evidence = 100.0 * sum(f.strength for f in determinable if f.status == "found") / total
    coverage = min(1.0, total / FULL_COVERAGE)
    if claim_score is None:
        # Evidence without any claim: nothing to agree or disagree with.
        return EvidenceVerdict(
            "unverifiable", "", evidence, coverage, None, found, absent, unknown, tuple(findings)
        )
    weight = MAX_EVIDENCE_WEIGHT * coverage
    adjusted = (1 - weight) * claim_score + weight * evidence
    difference = claim_score - evidence
    if difference > TOLERANCE:
        verdict: Verdict = "contradicts"
        direction: Literal["", "overclaim", "underclaim"] = "overclaim"
    elif difference < -TOLERANCE:
        verdict, direction = "contradicts", "underclaim"
    else:
        verdict, direction = "agrees", ""
    return EvidenceVerdict(
        verdict, direction, evidence, coverage, adjusted, found, absent, unknown, tuple(findings)
    )
