"""Invitation management: CSV paste and upload, e-mail, reminders, link downloads, and no
invitations on a closed assessment."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from assessments import invitations, mailouts
from assessments.models import Invitation, Mailout, MailoutItem, Respondent
from tests.factories import Personas, invite, make_assessment

pytestmark = pytest.mark.django_db

FORTY = "name,email,role\n" + "\n".join(
    f"Person {n},person{n}@example.com,{['engineering', 'leadership', 'operations', 'product'][n % 4]}"
    for n in range(40)
)


def _deliver() -> None:
    """What a worker does with each queued mailout (the task's body, run here so that
    Django's locmem outbox collects the messages)."""
    for mailout in Mailout.objects.filter(status="queued"):
        mailouts.mailout_send(mailout_id=mailout.pk)


def _client(user: object) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_forty_pasted_people_get_links_emails_and_a_csv_download(personas: Personas) -> None:
    client = _client(personas.fiona)
    aid = personas.assessment_a.pk
    response = client.post(
        f"/assessments/{aid}/invitations/import/", {"people": FORTY, "send_email": "on"}
    )
    assert response.status_code == 302
    assert personas.assessment_a.respondents.count() == 40
    assert mail.outbox == []  # not inside the request
    page = client.get(f"/assessments/{aid}/").content.decode()
    assert "Sending 40 invitations…" in page
    assert "Copy all links" in page and page.count("/i/") >= 40
    _deliver()
    assert len(mail.outbox) == 40
    first = mail.outbox[0]
    assert first.to == ["person0@example.com"]
    assert "/i/" in first.body and "Hello Person 0," in first.body
    assert "Sent 40 of 40 invitations" in client.get(f"/assessments/{aid}/").content.decode()
    download = client.get(f"/assessments/{aid}/invitations/links.csv")
    assert download["Content-Type"].startswith("text/csv")
    rows = download.content.decode("utf-8-sig").strip().splitlines()
    assert rows[0] == "name,email,role,link" and len(rows) == 41
    # The links work: the one in the first e-mail opens the first person's survey.
    url = next(line for line in first.body.splitlines() if "/i/" in line).strip()
    opened = Client().get(url[url.index("/i/") :])
    assert opened.status_code == 302


def test_an_uploaded_csv_with_semicolons_and_a_bom_is_read(personas: Personas) -> None:
    data = "\ufeffName;Email;Role\nAda;ada@example.com;Engineering\nBo;bo@example.com;product\n"
    upload = SimpleUploadedFile("people.csv", data.encode("utf-8"), content_type="text/csv")
    response = _client(personas.alice).post(
        f"/assessments/{personas.assessment_a.pk}/invitations/import/", {"csv_file": upload}
    )
    assert response.status_code == 302
    people = sorted(personas.assessment_a.respondents.values_list("name", "role"))
    assert people == [("Ada", "engineering"), ("Bo", "product")]
    assert mail.outbox == []  # the box was not ticked


def test_one_bad_line_invites_nobody_and_says_which(personas: Personas) -> None:
    text = "Ada,ada@example.com,engineering\nBo,not-an-address,product\nCy,cy@example.com,boss\n"
    client = _client(personas.alice)
    response = client.post(
        f"/assessments/{personas.assessment_a.pk}/invitations/import/",
        {"people": text},
        follow=True,
    )
    page = response.content.decode()
    assert "Line 2" in page and "not a valid e-mail address" in page
    assert "Line 3" in page and "role must be one of" in page
    assert personas.assessment_a.respondents.count() == 0


def test_a_binary_upload_is_refused(personas: Personas) -> None:
    upload = SimpleUploadedFile("x.csv", b"\x00\x01PK\x03\x04", content_type="text/csv")
    response = _client(personas.alice).post(
        f"/assessments/{personas.assessment_a.pk}/invitations/import/",
        {"csv_file": upload},
        follow=True,
    )
    assert "not a CSV text file" in response.content.decode()
    assert personas.assessment_a.respondents.count() == 0


def test_someone_already_invited_is_not_invited_twice() -> None:
    with pytest.raises(invitations.InvitationInputError, match="already invited"):
        invitations.parse_people(
            "Ada,ADA@example.com,engineering", existing_emails={"ada@example.com"}
        )
    with pytest.raises(invitations.InvitationInputError, match="appears twice"):
        invitations.parse_people("a@example.com,product\nA@example.com,product")


def test_reminders_go_to_those_not_finished_with_a_new_link(personas: Personas) -> None:
    assessment = personas.assessment_a
    done, _ = invite(assessment, name="Done")
    Respondent.objects.filter(pk=done.pk).update(
        email="done@example.com", status="submitted", submitted_at="2026-01-01T00:00Z"
    )
    waiting, old_token = invite(assessment, name="Wait")
    Respondent.objects.filter(pk=waiting.pk).update(email="wait@example.com")
    invite(assessment, name="No address")
    client = _client(personas.fiona)
    page = client.get(f"/assessments/{assessment.pk}/").content.decode()
    assert "Remind 1 person" in page
    client.post(f"/assessments/{assessment.pk}/invitations/remind/")
    _deliver()
    assert [m.to for m in mail.outbox] == [["wait@example.com"]]
    assert "Reminder" in mail.outbox[0].subject and "answers so far are kept" in mail.outbox[0].body
    # The old link stops working; the new one works.
    assert Client().get(f"/i/{old_token}/").status_code == 404
    new_url = next(line for line in mail.outbox[0].body.splitlines() if "/i/" in line).strip()
    assert Client().get(new_url[new_url.index("/i/") :]).status_code == 302


def test_a_closed_assessment_has_no_invitation_form_and_refuses_invitations(
    personas: Personas,
) -> None:
    assessment = personas.assessment_a
    assessment.close()
    client = _client(personas.alice)
    page = client.get(f"/assessments/{assessment.pk}/").content.decode()
    assert "This assessment is closed, so it takes no new people" in page
    assert 'name="people"' not in page and "Create an open link" not in page
    for url, data in [
        ("invitations/import/", {"people": "Ada,ada@example.com,engineering"}),
        ("invitations/", {"people": "Ada <ada@example.com>, engineering"}),
        ("open-link/", {}),
        ("invitations/remind/", {}),
    ]:
        response = client.post(f"/assessments/{assessment.pk}/{url}", data, follow=True)
        assert "closed" in response.content.decode(), url
    assert Invitation.objects.filter(assessment=assessment).count() == 0
    assert mail.outbox == []


def test_an_anonymous_assessment_mails_at_creation_but_stores_no_address(
    personas: Personas,
) -> None:
    assessment = make_assessment(personas.org_a, personas.alice, anonymous=True, title="Anon")
    _client(personas.alice).post(
        f"/assessments/{assessment.pk}/invitations/import/",
        {"people": "Ada,ada@example.com,engineering", "send_email": "on"},
    )
    _deliver()
    assert [m.to for m in mail.outbox] == [["ada@example.com"]]
    assert "anonymous" in mail.outbox[0].body
    assert list(assessment.respondents.values_list("name", "email")) == [("", "")]
    # The address waited, encrypted, only until the message went.
    assert list(MailoutItem.objects.values_list("sealed", flat=True)) == [b""]


def test_members_without_write_rights_cannot_import(personas: Personas) -> None:
    response = _client(personas.bob).post(
        f"/assessments/{personas.assessment_a.pk}/invitations/import/",
        {"people": "Ada,ada@example.com,engineering"},
    )
    assert response.status_code == 403
    assert personas.assessment_a.respondents.count() == 0
