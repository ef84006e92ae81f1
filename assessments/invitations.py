"""Invitation management for a consultant with forty respondents: a pasted or uploaded CSV of
`name, email, role`, links e-mailed through Django's e-mail framework, and reminders to those
who have not finished.

Tokens exist only at the moment a link is made (the database keeps their hashes), so a link is
e-mailed when it is created, and a reminder carries a new link that replaces the old one (the
answers stay). Anonymous assessments never store an address, so they can be e-mailed at
creation only, never reminded. The e-mails themselves are sent by a worker
(assessments.mailouts), never inside the request.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from assessments import services
from assessments.models import Assessment, Invitation, Respondent
from scoring.rubric import AUDIENCES

logger = logging.getLogger(__name__)

MAX_PEOPLE = 500
MAX_CSV_BYTES = 1024 * 1024
HEADER_WORDS = {"name", "email", "e-mail", "role"}


class InvitationInputError(ValueError):
    """Input that creates nothing; `problems` lists each line's reason."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    role: str


def _role(text: str, roles: Sequence[str] = AUDIENCES) -> str | None:
    role = text.strip().lower()
    return role if role in roles else None


def _split_address(who: str) -> tuple[str, str]:
    """`Ada Lovelace <ada@example.com>` -> (name, email); a bare address -> ("", email)."""
    who = who.strip()
    if "<" in who and who.endswith(">"):
        name, _, email = who[:-1].partition("<")
        return name.strip(), email.strip()
    if "@" in who:
        return "", who
    return who, ""


def decode_csv(data: bytes) -> str:
    if len(data) > MAX_CSV_BYTES:
        raise InvitationInputError([f"The file is larger than {MAX_CSV_BYTES // 1024} KB."])
    if b"\x00" in data:
        raise InvitationInputError(["That is not a CSV text file."])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("cp1252")  # what Excel on Windows writes by default
        except UnicodeDecodeError:
            raise InvitationInputError(["The file is not UTF-8 or Windows text."]) from None


def parse_people(
    text: str,
    *,
    existing_emails: AbstractSet[str] = frozenset(),
    roles: Sequence[str] = AUDIENCES,
) -> list[Person]:
    """People from CSV text: `name, email, role` per row (a header row is skipped), or the
    short forms `email, role`, `Name <email>, role` and `role` alone. Semicolons work as
    separators too (Excel in many locales). `roles`: those the assessment's rubric asks
    something of. Every problem is listed; none means all valid."""
    sample = text[:2048]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, skipinitialspace=True)
    people: list[Person] = []
    problems: list[str] = []
    seen: set[str] = set()
    for number, row in enumerate(reader, start=1):
        cells = [c.strip() for c in row]
        while cells and not cells[-1]:
            cells.pop()
        if not cells:
            continue
        if number == 1 and {c.lower() for c in cells} & HEADER_WORDS and not _role(cells[-1]):
            continue
        if len(cells) > 3:
            problems.append(
                f"Line {number}: expected name, email, role; found {len(cells)} values."
            )
            continue
        role = _role(cells[-1], roles)
        if role is None:
            problems.append(
                f"Line {number}: the role must be one of {', '.join(roles)} "
                f"(found {cells[-1][:40]!r})."
            )
            continue
        if len(cells) == 3:
            name, email = cells[0], cells[1]
        elif len(cells) == 2:
            name, email = _split_address(cells[0])
        else:
            name, email = "", ""
        if email:
            try:
                validate_email(email)
            except ValidationError:
                problems.append(f"Line {number}: {email[:80]!r} is not a valid e-mail address.")
                continue
            key = email.lower()
            if key in seen:
                problems.append(f"Line {number}: {email} appears twice.")
                continue
            if key in existing_emails:
                problems.append(
                    f"Line {number}: {email} is already invited (use Remind or New link)."
                )
                continue
            seen.add(key)
        if len(name) > 120:
            problems.append(f"Line {number}: the name is longer than 120 characters.")
            continue
        people.append(Person(name, email[:254], role))
    if not problems and not people:
        problems.append("Add at least one person.")
    if len(people) > MAX_PEOPLE:
        problems.append(f"Invite at most {MAX_PEOPLE} people at a time.")
    if problems:
        raise InvitationInputError(problems)
    return people


def existing_emails(assessment: Assessment) -> set[str]:
    return {
        e.lower() for e in assessment.respondents.exclude(email="").values_list("email", flat=True)
    }


