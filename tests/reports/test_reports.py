"""Gap reports: the PDF says what the result says, looks like a document, and cannot be made
to fetch anything; exports round-trip; share links and comparisons behave."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import subprocess
import threading
from datetime import timedelta
from html import unescape
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils.html import escape
from pypdf import PdfReader

from assessments import services
from assessments.demo import DEMO_ASSESSMENT_ID, seed_demo
from assessments.models import Assessment, Membership
from reports import exports
from reports.jobs import comparison_for
from reports.models import ReportJob, ShareLink
from reports.numbers import level_text, num
from reports.rendering import render_html, report_context
from reports.services import result_compute
from tests.factories import Personas, invite, make_assessment

pytestmark = pytest.mark.django_db
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
XSS = [
    '<script>alert("x")</script>',
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(2)>',
    '=HYPERLINK("http://evil")',
]


@pytest.fixture
def demo() -> Assessment:
    seed_demo()
    return Assessment.objects.get(pk=DEMO_ASSESSMENT_ID)


def _owner(assessment: Assessment) -> Any:
    return Membership.objects.get(organisation=assessment.organisation, role="owner").user


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _context(assessment: Assessment, paper: str = "a4") -> dict[str, Any]:
    result = result_compute(assessment=assessment).data
    return report_context(
        assessment=assessment,
        result=result,
        for_pdf=True,
        paper=paper,
        comparison=comparison_for(assessment),
    )


def _pdf(assessment: Assessment, paper: str = "a4") -> tuple[bytes, int]:
    from reports.pdf import render_pdf

    data, pages, _fetcher = render_pdf(render_html(_context(assessment, paper), standalone=True))
    return data, pages


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def _flat(text: str) -> str:
    """Text with every run of whitespace as one space: table cells wrap at will."""
    return " ".join(text.split())


def _dimension_pages(dimension: dict[str, Any], result: dict[str, Any] | None = None) -> int:
    """Pages a dimension's section may take at most: one for up to five capabilities (version 1's
    dimensions); rubric version 2's integration and deployment have six or seven, whose
    chart, table and meanings need a second page, holding at least two meanings. So may a
    dimension whose meanings carry evidence notes (the demo's process catalogue is evidence for
    observability) on letter paper, which is shorter than A4."""
    ids = set(dimension["capability_ids"])
    noted = result is not None and any(
        (c.get("evidence") or {}).get("evidence_score") is not None
        for c in result["capabilities"]
        if c["id"] in ids
    )
    return 1 if len(ids) <= 5 and not noted else 2


def _pages_showing(reader: PdfReader, heading: str) -> list[int]:
    return [n for n, page in enumerate(reader.pages, start=1) if heading in page.extract_text()]


def _svg(data_uri: str) -> str:
    return base64.b64decode(data_uri.split(",", 1)[1]).decode()


def _svg_texts(svg: str) -> list[str]:
    """What each text element of a chart reads, line by line, as a reader sees it."""
    lines = re.findall(r"<tspan[^>]*>(.*?)</tspan>|<text[^>]*>([^<]*)</text>", svg)
    return [unescape(a or b) for a, b in lines]


def _orphaned_headings(html: str) -> list[tuple[int, str]]:
    """Headings (h2-h4) and level-meaning titles (dt) left at the foot of a page with what
    follows them on the next one: (page number, heading text) from WeasyPrint's layout."""
    from weasyprint import HTML

    from reports.pdf import StaticOnlyFetcher
    from reports.rendering import STATIC_BASE

    source = HTML(string=html, base_url=STATIC_BASE, url_fetcher=StaticOnlyFetcher())
    document = source.render()
    pages_of: dict[int, set[int]] = {}
    for number, page in enumerate(document.pages, start=1):
        for box in page._page_box.descendants():
            if getattr(box, "element", None) is not None:
                pages_of.setdefault(id(box.element), set()).add(number)
    parents = {child: parent for parent in source.etree_element.iter() for child in parent}
    orphans = set()
    for number, page in enumerate(document.pages, start=1):
        for box in page._page_box.descendants():
            element = getattr(box, "element", None)
            if element is None or box.element_tag not in {"h2", "h3", "h4", "dt"}:
                continue
            siblings = list(parents[element])
            following = siblings[siblings.index(element) + 1 :]
            if following and number not in pages_of.get(id(following[0]), set()):
                orphans.add((number, "".join(element.itertext()).strip()))
    return sorted(orphans)


