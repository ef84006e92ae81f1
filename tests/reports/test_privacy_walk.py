"""Privacy kept, end to end: respondents are told "results are shown by role, for groups of
three or more". With one leader and two operations people beside three engineers, every page,
htmx partial, PDF, CSV, XLSX and JSON of the assessment is requested, and none may hold a
figure that one or two people's answers make: the numbers only they gave, their comments,
their names in a report or export, or a statistic beside a count of one or two.

The assessment is named (not anonymous) and was not created with `export_named_answers`, so
no export lists answers by respondent.
"""

from __future__ import annotations

import csv as csv_module
import io
import json
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from assessments import services
from assessments.models import Assessment, Membership, Respondent, hash_token
from reports.jobs import comparison_for
from reports.models import ReportJob, ShareLink
from reports.pdf import render_pdf
from reports.presenters import review_too_few, review_wall
from reports.rendering import render_html, report_context
from reports.services import result_compute
from reports.views import EXPORT_KINDS
from scoring.engine import score_assessment
from scoring.rubric import get_rubric
from tests.factories import add_member, make_org, make_user
from tests.scoring.helpers import frame
from tests.test_xss import _patterns

pytestmark = pytest.mark.django_db

# Numbers only the small groups give (the leader: pull requests and reviewers; the two
# operations people: deployments a week; two of the engineers: the observed wait to a first
# review). No output may show any of them. The engineers all give the review wall's other two
# inputs, so the wall could be drawn from the leader's figures: it must not be.
LEADER_FACTS = {"fact.prs-per-week": "7919", "fact.active-reviewers": "4973"}
OPS_FACTS = [{"fact.deploys-per-week": "7877"}, {"fact.deploys-per-week": "7883"}]
ENG_FACTS = {"fact.review-hours-per-pr": "1", "fact.reviewer-hours-per-week": "10"}
ENG_WAITS = ("1913", "1931")  # only two engineers give one
# 7880 and 1922: the medians of the two operations people's and the two engineers' numbers.
MARKER_NUMBERS = ("7919", "4973", "7877", "7883", "7880", "1913", "1931", "1922")
SMALL_NAMES = ("Lena Leader", "Olga Ops", "Otto Ops")
SMALL_COMMENTS = ("remark-of-lena", "remark-of-olga", "remark-of-otto")
# Statistics that must not stand beside a count of one or two people.
FIGURES = ("median", "mean", "low", "high", "lowest", "highest", "level")
COUNTS = ("n", "answered")


@dataclass
class World:
    assessment: Assessment
    earlier: Assessment
    owner: Any
    pending: Respondent
    pending_token: str
    share_token: str
    share: ShareLink
    job: ReportJob


def _respond(
    assessment: Assessment,
    *,
    role: str,
    name: str,
    level: int,
    facts: dict[str, str],
    comment: str = "",
    submit: bool = True,
) -> tuple[Respondent, str]:
    issued = services.invitation_create_personal(assessment=assessment, role=role, name=name)
    respondent = issued.invitation.respondents.get()
    for question in services.questions_for(respondent):
        services.answer_save(
            respondent=respondent,
            question_id=question.id,
            value=str(level),
            comment=comment,
            seq=1,
        )
    for fact_id, value in facts.items():
        services.answer_save(
            respondent=respondent, question_id=fact_id, value=value, comment=comment, seq=1
        )
    if submit:
        services.respondent_submit(respondent=respondent)
    return respondent, issued.token


@pytest.fixture
def world() -> World:
    owner = make_user("olive")
    org = make_org("Small Roles Ltd")
    add_member(owner, org, Membership.Role.OWNER)
    earlier = services.assessment_create(
        organisation=org,
        title="Spring",
        created_by=owner,
        rubric_id="operationalization",
        rubric_version=1,
    )
    assessment = services.assessment_create(
        organisation=org,
        title="Autumn",
        created_by=owner,
        rubric_id="operationalization",
        rubric_version=1,
    )
    Assessment.objects.filter(pk=earlier.pk).update(
        created_at=assessment.created_at - timedelta(days=90)
    )
    for target in (earlier, assessment):
        for n in range(3):
            waits = {"fact.hours-to-first-review": ENG_WAITS[n]} if n < len(ENG_WAITS) else {}
            _respond(
                target,
                role="engineering",
                name=f"Eng {n}",
                level=3,
                facts={**ENG_FACTS, **waits},
            )
    _respond(
        assessment,
        role="leadership",
        name=SMALL_NAMES[0],
        level=5,
        facts=LEADER_FACTS,
        comment=SMALL_COMMENTS[0],
    )
    for name, comment, facts in zip(SMALL_NAMES[1:], SMALL_COMMENTS[1:], OPS_FACTS, strict=True):
        _respond(assessment, role="operations", name=name, level=1, facts=facts, comment=comment)
    pending, pending_token = _respond(
        assessment, role="engineering", name="Eve Pending", level=2, facts={}, submit=False
    )
    share_token = "share-token-for-the-privacy-walk-0123456789abcdef"
    share = ShareLink.objects.create(
        assessment=assessment,
        token_hash=hash_token(share_token),
        created_by=owner,
        expires_at=assessment.created_at + timedelta(days=3650),
    )
    job = ReportJob.objects.create(assessment=assessment, render_hash="x", requested_by=owner)
    return World(assessment, earlier, owner, pending, pending_token, share_token, share, job)


