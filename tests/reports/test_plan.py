"""The plan: a short list per horizon ordered by what unblocks most, edited by the leader or
consultant (accept, defer, reject, owner, quarter, note) with history, shown in the report,
the PDF and the exports; refused and stale edits change nothing."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from assessments.demo import DEMO_ASSESSMENT_ID, seed_demo
from assessments.models import Assessment, Membership
from reports.models import PlanChange, PlanDecision
from reports.plan import HORIZON_LIMIT, compose, unblocks
from reports.rendering import render_hash
from reports.services import result_compute


def item(rid: str, bucket: str, position: int, prerequisites: tuple[str, ...] = ()) -> dict:
    return {
        "id": rid,
        "title": f"Do {rid}",
        "bucket": bucket,
        "position": position,
        "prerequisites": list(prerequisites),
        "capability_id": "c",
        "impact": 2,
        "effort": 2,
        "why": "",
        "reasons": [],
        "steps": [],
    }


def later(n: int) -> list[dict]:
    return [item(f"l{k}", "later", k) for k in range(1, n + 1)]


# --- The short list (pure) ---------------------------------------------------------------------


def test_a_horizon_shows_at_most_the_limit_and_the_rest_goes_to_the_appendix() -> None:
    plan = compose(later(10), {})
    shown = plan["horizons"][2]["items"]
    assert len(shown) == HORIZON_LIMIT <= 7
    assert plan["horizons"][2]["more"] == 10 - HORIZON_LIMIT
    assert [i["id"] for i in plan["appendix"]] == [f"l{k}" for k in range(7, 11)]
    # Numbered as the plan reads: the short lists, then the appendix.
    numbers = [i["number"] for i in shown + plan["appendix"]]
    assert numbers == list(range(1, 11))


def test_what_unblocks_most_comes_first_and_prerequisites_stay_before_dependents() -> None:
    roadmap = [
        item("a", "later", 1),
        item("b", "later", 2),
        item("c", "later", 3, ("b",)),
        item("d", "later", 4, ("c",)),
        item("e", "later", 5, ("b",)),
    ]
    assert unblocks(roadmap) == {"a": 0, "b": 3, "c": 1, "d": 0, "e": 0}
    order = [i["id"] for i in compose(roadmap, {})["horizons"][2]["items"]]
    assert order == ["b", "c", "a", "d", "e"]


def test_an_accepted_item_is_never_left_in_the_appendix() -> None:
    plan = compose(later(10), {"l9": {"status": "accepted", "version": 1}})
    shown = [i["id"] for i in plan["horizons"][2]["items"]]
    assert "l9" in shown and len(shown) == HORIZON_LIMIT
    assert "l6" in [i["id"] for i in plan["appendix"]]


def test_a_rejected_item_leaves_the_plan_and_what_needs_it_says_so() -> None:
    roadmap = [item("a", "now", 1), item("b", "now", 2, ("a",))]
    plan = compose(roadmap, {"a": {"status": "rejected", "note": "not for us", "version": 1}})
    assert [i["id"] for i in plan["horizons"][0]["items"]] == ["b"]
    assert [i["id"] for i in plan["rejected"]] == ["a"]
    assert "number" not in plan["rejected"][0]
    b = plan["horizons"][0]["items"][0]
    assert b["needs_rejected"] == ["Do a"] and b["prerequisite_titles"] == []
    assert plan["planned"] == 1 and plan["count"] == 2


def test_deferred_work_moves_to_later_after_the_rest_with_what_waits_on_it() -> None:
    roadmap = [item("a", "now", 1), item("x", "later", 2), item("y", "later", 3, ("a",))]
    plan = compose(roadmap, {"a": {"status": "deferred", "version": 1}})
    assert plan["horizons"][0]["items"] == []
    assert [i["id"] for i in plan["horizons"][2]["items"]] == ["x", "a", "y"]


# --- The editor --------------------------------------------------------------------------------


@pytest.fixture
def demo(db: Any) -> Assessment:
    seed_demo()
    return Assessment.objects.get(pk=DEMO_ASSESSMENT_ID)


def _client(assessment: Assessment, role: str = "owner") -> Client:
    user = Membership.objects.filter(organisation=assessment.organisation, role=role).first()
    client = Client()
    client.force_login(user.user)
    return client


def _edit(item_id: str, version: int = 0, **values: str) -> dict[str, Any]:
    return {
        "item": item_id,
        "version": str(version),
        "status": "proposed",
        "owner": "",
        "quarter": "",
        "note": "",
        **values,
    }


@pytest.mark.django_db
def test_an_edit_shows_in_the_report_the_pdf_hash_and_the_history(demo: Assessment) -> None:
    client = _client(demo)
    result = result_compute(assessment=demo).data
    first, second = result["roadmap"][0], result["roadmap"][1]
    before = render_hash(result, assessment=demo, paper="a4", branding=None, comparison=None)
    url = reverse("reports:plan", args=[demo.pk])
    saved = client.post(
        url,
        _edit(
            first["id"],
            status="accepted",
            owner="Dana Kim",
            quarter="2027 q1",
            note="Platform team starts in January.",
        ),
    )
    assert saved.status_code == 302
    client.post(url, _edit(second["id"], status="rejected", note="Covered elsewhere."))
    decision = PlanDecision.objects.get(assessment=demo, item_id=first["id"])
    assert (decision.status, decision.owner, decision.quarter) == (
        "accepted",
        "Dana Kim",
        "2027-Q1",
    )
    change = PlanChange.objects.filter(assessment=demo, item_id=first["id"]).get()
    assert change.changes["owner"] == ["", "Dana Kim"]
    assert change.changes["status"] == ["proposed", "accepted"]

    report = client.get(reverse("reports:report", args=[demo.pk])).content.decode()
    roadmap = report[report.index('id="roadmap"') : report.index('id="appendix"')]
    assert "Dana Kim" in roadmap and "2027-Q1" in roadmap and "Platform team starts" in roadmap
    rejected = roadmap[roadmap.index(">Rejected<") :]
    assert second["title"] in rejected and "Covered elsewhere." in rejected
    assert "Changes to the plan" in report
    page = client.get(url).content.decode()
    assert "History" in page and "Dana Kim" in page
    after = render_hash(result, assessment=demo, paper="a4", branding=None, comparison=None)
    assert after != before, "a stored PDF of the unedited plan must not be served"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"quarter": "next spring"}, "Write the quarter as a year and quarter: 2027-Q1."),
        ({"quarter": "2027-Q5"}, "Write the quarter as a year and quarter: 2027-Q1."),
        ({"status": "maybe"}, "Choose proposed, accepted, deferred or rejected."),
        ({"note": "x" * 1001}, "Note:"),
        ({"item": "rec.nothing-like-this"}, "not on this assessment"),
    ],
)
def test_refused_input_says_why_and_changes_nothing(
    demo: Assessment, values: dict[str, str], message: str
) -> None:
    client = _client(demo)
    item_id = result_compute(assessment=demo).data["roadmap"][0]["id"]
    data = _edit(item_id, **{"status": "accepted", "owner": "Someone", **values})
    response = client.post(reverse("reports:plan", args=[demo.pk]), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not PlanDecision.objects.filter(assessment=demo).exclude(version=0).exists()
    assert not PlanChange.objects.filter(assessment=demo).exists()
    # The same refusal through htmx: the editor comes back (2xx, so htmx swaps it) with it.
    partial = client.post(
        reverse("reports:plan", args=[demo.pk]), data, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert message in partial and "<html" not in partial


@pytest.mark.django_db
def test_a_stale_edit_is_refused_and_shows_the_other_editors_version(demo: Assessment) -> None:
    owner, consultant = _client(demo, "owner"), _client(demo, "facilitator")
    item_id = result_compute(assessment=demo).data["roadmap"][2]["id"]
    url = reverse("reports:plan", args=[demo.pk])
    # Both opened the page at version 0; the consultant saves first.
    consultant.post(url, _edit(item_id, status="deferred", owner="Consultant's pick"))
    stale = owner.post(url, _edit(item_id, status="rejected", note="owner's idea"))
    assert stale.status_code == 409
    body = stale.content.decode()
    assert "after you opened the page" in body and "Your change was not saved" in body
    assert "Consultant&#x27;s pick" in body  # the saved version is what the form now holds
    decision = PlanDecision.objects.get(assessment=demo, item_id=item_id)
    assert (decision.status, decision.version) == ("deferred", 1)
    assert PlanChange.objects.filter(assessment=demo).count() == 1
    # With the version the refusal showed, the owner's edit goes through.
    assert owner.post(url, _edit(item_id, 1, status="rejected")).status_code == 302


@pytest.mark.django_db
def test_a_read_only_member_cannot_edit_the_plan(demo: Assessment, personas: Any) -> None:
    member = Client()
    member.force_login(personas.bob)
    Membership.objects.create(user=personas.bob, organisation=demo.organisation, role="member")
    item_id = result_compute(assessment=demo).data["roadmap"][0]["id"]
    response = member.post(reverse("reports:plan", args=[demo.pk]), _edit(item_id))
    assert response.status_code == 403
    assert not PlanDecision.objects.exists()


@pytest.mark.django_db
def test_the_plan_csv_is_tracker_ready_and_injection_safe(demo: Assessment) -> None:
    client = _client(demo)
    roadmap = result_compute(assessment=demo).data["roadmap"]
    url = reverse("reports:plan", args=[demo.pk])
    client.post(url, _edit(roadmap[0]["id"], status="accepted", note='=HYPERLINK("http://x")'))
    client.post(url, _edit(roadmap[1]["id"], status="rejected", owner="@ops"))
    response = client.get(reverse("reports:export", args=[demo.pk, "plan.csv"]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == len(roadmap)
    assert [r["plan_number"] for r in rows if r["status"] != "rejected"] == [
        str(n) for n in range(1, len(roadmap))
    ]
    accepted = next(r for r in rows if r["id"] == roadmap[0]["id"])
    assert accepted["note"] == '\'=HYPERLINK("http://x")' and accepted["in_view"] == "yes"
    rejected = rows[-1]
    assert rejected["id"] == roadmap[1]["id"] and rejected["plan_number"] == ""
    assert rejected["owner"] == "'@ops"
    assert sum(r["in_view"] == "yes" for r in rows) <= 3 * HORIZON_LIMIT
    # The roadmap table and the JSON carry the decisions and the history too.
    roadmap_csv = client.get(reverse("reports:export", args=[demo.pk, "roadmap.csv"]))
    assert "'=HYPERLINK" in roadmap_csv.content.decode("utf-8-sig")
    document = json.loads(
        client.get(reverse("reports:export", args=[demo.pk, "result.json"])).content
    )
    assert document["plan"]["history"][0]["changes"]["owner"] == ["", "@ops"]
    assert document["plan"]["items"][0]["status"] in {"accepted", "proposed"}


# --- The executive summary ---------------------------------------------------------------------


@pytest.mark.django_db
def test_the_executive_summary_is_a_short_narrative(demo: Assessment) -> None:
    client = _client(demo)
    page = client.get(reverse("reports:report", args=[demo.pk])).content.decode()
    summary = page[page.index('id="summary"') : page.index('id="dimensions-overview"')]
    for lead in ("Where you stand.", "What is strong.", "What limits you.", "What to do first"):
        assert lead in summary
    assert "The three biggest gaps" not in summary and "The five actions" not in summary
    text = " ".join(part.split(">", 1)[-1] for part in summary.split("<") if ">" in part).split()
    assert len(text) < 400, f"{len(text)} words: not a two-minute read"
    # What to do first is the plan's first horizon, with a reason for each item.
    first_actions = summary[summary.index("What to do first") :]
    assert first_actions.count("<li") == 3


@pytest.mark.django_db
def test_the_results_page_shows_the_same_short_lists_as_the_report(demo: Assessment) -> None:
    client = _client(demo)
    roadmap = result_compute(assessment=demo).data["roadmap"]
    client.post(reverse("reports:plan", args=[demo.pk]), _edit(roadmap[0]["id"], status="rejected"))
    html = client.get(reverse("reports:results", args=[demo.pk])).content.decode()
    card = html[html.index('id="roadmap-title"') :]
    card = card[: card.index("</section>")]
    assert card.count("<details>") <= 3 * HORIZON_LIMIT < len(roadmap)
    assert "more in this horizon" in card
    assert f"Rejected: {escape(roadmap[0]['title'])}" in card
