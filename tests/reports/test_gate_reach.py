"""The results page and the report say where each autonomy gate holds: the organisation as a
whole, each scanned repository on its own scan, each catalogued process on its own risk; the
pilot backlog names the gate requirements that block a pilot."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from assessments import services
from assessments.models import Assessment
from assessments.processes.models import Process
from assessments.scans.models import ScanFinding, ScanRun, ScanSource
from reports.reach import gate_reach
from reports.rendering import render_html, report_context
from reports.services import result_compute
from scoring.autonomy import get_gates
from scoring.rubric import AUDIENCES
from tests.factories import PASSWORD, invite, make_personas

pytestmark = pytest.mark.django_db

# A review wall with room to spare (utilisation 0.2 at the planned agent volume) and a year
# at the current step: only the scans decide which repositories hold the gates.
FACTS = {
    "fact.prs-per-week": "20",
    "fact.active-reviewers": "10",
    "fact.review-hours-per-pr": "0.5",
    "fact.reviewer-hours-per-week": "10",
    "fact.hours-to-first-review": "2",
    "fact.deploys-per-week": "20",
    "fact.ai-authored-share": "10",
    "fact.agent-prs-per-week-6m": "5",
    "fact.agent-prs-per-week-12m": "10",
    "fact.months-at-current-autonomy": "12",
}


def _everyone_answers_five(assessment: Assessment) -> None:
    # Three a role: the review wall reads a fact only when three or more people answered it.
    for role, n in ((role, n) for role in AUDIENCES for n in range(3)):
        respondent, _token = invite(assessment, role=role, name=f"{role} {n}")
        for question in services.questions_for(respondent):
            services.answer_save(
                respondent=respondent, question_id=question.id, value="5", comment="", seq=1
            )
        for fact in services.facts_for(respondent):
            services.answer_save(
                respondent=respondent,
                question_id=fact.id,
                value=FACTS.get(fact.id, "1"),
                comment="",
                seq=1,
            )
        services.respondent_submit(respondent=respondent)


def _scanned(assessment: Assessment, label: str, missing: frozenset[str] = frozenset()) -> None:
    """A repository scan that found every control the gates ask a scan to see, except
    `missing` (found absent)."""
    source = ScanSource.objects.create(assessment=assessment, kind="repo_path", label=label)
    run = ScanRun.objects.create(source=source, assessment=assessment, status="succeeded")
    wanted = {
        (r.subject, r.capability_id)
        for g in get_gates(assessment.rubric)
        for r in g.requires
        if r.kind == "evidence"
    }
    ScanFinding.objects.bulk_create(
        ScanFinding(
            run=run,
            detector=detector,
            capability=capability,
            status="absent" if detector in missing else "found",
            strength=1,
            title=detector,
        )
        for detector, capability in sorted(wanted)
    )
    source.current_run = run
    source.save(update_fields=["current_run"])


@pytest.fixture
def assessment() -> Assessment:
    p = make_personas()
    a = p.assessment_a
    assert a.rubric.version == 2
    _everyone_answers_five(a)
    _scanned(a, "payments-api")
    _scanned(a, "legacy-portal", frozenset({"github.branch-protection"}))
    Process.objects.create(
        organisation=p.org_a,
        name="Dependency upgrades",
        verification="automated",
        reversibility="reversible",
        blast_radius=1,
        doc_url="https://wiki.example.com/upgrades",
    )
    Process.objects.create(
        organisation=p.org_a,
        name="Supplier payments",
        verification="checklist",
        reversibility="irreversible",
        blast_radius=4,
        doc_url="https://wiki.example.com/payments",
    )
    return a


def test_a_gate_holds_for_the_protected_repository_and_not_the_other(
    assessment: Assessment,
) -> None:
    result = result_compute(assessment=assessment).data
    # One repository without branch protection: organisation-wide, agents may only suggest.
    assert result["autonomy"]["granted"]["id"] == "suggest-only"
    reach = gate_reach(assessment, result)
    assert reach is not None
    by_id = {g["id"]: g for g in reach["gates"]}
    reviewed = by_id["pull-requests-with-review"]
    assert not reviewed["organisation"]
    assert reviewed["repositories"] == ["payments-api"]
    assert by_id["unattended-processes"]["repositories"] == ["payments-api"]
    legacy = next(s for s in reach["scopes"] if s["name"] == "legacy-portal")
    assert legacy["gate"] == "Suggest only"
    assert "\u201cThe default branch is protected\u201d (absent)" in legacy["missing"][0]
    # Processes need the organisation to hold a gate first.
    assert reviewed["processes"] == []


def test_the_results_page_and_the_report_say_where_each_gate_holds(
    assessment: Assessment,
) -> None:
    client = Client()
    client.login(username="alice", password=PASSWORD)
    page = client.get(reverse("reports:results", args=[assessment.pk])).content.decode()
    row = page.split('id="reach-pull-requests-with-review"')[1].split("</tr>")[0]
    assert "payments-api" in row and "legacy-portal" not in row
    assert "not yet" in row
    assert "legacy-portal" in page.split('class="data-table gate-reach-scopes"')[1]
    # The pilot backlog names the gate requirement that blocks the pilots, not only levels.
    blocked = page.split("Blocked on:</strong>")[1].split("</p>")[0]
    assert "a scan finds \u201cThe default branch is protected\u201d (absent)" in blocked
    result = result_compute(assessment=assessment).data
    for for_pdf in (False, True):
        context = report_context(assessment=assessment, result=result, for_pdf=for_pdf)
        html = render_html(context, standalone=for_pdf)
        section = html.split('id="autonomy"')[1]
        row = section.split('id="reach-pull-requests-with-review"')[1].split("</tr>")[0]
        assert "payments-api" in row and "legacy-portal" not in row
