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


def test_a_posted_page_names_each_bad_answer_and_keeps_comments_as_typed(
    assessment: Any,
) -> None:
    respondent, _ = invite(assessment, role="engineering")
    questions = [q for q in assessment.rubric.questions if "engineering" in q.audience]
    first, second = questions[0].id, questions[1].id
    with pytest.raises(services.PageInputError) as caught:
        services.answers_save_page(
            respondent=respondent, posted={first: ("7", ""), "nope.q": ("3", "")}, seq=1
        )
    assert caught.value.errors == {
        first: 'Choose one of the five levels, "Don\'t know" or "Not applicable".',
        "nope.q": "That question is not part of this assessment.",
    }
    assert str(caught.value) == "2 answers need your attention."

    services.answers_save_page(
        respondent=respondent, posted={first: ("", "line one\r\nline two")}, seq=1, now=NOW
    )
    stored = respondent.answers.get(question_id=first)
    assert (stored.choice, stored.comment) == (Answer.Choice.NONE, "line one\nline two")
    respondent.refresh_from_db()
    assert respondent.last_answer_at == NOW

    # An answer changed since the page was rendered (a later seq) is kept and reported.
    services.answers_save_page(respondent=respondent, posted={second: ("3", "")}, seq=5)
    conflicts = services.answers_save_page(
        respondent=respondent, posted={second: ("4", ""), first: ("2", "")}, seq=2
    )
    assert conflicts == [second]
    assert respondent.answers.get(question_id=second).level == 3
    assert respondent.answers.get(question_id=first).level == 2


def test_answers_after_submitting_are_refused_with_the_reason(assessment: Any) -> None:
    respondent, _ = invite(assessment, role="engineering")
    question = next(q for q in assessment.rubric.questions if "engineering" in q.audience)
    services.answers_save_page(respondent=respondent, posted={question.id: ("3", "")}, seq=1)
    assert services.respondent_submit(respondent=respondent)
    with pytest.raises(services.SurveyClosedError) as caught:
        services.answers_save_page(respondent=respondent, posted={question.id: ("4", "")}, seq=2)
    assert str(caught.value) == "You have already submitted your answers; they can't be changed."


def test_an_anonymous_assessment_cannot_promise_named_exports() -> None:
    org = make_org("Anon")
    with pytest.raises(ValueError):
        make_assessment(org, anonymous=True, export_named_answers=True)
    named = make_assessment(org, export_named_answers=True)
    anonymous = make_assessment(org, anonymous=True)
    assert (named.export_named_answers, named.anonymous) == (True, False)
    assert (anonymous.export_named_answers, anonymous.anonymous) == (False, True)


def test_one_browser_keeps_each_workshop_it_joined_and_only_as_whom_it_joined(
    assessment: Any,
) -> None:
    from assessments.workshops import services as workshops

    def run(title: str) -> Any:
        return workshops.workshop_create(
            assessment=assessment, title=title, minutes_per_capability=5, created_by=None
        )

    first, second = run("Morning"), run("Afternoon")
    kim = workshops.participant_join(workshop=first, role="engineering", display_name="Kim")
    sam = workshops.participant_join(workshop=second, role="product", display_name="Sam")
    request = RequestFactory().get("/")
    request.session = {}  # type: ignore[assignment]
    assert access.participant_in_session(request, first.pk) is None
    access.remember_participant(request, kim)
    access.remember_participant(request, sam)
    assert access.participant_in_session(request, first.pk) == str(kim.pk)
    assert access.participant_in_session(request, second.pk) == str(sam.pk)
    assert access.get_participant_for_session(request, kim.pk) == kim
    # A session whose note points a participant at another workshop is not let in as them.
    request.session[access.SESSION_PARTICIPANTS][str(kim.pk)] = str(second.pk)
    with pytest.raises(access.NotAParticipant):
        access.get_participant_for_session(request, kim.pk)


def test_a_read_only_member_is_told_who_runs_workshops(assessment: Any) -> None:
    reader = make_user("reader")
    add_member(reader, assessment.organisation, "member")
    request = RequestFactory().get("/")
    request.user = reader
    with pytest.raises(PermissionDenied) as caught:
        access.get_workshop_for_user(request, assessment.pk, assessment.pk)
    assert str(caught.value) == "Workshops are run by the organisation's owners and facilitators."


def test_a_question_for_another_role_is_refused_with_the_reason(assessment: Any) -> None:
    respondent, _ = invite(assessment, role="engineering")
    other = next(q for q in assessment.rubric.questions if "engineering" not in q.audience)
    with pytest.raises(services.SurveyInputError) as caught:
        services.parse_answer(respondent=respondent, question_id=other.id, value="3", comment="")
    assert str(caught.value) == "That question is not part of your survey."
    blank_question = next(q for q in assessment.rubric.questions if "engineering" in q.audience)
    parsed = services.parse_answer(
        respondent=respondent, question_id=blank_question.id, value="", comment=" note "
    )
    assert (parsed.choice, parsed.comment) == (Answer.Choice.NONE, "note")


def test_a_write_read_before_a_newer_one_does_not_overwrite_it(assessment: Any) -> None:
    # The deterministic twin of the race the row lock prevents: the row was read at seq 1,
    # then another request wrote seq 5 before this write of seq 2 reached the database
    # (possible where the database has no row locks). The conditional UPDATE must refuse.
    respondent, _ = invite(assessment, role="engineering")
    question = next(q for q in assessment.rubric.questions if "engineering" in q.audience)
    services.answers_save_page(respondent=respondent, posted={question.id: ("1", "")}, seq=1)
    read_early = respondent.answers.get(question_id=question.id)
    services.answers_save_page(respondent=respondent, posted={question.id: ("5", "")}, seq=5)
    parsed = services.parse_answer(
        respondent=respondent, question_id=question.id, value="2", comment=""
    )
    outcome = services._store(respondent, question.id, parsed, 2, NOW, read_early)
    assert outcome.stale
    stored = respondent.answers.get(question_id=question.id)
    assert (stored.level, stored.seq) == (5, 5)


def test_a_fact_question_for_another_role_is_refused_with_the_reason(assessment: Any) -> None:
    respondent, _ = invite(assessment, role="product")
    fact = next(f for f in assessment.rubric.facts if "product" not in f.audience)
    with pytest.raises(services.SurveyInputError) as caught:
        services.parse_answer(respondent=respondent, question_id=fact.id, value="3", comment="")
    assert str(caught.value) == "That question is not part of your survey."
