"""A consultant's day in a real browser: the home across clients, forty invitations pasted
and e-mailed by a real Celery worker while the page shows the progress, the links copied, a
branded template saved and a new client started from it; each page also at phone width."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from assessments.models import Assessment, Mailout, Membership, Organisation
from tests.factories import PASSWORD, add_member, make_assessment, make_org, make_user

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

PEOPLE = "name,email,role\n" + "\n".join(
    f"Person {n},person{n}@example.com,{['engineering', 'leadership', 'operations', 'product'][n % 4]}"
    for n in range(40)
)


def _login(browser: Browser, url: str, width: int) -> Page:
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(f"{url}/login/")
    page.fill("#id_username", "fiona")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda u: "/login/" not in u)
    return page


def _fits(page: Page) -> None:
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the window"


def test_consultant_home_invitations_and_templates(
    browser: Browser, live_server: Any, artifacts: Path, settings: Any, celery_worker: Any
) -> None:
    settings.SITE_URL = live_server.url
    fiona = make_user("fiona")
    for name in ("Fjord Freight", "Harbour Bank"):
        org = make_org(name)
        add_member(fiona, org, Membership.Role.FACILITATOR)
        make_assessment(org, fiona, title=f"{name} baseline")
    page = _login(browser, live_server.url, 1280)
    expect(page.get_by_role("heading", name="Your clients")).to_be_visible()
    expect(page.locator(".client")).to_have_count(2)
    page.screenshot(path=str(artifacts / "consultant-home.png"), full_page=True)

    # Forty people pasted, e-mailed, and all links copied at once.
    page.locator(".client", has_text="Fjord Freight").get_by_role("link", name="Invite").click()
    page.fill("#id_people", PEOPLE)
    page.get_by_role("button", name="Create links").click()
    # The request only records them: the worker sends them, and the page follows by polling.
    expect(page.locator(".messages")).to_contain_text("Sending 40 invitations in the background")
    expect(page.locator("#mailouts")).to_contain_text("Sent 40 of 40 invitations", timeout=60_000)
    page.locator("#mailouts").screenshot(path=str(artifacts / "invitations-sent.png"))
    mailout = Mailout.objects.get(assessment__title="Fjord Freight baseline")
    assert (mailout.sent, mailout.failed) == (40, 0)
    assert mailout.items.filter(sent_at__isnull=False).count() == 40
    page.get_by_role("button", name="Copy all links").click()
    expect(page.get_by_role("button", name="Copied 40 links")).to_be_visible()
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied.count("/i/") == 40 and "Person 39 <person39@example.com>" in copied
    with page.expect_download() as info:
        page.get_by_role("link", name="Download as CSV").click()
    rows = Path(info.value.path()).read_text(encoding="utf-8-sig").strip().splitlines()
    assert len(rows) == 41
    page.screenshot(path=str(artifacts / "invitations-fresh-links.png"), full_page=False)

    # Save the set-up as a template, start a new client from it.
    page.fill("#template-name", "Logistics standard")
    page.locator("#setup input[value=leadership]").check()
    page.locator("#setup input[value=engineering]").check()
    page.fill("#template-cover", "Prepared for the executive team.")
    page.fill("#template-firm_name", "Northbridge Advisory")
    page.fill("#template-colour", "#aa3300")
    page.locator("#template-form").screenshot(path=str(artifacts / "template-form.png"))
    page.get_by_role("button", name="Save the template").click()
    expect(page.locator(".messages")).to_contain_text(
        "Saved the template “Logistics standard”, branded Northbridge Advisory"
    )
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="New client from a template").click()
    page.fill("#id_organisation", "Nordic Rail")
    page.screenshot(path=str(artifacts / "client-start.png"), full_page=True)
    page.get_by_role("button", name="Start the client").click()
    expect(page.get_by_role("heading", name="Readiness assessment")).to_be_visible()
    expect(page.locator("#setup")).to_contain_text("Logistics standard")
    page.get_by_role("link", name="Gap report, exports and sharing").click()
    expect(page.locator("body")).to_contain_text("Prepared by Northbridge Advisory")
    assert Assessment.objects.filter(
        organisation=Organisation.objects.get(name="Nordic Rail")
    ).exists()

    # The same pages at phone width.
    phone = _login(browser, live_server.url, 390)
    for path in ("/", f"/assessments/{Assessment.objects.get(title='Fjord Freight baseline').pk}/"):
        phone.goto(live_server.url + path)
        _fits(phone)
    phone.goto(live_server.url + "/")
    phone.screenshot(path=str(artifacts / "consultant-home-phone.png"), full_page=True)
    for p in (page, phone):
        p.context.close()
