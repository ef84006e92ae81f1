"""Evidence that does not overreach: a scan of some repositories is weighed by the share of
the organisation they are, alternatives (one CI system or another) read as one fact, and the
report says what was scanned and what was not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from assessments import services
from assessments.models import Assessment
from assessments.scans.models import ScanRun
from assessments.scans.services import evidence_for, run_execute
from reports.rendering import render_html, report_context
from reports.services import result_compute
from tests.factories import Personas, invite
from tests.scans.test_app import _repo, _targz

pytestmark = pytest.mark.django_db


def _claim_everything_at(assessment: Assessment, level: int) -> None:
    for _ in range(3):
        respondent, _token = invite(assessment, role="engineering")
        for question in services.questions_for(respondent):
            services.answer_save(
                respondent=respondent, question_id=question.id, value=str(level), comment="", seq=1
            )
        services.respondent_submit(respondent=respondent)


def _scan_one_repository(assessment: Assessment, owner: Any, tmp_path: Path) -> None:
    client = Client()
    client.force_login(owner)
    client.post(
        reverse("scans:add", args=[assessment.pk, "repo_archive"]),
        {"file": SimpleUploadedFile("service-a.tar.gz", _targz(_repo(tmp_path)))},
    )
    run_execute(run_id=str(ScanRun.objects.get(assessment=assessment).pk))


def _capability(assessment: Assessment, capability_id: str) -> dict[str, Any]:
    result = result_compute(assessment=assessment).data
    return next(c for c in result["capabilities"] if c["id"] == capability_id)


@pytest.fixture
def scanned(personas: Personas, tmp_path: Path) -> Assessment:
    """Three engineers claim level 5 everywhere; one repository without OpenAPI files (or any
    interface specification) is scanned."""
    assessment = personas.assessment_a
    _claim_everything_at(assessment, 5)
    _scan_one_repository(assessment, personas.alice, tmp_path)
    return assessment


def test_one_repository_of_ten_without_specs_does_not_refute_an_organisation_wide_claim(
    scanned: Assessment,
) -> None:
    Assessment.objects.filter(pk=scanned.pk).update(repositories_in_scope=10)
    scanned.refresh_from_db()
    capability = _capability(scanned, "int.system-access")
    evidence = capability["evidence"]
    assert evidence["absent"] >= 1, "the scan looked for interface specifications"
    assert evidence["verdict"] != "contradicts"
    assert evidence["scope"] == pytest.approx(0.1)
    # One tenth of the organisation moves the score by at most a twentieth of the way.
    assert capability["score"] - evidence["adjusted_score"] <= 0.05 * capability["score"] + 1e-6


def test_the_same_repository_as_the_whole_scope_does_refute_it(scanned: Assessment) -> None:
    Assessment.objects.filter(pk=scanned.pk).update(repositories_in_scope=1)
    scanned.refresh_from_db()
    evidence = _capability(scanned, "int.system-access")["evidence"]
    assert evidence["scope"] == pytest.approx(1.0)
    assert (evidence["verdict"], evidence["direction"]) == ("contradicts", "overclaim")


def test_an_unrecorded_scope_never_lets_absence_refute_a_claim(scanned: Assessment) -> None:
    assert scanned.repositories_in_scope is None
    evidence = _capability(scanned, "int.system-access")["evidence"]
    assert evidence["verdict"] != "contradicts"
    assert evidence["scope"] < 0.5


def test_other_ci_systems_are_one_fact_with_github_actions_not_contradictions(
    scanned: Assessment,
) -> None:
    Assessment.objects.filter(pk=scanned.pk).update(repositories_in_scope=1)
    scanned.refresh_from_db()
    ci = [
        f
        for f in evidence_for(scanned)
        if f.capability == "dep.ci-small-batches" and f.title.startswith("CI:")
    ]
    assert [(f.status, f.title) for f in ci] == [("found", "CI: GitHub Actions workflows")]
    result = result_compute(assessment=scanned).data
    named = {"Jenkins", "CircleCI", "Azure Pipelines", "Buildkite", "Bitbucket"}
    for entry in result["evidence_register"]:
        for finding in entry["findings"]:
            assert not any(name in finding["title"] for name in named), finding
    capability = next(c for c in result["capabilities"] if c["id"] == "dep.ci-small-batches")
    absent = [f["title"] for f in capability["evidence"]["findings"] if f["status"] == "absent"]
    assert not any(name in title for title in absent for name in named), absent


def test_the_report_says_what_was_scanned_and_what_was_not(scanned: Assessment) -> None:
    Assessment.objects.filter(pk=scanned.pk).update(repositories_in_scope=10)
    scanned.refresh_from_db()
    result = result_compute(assessment=scanned).data
    html = render_html(
        report_context(assessment=scanned, result=result, for_pdf=False), standalone=False
    )
    text = " ".join(html.split())
    assert "1 repository (service-a.tar.gz) of 10 in scope, 10% of the organisation" in text
    assert "9 not scanned" in text
    assert "from sources covering 10% of the organisation" in text
    assert "in place: CI: GitHub Actions workflows" in text


def test_the_number_in_scope_is_asked_at_creation_and_kept(personas: Personas) -> None:
    client = Client()
    client.force_login(personas.alice)
    response = client.post(
        reverse("assessments:create", args=[personas.org_a.pk]),
        {"title": "Q3", "rubric": "operationalization-1", "repositories_in_scope": "12"},
    )
    assert response.status_code == 302, response.content.decode()[:500]
    assert Assessment.objects.get(title="Q3").repositories_in_scope == 12


def test_the_results_page_says_what_was_scanned_and_marks_a_partial_scan(
    scanned: Assessment, personas: Personas
) -> None:
    Assessment.objects.filter(pk=scanned.pk).update(repositories_in_scope=10)
    client = Client()
    client.force_login(personas.alice)
    html = " ".join(
        client.get(reverse("reports:results", args=[scanned.pk])).content.decode().split()
    )
    assert "1 repository (service-a.tar.gz) of 10 in scope" in html
    assert "partial scan" in html
    assert 'name="repositories_in_scope" value="10"' in html
