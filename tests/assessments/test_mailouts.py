"""Invitation and reminder e-mails go out from a worker: the request never waits for the mail
server, the leader sees "Sending…" and then how many went, and a retried task never sends a
message twice."""

from __future__ import annotations

import os
import smtplib
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.test import Client
from django.utils import timezone

from assessments import mailouts
from assessments.jobs import ClaimOutcome
from assessments.models import Mailout, MailoutItem
from assessments.tasks import send_mailout
from tests.factories import Personas, add_member, make_assessment, make_org, make_user

FIVE = "\n".join(f"Person {n},person{n}@example.com,engineering" for n in range(5))


class BouncingBackend(LocmemBackend):
    """locmem, except that the server refuses any address with "bounce" in it."""

    def send_messages(self, messages: Any) -> int:
        for message in messages:
            if any("bounce" in to for to in message.to):
                raise smtplib.SMTPRecipientsRefused({message.to[0]: (550, b"No such user")})
        return super().send_messages(messages)


class UnreachableBackend(LocmemBackend):
    opened = 0

    def open(self) -> bool:
        UnreachableBackend.opened += 1
        raise ConnectionRefusedError(111, "Connection refused")


def _client(user: object) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _import(client: Client, assessment: Any, people: str = FIVE) -> Mailout:
    response = client.post(
        f"/assessments/{assessment.pk}/invitations/import/",
        {"people": people, "send_email": "on"},
    )
    assert response.status_code == 302
    return Mailout.objects.get(assessment=assessment)


@pytest.mark.django_db
def test_the_request_only_records_the_mailout_and_the_page_says_it_is_sending(
    personas: Personas,
) -> None:
    client = _client(personas.alice)
    mailout = _import(client, personas.assessment_a)
    assert mail.outbox == []
    assert (mailout.kind, mailout.total, mailout.status) == ("invitations", 5, "queued")
    page = client.get(f"/assessments/{personas.assessment_a.pk}/").content.decode()
    assert "Sending 5 invitations…" in page
    assert f'hx-get="/assessments/{personas.assessment_a.pk}/mailouts/{mailout.pk}/"' in page
    # Tokens are never stored in the clear: each item holds its link encrypted.
    token_urls = [m for m in page.split('value="') if "/i/" in m[:80]]
    assert token_urls
    for item in MailoutItem.objects.all():
        assert b"/i/" not in bytes(item.sealed) and b"example.com" not in bytes(item.sealed)
    poll = client.get(
        f"/assessments/{personas.assessment_a.pk}/mailouts/{mailout.pk}/", HTTP_HX_REQUEST="true"
    )
    assert poll.status_code == 200 and "Sending 5 invitations…" in poll.content.decode()
    mailouts.mailout_send(mailout_id=mailout.pk)
    poll = client.get(
        f"/assessments/{personas.assessment_a.pk}/mailouts/{mailout.pk}/", HTTP_HX_REQUEST="true"
    )
    assert poll.status_code == 286  # htmx: stop polling
    assert "Sent 5 of 5 invitations" in poll.content.decode()
    assert sorted(m.to[0] for m in mail.outbox) == [f"person{n}@example.com" for n in range(5)]


@pytest.mark.django_db
def test_a_retried_task_never_sends_an_invitation_twice(personas: Personas) -> None:
    mailout = _import(_client(personas.alice), personas.assessment_a)
    assert mailouts.mailout_send(mailout_id=mailout.pk).claimed
    assert len(mail.outbox) == 5
    # The broker delivers the message again: nothing more is sent.
    assert mailouts.mailout_send(mailout_id=mailout.pk).outcome is ClaimOutcome.DONE
    assert len(mail.outbox) == 5
    assert MailoutItem.objects.filter(sent_at__isnull=False).count() == 5
    assert set(MailoutItem.objects.values_list("sealed", flat=True)) == {b""}


