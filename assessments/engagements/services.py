"""The consultant's view across clients, and starting assessments from a saved set-up."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max, Q

from assessments import services
from assessments.cleaning import clean_text
from assessments.engagements.models import AssessmentSetup, EngagementTemplate
from assessments.models import Assessment, Membership, Organisation
from assessments.workshops.models import Workshop
from scoring.rubric import AUDIENCES, get_rubric


@dataclass(frozen=True)
class AssessmentRow:
    assessment: Assessment
    invited: int
    finished: int
    workshops: int
    agreed: int
    last_activity: datetime

    @property
    def response_rate(self) -> int | None:
        return round(100 * self.finished / self.invited) if self.invited else None


@dataclass(frozen=True)
class ClientRow:
    organisation: Organisation
    membership: Membership
    assessments: list[AssessmentRow]

    @property
    def last_activity(self) -> datetime:
        times = [a.last_activity for a in self.assessments]
        return max(times) if times else self.organisation.created_at


def consultant_overview(user: User) -> list[ClientRow]:
    """Every organisation the user belongs to, with each assessment's status, response rate
    and last activity (the latest answer, submission, workshop change or creation), most
    recently active client first. Three queries whatever the number of clients."""
    memberships = list(user.memberships.select_related("organisation"))
    org_ids = [m.organisation_id for m in memberships]
    assessments = (
        Assessment.objects.filter(organisation_id__in=org_ids)
        .annotate(
            n_invited=Count("respondents", distinct=True),
            n_finished=Count(
                "respondents", filter=Q(respondents__status="submitted"), distinct=True
            ),
            last_answer=Max("respondents__last_answer_at"),
            last_submit=Max("respondents__submitted_at"),
        )
        .order_by("-created_at")
    )
    workshop_stats = {
        row["assessment_id"]: row
        for row in Workshop.objects.filter(assessment__organisation_id__in=org_ids)
        .values("assessment_id")
        .annotate(
            n=Count("id", distinct=True),
            agreed=Count("items", filter=Q(items__state="agreed")),
            last=Max("updated_at"),
        )
    }
    rows: dict[object, list[AssessmentRow]] = {}
    for a in assessments:
        ws: dict[str, Any] = dict(workshop_stats.get(a.pk, {}))
        times = [t for t in (a.created_at, a.last_answer, a.last_submit, ws.get("last")) if t]  # type: ignore[attr-defined]
        rows.setdefault(a.organisation_id, []).append(
            AssessmentRow(
                assessment=a,
                invited=a.n_invited,  # type: ignore[attr-defined]
                finished=a.n_finished,  # type: ignore[attr-defined]
                workshops=int(ws.get("n", 0)),
                agreed=int(ws.get("agreed", 0)),
                last_activity=max(times),
            )
        )
    clients = [ClientRow(m.organisation, m, rows.get(m.organisation_id, [])) for m in memberships]
    clients.sort(key=lambda c: c.last_activity, reverse=True)
    return clients


def _setup_for(assessment: Assessment) -> AssessmentSetup | None:
    try:
        return assessment.setup
    except AssessmentSetup.DoesNotExist:
        return None


def assessment_copy(*, source: Assessment, title: str, created_by: User | None) -> Assessment:
    """A re-assessment: the same organisation, teams, rubric version, anonymity, targets,
    weights and set-up, with no respondents, answers, workshops or scans, so a quarter later
    the organisation answers afresh; it remembers which assessment it repeats."""
    title = title.strip()[:200]
    if not title:
        raise EngagementInputError("Give the re-assessment a title.")
    with transaction.atomic():
        copy = services.assessment_create(
            organisation=source.organisation,
            title=title,
            created_by=created_by,
            teams=list(source.teams.all()),
            anonymous=source.anonymous,
            mode=source.mode,
            rubric_id=source.rubric_id,
            rubric_version=source.rubric_version,
        )
        copy.targets = dict(source.targets or {})
        copy.weights = dict(source.weights or {})
        copy.save(update_fields=["targets", "weights"])
        setup = _setup_for(source)
        AssessmentSetup.objects.create(
            assessment=copy,
            template=setup.template if setup else None,
            previous=source,
            invitation_roles=list(setup.invitation_roles) if setup else [],
            cover_text=setup.cover_text if setup else "",
            **(setup.brand_values() if setup else {}),
        )
    return copy


class EngagementInputError(ValueError):
    """Input that starts nothing; the message is shown as it is."""


def _check_roles(roles: list[str]) -> list[str]:
    unknown = [r for r in roles if r not in AUDIENCES]
    if unknown:
        raise EngagementInputError(f"Unknown role(s): {', '.join(unknown)}.")
    return [r for r in AUDIENCES if r in roles]


COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
LOGO_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}
MAX_LOGO_BYTES = 300_000


def brand_clean(*, firm_name: str, colour: str, logo: bytes) -> dict[str, object]:
    """Branding values as a template stores them, checked as the branding form checks them
    (so a caller other than the form cannot store what the form would refuse): the firm
    name trimmed and at most 120 characters, a colour like #1d5aa6 (surrounding spaces
    dropped, so "#1d5aa6 " never overflows the 7-character column), a PNG or JPEG logo of
    at most 300 KB recognised by its first bytes. An empty firm name means no branding."""
    try:
        firm_name = clean_text(firm_name, multiline=False)
    except ValidationError as exc:
        raise EngagementInputError(f"Firm name: {' '.join(exc.messages)}") from None
    if len(firm_name) > 120:
        raise EngagementInputError("The firm name is longer than 120 characters.")
    colour = colour.strip()
    if not COLOUR.fullmatch(colour):
        raise EngagementInputError("Use a colour like #1d5aa6.")
    if len(logo) > MAX_LOGO_BYTES:
        raise EngagementInputError("The logo is larger than 300 KB.")
    logo_type = next((t for magic, t in LOGO_TYPES.items() if logo.startswith(magic)), "")
    if logo and not logo_type:
        raise EngagementInputError("The logo must be a PNG or JPEG image.")
    if not firm_name:
        return {"brand_firm_name": "", "brand_colour": "", "brand_logo": b"", "brand_logo_type": ""}
    return {
        "brand_firm_name": firm_name,
        "brand_colour": colour.lower(),
        "brand_logo": logo,
        "brand_logo_type": logo_type,
    }


def template_save(
    *,
    owner: User,
    name: str,
    assessment: Assessment,
    invitation_roles: list[str],
    cover_text: str,
    firm_name: str = "",
    colour: str = "#1d5aa6",
    logo: bytes = b"",
) -> EngagementTemplate:
    """Save (or replace, by name) a template from an assessment's set-up and the given
    report branding (see brand_clean). Nothing is saved when any value is refused."""
    name = name.strip()[:120]
    if not name:
        raise EngagementInputError("Give the template a name.")
    brand = brand_clean(firm_name=firm_name, colour=colour, logo=logo)
    values = {
        "rubric_id": assessment.rubric_id,
        "rubric_version": assessment.rubric_version,
        "targets": dict(assessment.targets or {}),
        "weights": dict(assessment.weights or {}),
        "anonymous": assessment.anonymous,
        "invitation_roles": _check_roles(invitation_roles),
        "cover_text": cover_text.strip()[:2000],
        **brand,
    }
    template, _created = EngagementTemplate.objects.update_or_create(
        owner=owner, name=name, defaults=values
    )
    return template


def client_start(
    *, template: EngagementTemplate, organisation_name: str, title: str, consultant: User
) -> Assessment:
    """A new client organisation (the consultant as its facilitator) with a first assessment
    set up from the template."""
    organisation_name = organisation_name.strip()[:200]
    title = title.strip()[:200]
    if not organisation_name or not title:
        raise EngagementInputError("Give the client's name and the assessment's title.")
    try:
        template.rubric_id and get_rubric(template.rubric_id, template.rubric_version)
    except (KeyError, LookupError, ValueError):
        raise EngagementInputError(
            f"The template's rubric ({template.rubric_id} v{template.rubric_version}) is not "
            "installed here."
        ) from None
    with transaction.atomic():
        organisation = services.organisation_create(
            name=organisation_name, creator=consultant, role=Membership.Role.FACILITATOR
        )
        assessment = services.assessment_create(
            organisation=organisation,
            title=title,
            created_by=consultant,
            anonymous=template.anonymous,
            rubric_id=template.rubric_id,
            rubric_version=template.rubric_version,
        )
        assessment.targets = dict(template.targets)
        assessment.weights = dict(template.weights)
        assessment.save(update_fields=["targets", "weights"])
        AssessmentSetup.objects.create(
            assessment=assessment,
            template=template,
            invitation_roles=list(template.invitation_roles),
            cover_text=template.cover_text,
            **template.brand_values(),
        )
    return assessment
