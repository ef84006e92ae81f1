"""What a sceptical reader trips over in the report and the results page: internal ids printed
raw (40-character hashes, "row prd-14 row prd-15 …"), a pilot backlog that repeats one list
four times, "(s)" plurals and percentages rounded three ways."""

from __future__ import annotations

import io
import re

import pytest
from django.urls import reverse
from pypdf import PdfReader

from assessments.demo import DEMO_ASSESSMENT_ID, seed_demo
from assessments.models import Assessment
from reports.jobs import comparison_for
from reports.rendering import render_html, report_context
from reports.services import result_compute
from scoring.evidence import EvidenceFinding
from tests.reports.test_results_evidence import FINDINGS, _delivery, _owner_client

pytestmark = pytest.mark.django_db

SHA = "9f929f3d0134f3bcca07d21775bca1dd28c399a7"
POINTED = [
    # Underclaims on agent runs (claimed at level 1), so the register lists them.
    EvidenceFinding(
        "delivery.change-failure-rate", "obs.agent-runs", "found", 3,
        "Change failure rate at most 15%", tuple(f"row prd-{n}" for n in range(10, 18)),
    ),
    EvidenceFinding(
        "delivery.recovery-time", "obs.agent-runs", "found", 3,
        "Failed deployments recover within a day", ("row INC-900",),
    ),
    EvidenceFinding(
        "history.ai-attribution", "obs.agent-runs", "found", 2,
        "AI-assisted changes are attributed in history", (SHA, ""),
    ),
    EvidenceFinding(
        "ci.read-only-token", "obs.agent-runs", "found", 2,
        "Workflows default to a read-only token", (".github/workflows/ci.yml:3",),
    ),
]  # fmt: skip


@pytest.fixture
def demo() -> Assessment:
    seed_demo()
    return Assessment.objects.get(pk=DEMO_ASSESSMENT_ID)


def _text(fragment: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)).replace(" ,", ",")


def _register(html: str) -> str:
    start = html.index('class="data-table register"')
    return html[start : html.index("</table>", start)]


@pytest.mark.parametrize("page", ["reports:results", "reports:report"])
def test_evidence_pointers_read_as_rows_short_hashes_and_whole_paths(
    demo: Assessment,
    monkeypatch: pytest.MonkeyPatch,
    page: str,
) -> None:
    monkeypatch.setattr("reports.services.evidence_for", lambda a: [*FINDINGS, *POINTED])
    monkeypatch.setattr("reports.services.delivery_for", lambda a: _delivery())
    html = _owner_client(demo).get(reverse(page, args=[demo.pk])).content.decode()
    register = _register(html)
    text = _text(register)
    # Several rows: one readable list from the export they are in, capped with a count.
    assert "deployment export rows prd-10, prd-11, prd-12, prd-13, prd-14, … (8 in all)" in text
    assert "prd-15" not in text
    assert "row prd-10 row" not in text
    assert "incident export row INC-900" in text
    # A commit: 12 characters to read, the full hash kept for hovering.
    assert f"commit {SHA[:12]}" in text
    assert SHA not in text
    assert f'title="{SHA}"' in register
    # A path whole; an empty pointer prints nothing (no empty code box).
    assert "<code>.github/workflows/ci.yml:3</code>" in register
    assert "<code></code>" not in register


_DEMO_PAGES: list[list[str]] = []
_DEMO_SECTIONS: list[str] = []


def _demo_pages() -> list[list[str]]:
    """The lines of each page of the demo's PDF, as `manage.py seed_demo` makes it (scans and
    exports included); rendered once for the tests below."""
    if not _DEMO_PAGES:
        from reports.pdf import render_pdf

        seed_demo(evidence=True)
        assessment = Assessment.objects.get(pk=DEMO_ASSESSMENT_ID)
        context = report_context(
            assessment=assessment,
            result=result_compute(assessment=assessment).data,
            for_pdf=True,
            comparison=comparison_for(assessment),
        )
        html = render_html(context, standalone=True)
        # The sections' headings (the methodology's own h2s do not set the running header).
        headings = re.findall(r"<h2[^>]*>(.*?)</h2>", html[: html.index('class="methodology"')])
        _DEMO_SECTIONS.extend(_text(h).strip() for h in headings)
        pdf, _count, _fetcher = render_pdf(html)
        for page in PdfReader(io.BytesIO(pdf)).pages:
            _DEMO_PAGES.append([" ".join(x.split()) for x in page.extract_text().splitlines()])
    return _DEMO_PAGES


