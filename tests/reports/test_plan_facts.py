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
        f"{first['capability_title']} from {first['capability_level']:.1f} to level "
        f"{first['raises_to']}",
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


def test_work_for_a_level_already_reached_is_not_said_to_raise_it() -> None:
    """The demo's verification capability is at 3.0 and its recommendation is the work of
    level 3: "Raises ... to level 3" would contradict the level printed above it."""
    from assessments.demo import DEMO_ASSESSMENT_ID, seed_demo
    from assessments.models import Assessment
    from reports.presenters import capability_levels

    seed_demo()
    demo = Assessment.objects.get(pk=DEMO_ASSESSMENT_ID)
    result = result_compute(assessment=demo).data
    levels = capability_levels(result)
    html = render_html(
        report_context(assessment=demo, result=result, for_pdf=False), standalone=False
    )
    # The items the report spells out (the rest are listed by title in an appendix).
    items = [
        i for i in result["roadmap"] if i.get("raises_to") and f'id="plan-facts-{i["id"]}"' in html
    ]
    reached = [i for i in items if (levels[i["capability_id"]] or 0) >= i["raises_to"]]
    below = [i for i in items if (levels[i["capability_id"]] or 0) < i["raises_to"]]
    assert reached and below, "the demo should have items of both kinds"
    for item in reached:
        facts = " ".join(html.split(f'id="plan-facts-{item["id"]}"')[1].split("</dl>")[0].split())
        assert "<dt>Raises</dt>" not in facts, facts
        assert f"is at {levels[item['capability_id']]:.1f}; this work is part of level " in facts
    for item in below:
        facts = " ".join(html.split(f'id="plan-facts-{item["id"]}"')[1].split("</dl>")[0].split())
        assert "<dt>Raises</dt>" in facts
        assert f"from {levels[item['capability_id']]:.1f} to level {item['raises_to']}" in facts
