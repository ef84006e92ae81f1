"""The consultant home, engagement templates and re-assessments."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from assessments.engagements import services
from assessments.engagements.models import AssessmentSetup, EngagementTemplate
from assessments.models import Assessment, Membership, Organisation
from assessments.workshops import services as workshops
from reports.models import Branding
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


# --- Branding carried by templates ----------------------------------------------------------

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


def _save_template(client: Client, assessment: Assessment, **fields: Any) -> Any:
    data = {"name": "Branded", "colour": "#1d5aa6", **fields}
    return client.post(f"/assessments/{assessment.pk}/template/", data, follow=True)


def test_a_template_captures_branding_and_a_new_client_reports_with_it(
    personas: Personas,
) -> None:
    # Her own report branding is what the form offers, logo included.
    Branding.objects.create(
        user=personas.fiona,
        firm_name="Northbridge",
        colour="#aa3300",
        logo=PNG,
        logo_type="image/png",
    )
    client = _client(personas.fiona)
    page = client.get(f"/assessments/{personas.assessment_a.pk}/").content.decode()
    assert 'value="Northbridge"' in page and 'value="#aa3300"' in page
    response = _save_template(
        client,
        personas.assessment_a,
        firm_name="  Northbridge Partners ",
        colour="#AA3300 ",  # trailing space: cleaned, never a 500 on a 7-character column
        use_my_logo="on",
    )
    assert "branded Northbridge Partners" in response.content.decode()
    template = EngagementTemplate.objects.get(owner=personas.fiona)
    assert (template.brand_firm_name, template.brand_colour, template.brand_logo_type) == (
        "Northbridge Partners",
        "#aa3300",
        "image/png",
    )
    assert bytes(template.brand_logo) == PNG
    # She changes her own branding later: the client started from the template keeps its own.
    Branding.objects.filter(user=personas.fiona).update(firm_name="Other", colour="#000000")
    client.post(
        "/clients/new/", {"template": template.pk, "organisation": "Nordic Rail", "title": "B"}
    )
    started = Assessment.objects.get(organisation__name="Nordic Rail")
    setup = AssessmentSetup.objects.get(assessment=started)
    assert (setup.brand_firm_name, setup.brand_colour) == ("Northbridge Partners", "#aa3300")
    page = client.get(f"/assessments/{started.pk}/").content.decode()
    assert "Reports are branded Northbridge Partners." in page
    report = client.get(f"/assessments/{started.pk}/report/").content.decode()
    assert "Prepared by Northbridge Partners" in report and "data:image/png;base64," in report
    assert "Prepared by Other" not in report
    # A re-assessment keeps it.
    client.post(f"/assessments/{started.pk}/reassess/", {"title": "Q2"})
    again = AssessmentSetup.objects.get(assessment__title="Q2")
    assert again.brand_firm_name == "Northbridge Partners" and bytes(again.brand_logo) == PNG


def test_an_uploaded_logo_replaces_hers_and_an_empty_firm_name_means_no_branding(
    personas: Personas,
) -> None:
    client = _client(personas.fiona)
    jpeg = b"\xff\xd8\xff\xe0" + b"0" * 100
    _save_template(
        client,
        personas.assessment_a,
        firm_name="Own",
        logo=SimpleUploadedFile("x.jpg", jpeg),
    )
    template = EngagementTemplate.objects.get(name="Branded")
    assert template.brand_logo_type == "image/jpeg" and bytes(template.brand_logo) == jpeg
    _save_template(client, personas.assessment_a, name="Plain", firm_name="   ")
    plain = EngagementTemplate.objects.get(name="Plain")
    assert not plain.has_brand and plain.brand_colour == "" and not plain.brand_logo


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"colour": "red; background:url(x)"}, "Use a colour like #1d5aa6."),
        ({"colour": "#1d5aa6\n#fff"}, "be used here (U+000A)"),
        ({"firm_name": "x" * 121}, "Firm name"),
        ({"firm_name": "Evil\u202eCorp"}, "be used here (U+202E)"),
        ({"logo": SimpleUploadedFile("l.png", b"<svg onload=alert(1)>")}, "PNG or JPEG"),
        ({"logo": SimpleUploadedFile("l.png", PNG + b"0" * 400_000)}, "larger than 300 KB"),
    ],
)
def test_bad_branding_is_refused_and_saves_no_template(
    personas: Personas, fields: dict[str, Any], message: str
) -> None:
    response = _save_template(
        _client(personas.fiona), personas.assessment_a, **{"firm_name": "Firm", **fields}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Template not saved" in page and message in page
    assert not EngagementTemplate.objects.exists()


def test_the_service_checks_branding_as_the_form_does(personas: Personas) -> None:
    def save(**brand: Any) -> EngagementTemplate:
        return services.template_save(
            owner=personas.fiona,
            name="T",
            assessment=personas.assessment_a,
            invitation_roles=[],
            cover_text="",
            **brand,
        )

    for brand in (
        {"firm_name": "F", "colour": "#12345"},
        {"firm_name": "F", "colour": "#1234567"},
        {"firm_name": "F" * 121},
        {"firm_name": "F", "logo": b"GIF89a"},
    ):
        with pytest.raises(services.EngagementInputError):
            save(**brand)
    assert not EngagementTemplate.objects.exists()
    assert save(firm_name=" F ", colour=" #ABCDEF\n").brand_colour == "#abcdef"
