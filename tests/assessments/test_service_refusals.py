"""The survey services' refusals say what a person reads on the page, and the small state
changes (counting a response again, a link's new expiry, a reissued link's label) land.

Found by `make mutate`: each of these could change without any test noticing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory

from assessments import access, services
from assessments.models import Answer, Invitation, Respondent
from tests.factories import add_member, invite, make_assessment, make_org, make_user

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture
def assessment() -> Any:
    return make_assessment(make_org("Acme"))


def test_joining_through_a_link_that_cannot_take_people_says_why(assessment: Any) -> None:
    _, token = invite(assessment)
    personal = Invitation.objects.get(assessment=assessment, kind=Invitation.Kind.PERSONAL)
    with pytest.raises(services.SurveyInputError) as caught:
        services.respondent_join(invitation=personal, role="engineering")
    assert str(caught.value) == "This link is not an open link."

    link = services.invitation_create_open(assessment=assessment, max_respondents=1).invitation
    services.respondent_join(invitation=link, role="engineering", name="  Kim  ")
    assert Respondent.objects.filter(invitation=link).get().name == "Kim"
    with pytest.raises(services.LinkFullError) as caught:
        services.respondent_join(invitation=link, role="engineering")
    assert str(caught.value) == "This link already has as many people as its owner allowed."

    assessment.close(NOW)
    with pytest.raises(services.SurveyClosedError) as caught:
        services.respondent_join(invitation=link, role="engineering")
    assert str(caught.value) == "This assessment is closed and no longer takes answers."


def test_only_open_links_take_a_cap_and_a_cap_can_set_the_expiry(assessment: Any) -> None:
    invite(assessment)
    personal = Invitation.objects.get(assessment=assessment, kind=Invitation.Kind.PERSONAL)
    with pytest.raises(services.SurveyInputError) as caught:
        services.invitation_limit(invitation=personal, max_respondents=3, days=None)
    assert str(caught.value) == "Only open links have a cap."

    link = services.invitation_create_open(assessment=assessment).invitation
    services.invitation_limit(invitation=link, max_respondents=3, days=2, now=NOW)
    link.refresh_from_db()
    assert (link.max_respondents, link.expires_at) == (3, NOW + timedelta(days=2))
    services.invitation_limit(invitation=link, max_respondents=None, days=None, now=NOW)
    link.refresh_from_db()
    assert (link.max_respondents, link.expires_at) == (None, NOW + timedelta(days=2))


def test_a_left_out_response_can_be_counted_again(assessment: Any) -> None:
    respondent, _ = invite(assessment)
    services.respondent_exclude(respondent=respondent, excluded=True, now=NOW)
    respondent.refresh_from_db()
    assert respondent.excluded_at == NOW
    services.respondent_exclude(respondent=respondent, excluded=False, now=NOW)
    respondent.refresh_from_db()
    assert respondent.excluded_at is None


def test_a_reissued_link_is_labelled_as_it_was_issued(assessment: Any) -> None:
    services.invitation_create_personal(
        assessment=assessment, role="product", name="", email="kim@example.com"
    )
    services.invitation_create_personal(
        assessment=assessment, role="leadership", name="Sam", email="sam@example.com"
    )
    by_email = Invitation.objects.get(respondents__email="kim@example.com")
    named = Invitation.objects.get(respondents__name="Sam")
    issued = services.invitation_reissue(invitation=by_email, now=NOW)
    assert (issued.label, issued.role) == ("kim@example.com", "product")
    issued = services.invitation_reissue(invitation=named, now=NOW)
    assert (issued.label, issued.role) == ("Sam", "leadership")
    link = services.invitation_create_open(assessment=assessment)
    assert (link.label, link.role) == ("Open link", "")
    issued = services.invitation_reissue(invitation=link.invitation, now=NOW)
    assert (issued.label, issued.role) == ("Open link", "")


def test_fact_answers_keep_the_comment_and_refuse_fractions_with_the_reason(
    assessment: Any,
) -> None:
    respondent, _ = invite(assessment, role="engineering")
    fact = next(f for f in assessment.rubric.facts if f.integer and "engineering" in f.audience)
    parse = services.parse_answer
    blank = parse(respondent=respondent, question_id=fact.id, value="", comment="why")
    assert (blank.choice, blank.number, blank.comment) == (Answer.Choice.NONE, None, "why")
    unknown = parse(respondent=respondent, question_id=fact.id, value="dk", comment="why")
    assert (unknown.choice, unknown.number, unknown.comment) == (
        Answer.Choice.DONT_KNOW,
        None,
        "why",
    )
    with pytest.raises(services.SurveyInputError) as caught:
        parse(respondent=respondent, question_id=fact.id, value="2.5", comment="")
    assert str(caught.value) == "Enter a whole number."


def test_a_read_only_member_is_told_their_role_is_read_only(assessment: Any) -> None:
    reader = make_user("reader")
    add_member(reader, assessment.organisation, "member")
    request = RequestFactory().get("/")
    request.user = reader
    with pytest.raises(PermissionDenied) as caught:
        access.get_assessment_for_user(request, assessment.pk, write=True)
    assert str(caught.value) == "Your role in this organisation is read-only."
    with pytest.raises(PermissionDenied) as caught:
        access.get_org_for_user(request, str(assessment.organisation_id), write=True)
    assert str(caught.value) == "Your role in this organisation is read-only."


def test_one_browser_keeps_every_survey_it_opened(assessment: Any) -> None:
    # Two colleagues on one shared machine, or one person with two personal links.
    first, _ = invite(assessment, name="Kim")
    second, _ = invite(assessment, name="Sam")
    request = RequestFactory().get("/")
    request.session = {}  # type: ignore[assignment]
    access.remember_respondent(request, first)
    access.remember_respondent(request, second)
    assert access.get_respondent_for_session(request, first.pk) == first
    assert access.get_respondent_for_session(request, second.pk) == second
    assert access.session_has_respondent(request, str(first.pk))
