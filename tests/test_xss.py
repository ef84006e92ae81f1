"""One markup corpus through every field a user or respondent can type, read back from every
page, partial, PDF and export: all of it must arrive inert.

Each field gets its own payload that would create an element carrying `data-xss="<field>"`
if it escaped its context (text, attribute, <textarea>, <title>). Every URL pattern the
resolver knows is requested (plain and as an htmx partial) with the objects those fields
live on, as the visitor who may see it; the HTML is parsed and must hold no element made from
a payload. The PDF must show the payloads as literal text, exports must hold them as data
(never as a spreadsheet formula). And every field must show up in at least one output, so
no field is checked only on paper.
"""

from __future__ import annotations

import csv as csv_module
import io
import json
import re
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from assessments import members, services
from assessments.models import Assessment, Mailout, MailoutItem, Membership, Respondent, Team
from assessments.processes import services as process_services
from assessments.processes.models import EventLog, Process, ProcessStep
from assessments.processes.views import EXPORTS as PROCESS_EXPORTS
from assessments.scans.models import ScanRun, ScanSource
from assessments.scans.services import run_execute
from assessments.workshops import services as workshop_services
from assessments.workshops.models import Dissent, Participant, Workshop
from reports.exports import _DANGEROUS
from reports.jobs import comparison_for
from reports.models import Branding, PlanDecision, ReportJob, ShareLink
from reports.pdf import render_pdf
from reports.rendering import branding_for, render_html, report_context
from reports.services import result_compute
from reports.views import EXPORT_KINDS
from tests.factories import add_member, make_org, make_user
from tests.scans.engine.gitbuild import RepoBuilder, day

pytestmark = pytest.mark.django_db


def payload(name: str) -> str:
    """Markup that breaks out of text, attributes, <textarea> and <title> if left raw; it
    starts with "=" so a spreadsheet would also read it as a formula."""
    return f'=</textarea></title>"\'><b data-xss="{name}">xss-{name}</b>'


def slashless(name: str) -> str:
    """The same for file names, which cannot hold a slash."""
    return f'"\'><i data-xss="{name}">xss-{name}<'


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.made: list[str] = []
        self.handlers: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, value in attrs:
            if key == "data-xss":
                self.made.append(f"<{tag} data-xss={value}>")
            if key.startswith("on"):
                self.handlers.append(f"<{tag} {key}={value}>")


@dataclass
class World:
    assessment: Assessment
    earlier: Assessment
    owner: Any
    consultant: Any
    respondent: Respondent  # still answering: the survey pages show its answers
    respondent_token: str
    share_token: str
    share: ShareLink
    job: ReportJob
    sources: list[ScanSource]
    runs: list[ScanRun]
    process: Process
    step: ProcessStep
    log: EventLog
    workshop: Workshop
    participant: Participant
    phone: Client  # the participant's session
    dissent: Dissent
    member_invitation_id: Any
    fields: set[str] = field(default_factory=set)


def _repo_archive(tmp_path: Path) -> bytes:
    repo = RepoBuilder(tmp_path / "repo")
    workflow = "on: [pull_request]\njobs:\n  t:\n    runs-on: x\n    steps:\n      - run: pytest\n"
    repo.commit(
        f"Add CI {payload('commit-message')}",
        files={
            f".github/workflows/{slashless('repo-path')}.yml": workflow,
            "CODEOWNERS": "* @acme/platform\n",
        },
        when=day(300),
        author=(payload("commit-author"), "a@example.com"),
    )
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        archive.add(repo.path, arcname="repo")
    return buffer.getvalue()


def _answer_everything(respondent: Respondent, comment: str, fact_comment: str) -> None:
    for question in services.questions_for(respondent):
        services.answer_save(
            respondent=respondent, question_id=question.id, value="3", comment=comment, seq=1
        )
    for fact in services.facts_for(respondent):
        value = str(max(fact.minimum, 1.0) if fact.integer else fact.minimum)
        services.answer_save(
            respondent=respondent, question_id=fact.id, value=value, comment=fact_comment, seq=1
        )