def test_pdf_holds_every_section_and_the_exact_scores(demo: Assessment) -> None:
    pdf, pages = _pdf(demo)
    reader = PdfReader(io.BytesIO(pdf))
    text = _text(pdf)
    result = result_compute(assessment=demo).data
    for section in [
        "Contents",
        "Executive summary",
        "Four dimensions",
        "Claims versus evidence",
        "The review wall",
        "Roadmap",
        "Appendix",
        "A. Methodology",
        "B. Participation",
        "C. Questions and answer distributions",
        "D. Scan sources",
    ]:
        assert section in text, section
    assert f"{result['readiness']['score']:.0f}/100" in text.replace(" ", "")
    for d in result["dimensions"]:
        heading = (
            f"{d['title']}: level {level_text(d['exact_level'])} of target {d['target_level']}"
        )
        assert heading in text
        # Each dimension keeps to one page: no page of only "Perception gaps" or one meaning.
        assert 1 <= len(_pages_showing(reader, heading)) <= _dimension_pages(d), heading
    contents = reader.pages[1].extract_text()
    for entry in ["Executive summary", "Four dimensions", "Claims versus evidence", "Appendix"]:
        assert entry in contents, entry
    # The summary's sentences name levels and targets exactly as the tables print them.
    said = re.findall(r"at level (\d\.\d) against a target of (\d)", _flat(text))
    assert len(said) >= 2
    printed = {(level_text(d["exact_level"]), str(d["target_level"])) for d in result["dimensions"]}
    assert set(said) <= printed
    # The numeric questions are in the appendix with their medians and ranges.
    flat = _flat(text)
    assert "Numeric questions" in flat
    for fact in demo.rubric.facts:
        value = result["facts"][fact.id]
        assert fact.text in flat, fact.id
        if value["n"]:
            assert f"{fact.unit} {num(value['median'], 1).removesuffix('.0')} " in flat
    for c in result["capabilities"]:
        assert c["title"] in text
    assert result["autonomy"]["granted"]["title"] in text
    assert f"{num(result['review']['projection']['saturation_multiplier'], 1)}× today" in text
    # The appendix shows the published methodology text.
    assert "The weakest link" in text or "weakest link" in text
    assert "Erlang C" in text
    # Participation counts by role, and no respondent names anywhere.
    for name in ["Maren Halvorsen", "Jonas Weber", "Hannah Kim"]:
        assert name not in text
    assert 15 <= pages <= 60 and len(reader.pages) == pages
    assert reader.attachments == {}
    assert reader.pages[0].mediabox.width == pytest.approx(595.28, abs=1)  # A4
    assert "Page 2 of" in text
    # Charts are vector drawings (SVG), not bitmaps: the PDF holds no raster image at all, and
    # each chart's own labels (axis titles, legend entries) are real text on its page.
    for page in reader.pages:
        xobjects = (page.get("/Resources") or {}).get("/XObject") or {}
        assert all(xobjects[name].get_object().get("/Subtype") != "/Image" for name in xobjects)
    review_page = reader.pages[_pages_showing(reader, "Working hours waiting")[0] - 1]
    assert "Pull requests per week, as a multiple of today" in review_page.extract_text()
    assert _longest_path(reader, review_page) >= 10  # the wait curve, drawn as a line
    radar_page = reader.pages[_pages_showing(reader, "Current level (filled)")[0] - 1]
    assert "Target" in radar_page.extract_text().replace("Target Gap", "")
    # Every font is embedded, so the report looks the same on any reader's machine.
    fonts = {}
    for page in reader.pages:
        for font in ((page.get("/Resources") or {}).get("/Font") or {}).values():
            font = font.get_object()
            descriptor = (
                font.get("/FontDescriptor")
                or font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            )
            fonts[font["/BaseFont"]] = any(
                k in descriptor.get_object() for k in ("/FontFile", "/FontFile2", "/FontFile3")
            )
    assert fonts and all(fonts.values()), fonts
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "report.pdf").write_bytes(pdf)
    if shutil.which("pdftocairo"):
        subprocess.run(
            [
                "pdftocairo",
                "-png",
                "-r",
                "60",
                "-f",
                "3",
                "-l",
                "3",
                str(ARTIFACTS / "report.pdf"),
                str(ARTIFACTS / "report-page"),
            ],
            check=True,
        )
        assert list(ARTIFACTS.glob("report-page*.png"))


