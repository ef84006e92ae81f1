"""Every URL pattern, walked for every kind of visitor with ids from another organisation.

The patterns come from the resolver, so a new view cannot be forgotten: a pattern with an
object id must answer 404 to everyone outside the owning organisation, and a pattern without
one must be listed in ID_FREE with the reason it needs no tenant check.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from assessments import services
from assessments.access import SESSION_RESPONDENTS
from assessments.models import (
    Answer,
    Assessment,
    Invitation,
    Mailout,
    MemberInvitation,
    Membership,
    Organisation,
    Respondent,
    hash_token,
)
from assessments.processes.models import EventLog, Process, ProcessStep
from assessments.scans.models import ScanRun, ScanSource
from assessments.workshops import services as workshops
from assessments.workshops.models import Dissent, Participant, Vote, Workshop, WorkshopItem
from reports.models import ReportJob, ShareLink
from tests.factories import Personas, invite, make_assessment

# Patterns that carry no tenant object id, and why they need no cross-tenant check.
ID_FREE = {
    "assessments:home": "lists only the user's own memberships",
    "assessments:org_create": "creates a new organisation owned by the user",
    "login": "authentication",
    "logout": "authentication",
    "survey:redeem": "the token is the credential; unknown tokens get the neutral page",
    "survey:join": "works only with an invitation id the session earned by redeeming a link",
    "reports:shared": "the token is the credential; unknown tokens get the neutral page",
    "reports:branding": "the user's own report branding",
    "engagements:client_start": "creates a new organisation from the user's own templates",
    "workshops:join": "the code typed is the credential; unknown codes get the same form",
    "workshops:join_code": "the code is the credential; unknown or expired codes look the same",
    "healthz": "liveness: says only that the process answers",
    "readyz": "readiness: reports whether the database, cache, broker and workers answer",
    "member_join": "the token is the credential; unknown tokens get the neutral page",
    "member_accept": "works only with an invitation the session earned by opening its link",
}


def _walk(
    resolver: URLResolver, prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str, URLPattern]]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":
                continue  # Django's admin: staff only, checked by its own permission system
            ns = entry.namespace or namespace
            yield from _walk(entry, prefix + str(entry.pattern), ns)
        else:
            name = f"{namespace}:{entry.name}" if namespace else str(entry.name)
            yield name, entry


def all_patterns() -> list[tuple[str, URLPattern]]:
    return list(_walk(get_resolver()))


OBJECT_PARAMS = {
    "org_id",
    "assessment_id",
    "invitation_id",
    "respondent_id",
    "section_id",
    "job_id",
    "other_id",
    "share_id",
    "kind",
    "run_id",
    "source_id",
    "source_kind",
    "process_id",
    "step_id",
    "log_id",
    "workshop_id",
    "participant_id",
    "dissent_id",
    "member_invitation_id",
    "mailout_id",
}


def _scoped(pattern: URLPattern) -> bool:
    return bool(set(pattern.pattern.converters) & OBJECT_PARAMS)


def test_every_pattern_is_named_and_either_scoped_or_listed() -> None:
    for name, pattern in all_patterns():
        assert pattern.name, f"unnamed URL pattern {pattern.pattern}"
        unknown = set(pattern.pattern.converters) - OBJECT_PARAMS
        if _scoped(pattern):
            assert not unknown, f"{name} takes {unknown}: teach this test which object to use"
        else:
            assert name in ID_FREE, f"{name} takes no object id: add it to ID_FREE with a reason"


def _kwargs(pattern: URLPattern, target: dict[str, Any]) -> dict[str, Any]:
    return {param: target[param] for param in pattern.pattern.converters}


def _snapshot(org: Organisation) -> list[Any]:
    return [
        list(Organisation.objects.filter(pk=org.pk).values()),
        list(Membership.objects.filter(organisation=org).values()),
        list(Assessment.objects.filter(organisation=org).values()),
        list(Invitation.objects.filter(assessment__organisation=org).values()),
        list(Respondent.objects.filter(assessment__organisation=org).values()),
        list(Answer.objects.filter(respondent__assessment__organisation=org).values()),
        list(org.teams.values()),
        list(ReportJob.objects.filter(assessment__organisation=org).values()),
        list(ShareLink.objects.filter(assessment__organisation=org).values()),
        list(ScanSource.objects.filter(assessment__organisation=org).values()),
        list(ScanRun.objects.filter(assessment__organisation=org).values()),
        list(Process.objects.filter(organisation=org).values()),
        list(ProcessStep.objects.filter(process__organisation=org).values()),
        list(EventLog.objects.filter(organisation=org).values()),
        list(Workshop.objects.filter(assessment__organisation=org).values()),
        list(WorkshopItem.objects.filter(workshop__assessment__organisation=org).values()),
        list(Participant.objects.filter(workshop__assessment__organisation=org).values()),
        list(Vote.objects.filter(item__workshop__assessment__organisation=org).values()),
        list(Dissent.objects.filter(item__workshop__assessment__organisation=org).values()),
        list(MemberInvitation.objects.filter(organisation=org).values()),
        list(Mailout.objects.filter(assessment__organisation=org).values()),
    ]


@pytest.fixture
def other_org(personas: Personas) -> dict[str, Any]:
    """Objects of org B (charlie's), which no visitor below may reach."""
    respondent, _token = invite(personas.assessment_b, role="engineering")
    services.answer_save(
        respondent=respondent,
        question_id=personas.assessment_b.rubric.questions_for("engineering")[0].id,
        value="3",
        comment="",
        seq=1,
    )
    other = make_assessment(personas.org_b, personas.charlie, title="Org B, earlier")
    job = ReportJob.objects.create(
        assessment=personas.assessment_b, render_hash="b" * 64, status="succeeded"
    )
    share = ShareLink.objects.create(
        assessment=personas.assessment_b,
        token_hash=hash_token("org-b-share"),
        expires_at=timezone.now() + timedelta(days=3),
    )
    scan_source = ScanSource.objects.create(
        assessment=personas.assessment_b,
        kind="repo_url",
        label="b",
        location="https://example.com/b.git",
    )
    scan_run = ScanRun.objects.create(source=scan_source, assessment=personas.assessment_b)
    process = Process.objects.create(organisation=personas.org_b, name="Payroll")
    step = ProcessStep.objects.create(process=process, position=1, name="Run payroll")
    log = EventLog.objects.create(
        organisation=personas.org_b, process=process, upload_name="b.csv", mapped=True
    )
    workshop = workshops.workshop_create(
        assessment=personas.assessment_b,
        title="Org B room",
        minutes_per_capability=5,
        created_by=personas.charlie,
    )
    participant = workshops.participant_join(workshop=workshop, role="engineering")
    workshops.item_open_next(workshop=workshop)
    workshops.vote_cast(
        participant=participant,
        capability_id=workshop.items.first().capability_id,
        round_number=1,
        value="3",
    )
    workshops.item_reveal(workshop=workshop)
    first = workshop.items.first()
    workshops.item_agree(
        workshop=workshop, capability_id=first.capability_id, level=3, rationale="B"
    )
    dissent = workshops.dissent_add(
        workshop=workshop,
        capability_id=first.capability_id,
        role="product",
        who="",
        reason="B",
    )
    member_invitation = MemberInvitation.objects.create(
        organisation=personas.org_b,
        email="someone@example.com",
        role="owner",
        token_hash=hash_token("org-b-member-invitation"),
        expires_at=timezone.now() + timedelta(days=3),
    )
    mailout = Mailout.objects.create(assessment=personas.assessment_b, kind="reminders", total=1)
    return {
        "mailout_id": mailout.pk,
        "member_invitation_id": member_invitation.pk,
        "org_id": personas.org_b.pk,
        "assessment_id": personas.assessment_b.pk,
        "invitation_id": respondent.invitation_id,
        "respondent_id": respondent.pk,
        "section_id": personas.assessment_b.rubric.dimensions[0].id,
        "job_id": job.pk,
        "other_id": other.pk,
        "share_id": share.pk,
        "kind": "answers.csv",
        "run_id": scan_run.pk,
        "source_id": scan_source.pk,
        "source_kind": "repo_url",
        "process_id": process.pk,
        "step_id": step.pk,
        "log_id": log.pk,
        "workshop_id": workshop.pk,
        "participant_id": participant.pk,
        "dissent_id": dissent.pk,
    }


def _visitors(personas: Personas) -> dict[str, Client]:
    visitors = {}
    for name in ["alice", "bob", "fiona"]:
        client = Client()
        client.force_login(getattr(personas, name))
        visitors[name] = client
    # A respondent of org A: holds a session for their own respondent only.
    respondent_client = Client()
    respondent, token = invite(personas.assessment_a, role="engineering")
    respondent_client.get(reverse("survey:redeem", args=[token]))
    assert str(respondent.pk) in respondent_client.session[SESSION_RESPONDENTS]
    visitors["respondent"] = respondent_client
    return visitors


@pytest.mark.django_db
def test_outsiders_get_404_on_every_pattern_and_change_nothing(
    personas: Personas, other_org: dict[str, Any]
) -> None:
    before = _snapshot(personas.org_b)
    scoped = [(n, p) for n, p in all_patterns() if _scoped(p)]
    assert len(scoped) >= 10, "the walk found suspiciously few URL patterns"
    for visitor, client in _visitors(personas).items():
        for name, pattern in scoped:
            url = reverse(name, kwargs=_kwargs(pattern, other_org))
            for method in ("get", "post"):
                response = getattr(client, method)(url)
                if visitor == "respondent" and response.status_code == 302:
                    # Respondents have no account: leader pages send them to log in, exactly
                    # as for any id (see the anonymous test below).
                    assert response["Location"].startswith(reverse("login")), name
                    continue
                assert response.status_code in (404, 405), (
                    f"{visitor} {method.upper()} {name} -> {response.status_code}"
                )
    assert _snapshot(personas.org_b) == before


@pytest.mark.django_db
def test_anonymous_visitors_cannot_tell_real_ids_from_random_ones(
    personas: Personas, other_org: dict[str, Any]
) -> None:
    """Logged-out visitors are sent to the login page (or get 404 on survey pages) in exactly
    the same way for a real object id and for a random one: no existence oracle."""
    before = _snapshot(personas.org_b)
    client = Client()
    random_ids = {
        k: uuid.uuid4()
        if k.endswith("_id") and k not in ("section_id", "step_id", "dissent_id")
        else v
        for k, v in other_org.items()
    } | {"step_id": 987_654_321}
    random_ids["dissent_id"] = other_org["dissent_id"] + 10_000
    for name, pattern in all_patterns():
        if not _scoped(pattern):
            continue
        for method in ("get", "post"):
            real = getattr(client, method)(reverse(name, kwargs=_kwargs(pattern, other_org)))
            fake = getattr(client, method)(reverse(name, kwargs=_kwargs(pattern, random_ids)))
            assert real.status_code == fake.status_code, name
            assert real.status_code in (302, 404, 405), f"{name} -> {real.status_code}"
            if real.status_code == 302:
                assert real["Location"].startswith(reverse("login"))
    assert _snapshot(personas.org_b) == before


@pytest.mark.django_db
def test_each_persona_reaches_its_own_objects(personas: Personas) -> None:
    """The walk above would pass trivially if every page were 404: check the positive side."""
    own = {"org_id": personas.org_a.pk, "assessment_id": personas.assessment_a.pk}
    for name in ["alice", "bob", "fiona"]:
        client = Client()
        client.force_login(getattr(personas, name))
        assert (
            client.get(
                reverse("assessments:org_detail", kwargs={"org_id": own["org_id"]})
            ).status_code
            == 200
        )
        assert (
            client.get(
                reverse("assessments:detail", kwargs={"assessment_id": own["assessment_id"]})
            ).status_code
            == 200
        )


CHILD_PARAMS = {
    "invitation_id",
    "job_id",
    "other_id",
    "share_id",
    "run_id",
    "source_id",
    "process_id",
    "step_id",
    "log_id",
    "workshop_id",
    "dissent_id",
    "respondent_id",
    "member_invitation_id",
}


@pytest.mark.django_db
def test_own_parent_ids_do_not_open_another_organisations_children(
    personas: Personas, other_org: dict[str, Any]
) -> None:
    """The usual way across tenants: the visitor's own assessment in the URL, another
    organisation's invitation, job, share link, scan run or source beside it."""
    before = _snapshot(personas.org_b)
    mixed = dict(other_org) | {
        "org_id": personas.org_a.pk,
        "assessment_id": personas.assessment_a.pk,
        "section_id": personas.assessment_a.rubric.dimensions[0].id,
    }
    client = Client()
    client.force_login(personas.alice)  # owner of org A: full rights on her own objects
    patterns = [
        (n, p)
        for n, p in all_patterns()
        if set(p.pattern.converters) & CHILD_PARAMS
        and set(p.pattern.converters) & {"org_id", "assessment_id"}
    ]
    assert len(patterns) >= 5, "the walk found suspiciously few nested URL patterns"
    for name, pattern in patterns:
        url = reverse(name, kwargs=_kwargs(pattern, mixed))
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response.status_code in (404, 405), (
                f"alice {method.upper()} {name} -> {response.status_code}"
            )
    assert _snapshot(personas.org_b) == before
