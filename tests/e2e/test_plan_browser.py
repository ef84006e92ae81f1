"""A leader edits the plan in a real browser: inline saves with htmx, a refused quarter shown
beside its item with nothing saved, the same edit without JavaScript, and the report showing
the edited plan under a short executive summary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from assessments.demo import DEMO_ASSESSMENT_ID, DEMO_PASSWORD, DEMO_USERNAME, seed_demo
from reports.models import PlanDecision

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _login(page: Page, live_server: Any) -> None:
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", DEMO_USERNAME)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")


def test_edit_the_plan_inline_and_see_it_in_the_report(
    page: Page, live_server: Any, csp_violations: list[str], artifacts: Path
) -> None:
    seed_demo()
    _login(page, live_server)
    page.goto(f"{live_server.url}/assessments/{DEMO_ASSESSMENT_ID}/report/")
    page.get_by_role("link", name="Edit the plan").click()
    expect(page.get_by_role("heading", name="Plan", exact=True)).to_be_visible()
    first = page.locator("article.plan-item").first
    item_id = first.get_attribute("id")
    assert item_id
    first.get_by_label("Decision").select_option("accepted")
    first.get_by_label("Owner").fill("Dana Kim")
    first.get_by_label("Target quarter").fill("2027-Q1")
    first.get_by_label("Note").fill("Platform team starts in January.")
    first.get_by_role("button", name="Save").click()
    saved = page.locator(f'[id="{item_id}"]')
    expect(saved.get_by_role("status")).to_contain_text("Saved")
    expect(saved.locator(".badge")).to_have_text("Accepted")
    expect(page.locator("#plan-history")).to_be_visible()
    expect(page.locator(".plan-history")).to_contain_text("Dana Kim")

    # A quarter the server refuses: the message sits beside the item, the page stays, the
    # typed value stays for correction, and nothing is saved.
    second = page.locator("article.plan-item").nth(1)
    second_id = second.get_attribute("id")
    second.get_by_label("Owner").fill("Lee")
    second.get_by_label("Target quarter").fill("soon")
    second.get_by_role("button", name="Save").click()
    refused = page.locator(f'[id="{second_id}"]')
    expect(refused.get_by_role("alert")).to_contain_text("Write the quarter as a year and quarter")
    expect(refused.get_by_label("Target quarter")).to_have_value("soon")
    expect(page.get_by_role("heading", name="Plan", exact=True)).to_be_visible()
    assert (
        not PlanDecision.objects.filter(item_id=second_id.removeprefix("plan-"))
        .exclude(version=0)
        .exists()
    )
    page.locator(f'[id="{item_id}"]').scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts / "plan-editor.png"), full_page=False)
    page.screenshot(path=str(artifacts / "plan-editor-full.png"), full_page=True)

    page.goto(f"{live_server.url}/assessments/{DEMO_ASSESSMENT_ID}/report/")
    summary = page.locator("#summary")
    expect(summary).to_contain_text("Where you stand.")
    expect(summary).to_contain_text("What to do first, and why")
    summary.screenshot(path=str(artifacts / "executive-summary.png"))
    roadmap = page.locator("#roadmap")
    expect(roadmap).to_contain_text("Dana Kim")
    expect(roadmap).to_contain_text("Platform team starts in January.")
    expect(roadmap.locator(".plan-status").first).to_have_text("Accepted")
    assert csp_violations == []


def test_the_plan_editor_works_without_javascript(
    browser: Browser, live_server: Any, artifacts: Path
) -> None:
    seed_demo()
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    _login(page, live_server)
    page.goto(f"{live_server.url}/assessments/{DEMO_ASSESSMENT_ID}/plan/")
    first = page.locator("article.plan-item").first
    item_id = first.get_attribute("id")
    first.get_by_label("Decision").select_option("rejected")
    first.get_by_label("Note").fill("Covered by the security programme.")
    first.get_by_role("button", name="Save").click()
    expect(page.locator(".messages")).to_contain_text("Saved")
    rejected = page.locator("#plan-rejected").locator("..")
    expect(rejected).to_contain_text("Covered by the security programme.")
    assert PlanDecision.objects.get(item_id=item_id.removeprefix("plan-")).status == "rejected"
    context.close()