def _longest_path(reader: PdfReader, page: Any) -> int:
    """The most segments in one drawn path on the page: text and table rules have one to
    three, a plotted curve many."""
    from pypdf.generic import ContentStream

    longest = segments = 0
    for _operands, operator in ContentStream(page.get_contents(), reader).operations:
        if operator == b"m":
            segments = 0
        elif operator in (b"l", b"c"):
            segments += 1
            longest = max(longest, segments)
    return longest


def test_letter_paper_keeps_headings_with_their_text(demo: Assessment) -> None:
    html = render_html(_context(demo, paper="letter"), standalone=True)
    assert _orphaned_headings(html) == []
    from reports.pdf import render_pdf

    pdf, _pages, _fetcher = render_pdf(html)
    reader = PdfReader(io.BytesIO(pdf))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)
    result = result_compute(assessment=demo).data
    for d in result["dimensions"]:
        heading = (
            f"{d['title']}: level {level_text(d['exact_level'])} of target {d['target_level']}"
        )
        assert 1 <= len(_pages_showing(reader, heading)) <= _dimension_pages(d, result), heading


class _Recorder(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        _Recorder.hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"x")

    def log_message(self, *args: Any) -> None:
        pass


def test_the_pdf_renderer_fetches_nothing_but_static_files(tmp_path: Path) -> None:
    from reports.pdf import render_pdf

    server = HTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    html = f"""<html><head><link rel="stylesheet" href="http://127.0.0.1:{port}/style.css"></head><body>
      <p>safe</p><img src="file:///etc/passwd"><img src="file://{secret}"><img src="http://127.0.0.1:{port}/pixel.png">
      <a rel="attachment" href="file://{secret}">attach</a><a rel="attachment" href="http://127.0.0.1:{port}/a.txt">a</a>
      <link rel="attachment" href="file:///etc/hostname"><img src="https://opready.invalid/static/../../config/settings.py">
      <img src="https://opready.invalid/static/css/../../../../etc/passwd"></body></html>"""
    pdf, _pages, fetcher = render_pdf(html)
    server.shutdown()
    assert _Recorder.hits == []
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.attachments == {}
    assert b"TOP-SECRET-CONTENT" not in pdf and b"root:x:0" not in pdf
    assert len(fetcher.refused) >= 6


def _three_engineers(
    assessment: Assessment, *, name: str = "Pat", comment: str = "", count: int = 3
) -> None:
    for i in range(count):
        respondent, _ = invite(assessment, role="engineering", name=name)
        for question in assessment.rubric.questions_for("engineering")[:6]:
            services.answer_save(
                respondent=respondent,
                question_id=question.id,
                value=str(i % 3 + 2),
                comment=comment or XSS[i % 3],
                seq=1,
            )
        services.respondent_submit(respondent=respondent)


# Markup that plotly would draw (bold, a link, a line break) if it read titles as markup.
PLOTLY_MARKUP = '<b>bold</b><br><a href="https://evil.test">link</a>'


def test_markup_in_names_titles_and_comments_is_text_in_html_and_pdf(personas: Personas) -> None:
    assessment = personas.assessment_a
    assessment.title = XSS[0]
    assessment.save()
    personas.org_a.name = XSS[1]
    personas.org_a.save()
    # Five on each side: fewer are not compared automatically (methodology section 17).
    _three_engineers(assessment, name=XSS[2], count=5)
    # An earlier assessment, so that the trend chart names both in its labels.
    earlier = make_assessment(personas.org_a, personas.alice, title=PLOTLY_MARKUP)
    Assessment.objects.filter(pk=earlier.pk).update(
        created_at=assessment.created_at - timedelta(days=90)
    )
    _three_engineers(earlier, comment="fine", count=5)
    html = (
        login(personas.alice).get(reverse("reports:report", args=[assessment.pk])).content.decode()
    )
    for payload in [*XSS[:3], PLOTLY_MARKUP]:
        assert payload not in html
    assert escape(XSS[0]) in html
    # The trend chart's data carries the titles as entities, which plotly shows as text.
    trend = html[html.index('id="report-trend"') :]
    assert "\\u0026lt;b\\u0026gt;bold\\u0026lt;/b\\u0026gt;" in trend[: trend.index("</script>")]
    compare = login(personas.alice).get(
        reverse("reports:compare", args=[assessment.pk, earlier.pk])
    )
    assert "\\u0026lt;script\\u0026gt;" in compare.content.decode()
    context = _context(assessment)
    chart = _svg(context["charts"]["trend"])
    # Drawn literally, tags and all, on one line each: no bold run, no line break, no link.
    labels = _svg_texts(chart)
    assert PLOTLY_MARKUP in labels
    assert XSS[0] in labels
    assert "font-weight: bold" not in chart and "<a " not in chart
    from reports.pdf import render_pdf

    pdf, _pages, _fetcher = render_pdf(render_html(context, standalone=True))
    text = _text(pdf)
    assert '<script>alert("x")</script>' in text  # shown literally, as text
    assert "<img src=x onerror=alert(1)>" in text
    assert "<b>bold</b><br><a href=" in _flat(text)


