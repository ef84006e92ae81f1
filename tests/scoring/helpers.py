"""Building answer frames and small rubrics for engine tests."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from scoring.rubric import Rubric, load_rubric_text

COLUMNS = ["respondent_id", "role", "question_id", "choice", "level", "number"]


def frame(rows: Iterable[tuple[Any, ...]]) -> pd.DataFrame:
    """Rows of (respondent, role, question, value) where value is 1-5, "dk", "na" or a float
    for fact questions (ids starting with "fact.")."""
    records = []
    for respondent, role, question, value in rows:
        if value == "dk":
            records.append((respondent, role, question, "dont_know", None, None))
        elif value == "na":
            records.append((respondent, role, question, "not_applicable", None, None))
        elif question.startswith("fact."):
            records.append((respondent, role, question, "number", None, float(value)))
        else:
            records.append((respondent, role, question, "level", int(value), None))
    return pd.DataFrame(records, columns=COLUMNS)


LEVELS = "{1: One., 2: Two., 3: Three., 4: Four., 5: Five.}"
ALL = "[leadership, engineering, operations, product]"


def tiny_rubric_text(
    dimensions: dict[str, dict[str, int]] | None = None,
    *,
    weights: dict[str, float] | None = None,
    targets: dict[str, int] | None = None,
) -> str:
    """A rubric with the given dimensions -> {capability: number of questions}; every question
    is seen by every role. Ids: dimension `a`, capability `a.x`, questions `a.x.q1`, ...
    Also the four review-wall facts."""
    dimensions = dimensions or {"a": {"a.x": 2, "a.y": 1}, "b": {"b.x": 1}}
    weights = weights or {}
    targets = targets or {}
    out = ["id: tiny", "version: 1", "title: Tiny", f"level_names: {LEVELS}", "dimensions:"]
    for did, caps in dimensions.items():
        out += [f"  - id: {did}", f"    title: Dim {did}"]
        if did in weights:
            out.append(f"    weight: {weights[did]}")
        if did in targets:
            out.append(f"    target_level: {targets[did]}")
        out.append("    capabilities:")
        for cid, n in caps.items():
            out += [f"      - id: {cid}", f"        title: Cap {cid}", f"        levels: {LEVELS}"]
            if cid in weights:
                out.append(f"        weight: {weights[cid]}")
            out.append("        questions:")
            for k in range(1, n + 1):
                out += [
                    f"          - id: {cid}.q{k}",
                    f"            text: Question {k} on {cid}?",
                    f"            audience: {ALL}",
                    f"            levels: {LEVELS}",
                ]
    out.append("facts:")
    for fid, low, high, integer in (
        ("fact.prs-per-week", 0, 20000, True),
        ("fact.active-reviewers", 1, 5000, True),
        ("fact.review-hours-per-pr", 0.05, 40, False),
        ("fact.reviewer-hours-per-week", 0.5, 40, False),
    ):
        out += [
            f"  - id: {fid}",
            f"    text: {fid}?",
            "    unit: things",
            f"    min: {low}",
            f"    max: {high}",
            f"    integer: {'true' if integer else 'false'}",
            f"    audience: {ALL}",
        ]
    return "\n".join(out) + "\n"


def tiny_rubric(
    dimensions: dict[str, dict[str, int]] | None = None,
    *,
    weights: dict[str, float] | None = None,
    targets: dict[str, int] | None = None,
) -> Rubric:
    return load_rubric_text(
        tiny_rubric_text(dimensions, weights=weights, targets=targets), source="tiny-1.yaml"
    )
