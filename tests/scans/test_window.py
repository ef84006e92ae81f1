"""The history window in the app: chosen on the scan forms, checked, carried by the job to
the engine, shown on the findings page, and offered again for a quiet repository (the window
ending at its last commit), on real repositories the tests build."""

from __future__ import annotations

import io
import re
import tarfile
from datetime import UTC, date, datetime, timedelta
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from assessments.scans.models import ScanFinding, ScanRun, ScanSource
from assessments.scans.services import run_execute
from tests.factories import Personas
from tests.scans.engine.gitbuild import RepoBuilder

TODAY = datetime.now(UTC).date()


def _at(days_ago: int) -> datetime:
    return datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(
        days=days_ago
    )


def _quiet_repo(tmp_path: Path) -> Path:
    """Three commits, the last one 400 days ago: nothing in the default 180-day window."""
    repo = RepoBuilder(tmp_path / "repo")
    repo.commit("Initial commit", files={"README.md": "# App\n"}, when=_at(420))
    repo.commit("Add app", files={"app.py": "print('hi')\n"}, when=_at(410))
    repo.commit("Fix app", files={"app.py": "print('hello')\n"}, when=_at(400))
    return repo.path


def _targz(path: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        archive.add(path, arcname="repo")
    return buffer.getvalue()


def _login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _upload(client: Client, personas: Personas, repo: Path, **window: str) -> Any:
    return client.post(
        reverse("scans:add", args=[personas.assessment_a.pk, "repo_archive"]),
        {"file": SimpleUploadedFile("repo.tar.gz", _targz(repo)), **window},
    )


@pytest.mark.django_db
def test_the_scan_forms_offer_a_history_window(personas: Personas) -> None:
    page = _login(personas.alice).get(reverse("scans:sources", args=[personas.assessment_a.pk]))
    html = page.content.decode()
    for form_id in ("add-repo-url", "add-archive"):
        section = html.split(f'id="{form_id}"', 1)[1].split("</section>", 1)[0]
        assert 'name="since"' in section and 'name="until"' in section
        assert 'type="date"' in section
    github = html.split('id="add-github"', 1)[1].split("</section>", 1)[0]
    assert 'name="since"' not in github


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("window", "message"),
    [
        ({"since": "2024-03-10", "until": "2024-03-01"}, "is before the start day 2024-03-10"),
        ({"since": (TODAY + timedelta(days=2)).isoformat()}, "is in the future"),
        ({"until": (TODAY + timedelta(days=1)).isoformat()}, "is in the future"),
        ({"since": "1969-12-31"}, "before 1970-01-01"),
        ({"since": "10 March"}, "Enter a valid date"),
    ],
)
def test_a_bad_window_is_refused_and_changes_nothing(
    personas: Personas, tmp_path: Path, window: dict[str, str], message: str
) -> None:
    response = _upload(_login(personas.alice), personas, _quiet_repo(tmp_path), **window)
    assert response.status_code == 400
    assert message in unescape(response.content.decode())
    assert not ScanSource.objects.exists() and not ScanRun.objects.exists()


@pytest.mark.django_db
def test_a_url_source_keeps_its_window_on_the_run(personas: Personas) -> None:
    response = _login(personas.alice).post(
        reverse("scans:add", args=[personas.assessment_a.pk, "repo_url"]),
        {"url": "https://github.com/acme/app.git", "since": "2025-01-01", "until": "2025-06-30"},
    )
    assert response.status_code == 302
    run = ScanRun.objects.get()
    assert (run.window_since, run.window_until) == (date(2025, 1, 1), date(2025, 6, 30))
    page = _login(personas.alice).get(reverse("scans:sources", args=[personas.assessment_a.pk]))
    assert "history 2025-01-01 to 2025-06-30" in page.content.decode()


@pytest.mark.django_db
def test_the_job_measures_the_chosen_window(personas: Personas, tmp_path: Path) -> None:
    repo = _quiet_repo(tmp_path)
    first, last = _at(415).date(), _at(400).date()
    _upload(_login(personas.alice), personas, repo, since=first.isoformat(), until=last.isoformat())
    run = ScanRun.objects.get()
    run_execute(run_id=str(run.pk))
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    history = run.facts["history"]
    # Two of the three commits fall in the window; the first is before it.
    assert history["commits"] == 2
    assert history["window_days"] == (last - first).days + 1
    # The findings name the days measured, not "the last N days" before today.
    frequency = ScanFinding.objects.get(run=run, detector="history.commit-frequency")
    assert f"from {first.isoformat()} to {last.isoformat()}" in frequency.detail
    assert "suggested_window" not in history
    assert run.window() == (first, last)


