from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from assessments.demo import DEMO_ASSESSMENT_ID, DEMO_PASSWORD, DEMO_USERNAME
from assessments.models import Answer, Assessment, Respondent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _debug(settings: Any) -> None:
    settings.DEBUG = True  # as `make run` has it; see the DEBUG=0 test below


def _answers() -> list[tuple[str, str, str, int | None, float | None]]:
    return list(
        Answer.objects.filter(respondent__assessment_id=DEMO_ASSESSMENT_ID)
        .order_by("respondent__name", "question_id")
        .values_list("respondent__name", "question_id", "choice", "level", "number")
    )


def test_seed_demo_loads_a_completed_assessment_and_prints_the_login() -> None:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    text = out.getvalue()
    assert f"Demo login: {DEMO_USERNAME} / {DEMO_PASSWORD}" in text
    assert f"Demo assessment id: {DEMO_ASSESSMENT_ID}" in text
    assessment = Assessment.objects.get(pk=DEMO_ASSESSMENT_ID)
    respondents = Respondent.objects.filter(assessment=assessment)
    assert respondents.count() == 12
    assert set(respondents.values_list("status", flat=True)) == {"submitted"}
    assert set(respondents.values_list("role", flat=True)) == {
        "leadership",
        "engineering",
        "operations",
        "product",
    }
    levels = Answer.objects.filter(respondent__assessment=assessment, choice="level")
    assert levels.count() > 12 * 15
    assert Answer.objects.filter(respondent__assessment=assessment, choice="number").exists()
    assert Answer.objects.filter(respondent__assessment=assessment, choice="dont_know").exists()
    client = Client()
    assert client.login(username=DEMO_USERNAME, password=DEMO_PASSWORD)
    page = client.get(f"/assessments/{DEMO_ASSESSMENT_ID}/")
    assert page.status_code == 200
    assert b"Maren Halvorsen" in page.content


def test_seed_demo_is_idempotent_and_reproducible() -> None:
    call_command("seed_demo", stdout=StringIO())
    first = _answers()
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "Found existing demo data" in out.getvalue()
    assert _answers() == first
    assert Respondent.objects.filter(assessment_id=DEMO_ASSESSMENT_ID).count() == 12
    call_command("seed_demo", "--reset", stdout=StringIO())
    assert _answers() == first


def test_seed_demo_refuses_to_run_without_debug_unless_asked(settings: Any) -> None:
    settings.DEBUG = False
    with pytest.raises(CommandError, match="runs only with DEBUG=1"):
        call_command("seed_demo", stdout=StringIO())
    assert not Assessment.objects.filter(pk=DEMO_ASSESSMENT_ID).exists()
    call_command("seed_demo", "--allow-without-debug", stdout=StringIO())
    assert Assessment.objects.filter(pk=DEMO_ASSESSMENT_ID).exists()


def test_seed_demo_never_takes_over_a_real_account_named_demo() -> None:
    real = get_user_model().objects.create_user(
        DEMO_USERNAME, "ceo@real-company.example", "her own password"
    )
    with pytest.raises(CommandError, match="already exists and is not opready's demo user"):
        call_command("seed_demo", stdout=StringIO())
    real.refresh_from_db()
    assert real.check_password("her own password")
    assert not real.check_password(DEMO_PASSWORD)


