"""The access matrix, built from the URL resolver: every pattern x every role x GET and POST on
the role's own organisation's objects. A pattern missing from ACCESS fails the test, so a new
view must say who may use it. (test_tenancy.py covers other organisations' objects.)

Roles: owner (alice), facilitator (fiona), read-only member (bob), another organisation's
owner (charlie), a respondent of the organisation (a survey session), and anonymous."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from assessments import services
from assessments.models import EventLog, Mailout, MemberInvitation, Process, ProcessStep, hash_token
from assessments.scans.models import ScanRun, ScanSource
from assessments.workshops import services as workshops
from reports.models import ReportJob, ShareLink
from tests.assessments.test_tenancy import all_patterns
from tests.factories import Personas, invite

pytestmark = pytest.mark.django_db

# Who may use each pattern:
#   public     anyone (login, logout, health)
#   login      any logged-in user (their own things only)
#   member     any member of the object's organisation (reads)
#   write      owners and facilitators of the object's organisation (members get 403)
#   respondent the browser session that redeemed the respondent's link
#   token      a link token is the credential (unknown ones get a neutral 404 page)
#   session    works only with something the session earned by opening a link
#   read       members read with GET; a POST changes something, so members get 403
ACCESS = {
    "login": "public",
    "logout": "public",
    "healthz": "public",
    "readyz": "public",
    "assessments:home": "login",
    "assessments:org_create": "login",
    "reports:branding": "login",
    "assessments:org_detail": "member",
    "assessments:detail": "member",
    "survey:redeem": "token",
    "reports:shared": "token",
    "member_join": "token",
    "survey:join": "session",
    "member_accept": "session",
    "reports:shared_report": "session",
    "reports:shared_download": "session",
    "survey:home": "respondent",
    "survey:answer": "respondent",
    "survey:review": "respondent",
    "survey:submit": "respondent",
    "survey:section": "respondent",
    "processes:respondent": "respondent",
    "engagements:client_start": "login",
    "processes:catalogue": "member",
    "processes:export": "member",
    "processes:detail": "read",
    "processes:log": "read",
    "workshops:join": "public",
    "workshops:join_code": "token",
    "workshops:participant": "session",
    "workshops:vote": "session",
}
WRITE = {
    "assessments:team_create", "assessments:member_add", "assessments:member_invitation_revoke",
    "assessments:create", "assessments:invitations_create", "assessments:open_link_create",
    "assessments:invitation_revoke", "assessments:invitation_reissue",
    "assessments:open_link_limit", "assessments:respondent_exclude",
    "assessments:exclude_flagged", "assessments:close", "assessments:reopen",
    "reports:results", "reports:results_settings", "reports:report", "reports:report_pdf",
    "reports:report_job", "reports:report_download", "reports:export", "reports:compare",
    "reports:share_create", "reports:share_revoke", "reports:plan",
    "scans:sources", "scans:add", "scans:run", "scans:cancel", "scans:rescan", "scans:delete",
    "scans:mapping", "scans:findings",
    "assessments:invitations_import", "assessments:invitations_remind",
    "assessments:invitation_links_csv", "assessments:mailout_detail",
    "engagements:template_save", "engagements:reassess",
    "processes:create", "processes:import", "processes:delete", "processes:step_add",
    "processes:step_update", "processes:step_move", "processes:step_delete",
    "processes:log_upload", "processes:log_apply", "processes:suggestion_add",
    "processes:ask_toggle",
    "workshops:list", "workshops:console", "workshops:screen", "workshops:action",
    "workshops:agree", "workshops:dissent_add", "workshops:dissent_delete", "workshops:notes",
}  # fmt: skip
ACCESS.update(dict.fromkeys(WRITE, "write"))


def _objects(personas: Personas) -> dict[str, Any]:
    """Fresh objects of org A (alice's), so that destructive posts never starve later ones."""
    a = personas.assessment_a
    a.refresh_from_db()
    if not a.is_open:
        a.reopen()  # an earlier post closed it
    if not a.ask_processes:  # the respondents' process section exists only when asked for
        a.ask_processes = True
        a.save(update_fields=["ask_processes"])
    respondent, token = invite(a, role="engineering")
    services.answer_save(
        respondent=respondent,
        question_id=a.rubric.questions_for("engineering")[0].id,
        value="3",
        comment="",
        seq=1,
    )
    job = ReportJob.objects.create(assessment=a, render_hash="a" * 64, status="succeeded")
    job.file.save("matrix.pdf", ContentFile(b"%PDF-1.4 matrix"), save=True)
    open_link = services.invitation_create_open(assessment=a).invitation
    repo = ScanSource.objects.create(
        assessment=a, kind="repo_url", label="r", location="https://example.com/r.git"
    )
    share = ShareLink.objects.create(
        assessment=a,
        token_hash=hash_token(f"share-{respondent.pk}"),
        expires_at=timezone.now() + timedelta(days=3),
    )
    source = ScanSource.objects.create(
        assessment=a, kind="deployments", label="d", location="", upload_name="d.csv"
    )
    run = ScanRun.objects.create(source=source, assessment=a, status="succeeded")
    source.current_run = run
    source.save()
    other = services.assessment_create(
        organisation=personas.org_a, title="Earlier", created_by=personas.alice,
        rubric_id=a.rubric_id, rubric_version=a.rubric_version,
    )  # fmt: skip
    invitation = MemberInvitation.objects.create(
        organisation=personas.org_a, email="x@example.com", role="member",
        token_hash=hash_token(f"member-{respondent.pk}"),
        expires_at=timezone.now() + timedelta(days=3),
    )  # fmt: skip
    process = Process.objects.create(organisation=personas.org_a, name=f"P {respondent.pk}")
    step = ProcessStep.objects.create(process=process, position=1, name="Step")
    log = EventLog.objects.create(
        organisation=personas.org_a, process=process, upload_name="a.csv", mapped=True,
        status="succeeded",
    )  # fmt: skip
    workshop = workshops.workshop_create(
        assessment=a, title="Room", minutes_per_capability=5, created_by=personas.alice
    )
    participant = workshops.participant_join(workshop=workshop, role="engineering")
    capability = workshops.item_open_next(workshop=workshop)
    workshops.vote_cast(
        participant=participant, capability_id=capability, round_number=1, value="3"
    )
    workshops.item_reveal(workshop=workshop)
    workshops.item_agree(workshop=workshop, capability_id=capability, level=3, rationale="A")
    dissent = workshops.dissent_add(
        workshop=workshop, capability_id=capability, role="product", who="", reason="why"
    )
    mailout = Mailout.objects.create(assessment=a, kind="invitations", total=1)
    return {
        "mailout_id": mailout.pk,
        "org_id": personas.org_a.pk,
        "assessment_id": a.pk,
        "invitation_id": open_link.pk,
        "respondent_id": respondent.pk,
        "section_id": a.rubric.dimensions[0].id,
        "job_id": job.pk,
        "other_id": other.pk,
        "share_id": share.pk,
        "kind": "answers.csv",
        "run_id": run.pk,
        "source_id": source.pk,
        "source_kind": "repo_url",
        "member_invitation_id": invitation.pk,
        "repo_source_id": repo.pk,
        "process_id": process.pk,
        "step_id": step.pk,
        "log_id": log.pk,
        "workshop_id": workshop.pk,
        "dissent_id": dissent.pk,
        "token": token,
        "respondent": respondent,
    }


def _client(role: str, personas: Personas, objects: dict[str, Any]) -> Client:
    client = Client()
    users = {"owner": "alice", "facilitator": "fiona", "member": "bob", "outsider": "charlie"}
    if role in users:
        client.force_login(getattr(personas, users[role]))
    elif role == "respondent":
        client.get(reverse("survey:redeem", args=[objects["token"]]))
    return client


def _expected(rule: str, role: str, method: str) -> str:
    """allowed | login (redirect to the login page) | 403 | 404."""
    if rule == "read":
        rule = "member" if method == "get" else "write"
    staff_like = role in {"owner", "facilitator"}
    logged_in = role in {"owner", "facilitator", "member", "outsider"}
    if rule == "public":
        return "allowed"
    if rule in {"token", "session"}:
        return "any"  # the token and session rules are walked in test_tenancy and the flows
    if rule == "login":
        return "allowed" if logged_in else "login"
    if rule == "respondent":
        return "allowed" if role == "respondent" else "404"
    if not logged_in:
        return "login"
    if role == "outsider":
        return "404"
    if rule == "member":
        return "allowed"
    return "allowed" if staff_like else "403"


ROLES = ["owner", "facilitator", "member", "outsider", "respondent", "anonymous"]


def test_every_url_pattern_has_an_access_rule() -> None:
    names = {name for name, _pattern in all_patterns()}
    unclassified = sorted(names - set(ACCESS))
    assert not unclassified, f"add these URL names to ACCESS with who may use them: {unclassified}"
    assert not set(ACCESS) - names, "ACCESS lists URL names that no longer exist"


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_its_access_on_its_own_organisation(
    personas: Personas, role: str
) -> None:
    login = reverse("login")
    failures = []
    objects = _objects(personas)
    for name, pattern in all_patterns():
        rule = ACCESS[name]
        for method in ("get", "post"):
            expected = _expected(rule, role, method)
            if expected == "any":
                continue
            if expected == "allowed" and rule in {"write", "member", "read"}:
                objects = _objects(personas)  # an earlier post may have closed or deleted
            client = _client(role, personas, objects)
            kwargs = {p: objects[p] for p in pattern.pattern.converters}
            if name == "scans:rescan":
                kwargs["source_id"] = objects["repo_source_id"]  # exports are not rescanned
            if name == "processes:export":
                kwargs["kind"] = "processes.csv"
            response = getattr(client, method)(reverse(name, kwargs=kwargs))
            status = response.status_code
            location = response.get("Location", "")
            got = (
                "login"
                if status == 302 and location.startswith(login)
                else "403"
                if status == 403
                else "404"
                if status == 404
                else "error"
                if status >= 500
                else "allowed"
            )
            if rule == "public":
                got = "allowed" if status < 500 else got
            # 405: the view takes the other method, before any access check, for any id.
            if got != expected and status != 405:
                failures.append(
                    f"{role} {method.upper()} {name}: expected {expected}, got {status}"
                )
    assert not failures, "\n".join(failures)
