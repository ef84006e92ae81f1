"""What counts, everywhere: only submitted answers reach a result, one test per output.

Every output is read, then someone starts the survey and answers everything at the other end
of the scale with a comment and a name, without submitting, and every output is read again:
each must be unchanged (scoring excludes unsubmitted respondents and is tested; an export or
page counting them on its own would be caught here).
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from assessments import services
from assessments.models import Assessment, hash_token
from reports.jobs import comparison_for
from reports.models import ShareLink
from reports.rendering import render_html, report_context
from reports.services import result_compute
from reports.views import EXPORT_KINDS
from tests.factories import Personas, invite, make_assessment

pytestmark = pytest.mark.django_db
SHARE_TOKEN = "what-counts-share-token-0123456789abcdefghij"
MARK = "NOT-SUBMITTED"


def _answer(assessment: Assessment, role: str, value: str, comment: str, name: str) -> Any:
    respondent, _token = invite(assessment, role=role, name=name)
    for question in services.questions_for(respondent)[:6]:
        services.answer_save(
            respondent=respondent, question_id=question.id, value=value, comment=comment, seq=1
        )
    for fact in services.facts_for(respondent):
        services.answer_save(
            respondent=respondent,
            question_id=fact.id,
            value=f"{fact.maximum:g}" if value == "5" else f"{max(fact.minimum, 1):g}",
            comment=comment,
            seq=1,
        )
    return respondent


def _svg(match: re.Match[str]) -> str:
    """A chart as its SVG, with plotly's random per-figure and per-trace ids taken out."""
    svg = base64.b64decode(match.group(1)).decode()
    for uid in set(re.findall(r"defs-([0-9a-f]{6})", svg)):
        svg = svg.replace(uid, "uid")
    return re.sub(r"\b(trace|legend)[0-9a-f]{6}\b", r"\1uid", svg)


def _normalise(text: str) -> str:
    text = re.sub(r"data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)", _svg, text)
    text = re.sub(r'nonce="[^"]*"', 'nonce=""', text)
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", text)
    return re.sub(r'"X-CSRFToken": "[^"]*"', "", text)


def _page(name: str, who: str) -> Callable[[Any], str]:
    def read(world: dict[str, Any]) -> str:
        client: Client = world[who]
        response = client.get(reverse(name, kwargs=world["kwargs"][name]))
        assert response.status_code == 200, (name, response.status_code)
        return _normalise(response.content.decode())

    return read


def _export(kind: str) -> Callable[[Any], str]:
    def read(world: dict[str, Any]) -> str:
        response = world["owner"].get(
            reverse("reports:export", args=[world["assessment"].pk, kind])
        )
        if response.status_code == 404:
            return "absent"  # e.g. no delivery records: no delivery table, before and after
        body = response.content
        if kind.endswith(".xlsx"):
            book = load_workbook(io.BytesIO(body))
            return repr([list(s.iter_rows(values_only=True)) for s in book.worksheets])
        return body.decode("utf-8-sig")

    return read


def _pdf_html(world: dict[str, Any]) -> str:
    assessment = world["assessment"]
    context = report_context(
        assessment=assessment,
        result=result_compute(assessment=assessment).data,
        for_pdf=True,
        comparison=comparison_for(assessment),
        generated_at=world["generated_at"],
    )
    return _normalise(render_html(context, standalone=True))


OUTPUTS: dict[str, Callable[[Any], str]] = {
    "results page": _page("reports:results", "owner"),
    "report page": _page("reports:report", "owner"),
    "shared report": _page("reports:shared_report", "reader"),
    "comparison": _page("reports:compare", "owner"),
    "pdf (its HTML)": _pdf_html,
    **{f"export {kind}": _export(kind) for kind in EXPORT_KINDS},
}


def _world(personas: Personas) -> dict[str, Any]:
    assessment = personas.assessment_a
    earlier = make_assessment(personas.org_a, personas.alice, title="Last year")
    Assessment.objects.filter(pk=earlier.pk).update(
        created_at=assessment.created_at - timedelta(days=120)
    )
    for target in (earlier, assessment):
        for n, role in enumerate(["engineering"] * 3 + ["leadership"] * 3):
            services.respondent_submit(
                respondent=_answer(target, role, str(2 + n % 2), "counted", f"Person {n}")
            )
    link = ShareLink.objects.create(
        assessment=assessment,
        token_hash=hash_token(SHARE_TOKEN),
        created_by=personas.alice,
        expires_at=assessment.created_at + timedelta(days=30),
    )
    owner, reader = Client(), Client()
    owner.force_login(personas.alice)
    reader.get(reverse("reports:shared", args=[SHARE_TOKEN]))
    return {
        "assessment": assessment,
        "owner": owner,
        "reader": reader,
        "generated_at": assessment.created_at,
        "kwargs": {
            "reports:results": {"assessment_id": assessment.pk},
            "reports:report": {"assessment_id": assessment.pk},
            "reports:shared_report": {"share_id": link.pk},
            "reports:compare": {"assessment_id": assessment.pk, "other_id": earlier.pk},
        },
    }


# Outputs that read no answers at all (scan findings): unchanged either way.
ANSWER_FREE = {"export findings.csv"}


@pytest.mark.parametrize("output", list(OUTPUTS))
def test_an_unsubmitted_respondent_changes_no_output(personas: Personas, output: str) -> None:
    world = _world(personas)
    read = OUTPUTS[output]
    before = read(world)
    for role in ("engineering", "leadership", "operations"):
        _answer(world["assessment"], role, "5", MARK, f"{MARK} {role}")
    after = read(world)
    assert MARK not in after
    assert after == before, f"{output} changed when someone answered without submitting"
    # ...and the same answers, once submitted, do change it (the output reads answers at all).
    if output in ANSWER_FREE or before == "absent":
        return
    for respondent in world["assessment"].respondents.exclude(status="submitted"):
        services.respondent_submit(respondent=respondent)
    assert read(world) != before
