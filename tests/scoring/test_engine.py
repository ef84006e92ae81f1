"""score_assessment end to end: evidence, review, caching hash, the pure-package boundary."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scoring.engine import inputs_hash, score_assessment
from scoring.errors import ScoringInputError
from scoring.evidence import EvidenceFinding
from scoring.rubric import get_rubric
from tests.scoring.helpers import frame

RUBRIC = get_rubric("operationalization", 1)
NOW = datetime(2026, 11, 1, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]
BOT = "rev.policy-ownership.bot-bypass"


def _answers(level: int = 4) -> list[tuple[object, ...]]:
    rows = [(f"e{i}", "engineering", BOT, level) for i in range(3)]
    rows += [
        ("e0", "engineering", "fact.prs-per-week", 120),
        ("e1", "engineering", "fact.active-reviewers", 20),
    ]
    rows += [
        ("e0", "engineering", "fact.review-hours-per-pr", 0.5),
        ("e1", "engineering", "fact.reviewer-hours-per-week", 6),
    ]
    return rows


def test_scoring_imports_no_django() -> None:
    code = "import sys, scoring.engine; sys.exit(1 if any(m.split('.')[0] == 'django' for m in sys.modules) else 0)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_contradicting_evidence_is_registered_and_adjusts_the_score_beside_the_claim() -> None:
    evidence = [
        EvidenceFinding(
            "github.branch-protection",
            "rev.policy-ownership",
            "absent",
            3,
            "No branch protection on main",
            ("https://api.github.com/repos/acme/app/branches/main/protection",),
        ),
        EvidenceFinding(
            "repo.codeowners",
            "rev.policy-ownership",
            "absent",
            2,
            "No CODEOWNERS file",
            ("repo:CODEOWNERS",),
        ),
        EvidenceFinding(
            "github.ruleset-bypass-bots",
            "rev.policy-ownership",
            "unknown",
            3,
            "Could not read rulesets",
        ),
    ]
    result = score_assessment(rubric=RUBRIC, answers=frame(_answers(4)), evidence=evidence, now=NOW)
    cap = next(c for c in result.capabilities if c.id == "rev.policy-ownership")
    assert cap.score == 75.0  # the self-reported score is never changed by evidence
    assert (cap.evidence.verdict, cap.evidence.direction) == ("contradicts", "overclaim")
    assert cap.evidence.evidence_score == 0.0
    # coverage 5/6 -> evidence weight 5/12: 75 * 7/12 = 43.75
    assert cap.evidence.adjusted_score == pytest.approx(43.75)
    assert result.contradictions == ("rev.policy-ownership",)
    assert any(i.id == "rec.rev.enforce-human-review" and i.bucket == "now" for i in result.roadmap)
    others = [c for c in result.capabilities if c.id != "rev.policy-ownership"]
    assert all(c.evidence.verdict == "unverifiable" for c in others)


def test_without_evidence_everything_is_unverifiable_and_adjusted_equals_claimed() -> None:
    result = score_assessment(rubric=RUBRIC, answers=frame(_answers()), now=NOW)
    for c in result.capabilities:
        assert c.evidence.verdict == "unverifiable"
        assert c.evidence.adjusted_score == c.score


def test_review_projection_comes_from_fact_medians() -> None:
    result = score_assessment(rubric=RUBRIC, answers=frame(_answers()), now=NOW)
    projection = result.review.projection
    assert projection is not None
    assert projection.saturation_multiplier == pytest.approx(2.0)  # 20 x 6/0.5 = 240 vs 120
    assert result.review.source == "survey"


def test_review_needs_all_four_inputs_and_says_which_are_missing() -> None:
    rows = [r for r in _answers() if r[2] != "fact.active-reviewers"]
    review = score_assessment(rubric=RUBRIC, answers=frame(rows), now=NOW).review
    assert review.projection is None and review.missing == ("reviewers",)


def test_review_overrides_are_validated() -> None:
    with pytest.raises(ScoringInputError, match="reviewers must be a whole number"):
        score_assessment(
            rubric=RUBRIC, answers=frame(_answers()), review_overrides={"reviewers": 0}, now=NOW
        )
    with pytest.raises(ScoringInputError, match="unknown review input"):
        score_assessment(
            rubric=RUBRIC, answers=frame(_answers()), review_overrides={"coffee": 1}, now=NOW
        )


def test_inputs_hash_ignores_row_order_and_notices_a_changed_answer() -> None:
    answers = frame(_answers())
    first = inputs_hash(rubric=RUBRIC, answers=answers)
    assert first == inputs_hash(rubric=RUBRIC, answers=answers.iloc[::-1].reset_index(drop=True))
    changed = answers.copy()
    changed.loc[0, "level"] = 1
    assert inputs_hash(rubric=RUBRIC, answers=changed) != first
    assert inputs_hash(rubric=RUBRIC, answers=answers, targets={"review": 5}) != first
