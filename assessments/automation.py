"""Responses that look automated: bursts of people joining through an open link, identical
answer sheets, surveys finished faster than anyone can read them.

These are signals for the leader, not verdicts: the assessment page shows the warnings and
marks the responses, and the leader decides whether to exclude them from the results. The rules
are plain functions of plain rows (`find_automation`) so they are easy to test and to tune.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

# Thresholds. A team channel's people do not all join in the same minute; a script does.
BURST_SIZE = 8
BURST_WINDOW = timedelta(seconds=60)
# Identical answer sheets: at least this many responses, each with at least MIN_ANSWERS answers.
SAME_SHEET_GROUP = 3
MIN_ANSWERS = 5
# Nobody reads an anchored question and its five levels in under two seconds.
FAST_SECONDS_PER_ANSWER = 2.0
FAST_MIN_ANSWERS = 10


@dataclass(frozen=True)
class ResponseRow:
    id: str
    open_link: str | None  # the open link's id, None for personal links
    created_at: datetime
    started_at: datetime | None
    submitted_at: datetime | None
    answers: dict[str, str]  # question id -> value ("3", "dk", "na", a number)


@dataclass
class AutomationReport:
    warnings: list[str] = field(default_factory=list)
    flagged: dict[str, list[str]] = field(default_factory=dict)  # response id -> reasons

    def flag(self, response_id: str, reason: str) -> None:
        reasons = self.flagged.setdefault(response_id, [])
        if reason not in reasons:
            reasons.append(reason)


def find_automation(rows: list[ResponseRow]) -> AutomationReport:
    report = AutomationReport()
    _bursts(rows, report)
    _same_sheets(rows, report)
    _too_fast(rows, report)
    return report


def _bursts(rows: list[ResponseRow], report: AutomationReport) -> None:
    by_link: dict[str, list[ResponseRow]] = defaultdict(list)
    for row in rows:
        if row.open_link:
            by_link[row.open_link].append(row)
    for joined in by_link.values():
        joined.sort(key=lambda r: r.created_at)
        start = 0
        worst: list[ResponseRow] = []
        for end, row in enumerate(joined):
            while row.created_at - joined[start].created_at > BURST_WINDOW:
                start += 1
            if end - start + 1 > len(worst):
                worst = joined[start : end + 1]
        if len(worst) >= BURST_SIZE:
            report.warnings.append(
                f"{len(worst)} people joined through an open link within one minute "
                f"(from {worst[0].created_at:%d %b %H:%M} UTC)."
            )
            for row in worst:
                report.flag(row.id, "joined in a burst")


def _same_sheets(rows: list[ResponseRow], report: AutomationReport) -> None:
    groups: dict[tuple[tuple[str, str], ...], list[ResponseRow]] = defaultdict(list)
    for row in rows:
        if len(row.answers) >= MIN_ANSWERS:
            groups[tuple(sorted(row.answers.items()))].append(row)
    for sheet, same in groups.items():
        if len(same) >= SAME_SHEET_GROUP:
            report.warnings.append(
                f"{len(same)} responses gave exactly the same answers to all {len(sheet)} "
                "questions."
            )
            for row in same:
                report.flag(row.id, "same answers as others")


def _too_fast(rows: list[ResponseRow], report: AutomationReport) -> None:
    fast = []
    for row in rows:
        if row.started_at is None or row.submitted_at is None:
            continue
        if len(row.answers) < FAST_MIN_ANSWERS:
            continue
        seconds = (row.submitted_at - row.started_at).total_seconds()
        if seconds < FAST_SECONDS_PER_ANSWER * len(row.answers):
            fast.append(row)
            report.flag(row.id, f"{len(row.answers)} answers in {max(seconds, 0):.0f} s")
    if fast:
        report.warnings.append(
            f"{len(fast)} response{'s were' if len(fast) > 1 else ' was'} finished faster than "
            f"{FAST_SECONDS_PER_ANSWER:g} seconds per question."
        )


def automation_for(assessment: Any) -> AutomationReport:
    """The report for an assessment's respondents (Django adapter)."""
    from assessments.models import Answer, Invitation

    answers: dict[str, dict[str, str]] = defaultdict(dict)
    for answer in Answer.objects.filter(respondent__assessment=assessment).exclude(
        choice=Answer.Choice.NONE
    ):
        answers[str(answer.respondent_id)][answer.question_id] = answer.form_value
    rows = [
        ResponseRow(
            id=str(r.pk),
            open_link=str(r.invitation_id)
            if r.invitation is not None and r.invitation.kind == Invitation.Kind.OPEN
            else None,
            created_at=r.created_at,
            started_at=r.started_at,
            submitted_at=r.submitted_at,
            answers=answers.get(str(r.pk), {}),
        )
        for r in assessment.respondents.select_related("invitation")
    ]
    return find_automation(rows)
