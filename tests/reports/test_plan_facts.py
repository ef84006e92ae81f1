"""The results page, the plan page and the report show each roadmap item's planning fields:
the first 30 days, when it is done, the owner role, the effort in person-weeks, the level it
raises and the gate it unlocks."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from assessments import services
from reports import plan as plans
from reports.exports import roadmap_table
from reports.rendering import render_html, report_context
from reports.services import result_compute
from tests.factories import PASSWORD, invite, make_personas

pytestmark = pytest.mark.django_db


def test_every_view_of_the_plan_shows_what_it_takes() -> None:
    p = make_personas()
    a = p.assessment_a
    for role in ("engineering", "leadership", "operations"):
        respondent, _token = invite(a, role=role, name=role)
        for question in services.questions_for(respondent):
            services.answer_save(
                respondent=respondent, question_id=question.id, value="1", comment="", seq=1
            )
        services.respondent_submit(respondent=respondent)
    result = result_compute(assessment=a).data
    first = plans.plan_for(a, result)["horizons"][0]["items"][0]
    assert first["done_when"] and first["first_30_days"] and first["unlocks_title"]
    expected = [
        escape(first["first_30_days"]),
        escape(first["done_when"]),
        escape(first["owner_role"]),
        f"{first['capability_title']} to level {first['raises_to']}",
        escape(first["unlocks_title"]),
        "person-week",
    ]
    client = Client()
    client.login(username="alice", password=PASSWORD)
    for url in (reverse("reports:results", args=[a.pk]), reverse("reports:plan", args=[a.pk])):
        page = client.get(url).content.decode()
        facts = page.split(f'id="plan-facts-{first["id"]}"')[1].split("</dl>")[0]
        for text in expected:
            assert text in facts, (url, text)
    html = render_html(report_context(assessment=a, result=result, for_pdf=False), standalone=False)
    facts = html.split(f'id="plan-facts-{first["id"]}"')[1].split("</dl>")[0]
    for text in expected:
        assert text in facts, text
    table = roadmap_table(result)
    row = table[table["id"] == first["id"]].iloc[0]
    assert row["done_when"] == first["done_when"] and row["owner_role"] == first["owner_role"]