def test_the_cover_lists_only_roles_that_answered(personas: Personas) -> None:
    _three_engineers(personas.assessment_a)
    html = (
        login(personas.alice)
        .get(reverse("reports:report", args=[personas.assessment_a.pk]))
        .content.decode()
    )
    assert "<dt>Respondents</dt><dd>3 (engineering 3)</dd>" in html


def test_csv_and_xlsx_round_trip_and_escape_formulas(demo: Assessment, personas: Personas) -> None:
    demo.export_named_answers = True  # chosen at creation: answers by respondent
    demo.save()
    respondent = demo.respondents.first()
    assert respondent is not None
    answer = respondent.answers.exclude(choice="number").first()
    assert answer is not None
    answer.comment = '=HYPERLINK("http://evil","click")'
    answer.save()
    client = login(_owner(demo))
    csv = client.get(reverse("reports:export", args=[demo.pk, "answers.csv"]))
    assert csv["Content-Disposition"].startswith("attachment;")
    frame = pd.read_csv(io.BytesIO(csv.content), encoding="utf-8-sig")
    result = result_compute(assessment=demo).data
    assert len(frame) == sum(
        1 for _ in demo.respondents.all() for _a in _.answers.exclude(choice="none")
    )
    assert '\'=HYPERLINK("http://evil","click")' in set(frame["comment"].dropna())
    xlsx = client.get(reverse("reports:export", args=[demo.pk, "workbook.xlsx"]))
    sheets = pd.read_excel(io.BytesIO(xlsx.content), sheet_name=None)
    # The demo's process catalogue adds its pilot backlog.
    assert set(sheets) == {"Answers", "Scores", "Findings", "Roadmap", "Plan", "Pilot_backlog"}
    assert sheets["Pilot_backlog"]["process"].iloc[0] == "Dependency updates"
    scores = sheets["Scores"].set_index("id")
    assert scores.loc["readiness", "score"] == pytest.approx(result["readiness"]["score"], abs=1e-3)
    for c in result["capabilities"]:
        assert scores.loc[c["id"], "score"] == pytest.approx(c["score"], abs=1e-3)
    assert list(sheets["Roadmap"]["title"]) == [i["title"] for i in result["roadmap"]]
    document = json.loads(
        client.get(reverse("reports:export", args=[demo.pk, "result.json"])).content
    )
    assert document["result"]["readiness"] == result["readiness"]
    assert document["assessment"]["rubric"] == "operationalization-2"


def test_answers_export_of_an_anonymous_assessment_holds_counts_not_people(
    demo: Assessment,
) -> None:
    demo.anonymous = True
    demo.save()
    frame = exports.tables(demo, result_compute(assessment=demo).data)["answers"]
    assert "respondent" not in frame.columns and "comment" not in frame.columns
    assert set(frame["question_id"]) == {q.id for q in demo.rubric.questions} | {
        f.id for f in demo.rubric.facts
    }
    assert not any("Halvorsen" in str(v) for v in frame.to_numpy().ravel())


def test_answers_by_respondent_are_exported_only_when_the_assessment_said_so(
    demo: Assessment, personas: Personas
) -> None:
    client = login(_owner(demo))

    def answers() -> pd.DataFrame:
        response = client.get(reverse("reports:export", args=[demo.pk, "answers.csv"]))
        return pd.read_csv(io.BytesIO(response.content), encoding="utf-8-sig")

    counted = answers()
    assert "respondent" not in counted.columns
    assert counted["answered"].max() >= 3
    demo.export_named_answers = True
    demo.save()
    named = answers()
    assert "respondent" in named.columns and "comment" in named.columns


