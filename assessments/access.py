"""The one way views reach tenant-owned rows.

Each helper starts its query from the requesting user's memberships, so a row of another
organisation is simply not found: outsiders get 404 (never 403, which would confirm the id
exists). Members without write rights get 403 on writes. Respondents are not users: they reach
their own Respondent row only through ids that their session earned by redeeming a link.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django_htmx.middleware import HtmxDetails

from assessments.models import (
    Assessment,
    Invitation,
    Membership,
    Organisation,
    Participant,
    Respondent,
    Workshop,
)

SESSION_RESPONDENTS = "respondent_links"


class LinkNoLongerUsable(Http404):
    """The respondent's link was revoked, replaced or has expired since this browser opened
    it: answered with the same neutral "this link can't be used" page as a bad token."""


class AuthenticatedHttpRequest(HttpRequest):
    """The request type of views behind @login_required (with django-htmx's details)."""

    user: User
    htmx: HtmxDetails


def _uuid_or_404(value: Any) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (TypeError, ValueError):
        raise Http404 from None


def _membership_or_404(request: HttpRequest, org_id: uuid.UUID) -> Membership:
    user = request.user
    if not user.is_authenticated:
        raise Http404
    try:
        return Membership.objects.select_related("organisation").get(
            user=user, organisation_id=org_id
        )
    except Membership.DoesNotExist:
        raise Http404 from None


def _require_write(membership: Membership, write: bool, denied: str | None = None) -> None:
    if write and not membership.can_write:
        raise PermissionDenied(denied or "Your role in this organisation is read-only.")


def get_org_for_user(
    request: HttpRequest, org_id: Any, *, write: bool = False
) -> tuple[Organisation, Membership]:
    membership = _membership_or_404(request, _uuid_or_404(org_id))
    _require_write(membership, write)
    return membership.organisation, membership


def get_assessment_for_user(
    request: HttpRequest, assessment_id: Any, *, write: bool = False, denied: str | None = None
) -> tuple[Assessment, Membership]:
    """The assessment and the user's membership; 404 for outsiders. With write=True, members
    without write rights get 403 (with `denied` as the reason when given)."""
    if not request.user.is_authenticated:
        raise Http404
    try:
        assessment = (
            Assessment.objects.for_user(request.user)
            .select_related("organisation")
            .get(pk=_uuid_or_404(assessment_id))
        )
    except Assessment.DoesNotExist:
        raise Http404 from None
    membership = _membership_or_404(request, assessment.organisation_id)
    _require_write(membership, write, denied)
    return assessment, membership


def get_invitation_for_user(
    request: HttpRequest, assessment_id: Any, invitation_id: Any, *, write: bool = False
) -> tuple[Invitation, Membership]:
    assessment, membership = get_assessment_for_user(request, assessment_id, write=write)
    try:
        invitation = assessment.invitations.get(pk=_uuid_or_404(invitation_id))
    except Invitation.DoesNotExist:
        raise Http404 from None
    return invitation, membership


def get_respondent_for_session(request: HttpRequest, respondent_id: Any) -> Respondent:
    """A respondent is reachable only from the browser session that redeemed its link, and
    only while that link still works: revoking or replacing a link closes the survey in
    browsers that opened it before, too."""
    rid = _uuid_or_404(respondent_id)
    links: dict[str, str] = request.session.get(SESSION_RESPONDENTS) or {}
    if not isinstance(links, dict) or str(rid) not in links:
        raise Http404
    try:
        respondent = Respondent.objects.select_related(
            "assessment", "assessment__organisation", "invitation"
        ).get(pk=rid)
    except Respondent.DoesNotExist:
        raise Http404 from None
    invitation = respondent.invitation
    if invitation is None or not invitation.is_usable():
        raise LinkNoLongerUsable
    # Reissuing a link (personal or open) gives it a new token: browsers that came in through
    # the old token are closed out, as when the link is revoked.
    if invitation.token_hash != links[str(rid)]:
        raise LinkNoLongerUsable
    return respondent


def session_has_respondent(request: HttpRequest, respondent_id: str) -> bool:
    links = request.session.get(SESSION_RESPONDENTS) or {}
    return isinstance(links, dict) and respondent_id in links


def remember_respondent(request: HttpRequest, respondent: Respondent) -> None:
    """Note in the session which link (by its token's hash) let this browser in."""
    links = request.session.get(SESSION_RESPONDENTS) or {}
    links = dict(links) if isinstance(links, dict) else {}
    links.pop(str(respondent.pk), None)
    invitation = respondent.invitation
    links[str(respondent.pk)] = invitation.token_hash if invitation else ""
    request.session[SESSION_RESPONDENTS] = dict(list(links.items())[-50:])


# --- Workshops ----------------------------------------------------------------------------

SESSION_PARTICIPANTS = "workshop_participants"


class NotAParticipant(Http404):
    """This browser has not joined the workshop the page belongs to: answered with a page
    that says so and offers the join form, never with the other participant's page."""


def get_workshop_for_user(
    request: HttpRequest, assessment_id: Any, workshop_id: Any, *, write: bool = True
) -> tuple[Workshop, Membership]:
    """A workshop of an assessment the user may run; 404 for outsiders, 403 for members
    without write rights (workshops are run by owners and facilitators)."""
    assessment, membership = get_assessment_for_user(
        request,
        assessment_id,
        write=write,
        denied="Workshops are run by the organisation's owners and facilitators.",
    )
    try:
        workshop = assessment.workshops.select_related(
            "assessment__organisation", "current_item"
        ).get(pk=_uuid_or_404(workshop_id))
    except Workshop.DoesNotExist:
        raise Http404 from None
    return workshop, membership


def get_participant_for_session(request: HttpRequest, participant_id: Any) -> Participant:
    """A participant is reachable only from the browser session that joined as them."""
    pid = _uuid_or_404(participant_id)
    joined = request.session.get(SESSION_PARTICIPANTS) or {}
    if not isinstance(joined, dict) or str(pid) not in joined:
        raise NotAParticipant
    try:
        return Participant.objects.select_related(
            "workshop__assessment__organisation", "workshop__current_item"
        ).get(pk=pid, workshop_id=joined[str(pid)])
    except (Participant.DoesNotExist, ValueError):
        raise NotAParticipant from None


def participant_in_session(request: HttpRequest, workshop_id: Any) -> str | None:
    """The id of the participant this browser joined the workshop as, if it did."""
    joined = request.session.get(SESSION_PARTICIPANTS) or {}
    if not isinstance(joined, dict):
        return None
    for pid, wid in joined.items():
        if wid == str(workshop_id):
            return str(pid)
    return None


def remember_participant(request: HttpRequest, participant: Participant) -> None:
    joined = request.session.get(SESSION_PARTICIPANTS) or {}
    joined = dict(joined) if isinstance(joined, dict) else {}
    joined[str(participant.pk)] = str(participant.workshop_id)
    request.session[SESSION_PARTICIPANTS] = dict(list(joined.items())[-20:])