def test_each_pages_running_header_names_the_section_it_opens_with() -> None:
    pages = _demo_pages()
    titles = _DEMO_SECTIONS
    assert "The review wall" in titles and "Claims versus evidence" in titles
    current = ""
    for number, lines in enumerate(pages[2:], start=3):
        # The margin boxes come last in the text: the running header, then the footer.
        header = lines[-2].removeprefix("Halvorsen Logistics").strip()
        body = lines[:-2]
        opens = next((t for t in titles if body[0] == t), None)
        expected = opens or current
        assert header == expected, (number, header, expected, body[0])
        for line in body:
            current = next((t for t in titles if line == t), current)


def test_the_pdf_leaves_no_page_to_a_line_and_no_short_table_split() -> None:
    pages = _demo_pages()
    for number, lines in enumerate(pages[2:], start=3):
        body = " ".join(lines[:-2])
        assert len(body.split()) > 40, (number, body)
    # The autonomy section follows the delivery section's last lines on their page instead of
    # leaving them a page of their own.
    autonomy = next(n for n, lines in enumerate(pages) if "Agent autonomy" in lines[:-2] and n > 1)
    body = pages[autonomy][:-2]
    assert body.index("Agent autonomy") > 0 or len(" ".join(pages[autonomy - 1]).split()) > 300
    participation = next(lines for lines in pages if "B. Participation" in lines)
    text = " ".join(participation)
    for role in ("Leadership", "Engineering", "Operations", "Product", "Security"):
        assert re.search(rf"\b{role} \d+\b", text), role
    # The summary's score box keeps "38/100" whole.
    summary = " ".join(pages[2])
    assert re.search(r"Evidence-adjusted: \d+/100", summary), summary


def test_evidence_pointers_in_the_pdf_leave_no_line_saying_only_found() -> None:
    pages = _demo_pages()
    claims = [line for lines in pages for line in lines]
    start = claims.index(
        next(x for x in claims if x.startswith("Where the answers and the scan evidence"))
    )
    register = claims[start : start + 120]
    assert "found:" not in register
    text = " ".join(register)
    assert re.search(r"deployment export rows prd-\d+, prd-\d+", text), text
    assert not re.search(r"[0-9a-f]{13,}", text), text


def test_the_pilot_backlog_prints_a_blocker_list_shared_by_pilots_once(
    demo: Assessment,
) -> None:
    html = _owner_client(demo).get(reverse("reports:report", args=[demo.pk])).content.decode()
    start = html.index('id="pilot-backlog"')
    backlog = _text(html[start : html.index("</section>", start)])
    pilots = re.findall(r"\b(\d)\. [A-Z][a-z]+ [a-z]+ Pilot score", backlog)
    assert len(pilots) >= 3, backlog
    # The demo's pilots that need more autonomy all wait on the same list: printed once.
    assert re.search(r"Pilots 1, 2, 3 and 4 are blocked on the same \d+ things", backlog)
    assert backlog.count("Agent runtime environments : level") == 1, backlog
    # Roadmap numbers past the report's roadmap section are found in appendix E.
    numbers = [int(n) for n in re.findall(r"roadmap (\d+)", backlog)]
    appendix = _text(html[html.index("E. The rest of the roadmap") :])
    assert max(numbers) > 17 and f"{max(numbers)} " in appendix
    assert "numbers are items of the roadmap above or of appendix E" in backlog
    assert "refer to the roadmap above)" not in backlog


def test_the_report_writes_plurals_and_percentages_as_prose() -> None:
    text = " ".join(" ".join(lines) for lines in _demo_pages())
    assert not re.search(r"\w\(s\)", text), re.findall(r".{40}\w\(s\).{20}", text)
    # The demo's unlinked incident and staging deployments, in words that agree in number.
    assert "1 incident could not be linked to a deployment: it counts" in text
    assert re.search(r"\b\d+ deployments to staging left out", text)
    # A fact's median in a sentence rounds as the tables do: whole percent.
    assert not re.search(r"median of [\d.]+ percent", text)
    assert re.search(r"have a median of \d+%\.", text)
    # "among them" only before a list that leaves some out.
    for listed in re.findall(r"already meet their target, among them [^.]*\.", text):
        assert "more)" in listed, listed
    assert re.search(r"\d+ already meet their target: [^.]+ and [^.]+\.", text), text[:3000]
