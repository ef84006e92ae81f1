"""The delivery section as a reader sees it: where the records and the survey's answer for the
same measure disagree by a factor of two or more, the report (delivery section and appendix)
and the results page say so; the rework rate's row has no description in its bucket column;
weeks are dated as the rest of the report dates things; and the lead-time line stays
readable beside one slow week (a log axis from a tenfold spread)."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from assessments.demo import DEMO_ASSESSMENT_ID, seed_demo
from assessments.models import Assessment, Membership
from reports import charts
from reports.numbers import num
from reports.presenters import delivery_disagreements
from reports.rendering import render_html, report_context
from reports.services import result_compute
from scoring.delivery import DeliveryData

DISAGREE = "Records and answers disagree."


def _records() -> DeliveryData:
    """Two deployments a week for twelve weeks, every fourth unplanned, each shipping one
    change made 6 hours before; the oldest change waited 300 hours (one slow week)."""
    now = timezone.now().replace(microsecond=0)
    deployments, changes = [], []
    for i in range(24):
        deployed = now - timedelta(days=1 + 3.5 * i)
        deployments.append(
            {
                "id": f"d{i}",
                "time": deployed,
                "status": "success",
                "shas": [f"s{i}"],
                "rework": "yes" if i % 4 == 0 else "no",
            }
        )
        changes.append({"sha": f"s{i}", "time": deployed - timedelta(hours=300 if i == 23 else 6)})
    return DeliveryData(
        pd.DataFrame(deployments), pd.DataFrame(changes), pd.DataFrame(columns=["id", "created"])
    )


@pytest.fixture
def demo(db: Any, monkeypatch: pytest.MonkeyPatch) -> Assessment:
    """The demo with delivery records: about two deployments a week, where its respondents
    answered about six times as many."""
    seed_demo()
    monkeypatch.setattr("reports.services.delivery_for", lambda assessment: _records())
    return Assessment.objects.get(pk=DEMO_ASSESSMENT_ID)


def _flat(page: str) -> str:
    """The page's text as a reader sees it: scripts (the charts' JSON) left out, every tag a
    space, entities as characters."""
    page = re.sub(r"<script[^>]*>.*?</script>", " ", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _between(text: str, start: str, end: str) -> str:
    begin = text.index(start)
    return text[begin : text.index(end, begin)]


def _result(per_week: float, answered: float | None, *, withheld: bool = False) -> dict[str, Any]:
    fact = {"median": answered, "low": answered, "high": answered, "n": 5, "withheld": withheld}
    return {
        "delivery": {"deployments_per_week": per_week},
        "facts": {"fact.deploys-per-week": fact},
    }


@pytest.mark.parametrize(
    ("per_week", "answered", "shown"),
    [
        (4.6, 9.2, True),  # exactly twice, as printed
        (4.6, 9.1, False),  # just below
        (4.6, 9.3, True),  # just above
        (9.2, 4.6, True),  # records twice the answers
        (4.6, 9.19, True),  # 9.19 prints as 9.2: compared as printed, so twice
        (4.64, 9.2, True),  # 4.64 prints as 4.6
    ],
)
def test_the_disagreement_is_stated_from_a_factor_of_two_as_printed(
    per_week: float, answered: float, shown: bool
) -> None:
    rows = delivery_disagreements(_result(per_week, answered))
    assert bool(rows) == shown
    if shown:
        text = rows[0]["text"]
        assert f"the records show {num(per_week, 1)} deployments a week" in text
        assert f"people answered {num(answered, 1)}" in text


def test_the_sentence_says_which_side_is_larger() -> None:
    (more_answered,) = delivery_disagreements(_result(4.6, 13.3))
    assert "the answers are 2.9 times the records" in more_answered["text"]
    (more_recorded,) = delivery_disagreements(_result(13.3, 4.6))
    assert "the records are 2.9 times the answers" in more_recorded["text"]
    (none_answered,) = delivery_disagreements(_result(4.6, 0.0))
    assert "one of them is zero" in none_answered["text"] and "inf" not in none_answered["text"]


def test_a_withheld_or_missing_answer_is_not_compared() -> None:
    assert delivery_disagreements(_result(4.6, 13.3, withheld=True)) == []
    assert delivery_disagreements(_result(4.6, None, withheld=True)) == []
    assert delivery_disagreements(_result(4.6, None)) == []
    assert delivery_disagreements({"facts": {}}) == []


def test_the_report_flags_the_demos_deployment_counts_and_dates_weeks_as_elsewhere(
    demo: Assessment,
) -> None:
    result = result_compute(assessment=demo).data
    context = report_context(assessment=demo, result=result, for_pdf=False)
    flat = _flat(render_html(context, standalone=False))
    delivery = _between(flat, "Delivery metrics Measure", "The incident export holds no incidents")
    records = num(result["delivery"]["deployments_per_week"], 1)
    answered = num(result["facts"]["fact.deploys-per-week"]["median"], 1)
    assert float(answered) >= 2 * float(records)
    stated = (
        f"{DISAGREE} Deployment frequency: the records show {records} deployments a week, "
        f"people answered {answered}"
    )
    assert stated in delivery
    appendix = _between(flat, "Numeric questions", "D. Scan sources")
    assert stated in appendix

    # The rework rate's row: the measure in the row header, no description as a bucket.
    assert "unplanned deployments" not in delivery.replace("deployments that were unplanned", "")
    assert re.search(r"Rework rate: deployments that were unplanned \d+% no DORA buckets", delivery)

    # Weeks as "6 Sep 2026", the report's date format, never ISO dates.
    assert not re.search(r"\d{4}-\d{2}-\d{2}", delivery)
    for week in result["delivery"]["weekly"]:
        assert f"{charts.day_text(week['week'])} {week['deployments']} " in delivery
    assert charts.day_text("2026-09-06") == "6 Sep 2026"


def test_the_results_page_flags_the_same_disagreement(demo: Assessment) -> None:
    owner = Membership.objects.get(organisation=demo.organisation, role="owner").user
    client = Client()
    client.force_login(owner)
    html = client.get(reverse("reports:results", args=[demo.pk])).content.decode()
    delivery = _between(
        _flat(html), "Delivery metrics (DORA)", "The incident export holds no incidents"
    )
    assert f"{DISAGREE} Deployment frequency: the records show" in delivery
    assert "no DORA buckets" in delivery


def _weeks(*hours: float | None) -> dict[str, Any]:
    weekly = [
        {"week": f"2026-09-{6 + 7 * i:02d}", "deployments": 3, "median_lead_time_hours": h}
        for i, h in enumerate(hours)
    ]
    return {"delivery": {"weekly": weekly}}


@pytest.mark.parametrize(
    ("hours", "log"),
    [
        ((6.0, 60.0, None), True),  # exactly ten times: log axis
        ((6.0, 59.9), False),  # just below: linear from zero
        ((6.0, 60.1, 7.0), True),  # just above
        ((6.1, 271.0, 6.6, 30.1), True),  # the demo's slow first week
    ],
)
def test_the_lead_time_axis_turns_logarithmic_from_a_tenfold_spread(
    hours: tuple[float | None, ...], log: bool
) -> None:
    figure = charts.delivery_weeks(_weeks(*hours))
    assert figure is not None
    axis = figure.layout.yaxis2
    assert (axis.type == "log") == log
    assert ("log scale" in axis.title.text) == log
    if log:
        # Labelled ticks cover every plotted value: the slow week does not flatten the rest.
        values = [h for h in hours if h]
        assert min(axis.tickvals) <= min(values) and max(axis.tickvals) >= max(values)
        assert list(axis.ticktext) == [num(t, 0) for t in axis.tickvals]
    else:
        assert axis.rangemode == "tozero"


def test_the_report_caption_names_the_log_scale(demo: Assessment) -> None:
    result = result_compute(assessment=demo).data
    assert charts.lead_log_scale(result["delivery"]["weekly"])
    context = report_context(assessment=demo, result=result, for_pdf=False)
    flat = _flat(render_html(context, standalone=False))
    assert "(line, on a log scale: the slowest week is at least ten times the fastest)" in flat


def test_the_log_axis_rule_is_the_one_the_methodology_gives() -> None:
    methodology = (Path(settings.BASE_DIR) / "docs" / "methodology.md").read_text()
    match = re.search(
        r"log axis when the slowest\s+week's median is at least (\d+) times", methodology
    )
    assert match, "docs/methodology.md no longer states when the lead-time axis is log"
    assert float(match.group(1)) == charts.LEAD_LOG_RATIO
