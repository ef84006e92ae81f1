"""A leader enters a process in a real browser (steps added and reordered inline with htmx),
measures one from an event log, and sees the pilot backlog rank them on the results page."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from assessments import services
from assessments.processes import logs
from assessments.processes.models import EventLog, Process
from tests.factories import PASSWORD, invite, make_personas

LOG_PAGE = re.compile(r"/processes/logs/[0-9a-f-]{36}/$")


def _analyse(page: Page, org: Any) -> None:
    """Send the mapping, run the analysis as the worker does (a worker test covers that path;
    the tests' own worker may have run it already) and open the log's page afresh. The click
    navigates: the log exists, and the page may be opened again, only once it has arrived."""
    page.get_by_role("button", name="Analyse the log").click()
    expect(page).to_have_url(LOG_PAGE)
    page.wait_for_load_state("load")
    log = EventLog.objects.get(organisation=org)
    logs.log_execute(log_id=str(log.pk))
    page.goto(page.url)


pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LOG = """case,activity,time,who
A,Receive request,2024-05-06 09:00,ann
A,Check budget,2024-05-06 10:00,bob
A,Approve,2024-05-06 12:00,cat
B,Receive request,2024-05-07 09:00,ann
B,Check budget,2024-05-07 09:30,bob
B,Check budget,2024-05-07 11:30,dan
B,Approve,2024-05-08 09:00,cat
C,Receive request,2024-05-13 09:00,ann
C,Check budget,2024-05-13 09:20,bob
C,Approve,2024-05-13 10:00,cat
"""


def _answers(assessment: Any) -> None:
    for role in ("engineering", "operations", "leadership"):
        respondent, _ = invite(assessment, role=role)
        for question in assessment.rubric.questions_for(role):
            services.answer_save(
                respondent=respondent, question_id=question.id, value="3", comment="", seq=1
            )
        services.respondent_submit(respondent=respondent)


def test_enter_a_process_and_see_it_ranked(
    page: Page, live_server: Any, csp_violations: list[str], artifacts: Path, tmp_path: Path
) -> None:
    personas = make_personas()
    org, assessment = personas.org_a, personas.assessment_a
    _answers(assessment)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/orgs/{org.pk}/")
    page.get_by_role("link", name="Process catalogue").click()
    expect(page.get_by_role("heading", name="Process catalogue")).to_be_visible()
    page.get_by_role("link", name="Add a process").click()
    page.fill("#id_name", "Dependency updates")
    page.fill("#id_owner", "Platform team")
    page.fill("#id_trigger", "Renovate opens a pull request")
    page.fill("#id_outcome", "The update is merged")
    page.fill("#id_runs_per_week", "40")
    page.fill("#id_minutes_per_run", "20")
    page.fill("#id_error_rate", "2")
    page.select_option("#id_verification", "automated")
    page.select_option("#id_reversibility", "reversible")
    page.select_option("#id_blast_radius", "1")
    page.fill("#id_doc_url", "https://wiki.example.com/deps")
    page.get_by_role("button", name="Add and list its steps").click()
    expect(page.get_by_role("heading", name="Dependency updates")).to_be_visible()
    # Steps inline: each add swaps the steps block without reloading the page.
    page.evaluate("window.__marker = 'same page'")
    for name, system in (("Run the tests", "GitHub Actions"), ("Open the update", "GitHub")):
        page.fill("#id_name", name)
        page.fill("#id_system", system)
        page.select_option("#id_api", "yes")
        page.get_by_role("button", name="Add step").click()
        expect(page.locator(f"#steps-block input[value='{name}']")).to_be_visible()
    page.get_by_role("button", name="Move Open the update up").click()
    expect(page.locator("#steps-block li").first.locator("input[type=text]").first).to_have_value(
        "Open the update"
    )
    assert page.evaluate("window.__marker") == "same page"
    expect(page.get_by_role("heading", name="Agent suitability")).to_be_visible()
    page.screenshot(path=str(artifacts / "process-detail.png"), full_page=True)

    # A second process, measured from an event log.
    page.goto(f"{live_server.url}/orgs/{org.pk}/processes/")
    log_file = tmp_path / "purchase-requests.csv"
    log_file.write_text(LOG)
    page.set_input_files("#measure input[type=file]", str(log_file))
    page.get_by_role("button", name="Upload and choose columns").click()
    expect(page.get_by_role("heading", name="Which column holds what")).to_be_visible()
    expect(page.locator("#id_case")).to_have_value("case")
    page.select_option("#id_time_zone", "Europe/Oslo")
    page.screenshot(path=str(artifacts / "process-log-mapping.png"), full_page=True)
    _analyse(page, org)
    expect(page.get_by_role("heading", name="How cases flow: the top variants")).to_be_visible()
    expect(page.locator('[data-figure="flow-figure"] svg.main-svg').first).to_be_attached(
        timeout=15_000
    )
    page.screenshot(path=str(artifacts / "process-log-analysis.png"), full_page=True)
    page.get_by_role("button", name="Add to the catalogue").click()
    expect(page.get_by_text("Measured from event logs")).to_be_visible()
    measured = Process.objects.get(organisation=org, origin="log")
    assert measured.steps.count() == 3 and "runs_per_week" in measured.measured

    page.goto(f"{live_server.url}/orgs/{org.pk}/processes/")
    page.screenshot(path=str(artifacts / "process-catalogue.png"), full_page=True)
    page.goto(f"{live_server.url}/assessments/{assessment.pk}/results/")
    backlog = page.locator("#pilot-backlog")
    expect(backlog.get_by_role("heading", name="Pilot backlog")).to_be_visible()
    first = backlog.locator(".pilot-list > li").first
    expect(first).to_contain_text("Dependency updates")
    expect(first).to_contain_text("First step:")
    expect(backlog).to_contain_text("purchase-requests")
    backlog.screenshot(path=str(artifacts / "results-pilot-backlog.png"))
    assert csp_violations == []


def test_steps_can_be_added_without_javascript(
    browser: Any, live_server: Any, artifacts: Path
) -> None:
    personas = make_personas()
    process = Process.objects.create(organisation=personas.org_a, name="Access review")
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/orgs/{personas.org_a.pk}/processes/{process.pk}/")
    page.fill("#id_name", "Export the accounts")
    page.get_by_role("button", name="Add step").click()
    page.fill("#id_name", "Remove stale accounts")
    page.get_by_role("button", name="Add step").click()
    page.get_by_role("button", name="Move Remove stale accounts up").click()
    assert list(process.steps.values_list("name", flat=True)) == [
        "Remove stale accounts",
        "Export the accounts",
    ]
    context.close()


def test_a_respondent_lists_the_processes_they_run(
    page: Page, live_server: Any, csp_violations: list[str], artifacts: Path
) -> None:
    personas = make_personas()
    assessment = personas.assessment_a
    assessment.ask_processes = True
    assessment.save()
    Process.objects.create(organisation=personas.org_a, name="Invoice approval", owner="Finance")
    _respondent, token = invite(assessment, role="operations")
    page.goto(f"{live_server.url}/i/{token}/")
    page.get_by_role("link", name="List your processes").click()
    page.get_by_label("Invoice approval").check()
    page.fill("input[name$='-name']", "Customer refunds")
    page.locator("input[name='new-0-runs']").fill("25")
    page.screenshot(path=str(artifacts / "respondent-processes.png"), full_page=True)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("your processes are saved")).to_be_visible()
    expect(page.get_by_text("You named 2 processes")).to_be_visible()
    assert csp_violations == []


def test_an_xes_log_is_imported_through_the_same_mapping(
    page: Page, live_server: Any, csp_violations: list[str], artifacts: Path, tmp_path: Path
) -> None:
    from tests.processes.test_xes import XES

    personas = make_personas()
    org = personas.org_a
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/orgs/{org.pk}/processes/")
    measure = page.locator("#measure")
    expect(measure.get_by_text("Event log (CSV or XES)")).to_be_visible()
    log_file = tmp_path / "invoices.xes"
    log_file.write_text(XES)
    page.set_input_files("#measure input[type=file]", str(log_file))
    measure.screenshot(path=str(artifacts / "process-log-import-xes.png"))
    page.get_by_role("button", name="Upload and choose columns").click()
    expect(page.get_by_role("heading", name="Which column holds what")).to_be_visible()
    expect(page.get_by_test_id("xes-note")).to_be_visible()
    expect(page.locator("#id_case")).to_have_value("case:concept:name")
    expect(page.locator("#id_timestamp")).to_have_value("time:timestamp")
    page.screenshot(path=str(artifacts / "process-log-mapping-xes.png"), full_page=True)
    _analyse(page, org)
    expect(page.get_by_role("heading", name="How cases flow: the top variants")).to_be_visible()
    expect(page.get_by_text("11 events read")).to_be_visible()
    page.screenshot(path=str(artifacts / "process-log-analysis-xes.png"), full_page=True)
    assert csp_violations == []
