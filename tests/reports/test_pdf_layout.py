"""What a reader sees on the printed page: the level meanings in two aligned columns with whole
lines, short sections sharing a page instead of leaving one nearly empty, chart labels clear of
markers. Laid out by WeasyPrint with the real report.css, on A4 and Letter."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from pypdf import PdfReader
from weasyprint import HTML

from assessments.models import Assessment
from reports import charts
from reports.jobs import comparison_for
from reports.pdf import StaticOnlyFetcher, render_pdf
from reports.rendering import STATIC_BASE, render_html, report_context
from reports.services import result_compute
from tests.reports.test_report_sections import demo, everything  # noqa: F401  (fixtures)

MEANINGS = [
    "Some processes have documents, written once and rarely updated. <span class=muted>"
    "Level 3: Key processes are inventoried with owners and current documents.</span>",
    "Some tools keep timestamps, but nobody combines them. <span class=muted>"
    "Level 3: Main processes emit events and their cycle times are measured.</span>",
    "Logs, metrics and alerts cover the main services; on-call people get paged. "
    "<span class=muted>Level 4: Traces connect services, SLOs guide releases.</span>",
    "Some numbers are gathered by hand for reports.",
    "Bad.",
]


def _boxes(box: Any) -> Iterator[Any]:
    yield box
    for child in getattr(box, "children", None) or []:
        yield from _boxes(child)


def _text(box: Any) -> str:
    return "".join(b.text for b in _boxes(box) if type(b).__name__ == "TextBox")


@pytest.mark.parametrize("paper", ["A4", "Letter"])
def test_level_meanings_sit_in_two_aligned_columns_of_whole_lines(paper: str) -> None:
    items = "".join(
        f'<div class="meaning"><dt>Delivery and AI-impact measurement {i} '
        f'<span class="level-pill level-2">2</span> <span class="source small muted">survey '
        f"median</span></dt><dd>{text}</dd></div>"
        for i, text in enumerate(MEANINGS)
    )
    html = (
        f'<html><head><link rel="stylesheet" href="{STATIC_BASE}css/report.css">'
        f"<style>@page {{ size: {paper}; }}</style></head>"
        f'<body class="pdf"><dl class="meanings">{items}</dl></body></html>'
    )
    page = HTML(string=html, base_url=STATIC_BASE, url_fetcher=StaticOnlyFetcher()).render()
    boxes = list(_boxes(page.pages[0]._page_box))
    cells = [
        b
        for b in boxes
        if getattr(b, "element", None) is not None
        and b.element.get("class") == "meaning"
        and type(b).__name__ != "LineBox"
    ]
    assert len(cells) == len(MEANINGS)
    width = cells[0].width
    for left, right in zip(cells[0::2], cells[1::2], strict=False):
        # Side by side, tops level: the right column does not start lower than the left.
        assert right.position_y == pytest.approx(left.position_y, abs=0.5)
        assert right.position_x >= left.position_x + width
    assert cells[2].position_y > cells[0].position_y
    terms = [b for b in boxes if type(b).__name__ == "BlockBox" and b.element.tag == "dt"]
    for left, right in zip(terms[0::2], terms[1::2], strict=False):
        assert right.content_box_y() == pytest.approx(left.content_box_y(), abs=0.5)
    # Each description's first line is a full line of words: never one word, then the rest.
    first_lines: dict[Any, str] = {}
    for box in boxes:
        element = getattr(box, "element", None)
        if type(box).__name__ == "LineBox" and element is not None and element.tag == "dd":
            first_lines.setdefault(element, _text(box))
    assert len(first_lines) == len(MEANINGS)
    for line, text in zip(first_lines.values(), MEANINGS, strict=True):
        if len(text) > 60:
            assert len(line.split()) >= 5, line
    assert list(first_lines.values())[1].startswith("Some tools keep timestamps, but")
    # "survey median" is never split over two lines.
    dt_lines = [
        _text(b)
        for b in boxes
        if type(b).__name__ == "LineBox"
        and getattr(b, "element", None) is not None
        and b.element.tag == "dt"
    ]
    assert not any(line.rstrip().endswith("survey") for line in dt_lines), dt_lines


def test_the_trend_charts_labels_sit_beside_their_points() -> None:
    """A label above the overall-readiness point covered the dimension marker just above it."""
    series = [
        {"title": t, "date": d, "readiness": r, "dimensions": {"dep": r + 8, "obs": r - 2}}
        for t, d, r in [("Spring", "2026-04-08", 12), ("Summer", "2026-07-01", 20),
                        ("Autumn", "2026-10-05", 32)]
    ]  # fmt: skip
    comparison = {
        "series": series,
        "dimensions": [{"id": "dep", "title": "Deployment"}, {"id": "obs", "title": "Obs"}],
    }
    figure = charts.trend(comparison)
    positions = list(figure.data[0].textposition)
    assert positions == ["middle left", "middle left", "middle right"]
    assert list(figure.data[0].text) == ["12", "20", "32"]


def _pages(assessment: Assessment, paper: str) -> list[str]:
    result = result_compute(assessment=assessment).data
    context = report_context(
        assessment=assessment,
        result=result,
        for_pdf=True,
        paper=paper,
        comparison=comparison_for(assessment),
    )
    pdf, _count, _fetcher = render_pdf(render_html(context, standalone=True))
    return [" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf)).pages]


def _page_of(pages: list[str], heading: str) -> int:
    found = [n for n, text in enumerate(pages) if heading in text and "Contents" not in text]
    assert found, heading
    return found[0]


@pytest.mark.django_db
@pytest.mark.parametrize("paper", ["a4", "letter"])
def test_short_sections_share_a_page_instead_of_leaving_one_nearly_empty(
    everything: Assessment,  # noqa: F811
    paper: str,
) -> None:
    pages = _pages(everything, paper)

    def follows_on(heading: str) -> bool:
        """The section starts below other content on its page, or the page before it is
        full: never a fresh page below a page left mostly empty."""
        n = _page_of(pages, heading)
        return pages[n].index(heading) > 300 or (n > 0 and len(pages[n - 1]) > 2500)

    # The short claims section follows what comes before it (or the review wall follows it).
    heading = "Claims versus evidence What was scanned"
    claims = _page_of(pages, heading)
    assert follows_on(heading) or "The review wall" in pages[claims], "a page to itself"
    # The process section (with the demo's catalogue, longer than a page) follows the
    # roadmap's last item instead of moving whole to a fresh page.
    heading = "Process observability and the pilot backlog"
    assert follows_on(heading), "the process section left the roadmap's last page mostly empty"
    # The comparison starts right after it, not on a fresh page below a third-full one.
    assert follows_on("What changed since Spring baseline")


def test_a_consultants_brand_sits_at_the_top_of_the_cover_apart_from_the_title() -> None:
    cover = (
        '<section class="report-cover" id="cover"><div class="cover-brand">'
        '<div class="cover-firm">Prepared by Northbridge Advisory</div></div>'
        '<div class="cover-kicker">AI operations readiness: gap report</div>'
        '<h1 class="cover-title">Halvorsen Logistics</h1></section>'
    )
    html = (
        f'<html><head><link rel="stylesheet" href="{STATIC_BASE}css/report.css"></head>'
        f'<body class="pdf">{cover}</body></html>'
    )
    document = HTML(string=html, base_url=STATIC_BASE, url_fetcher=StaticOnlyFetcher()).render()
    boxes = list(_boxes(document.pages[0]._page_box))

    def top(cls: str) -> float:
        return next(
            b.position_y
            for b in boxes
            if getattr(b, "element", None) is not None and b.element.get("class") == cls
        )

    page_height = document.pages[0].height
    assert top("cover-brand") < page_height * 0.2
    assert top("cover-kicker") - top("cover-brand") > page_height * 0.4
