"""A server that cannot draw charts (no Chromium, or one that dies at once) says so, quickly.

kaleido waits forever for an answer from a browser that never started, so before this a PDF
job on such a server hung until the task's time limit and `render_report` hung for good.
"""

from __future__ import annotations

import shutil
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command

from assessments.demo import DEMO_ASSESSMENT_ID, seed_demo
from assessments.models import Assessment
from reports import chartimages
from reports.models import ReportJob

pytestmark = pytest.mark.django_db
HANG_SECONDS = 90


@pytest.fixture
def demo() -> Assessment:
    seed_demo()
    return Assessment.objects.get(pk=DEMO_ASSESSMENT_ID)


@pytest.fixture
def fresh_renderer(settings: Any, tmp_path: Path) -> Iterator[None]:
    """No chart in any cache and no browser running yet; the real one comes back after. A
    test that would wait forever fails after HANG_SECONDS instead (the bug these tests guard
    is a wait without end)."""

    def hung(_signal: int, _frame: object) -> None:
        pytest.fail(f"still waiting after {HANG_SECONDS} s: the renderer's failure was not noticed")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(HANG_SECONDS)
    settings.CHART_CACHE_DIR = str(tmp_path / "charts")
    settings.MEDIA_ROOT = str(tmp_path / "media")
    cache.clear()
    chartimages.stop_kaleido()
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        chartimages.stop_kaleido()


def _figure() -> go.Figure:
    return go.Figure(go.Bar(x=["a"], y=[1]), layout={"title": str(uuid.uuid4())})


def test_a_pdf_job_without_a_browser_fails_at_once_saying_what_to_install(
    demo: Assessment, fresh_renderer: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reports.jobs import pdf_render

    monkeypatch.setenv("BROWSER_PATH", "/nonexistent/chromium")
    job = ReportJob.objects.create(assessment=demo, render_hash="y" * 64)
    started = time.monotonic()
    pdf_render(job_id=str(job.pk))
    job.refresh_from_db()
    assert time.monotonic() - started < 60
    assert job.status == "failed"
    assert job.error == chartimages.NO_BROWSER
    assert "apt-get install chromium" in job.error


def test_a_browser_that_dies_at_once_stops_the_wait(
    fresh_renderer: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BROWSER_PATH", "/bin/false")  # runs, and exits at once
    started = time.monotonic()
    with pytest.raises(chartimages.ChartRendererUnavailable) as caught:
        chartimages.svg_data_uris({"chart": (_figure(), 400, 300)})
    assert time.monotonic() - started < 60
    assert str(caught.value) == chartimages.BROWSER_STOPPED


def test_render_report_without_a_browser_is_a_one_line_error(
    demo: Assessment, fresh_renderer: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("BROWSER_PATH", "/nonexistent/chromium")
    out = tmp_path / "report.pdf"
    with pytest.raises(CommandError, match="no Chromium browser was found"):
        call_command("render_report", "demo", "--format", "pdf", "--out", str(out))
    assert not out.exists()


def test_a_temporary_folder_too_long_for_chromium_is_named_before_it_is_started(
    fresh_renderer: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Chromium exits as it starts when its socket's path would pass 107 bytes (a long
    TMPDIR, as under pytest's workers): say which folder, instead of "the browser stopped"."""
    import tempfile

    limit = chartimages.MAX_TMPDIR_BYTES
    at_limit = Path("/tmp") / ("t" * (limit - len("/tmp/")))
    too_long = Path("/tmp") / ("t" * (limit + 1 - len("/tmp/")))
    for folder in (at_limit, too_long):
        folder.mkdir(exist_ok=True)
    try:
        monkeypatch.setattr(tempfile, "tempdir", str(too_long))
        with pytest.raises(chartimages.ChartRendererUnavailable) as caught:
            chartimages.svg_data_uris({"chart": (_figure(), 400, 300)})
        assert str(caught.value) == chartimages.TMPDIR_TOO_LONG.format(path=too_long)
        assert "set TMPDIR to a shorter folder" in str(caught.value)
        # At the limit the real browser starts and draws.
        monkeypatch.setattr(tempfile, "tempdir", str(at_limit))
        drawn = chartimages.svg_data_uris({"chart": (_figure(), 400, 300)})
        assert drawn["chart"].startswith("data:image/svg+xml")
    finally:
        chartimages.stop_kaleido()
        for folder in (at_limit, too_long):
            shutil.rmtree(folder, ignore_errors=True)
