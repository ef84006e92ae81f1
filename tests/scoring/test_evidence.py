from __future__ import annotations

import pytest

from scoring.errors import ScoringInputError
from scoring.evidence import EvidenceFinding, reconcile, validate_findings


def f(status: str, strength: int = 3, detector: str = "repo.codeowners") -> EvidenceFinding:
    return EvidenceFinding(detector, "rev.policy-ownership", status, strength, detector)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("claim", "findings", "verdict", "direction", "evidence", "adjusted"),
    [
        # No determinable finding: unverifiable, adjusted = claim.
        (75.0, [], "unverifiable", "", None, 75.0),
        (75.0, [f("unknown")], "unverifiable", "", None, 75.0),
        # Two strong findings, both found: evidence 100, coverage 1 -> adjusted 0.5*75 + 0.5*100.
        (
            75.0,
            [f("found"), f("found", detector="github.required-reviews")],
            "agrees",
            "",
            100.0,
            87.5,
        ),
        # Claim 100 vs evidence 0 (one strong absent, coverage 0.5): overclaim.
        # adjusted = 0.75*100 + 0.25*0 = 75.
        (100.0, [f("absent")], "contradicts", "overclaim", 0.0, 75.0),
        # Claim 0 vs evidence 100: underclaim.
        (0.0, [f("found")], "contradicts", "underclaim", 100.0, 25.0),
        # Strength-weighted: found 3 + absent 1 -> 75; claim 50 is within 25 -> agrees.
        # coverage 4/6 -> weight 1/3 -> adjusted 50*2/3 + 75/3 = 58.333.
        (50.0, [f("found", 3), f("absent", 1, "repo.pr-template")], "agrees", "", 75.0, 58.3333),
    ],
)
def test_reconcile(
    claim: float,
    findings: list[EvidenceFinding],
    verdict: str,
    direction: str,
    evidence: float | None,
    adjusted: float,
) -> None:
    result = reconcile(claim, findings)
    assert (result.verdict, result.direction) == (verdict, direction)
    assert result.evidence_score == (pytest.approx(evidence) if evidence is not None else None)
    assert result.adjusted_score == pytest.approx(adjusted, abs=1e-4)


def test_unknown_never_counts_as_absent() -> None:
    result = reconcile(100.0, [f("found"), f("unknown", detector="github.branch-protection")])
    assert (result.evidence_score, result.found, result.absent, result.unknown) == (100.0, 1, 0, 1)


def test_invalid_findings_are_refused() -> None:
    with pytest.raises(ScoringInputError, match="unknown capability"):
        validate_findings([EvidenceFinding("x", "nope", "found", 2, "t")], {"rev.policy-ownership"})
    with pytest.raises(ScoringInputError, match="strength"):
        validate_findings(
            [EvidenceFinding("x", "rev.policy-ownership", "found", 5, "t")],
            {"rev.policy-ownership"},
        )
