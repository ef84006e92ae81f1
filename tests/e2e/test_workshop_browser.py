"""A live workshop in real browsers: the facilitator's console, the big screen on a
projector-sized window and two phones, each its own browser context."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from assessments import services as survey
from assessments.models import Membership
from assessments.workshops.models import Dissent, Participant, Vote, Workshop, WorkshopItem
from tests.factories import PASSWORD, add_member, invite, make_assessment, make_org, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
PROJECTOR = {"width": 1920, "height": 1080}
LAPTOP = {"width": 1440, "height": 900}


def _logged_in(browser: Browser, url: str, username: str, viewport: dict[str, int]) -> Page:
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.goto(f"{url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda u: "/login/" not in u)
    return page


def _phone(browser: Browser) -> tuple[BrowserContext, Page]:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    return context, context.new_page()


def _no_overflow(page: Page) -> None:
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the window"


def test_a_workshop_from_join_to_agreed_level_in_the_report(
    browser: Browser, live_server: Any, artifacts: Path
) -> None:
    org = make_org("Fjord Freight")
    fiona = make_user("fiona")
    add_member(fiona, org, Membership.Role.FACILITATOR)
    assessment = make_assessment(org, fiona, title="Q3 readiness")
    first_capability = assessment.rubric.capabilities[0]
    # Two finished survey answers, so the console has a survey median to show.
    for level in ("2", "3"):
        respondent, _token = invite(assessment, role="engineering")
        for q in first_capability.questions:
            if "engineering" in q.audience:
                survey.answer_save(
                    respondent=respondent, question_id=q.id, value=level, comment="", seq=1
                )
        survey.respondent_submit(respondent=respondent)

    console = _logged_in(browser, live_server.url, "fiona", LAPTOP)
    console.goto(f"{live_server.url}/assessments/{assessment.pk}/")
    console.get_by_role("link", name="Live workshop").click()
    console.get_by_role("button", name="Start a workshop").click()
    expect(console.get_by_role("heading", name="Waiting room")).to_be_visible()
    workshop = Workshop.objects.get(assessment=assessment)
    console_url = console.url
    screen = _logged_in(browser, live_server.url, "fiona", PROJECTOR)
    screen.goto(console_url + "screen/")
    expect(screen.locator(".big-code")).to_have_text(workshop.display_code)
    assert screen.locator(".lobby-qr svg").count() == 1
    screen.screenshot(path=str(artifacts / "workshop-screen-lobby.png"))

    # Phone 1 types a wrong code first, then the real one in lower case with a space.
    _ctx1, ana = _phone(browser)
    ana.goto(f"{live_server.url}/w/")
    ana.fill("#id_code", "XXXXXX")
    ana.get_by_role("button", name="Join").click()
    expect(ana.locator(".error-text")).to_contain_text("doesn't open a workshop")
    ana.fill("#id_code", f"{workshop.code[:3].lower()} {workshop.code[3:].lower()}")
    ana.get_by_role("button", name="Join").click()
    ana.get_by_text("Engineering").click()
    ana.fill("#id_display_name", "Ana")
    ana.screenshot(path=str(artifacts / "workshop-phone-join.png"))
    ana.get_by_role("button", name="Join").click()
    expect(ana.get_by_role("heading", name="You're in")).to_be_visible()
    _no_overflow(ana)
    expect(screen.locator(".joined strong")).to_have_text("1", timeout=5_000)

    # The facilitator opens the first capability; the phone follows by itself.
    console.get_by_role("button", name="Open the first capability").click()
    expect(ana.get_by_role("heading", name=first_capability.title)).to_be_visible(timeout=6_000)
    expect(console.locator(".console-main")).to_contain_text("median of 2 respondents")

    # Phone 2 joins late (by the QR code's address) and lands on the open capability.
    _ctx2, ben = _phone(browser)
    ben.goto(f"{live_server.url}/w/{workshop.code}/")
    ben.get_by_text("Leadership").click()
    ben.fill("#id_display_name", "Ben")
    ben.get_by_role("button", name="Join").click()
    expect(ben.get_by_role("heading", name=first_capability.title)).to_be_visible()

    # Blind vote: Ana changes her mind (the second tap replaces the first), Ben votes once.
    ana.locator("button.level-button[value='2']").click()
    expect(ana.locator(".vote-state")).to_contain_text("level 2")
    ana.locator("button.level-button[value='4']").click()
    expect(ana.locator(".vote-state")).to_contain_text("level 4")
    ben.locator("button.level-button[value='3']").click()
    expect(ben.locator(".vote-state")).to_contain_text("level 3")
    ana.screenshot(path=str(artifacts / "workshop-phone-vote.png"), full_page=True)
    _no_overflow(ana)
    assert Vote.objects.filter(item__workshop=workshop).count() == 2
    expect(screen.locator(".count-number")).to_contain_text("2 / 2", timeout=5_000)
    assert screen.locator(".bar-row").count() == 0, "the screen must show counts only"
    assert console.locator(".bar-row").count() == 0
    screen.screenshot(path=str(artifacts / "workshop-screen-voting.png"))

    # Reveal: the distribution appears; two roles of one voter each are not shown by role.
    console.get_by_role("button", name="Reveal the votes").click()
    expect(screen.locator(".bar-row")).to_have_count(6, timeout=5_000)
    expect(screen.locator(".small-group-note")).to_contain_text("not shown by role")
    expect(ana.locator(".participant-live")).to_contain_text("on the big screen", timeout=6_000)
    screen.screenshot(path=str(artifacts / "workshop-screen-reveal.png"))

    # One re-vote after the discussion; a vote for the closed first round is refused.
    console.get_by_role("button", name="Re-vote once").click()
    expect(ana.locator(".step")).to_contain_text("second vote", timeout=6_000)
    ana.locator("button.level-button[value='3']").click()
    expect(ana.locator(".vote-state")).to_contain_text("level 3")
    ben.reload()  # a reload continues where the participant was
    expect(ben.locator(".step")).to_contain_text("second vote")
    ben.locator("button.level-button[value='3']").click()
    expect(ben.locator(".vote-state")).to_contain_text("level 3")
    console.reload()
    console.get_by_role("button", name="Reveal the votes").click()
    expect(screen.locator(".first-line")).to_contain_text(
        "The first was 0 · 0 · 1 · 1", timeout=5_000
    )
    assert console.get_by_role("button", name="Re-vote once").count() == 0

    # Agreed level with rationale and dissent.
    console.locator("input[name=level][value='3']").check()
    console.fill("#rationale", "Pipelines deploy every service; two legacy ones are manual.")
    console.get_by_role("button", name="Record the agreed level").click()
    console.select_option("#d-role", "leadership")
    console.fill("#d-who", "Ben")
    console.fill("#d-reason", "Counts the legacy services too harshly.")
    console.get_by_role("button", name="Add dissent").click()
    expect(console.locator(".dissent-list")).to_contain_text("Counts the legacy")
    expect(screen.locator(".agreed-banner")).to_have_text("Agreed: level 3", timeout=5_000)
    expect(ana.locator(".participant-live")).to_contain_text("agreed level 3", timeout=6_000)
    console.screenshot(path=str(artifacts / "workshop-console.png"), full_page=True)
    screen.screenshot(path=str(artifacts / "workshop-screen-agreed.png"))
    item = WorkshopItem.objects.get(workshop=workshop, capability_id=first_capability.id)
    assert (item.state, item.agreed_level, item.round) == ("agreed", 3, 2)
    assert Dissent.objects.get(item=item).role == "leadership"

    # Pause, and resume (another day, as far as anyone can tell).
    console.get_by_role("button", name="Next capability →").click()
    console.get_by_role("button", name="Pause").click()
    expect(screen.locator(".screen-centre h1")).to_have_text("Paused", timeout=5_000)
    expect(ana.get_by_role("heading", name="Paused")).to_be_visible(timeout=6_000)
    console.get_by_role("button", name="Resume").click()
    second = assessment.rubric.capabilities[1]
    expect(ana.get_by_role("heading", name=second.title)).to_be_visible(timeout=6_000)
    ana.screenshot(path=str(artifacts / "workshop-phone-second.png"))
    console.get_by_role("button", name="Finish").click()
    expect(ana.get_by_role("heading", name="Thank you")).to_be_visible(timeout=6_000)
    assert Participant.objects.filter(workshop=workshop).count() == 2

    # The report names the workshop as the source of the agreed level.
    console.goto(f"{live_server.url}/assessments/{assessment.pk}/report/")
    section = console.locator("#workshop")
    expect(section).to_contain_text(first_capability.title)
    expect(section).to_contain_text("Pipelines deploy every service")
    expect(section).to_contain_text("Counts the legacy services too harshly.")
    expect(console.locator("#dimension-" + first_capability.dimension_id)).to_contain_text(
        "agreed in the workshop"
    )
    console.locator("#workshop").screenshot(path=str(artifacts / "workshop-report.png"))
    for page in (console, screen, ana, ben):
        page.context.close()  # stop the polling before the test database goes away
