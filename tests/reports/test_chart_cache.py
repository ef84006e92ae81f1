"""Charts in PDFs are drawn once per figure: a re-render of an unchanged report asks the
chart renderer (a browser) for nothing, even from a fresh process, and a cache file that is
damaged is drawn again rather than put in a report."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import pytest
from django.core.cache import cache

from reports import chartimages as pdf
from reports.chartcache import ChartCache


@pytest.fixture
def folder(settings: Any, tmp_path: Path) -> Path:
    settings.CHART_CACHE_DIR = tmp_path / "charts"
    return settings.CHART_CACHE_DIR


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch, folder: Path) -> list[list[str]]:
    """What the renderer was asked to draw (each call lists its charts); the drawing itself is
    real only in the last test, which needs a browser."""
    cache.clear()
    calls: list[list[str]] = []

    def fake_draw(figures: dict[str, tuple[Any, int, int]]) -> dict[str, str]:
        calls.append(sorted(figures))
        return {name: f"data:image/svg+xml;base64,{name}" for name in figures}

    monkeypatch.setattr(pdf, "_draw", fake_draw)
    return calls


def _bar(values: list[int]) -> go.Figure:
    return go.Figure(go.Bar(y=values))


def _charts(a: list[int], b: list[int], b_height: int = 300) -> dict[str, Any]:
    return {"a": (_bar(a), 400, 300), "b": (_bar(b), 400, b_height)}


def test_an_unchanged_chart_is_not_drawn_again(drawn: list[list[str]]) -> None:
    first = pdf.svg_data_uris(_charts([1, 2], [3]))
    again = pdf.svg_data_uris(_charts([1, 2], [3]))
    assert again == first
    assert drawn == [["a", "b"]]


def test_a_changed_figure_or_size_is_drawn(drawn: list[list[str]]) -> None:
    pdf.svg_data_uris(_charts([1, 2], [3]))
    pdf.svg_data_uris(_charts([1, 5], [3], b_height=200))
    assert drawn == [["a", "b"], ["a", "b"]]
    pdf.svg_data_uris(_charts([1, 5], [3]))
    assert len(drawn) == 2


def test_the_drawings_outlive_the_process(drawn: list[list[str]], folder: Path) -> None:
    """A fresh process has an empty in-memory cache: only the files remain."""
    first = pdf.svg_data_uris(_charts([1, 2], [3]))
    cache.clear()
    assert pdf.svg_data_uris(_charts([1, 2], [3])) == first
    assert drawn == [["a", "b"]]
    assert len(list(folder.glob("*.chart"))) == 2


def test_a_corrupt_cache_file_is_ignored_and_drawn_again(
    drawn: list[list[str]], folder: Path
) -> None:
    first = pdf.svg_data_uris(_charts([1, 2], [3]))
    cache.clear()
    a_file = folder / f"{pdf._svg_digest(_bar([1, 2]), 400, 300)}.chart"
    b_file = folder / f"{pdf._svg_digest(_bar([3]), 400, 300)}.chart"
    a_file.write_bytes(a_file.read_bytes()[:-5])  # truncated, as by a full disk
    b_file.write_bytes(b_file.read_bytes().replace(b"base64,b", b"base64,X"))  # altered
    assert pdf.svg_data_uris(_charts([1, 2], [3])) == first
    assert drawn == [["a", "b"], ["a", "b"]]
    # Drawn again, the files are whole once more.
    cache.clear()
    pdf.svg_data_uris(_charts([1, 2], [3]))
    assert len(drawn) == 2


def test_an_unwritable_cache_still_gives_the_charts(drawn: list[list[str]], folder: Path) -> None:
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.write_text("a file where the folder should be")
    assert pdf.svg_data_uris(_charts([1], [2]))["a"].endswith("base64,a")


def test_a_drawing_failure_reaches_the_caller_and_caches_nothing(
    monkeypatch: pytest.MonkeyPatch, folder: Path
) -> None:
    cache.clear()

    def broken(figures: dict[str, tuple[Any, int, int]]) -> dict[str, str]:
        raise RuntimeError("no browser here")

    monkeypatch.setattr(pdf, "_draw", broken)
    with pytest.raises(RuntimeError, match="no browser here"):
        pdf.svg_data_uris(_charts([1], [2]))
    assert not list(folder.glob("*.chart"))


def test_the_cache_stays_within_its_size(tmp_path: Path) -> None:
    store = ChartCache(tmp_path, max_bytes=10_000)
    keys = [f"{i:064x}" for i in range(40)]
    for index, key in enumerate(keys):
        store.put(key, "x" * 1000)
        os.utime(tmp_path / f"{key}.chart", (1_000_000 + index, 1_000_000 + index))
    sizes = sum(f.stat().st_size for f in tmp_path.iterdir())
    assert sizes <= 10_000
    assert store.get(keys[-1]) == "x" * 1000  # the newest stay
    assert store.get(keys[0]) is None  # the least recently used went first


def test_concurrent_writers_leave_one_whole_file(tmp_path: Path) -> None:
    store = ChartCache(tmp_path, max_bytes=10_000_000)
    key = "ab" * 32
    value = "data:image/svg+xml;base64," + "Q" * 200_000

    def write() -> None:
        for _ in range(20):
            store.put(key, value)

    writers = [threading.Thread(target=write) for _ in range(4)]
    for writer in writers:
        writer.start()
    for _ in range(50):
        assert store.get(key) in (None, value)  # never a partial file
    for writer in writers:
        writer.join()
    assert store.get(key) == value
    assert [f.name for f in tmp_path.iterdir()] == [f"{key}.chart"]


def test_a_key_cannot_name_a_path_outside_the_folder(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        ChartCache(tmp_path, max_bytes=1000).get("../../etc/passwd")


@pytest.mark.django_db
def test_a_cached_report_starts_no_browser_and_draws_nothing(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real renderer, counted: the first PDF context draws every chart through kaleido,
    the second (in-memory cache emptied, as in a fresh process) calls kaleido not at all."""
    import kaleido

    from assessments.demo import DEMO_ASSESSMENT_ID, seed_demo
    from assessments.models import Assessment
    from reports.rendering import report_context
    from reports.services import result_compute

    cache.clear()
    seed_demo()
    assessment = Assessment.objects.get(pk=DEMO_ASSESSMENT_ID)
    result = result_compute(assessment=assessment).data
    calls: list[int] = []
    real = kaleido.write_fig_from_object_sync

    def counted_list(specs: Any, **kwargs: Any) -> Any:
        specs = list(specs)
        calls.append(len(specs))
        return real(specs, **kwargs)

    monkeypatch.setattr(kaleido, "write_fig_from_object_sync", counted_list)
    started: list[bool] = []
    real_ensure = pdf._ensure_kaleido
    monkeypatch.setattr(pdf, "_ensure_kaleido", lambda: (started.append(True), real_ensure()))
    try:
        first = report_context(assessment=assessment, result=result, for_pdf=True)
        assert len(calls) == 1 and calls[0] >= 5
        cache.clear()
        started.clear()
        second = report_context(assessment=assessment, result=result, for_pdf=True)
    finally:
        pdf.stop_kaleido()
    assert len(calls) == 1 and not started
    assert second["charts"] == first["charts"]
    assert first["charts"]["radar"].startswith("data:image/svg+xml;base64,")
