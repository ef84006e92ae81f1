"""A respondent completes the survey in a real Chromium, with the keyboard only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from assessments.models import Answer, Respondent
from tests.factories import invite, make_assessment, make_org

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FOCUSED = """() => {
  const e = document.activeElement;
  return {tag: e.tagName, type: e.type || "", name: e.name || "", id: e.id || "",
          text: (e.innerText || "").trim().slice(0, 60)};
}"""


def _level_for(name: str) -> int:
    """A deterministic answer per question: 1..5 spread over the rubric."""
    return sum(map(ord, name)) % 5 + 1


def _answer_page_with_keyboard(page: Page, chosen: dict[str, str]) -> str:
    """Tab through the page, answer every radio group and number box, then press the
    page's primary button. Returns the button text."""
    for _ in range(800):
        page.keyboard.press("Tab")
        focus = page.evaluate(FOCUSED)
        if focus["type"] == "radio" and focus["name"] not in chosen:
            level = _level_for(focus["name"])
            page.keyboard.press("Space")  # checks the first option of the group: level 1
            for _step in range(level - 1):
                page.keyboard.press("ArrowDown")
            chosen[focus["name"]] = str(level)
        elif (
            focus["tag"] == "INPUT"
            and focus["type"] == "text"
            and focus["name"].startswith("q-fact.")
        ):
            page.keyboard.type("12")
            chosen[focus["name"]] = "12"
        elif focus["tag"] == "BUTTON" and focus["text"].startswith(
            ("Save and", "Submit my answers")
        ):
            text = focus["text"]
            with page.expect_navigation():
                page.keyboard.press("Enter")
            return text
    raise AssertionError("never reached the page's main button with the keyboard")


def test_respondent_completes_the_survey_with_the_keyboard_only(
    page: Page, live_server: Any, csp_violations: list[str], artifacts: Path
) -> None:
    assessment = make_assessment(make_org("Keyboard Co"))
    respondent, token = invite(assessment, role="engineering", name="Kay Board")
    page.goto(f"{live_server.url}/i/{token}/")
    assert token not in page.url

    # From the welcome page to the first section, by keyboard.
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate(FOCUSED)["text"].startswith("Start"):
            break
    with page.expect_navigation():
        page.keyboard.press("Enter")

    chosen: dict[str, str] = {}
    # The first answer autosaves through htmx before anything is submitted.
    first_name = page.locator("input[type=radio]").first.get_attribute("name")
    assert first_name
    for _ in range(50):
        page.keyboard.press("Tab")
        if page.evaluate(FOCUSED)["name"] == first_name:
            break
    page.keyboard.press("Space")
    chosen[first_name] = "1"
    qid = first_name.removeprefix("q-")
    expect(page.locator(f"#st-{qid.replace('.', '_')}")).to_contain_text("Saved", timeout=10_000)
    assert Answer.objects.get(respondent=respondent, question_id=qid).level == 1
    page.screenshot(path=str(artifacts / "survey-section.png"), full_page=False)

    pages = 0
    while True:
        button = _answer_page_with_keyboard(page, chosen)
        pages += 1
        if button.startswith("Submit"):
            break
        assert pages < 12, "too many pages"

    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    respondent.refresh_from_db()
    assert respondent.status == Respondent.Status.SUBMITTED
    stored = {f"q-{a.question_id}": a.form_value for a in respondent.answers.all()}
    expected_questions = {f"q-{q.id}" for q in assessment.rubric.questions_for("engineering")}
    assert expected_questions <= set(stored), "every question was answered by keyboard"
    for name, value in chosen.items():
        assert stored[name] == value, name
    assert csp_violations == []


def test_survey_fits_a_phone_screen(page: Page, live_server: Any, artifacts: Path) -> None:
    assessment = make_assessment(make_org("Phone Co"))
    _respondent, token = invite(assessment, role="leadership")
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(f"{live_server.url}/i/{token}/")
    page.get_by_role("link", name="Start").first.click()
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"page is {overflow}px wider than a phone screen"
    page.screenshot(path=str(artifacts / "survey-phone.png"), full_page=False)


