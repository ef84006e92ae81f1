"""Adding people to an organisation: an invitation that the person accepts.

The form takes an e-mail address and a role and always answers the same way, whether or not an
account uses that address: it makes an invitation link to send to the person. Whoever opens the
link logs in (or creates an account) and accepts; only then are they a member. Owners invite
with any role. A facilitator (a consultant) invites people to a client organisation they work
with: members and facilitators always, and an owner while the organisation has none, so that a
consultant who set up a client can hand it to the client's leader.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from assessments.models import MemberInvitation, Membership, Organisation, hash_token, new_token


class InvitationRefused(Exception):
    """The inviter may not invite with that role; the message says why."""


@dataclass(frozen=True)
class IssuedMemberInvitation:
    invitation: MemberInvitation
    token: str


def may_invite(membership: Membership) -> bool:
    return membership.role in {Membership.Role.OWNER, Membership.Role.FACILITATOR}


def roles_for(membership: Membership) -> list[tuple[str, str]]:
    """The roles this member may invite people with."""
    if membership.role == Membership.Role.OWNER:
        return list(Membership.Role.choices)
    if membership.role != Membership.Role.FACILITATOR:
        return []
    has_owner = membership.organisation.memberships.filter(role=Membership.Role.OWNER).exists()
    return [
        (value, label)
        for value, label in Membership.Role.choices
        if value != Membership.Role.OWNER or not has_owner
    ]


def member_invite(
    *, membership: Membership, email: str, role: str, now: datetime | None = None
) -> IssuedMemberInvitation:
    if role not in dict(roles_for(membership)):
        if membership.role == Membership.Role.FACILITATOR and role == Membership.Role.OWNER:
            raise InvitationRefused(
                "This organisation already has an owner; ask them to invite another owner."
            )
        raise InvitationRefused("You can't invite people with that role.")
    now = now or timezone.now()
    token = new_token()
    invitation = MemberInvitation.objects.create(
        organisation=membership.organisation,
        email=email.strip().lower(),
        role=role,
        token_hash=hash_token(token),
        invited_by=membership.user,
        created_at=now,
        expires_at=now + timedelta(days=settings.MEMBER_INVITATION_TTL_DAYS),
    )
    return IssuedMemberInvitation(invitation, token)


def member_invitation_redeem(*, token: str) -> MemberInvitation | None:
    """The usable invitation behind a token; unknown, expired, revoked and used tokens all give
    None."""
    if not token or len(token) > 128:
        return None
    invitation = (
        MemberInvitation.objects.select_related("organisation", "invited_by")
        .filter(token_hash=hash_token(token))
        .first()
    )
    return invitation if invitation is not None and invitation.is_usable() else None


def member_invitation_accept(
    *, invitation: MemberInvitation, user: User, now: datetime | None = None
) -> tuple[Membership, bool]:
    """Make `user` a member with the invitation's role, once. Returns the membership and
    whether it is new (an existing member keeps the role they have)."""
    now = now or timezone.now()
    with transaction.atomic():
        used = MemberInvitation.objects.filter(
            pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
        ).update(accepted_at=now, accepted_by=user)
        if not used:
            raise InvitationRefused("This invitation has already been used or is no longer valid.")
        membership, created = Membership.objects.get_or_create(
            user=user, organisation=invitation.organisation, defaults={"role": invitation.role}
        )
    return membership, created


def account_create(*, username: str, email: str, password: str) -> User:
    """A new account for someone accepting an invitation; raises InvitationRefused when the
    user name is taken."""
    try:
        with transaction.atomic():
            return get_user_model().objects.create_user(
                username=username, email=email, password=password
            )
    except IntegrityError:
        raise InvitationRefused("That user name is taken; choose another.") from None


def member_invitation_revoke(*, invitation: MemberInvitation) -> None:
    MemberInvitation.objects.filter(pk=invitation.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def pending_for(organisation: Organisation) -> list[MemberInvitation]:
    return [
        i
        for i in organisation.member_invitations.select_related("invited_by").filter(
            accepted_at__isnull=True, revoked_at__isnull=True
        )
        if i.state == "pending"
    ]
