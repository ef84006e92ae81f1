from __future__ import annotations

import pytest

from scoring.errors import ScoringInputError
from scoring.evidence import (
    EvidenceFinding,
    contradiction_entry,
    reconcile,
    validate_findings,
)


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
    result = reconcile(claim_score=claim, findings=findings)
    assert (result.verdict, result.direction) == (verdict, direction)
    assert result.evidence_score == (pytest.approx(evidence) if evidence is not None else None)
    assert result.adjusted_score == pytest.approx(adjusted, abs=1e-4)


def test_unknown_never_counts_as_absent() -> None:
    result = reconcile(
        claim_score=100.0, findings=[f("found"), f("unknown", detector="github.branch-protection")]
    )
    assert (result.evidence_score, result.found, result.absent, result.unknown) == (100.0, 1, 0, 1)


def test_invalid_findings_are_refused() -> None:
    with pytest.raises(ScoringInputError, match="unknown capability"):
        validate_findings(
            findings=[EvidenceFinding("x", "nope", "found", 2, "t")],
            capability_ids={"rev.policy-ownership"},
        )
    with pytest.raises(ScoringInputError, match="strength"):
        validate_findings(
            findings=[EvidenceFinding("x", "rev.policy-ownership", "found", 5, "t")],
            capability_ids={"rev.policy-ownership"},
        )


def test_the_verdict_does_not_depend_on_the_order_of_findings() -> None:
    findings = [f("found", 3), f("absent", 1, "repo.pr-template"), f("unknown", 2, "x")]
    assert reconcile(claim_score=50.0, findings=findings) == reconcile(
        claim_score=50.0, findings=findings[::-1]
    )


@pytest.mark.parametrize(
    ("claim", "findings", "direction", "detectors"),
    [
        # Overclaim: the absent findings contradict, strongest first.
        (
            100.0,
            [f("absent", 1, "repo.pr-template"), f("absent", 3), f("found", 1, "x")],
            "overclaim",
            ["repo.codeowners", "repo.pr-template"],
        ),
        # Underclaim: the found ones do.
        (
            0.0,
            [f("found", 2), f("absent", 1, "repo.pr-template")],
            "underclaim",
            ["repo.codeowners"],
        ),
    ],
)
def test_register_entries_list_the_contradicting_findings(
    claim: float, findings: list[EvidenceFinding], direction: str, detectors: list[str]
) -> None:
    verdict = reconcile(claim_score=claim, findings=findings)
    entry = contradiction_entry(
        capability_id="rev.policy-ownership", title="Review", claim_score=claim, verdict=verdict
    )
    assert entry is not None and entry.direction == direction
    assert [x.detector for x in entry.findings] == detectors
    assert entry.difference == pytest.approx(claim - (verdict.evidence_score or 0))


def test_agreeing_or_unverifiable_claims_have_no_register_entry() -> None:
    for findings in ([], [f("unknown")], [f("found")]):
        verdict = reconcile(claim_score=90.0, findings=findings)
        assert (
            contradiction_entry(capability_id="c", title="C", claim_score=90.0, verdict=verdict)
            is None
        )


def _in(source: str, scope: float, status: str = "absent") -> EvidenceFinding:
    return EvidenceFinding(
        "repo.api-specs",
        "rev.policy-ownership",
        status,
        3,
        "specs",
        (),
        source,
        scope,  # type: ignore[arg-type]
    )


def test_absence_in_a_tenth_of_the_organisation_neither_refutes_nor_outweighs_a_claim() -> None:
    verdict = reconcile(claim_score=100.0, findings=[_in("repo-1", 0.1)])
    assert verdict.verdict == "unverifiable"
    assert verdict.evidence_score == 0.0
    assert verdict.scope == pytest.approx(0.1)
    # Strength 3 alone: coverage 0.5, times the tenth: weight 0.025.
    assert verdict.adjusted_score == pytest.approx(97.5)


@pytest.mark.parametrize(("sources", "refutes"), [(4, False), (5, True), (10, True)])
def test_absence_refutes_a_claim_from_half_of_the_organisation(sources: int, refutes: bool) -> None:
    findings = [_in(f"repo-{n}", 0.1) for n in range(sources)]
    verdict = reconcile(claim_score=100.0, findings=findings)
    assert (verdict.verdict == "contradicts") is refutes


def test_a_practice_found_in_one_repository_still_counts_as_found() -> None:
    verdict = reconcile(claim_score=0.0, findings=[_in("repo-1", 0.1, "found")])
    assert (verdict.verdict, verdict.direction) == ("contradicts", "underclaim")


@pytest.mark.parametrize("scope", [0.0, 1.5, -0.1])
def test_a_scope_outside_zero_to_one_is_refused(scope: float) -> None:
    with pytest.raises(ScoringInputError, match="scope"):
        validate_findings(findings=[_in("x", scope)], capability_ids={"rev.policy-ownership"})