@pytest.mark.django_db
def test_a_quiet_repository_offers_the_window_ending_at_its_last_commit(
    personas: Personas, tmp_path: Path
) -> None:
    client = _login(personas.alice)
    _upload(client, personas, _quiet_repo(tmp_path))
    run = ScanRun.objects.get()
    assert (run.window_since, run.window_until) == (None, None)
    run_execute(run_id=str(run.pk))
    frequency = ScanFinding.objects.get(run=run, detector="history.commit-frequency")
    assert frequency.status == "unknown"  # quiet, never "absent"

    last = _at(400).date()
    page = client.get(reverse("scans:findings", args=[personas.assessment_a.pk]))
    html = unescape(page.content.decode())
    assert f"No activity in the window; last commit on {last.isoformat()}" in html
    default_first = TODAY - timedelta(days=179)
    text = re.sub(r"<[^>]+>", "", html)
    assert f"History from {default_first:%-d %b %Y} to {TODAY:%-d %b %Y}" in text
    offer = re.search(
        r'<form method="post" action="([^"]+)"[^>]*>.*?name="since" value="([^"]+)">'
        r'<input type="hidden" name="until" value="([^"]+)">',
        html,
    )
    assert offer is not None
    action, since, until = offer.groups()
    assert until == last.isoformat()
    assert date.fromisoformat(since) == last - timedelta(days=179)

    # The offer is a button that starts that scan, and the new run measures the team at work.
    response = client.post(action, {"since": since, "until": until})
    rerun = ScanRun.objects.exclude(pk=run.pk).get()
    assert response["Location"] == reverse("scans:run", args=[personas.assessment_a.pk, rerun.pk])
    assert (rerun.window_since, rerun.window_until) == (
        date.fromisoformat(since),
        date.fromisoformat(until),
    )
    run_execute(run_id=str(rerun.pk))
    rerun.refresh_from_db()
    assert rerun.facts["history"]["commits"] == 3
    assert rerun.suggested_window is None
    page = unescape(
        client.get(reverse("scans:findings", args=[personas.assessment_a.pk])).content.decode()
    )
    assert "No activity in the window" not in page
    assert f"to {last:%-d %b %Y}" in re.sub(r"<[^>]+>", "", page)


@pytest.mark.django_db
def test_a_rescan_with_a_bad_window_starts_nothing(personas: Personas, tmp_path: Path) -> None:
    client = _login(personas.alice)
    _upload(client, personas, _quiet_repo(tmp_path))
    source = ScanSource.objects.get()
    run_execute(run_id=str(source.runs.get().pk))
    response = client.post(
        reverse("scans:rescan", args=[personas.assessment_a.pk, source.pk]),
        {"since": "2025-05-01", "until": "2025-04-01"},
        follow=True,
    )
    assert "is before the start day 2025-05-01" in unescape(response.content.decode())
    assert source.runs.count() == 1


@pytest.mark.django_db
def test_outsiders_cannot_start_a_windowed_rescan(personas: Personas, tmp_path: Path) -> None:
    _upload(_login(personas.alice), personas, _quiet_repo(tmp_path))
    source = ScanSource.objects.get()
    response = _login(personas.charlie).post(
        reverse("scans:rescan", args=[personas.assessment_a.pk, source.pk]),
        {"since": "2025-01-01", "until": "2025-02-01"},
    )
    assert response.status_code == 404
    assert source.runs.count() == 1


def _rescan_fields(html: str, marker: str) -> tuple[str, dict[str, str]]:
    """The action and hidden window fields of the plain Rescan form whose button says
    `marker`."""
    for form in re.findall(r"<form[^>]*>.*?</form>", html, flags=re.S):
        if f">{marker}</button>" not in form:
            continue
        action = re.search(r'action="([^"]+)"', form)
        assert action is not None
        fields = dict(re.findall(r'name="(since|until)" value="([^"]*)"', form))
        return unescape(action.group(1)), fields
    raise AssertionError(f"no {marker!r} form")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("page", "button"), [("sources", "Rescan"), ("findings", "Rescan this window")]
)
def test_the_plain_rescan_keeps_the_last_runs_window(
    personas: Personas, tmp_path: Path, page: str, button: str
) -> None:
    client = _login(personas.alice)
    first, last = _at(415).date(), _at(400).date()
    _upload(
        client, personas, _quiet_repo(tmp_path), since=first.isoformat(), until=last.isoformat()
    )
    run = ScanRun.objects.get()
    run_execute(run_id=str(run.pk))
    html = client.get(reverse(f"scans:{page}", args=[personas.assessment_a.pk])).content.decode()
    action, fields = _rescan_fields(html, button)
    assert fields == {"since": first.isoformat(), "until": last.isoformat()}
    client.post(action, fields)
    rerun = ScanRun.objects.exclude(pk=run.pk).get()
    assert (rerun.window_since, rerun.window_until) == (first, last)


@pytest.mark.django_db
def test_the_plain_rescan_of_a_default_window_stays_on_the_default(
    personas: Personas, tmp_path: Path
) -> None:
    client = _login(personas.alice)
    _upload(client, personas, _quiet_repo(tmp_path))
    run = ScanRun.objects.get()
    run_execute(run_id=str(run.pk))
    html = client.get(reverse("scans:sources", args=[personas.assessment_a.pk])).content.decode()
    action, fields = _rescan_fields(html, "Rescan")
    assert fields == {"since": "", "until": ""}
    client.post(action, fields)
    rerun = ScanRun.objects.exclude(pk=run.pk).get()
    assert (rerun.window_since, rerun.window_until) == (None, None)