@pytest.mark.django_db
def test_a_worker_that_died_mid_way_is_taken_over_without_sending_twice(
    personas: Personas,
) -> None:
    mailout = _import(_client(personas.alice), personas.assessment_a)
    items = list(mailout.items.order_by("pk"))
    long_ago = timezone.now() - timedelta(minutes=10)
    # The dead attempt sent two, and had handed a third to the server when it was killed.
    MailoutItem.objects.filter(pk__in=[items[0].pk, items[1].pk]).update(
        started_at=long_ago, sent_at=long_ago, sealed=b""
    )
    MailoutItem.objects.filter(pk=items[2].pk).update(started_at=long_ago)
    Mailout.objects.filter(pk=mailout.pk).update(
        status="running", attempts=1, owner="elsewhere:1:1", heartbeat_at=long_ago
    )
    claim = mailouts.mailout_send(mailout_id=mailout.pk)
    assert claim.claimed and claim.attempt == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["person3@example.com", "person4@example.com"]
    mailout.refresh_from_db()
    assert (mailout.status, mailout.sent, mailout.failed) == ("succeeded", 4, 1)
    unknown = MailoutItem.objects.get(pk=items[2].pk)
    assert unknown.sent_at is None and "Not known whether this was sent" in unknown.error


@pytest.mark.django_db
def test_refused_addresses_are_listed_and_the_rest_are_sent(
    personas: Personas, settings: Any
) -> None:
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.BouncingBackend"}}
    client = _client(personas.alice)
    people = FIVE + "\nBo Bounce,bounce@example.com,product"
    mailout = _import(client, personas.assessment_a, people)
    mailouts.mailout_send(mailout_id=mailout.pk)
    mailout.refresh_from_db()
    assert (mailout.status, mailout.sent, mailout.failed) == ("succeeded", 5, 1)
    assert len(mail.outbox) == 5
    page = client.get(f"/assessments/{personas.assessment_a.pk}/").content.decode()
    assert "Sent 5 of 6 invitations" in page and "1 could not be sent" in page
    assert "Bo Bounce" in page and "the mail server refused the address (550 No such user)" in page


@pytest.mark.django_db
def test_an_unreachable_mail_server_fails_them_all_at_once_and_says_so(
    personas: Personas, settings: Any
) -> None:
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.UnreachableBackend"}}
    UnreachableBackend.opened = 0
    client = _client(personas.alice)
    mailout = _import(client, personas.assessment_a)
    mailouts.mailout_send(mailout_id=mailout.pk)
    assert UnreachableBackend.opened == 1  # not once per message, each waiting for a timeout
    mailout.refresh_from_db()
    assert (mailout.sent, mailout.failed) == (0, 5)
    page = client.get(f"/assessments/{personas.assessment_a.pk}/").content.decode()
    assert "Sent 0 of 5 invitations" in page and "could not be reached" in page


@pytest.mark.django_db
def test_reminders_are_sent_by_the_worker_too(personas: Personas) -> None:
    client = _client(personas.alice)
    first = _import(client, personas.assessment_a)
    mailouts.mailout_send(mailout_id=first.pk)
    mail.outbox.clear()
    client.post(f"/assessments/{personas.assessment_a.pk}/invitations/remind/")
    assert mail.outbox == []
    reminder = Mailout.objects.get(kind="reminders")
    assert reminder.total == 5
    page = client.get(f"/assessments/{personas.assessment_a.pk}/").content.decode()
    assert "Sending 5 reminders…" in page
    mailouts.mailout_send(mailout_id=reminder.pk)
    assert len(mail.outbox) == 5 and all("Reminder" in m.subject for m in mail.outbox)


@pytest.mark.django_db
def test_outsiders_and_members_cannot_see_a_mailout(personas: Personas) -> None:
    mailout = _import(_client(personas.alice), personas.assessment_a)
    url = f"/assessments/{personas.assessment_a.pk}/mailouts/{mailout.pk}/"
    assert _client(personas.charlie).get(url, HTTP_HX_REQUEST="true").status_code == 404
    assert _client(personas.bob).get(url, HTTP_HX_REQUEST="true").status_code == 403
    other = f"/assessments/{personas.assessment_b.pk}/mailouts/{mailout.pk}/"
    assert _client(personas.charlie).get(other, HTTP_HX_REQUEST="true").status_code == 404


