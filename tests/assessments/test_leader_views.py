"""Leaders and consultants: organisations, assessments and invitations, for each persona."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from assessments.models import Assessment, Invitation, Membership, Organisation, Respondent
from tests.factories import Personas, invite

pytestmark = pytest.mark.django_db


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_login_page_logs_a_leader_in(personas: Personas) -> None:
    from tests.factories import PASSWORD

    client = Client()
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(response["Location"], follow=True).status_code == 200
    bad = Client().post(reverse("login"), {"username": "alice", "password": "wrong"})
    assert b"did not match" in bad.content


def test_anonymous_visitor_is_sent_to_login(personas: Personas) -> None:
    response = Client().get(reverse("assessments:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_owner_of_one_org_lands_on_it(personas: Personas) -> None:
    response = login(personas.alice).get(reverse("assessments:home"))
    assert response["Location"] == reverse("assessments:org_detail", args=[personas.org_a.pk])


def test_consultant_sees_a_list_of_clients(personas: Personas) -> None:
    response = login(personas.fiona).get(reverse("assessments:home"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Org A" in html and "Org C" in html
    assert "Org B" not in html


def test_owner_creates_an_assessment_pinned_to_the_rubric_version(personas: Personas) -> None:
    client = login(personas.alice)
    response = client.post(
        reverse("assessments:create", args=[personas.org_a.pk]),
        {"title": "Q3 readiness", "rubric": "operationalization-1", "teams": [personas.team_a.pk]},
    )
    assessment = Assessment.objects.get(title="Q3 readiness")
    assert response["Location"] == reverse("assessments:detail", args=[assessment.pk])
    assert (assessment.rubric_id, assessment.rubric_version) == ("operationalization", 1)
    assert list(assessment.teams.all()) == [personas.team_a]


def test_the_new_assessment_form_offers_version_2_first_and_keeps_version_1(
    personas: Personas,
) -> None:
    html = (
        login(personas.alice)
        .get(reverse("assessments:create", args=[personas.org_a.pk]))
        .content.decode()
    )
    assert '<option value="operationalization-2" selected>' in html
    assert '<option value="operationalization-1">' in html


def test_assessment_form_refuses_another_orgs_team_and_unknown_rubric(personas: Personas) -> None:
    client = login(personas.alice)
    url = reverse("assessments:create", args=[personas.org_a.pk])
    response = client.post(
        url, {"title": "X", "rubric": "operationalization-1", "teams": [personas.team_b.pk]}
    )
    assert response.status_code == 400
    response = client.post(url, {"title": "X", "rubric": "operationalization-99"})
    assert response.status_code == 400
    assert not Assessment.objects.filter(title="X").exists()


def test_member_cannot_create_or_change_anything(personas: Personas) -> None:
    client = login(personas.bob)
    a = personas.assessment_a
    respondent, _ = invite(a)
    writes = [
        reverse("assessments:create", args=[personas.org_a.pk]),
        reverse("assessments:team_create", args=[personas.org_a.pk]),
        reverse("assessments:member_add", args=[personas.org_a.pk]),
        reverse("assessments:invitations_create", args=[a.pk]),
        reverse("assessments:open_link_create", args=[a.pk]),
        reverse("assessments:invitation_revoke", args=[a.pk, respondent.invitation_id]),
        reverse("assessments:invitation_reissue", args=[a.pk, respondent.invitation_id]),
        reverse("assessments:close", args=[a.pk]),
    ]
    before = (Invitation.objects.count(), Assessment.objects.count(), personas.org_a.teams.count())
    for url in writes:
        response = client.post(
            url, {"title": "t", "name": "n", "people": "x@example.com, engineering"}
        )
        assert response.status_code == 403, url
    assert (
        Invitation.objects.count(),
        Assessment.objects.count(),
        personas.org_a.teams.count(),
    ) == before
    a.refresh_from_db()
    assert a.is_open
    # ...but can read.
    assert client.get(reverse("assessments:detail", args=[a.pk])).status_code == 200


def test_facilitator_can_run_the_assessment_but_not_make_a_second_owner(
    personas: Personas,
) -> None:
    client = login(personas.fiona)
    a = personas.assessment_a
    response = client.post(
        reverse("assessments:invitations_create", args=[a.pk]),
        {"people": "Ann <ann@example.com>, product"},
    )
    assert response.status_code == 302
    assert Respondent.objects.filter(assessment=a, name="Ann", role="product").exists()
    # Org A has an owner (alice): the consultant may invite people, but not another owner.
    response = client.post(
        reverse("assessments:member_add", args=[personas.org_a.pk]),
        {"email": "charlie@example.com", "role": "owner"},
        follow=True,
    )
    assert b"already has an owner" in response.content
    assert not personas.org_a.member_invitations.exists()
    assert not Membership.objects.filter(
        user=personas.charlie, organisation=personas.org_a
    ).exists()


def test_bulk_invitations_show_each_link_once(personas: Personas) -> None:
    client = login(personas.alice)
    a = personas.assessment_a
    response = client.post(
        reverse("assessments:invitations_create", args=[a.pk]),
        {
            "people": "Ada Lovelace <ada@example.com>, engineering\nbob@example.com, leadership\n\n, operations"
        },
    )
    assert response.status_code == 302
    page = client.get(reverse("assessments:detail", args=[a.pk])).content.decode()
    assert page.count("/i/") == 3
    assert "Ada Lovelace" in page
    again = client.get(reverse("assessments:detail", args=[a.pk])).content.decode()
    assert "/i/" not in again, "links must be shown once only"
    assert Respondent.objects.filter(assessment=a).count() == 3


def test_bad_invitation_lines_are_reported_and_nothing_is_created(personas: Personas) -> None:
    client = login(personas.alice)
    a = personas.assessment_a
    response = client.post(
        reverse("assessments:invitations_create", args=[a.pk]),
        {"people": "Ada <ada@example.com>, engineering\nNo Role Person\nbad-email@, product"},
        follow=True,
    )
    html = response.content.decode()
    assert "Line 2" in html and "Line 3" in html
    assert not Respondent.objects.filter(assessment=a).exists()


def test_revoked_link_stops_working_and_detail_shows_it(personas: Personas) -> None:
    client = login(personas.alice)
    a = personas.assessment_a
    respondent, token = invite(a, name="Rev Oked")
    client.post(reverse("assessments:invitation_revoke", args=[a.pk, respondent.invitation_id]))
    assert Client().get(reverse("survey:redeem", args=[token])).status_code == 404
    assert "revoked" in client.get(reverse("assessments:detail", args=[a.pk])).content.decode()


def test_participation_hides_names_when_anonymous(personas: Personas) -> None:
    a = personas.assessment_a
    a.anonymous = True
    a.save()
    invite(a, name="Secret Person", role="engineering")
    html = login(personas.alice).get(reverse("assessments:detail", args=[a.pk])).content.decode()
    assert "Secret Person" not in html
    assert "Respondent 1" in html


def test_anonymous_participation_cannot_be_lined_up_with_the_invitation_list(
    personas: Personas,
) -> None:
    from assessments import services

    a = personas.assessment_a
    a.anonymous = True
    a.save()
    first, _ = invite(a, name="First Invited", role="product")
    invite(a, name="Second Invited", role="engineering")
    qid = a.rubric.questions_for("product")[0].id
    services.answer_save(respondent=first, question_id=qid, value="3", comment="", seq=1)
    html = login(personas.alice).get(reverse("assessments:detail", args=[a.pk])).content.decode()
    table = html[html.index("<tbody>") : html.index("</tbody>")]
    # Sorted by status (invited before started), not invitation order; no progress counts.
    assert table.index("Engineering") < table.index("Product")
    assert "<th>Progress</th>" not in html and "1 / " not in table


def test_participation_shows_who_started_and_finished(personas: Personas) -> None:
    from assessments import services

    a = personas.assessment_a
    done, _ = invite(a, name="Finished Fay")
    started, _ = invite(a, name="Started Sam")
    invite(a, name="Waiting Will")
    qid = a.rubric.questions_for("engineering")[0].id
    for r in (done, started):
        services.answer_save(respondent=r, question_id=qid, value="3", comment="", seq=1)
    services.respondent_submit(respondent=done)
    html = login(personas.alice).get(reverse("assessments:detail", args=[a.pk])).content.decode()
    for text in ["Finished Fay", "Started Sam", "Waiting Will", "Finished", "Started", "Invited"]:
        assert text in html


def test_close_and_reopen(personas: Personas) -> None:
    client = login(personas.alice)
    a = personas.assessment_a
    client.post(reverse("assessments:close", args=[a.pk]))
    a.refresh_from_db()
    assert not a.is_open
    client.post(reverse("assessments:reopen", args=[a.pk]))
    a.refresh_from_db()
    assert a.is_open


def test_create_organisation_makes_the_creator_a_member(personas: Personas) -> None:
    client = login(personas.charlie)
    response = client.post(
        reverse("assessments:org_create"), {"name": "New Client", "my_role": "facilitator"}
    )
    org = Organisation.objects.get(name="New Client")
    assert response["Location"] == reverse("assessments:org_detail", args=[org.pk])
    assert Membership.objects.get(organisation=org).role == "facilitator"
    bad = client.post(reverse("assessments:org_create"), {"name": "", "my_role": "king"})
    assert bad.status_code == 400


def test_adding_a_member_makes_an_invitation_not_a_membership(personas: Personas) -> None:
    """Full flows are in test_member_invitations.py."""
    client = login(personas.alice)
    response = client.post(
        reverse("assessments:member_add", args=[personas.org_a.pk]),
        {"email": "CHARLIE@example.com", "role": "member"},
        follow=True,
    )
    assert b"Invitation created for charlie@example.com" in response.content
    assert not Membership.objects.filter(
        user=personas.charlie, organisation=personas.org_a
    ).exists()
    assert personas.org_a.member_invitations.get().email == "charlie@example.com"


def test_team_names_are_unique_per_org(personas: Personas) -> None:
    client = login(personas.alice)
    response = client.post(
        reverse("assessments:team_create", args=[personas.org_a.pk]),
        {"name": "Platform"},
        follow=True,
    )
    assert b"already exists" in response.content
    assert personas.org_a.teams.filter(name="Platform").count() == 1


def test_admin_works_for_staff(personas: Personas) -> None:
    from django.contrib.auth import get_user_model

    staff = get_user_model().objects.create_superuser("root", "root@example.com", "pw-123-xyz")
    client = login(staff)
    for name in ["organisation", "assessment", "respondent", "invitation", "membership"]:
        assert client.get(reverse(f"admin:assessments_{name}_changelist")).status_code == 200
    assert (
        client.get(
            reverse("admin:assessments_assessment_change", args=[personas.assessment_a.pk])
        ).status_code
        == 200
    )
    assert login(personas.alice).get(reverse("admin:index")).status_code == 302


def test_an_assessment_whose_rubric_is_gone_gets_a_clear_page(personas: Personas) -> None:
    a = personas.assessment_a
    Assessment.objects.filter(pk=a.pk).update(rubric_version=99)
    response = login(personas.alice).get(reverse("assessments:detail", args=[a.pk]))
    assert response.status_code == 503
    assert b"rubric is not installed" in response.content
