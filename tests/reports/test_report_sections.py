"""The gap report with everything in it (an earlier assessment, scan evidence, delivery records,
a scan source) says what the result says, section by section; stored PDFs are reused only
while they would come out the same; share links serve only the current PDF and cannot be
guessed at speed; the JSON and table exports are documented as they are."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from assessments.demo import DEMO_ASSESSMENT_ID, seed_demo
from assessments.models import Answer, Assessment, Membership, Respondent, hash_token
from assessments.scans import services as scan_services
from reports import charts, exports
from reports.jobs import comparison_for, pdf_request
from reports.models import ReportJob, ShareLink
from reports.numbers import difference, level_text, num
from reports.rendering import branding_for, render_hash, render_html, report_context
from reports.services import result_compute
from tests.reports.test_results_evidence import FINDINGS, _delivery

pytestmark = pytest.mark.django_db
SCHEMA_DOC = Path(django_settings.BASE_DIR) / "docs" / "result-schema.md"


@pytest.fixture
def demo() -> Assessment:
    seed_demo()
    return Assessment.objects.get(pk=DEMO_ASSESSMENT_ID)


def _owner(assessment: Assessment) -> Any:
    return Membership.objects.get(organisation=assessment.organisation, role="owner").user


def _earlier(assessment: Assessment, title: str) -> Assessment:
    """A copy of the assessment half a year earlier, every answer one level lower."""
    earlier = Assessment.objects.create(
        organisation=assessment.organisation,
        title=title,
        rubric_id=assessment.rubric_id,
        rubric_version=assessment.rubric_version,
        created_at=assessment.created_at - timedelta(days=180),
    )
    for n, respondent in enumerate(assessment.respondents.filter(status="submitted")):
        copy = Respondent.objects.create(
            assessment=earlier,
            role=respondent.role,
            name=f"Earlier {n}",
            status="submitted",
            submitted_at=respondent.submitted_at,
        )
        for answer in respondent.answers.all():
            Answer.objects.create(
                respondent=copy,
                question_id=answer.question_id,
                choice=answer.choice,
                level=max(1, answer.level - 1) if answer.level else None,
                number=answer.number,
            )
    return earlier


@pytest.fixture
def everything(
    demo: Assessment, settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Assessment:
    """The demo with an earlier assessment, scan findings, delivery records (AI-assisted
    changes marked) and a deployments export among its scan sources."""
    settings.MEDIA_ROOT = str(tmp_path)
    monkeypatch.setattr("reports.services.evidence_for", lambda assessment: list(FINDINGS))
    monkeypatch.setattr("reports.services.delivery_for", lambda assessment: _delivery())
    _earlier(demo, "Spring baseline")
    now = timezone.now()
    lines = ["id,time,status,shas"] + [
        f"d{i},{(now - timedelta(days=i)).isoformat()},success,{i:07x}a" for i in range(1, 40)
    ]
    scan_services.source_add(
        assessment=demo,
        kind="deployments",
        user=None,
        label="Production deploys",
        upload=SimpleUploadedFile("deploys.csv", "\n".join(lines).encode()),
    )
    return demo


def _pdf_text(assessment: Assessment) -> tuple[PdfReader, str]:
    from reports.pdf import render_pdf

    result = result_compute(assessment=assessment).data
    context = report_context(
        assessment=assessment,
        result=result,
        for_pdf=True,
        comparison=comparison_for(assessment),
    )
    pdf, _pages, _fetcher = render_pdf(render_html(context, standalone=True))
    reader = PdfReader(io.BytesIO(pdf))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def _flat(text: str) -> str:
    return " ".join(text.split())


def _section(text: str, start: str, end: str) -> str:
    begin = text.index(start)
    return text[begin : text.index(end, begin)]


def test_the_pdf_shows_comparison_evidence_delivery_facts_and_scan_sources(
    everything: Assessment,
) -> None:
    reader, text = _pdf_text(everything)
    flat = _flat(text)
    result = result_compute(assessment=everything).data
    comparison = comparison_for(everything)
    assert comparison is not None
    contents = _flat(reader.pages[1].extract_text())
    for entry in ["Four dimensions", "Delivery metrics", "What changed since Spring baseline"]:
        assert entry in contents, entry

    # What changed: the headline with its sign, the trend chart's numbers per assessment and
    # capability changes that are the difference of the levels printed beside them.
    changed = _section(flat, "What changed since Spring baseline Compared", "Appendix A.")
    before, now = comparison["previous"]["readiness"], comparison["current"]["readiness"]
    headline = f"Overall readiness {num(before, 0)} → {num(now, 0)} ({difference(now, before, 0)})"
    assert headline in changed
    assert "(+" in headline
    assert "different rubric versions" not in changed
    # Both populations and the caveats stand in the comparison itself.
    assert "Spring baseline 12 " in changed and "scanned" in changed
    assert "Caveats: levels are medians of the people who answered each time" in changed
    assert "Score (0-100)" in changed  # the trend chart's axis: a vector drawing with text
    for point in comparison["series"]:
        scores = [num(point["dimensions"][d["id"]], 0) for d in comparison["dimensions"]]
        row = " ".join([point["date"], num(point["readiness"], 0), *scores])
        assert row in changed, row
    for cap in comparison["capabilities"]:
        was, is_ = level_text(cap["before"]), level_text(cap["now"])
        change = float(is_) - float(was)
        assert f"{cap['title']} {was} {is_} {cap['delta_text']}" in changed
        assert float(cap["delta_text"]) == pytest.approx(change)
        assert cap["delta_text"].startswith("+") == (change > 0)

    # Claims versus evidence: every contradicted claim, its findings, and a distance in points
    # that is the difference of the two scores as printed.
    evidence = _section(flat, "Where the answers and the scan evidence disagree", "The review wall")
    assert result["evidence_register"]
    for entry in result["evidence_register"]:
        claim, found = num(entry["claim_score"], 0), num(entry["evidence_score"], 0)
        apart = abs(int(claim) - int(found))
        assert f"{found} ({apart} points apart)" in evidence
        for finding in entry["findings"]:
            assert finding["title"] in evidence

    # Delivery: the measures, the AI-assisted split and the weekly numbers the chart plots.
    delivery = _section(flat, "Delivery metrics Measure", "Roadmap")
    assert "Lead time for changes: AI-assisted vs other (n) 10.0 h (8) vs 30.0 h (12)" in delivery
    assert "Week of Deployments Median lead time" in delivery
    for week in result["delivery"]["weekly"]:
        hours = week["median_lead_time_hours"]
        lead = "-" if hours is None else f"{num(hours, 1)} h"
        assert f"{charts.day_text(week['week'])} {week['deployments']} {lead}" in delivery, week

    # Appendix: the numeric questions and the scan source with its run.
    appendix = flat[flat.index("C. Questions and answer distributions") :]
    assert "Numeric questions" in appendix
    prs = result["facts"]["fact.prs-per-week"]
    assert (
        f"PRs per week {num(prs['median'], 1).removesuffix('.0')} "
        f"{num(prs['low'], 0)}–{num(prs['high'], 0)} {prs['n']}"
    ) in appendix
    assert re.search(
        r"D\. Scan sources Source Ran Findings Production deploys .+ 39 rows", appendix
    )


def test_the_pdf_names_a_comparison_across_rubric_versions(everything: Assessment) -> None:
    result = result_compute(assessment=everything).data
    comparison = comparison_for(everything)
    assert comparison is not None
    context = report_context(
        assessment=everything,
        result=result,
        for_pdf=True,
        comparison={**comparison, "same_rubric": False},
    )
    html = render_html(context, standalone=True)
    section = html[html.index('id="comparison"') :]
    assert "The two assessments used different rubric versions" in section


def test_the_text_alternatives_hold_the_charts_numbers(everything: Assessment) -> None:
    result = result_compute(assessment=everything).data
    comparison = comparison_for(everything)
    assert comparison is not None
    weeks = charts.delivery_weeks_table(result)
    assert [row[1] for row in weeks[1:]] == [
        str(w["deployments"]) for w in result["delivery"]["weekly"]
    ]
    trend = charts.trend_table(comparison)
    assert trend[0][:3] == ["Assessment", "Date", "Overall readiness"]
    assert [row[0] for row in trend[1:]] == [p["title"] for p in comparison["series"]]


def test_a_stored_pdf_is_reused_only_while_the_cover_and_appendix_are_unchanged(
    demo: Assessment, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    owner = _owner(demo)
    first = pdf_request(assessment=demo, user=owner, paper="a4")
    ReportJob.objects.filter(pk=first.pk).update(status=ReportJob.Status.SUCCEEDED)
    assert pdf_request(assessment=demo, user=owner, paper="a4").pk == first.pk
    # Renaming the organisation changes the cover: a new PDF, not the stored one.
    demo.organisation.name = "Halvorsen Freight"
    demo.organisation.save()
    renamed = pdf_request(assessment=demo, user=owner, paper="a4")
    assert renamed.pk != first.pk
    ReportJob.objects.filter(pk=renamed.pk).update(status=ReportJob.Status.SUCCEEDED)
    demo.title = "Readiness, winter 2026"
    demo.save()
    retitled = pdf_request(assessment=demo, user=owner, paper="a4")
    assert retitled.pk not in (first.pk, renamed.pk)
    # The methodology text in the appendix counts too.
    result = result_compute(assessment=demo).data

    def digest() -> str:
        return render_hash(result, assessment=demo, paper="a4", branding=None, comparison=None)

    before = digest()
    edited = tmp_path / "methodology.md"
    edited.write_text("# Methodology\n\nA corrected formula.\n")
    monkeypatch.setattr("reports.rendering.METHODOLOGY", edited)
    assert digest() != before


def _shared_reader(assessment: Assessment) -> tuple[Client, ShareLink]:
    link = ShareLink.objects.create(
        assessment=assessment,
        token_hash=hash_token("a-share-token"),
        created_by=_owner(assessment),
        expires_at=timezone.now() + timedelta(days=7),
    )
    reader = Client()
    assert reader.get(reverse("reports:shared", args=["a-share-token"])).status_code == 302
    return reader, link


def _finished(assessment: Assessment, digest: str, content: bytes) -> ReportJob:
    job = ReportJob.objects.create(
        assessment=assessment, render_hash=digest, status=ReportJob.Status.SUCCEEDED
    )
    job.file.save("report.pdf", ContentFile(content))
    return job


def test_a_share_link_downloads_only_the_pdf_of_the_report_as_it_stands(
    demo: Assessment, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    reader, link = _shared_reader(demo)
    result = result_compute(assessment=demo).data
    current = render_hash(
        result,
        assessment=demo,
        paper="a4",
        branding=branding_for(demo, link.created_by),
        comparison=comparison_for(demo),
    )
    stale = _finished(demo, "0" * 64, b"%PDF-1.7 results as they were last month")
    fresh = _finished(demo, current, b"%PDF-1.7 results as they are")
    page = reader.get(reverse("reports:shared_report", args=[link.pk])).content.decode()
    assert reverse("reports:shared_download", args=[link.pk, fresh.pk]) in page
    assert reverse("reports:shared_download", args=[link.pk, stale.pk]) not in page
    old = reader.get(reverse("reports:shared_download", args=[link.pk, stale.pk]))
    assert old.status_code == 404
    new = reader.get(reverse("reports:shared_download", args=[link.pk, fresh.pk]))
    assert new.status_code == 200 and new.content == b"%PDF-1.7 results as they are"


def test_guessing_share_tokens_is_rate_limited(demo: Assessment, settings: Any) -> None:
    settings.TOKEN_RATE_LIMIT_PER_MINUTE = 3
    cache.clear()
    ShareLink.objects.create(
        assessment=demo,
        token_hash=hash_token("the-real-token"),
        expires_at=timezone.now() + timedelta(days=7),
    )
    guesser = Client()
    statuses = [
        guesser.get(reverse("reports:shared", args=[f"guess-{i}"])).status_code for i in range(5)
    ]
    assert statuses == [404, 404, 404, 429, 429]
    # Past the limit even a real token waits out the minute; another address is not affected.
    limited = guesser.get(reverse("reports:shared", args=["the-real-token"]))
    assert limited.status_code == 429 and limited["Retry-After"] == "60"
    other = Client(REMOTE_ADDR="10.9.8.7")
    assert other.get(reverse("reports:shared", args=["the-real-token"])).status_code == 302
    cache.clear()


def test_the_schema_doc_describes_the_export_as_it_is(demo: Assessment) -> None:
    doc = SCHEMA_DOC.read_text(encoding="utf-8")
    result = result_compute(assessment=demo).data
    document = json.loads(exports.to_json(demo, result))
    # The format names itself and points at this document, which exists.
    assert document["schema"] == "opready-result/1" and f'"schema": "{document["schema"]}"' in doc
    assert (Path(django_settings.BASE_DIR) / document["schema_docs"]).resolve() == SCHEMA_DOC
    autonomy = result["autonomy"]
    step = autonomy["steps"][1]
    section = doc[doc.index("### `autonomy`") : doc.index("### `review`")]
    # Names in code spans, alone (`checks`) or in a shape (`{capability_id, required}`).
    named = {
        word for span in re.findall(r"`([^`]+)`", section) for word in re.findall(r"\w+", span)
    }
    for key in [*step, *step["checks"][0], *autonomy["missing_for_next"][0]]:
        assert key in named, key
    for key in ["checks", "low_confidence", "claimed"]:
        assert f"`{key}`" in section, key
    assert "`Delivery`" in doc
    for column in exports.DELIVERY_COLUMNS:
        assert f"`{column}`" in doc, column