# --- Through a real worker -------------------------------------------------------------------


def _wait(mailout: Mailout, timeout: float = 60) -> Mailout:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        mailout.refresh_from_db()
        if mailout.done:
            return mailout
        time.sleep(0.2)
    raise AssertionError(f"mailout still {mailout.status} ({mailout.stage}) after {timeout}s")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_the_invitations_once_even_when_the_task_comes_again(
    celery_worker: Any,
) -> None:
    user = make_user("leader")
    org = make_org("Worker Org")
    add_member(user, org, "owner")
    assessment = make_assessment(org, user, title="Worker run")
    # The worker writes to its log: the console back-end, the default, prints each message.
    log = os.readlink(f"/proc/{celery_worker.pid}/fd/1")
    start = Path(log).stat().st_size  # the worker serves the whole session: read only ours
    client = _client(user)
    mailout = _wait(_import(client, assessment))
    assert (mailout.status, mailout.sent, mailout.failed) == ("succeeded", 5, 0), mailout.error
    sent_at = dict(mailout.items.values_list("pk", "sent_at"))
    assert all(sent_at.values())
    # A redelivered message (a retry, a broker's second delivery) sends nothing again.
    send_mailout.delay(str(mailout.pk))
    deadline = time.monotonic() + 10
    text = ""
    while time.monotonic() < deadline:
        with open(log, "rb") as handle:
            handle.seek(start)
            text = handle.read().decode("utf-8", errors="replace")
        if text.count(f"Mailout {mailout.pk} not run here") >= 1:
            break
        time.sleep(0.2)
    assert f"Mailout {mailout.pk} not run here: done" in text
    assert dict(mailout.items.values_list("pk", "sent_at")) == sent_at
    for n in range(5):
        assert text.count(f"To: person{n}@example.com") == 1, n
    page = client.get(f"/assessments/{assessment.pk}/").content.decode()
    assert "Sent 5 of 5 invitations" in page


@pytest.mark.django_db
def test_a_mailout_whose_message_was_lost_is_found_and_sent_again(personas: Personas) -> None:
    from assessments.jobs import jobs_recover, jobs_stuck

    mailout = _import(_client(personas.alice), personas.assessment_a)  # on_commit never ran
    stuck = [s for s in jobs_stuck() if s.kind == "mailout"]
    assert [s.job.pk for s in stuck] == [mailout.pk] and stuck[0].reason == "never sent"
    assert jobs_recover() == 1  # published again (the tests' filesystem broker)
    mailout.refresh_from_db()
    assert mailout.enqueued_at is not None and mailout.status == "queued"


@pytest.mark.django_db
def test_a_sending_that_breaks_stops_says_so_and_keeps_no_links(
    personas: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assessments import invitations

    made = invitations.message_for
    calls = []

    def breaks_on_the_third(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("a bug")
        return made(*args, **kwargs)

    monkeypatch.setattr(invitations, "message_for", breaks_on_the_third)
    client = _client(personas.alice)
    mailout = _import(client, personas.assessment_a)
    mailouts.mailout_send(mailout_id=mailout.pk)
    mailout.refresh_from_db()
    assert (mailout.status, mailout.sent, mailout.failed) == ("failed", 2, 3)
    assert len(mail.outbox) == 2
    assert set(MailoutItem.objects.values_list("sealed", flat=True)) == {b""}
    page = client.get(f"/assessments/{personas.assessment_a.pk}/").content.decode()
    assert "Sending stopped after 2 of 5 invitations" in page
    # A redelivered task does not start again: nothing is sent twice.
    mailouts.mailout_send(mailout_id=mailout.pk)
    assert len(mail.outbox) == 2
