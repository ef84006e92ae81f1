"""A leader scans a quiet repository in a real browser: a bad history window is refused with
the reason, the default window finds no activity, and the offered window ending at the last
commit is one click away and measures the team at work."""

from __future__ import annotations

import io
import os
import re
import tarfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from assessments.scans.models import ScanRun, ScanSource
from assessments.scans.services import run_execute
from tests.factories import PASSWORD, make_personas
from tests.scans.engine.gitbuild import RepoBuilder

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(__file__).resolve().parents[2] / "shots"


def _quiet_archive(tmp_path: Path) -> Path:
    noon = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    repo = RepoBuilder(tmp_path / "repo")
    repo.commit("Initial commit", files={"README.md": "# App\n"}, when=noon - timedelta(days=420))
    repo.commit("Add app", files={"app.py": "print(1)\n"}, when=noon - timedelta(days=400))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        archive.add(repo.path, arcname="repo")
    out = tmp_path / "quiet.tar.gz"
    out.write_bytes(buffer.getvalue())
    return out


def _finished(run: ScanRun) -> None:
    """Run the job as the worker does, then wait until it is done: a Celery worker started by an
    earlier test of this process may have claimed it first (then `run_execute` leaves it to
    that worker, which finishes it)."""
    run_execute(run_id=str(run.pk))
    deadline = time.monotonic() + 60
    while not ScanRun.objects.get(pk=run.pk).done:
        assert time.monotonic() < deadline, "the scan did not finish within 60 s"
        time.sleep(0.2)


def _shot(page: Page, name: str) -> None:
    if os.environ.get("SAVE_SHOTS"):
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / name), full_page=True)


def test_a_quiet_repository_is_rescanned_over_the_window_ending_at_its_last_commit(
    page: Page, live_server: Any, csp_violations: list[str], tmp_path: Path
) -> None:
    personas = make_personas()
    assessment = personas.assessment_a
    archive = _quiet_archive(tmp_path)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/assessments/{assessment.pk}/scans/")

    form = page.locator("#add-archive")
    form.get_by_label("File").set_input_files(str(archive))
    form.get_by_label("History from (optional)").fill("2025-03-10")
    form.get_by_label("History until (optional)").fill("2025-03-01")
    form.get_by_role("button", name="Upload and scan").click()
    expect(
        page.get_by_text("The end day 2025-03-01 is before the start day 2025-03-10")
    ).to_be_visible()
    _shot(page, "scan-window-refused.png")
    assert not ScanSource.objects.exists()

    # The refused window is shown back to be corrected; cleared, the default window applies.
    form = page.locator("#add-archive")
    expect(form.get_by_label("History from (optional)")).to_have_value("2025-03-10")
    form.get_by_label("File").set_input_files(str(archive))
    form.get_by_label("History from (optional)").fill("")
    form.get_by_label("History until (optional)").fill("")
    form.get_by_role("button", name="Upload and scan").click()
    expect(page).to_have_url(re.compile(r"/scans/runs/"))
    run = ScanRun.objects.get()
    _finished(run)  # what the worker does (a worker test covers that path)
    page.goto(f"{live_server.url}/assessments/{assessment.pk}/findings/")
    last = (datetime.now(UTC) - timedelta(days=400)).date().isoformat()
    windows = page.locator("#history-windows")
    expect(windows).to_contain_text(f"No activity in the window; last commit on {last}")
    _shot(page, "scan-window-quiet.png")

    windows.get_by_role("button", name="ending at the last commit").click()
    expect(page).to_have_url(re.compile(r"/scans/runs/"))
    rerun = ScanRun.objects.exclude(pk=run.pk).get()
    assert rerun.window_until is not None and rerun.window_until.isoformat() == last
    _finished(rerun)
    page.goto(f"{live_server.url}/assessments/{assessment.pk}/findings/")
    expect(page.locator("#history-windows")).not_to_contain_text("No activity in the window")
    _shot(page, "scan-window-measured.png")
    assert csp_violations == []
