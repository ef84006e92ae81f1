"""Comparisons that are fair: a report compares itself with the previous assessment only when
the two are alike (same rubric version, same scope, enough respondents on both sides, both
scanned or both not), shows both populations and its caveats, and otherwise says why not."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from assessments import services
from assessments.demo import DEMO_ASSESSMENT_ID, seed_demo
from assessments.models import Assessment, Membership
from reports.compare import MIN_RESPONDENTS, comparability
from reports.jobs import comparison_for
from reports.rendering import render_html, report_context
from reports.services import result_compute
from tests.factories import invite


def _side(**changes: Any) -> dict[str, Any]:
    side = {
        "title": "Q1",
        "respondents": 12,
        "by_role": {"engineering": 6, "leadership": 3, "operations": 3},
        "scope": "Whole organisation",
        "scanned": False,
        "rubric": "operationalization-1",
    }
    return {**side, **changes}


@pytest.mark.parametrize(
    ("later", "reason"),
    [
        (_side(respondents=3, by_role={"engineering": 3}), "12 respondents against 3"),
        (_side(respondents=5), "at least half the larger"),
        (_side(scope="Platform"), "different parts of the organisation"),
        (_side(scanned=True), "only the later one was checked against integration scans"),
        (_side(rubric="operationalization-2"), "different rubric versions"),
    ],
)
def test_unlike_assessments_are_not_compared_and_the_reason_is_given(
    later: dict[str, Any], reason: str
) -> None:
    reasons, caveats = comparability(_side(respondents=12), later)
    assert any(reason in r for r in reasons), reasons
    assert not caveats


def test_alike_assessments_are_compared_with_their_caveats() -> None:
    reasons, caveats = comparability(_side(), _side(by_role={"engineering": 8, "leadership": 4}))
    assert reasons == []
    assert any("mix of roles changed" in c and "operations 3 → 0" in c for c in caveats)
    assert any("not necessarily the same people" in c for c in caveats)


def test_the_minimum_is_documented() -> None:
    from pathlib import Path

    methodology = Path("docs/methodology.md").read_text(encoding="utf-8")
    assert f"at least **{MIN_RESPONDENTS}** submitted respondents" in methodology


@pytest.mark.django_db
def test_a_report_does_not_compare_twelve_respondents_with_three() -> None:
    seed_demo()
    demo = Assessment.objects.get(pk=DEMO_ASSESSMENT_ID)
    owner = Membership.objects.get(organisation=demo.organisation, role="owner").user
    later = services.assessment_create(
        organisation=demo.organisation,
        title="Spring 2027",
        created_by=owner,
        rubric_id=demo.rubric_id,
        rubric_version=demo.rubric_version,  # alike but for the number of respondents
    )
    for _ in range(3):
        respondent, _token = invite(later, role="engineering")
        for question in services.questions_for(respondent):
            services.answer_save(
                respondent=respondent, question_id=question.id, value="4", comment="", seq=1
            )
        services.respondent_submit(respondent=respondent)
    comparison = comparison_for(later)
    assert comparison is not None and comparison["comparable"] is False
    assert "capabilities" not in comparison and "series" not in comparison
    result = result_compute(assessment=later).data
    context = report_context(assessment=later, result=result, for_pdf=False, comparison=comparison)
    assert context["charts"]["trend"] is None
    html = " ".join(render_html(context, standalone=False).split())
    section = html[html.index('id="comparison"') :]
    section = section[: section.index("</section>")]
    assert "Not compared: 12 respondents against 3: each needs at least 5" in section
    # Both populations are shown.
    assert f'<th scope="row">{demo.title}</th><td>12</td>' in section
    assert '<th scope="row">Spring 2027</th><td>3</td><td>engineering 3</td>' in section
    assert "Overall readiness" not in section


@pytest.mark.django_db
def test_an_assessment_whose_every_response_was_excluded_does_not_hide_the_one_before() -> None:
    seed_demo()
    demo = Assessment.objects.get(pk=DEMO_ASSESSMENT_ID)
    owner = Membership.objects.get(organisation=demo.organisation, role="owner").user

    def later_assessment(title: str, people: int) -> Assessment:
        made = services.assessment_create(
            organisation=demo.organisation,
            title=title,
            created_by=owner,
            rubric_id=demo.rubric_id,
            rubric_version=demo.rubric_version,
        )
        for _ in range(people):
            respondent, _token = invite(made, role="engineering")
            for question in services.questions_for(respondent):
                services.answer_save(
                    respondent=respondent, question_id=question.id, value="4", comment="", seq=1
                )
            services.respondent_submit(respondent=respondent)
        return made

    winter = later_assessment("Winter trial", 2)
    for respondent in winter.respondents.all():
        services.respondent_exclude(respondent=respondent, excluded=True)
    spring = later_assessment("Spring 2027", 3)
    Assessment.objects.filter(pk=winter.pk).update(created_at=demo.created_at + timedelta(days=1))
    Assessment.objects.filter(pk=spring.pk).update(created_at=demo.created_at + timedelta(days=2))
    spring.refresh_from_db()

    comparison = comparison_for(spring)
    # Compared with the demo (and refused for its size, with both populations shown), not
    # left without a comparison by the empty trial in between.
    assert comparison is not None
    assert comparison["populations"]["previous"]["title"] == demo.title
    assert comparison["populations"]["previous"]["respondents"] == 12
    # Counting one winter response again makes winter the previous assessment once more.
    services.respondent_exclude(respondent=winter.respondents.first(), excluded=False)
    comparison = comparison_for(spring)
    assert comparison is not None
    assert comparison["populations"]["previous"]["title"] == "Winter trial"
