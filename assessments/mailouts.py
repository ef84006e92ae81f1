"""Invitation and reminder e-mails sent by a worker, never inside the request.

With SMTP, forty messages can take longer than a request may (a slow or unreachable mail
server holds each for up to EMAIL_TIMEOUT). So the request makes the links (quick, database
only) and records a `Mailout` with one `MailoutItem` per person, enqueued on commit; the
`send_mailout` task takes its id and calls `mailout_send`. The assessment page polls the
mailout and shows "Sending 40 invitations…", then how many were sent and which failed.

Exactly-once, as far as e-mail allows: an item is claimed (`started_at`, a conditional
update) before its message goes to the mail server and marked `sent_at` after, so a retried
or redelivered task never sends an item twice. An item claimed by an attempt that died before
recording the outcome is reported as "not known whether it was sent", never sent again.

Tokens exist only when a link is made (the database keeps their hashes), so each item keeps
its link, and for an anonymous assessment the address that is stored nowhere else, encrypted
(`sealed`) until the message is sent or given up, then wiped.
"""

from __future__ import annotations

import contextlib
import json
import logging
import smtplib
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.core import mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from assessments import invitations
from assessments.invitations import FreshLink
from assessments.jobs import (
    Claim,
    job_claim,
    job_enqueue,
    job_fail,
    job_finish,
    job_progress,
    job_requeue_if_stuck,
    job_running,
)
from assessments.models import Assessment, Invitation, Mailout, MailoutItem
from assessments.scans import secrets

logger = logging.getLogger(__name__)

PURPOSE = "mailouts"
UNKNOWN = (
    "Not known whether this was sent: the worker stopped while sending it. Use “New link” "
    "beside the person to give them a fresh one."
)


def _seal(link: FreshLink) -> bytes:
    payload = {"name": link.name, "email": link.email, "role": link.role, "url": link.url}
    return secrets.encrypt(json.dumps(payload), purpose=PURPOSE)


def _unseal(data: bytes) -> FreshLink | None:
    text = secrets.decrypt(bytes(data), purpose=PURPOSE)
    if text is None:
        return None
    payload = json.loads(text)
    return FreshLink(payload["name"], payload["email"], payload["role"], payload["url"])


def invitations_send(
    *, assessment: Assessment, links: Sequence[FreshLink], sender: str = "", user: Any = None
) -> Mailout | None:
    """E-mail freshly made personal links (those with an address), from a worker."""
    return mailout_create(
        assessment=assessment, kind=Mailout.Kind.INVITATIONS, links=links, sender=sender, user=user
    )


def reminders_send(*, assessment: Assessment, sender: str = "", user: Any = None) -> Mailout | None:
    """A new link for everyone with an address who has not finished, e-mailed from a worker.
    None when nobody is due. Refuses (InvitationInputError) on a closed assessment."""
    with transaction.atomic():
        links = invitations.reminders_prepare(assessment=assessment)
        return mailout_create(
            assessment=assessment,
            kind=Mailout.Kind.REMINDERS,
            links=links,
            sender=sender,
            user=user,
        )


def mailout_create(
    *,
    assessment: Assessment,
    kind: str,
    links: Sequence[FreshLink],
    sender: str = "",
    user: Any = None,
) -> Mailout | None:
    """Record the e-mails for the links that have an address and enqueue their sending once
    the transaction commits. None when no link has an address."""
    addressed: list[tuple[Invitation, FreshLink]] = [
        (link.invitation, link) for link in links if link.email and link.invitation is not None
    ]
    if not addressed:
        return None
    with transaction.atomic():
        mailout = Mailout.objects.create(
            assessment=assessment,
            kind=kind,
            requested_by=user if getattr(user, "is_authenticated", False) else None,
            sender=sender[:200],
            total=len(addressed),
        )
        MailoutItem.objects.bulk_create(
            MailoutItem(mailout=mailout, invitation=invitation, sealed=_seal(link))
            for invitation, link in addressed
        )
        transaction.on_commit(lambda: enqueue(mailout.pk))
    return mailout


def task_sender(mailout_id: Any) -> Any:
    from assessments.tasks import send_mailout

    return lambda: send_mailout.delay(str(mailout_id))


def enqueue(mailout_id: Any) -> bool:
    return job_enqueue(Mailout, mailout_id, task_sender(mailout_id))


def requeue_if_stuck(mailout: Mailout) -> None:
    job_requeue_if_stuck(mailout, task_sender(mailout.pk))


def _settle(mailout: Mailout) -> tuple[int, int]:
    items = mailout.items.all()
    return (
        items.filter(sent_at__isnull=False).count(),
        items.filter(sent_at__isnull=True).exclude(error="").count(),
    )