def _values(world: World) -> dict[str, list[Any]]:
    return {
        "org_id": [world.assessment.organisation_id],
        "assessment_id": [world.assessment.pk],
        "other_id": [world.earlier.pk],
        "invitation_id": [i.pk for i in world.assessment.invitations.all()[:1]],
        "respondent_id": [world.pending.pk],
        "section_id": [s.id for s in services.respondent_progress(world.pending)],
        "job_id": [world.job.pk],
        "share_id": [world.share.pk],
        "kind": list(EXPORT_KINDS),
        "run_id": [world.job.pk],
        "source_id": [world.job.pk],
        "source_kind": ["repo_archive"],
        "token": [world.share_token],
    }


def _made_up(converter: Any) -> Any:
    name = type(converter).__name__
    return {"UUIDConverter": uuid.uuid4(), "IntConverter": 1}.get(name, "x")


def _urls(world: World) -> list[tuple[str, str]]:
    values = _values(world)
    urls = []
    for name, pattern in _patterns():
        combos: list[dict[str, Any]] = [{}]
        for param, converter in pattern.pattern.converters.items():
            # Objects this assessment does not have (workshops, processes, member invitations)
            # get a made-up id: their pages answer 404, which shows nothing.
            given = values.get(param) or [_made_up(converter)]
            combos = [{**c, param: v} for c in combos for v in given]
        for kwargs in combos:
            if name == "survey:redeem":
                kwargs = {"token": world.pending_token}
            urls.append((name, reverse(name, kwargs=kwargs)))
    return urls


