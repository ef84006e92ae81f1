"""Test data built in code (no fixture files). Names follow the personas in the style guide."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model

from assessments import services
from assessments.models import Assessment, Membership, Organisation, Respondent, Team
from scoring.rubric import DEFAULT_RUBRIC

PASSWORD = "correct horse battery staple"


def make_user(username: str, **extra: Any) -> Any:
    return get_user_model().objects.create_user(
        username=username, email=f"{username}@example.com", password=PASSWORD, **extra
    )


def make_org(name: str) -> Organisation:
    return Organisation.objects.create(name=name)


def add_member(user: Any, org: Organisation, role: str) -> Membership:
    return Membership.objects.create(user=user, organisation=org, role=role)


def make_assessment(org: Organisation, creator: Any = None, **kwargs: Any) -> Assessment:
    rubric_id, version = DEFAULT_RUBRIC
    return services.assessment_create(
        organisation=org,
        title=kwargs.pop("title", f"{org.name} readiness"),
        created_by=creator,
        rubric_id=rubric_id,
        rubric_version=version,
        **kwargs,
    )


def invite(
    assessment: Assessment, role: str = "engineering", name: str = "Pat"
) -> tuple[Respondent, str]:
    issued = services.invitation_create_personal(assessment=assessment, role=role, name=name)
    return issued.invitation.respondents.get(), issued.token


@dataclass
class Personas:
    alice: Any
    bob: Any
    charlie: Any
    fiona: Any
    org_a: Organisation
    org_b: Organisation
    org_c: Organisation
    team_a: Team
    team_b: Team
    assessment_a: Assessment
    assessment_b: Assessment


def make_personas() -> Personas:
    alice, bob, charlie, fiona = (make_user(n) for n in ["alice", "bob", "charlie", "fiona"])
    org_a, org_b, org_c = (make_org(n) for n in ["Org A", "Org B", "Org C"])
    add_member(alice, org_a, Membership.Role.OWNER)
    add_member(bob, org_a, Membership.Role.MEMBER)
    add_member(fiona, org_a, Membership.Role.FACILITATOR)
    add_member(fiona, org_c, Membership.Role.FACILITATOR)
    add_member(charlie, org_b, Membership.Role.OWNER)
    team_a = Team.objects.create(organisation=org_a, name="Platform")
    team_b = Team.objects.create(organisation=org_b, name="Payments")
    return Personas(
        alice=alice,
        bob=bob,
        charlie=charlie,
        fiona=fiona,
        org_a=org_a,
        org_b=org_b,
        org_c=org_c,
        team_a=team_a,
        team_b=team_b,
        assessment_a=make_assessment(org_a, alice),
        assessment_b=make_assessment(org_b, charlie),
    )