def mailout_send(*, mailout_id: Any) -> Claim:
    """Send a mailout's messages that no attempt has started. Safe to call any number of times
    for the same mailout: one call per attempt claims it, and each message is handed to the
    mail server at most once."""
    claim = job_claim(Mailout, mailout_id)
    if not claim.claimed:
        logger.info("Mailout %s not run here: %s", mailout_id, claim.outcome.value)
        return claim
    attempt = claim.attempt
    mailout = Mailout.objects.select_related("assessment", "assessment__organisation").get(
        pk=mailout_id
    )
    try:
        with job_running(Mailout, mailout_id, attempt):
            _send(mailout, attempt)
    except Exception as exc:
        logger.exception("Mailout %s failed", mailout_id)
        job_fail(
            Mailout,
            mailout_id,
            f"Sending stopped ({type(exc).__name__}). Use “Remind” to send new links to those "
            "who have not finished.",
            attempt=attempt,
        )
        # The job is over: nothing left waits for a worker with a link or address in it.
        mailout.items.filter(sent_at__isnull=True, error="").update(
            started_at=timezone.now(), error="Not sent: sending stopped.", sealed=b""
        )
        sent, failed = _settle(mailout)
        Mailout.objects.filter(pk=mailout_id).update(sent=sent, failed=failed)
    return claim


def _send(mailout: Mailout, attempt: int) -> None:
    label = mailout.get_kind_display()
    # Items an earlier attempt started and never recorded: perhaps sent, so never again.
    mailout.items.filter(started_at__isnull=False, sent_at__isnull=True, error="").update(
        error=UNKNOWN, sealed=b""
    )
    pending = list(mailout.items.filter(started_at__isnull=True).values_list("pk", flat=True))
    done = mailout.total - len(pending)
    connection = mail.mailers.default
    opened = False
    try:
        for pk in pending:
            if not job_progress(
                Mailout,
                mailout.pk,
                attempt,
                f"Sending {mailout.total} {label}s: {done} done",
                round(100 * done / max(1, mailout.total)),
            ):
                return  # taken over or cancelled: the other attempt carries on
            now = timezone.now()
            if not MailoutItem.objects.filter(pk=pk, started_at__isnull=True).update(
                started_at=now
            ):
                continue  # another attempt has it
            item = MailoutItem.objects.get(pk=pk)
            link = _unseal(bytes(item.sealed))
            error = ""
            if link is None:
                error = "The link could not be read (the encryption key changed): send a new one."
            else:
                message = invitations.message_for(
                    mailout.assessment,
                    link,
                    reminder=mailout.kind == Mailout.Kind.REMINDERS,
                    sender=mailout.sender,
                )
                if not opened:
                    try:
                        connection.open()
                    except OSError as exc:
                        # The mail server is unreachable: give up on all of them at once
                        # rather than wait EMAIL_TIMEOUT for each in turn.
                        reason = f"Not sent: the mail server could not be reached ({exc})"[:300]
                        logger.warning("Mailout %s: %s", mailout.pk, reason)
                        mailout.items.filter(
                            Q(pk=pk) | Q(pk__in=pending, started_at__isnull=True)
                        ).update(started_at=now, error=reason, sealed=b"")
                        break
                    opened = True
                try:
                    if not connection.send_messages([message]):
                        error = "The mail server did not accept the message."
                except (OSError, ValueError) as exc:  # ValueError: a bad header
                    error = f"Not sent: {_reason(exc)}"[:300]
                    logger.warning("Mailout %s item %s not sent: %s", mailout.pk, pk, exc)
            if error:
                MailoutItem.objects.filter(pk=pk).update(error=error, sealed=b"")
            else:
                MailoutItem.objects.filter(pk=pk).update(
                    sent_at=timezone.now(), error="", sealed=b""
                )
            done += 1
    finally:
        if opened:
            with contextlib.suppress(OSError):
                connection.close()
    sent, failed = _settle(mailout)
    stage = f"Sent {sent} of {mailout.total} {label}s" + (f"; {failed} failed" if failed else "")
    job_finish(Mailout, mailout.pk, attempt, stage=stage, sent=sent, failed=failed)


def _reason(exc: Exception) -> str:
    """What the mail server said, in words rather than Python's repr of it."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        replies = [
            f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"
            for code, text in exc.recipients.values()
        ]
        return "the mail server refused the address (" + "; ".join(replies) + ")"
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error
        said = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
        return f"the mail server answered {exc.smtp_code} {said}"
    return str(exc) or type(exc).__name__


def mailouts_on_show(assessment: Assessment) -> list[Mailout]:
    """What the assessment page shows: mailouts still sending, and those finished in the last
    day (newest first), so the leader sees how the last sending went."""
    recent = timezone.now() - timedelta(days=1)
    return list(
        assessment.mailouts.filter(
            Q(finished_at__isnull=True) | Q(finished_at__gte=recent)
        ).order_by("-created_at")[:3]
    )


def failed_items(mailout: Mailout) -> list[MailoutItem]:
    return list(
        mailout.items.filter(sent_at__isnull=True)
        .exclude(error="")
        .select_related("invitation")
        .prefetch_related("invitation__respondents")
    )