def test_the_demo_shows_evidence_agreements_contradictions_and_dora_metrics() -> None:
    from datetime import UTC, datetime

    from assessments.demo import seed_demo
    from assessments.scans.models import ScanFinding, ScanSource
    from reports.services import result_compute

    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    seed_demo(evidence=True, now=now)
    assessment = Assessment.objects.get(pk=DEMO_ASSESSMENT_ID)
    kinds = sorted(assessment.scan_sources.values_list("kind", flat=True))
    assert kinds == ["deployments", "incidents", "repo_path"]
    findings = ScanFinding.objects.filter(run__source__assessment=assessment)
    statuses = set(findings.values_list("status", flat=True))
    assert {"found", "absent"} <= statuses
    assert findings.filter(detector="delivery.recovery-time").exists()
    result = result_compute(assessment=assessment, now=now).data
    verdicts = {c["evidence"]["verdict"] for c in result["capabilities"]}
    assert {"agrees", "contradicts"} <= verdicts, verdicts
    delivery = result["delivery"]
    assert delivery["deployment_frequency"] == "Daily"
    assert delivery["lead_time_hours"] is not None
    assert delivery["change_failure_rate"] is not None and delivery["recovery_hours"] is not None
    assert delivery["rework_rate"] is not None
    assert delivery["excluded_deployments"] > 0  # the staging deployments
    # The findings page's time to restore is the results page's.
    restore = findings.filter(detector="delivery.recovery-time").first()
    assert restore is not None
    assert restore.detail.startswith(f"Median {delivery['recovery_hours']:.1f} h to restore")
    # The results page shows the measures, the production filter and the rework rate.
    client = Client()
    client.login(username=DEMO_USERNAME, password=DEMO_PASSWORD)
    page = client.get(f"/assessments/{DEMO_ASSESSMENT_ID}/results/").content.decode()
    assert "Delivery metrics (DORA)" in page and "Rework rate" in page
    assert "Counted: deployments to live, prd, prod, production (production)" in page
    assert "deployments to staging left out" in page
    # Reproducible: the same day builds the same repository.
    source = ScanSource.objects.get(assessment=assessment, kind="repo_path")
    assert source.current_run is not None
    assert source.current_run.facts["history"]["ai"]["co_authored"] > 0


def test_seed_demo_catalogues_processes_one_measured_and_ranks_a_pilot_backlog() -> None:
    from assessments.demo import DEMO_ORG_ID
    from assessments.processes import services as process_services
    from assessments.processes.models import EventLog, Process
    from reports.rendering import render_html, report_context
    from reports.services import result_compute

    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())  # idempotent: adds no processes or logs
    processes = Process.objects.filter(organisation_id=DEMO_ORG_ID)
    assert processes.count() == 6
    assert all(p.steps.exists() and p.team_id for p in processes)
    # One process is measured from a generated event log run through the real analysis.
    log = EventLog.objects.get(organisation_id=DEMO_ORG_ID)
    assert log.status == "succeeded" and log.analysis["cases"] == 180
    refunds = processes.get(name="Customer refunds")
    assert log.process_id == refunds.pk and log.applied_at is not None
    assert set(refunds.measured) == {"runs_per_week", "error_rate", "recording"}
    assert refunds.runs_per_week == log.analysis["cases_per_week"]
    assert 25 < refunds.runs_per_week < 40
    assert 10 < refunds.error_rate < 25  # cases waiting for photos are checked twice
    steps = list(refunds.steps.values_list("name", "system", "measured"))
    assert steps[0] == ("Refund requested", "Zendesk", True) and len(steps) == 5

    assessment = Assessment.objects.get(pk=DEMO_ASSESSMENT_ID)
    result = result_compute(assessment=assessment).data
    rows = process_services.backlog_rows(assessment, result)
    order = [r["process"] for r in rows]
    assert order[0] == "Dependency updates" and order[-1] == "Month-end freight accrual"
    assert len({r["gate"] for r in rows}) == 2  # some pilots only suggest, others change
    assert len({r["first_step"] for r in rows}) >= 4
    scores = [r["pilot_score"] for r in rows]
    assert scores == sorted(scores, reverse=True) and scores[0] > 5 * scores[-1]

    client = Client()
    assert client.login(username=DEMO_USERNAME, password=DEMO_PASSWORD)
    catalogue = client.get(
        reverse("processes:catalogue", kwargs={"org_id": DEMO_ORG_ID})
    ).content.decode()
    assert "Carrier invoice approval" in catalogue and "Incident triage" in catalogue
    html = render_html(
        report_context(assessment=assessment, result=result, for_pdf=False), standalone=True
    )
    section = html[html.index('id="process-observability"') :]
    assert "Halvorsen Logistics has catalogued 6 processes" in section
    assert "1 measured from event logs" in section
    assert "Customer refunds, measured" in section
    ranked = [section.index(f"{n}. {name}") for n, name in enumerate(order[:5], start=1)]
    assert ranked == sorted(ranked)
