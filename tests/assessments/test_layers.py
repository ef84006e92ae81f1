"""Defence in depth for tenancy and answers: each layer tested with the other switched off.

- The access helper finds an assessment through the user's organisations
  (`Assessment.objects.for_user`) and then requires a membership of its organisation; either
  alone must keep an outsider out.
- Answers are validated by the service (`parse_answer`) and by the database's check
  constraints; either alone must refuse a level outside 1-5 or a number on a level question.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError
from django.test import Client
from django.urls import reverse

from assessments import access, services
from assessments.models import Answer, AssessmentQuerySet, Membership
from tests.factories import Personas, invite

pytestmark = pytest.mark.django_db

PAGES = ["assessments:detail", "reports:results", "reports:report", "scans:sources"]


def _outsider_sees(personas: Personas) -> dict[str, int]:
    client = Client()
    client.force_login(personas.charlie)  # owns org B, nothing in org A
    return {
        page: client.get(reverse(page, args=[personas.assessment_a.pk])).status_code
        for page in PAGES
    }


def test_the_membership_check_alone_keeps_an_outsider_out(
    personas: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The organisation filter switched off: every assessment is "found".
    monkeypatch.setattr(AssessmentQuerySet, "for_user", lambda self, user: self.all())
    assert set(_outsider_sees(personas).values()) == {404}
    owner = Client()
    owner.force_login(personas.alice)
    assert owner.get(reverse("reports:results", args=[personas.assessment_a.pk])).status_code in (
        200,
        422,
    )


def test_the_organisation_filter_alone_keeps_an_outsider_out(
    personas: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The membership check switched off: anyone counts as an owner of any organisation.
    def anyone(request: Any, org_id: Any) -> Membership:
        return Membership(user=request.user, organisation_id=org_id, role=Membership.Role.OWNER)

    monkeypatch.setattr(access, "_membership_or_404", anyone)
    assert set(_outsider_sees(personas).values()) == {404}


@pytest.mark.parametrize(
    "parsed",
    [
        services.ParsedAnswer("level", 0, None, ""),
        services.ParsedAnswer("level", 6, None, ""),
        services.ParsedAnswer("level", None, 3.0, ""),
        services.ParsedAnswer("dont_know", 3, None, ""),
        services.ParsedAnswer("number", None, None, ""),
    ],
)
def test_the_database_alone_refuses_impossible_answers(
    personas: Personas, monkeypatch: pytest.MonkeyPatch, parsed: services.ParsedAnswer
) -> None:
    respondent, _token = invite(personas.assessment_a)
    qid = services.questions_for(respondent)[0].id
    # The service's validation switched off: whatever was posted goes to the database.
    monkeypatch.setattr(services, "parse_answer", lambda **kwargs: parsed)
    # _store reads any IntegrityError as a lost insert race and gives up with DoesNotExist:
    # either way the request fails and nothing is written.
    with pytest.raises((IntegrityError, Answer.DoesNotExist)):
        services.answer_save(respondent=respondent, question_id=qid, value="x", comment="", seq=1)
    assert not Answer.objects.filter(respondent=respondent).exists()


@pytest.mark.parametrize("value", ["0", "6", "2.5", "-1", "", "dk"])
def test_the_service_alone_refuses_levels_outside_the_scale(personas: Personas, value: str) -> None:
    # No database constraint involved: parse_answer decides before anything is written.
    respondent, _token = invite(personas.assessment_a)
    qid = services.questions_for(respondent)[0].id
    if value in ("", "dk"):
        parsed = services.parse_answer(
            respondent=respondent, question_id=qid, value=value, comment=""
        )
        assert parsed.level is None and parsed.number is None
        return
    with pytest.raises(services.SurveyInputError):
        services.parse_answer(respondent=respondent, question_id=qid, value=value, comment="")
