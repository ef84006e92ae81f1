"""Every main page, the Django admin included, in headless Chromium: the Content Security
Policy blocks nothing (no console report, no securitypolicyviolation event). New pages of the
job, link and invitation work are screenshotted for review."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from playwright.sync_api import Page

from assessments import services
from assessments.demo import (
    DEMO_ASSESSMENT_ID,
    DEMO_ORG_ID,
    DEMO_PASSWORD,
    DEMO_USERNAME,
    seed_demo,
)
from assessments.models import Assessment, Organisation
from reports.models import ReportJob

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECORD_VIOLATIONS = """
document.addEventListener('securitypolicyviolation', (e) => {
  console.error('Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI);
});
"""


def _login(page: Page, base: str, username: str, password: str, path: str = "/login/") -> None:
    page.goto(base + path)
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("[type=submit]")


def test_no_page_violates_the_content_security_policy(
    page: Page, live_server: Any, csp_violations: list[str], artifacts: Path
) -> None:
    seed_demo()
    base = live_server.url
    page.add_init_script(RECORD_VIOLATIONS)
    a = DEMO_ASSESSMENT_ID
    demo = Assessment.objects.get(pk=a)
    job = ReportJob.objects.create(assessment=demo, render_hash="x" * 64)
    services.invitation_create_open(assessment=demo, max_respondents=50)
    _login(page, base, DEMO_USERNAME, DEMO_PASSWORD)
    pages = {
        "home": "/",
        "org": reverse("assessments:org_detail", args=[DEMO_ORG_ID]),
        "assessment": reverse("assessments:detail", args=[a]),
        "create": reverse("assessments:create", args=[DEMO_ORG_ID]),
        "results": reverse("reports:results", args=[a]),
        "report": reverse("reports:report", args=[a]),
        "scans": reverse("scans:sources", args=[a]),
        "findings": reverse("scans:findings", args=[a]),
        "branding": reverse("reports:branding"),
        "new org": reverse("assessments:org_create"),
        "readyz": "/readyz",
    }
    for name, path in pages.items():
        response = page.goto(base + path)
        assert response is not None and response.status < 500, name
        page.wait_for_load_state("networkidle")
    page.goto(base + reverse("reports:report_job", args=[a, job.pk]))
    # An invitation to the organisation, as its owner makes it, then accepted by a newcomer.
    page.goto(base + reverse("assessments:org_detail", args=[DEMO_ORG_ID]))
    page.fill("#id_email", "newcomer@example.com")
    page.select_option("#id_role", "member")
    page.get_by_role("button", name="Create an invitation").click()
    invite_url = page.input_value("#fresh-invite")
    page.screenshot(path=str(artifacts / "org-invitation.png"), full_page=True)
    page.goto(base + reverse("assessments:detail", args=[a]))
    page.screenshot(path=str(artifacts / "assessment-open-link-limits.png"), full_page=True)
    page.get_by_role("button", name="Log out").click()
    page.goto(invite_url)
    page.screenshot(path=str(artifacts / "member-accept.png"), full_page=True)
    # The admin, as a superuser.
    get_user_model().objects.create_superuser("root", "root@example.com", "a long admin passphrase")
    _login(page, base, "root", "a long admin passphrase", "/admin/login/")
    org = Organisation.objects.get(pk=DEMO_ORG_ID)
    for path in [
        "/admin/",
        "/admin/assessments/assessment/",
        f"/admin/assessments/organisation/{org.pk}/change/",
        "/admin/auth/user/",
        "/admin/axes/accessattempt/",
    ]:
        response = page.goto(base + path)
        assert response is not None and response.status < 400, path
        page.wait_for_load_state("networkidle")
    assert csp_violations == []