def _small_figures(node: Any, path: str = "") -> list[str]:
    """Places in a JSON document where a count of one or two people stands beside a figure."""
    found: list[str] = []
    if isinstance(node, dict):
        count = next((node[k] for k in COUNTS if isinstance(node.get(k), int)), None)
        if count in (1, 2):
            for key in FIGURES:
                if node.get(key) is not None:
                    found.append(f"{path}.{key} beside a count of {count}")
            if any(node.get("counts", {}).values()):
                found.append(f"{path}.counts beside a count of {count}")
        for key, value in node.items():
            found += _small_figures(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _small_figures(value, f"{path}[{index}]")
    return found


def _small_rows(rows: list[list[Any]], where: str) -> list[str]:
    """Rows of a table where a count column of one or two stands beside a figure column."""
    if not rows:
        return []
    header = [str(h) for h in rows[0]]
    counts = [i for i, h in enumerate(header) if h in COUNTS]
    figures = [i for i, h in enumerate(header) if h in FIGURES or h.startswith("level_")]
    found = []
    for row in rows[1:]:
        for c in counts:
            if str(row[c]).strip() in ("1", "2", "1.0", "2.0"):
                shown = [header[f] for f in figures if str(row[f]).strip() not in ("", "None")]
                if shown:
                    found.append(f"{where}: {shown} beside {header[c]}={row[c]} in {row}")
    return found


class Outputs:
    def __init__(self) -> None:
        self.problems: list[str] = []
        self.count = 0

    def text(self, where: str, text: str, *, report: bool) -> None:
        self.count += 1
        for number in MARKER_NUMBERS:
            if re.search(rf"(?<![\d.]){number[0]},?{number[1:]}(?![\d])", text):
                self.problems.append(f"{where}: shows {number}, a number only 1-2 people gave")
        for comment in SMALL_COMMENTS:
            if comment in text:
                self.problems.append(f"{where}: shows a comment of a group of 1-2 ({comment})")
        if report:
            for name in SMALL_NAMES:
                if name in text:
                    self.problems.append(f"{where}: names {name}")

    def response(self, where: str, name: str, response: Any) -> None:
        assert response.status_code < 500, f"{where}: {response.status_code}"
        kind = response.get("Content-Type", "")
        body = response.content
        report = name.startswith("reports:")
        if "json" in kind:
            document = json.loads(body)
            self.problems += [f"{where}: {p}" for p in _small_figures(document)]
            self.text(where, json.dumps(document), report=report)
        elif "csv" in kind:
            text = body.decode("utf-8-sig")
            self.problems += _small_rows(list(csv_module.reader(io.StringIO(text))), where)
            self.text(where, text, report=report)
        elif "spreadsheetml" in kind:
            book = load_workbook(io.BytesIO(body))
            for sheet in book.worksheets:
                rows = [list(r) for r in sheet.iter_rows(values_only=True)]
                self.problems += _small_rows(rows, f"{where} [{sheet.title}]")
                self.text(where, json.dumps(rows, default=str), report=report)
        elif body:
            self.text(where, body.decode(errors="replace"), report=report)


def test_no_output_of_the_assessment_shows_a_group_of_one_or_two(world: World) -> None:
    owner, respondent, reader = Client(), Client(), Client()
    owner.force_login(world.owner)
    respondent.get(reverse("survey:redeem", args=[world.pending_token]))
    reader.get(reverse("reports:shared", args=[world.share_token]))
    outputs = Outputs()
    for name, url in _urls(world):
        client = (
            respondent
            if name.startswith("survey:")
            else reader
            if name.startswith("reports:shared")
            else owner
        )
        for htmx in (False, True):
            headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
            response = client.get(url, **headers)
            outputs.response(f"GET {url}{' (htmx)' if htmx else ''}", name, response)
            if response.status_code in (301, 302) and response["Location"].startswith("/"):
                followed = client.get(response["Location"], **headers)
                outputs.response(f"{url} -> {response['Location']}", name, followed)

    result = result_compute(assessment=world.assessment).data
    context = report_context(
        assessment=world.assessment,
        result=result,
        for_pdf=True,
        comparison=comparison_for(world.assessment),
    )
    pdf, _pages, _fetcher = render_pdf(render_html(context, standalone=True))
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    outputs.text("the PDF", text, report=True)

    assert outputs.count > 50
    assert not outputs.problems, "\n".join(outputs.problems[:20])
    # The walk saw the groups it guards: the leader and the operations people are counted.
    by_role = {role: n for role, n in result["respondents_by_role"].items() if n}
    assert by_role == {"engineering": 3, "leadership": 1, "operations": 2}
    assert result["facts"]["fact.prs-per-week"]["n"] == 1
    assert result["facts"]["fact.prs-per-week"]["withheld"]
    # The review wall had every input, two of them from one person: it is not drawn, and says
    # why instead.
    assert result["review"]["projection"] is None
    assert result["review"]["too_few"] == {"prs_per_week": 1, "reviewers": 1}
    page = owner.get(reverse("reports:results", args=[world.assessment.pk])).content.decode()
    assert "needs at least three answers to each of its inputs" in page
    assert "pull requests merged per week: 1 answered" in page


def test_the_walk_would_see_a_small_group_if_one_were_shown(world: World) -> None:
    """The detectors themselves: a fact row of one, a per-person answer, a marker number."""
    assert _small_figures({"facts": {"x": {"n": 1, "median": 7919.0}}})
    assert _small_rows([["question_id", "answered", "median"], ["q", "2", "3.5"]], "csv")
    outputs = Outputs()
    outputs.text("x", "PRs per week 7,919 1", report=True)
    outputs.text("y", "Olga Ops remark-of-olga", report=True)
    assert len(outputs.problems) == 3


def test_named_answers_export_is_announced_on_the_start_page(world: World) -> None:
    client = Client()
    client.get(reverse("survey:redeem", args=[world.pending_token]))
    home = reverse("survey:home", args=[world.pending.pk])
    assert "export each respondent's answers" not in client.get(home).content.decode()
    Assessment.objects.filter(pk=world.assessment.pk).update(export_named_answers=True)
    assert "export each respondent's answers" in client.get(home).content.decode()


def test_the_wall_names_what_it_leaves_out_and_shows_none_of_it() -> None:
    """Drawn from three people's numbers, the wall leaves out a wait two people gave and an
    agent share one gave, says so, and prints neither."""
    facts = {
        "fact.prs-per-week": 120,
        "fact.active-reviewers": 20,
        "fact.review-hours-per-pr": 0.5,
        "fact.reviewer-hours-per-week": 6,
    }
    rows = [(f"e{i}", "engineering", f, v) for f, v in facts.items() for i in range(3)]
    rows += [
        ("e0", "engineering", "fact.hours-to-first-review", 1913),
        ("e1", "engineering", "fact.hours-to-first-review", 1931),
        ("e0", "engineering", "fact.ai-authored-share", 37),
    ]
    result = score_assessment(
        rubric=get_rubric("operationalization", 1), answers=frame(rows), now=timezone.now()
    ).to_dict()
    review = result["review"]
    assert review["projection"] is not None
    p = {
        "review": review_wall(review["projection"], review["too_few"]),
        "review_too_few": review_too_few(review["too_few"]),
        "review_reviewers": 20,
    }
    html = render_to_string("reports/_review_reconcile.html", {"p": p})
    assert "Fewer than three people gave the observed wait to a first review (2 did)" in html
    assert "the observed wait to a first review: 2 answered" in html
    assert "the share of merged changes made by agents: 1 answered" in html
    assert "fewer than three answers, 1: counted as none" in html
    outputs = Outputs()
    outputs.text("the wall", html, report=True)
    assert not outputs.problems and "37%" not in html
