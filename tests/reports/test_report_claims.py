"""The report's sentences say what its numbers are: the weakest dimension is said to hold
readiness back only when the weakest-link cap lowers the score; disagreements between claims
and scan evidence are worded by their direction; a forecast is not called today's figure;
the review wall names the time basis of its waits and what grows how much."""

from __future__ import annotations

import copy
import html
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from assessments.demo import DEMO_ASSESSMENT_ID, seed_demo
from assessments.models import Assessment, Membership
from reports.numbers import num
from reports.presenters import hours_text
from reports.rendering import render_html, report_context
from reports.services import result_compute

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo() -> Assessment:
    seed_demo()
    return Assessment.objects.get(pk=DEMO_ASSESSMENT_ID)


def _text(page: str) -> str:
    """The page's words as a reader sees them, each cell and tag apart."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _report(assessment: Assessment, result: dict[str, Any]) -> str:
    context = report_context(assessment=assessment, result=result, for_pdf=False)
    return _text(render_html(context, standalone=True))


def _results_page(assessment: Assessment) -> str:
    owner = Membership.objects.get(organisation=assessment.organisation, role="owner").user
    client = Client()
    client.force_login(owner)
    return _text(client.get(reverse("reports:results", args=[assessment.pk])).content.decode())


def _between(text: str, start: str, end: str) -> str:
    return text[text.index(start) : text.index(end, text.index(start))]


def test_the_weakest_dimension_is_said_to_set_the_level_only_when_the_cap_lowers_it(
    demo: Assessment,
) -> None:
    result = result_compute(assessment=demo).data
    readiness = result["readiness"]
    limiting = next(
        d for d in result["dimensions"] if d["id"] == readiness["limiting_dimension_id"]
    )
    # The demo: the weakest dimension is within one level of the mean, so the cap does not bind.
    assert readiness["held_back_by"] == 0
    limits = _between(_report(demo, result), "What limits you.", "What to do first")
    assert f"{limiting['title']}, at level" in limits
    assert "is the weakest dimension, but it does not hold overall readiness back" in limits
    assert f"the dimensions average {num(readiness['weighted_mean'], 0)}/100" in limits
    assert "sets the overall level" not in limits and "only as strong as" not in limits
    assert "Weakest dimension: " in _results_page(demo)

    # The same assessment with a mean 10 points above the capped score: now it binds.
    capped = copy.deepcopy(result)
    capped["readiness"]["weighted_mean"] = readiness["score"] + 10
    capped["readiness"]["held_back_by"] = 10.0
    limits = _between(_report(demo, capped), "What limits you.", "What to do first")
    assert (
        f"{limiting['title']}, at level {num(limiting['exact_level'], 1)} against a target of "
        f"{limiting['target_level']}, holds overall readiness back by 10 points"
    ) in limits
    assert "is the weakest dimension" not in limits


def test_claims_and_evidence_are_worded_by_the_direction_they_disagree_in(
    demo: Assessment,
) -> None:
    result = result_compute(assessment=demo).data
    register = result["evidence_register"]
    # The demo's disagreements are all underclaims: the scans found more than people said.
    assert len(register) >= 2 and all(e["direction"] == "underclaim" for e in register)
    n = len(register)
    report = _report(demo, result)
    limits = _between(report, "What limits you.", "What to do first")
    assert f"For {n} capabilities the scans found more than the answers say" in limits
    assert "contradicts" not in limits and "claim more than the scans found" not in limits
    section = _between(report, "Where the answers and the scan evidence disagree", "review wall")
    assert f"{n} underclaims (the scans found more than the answers say)" in section
    assert "overclaim (" not in section and "overclaims (" not in section
    for text in (report, _results_page(demo)):
        assert "Claims the scan evidence does not support" not in text
        assert "underclaims (the scans found more than the answers say)" in text

    # One of them turned into an overclaim: each direction is counted apart.
    mixed = copy.deepcopy(result)
    entry = mixed["evidence_register"][0]
    entry["direction"] = "overclaim"
    entry["claim_score"], entry["evidence_score"] = entry["evidence_score"], entry["claim_score"]
    report = _report(demo, mixed)
    limits = _between(report, "What limits you.", "What to do first")
    assert "For 1 capability the answers claim more than the scans found" in limits
    rest = f"{n - 1} capabilit{'ies' if n - 1 != 1 else 'y'}"
    assert f"for {rest} the scans found more than the answers say" in limits
    assert (
        "1 overclaim (the answers claim more than the scans found) and "
        f"{n - 1} underclaim{'s' if n - 1 != 1 else ''} (the scans found more than the answers say)"
    ) in report


def test_the_review_gate_names_the_forecast_as_a_forecast(demo: Assessment) -> None:
    result = result_compute(assessment=demo).data
    projection = result["review"]["projection"]
    highest = max(s["utilisation"] for s in projection["planned"])
    today = projection["states"][0]["utilisation"]
    assert highest > today
    report = _report(demo, result)
    shown = (
        f"review utilisation at the planned agent volume at most 80% "
        f"({highest:.0%} at the planned volume; {today:.0%} today)"
    )
    assert shown in report
    assert f"(now {highest:.0%})" not in report


def test_the_review_wall_names_its_time_basis_and_what_grows(demo: Assessment) -> None:
    result = result_compute(assessment=demo).data
    projection = result["review"]["projection"]
    today = projection["states"][0]
    planned = list(zip(projection["planned_labels"], projection["planned"], strict=True))
    label, over = next((label, s) for label, s in planned if s["saturated"])
    report = _report(demo, result)
    # The table's expected wait is working time, and the sentence beside it names that figure
    # as well as the calendar one it compares with the observation.
    wall = _between(report, "Expected wait for a first review (log scale)", "Reviewers needed")
    assert "Expected wait (working time)" in wall
    assert "With the observed delay (calendar time)" in wall
    working = hours_text(today["wait_hours"])
    calendar = hours_text(today["wait_calendar_hours"])
    assert working != calendar
    prs_today = num(today["prs_per_week"], 0)
    assert re.search(rf"1× today {prs_today} \d+% \d+% {re.escape(working)} ", wall)
    assert (
        f"the model expects {calendar} in calendar time ({working} in working time, "
        "the table's expected wait"
    ) in wall
    # The summary's multiple is of review effort, with the pull requests as the table prints
    # them; pull-request volume grows less than that.
    limits = _between(report, "What limits you.", "What to do first")
    prs = num(over["prs_per_week"], 0)
    assert (
        f"review effort reaches {num(over['multiplier'], 1)}× today's {label} "
        f"({prs} pull requests a week)"
    ) in limits
    assert f"Planned {label} {prs} " in wall
    assert over["prs_per_week"] / today["prs_per_week"] < over["multiplier"]
    assert "volume reaches" not in limits
