"""A PDF whose charts are still being drawn when WeasyPrint starts (`charts_by_reference`):
WeasyPrint reads the page and its styles meanwhile and takes each chart when it reaches it.
The PDF must be the same as one made with the charts drawn first, and a drawing that fails
must fail the PDF, never give one with holes where the charts were."""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from django.core.cache import cache
from pypdf import PdfReader

from assessments.demo import DEMO_ASSESSMENT_ID, seed_demo
from assessments.models import Assessment
from reports import chartimages
from reports.pdf import render_pdf
from reports.rendering import chart_url, render_html, report_context
from reports.services import result_compute

pytestmark = pytest.mark.django_db

SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100">'
    '<text x="10" y="50" font-size="20">Drawn-chart-label</text></svg>'
)


def _uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def _page(*names: str) -> str:
    images = "".join(f'<img src="{chart_url(n)}" alt="ALT-{n}">' for n in names)
    return f"<html><body><p>Report</p>{images}</body></html>"


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_a_chart_named_by_url_is_drawn_into_the_pdf() -> None:
    pdf, pages, fetcher = render_pdf(_page("radar"), charts=lambda: {"radar": _uri(SVG)})
    text = _text(pdf)
    assert "Drawn-chart-label" in text and "ALT-radar" not in text
    assert pages == 1 and fetcher.refused == []


def test_a_drawing_that_fails_fails_the_pdf() -> None:
    def broken() -> dict[str, str]:
        raise RuntimeError("the chart renderer could not start")

    with pytest.raises(RuntimeError, match="could not start"):
        render_pdf(_page("radar"), charts=broken)


def test_a_chart_named_but_not_drawn_fails_the_pdf() -> None:
    with pytest.raises(ValueError, match="charts named but not drawn"):
        render_pdf(_page("radar", "review"), charts=lambda: {"radar": _uri(SVG)})


def test_without_drawn_charts_a_chart_url_is_refused_like_any_other() -> None:
    pdf, _pages, fetcher = render_pdf(_page("radar"))
    assert fetcher.refused == [chart_url("radar")]
    assert "Drawn-chart-label" not in _text(pdf)


def test_the_demo_report_is_the_same_whether_charts_are_drawn_first_or_meanwhile(
    settings: Any, tmp_path: Any
) -> None:
    """The real renderer draws the demo's charts once (the second context finds them in the
    chart cache): the two PDFs have the same pages and the same text, chart labels included,
    and no chart's alternative text (what WeasyPrint shows for an image it could not load)."""
    settings.CHART_CACHE_DIR = tmp_path / "charts"
    cache.clear()
    seed_demo()
    assessment = Assessment.objects.get(pk=DEMO_ASSESSMENT_ID)
    result = result_compute(assessment=assessment).data
    try:
        meanwhile = report_context(
            assessment=assessment, result=result, for_pdf=True, charts_by_reference=True
        )
        assert meanwhile["charts"]["radar"] == chart_url("radar")
        by_reference, pages_a, _ = render_pdf(
            render_html(meanwhile, standalone=True), charts=meanwhile["chart_drawing"]
        )
        first = report_context(assessment=assessment, result=result, for_pdf=True)
        assert first["charts"]["radar"].startswith("data:image/svg+xml;base64,")
        drawn_first, pages_b, _ = render_pdf(render_html(first, standalone=True))
    finally:
        chartimages.stop_kaleido()
    text = _text(by_reference)
    assert pages_a == pages_b
    assert text == _text(drawn_first)
    for alt in ("Radar chart of current and target levels", "Expected review wait against"):
        assert alt not in text
