"""The results page in a real browser: plotly.js from our static files draws every chart,
and the Content Security Policy blocks nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from assessments.demo import DEMO_ASSESSMENT_ID, DEMO_PASSWORD, DEMO_USERNAME, seed_demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_results_page_draws_its_charts_without_csp_violations(
    page: Page, live_server: Any, csp_violations: list[str], artifacts: Path
) -> None:
    seed_demo()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", DEMO_USERNAME)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/assessments/{DEMO_ASSESSMENT_ID}/results/")
    expect(page.get_by_role("heading", name="Results")).to_be_visible()
    for chart in ("radar-figure", "heatmap-figure", "review-figure"):
        element = page.locator(f'[data-figure="{chart}"]')
        expect(element.locator("svg.main-svg").first).to_be_attached(timeout=15_000)
    # The heatmap has a cell per capability; the radar a trace for current and target.
    assert page.locator('[data-figure="radar-figure"] .trace').count() >= 2
    page.screenshot(path=str(artifacts / "results.png"), full_page=True)
    assert csp_violations == []


@pytest.mark.worker
def test_pdf_download_after_the_progress_bar_completes(
    page: Page, live_server: Any, celery_worker: Any, csp_violations: list[str], artifacts: Path
) -> None:
    from pypdf import PdfReader

    seed_demo()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", DEMO_USERNAME)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/assessments/{DEMO_ASSESSMENT_ID}/report/")
    expect(page.get_by_role("heading", name="Executive summary")).to_be_visible()
    page.get_by_role("button", name="Make the PDF").click()
    expect(page.locator("#job-state progress, #job-state a")).to_be_visible(timeout=10_000)
    download_link = page.get_by_role("link", name="Download the PDF")
    expect(download_link).to_be_visible(timeout=180_000)
    with page.expect_download() as info:
        download_link.click()
    path = artifacts / "downloaded-report.pdf"
    info.value.save_as(path)
    assert path.read_bytes().startswith(b"%PDF")
    assert len(PdfReader(path).pages) > 10
    page.screenshot(path=str(artifacts / "report-page.png"), full_page=False)
    assert csp_violations == []