def test_survey_works_without_javascript(browser: Any, live_server: Any) -> None:
    assessment = make_assessment(make_org("No JS Co"))
    respondent, token = invite(assessment, role="operations")
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/i/{token}/")
    page.get_by_role("link", name="Start").first.click()
    # Nothing saves as it changes here: the page says what does save answers.
    body = page.locator("main").inner_text()
    assert "save as you go" not in body.lower()
    assert "Answers are saved when you press “Save and continue”" in body
    first_group = page.locator("fieldset.question").first
    first_group.locator("label.option").nth(3).click()  # level 4
    page.get_by_role("button", name="Save and continue").click()
    qid = assessment.rubric.questions_for("operations")[0].id
    assert Answer.objects.get(respondent=respondent, question_id=qid).level == 4
    page.goto(f"{live_server.url}/r/{respondent.pk}/finish/")
    page.get_by_role("button", name="Submit my answers").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    respondent.refresh_from_db()
    assert respondent.is_submitted
    context.close()


def test_a_refused_answer_shows_the_reason_next_to_the_question(
    page: Page, live_server: Any
) -> None:
    assessment = make_assessment(make_org("Closed Co"))
    respondent, token = invite(assessment, role="engineering")
    page.goto(f"{live_server.url}/i/{token}/")
    page.get_by_role("link", name="Start").first.click()
    assessment.close()
    page.locator("fieldset.question").first.locator("label.option").nth(1).click()
    expect(page.locator(".save-state.failed").first).to_contain_text("closed", timeout=10_000)
    assert not Answer.objects.filter(respondent=respondent).exists()


def test_a_refused_number_under_make_run_settings_keeps_the_page(
    page: Page, live_server: Any, settings: Any
) -> None:
    """`make run` serves with DEBUG=1 (scripts/run-dev.sh), where django-htmx's debug handler
    once replaced the whole document with a refused autosave's response: a blank page saying
    "Enter a whole number.". The refusal belongs beside the field, the page stays."""
    settings.DEBUG = True  # what scripts/run-dev.sh exports
    assessment = make_assessment(make_org("Decimal Co"))
    respondent, token = invite(assessment, role="engineering")
    page.goto(f"{live_server.url}/i/{token}/")
    page.goto(f"{live_server.url}/r/{respondent.pk}/s/facts/")
    field = page.locator("#in-fact_prs-per-week")
    field.fill("12.5")
    field.blur()
    state = page.locator("#st-fact_prs-per-week")
    expect(state).to_contain_text("whole number", timeout=10_000)
    expect(page.get_by_role("heading", name="A few numbers")).to_be_visible()
    expect(page.locator("form[data-page-form] button[type=submit]")).to_be_visible()
    assert page.locator("fieldset.question").count() > 1, "the rest of the page is still there"
    expect(field).to_have_attribute("aria-invalid", "true")
    assert not Answer.objects.filter(respondent=respondent).exists()
    # A corrected value saves and clears the refusal.
    field.fill("12")
    field.blur()
    expect(state).to_contain_text("Saved", timeout=10_000)
    expect(field).not_to_have_attribute("aria-invalid", "true")
    assert Answer.objects.get(respondent=respondent, question_id="fact.prs-per-week").number == 12


def test_leaving_a_page_with_an_unsaved_answer_asks_first(page: Page, live_server: Any) -> None:
    assessment = make_assessment(make_org("Leaving Co"))
    respondent, token = invite(assessment, role="engineering")
    page.goto(f"{live_server.url}/i/{token}/")
    page.goto(f"{live_server.url}/r/{respondent.pk}/s/facts/")
    expect(page.locator("main")).to_contain_text("Answers save as you go.")
    dialogs: list[str] = []

    def stay(dialog: Any) -> None:
        dialogs.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", stay)
    field = page.locator("#in-fact_prs-per-week")
    field.fill("12.5")  # refused by the server, so still unsaved
    field.blur()
    expect(page.locator("#st-fact_prs-per-week")).to_contain_text("Not saved", timeout=10_000)
    page.locator(".actions a.button.secondary").click()
    page.wait_for_timeout(500)
    assert dialogs == ["beforeunload"]
    assert page.url.endswith("/s/facts/"), "dismissing the prompt keeps the page"
    field.fill("12")
    field.blur()
    expect(page.locator("#st-fact_prs-per-week")).to_contain_text("Saved", timeout=10_000)
    with page.expect_navigation():
        page.locator(".actions a.button.secondary").click()
    assert dialogs == ["beforeunload"], "a saved page leaves without asking"