@dataclass(frozen=True)
class FreshLink:
    name: str
    email: str
    role: str
    url: str
    kind: str = "Personal link"
    invitation: Invitation | None = None  # for e-mailing it (assessments.mailouts)

    @property
    def label(self) -> str:
        return self.name or self.email

    def as_session(self) -> dict[str, str]:
        return {
            "label": self.label,
            "name": self.name,
            "email": self.email,
            "role": self.role,
            "kind": self.kind,
            "url": self.url,
        }


def link_url(token: str) -> str:
    return settings.SITE_URL + reverse("survey:redeem", args=[token])


def invitations_import(
    *, assessment: Assessment, people: list[Person], base_url: str | None = None
) -> list[FreshLink]:
    """One personal link per person, all or none."""
    if not assessment.is_open:
        raise InvitationInputError(["This assessment is closed: reopen it to invite people."])
    base = base_url or settings.SITE_URL
    with transaction.atomic():
        issued = [
            (
                person,
                services.invitation_create_personal(
                    assessment=assessment, role=person.role, name=person.name, email=person.email
                ),
            )
            for person in people
        ]
    return [
        FreshLink(
            person.name,
            person.email,
            person.role,
            base + reverse("survey:redeem", args=[i.token]),
            invitation=i.invitation,
        )
        for person, i in issued
    ]


def message_for(
    assessment: Assessment, link: FreshLink, *, reminder: bool, sender: str
) -> mail.EmailMessage:
    organisation = assessment.organisation.name
    greeting = f"Hello {link.name}," if link.name else "Hello,"
    if reminder:
        subject = f"Reminder: {organisation} readiness survey"
        lead = (
            f'a reminder that {organisation}\'s survey "{assessment.title}" is waiting for '
            "your answers. Your answers so far are kept; this new link replaces the one you "
            "had before."
        )
    else:
        subject = f"{organisation} readiness survey: your personal link"
        lead = (
            f'{sender or organisation} invites you to answer "{assessment.title}", a short '
            "survey on how ready the organisation is to put AI agents to work. Answers save as "
            "you go; you can leave and come back with the same link until you submit."
        )
    ttl = settings.INVITATION_TTL_DAYS
    body = (
        f"{greeting}\n\n{lead}\n\nYour personal link (works for {ttl} days, please don't "
        f"forward it):\n{link.url}\n\n"
        + (
            "The survey is anonymous: your name is not stored with your answers.\n\n"
            if assessment.anonymous
            else ""
        )
        + (
            "The people running it can export each respondent's answers with their name.\n\n"
            if assessment.export_named_answers
            else ""
        )
        + "Thank you.\n"
    )
    return mail.EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [link.email])


def reminders_due(assessment: Assessment) -> list[Respondent]:
    """Personal-link respondents who have not submitted."""
    return list(
        assessment.respondents.select_related("invitation")
        .filter(invitation__kind=Invitation.Kind.PERSONAL)
        .exclude(status=Respondent.Status.SUBMITTED)
        .order_by("created_at", "pk")
    )


def reminders_prepare(*, assessment: Assessment, now: datetime | None = None) -> list[FreshLink]:
    """A new link for everyone with an address who has not finished (the old links stop
    working; answers are kept), to be e-mailed by assessments.mailouts."""
    if not assessment.is_open:
        raise InvitationInputError(["This assessment is closed: reopen it to send reminders."])
    now = now or timezone.now()
    due = [r for r in reminders_due(assessment) if r.email and r.invitation is not None]
    links = []
    with transaction.atomic():
        for respondent in due:
            assert respondent.invitation is not None
            issued = services.invitation_reissue(invitation=respondent.invitation, now=now)
            links.append(
                FreshLink(
                    respondent.name,
                    respondent.email,
                    respondent.role,
                    link_url(issued.token),
                    invitation=respondent.invitation,
                )
            )
    return links


def links_csv(links: list[dict[str, str]]) -> str:
    """name, email, role, link: what "Download as CSV" gives (cells a spreadsheet could read as
    a formula are quoted with an apostrophe)."""
    from reports.exports import safe_cell

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["name", "email", "role", "link"])
    for link in links:
        writer.writerow(
            [safe_cell(link.get(k, "")) for k in ("name", "email", "role")] + [link.get("url", "")]
        )
    return buffer.getvalue()
