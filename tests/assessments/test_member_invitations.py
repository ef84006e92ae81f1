"""Adding people is an invitation that the person accepts; the form never tells whether an
account exists, and a consultant can hand a client organisation to the client's leader."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from assessments.models import MemberInvitation, Membership
from tests.factories import PASSWORD, Personas, add_member, make_org, make_user

pytestmark = pytest.mark.django_db


def _invite(client: Client, org: Any, email: str, role: str) -> tuple[Any, str]:
    response = client.post(
        reverse("assessments:member_add", args=[org.pk]),
        {"email": email, "role": role},
        follow=True,
    )
    fresh = response.context.get("fresh_invite") if response.context else None
    return response, fresh["url"] if fresh else ""


def test_inviting_never_reveals_whether_an_account_exists(personas: Personas) -> None:
    owner = Client()
    owner.force_login(personas.alice)
    known, known_url = _invite(owner, personas.org_a, "charlie@example.com", "member")
    unknown, unknown_url = _invite(owner, personas.org_a, "nobody@example.com", "member")

    def message(response: Any) -> str:
        return [str(m) for m in response.context["messages"]][0]

    assert message(known).replace("charlie", "X") == message(unknown).replace("nobody", "X")
    assert known_url and unknown_url
    # Nobody is added until they accept.
    assert not Membership.objects.filter(
        user=personas.charlie, organisation=personas.org_a
    ).exists()
    assert MemberInvitation.objects.filter(organisation=personas.org_a).count() == 2


def test_an_existing_user_logs_in_and_accepts(personas: Personas) -> None:
    owner = Client()
    owner.force_login(personas.alice)
    _response, url = _invite(owner, personas.org_a, "charlie@example.com", "facilitator")
    invitee = Client()
    landing = invitee.get(url)
    assert landing.status_code == 302 and landing["Location"] == reverse("member_accept")
    assert landing["Referrer-Policy"] == "no-referrer"
    page = invitee.get(reverse("member_accept"))
    assert b"Join Org A" in page.content and b"log in to accept" in page.content
    assert invitee.login(username="charlie", password=PASSWORD)
    accepted = invitee.post(reverse("member_accept"), {"action": "accept"})
    assert accepted["Location"] == reverse("assessments:org_detail", args=[personas.org_a.pk])
    membership = Membership.objects.get(user=personas.charlie, organisation=personas.org_a)
    assert membership.role == "facilitator"
    # The link is spent.
    again = Client()
    assert again.get(url).status_code == 404


def test_a_new_person_creates_an_account_and_joins(personas: Personas) -> None:
    owner = Client()
    owner.force_login(personas.alice)
    _response, url = _invite(owner, personas.org_a, "dana@example.com", "member")
    invitee = Client()
    invitee.get(url)
    weak = invitee.post(
        reverse("member_accept"),
        {"action": "signup", "username": "dana", "password1": "123", "password2": "123"},
    )
    assert weak.status_code == 400 and not get_user_model().objects.filter(username="dana").exists()
    strong = "a long and unusual passphrase 42"
    done = invitee.post(
        reverse("member_accept"),
        {"action": "signup", "username": "dana", "password1": strong, "password2": strong},
    )
    assert done.status_code == 302
    dana = get_user_model().objects.get(username="dana")
    assert dana.email == "dana@example.com"
    assert Membership.objects.get(user=dana, organisation=personas.org_a).role == "member"


def test_a_consultant_who_is_the_only_member_hands_the_client_to_its_leader() -> None:
    consultant = make_user("connie")
    client_org = make_org("Client Ltd")
    add_member(consultant, client_org, Membership.Role.FACILITATOR)
    browser = Client()
    browser.force_login(consultant)
    _response, url = _invite(browser, client_org, "lead@client.example", "owner")
    assert url
    leader = Client()
    leader.get(url)
    strong = "a long and unusual passphrase 42"
    leader.post(
        reverse("member_accept"),
        {"action": "signup", "username": "lead", "password1": strong, "password2": strong},
    )
    lead = get_user_model().objects.get(username="lead")
    assert Membership.objects.get(user=lead, organisation=client_org).role == "owner"
    # Now that the client has an owner, the consultant can no longer make more owners.
    refused, url = _invite(browser, client_org, "other@client.example", "owner")
    assert not url


def test_read_only_members_cannot_invite_and_outsiders_get_404(personas: Personas) -> None:
    member = Client()
    member.force_login(personas.bob)
    url = reverse("assessments:member_add", args=[personas.org_a.pk])
    assert member.post(url, {"email": "x@example.com", "role": "owner"}).status_code == 403
    outsider = Client()
    outsider.force_login(personas.charlie)
    assert outsider.post(url, {"email": "x@example.com", "role": "owner"}).status_code == 404
    assert not MemberInvitation.objects.exists()


def test_a_revoked_invitation_cannot_be_used(personas: Personas) -> None:
    owner = Client()
    owner.force_login(personas.alice)
    _response, url = _invite(owner, personas.org_a, "eve@example.com", "owner")
    invitation = MemberInvitation.objects.get()
    owner.post(
        reverse("assessments:member_invitation_revoke", args=[personas.org_a.pk, invitation.pk])
    )
    assert Client().get(url).status_code == 404
