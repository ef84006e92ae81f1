"""The results page: the numbers the engine computed, for owners and facilitators only,
recomputed when inputs change and served from the cache otherwise."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from assessments import services
from assessments.demo import DEMO_ASSESSMENT_ID, seed_demo
from assessments.models import Assessment, Membership
from reports.models import ResultSnapshot
from reports.services import result_compute
from tests.factories import Personas, invite, make_user

pytestmark = pytest.mark.django_db


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def demo() -> Assessment:
    seed_demo()
    return Assessment.objects.get(pk=DEMO_ASSESSMENT_ID)


def _owner(assessment: Assessment) -> Any:
    return Membership.objects.get(organisation=assessment.organisation, role="owner").user


def test_owner_sees_the_engines_numbers(demo: Assessment) -> None:
    response = login(_owner(demo)).get(reverse("reports:results", args=[demo.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    data = result_compute(assessment=demo).data
    assert f"{data['readiness']['score']:.0f}" in html
    limiting = next(
        d for d in data["dimensions"] if d["id"] == data["readiness"]["limiting_dimension_id"]
    )
    # The demo's weakest dimension is within one level of the mean: it does not limit readiness.
    assert data["readiness"]["held_back_by"] == 0
    assert f"Weakest dimension: {escape(limiting['title'])}" in html
    assert "Limiting dimension" not in html
    assert escape(data["autonomy"]["granted"]["title"]) in html
    for item in data["roadmap"][:5]:
        assert escape(item["title"]) in html
    # Charts travel as JSON for static JavaScript: no inline code.
    for chart in ("radar-figure", "heatmap-figure", "review-figure"):
        match = re.search(
            rf'<script id="{chart}" type="application/json">(.*?)</script>', html, re.S
        )
        assert match, chart
        assert json.loads(match.group(1))["data"]
    assert "<script>" not in html


def test_members_cannot_see_results_and_outsiders_get_404(
    demo: Assessment, personas: Personas
) -> None:
    member = make_user("reader")
    Membership.objects.create(user=member, organisation=demo.organisation, role="member")
    response = login(member).get(reverse("reports:results", args=[demo.pk]))
    assert response.status_code == 403
    assert b"owners and facilitators" in response.content
    assert (
        login(personas.charlie).get(reverse("reports:results", args=[demo.pk])).status_code == 404
    )


def test_results_are_cached_until_an_input_changes(demo: Assessment) -> None:
    client = login(_owner(demo))
    url = reverse("reports:results", args=[demo.pk])
    client.get(url)
    first = ResultSnapshot.objects.get(assessment=demo)
    client.get(url)
    assert ResultSnapshot.objects.get(assessment=demo).pk == first.pk
    # A new submission changes the inputs: a new result replaces the old one.
    demo.reopen()
    respondent, _token = invite(demo, role="engineering")
    question = demo.rubric.questions_for("engineering")[0]
    services.answer_save(
        respondent=respondent, question_id=question.id, value="5", comment="", seq=1
    )
    client.get(url)
    assert ResultSnapshot.objects.get(assessment=demo).pk == first.pk, (
        "an unsubmitted answer does not count"
    )
    services.respondent_submit(respondent=respondent)
    client.get(url)
    latest = ResultSnapshot.objects.get(assessment=demo)
    assert latest.pk != first.pk
    assert latest.data["respondents"] == first.data["respondents"] + 1


def _settings(assessment: Assessment) -> dict[str, Any]:
    rubric = assessment.rubric
    data: dict[str, Any] = {f"target_{d.id}": d.target_level for d in rubric.dimensions}
    data |= {f"weight_{d.id}": d.weight for d in rubric.dimensions}
    data |= {f"weight_{c.id}": c.weight for c in rubric.capabilities}
    return data


def test_targets_and_weights_change_the_result(demo: Assessment) -> None:
    client = login(_owner(demo))
    data = _settings(demo)
    data["target_review"] = 5
    data["weight_rev.learning-loop"] = 3
    response = client.post(reverse("reports:results_settings", args=[demo.pk]), data)
    assert response.status_code == 302
    demo.refresh_from_db()
    assert demo.targets == {"review": 5}
    assert demo.weights == {"rev.learning-loop": 3}
    result = result_compute(assessment=demo).data
    assert next(d for d in result["dimensions"] if d["id"] == "review")["target_level"] == 5
    assert next(c for c in result["capabilities"] if c["id"] == "rev.learning-loop")["weight"] == 3


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("target_review", "9"),
        ("weight_review", "-1"),
        ("weight_review", "lots"),
        ("weight_rev.learning-loop", "11"),
    ],
)
def test_bad_settings_are_refused_and_change_nothing(
    demo: Assessment, field: str, value: str
) -> None:
    client = login(_owner(demo))
    data = _settings(demo)
    data[field] = value
    response = client.post(reverse("reports:results_settings", args=[demo.pk]), data)
    assert response.status_code == 400
    demo.refresh_from_db()
    assert demo.targets == {} and demo.weights == {}


def test_all_weights_zero_is_refused(demo: Assessment) -> None:
    client = login(_owner(demo))
    data = _settings(demo) | {f"weight_{d.id}": 0 for d in demo.rubric.dimensions}
    response = client.post(reverse("reports:results_settings", args=[demo.pk]), data)
    assert response.status_code == 400
    assert b"needs a weight above 0" in response.content


def test_an_assessment_without_submissions_explains_itself(personas: Personas) -> None:
    response = login(personas.alice).get(
        reverse("reports:results", args=[personas.assessment_a.pk])
    )
    assert response.status_code == 200
    assert b"No submitted answers yet" in response.content


def test_answer_markup_never_reaches_the_page_raw(personas: Personas) -> None:
    assessment = personas.assessment_a
    assessment.title = '<img src=x onerror=alert(1)>"Q3"'
    assessment.save()
    respondent, _ = invite(assessment, role="engineering")
    question = assessment.rubric.questions_for("engineering")[0]
    services.answer_save(
        respondent=respondent,
        question_id=question.id,
        value="3",
        comment="<script>alert(2)</script>",
        seq=1,
    )
    services.respondent_submit(respondent=respondent)
    html = (
        login(personas.alice).get(reverse("reports:results", args=[assessment.pk])).content.decode()
    )
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
