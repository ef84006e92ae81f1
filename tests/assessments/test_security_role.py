"""Security people answer the agent-security and containment questions of rubric version 2:
they can be invited and can join through an open link; version 1 asks them nothing, so an
assessment pinned to it refuses them with a clear message and creates nothing."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from assessments import invitations, services
from assessments.models import Respondent
from scoring.rubric import get_rubric
from tests.factories import make_assessment, make_org

pytestmark = pytest.mark.django_db

V2 = get_rubric("operationalization", 2)


def test_version_2_asks_security_about_agent_security_and_containment() -> None:
    assert "security" in V2.audiences
    asked = {q.id for q in V2.questions_for("security")}
    assert {
        "int.agent-security.untrusted-input",
        "int.agent-security.tools",
        "int.agent-security.irreversible",
        "dep.agent-containment.kill-switch",
        "dep.agent-containment.undo",
        "int.model-data.provider-terms",
        "int.agent-identity.least-privilege",
    } <= asked
    # Not delivery or review-flow questions: those belong to the people who do that work.
    assert "rev.flow-capacity.first-review" not in asked
    assert "dep.ci-small-batches.ci" not in asked
    assert "security" not in get_rubric("operationalization", 1).audiences


def test_a_security_person_joins_a_version_2_assessment_through_an_open_link() -> None:
    assessment = make_assessment(make_org("Org S"))
    issued = services.invitation_create_open(assessment=assessment)
    client = Client()
    client.get(reverse("survey:redeem", args=[issued.token]))
    page = client.get(reverse("survey:join")).content.decode()
    assert 'value="security"' in page
    response = client.post(reverse("survey:join"), {"role": "security"})
    assert response.status_code == 302
    respondent = Respondent.objects.get(assessment=assessment)
    assert respondent.role == "security"
    assert len(services.questions_for(respondent)) == len(V2.questions_for("security"))


def test_security_people_are_invited_from_a_list() -> None:
    assessment = make_assessment(make_org("Org S"))
    people = invitations.parse_people(
        "Sam Shield <sam@example.com>, security", roles=assessment.rubric.audiences
    )
    links = invitations.invitations_import(assessment=assessment, people=people)
    assert [link.role for link in links] == ["security"]


def test_a_version_1_assessment_refuses_security_people_and_creates_nothing() -> None:
    assessment = services.assessment_create(
        organisation=make_org("Org V1"),
        title="Pinned to version 1",
        created_by=None,
        rubric_id="operationalization",
        rubric_version=1,
    )
    with pytest.raises(services.SurveyInputError, match="asks no questions of security"):
        services.invitation_create_personal(assessment=assessment, role="security")
    with pytest.raises(invitations.InvitationInputError) as error:
        invitations.parse_people("sam@example.com, security", roles=assessment.rubric.audiences)
    assert "the role must be one of leadership, engineering, operations, product" in str(
        error.value.problems
    )
    issued = services.invitation_create_open(assessment=assessment)
    client = Client()
    client.get(reverse("survey:redeem", args=[issued.token]))
    assert 'value="security"' not in client.get(reverse("survey:join")).content.decode()
    response = client.post(reverse("survey:join"), {"role": "security"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not assessment.respondents.exists()