@pytest.fixture
def world(tmp_path: Path) -> World:
    fields = {
        "org",
        "team",
        "title",
        "earlier-title",
        "name-1",
        "name-2",
        "open-name",
        "pending-name",
        "comment",
        "fact-comment",
        "pending-comment",
        "mailout-error",
        "firm",
        "owner-name",
        "archive-name",
        "repo-path",
        "export-value",
        "export-column",
        "process-name",
        "process-owner",
        "process-trigger",
        "step-name",
        "step-system",
        "log-activity",
        "workshop-title",
        "pname",  # display names keep 60 characters: a short marker
        "rationale",
        "dissent-who",
        "dissent-reason",
        "workshop-notes",
        "plan-owner",
        "plan-note",
    }
    owner = make_user("olive", first_name=payload("owner-name"))
    consultant = make_user("conrad")
    Branding.objects.create(user=consultant, firm_name=payload("firm"))
    org = make_org(payload("org"))
    add_member(owner, org, Membership.Role.OWNER)
    add_member(consultant, org, Membership.Role.FACILITATOR)
    team = Team.objects.create(organisation=org, name=payload("team"))
    earlier = services.assessment_create(
        organisation=org,
        title=payload("earlier-title"),
        created_by=owner,
        rubric_id="operationalization",
        rubric_version=1,
    )
    assessment = services.assessment_create(
        organisation=org,
        title=payload("title"),
        created_by=owner,
        teams=[team],
        rubric_id="operationalization",
        rubric_version=1,
    )
    Assessment.objects.filter(pk=earlier.pk).update(
        created_at=assessment.created_at - __import__("datetime").timedelta(days=90)
    )
    for target in (earlier, assessment):
        for n, role in enumerate(["engineering", "engineering", "leadership"], start=1):
            issued = services.invitation_create_personal(
                assessment=target, role=role, name=payload(f"name-{min(n, 2)}")
            )
            respondent = issued.invitation.respondents.get()
            _answer_everything(respondent, payload("comment"), payload("fact-comment"))
            services.respondent_submit(respondent=respondent)
    opened = services.invitation_create_open(assessment=assessment)
    joined = services.respondent_join(
        invitation=opened.invitation, role="engineering", name=payload("open-name")
    )
    _answer_everything(joined, payload("comment"), payload("fact-comment"))
    services.respondent_submit(respondent=joined)
    pending = services.invitation_create_personal(
        assessment=assessment, role="operations", name=payload("pending-name")
    )
    respondent = pending.invitation.respondents.get()
    _answer_everything(respondent, payload("pending-comment"), payload("pending-comment"))

    client = Client()
    client.force_login(owner)
    client.post(
        reverse("scans:add", args=[assessment.pk, "repo_archive"]),
        {
            "file": SimpleUploadedFile(
                f"{slashless('archive-name')}.tar.gz", _repo_archive(tmp_path)
            )
        },
    )
    rows = io.StringIO()
    writer = csv_module.writer(rows)
    writer.writerow(["id", "time", "status", "shas", payload("export-column")])
    writer.writerow([payload("export-value"), "2026-10-01T10:00:00Z", "success", "abc1234", "x"])
    writer.writerow(["d2", "not a date", "success", "abc1245", "y"])
    csv = rows.getvalue()
    client.post(
        reverse("scans:add", args=[assessment.pk, "export"]),
        {"file": SimpleUploadedFile("deploys.csv", csv.encode()), "kind": "deployments"},
    )
    for run in ScanRun.objects.filter(assessment=assessment, status=ScanRun.Status.QUEUED):
        run_execute(run_id=str(run.pk))

    share_token = "share-token-for-the-xss-walk-0123456789abcdef"
    share = ShareLink.objects.create(
        assessment=assessment,
        token_hash=__import__("assessments.models", fromlist=["hash_token"]).hash_token(
            share_token
        ),
        created_by=consultant,
        expires_at=assessment.created_at + __import__("datetime").timedelta(days=3650),
    )
    job = ReportJob.objects.create(assessment=assessment, render_hash="x", requested_by=owner)
    # A mailout whose message to the pending respondent (named with a payload) bounced with an
    # error the mail server wrote: both are shown on the assessment page and the status poll.
    mailout = Mailout.objects.create(
        assessment=assessment, kind="invitations", total=1, failed=1, status="succeeded"
    )
    MailoutItem.objects.create(
        mailout=mailout, invitation=pending.invitation, error=payload("mailout-error")
    )

    # The process inventory: a catalogue entry with a step, and an uploaded event log.
    process = Process.objects.create(
        organisation=org,
        name=payload("process-name"),
        owner=payload("process-owner"),
        trigger=payload("process-trigger"),
    )
    step = process_services.step_add(
        process=process,
        name=payload("step-name"),
        system=payload("step-system"),
        api=ProcessStep.Api.UNKNOWN,
        decides=False,
    )
    log_rows = io.StringIO()
    log_writer = csv_module.writer(log_rows)
    log_writer.writerow(["Case ID", "Activity", "Start Timestamp"])
    log_writer.writerow(["A", payload("log-activity"), "2024-05-06 09:00"])
    log_writer.writerow(["A", "Check", "2024-05-06 10:00"])
    client.post(
        reverse("processes:log_upload", args=[org.pk]),
        {"file": SimpleUploadedFile("events.csv", log_rows.getvalue().encode())},
    )
    log = EventLog.objects.get(organisation=org)
    member_invitation = members.member_invite(
        membership=Membership.objects.get(user=owner, organisation=org),
        email="invitee@example.com",
        role=Membership.Role.MEMBER,
    ).invitation

    # A workshop in the room: a named participant, an agreed level with its rationale, a
    # dissent and the facilitator's notes.
    workshop = workshop_services.workshop_create(
        assessment=assessment,
        title=payload("workshop-title"),
        minutes_per_capability=5,
        created_by=consultant,
    )
    phone = Client()
    phone.post(
        reverse("workshops:join_code", args=[workshop.code]),
        {"role": "engineering", "display_name": payload("pname")},
    )
    participant = Participant.objects.get(workshop=workshop)
    first = assessment.rubric.capabilities[0].id
    workshop_services.item_open(workshop=workshop, capability_id=first)
    workshop_services.vote_cast(
        participant=participant, capability_id=first, round_number=1, value="3"
    )
    workshop_services.item_reveal(workshop=workshop)
    workshop_services.item_agree(
        workshop=workshop, capability_id=first, level=3, rationale=payload("rationale")
    )
    dissent = workshop_services.dissent_add(
        workshop=workshop,
        capability_id=first,
        role="leadership",
        who=payload("dissent-who"),
        reason=payload("dissent-reason"),
    )
    workshop_services.notes_save(
        workshop=workshop, capability_id=first, notes=payload("workshop-notes")
    )
    # The plan's typed fields: an owner and a note on the first roadmap item.
    first_item = result_compute(assessment=assessment).data["roadmap"][0]["id"]
    client.post(
        reverse("reports:plan", args=[assessment.pk]),
        {
            "item": first_item,
            "version": "0",
            "status": "accepted",
            "owner": payload("plan-owner")[:120],
            "quarter": "2027-Q1",
            "note": payload("plan-note"),
        },
    )
    assert PlanDecision.objects.filter(assessment=assessment, version=1).exists()
    return World(
        assessment=assessment,
        earlier=earlier,
        owner=owner,
        consultant=consultant,
        respondent=respondent,
        respondent_token=pending.token,
        share_token=share_token,
        share=share,
        job=job,
        sources=list(ScanSource.objects.filter(assessment=assessment)),
        runs=list(ScanRun.objects.filter(assessment=assessment)),
        process=process,
        step=step,
        log=log,
        workshop=workshop,
        participant=participant,
        phone=phone,
        dissent=dissent,
        member_invitation_id=member_invitation.pk,
        fields=fields,
    )