@pytest.mark.parametrize("value", ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx", "\x01x"])
def test_formula_like_cells_are_escaped(value: str) -> None:
    assert exports.safe_cell(value) == "'" + value
    assert exports.safe_cell("plain") == "plain"
    assert exports.safe_cell(-3) == -3


def test_unknown_export_kind_is_404(demo: Assessment) -> None:
    assert (
        login(_owner(demo))
        .get(reverse("reports:export", args=[demo.pk, "secrets.txt"]))
        .status_code
        == 404
    )


def test_share_link_shows_the_report_to_a_reader_without_an_account(demo: Assessment) -> None:
    owner = login(_owner(demo))
    owner.post(reverse("reports:share_create", args=[demo.pk]), {"days": "7"})
    page = owner.get(reverse("reports:report", args=[demo.pk])).content.decode()
    start = page.index('id="fresh-share" value="') + len('id="fresh-share" value="')
    url = page[start : page.index('"', start)]
    token = url.rstrip("/").rsplit("/", 1)[1]
    reader = Client()
    response = reader.get(url)
    assert response.status_code == 302
    assert token not in response["Location"]
    assert response["Referrer-Policy"] == "no-referrer"
    report = reader.get(response["Location"])
    assert report.status_code == 200
    assert b"Executive summary" in report.content and b"Read-only report" in report.content
    # The reader can't reach anything else.
    assert reader.get(reverse("reports:results", args=[demo.pk])).status_code == 302
    # Revoked: the same link and the session it opened stop working.
    link = ShareLink.objects.get(assessment=demo)
    owner.post(reverse("reports:share_revoke", args=[demo.pk, link.pk]))
    assert reader.get(url).status_code == 404
    assert reader.get(response["Location"]).status_code == 404


def test_expired_and_unknown_share_links_look_the_same(demo: Assessment) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from assessments.models import hash_token

    ShareLink.objects.create(
        assessment=demo,
        token_hash=hash_token("old-token"),
        expires_at=timezone.now() - timedelta(seconds=1),
    )
    a = Client().get(reverse("reports:shared", args=["old-token"]))
    b = Client().get(reverse("reports:shared", args=["never-issued"]))
    assert a.status_code == b.status_code == 404
    assert a.content.split(b"<main")[1] == b.content.split(b"<main")[1]


def test_share_link_lifetime_is_bounded(demo: Assessment) -> None:
    owner = login(_owner(demo))
    owner.post(reverse("reports:share_create", args=[demo.pk]), {"days": "4000"})
    assert not ShareLink.objects.exists()


def test_comparison_shows_deltas_between_two_assessments(demo: Assessment) -> None:
    later = services.assessment_create(
        organisation=demo.organisation,
        title="Spring 2027",
        created_by=_owner(demo),
        rubric_id="operationalization",
        rubric_version=1,
    )
    question = demo.rubric.capability("rev.policy-ownership").questions[0]
    for _i in range(3):
        respondent, _ = invite(later, role="engineering")
        services.answer_save(
            respondent=respondent, question_id=question.id, value="5", comment="", seq=1
        )
        services.respondent_submit(respondent=respondent)
    response = login(_owner(demo)).get(reverse("reports:compare", args=[later.pk, demo.pk]))
    html = response.content.decode()
    before = next(
        c
        for c in result_compute(assessment=demo).data["capabilities"]
        if c["id"] == "rev.policy-ownership"
    )["exact_level"]
    assert response.status_code == 200
    assert f"Review policy and ownership: {before:.1f} → 5.0" in html
    assert 'id="trend-figure"' in html


def test_render_report_command_writes_every_format(demo: Assessment, tmp_path: Path) -> None:
    for fmt in ["html", "json", "xlsx", "csv"]:
        out = tmp_path / f"report.{fmt}"
        call_command("render_report", "demo", "--format", fmt, "--out", str(out))
        assert out.stat().st_size > 1000, fmt
    assert json.loads((tmp_path / "report.json").read_text())["result"]["respondents"] == 12


def test_pdf_job_is_claimed_once_even_if_delivered_twice(
    demo: Assessment, settings: Any, tmp_path: Path
) -> None:
    from reports.jobs import pdf_render

    settings.MEDIA_ROOT = str(tmp_path)
    job = ReportJob.objects.create(assessment=demo, render_hash="x" * 64)
    pdf_render(job_id=str(job.pk))
    job.refresh_from_db()
    assert (job.status, job.attempts, job.progress) == ("succeeded", 1, 100)
    first_file = job.file.name
    pdf_render(job_id=str(job.pk))  # the redelivered copy of the task
    job.refresh_from_db()
    assert (job.attempts, job.file.name) == (1, first_file)
    assert PdfReader(job.file.path).pages
