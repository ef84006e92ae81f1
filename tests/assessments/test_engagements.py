"""The consultant home, engagement templates and re-assessments."""

from __future__ import annotations

import pytest
from django.test import Client

from assessments.engagements.models import AssessmentSetup, EngagementTemplate
from assessments.models import Assessment, Membership, Organisation
from assessments.workshops import services as workshops
from tests.factories import Personas, invite, make_assessment

pytestmark = pytest.mark.django_db


def _client(user: object) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_consultant_home_lists_clients_with_status_rate_and_quick_actions(
    personas: Personas,
) -> None:
    assessment = make_assessment(personas.org_c, personas.fiona, title="Org C baseline")
    done, _ = invite(assessment)
    done.status, done.submitted_at = "submitted", done.created_at
    done.save()
    invite(assessment)
    workshops.workshop_create(
        assessment=assessment, title="Room", minutes_per_capability=5, created_by=personas.fiona
    )
    page = _client(personas.fiona).get("/").content.decode()
    assert "Your clients" in page
    assert "Org A" in page and "Org C" in page
    assert "Org B" not in page  # not her client
    assert "Org C baseline" in page and "1 of 2 finished" in page and "(50%)" in page
    for action in ("Invite", "Run workshop", "Results", "Report", "Add a person"):
        assert action in page, action
    assert f"/assessments/{assessment.pk}/workshops/" in page
    assert f"/orgs/{personas.org_c.pk}/#people" in page


def test_a_leader_with_one_organisation_still_goes_straight_to_it(personas: Personas) -> None:
    response = _client(personas.charlie).get("/")
    assert response.status_code == 302 and str(personas.org_b.pk) in response["Location"]


def test_a_template_starts_a_new_client_with_the_same_set_up(personas: Personas) -> None:
    source = personas.assessment_a
    source.targets = {source.rubric.dimensions[0].id: 4}
    source.weights = {source.rubric.dimensions[1].id: 2.0}
    source.save()
    client = _client(personas.fiona)
    client.post(
        f"/assessments/{source.pk}/template/",
        {
            "name": "Mid-size logistics",
            "invitation_roles": ["leadership", "engineering"],
            "cover_text": "Prepared for the board.",
        },
    )
    template = EngagementTemplate.objects.get(owner=personas.fiona)
    response = client.post(
        "/clients/new/",
        {"template": template.pk, "organisation": "Nordic Rail", "title": "Baseline"},
    )
    assert response.status_code == 302
    org = Organisation.objects.get(name="Nordic Rail")
    assert Membership.objects.get(organisation=org).role == "facilitator"
    started = Assessment.objects.get(organisation=org)
    assert started.targets == source.targets and started.weights == source.weights
    setup = AssessmentSetup.objects.get(assessment=started)
    assert setup.invitation_roles == ["leadership", "engineering"]
    report = client.get(f"/assessments/{started.pk}/report/").content.decode()
    assert "Prepared for the board." in report


def test_another_consultants_template_cannot_be_used(personas: Personas) -> None:
    theirs = EngagementTemplate.objects.create(owner=personas.charlie, name="Charlie's")
    response = _client(personas.fiona).post(
        "/clients/new/", {"template": theirs.pk, "organisation": "Sneaky", "title": "x"}
    )
    assert response.status_code == 400
    assert not Organisation.objects.filter(name="Sneaky").exists()


def test_a_re_assessment_copies_the_set_up_but_no_answers(personas: Personas) -> None:
    source = personas.assessment_a
    source.teams.add(personas.team_a)
    source.targets = {source.rubric.dimensions[0].id: 5}
    source.save()
    invite(source)
    response = _client(personas.alice).post(
        f"/assessments/{source.pk}/reassess/", {"title": "Q4 readiness"}
    )
    copy = Assessment.objects.get(title="Q4 readiness")
    assert response["Location"].endswith(f"/assessments/{copy.pk}/")
    assert copy.organisation == source.organisation
    assert list(copy.teams.all()) == [personas.team_a]
    assert (copy.rubric_id, copy.rubric_version) == (source.rubric_id, source.rubric_version)
    assert copy.targets == source.targets
    assert copy.respondents.count() == 0
    assert AssessmentSetup.objects.get(assessment=copy).previous == source


def test_members_cannot_copy_or_template(personas: Personas) -> None:
    client = _client(personas.bob)
    assert (
        client.post(
            f"/assessments/{personas.assessment_a.pk}/reassess/", {"title": "x"}
        ).status_code
        == 403
    )
    assert (
        client.post(f"/assessments/{personas.assessment_a.pk}/template/", {"name": "x"}).status_code
        == 403
    )
    assert not EngagementTemplate.objects.exists()