def _patterns(
    resolver: URLResolver | None = None, namespace: str = ""
) -> Iterator[tuple[str, URLPattern]]:
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":
                continue  # walked through its own registry below
            yield from _patterns(entry, entry.namespace or namespace)
        else:
            yield (f"{namespace}:{entry.name}" if namespace else str(entry.name)), entry


def _values(world: World) -> dict[str, list[Any]]:
    """Every value each URL parameter takes in the walk."""
    return {
        "org_id": [world.assessment.organisation_id],
        "assessment_id": [world.assessment.pk],
        "other_id": [world.earlier.pk],
        "invitation_id": [i.pk for i in world.assessment.invitations.all()],
        "respondent_id": [world.respondent.pk],
        "section_id": [s.id for s in services.respondent_progress(world.respondent)],
        "job_id": [world.job.pk],
        "mailout_id": list(world.assessment.mailouts.values_list("pk", flat=True)),
        "share_id": [world.share.pk],
        "kind": [*EXPORT_KINDS, *PROCESS_EXPORTS],
        "run_id": [r.pk for r in world.runs],
        "source_id": [s.pk for s in world.sources],
        "source_kind": ["repo_archive"],
        "token": [world.share_token],
        "member_invitation_id": [world.member_invitation_id],
        "process_id": [world.process.pk],
        "step_id": [world.step.pk],
        "log_id": [world.log.pk],
        "workshop_id": [world.workshop.pk],
        "dissent_id": [world.dissent.pk],
        "participant_id": [world.participant.pk],
        "code": [world.workshop.code],
    }


