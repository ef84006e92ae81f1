"""A fixed version 1 assessment: answers, scan findings and the moment it was scored.

The stored result (`data/operationalization-1-result.json`) was produced by the engine before
rubric version 2 existed; tests/scoring/test_rubric_versions.py scores these inputs again and
compares, so a change to shared scoring code cannot move a version 1 result unnoticed.
Regenerate only on purpose: `python -m tests.scoring.v1_fixture`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scoring.engine import score_assessment
from scoring.evidence import EvidenceFinding
from scoring.result import Result
from scoring.rubric import get_rubric
from tests.scoring.helpers import frame

STORED = Path(__file__).resolve().parent / "data" / "operationalization-1-result.json"
NOW = datetime(2026, 11, 1, tzinfo=UTC)
ROLES = ("engineering", "leadership", "operations", "product")


def inputs() -> dict[str, Any]:
    rubric = get_rubric("operationalization", 1)
    rows: list[tuple[object, ...]] = []
    # Four respondents; levels vary by question position so capabilities differ.
    for r, role in enumerate(ROLES):
        for i, q in enumerate(rubric.questions):
            if role in q.audience:
                rows.append((f"p{r}", role, q.id, 1 + (i * 3 + r) % 5))
    for fid, value in (
        ("fact.prs-per-week", 120),
        ("fact.active-reviewers", 12),
        ("fact.review-hours-per-pr", 0.75),
        ("fact.reviewer-hours-per-week", 5),
        ("fact.agent-prs-per-week-6m", 60),
    ):
        rows.append(("p0", "engineering", fid, value))
    evidence = [
        EvidenceFinding("github.branch-protection", "rev.policy-ownership", "absent", 3, "No"),
        EvidenceFinding("repo.codeowners", "rev.policy-ownership", "absent", 2, "No"),
        EvidenceFinding("repo.test-suite", "dep.ci-small-batches", "found", 2, "Yes"),
    ]
    return {"rubric": rubric, "answers": frame(rows), "evidence": evidence, "now": NOW}


def score() -> Result:
    return score_assessment(**inputs())


if __name__ == "__main__":
    STORED.write_text(json.dumps(score().to_dict(), indent=1, sort_keys=True) + "\n")
