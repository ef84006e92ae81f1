"""A respondent's whole journey through the test client, and every way of sending bad input."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from assessments import services
from assessments.models import Answer, Invitation, Respondent
from tests.factories import Personas, invite

pytestmark = pytest.mark.django_db


def _first_question(respondent: Respondent) -> Any:
    return respondent.assessment.rubric.questions_for(respondent.role)[0]


def _redeem(client: Client, token: str) -> Any:
    return client.get(reverse("survey:redeem", args=[token]))


def _autosave(
    client: Client,
    respondent: Respondent,
    qid: str,
    value: str,
    seq: int | None = None,
    comment: str = "",
) -> Any:
    data = {"question": qid, f"q-{qid}": value, f"c-{qid}": comment}
    if seq is not None:
        data["seq"] = str(seq)
    return client.post(reverse("survey:answer", args=[respondent.pk]), data, HTTP_HX_REQUEST="true")


def test_personal_link_is_exchanged_for_a_session_and_a_url_without_the_token(
    personas: Personas,
) -> None:
    respondent, token = invite(personas.assessment_a)
    client = Client()
    response = _redeem(client, token)
    assert response.status_code == 302
    assert token not in response["Location"]
    assert response["Location"] == reverse("survey:home", args=[respondent.pk])
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "no-referrer"
    page = client.get(response["Location"])
    assert page.status_code == 200
    respondent.refresh_from_db()
    assert respondent.status == Respondent.Status.IN_PROGRESS
    assert respondent.started_at is not None


def test_whole_survey_flow_autosave_review_submit(personas: Personas) -> None:
    respondent, token = invite(personas.assessment_a, role="engineering")
    client = Client()
    _redeem(client, token)
    rubric = personas.assessment_a.rubric
    questions = rubric.questions_for("engineering")
    first_dimension = rubric.dimensions[0]
    page = client.get(reverse("survey:section", args=[respondent.pk, first_dimension.id]))
    assert page.status_code == 200
    assert questions[0].text in page.content.decode()

    for index, question in enumerate(questions):
        response = _autosave(client, respondent, question.id, str(index % 5 + 1), seq=1000 + index)
        assert response.status_code == 200, response.content
        assert b"Saved" in response.content
    assert Answer.objects.filter(respondent=respondent).count() == len(questions)

    review = client.get(reverse("survey:review", args=[respondent.pk]))
    assert b"without an answer" not in review.content
    response = client.post(reverse("survey:submit", args=[respondent.pk]))
    assert response.status_code == 302
    respondent.refresh_from_db()
    assert respondent.status == Respondent.Status.SUBMITTED
    done = client.get(response["Location"])
    assert b"Thank you" in done.content


def test_autosave_shows_progress_for_the_section(personas: Personas) -> None:
    respondent, token = invite(personas.assessment_a)
    client = Client()
    _redeem(client, token)
    question = _first_question(respondent)
    response = _autosave(client, respondent, question.id, "4", seq=5)
    body = response.content.decode()
    assert f'id="progress-{question.dimension_id}"' in body
    assert 'hx-swap-oob="true"' in body
    assert "1 of" in body


def test_respondent_can_leave_and_resume_from_the_same_link(personas: Personas) -> None:
    respondent, token = invite(personas.assessment_a)
    question = _first_question(respondent)
    first = Client()
    _redeem(first, token)
    _autosave(first, respondent, question.id, "2", seq=10, comment="half done")
    later = Client()  # another day, another browser
    assert _redeem(later, token)["Location"] == reverse("survey:home", args=[respondent.pk])
    page = later.get(reverse("survey:section", args=[respondent.pk, question.dimension_id]))
    html = page.content.decode()
    assert 'value="2" checked' in html
    assert "half done" in html


def test_stale_autosave_does_not_overwrite_a_newer_answer(personas: Personas) -> None:
    respondent, token = invite(personas.assessment_a)
    client = Client()
    _redeem(client, token)
    qid = _first_question(respondent).id
    assert _autosave(client, respondent, qid, "4", seq=200).status_code == 200
    late = _autosave(client, respondent, qid, "1", seq=100)
    assert late.status_code == 200
    assert b"newer edit" in late.content
    answer = Answer.objects.get(respondent=respondent, question_id=qid)
    assert (answer.level, answer.seq) == (4, 200)


def test_no_javascript_page_post_saves_the_page_and_moves_on(personas: Personas) -> None:
    respondent, token = invite(personas.assessment_a, role="leadership")
    client = Client()
    _redeem(client, token)
    rubric = personas.assessment_a.rubric
    dimension = rubric.dimensions[0]
    qs = [q for c in dimension.capabilities for q in c.questions if "leadership" in q.audience]
    data = {f"q-{q.id}": "3" for q in qs}
    data[f"c-{qs[0].id}"] = "We document in Confluence"
    response = client.post(reverse("survey:section", args=[respondent.pk, dimension.id]), data)
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "survey:section", args=[respondent.pk, rubric.dimensions[1].id]
    )
    assert Answer.objects.filter(respondent=respondent, level=3).count() == len(qs)
    assert (
        Answer.objects.get(respondent=respondent, question_id=qs[0].id).comment
        == "We document in Confluence"
    )


def test_page_post_with_one_bad_field_saves_nothing(personas: Personas) -> None:
    respondent, token = invite(personas.assessment_a, role="leadership")
    client = Client()
    _redeem(client, token)
    dimension = personas.assessment_a.rubric.dimensions[0]
    qs = [q for c in dimension.capabilities for q in c.questions if "leadership" in q.audience]
    data = {f"q-{q.id}": "3" for q in qs}
    data[f"q-{qs[-1].id}"] = "7"
    response = client.post(reverse("survey:section", args=[respondent.pk, dimension.id]), data)
    assert response.status_code == 400
    assert b"Nothing on this page was saved" in response.content
    assert not Answer.objects.filter(respondent=respondent).exists()


def test_a_refused_page_keeps_what_was_typed_and_marks_the_bad_field(
    personas: Personas,
) -> None:
    respondent, token = invite(personas.assessment_a, role="engineering")
    client = Client()
    _redeem(client, token)
    facts = services.facts_for(respondent)
    assert len(facts) >= 2
    data = {f"q-{f.id}": str(int(f.minimum) + 7) for f in facts}
    data[f"q-{facts[0].id}"] = "about 20"
    url = reverse("survey:section", args=[respondent.pk, services.FACTS_SECTION])
    response = client.post(url, data)
    assert response.status_code == 400
    page = response.content.decode()
    assert "1 answer needs your attention" in page
    dom = facts[0].id.replace(".", "_")
    assert f'aria-describedby="er-{dom}"' in page and 'aria-invalid="true"' in page
    assert 'value="about 20"' in page
    assert page.count(f'value="{int(facts[1].minimum) + 7}"') >= 1
    assert not Answer.objects.filter(respondent=respondent).exists()


def _page_data(respondent: Respondent, dimension: Any, value: str) -> dict[str, str]:
    qs = [q for c in dimension.capabilities for q in c.questions if respondent.role in q.audience]
    return {f"q-{q.id}": value for q in qs} | {f"c-{q.id}": "" for q in qs}


def test_a_stale_page_post_never_overwrites_a_newer_answer(personas: Personas) -> None:
    respondent, token = invite(personas.assessment_a, role="leadership")
    client = Client()
    _redeem(client, token)
    dimension = personas.assessment_a.rubric.dimensions[0]
    url = reverse("survey:section", args=[respondent.pk, dimension.id])
    old_page = client.get(url)
    rendered_seq = int(old_page.context["seq"])
    qid = _first_question(respondent).id
    # Another tab autosaves level 4 after the old page was rendered ...
    assert _autosave(client, respondent, qid, "4", seq=rendered_seq + 5000).status_code == 200
    # ... then the old page (all empty) is posted without JavaScript.
    data = _page_data(respondent, dimension, "") | {"seq": str(rendered_seq)}
    data[f"q-{qid}"] = "2"
    response = client.post(url, data)
    assert response.status_code == 409
    assert b"changed in another window" in response.content
    assert Answer.objects.get(respondent=respondent, question_id=qid).level == 4
    assert b'value="4" checked' in response.content  # the kept answer is what the page shows


def test_an_unchanged_field_on_a_stale_page_is_left_alone(personas: Personas) -> None:
    respondent, token = invite(personas.assessment_a, role="leadership")
    client = Client()
    _redeem(client, token)
    dimension = personas.assessment_a.rubric.dimensions[0]
    url = reverse("survey:section", args=[respondent.pk, dimension.id])
    rendered_seq = int(client.get(url).context["seq"])
    qid = _first_question(respondent).id
    _autosave(client, respondent, qid, "4", seq=rendered_seq + 5000)
    # With JavaScript the page shows the autosaved value: posting it changes nothing.
    data = _page_data(respondent, dimension, "3") | {"seq": str(rendered_seq + 6000)}
    data[f"q-{qid}"] = "4"
    assert client.post(url, data).status_code == 302
    answer = Answer.objects.get(respondent=respondent, question_id=qid)
    assert (answer.level, answer.seq) == (4, rendered_seq + 5000)


def test_the_same_page_posted_again_replaces_its_own_answers(personas: Personas) -> None:
    # The back button brings the page back with its old seq; a changed answer still saves.
    respondent, token = invite(personas.assessment_a, role="leadership")
    client = Client()
    _redeem(client, token)
    dimension = personas.assessment_a.rubric.dimensions[0]
    url = reverse("survey:section", args=[respondent.pk, dimension.id])
    seq = str(client.get(url).context["seq"])
    assert (
        client.post(url, _page_data(respondent, dimension, "2") | {"seq": seq}).status_code == 302
    )
    assert (
        client.post(url, _page_data(respondent, dimension, "5") | {"seq": seq}).status_code == 302
    )
    assert set(Answer.objects.filter(respondent=respondent).values_list("level", flat=True)) == {5}


@pytest.mark.parametrize(
    ("value", "comment", "message"),
    [
        ("6", "", b"Choose one of the five levels"),
        ("0", "", b"Choose one of the five levels"),
        ("high", "", b"Choose one of the five levels"),
        ("3", "x" * 2001, b"limited to 2000 characters"),
    ],
)
def test_bad_answers_are_refused_with_a_message_and_change_nothing(
    personas: Personas, value: str, comment: str, message: bytes
) -> None:
    respondent, token = invite(personas.assessment_a)
    client = Client()
    _redeem(client, token)
    qid = _first_question(respondent).id
    _autosave(client, respondent, qid, "2", seq=1)
    response = _autosave(client, respondent, qid, value, seq=2, comment=comment)
    assert response.status_code == 400
    assert message in response.content
    answer = Answer.objects.get(respondent=respondent, question_id=qid)
    assert (answer.level, answer.seq, answer.comment) == (2, 1, "")


def test_unknown_question_is_refused(personas: Personas) -> None:
    respondent, token = invite(personas.assessment_a)
    client = Client()
    _redeem(client, token)
    response = _autosave(client, respondent, "obs.made-up.question", "3", seq=1)
    assert response.status_code == 400
    assert b"not part of this assessment" in response.content
    assert not Answer.objects.exists()


def test_question_outside_the_respondents_role_is_refused(personas: Personas) -> None:
    respondent, token = invite(personas.assessment_a, role="product")
    rubric = personas.assessment_a.rubric
    hidden = next((q for q in rubric.questions if "product" not in q.audience), None)
    assert hidden is not None, "the rubric shows every question to product; pick another role"
    client = Client()
    _redeem(client, token)
    response = _autosave(client, respondent, hidden.id, "3", seq=1)
    assert response.status_code == 400
    assert not Answer.objects.exists()


@pytest.mark.parametrize("seq", ["abc", "-5", "0", str(2**63)])
def test_malformed_sequence_numbers_are_refused(personas: Personas, seq: str) -> None:
    respondent, token = invite(personas.assessment_a)
    client = Client()
    _redeem(client, token)
    qid = _first_question(respondent).id
    response = client.post(
        reverse("survey:answer", args=[respondent.pk]),
        {"question": qid, f"q-{qid}": "3", "seq": seq},
    )
    assert response.status_code == 400
    assert not Answer.objects.exists()


def test_forged_respondent_id_is_refused(personas: Personas) -> None:
    mine, token = invite(personas.assessment_a, name="Me")
    theirs, _ = invite(personas.assessment_a, name="Someone else")
    client = Client()
    _redeem(client, token)
    qid = _first_question(theirs).id
    assert _autosave(client, theirs, qid, "5", seq=1).status_code == 404
    assert client.get(reverse("survey:home", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("survey:submit", args=[theirs.pk])).status_code == 404
    assert not Answer.objects.filter(respondent=theirs).exists()
    theirs.refresh_from_db()
    assert theirs.status == Respondent.Status.INVITED


def test_unknown_expired_and_revoked_links_look_the_same(personas: Personas) -> None:
    _r1, expired = invite(personas.assessment_a)
    Invitation.objects.filter(respondents=_r1).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    r2, revoked = invite(personas.assessment_a)
    services.invitation_revoke(invitation=r2.invitation)
    bodies = set()
    for token in ["not-a-real-token", expired, revoked, "x" * 500]:
        response = _redeem(Client(), token)
        assert response.status_code == 404
        html = response.content.decode()
        bodies.add(html[html.index("<main") : html.index("</main>")])
    assert len(bodies) == 1
    assert "This link can't be used" in bodies.pop()


def test_reissued_link_replaces_the_old_one_and_keeps_answers(personas: Personas) -> None:
    respondent, old_token = invite(personas.assessment_a)
    client = Client()
    _redeem(client, old_token)
    qid = _first_question(respondent).id
    _autosave(client, respondent, qid, "3", seq=1)
    new = services.invitation_reissue(invitation=respondent.invitation)
    assert _redeem(Client(), old_token).status_code == 404
    other = Client()
    assert _redeem(other, new.token).status_code == 302
    assert Answer.objects.get(respondent=respondent).level == 3


@pytest.mark.parametrize("change", ["revoke", "reissue", "expire"])
def test_a_browser_that_opened_a_link_loses_it_when_the_link_is_revoked_or_replaced(
    personas: Personas, change: str
) -> None:
    respondent, token = invite(personas.assessment_a)
    client = Client()
    _redeem(client, token)
    qid = _first_question(respondent).id
    assert _autosave(client, respondent, qid, "3", seq=1).status_code == 200
    if change == "revoke":
        services.invitation_revoke(invitation=respondent.invitation)
    elif change == "reissue":
        services.invitation_reissue(invitation=respondent.invitation)
    else:
        Invitation.objects.filter(pk=respondent.invitation_id).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
    home = client.get(reverse("survey:home", args=[respondent.pk]))
    assert home.status_code == 404
    assert b"This link can't be used" in home.content
    assert _autosave(client, respondent, qid, "5", seq=2).status_code == 404
    submit = client.post(reverse("survey:submit", args=[respondent.pk]))
    assert submit.status_code == 404
    respondent.refresh_from_db()
    assert respondent.status != Respondent.Status.SUBMITTED
    assert Answer.objects.get(respondent=respondent, question_id=qid).level == 3


def test_rate_limit_uses_the_forwarded_address_behind_a_trusted_proxy(
    personas: Personas, settings: Any
) -> None:
    settings.TOKEN_RATE_LIMIT_PER_MINUTE = 2
    settings.TRUSTED_PROXY_COUNT = 1
    from django.core.cache import cache

    cache.clear()
    _respondent, valid = invite(personas.assessment_a)
    attacker = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6")
    forged = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 6.6.6.6")
    for i in range(3):
        _redeem(attacker, f"guess-{i}")
    # A forged leading entry does not escape: the proxy's own entry (rightmost) counts.
    assert _redeem(forged, "guess-x").status_code == 429
    # Someone else behind the same proxy is not locked out by the attacker's failures.
    colleague = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="5.5.5.5")
    assert _redeem(colleague, valid).status_code == 302


def test_link_redemption_is_rate_limited(personas: Personas, settings: Any) -> None:
    settings.TOKEN_RATE_LIMIT_PER_MINUTE = 3
    from django.core.cache import cache

    cache.clear()
    client = Client()
    _respondent, valid = invite(personas.assessment_a)
    # Reopening one's own valid link is never limited...
    assert [_redeem(client, valid).status_code for _ in range(5)] == [302] * 5
    # ...but failed guesses are, and then even a valid link waits out the minute.
    statuses = [_redeem(client, f"guess-{i}").status_code for i in range(5)]
    assert statuses == [404, 404, 404, 429, 429]
    limited = _redeem(client, valid)
    assert limited.status_code == 429
    assert limited["Retry-After"] == "60"
    cache.clear()


def test_submit_is_idempotent(personas: Personas) -> None:
    respondent, token = invite(personas.assessment_a)
    client = Client()
    _redeem(client, token)
    _autosave(client, respondent, _first_question(respondent).id, "3", seq=1)
    first = client.post(reverse("survey:submit", args=[respondent.pk]))
    respondent.refresh_from_db()
    submitted_at = respondent.submitted_at
    second = client.post(reverse("survey:submit", args=[respondent.pk]))
    assert first.status_code == second.status_code == 302
    respondent.refresh_from_db()
    assert respondent.submitted_at == submitted_at
    assert services.respondent_submit(respondent=respondent) is False


def test_submit_with_no_answers_is_refused(personas: Personas) -> None:
    respondent, token = invite(personas.assessment_a)
    client = Client()
    _redeem(client, token)
    response = client.post(reverse("survey:submit", args=[respondent.pk]), follow=True)
    assert b"Answer at least one question" in response.content
    respondent.refresh_from_db()
    assert respondent.status == Respondent.Status.IN_PROGRESS


def test_answers_are_final_after_submit(personas: Personas) -> None:
    respondent, token = invite(personas.assessment_a)
    client = Client()
    _redeem(client, token)
    qid = _first_question(respondent).id
    _autosave(client, respondent, qid, "3", seq=1)
    client.post(reverse("survey:submit", args=[respondent.pk]))
    response = _autosave(client, respondent, qid, "5", seq=2)
    assert response.status_code == 409
    assert Answer.objects.get(respondent=respondent).level == 3


def test_closed_assessment_takes_no_answers(personas: Personas) -> None:
    respondent, token = invite(personas.assessment_a)
    client = Client()
    _redeem(client, token)
    personas.assessment_a.close()
    response = _autosave(client, respondent, _first_question(respondent).id, "3", seq=1)
    assert response.status_code == 409
    assert b"closed" in response.content
    assert not Answer.objects.exists()
    home = client.get(reverse("survey:home", args=[respondent.pk]))
    assert home.status_code == 409 and b"closed and no longer takes answers" in home.content


def test_dont_know_and_not_applicable_are_stored_without_a_level(personas: Personas) -> None:
    respondent, token = invite(personas.assessment_a)
    client = Client()
    _redeem(client, token)
    q1, q2 = personas.assessment_a.rubric.questions_for(respondent.role)[:2]
    _autosave(client, respondent, q1.id, "dk", seq=1)
    _autosave(client, respondent, q2.id, "na", seq=2)
    choices = dict(Answer.objects.values_list("question_id", "choice"))
    assert choices == {q1.id: "dont_know", q2.id: "not_applicable"}
    assert not Answer.objects.filter(level__isnull=False).exists()


def test_fact_answers_are_checked_against_their_range(personas: Personas) -> None:
    respondent, token = invite(personas.assessment_a, role="engineering")
    client = Client()
    _redeem(client, token)
    fact = next(
        f
        for f in personas.assessment_a.rubric.facts
        if "engineering" in f.audience and f.id == "fact.prs-per-week"
    )
    assert _autosave(client, respondent, fact.id, "1000000", seq=1).status_code == 400
    assert _autosave(client, respondent, fact.id, "-3", seq=2).status_code == 400
    assert _autosave(client, respondent, fact.id, "lots", seq=3).status_code == 400
    assert _autosave(client, respondent, fact.id, "nan", seq=4).status_code == 400
    assert not Answer.objects.exists()
    assert _autosave(client, respondent, fact.id, "120", seq=5).status_code == 200
    assert Answer.objects.get().number == 120


def test_open_link_lets_people_join_with_a_role(personas: Personas) -> None:
    issued = services.invitation_create_open(assessment=personas.assessment_a)
    client = Client()
    response = _redeem(client, issued.token)
    assert response["Location"] == reverse("survey:join")
    page = client.get(reverse("survey:join"))
    assert b"Which best describes your work?" in page.content
    bad = client.post(reverse("survey:join"), {"role": "astronaut"})
    assert bad.status_code == 400
    assert not Respondent.objects.filter(invitation=issued.invitation).exists()
    joined = client.post(reverse("survey:join"), {"role": "operations", "name": "Ola"})
    respondent = Respondent.objects.get(invitation=issued.invitation)
    assert joined["Location"] == reverse("survey:home", args=[respondent.pk])
    assert (respondent.role, respondent.name) == ("operations", "Ola")
    # The same browser coming back through the open link resumes, not restarts.
    assert _redeem(client, issued.token)["Location"] == reverse("survey:home", args=[respondent.pk])
    assert Respondent.objects.filter(invitation=issued.invitation).count() == 1
    # Someone else with the same link gets their own response.
    other = Client()
    _redeem(other, issued.token)
    other.post(reverse("survey:join"), {"role": "product"})
    assert Respondent.objects.filter(invitation=issued.invitation).count() == 2


def test_join_without_redeeming_a_link_shows_the_neutral_page(personas: Personas) -> None:
    response = Client().get(reverse("survey:join"))
    assert response.status_code == 404
    assert b"This link can't be used" in response.content


def test_anonymous_assessment_never_stores_names(personas: Personas) -> None:
    personas.assessment_a.anonymous = True
    personas.assessment_a.save()
    respondent, _token = invite(personas.assessment_a, name="Grace Hopper")
    assert respondent.name == ""
    issued = services.invitation_create_open(assessment=personas.assessment_a)
    client = Client()
    _redeem(client, issued.token)
    client.post(reverse("survey:join"), {"role": "product", "name": "Alan Turing"})
    assert not Respondent.objects.exclude(name="").exists()


def test_comment_markup_is_shown_as_text(personas: Personas) -> None:
    respondent, token = invite(personas.assessment_a)
    client = Client()
    _redeem(client, token)
    q = _first_question(respondent)
    payload = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    _autosave(client, respondent, q.id, "2", seq=1, comment=payload)
    page = client.get(
        reverse("survey:section", args=[respondent.pk, q.dimension_id])
    ).content.decode()
    assert payload not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# Session, respondent (the access check), then in the transaction: lock with the open check,
# the respondent's answers, the write, the time of the last answer. The two savepoint
# statements are the transaction itself inside the test's own transaction.
AUTOSAVE_QUERIES = 8
AUTOSAVE_FIRST_ANSWER_QUERIES = AUTOSAVE_QUERIES + 2  # the INSERT's own savepoint


def test_an_autosave_runs_a_fixed_handful_of_statements(
    personas: Personas, django_assert_num_queries: Any
) -> None:
    respondent, token = invite(personas.assessment_a)
    client = Client()
    _redeem(client, token)
    first, second = respondent.assessment.rubric.questions_for(respondent.role)[:2]
    with django_assert_num_queries(AUTOSAVE_FIRST_ANSWER_QUERIES):
        assert _autosave(client, respondent, first.id, "3", seq=1).status_code == 200
    with django_assert_num_queries(AUTOSAVE_QUERIES):
        response = _autosave(client, respondent, first.id, "4", seq=2)
    assert response.status_code == 200 and b"Saved" in response.content
    with django_assert_num_queries(AUTOSAVE_QUERIES - 2):  # stale: nothing written
        response = _autosave(client, respondent, first.id, "2", seq=1)
    assert b"a newer edit" in response.content
    _autosave(client, respondent, second.id, "5", seq=3)
    respondent.refresh_from_db()
    assert respondent.status == Respondent.Status.IN_PROGRESS and respondent.started_at
    assert {(a.question_id, a.level, a.seq) for a in respondent.answers.all()} == {
        (first.id, 4, 2),
        (second.id, 5, 3),
    }