def _urls(world: World) -> Iterator[tuple[str, str]]:
    values = _values(world)
    for name, pattern in _patterns():
        params = list(pattern.pattern.converters)
        combos: list[dict[str, Any]] = [{}]
        for param in params:
            assert param in values, f"{name} takes {param}: give the XSS walk a value for it"
            combos = [{**c, param: v} for c in combos for v in values[param]]
        for kwargs in combos:
            if name == "survey:redeem":
                kwargs = {"token": world.respondent_token}
            yield name, reverse(name, kwargs=kwargs)


@dataclass
class Seen:
    fields: set[str] = field(default_factory=set)
    outputs: int = 0

    def html(self, where: str, text: str) -> None:
        parser = _Elements()
        parser.feed(text)
        assert not parser.made, f"{where}: markup from input became elements: {parser.made[:3]}"
        assert not parser.handlers, f"{where}: event handler attributes: {parser.handlers[:3]}"
        self.text(text)

    def text(self, text: str) -> None:
        self.outputs += 1
        self.fields.update(re.findall(r"xss-([a-z0-9-]+)", text))


def _clients(world: World) -> dict[str, Client]:
    owner, consultant, respondent, reader = Client(), Client(), Client(), Client()
    owner.force_login(world.owner)
    consultant.force_login(world.consultant)
    respondent.get(reverse("survey:redeem", args=[world.respondent_token]))
    reader.get(reverse("reports:shared", args=[world.share_token]))
    return {
        "owner": owner,
        "consultant": consultant,
        "respondent": respondent,
        "reader": reader,
        "participant": world.phone,
    }


# Pages where who is looking changes what is shown (a consultant's branding, their clients).
CONSULTANT_PAGES = {"assessments:home", "reports:report", "reports:branding"}


def _who(name: str) -> list[str]:
    if name.startswith("survey:"):
        return ["respondent"]
    if name.startswith("reports:shared"):
        return ["reader"]
    if name in {"workshops:participant", "workshops:vote", "workshops:join_code", "workshops:join"}:
        return ["participant"]
    return ["owner", "consultant"] if name in CONSULTANT_PAGES else ["owner"]


def _check_response(seen: Seen, where: str, response: Any) -> None:
    assert response.status_code < 500, f"{where}: {response.status_code}"
    kind = response.get("Content-Type", "")
    body = response.content
    if "html" in kind or "text/plain" in kind:
        seen.html(where, body.decode())
    elif "csv" in kind:
        text = body.decode("utf-8-sig")
        for row in csv_module.reader(io.StringIO(text)):
            for cell in row:
                assert not cell.startswith(_DANGEROUS), f"{where}: formula cell {cell[:40]!r}"
        seen.text(text)
    elif "spreadsheetml" in kind:
        book = load_workbook(io.BytesIO(body))
        for sheet in book.worksheets:
            for row in sheet.iter_rows(values_only=True):
                for cell in row:
                    if isinstance(cell, str):
                        assert not cell.startswith(_DANGEROUS), f"{where}: formula {cell[:40]!r}"
                        seen.text(cell)
    elif "json" in kind:
        # JSON (exports, the health probes) is data: a browser renders none of it as markup as
        # long as its type is exact and never sniffed.
        assert kind.startswith("application/json"), f"{where}: {kind!r}"
        assert response["X-Content-Type-Options"] == "nosniff", where
        seen.text(json.dumps(json.loads(body)))
    elif body:
        raise AssertionError(f"{where}: unexpected content type {kind!r}")


def test_every_field_arrives_inert_on_every_page_partial_and_export(world: World) -> None:
    clients = _clients(world)
    seen = Seen()
    for name, url in _urls(world):
        for who in _who(name):
            for htmx in (False, True):
                headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
                response = clients[who].get(url, **headers)
                _check_response(seen, f"GET {url} as {who}{' (htmx)' if htmx else ''}", response)
                if response.status_code in (301, 302) and response["Location"].startswith("/"):
                    followed = clients[who].get(response["Location"], **headers)
                    _check_response(seen, f"{url} -> {response['Location']}", followed)
    # Posts that show the input again: a refused survey page, an autosave, a refused join,
    # a refused invitation list, refused branding and a refused scan source.
    respondent = clients["respondent"]
    section = services.respondent_progress(world.respondent)[0].id
    question = services.questions_for(world.respondent)[0].id
    posts = [
        (
            respondent,
            reverse("survey:section", args=[world.respondent.pk, section]),
            {f"q-{question}": "7", f"c-{question}": payload("pending-comment")},
        ),
        (
            respondent,
            reverse("survey:answer", args=[world.respondent.pk]),
            {
                "question": question,
                f"q-{question}": "4",
                f"c-{question}": payload("pending-comment"),
            },
        ),
        (
            clients["owner"],
            reverse("assessments:invitations_create", args=[world.assessment.pk]),
            {"people": f"{payload('owner-name')}, engineering\n{payload('owner-name')}, nobody"},
        ),
        (
            clients["consultant"],
            reverse("reports:branding"),
            {"firm_name": payload("firm"), "colour": payload("firm")[:7]},
        ),
        (
            clients["owner"],
            reverse("scans:add", args=[world.assessment.pk, "repo_url"]),
            {"url": payload("archive-name")},
        ),
        (
            clients["owner"],
            reverse("assessments:team_create", args=[world.assessment.organisation_id]),
            {"name": payload("team")},
        ),
        (
            clients["owner"],
            reverse("reports:plan", args=[world.assessment.pk]),
            {
                "item": PlanDecision.objects.get(assessment=world.assessment).item_id,
                "version": "1",
                "status": "deferred",
                "owner": payload("plan-owner")[:120],
                "quarter": payload("plan-note")[:7],
                "note": payload("plan-note"),
            },
        ),
    ]
    for client, url, data in posts:
        response = client.post(url, data, follow=True)
        _check_response(seen, f"POST {url}", response)
    _check_admin(seen, world)
    assert seen.outputs > 100
    missing = world.fields - seen.fields
    assert not missing, f"fields that reached no page or export: {sorted(missing)}"


def _check_admin(seen: Seen, world: World) -> None:
    staff = make_user("stella", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(staff)
    for model, model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        changelist = reverse(f"admin:{info[0]}_{info[1]}_changelist")
        _check_response(seen, changelist, client.get(changelist))
        first = model_admin.get_queryset(
            type("R", (), {"user": staff, "GET": {}, "resolver_match": None})()  # type: ignore[arg-type]
        ).first()
        if first is not None:
            change = reverse(f"admin:{info[0]}_{info[1]}_change", args=[first.pk])
            _check_response(seen, change, client.get(change))


def test_the_pdf_shows_every_payload_as_literal_text(world: World) -> None:
    assessment = world.assessment
    result = result_compute(assessment=assessment).data
    context = report_context(
        assessment=assessment,
        result=result,
        for_pdf=True,
        branding=branding_for(assessment, world.consultant),
        comparison=comparison_for(assessment),
    )
    pdf, _pages, _fetcher = render_pdf(render_html(context, standalone=True))
    text = "".join("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())
    shown = set(re.findall(r"xss-([a-z0-9-]+)", text))
    for name in ("org", "title", "firm", "team", "earlier-title", "plan-owner", "plan-note"):
        assert name in shown, f"{name} is not in the PDF"
    for name in shown:
        # Drawn as the characters typed, tag and all: nothing became bold, a link or a break.
        literal = "".join(f'<b data-xss="{name}">xss-{name}</b>'.split())
        literal_path = "".join(f'<i data-xss="{name}">xss-{name}<'.split())
        assert literal in text or literal_path in text, f"{name} was not drawn as text"
