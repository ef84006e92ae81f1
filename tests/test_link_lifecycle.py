"""Survey links and share links through every transition, as tables.

Each row is a sequence of events (issue, redeem, revoke, reissue, expire, close, reopen) and
what must hold afterwards, for a visitor arriving fresh with a token and for a browser that
opened the link before the events: a revoked, replaced or expired link stops working in
both, and a reissued link works again even when it had been revoked or had expired.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from assessments import services
from assessments.models import Answer, Assessment, Invitation, Respondent, hash_token, new_token
from reports.jobs import comparison_for
from reports.models import Branding, ReportJob, ShareLink
from reports.rendering import branding_for, render_hash
from reports.services import result_compute
from tests.factories import Personas, invite, make_assessment

pytestmark = pytest.mark.django_db


def _expire(invitation: Invitation) -> None:
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )


def _redeems(token: str) -> bool:
    response = Client().get(reverse("survey:redeem", args=[token]))
    return response.status_code == 302


def _survey_open(client: Client, respondent: Respondent) -> bool:
    """Every page and write of the survey answers for this browser (or none does)."""
    qid = services.questions_for(respondent)[0].id
    home = client.get(reverse("survey:home", args=[respondent.pk]))
    save = client.post(
        reverse("survey:answer", args=[respondent.pk]),
        {"question": qid, f"q-{qid}": "4", "seq": str(int(timezone.now().timestamp() * 1000))},
    )
    review = client.get(reverse("survey:review", args=[respondent.pk]))
    statuses = {home.status_code, save.status_code, review.status_code}
    assert statuses in ({200}, {404}), statuses  # never half open
    if statuses == {404}:
        assert b"This link can't be used" in home.content
    return statuses == {200}


# events -> (old token redeems, new token redeems, the browser opened before still works,
#            the state the leader sees)
PERSONAL = [
    ((), True, None, True, "active"),
    (("revoke",), False, None, False, "revoked"),
    (("expire",), False, None, False, "expired"),
    (("reissue",), False, True, False, "active"),
    (("revoke", "reissue"), False, True, False, "active"),
    (("expire", "reissue"), False, True, False, "active"),
    (("reissue", "revoke"), False, False, False, "revoked"),
    (("reissue", "expire"), False, False, False, "expired"),
    (("revoke", "revoke"), False, None, False, "revoked"),
    (("expire", "revoke"), False, None, False, "revoked"),
    (("revoke", "reissue", "reissue"), False, True, False, "active"),
]


@pytest.mark.parametrize(("events", "old", "new", "opened", "state"), PERSONAL)
def test_personal_link_life_cycle(
    personas: Personas,
    events: tuple[str, ...],
    old: bool,
    new: bool | None,
    opened: bool,
    state: str,
) -> None:
    respondent, token = invite(personas.assessment_a)
    browser = Client()
    assert browser.get(reverse("survey:redeem", args=[token])).status_code == 302
    invitation = respondent.invitation
    assert invitation is not None
    fresh: str | None = None
    first_revoked_at = None
    for event in events:
        invitation.refresh_from_db()
        if event == "revoke":
            services.invitation_revoke(invitation=invitation)
            invitation.refresh_from_db()
            first_revoked_at = first_revoked_at or invitation.revoked_at
            assert invitation.revoked_at == first_revoked_at  # revoking twice changes nothing
        elif event == "reissue":
            fresh = services.invitation_reissue(invitation=invitation).token
            first_revoked_at = None
        elif event == "expire":
            _expire(invitation)
    invitation.refresh_from_db()
    assert invitation.state == state
    assert _redeems(token) is old
    if fresh is not None:
        assert _redeems(fresh) is new
    assert _survey_open(browser, respondent) is opened
    if state == "active" and fresh is not None:
        # The reissued link restarts its life and keeps the respondent and their answers.
        newcomer = Client()
        newcomer.get(reverse("survey:redeem", args=[fresh]))
        assert _survey_open(newcomer, respondent)
        assert invitation.expires_at > timezone.now() + timedelta(days=1)


def test_the_detail_page_shows_each_links_state(personas: Personas) -> None:
    client = Client()
    client.force_login(personas.alice)
    states = {}
    for state in ("active", "revoked", "expired"):
        respondent, _token = invite(personas.assessment_a, name=f"Person {state}")
        assert respondent.invitation is not None
        if state == "revoked":
            services.invitation_revoke(invitation=respondent.invitation)
        if state == "expired":
            _expire(respondent.invitation)
        states[state] = respondent.invitation
    page = client.get(reverse("assessments:detail", args=[personas.assessment_a.pk]))
    html = page.content.decode()
    for state, invitation in states.items():
        row = html[html.index(f"Person {state}") :]
        row = row[: row.index("</tr>")]
        invitation.refresh_from_db()
        assert invitation.state == state
        assert state in row.lower(), (state, row[:300])


OPEN = [
    ((), True, True),
    (("revoke",), False, False),
    (("expire",), False, False),
    (("close",), False, False),
    (("close", "reopen"), True, True),
]


@pytest.mark.parametrize(("events", "joins", "opened"), OPEN)
def test_open_link_life_cycle(
    personas: Personas, events: tuple[str, ...], joins: bool, opened: bool
) -> None:
    assessment = personas.assessment_a
    issued = services.invitation_create_open(assessment=assessment)
    browser = Client()
    browser.get(reverse("survey:redeem", args=[issued.token]))
    browser.post(reverse("survey:join"), {"role": "engineering", "name": "Early"})
    respondent = Respondent.objects.get(assessment=assessment, name="Early")
    for event in events:
        if event == "revoke":
            services.invitation_revoke(invitation=issued.invitation)
        elif event == "expire":
            _expire(issued.invitation)
        elif event == "close":
            assessment.close()
        elif event == "reopen":
            assessment.reopen()
    newcomer = Client()
    redeemed = newcomer.get(reverse("survey:redeem", args=[issued.token]))
    joined = newcomer.post(reverse("survey:join"), {"role": "product", "name": "Late"})
    late = Respondent.objects.filter(assessment=assessment, name="Late").exists()
    assert (redeemed.status_code == 302 and late) is joins, (redeemed.status_code, joined)
    home = browser.get(reverse("survey:home", args=[respondent.pk]))
    assert (home.status_code == 200) is opened
    qid = services.questions_for(respondent)[0].id
    save = browser.post(
        reverse("survey:answer", args=[respondent.pk]), {"question": qid, f"q-{qid}": "2"}
    )
    assert (save.status_code == 200) is opened
    assert Answer.objects.filter(respondent=respondent).exists() is opened


@pytest.mark.parametrize("offset", [timedelta(seconds=-1), timedelta(0), timedelta(seconds=1)])
def test_an_invitation_is_usable_strictly_before_its_expiry(
    personas: Personas, offset: timedelta
) -> None:
    respondent, token = invite(personas.assessment_a)
    invitation = respondent.invitation
    assert invitation is not None
    at = invitation.expires_at + offset
    assert invitation.is_usable(at) is (offset < timedelta(0))
    assert (services.invitation_redeem(token=token, now=at) is not None) is (offset < timedelta(0))


@pytest.mark.parametrize("days", [1, 7, 30])
def test_the_link_lifetime_setting_sets_the_expiry_of_new_and_reissued_links_only(
    personas: Personas, settings: Any, days: int
) -> None:
    settings.INVITATION_TTL_DAYS = days
    now = timezone.now()
    issued = services.invitation_create_personal(
        assessment=personas.assessment_a, role="engineering", now=now
    )
    assert issued.invitation.expires_at == now + timedelta(days=days)
    opened = services.invitation_create_open(assessment=personas.assessment_a, now=now)
    assert opened.invitation.expires_at == now + timedelta(days=days)
    later = now + timedelta(hours=5)
    services.invitation_reissue(invitation=issued.invitation, now=later)
    assert issued.invitation.expires_at == later + timedelta(days=days)
    share, _token = _share(personas, days=3)
    assert share.expires_at - share.created_at == pytest.approx(
        timedelta(days=3), abs=timedelta(seconds=5)
    )


# --- Share links ------------------------------------------------------------------------------


def _share(personas: Personas, days: int = 30) -> tuple[ShareLink, str]:
    """A share link and its token (only the token's hash is stored)."""
    token = new_token()
    link = ShareLink.objects.create(
        assessment=personas.assessment_a,
        token_hash=hash_token(token),
        created_by=personas.alice,
        expires_at=timezone.now() + timedelta(days=days),
    )
    return link, token


def _three_submitted(personas: Personas, assessment: Assessment | None = None) -> None:
    for _ in range(3):
        respondent, _token = invite(assessment or personas.assessment_a)
        qid = services.questions_for(respondent)[0].id
        services.answer_save(respondent=respondent, question_id=qid, value="3", comment="", seq=1)
        services.respondent_submit(respondent=respondent)


SHARES = [
    ((), True, True, "active"),
    (("revoke",), False, False, "revoked"),
    (("expire",), False, False, "expired"),
    (("revoke", "revoke"), False, False, "revoked"),
    (("expire", "revoke"), False, False, "revoked"),
]


@pytest.mark.parametrize(("events", "fresh", "opened", "state"), SHARES)
def test_share_link_life_cycle(
    personas: Personas, events: tuple[str, ...], fresh: bool, opened: bool, state: str
) -> None:
    _three_submitted(personas)
    link, token = _share(personas)
    reader = Client()
    first = reader.get(reverse("reports:shared", args=[token]))
    assert first.status_code == 302
    owner = Client()
    owner.force_login(personas.alice)
    revoked_at = None
    for event in events:
        if event == "revoke":
            owner.post(reverse("reports:share_revoke", args=[personas.assessment_a.pk, link.pk]))
            link.refresh_from_db()
            revoked_at = revoked_at or link.revoked_at
            assert link.revoked_at == revoked_at
        elif event == "expire":
            ShareLink.objects.filter(pk=link.pk).update(
                expires_at=timezone.now() - timedelta(seconds=1)
            )
    link.refresh_from_db()
    assert link.state == state
    again = Client().get(reverse("reports:shared", args=[token]))
    assert (again.status_code == 302) is fresh
    page = reader.get(reverse("reports:shared_report", args=[link.pk]))
    assert (page.status_code == 200) is opened
    if not opened:
        assert page.status_code == 404
        assert personas.assessment_a.title.encode() not in page.content
    report = owner.get(reverse("reports:report", args=[personas.assessment_a.pk])).content.decode()
    assert state in report.lower()


def test_a_share_session_never_opens_another_share(personas: Personas) -> None:
    _three_submitted(personas)
    (one, one_token), (two, _two_token) = _share(personas), _share(personas)
    reader = Client()
    reader.get(reverse("reports:shared", args=[one_token]))
    assert reader.get(reverse("reports:shared_report", args=[one.pk])).status_code == 200
    assert reader.get(reverse("reports:shared_report", args=[two.pk])).status_code == 404


def _open(reader: Client, token: str) -> int:
    return int(reader.get(reverse("reports:shared", args=[token])).status_code)


def _shown(reader: Client, link: ShareLink) -> int:
    return int(reader.get(reverse("reports:shared_report", args=[link.pk])).status_code)


def test_each_opening_of_a_share_link_is_counted_and_refusals_are_not(
    personas: Personas,
) -> None:
    _three_submitted(personas)
    link, token = _share(personas)
    assert (_open(Client(), token), _open(Client(), token)) == (302, 302)
    link.refresh_from_db()
    assert link.views == 2
    owner = Client()
    owner.force_login(personas.alice)
    report = owner.get(reverse("reports:report", args=[personas.assessment_a.pk])).content
    assert b"2 views" in report
    ShareLink.objects.filter(pk=link.pk).update(revoked_at=timezone.now())
    assert _open(Client(), token) == 404
    link.refresh_from_db()
    assert link.views == 2
    assert str(link) == f"Share link for {personas.assessment_a}"


@pytest.mark.parametrize(("length", "opens"), [(1, True), (128, True), (129, False)])
def test_a_share_token_longer_than_any_issued_is_refused_unread(
    personas: Personas, length: int, opens: bool
) -> None:
    token = ("abcdefghij" * 13)[:length]
    ShareLink.objects.create(
        assessment=personas.assessment_a,
        token_hash=hash_token(token),
        expires_at=timezone.now() + timedelta(days=1),
    )
    assert (_open(Client(), token) == 302) is opens


def test_a_browser_keeps_the_twenty_shares_it_opened_last(personas: Personas) -> None:
    _three_submitted(personas)
    issued = [_share(personas) for _ in range(21)]
    links = [link for link, _token in issued]
    tokens = {link.pk: token for link, token in issued}
    reader = Client()
    for link in [*links[:20], links[0], links[20]]:  # the first again: it becomes the newest
        assert _open(reader, tokens[link.pk]) == 302
    # Twenty-one opened: the one opened longest ago (the second) is forgotten.
    assert _shown(reader, links[1]) == 404
    assert _shown(reader, links[0]) == 200
    assert _shown(reader, links[2]) == 200
    assert _shown(reader, links[20]) == 200


def test_every_share_answer_sends_no_referrer_and_is_never_cached(personas: Personas) -> None:
    _three_submitted(personas)
    link, token = _share(personas)
    reader = Client()
    answers = [
        reader.get(reverse("reports:shared", args=["never-issued"])),
        reader.get(reverse("reports:shared", args=[token])),
        reader.get(reverse("reports:shared_report", args=[link.pk])),
    ]
    link.revoked_at = timezone.now()  # revoked while the reader's page is open
    link.save(update_fields=["revoked_at"])
    answers.append(reader.get(reverse("reports:shared_report", args=[link.pk])))
    assert [a.status_code for a in answers] == [404, 302, 200, 404]
    for answer in answers:
        assert answer["Referrer-Policy"] == "no-referrer"
        assert "no-store" in answer["Cache-Control"] and "max-age=0" in answer["Cache-Control"]


def test_the_shared_report_says_who_shared_it_until_when_and_nothing_more(
    personas: Personas,
) -> None:
    _three_submitted(personas)
    link, token = _share(personas, days=10)
    reader = Client()
    _open(reader, token)
    page = reader.get(reverse("reports:shared_report", args=[link.pk])).content.decode()
    until = timezone.localtime(link.expires_at)
    assert f"shared with you by alice, valid until {until.day} {until:%B %Y}" in page
    assert personas.assessment_a.title in page
    # No way to the owner's tools: exports, the plan, other share links.
    assessment = personas.assessment_a.pk
    for name in ["reports:results", "reports:plan", "reports:share_create"]:
        assert reverse(name, args=[assessment]) not in page, name
    assert reverse("reports:export", args=[assessment, "answers.csv"]) not in page
    # A link deleted while the page was open answers as an unusable one.
    ShareLink.objects.filter(pk=link.pk).delete()
    gone = reader.get(reverse("reports:shared_report", args=[link.pk]))
    assert gone.status_code == 404 and b"can't be used" in gone.content.lower()


def _pdf_job(link: ShareLink, paper: str, status: str, content: bytes | None) -> ReportJob:
    """A PDF job of the report as the share's reader sees it now, in this paper size."""
    assessment = link.assessment
    digest = render_hash(
        result_compute(assessment=assessment).data,
        assessment=assessment,
        paper=paper,
        branding=branding_for(assessment, link.created_by),
        comparison=comparison_for(assessment),
    )
    job = ReportJob.objects.create(
        assessment=assessment, render_hash=digest, paper=paper, status=status
    )
    if content is not None:
        job.file.save("report.pdf", ContentFile(content))
    return job


def _download(reader: Client, link: ShareLink, job: ReportJob) -> int:
    response = reader.get(reverse("reports:shared_download", args=[link.pk, job.pk]))
    return int(response.status_code)


def test_a_share_offers_only_a_finished_pdf_of_the_report_as_it_stands(
    personas: Personas, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    _three_submitted(personas)
    link, token = _share(personas)
    reader = Client()
    _open(reader, token)
    pending = _pdf_job(link, "a4", ReportJob.Status.QUEUED, None)
    empty = _pdf_job(link, "a4", ReportJob.Status.SUCCEEDED, None)
    page = reader.get(reverse("reports:shared_report", args=[link.pk])).content.decode()
    assert "Download the PDF" not in page
    assert (_download(reader, link, pending), _download(reader, link, empty)) == (404, 404)
    # A finished PDF on letter paper is the report as it stands too.
    letter = _pdf_job(link, "letter", ReportJob.Status.SUCCEEDED, b"%PDF-1.7 letter")
    page = reader.get(reverse("reports:shared_report", args=[link.pk])).content.decode()
    assert reverse("reports:shared_download", args=[link.pk, letter.pk]) in page
    response = reader.get(reverse("reports:shared_download", args=[link.pk, letter.pk]))
    assert response.status_code == 200 and b"".join(response) == b"%PDF-1.7 letter"


def test_a_share_downloads_nothing_once_revoked_or_for_another_browser_or_assessment(
    personas: Personas, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    _three_submitted(personas)
    link, token = _share(personas)
    reader = Client()
    _open(reader, token)
    job = _pdf_job(link, "a4", ReportJob.Status.SUCCEEDED, b"%PDF-1.7 a4")
    assert _download(reader, link, job) == 200
    assert _download(Client(), link, job) == 404  # a browser that never opened the link
    other = ShareLink.objects.create(
        assessment=personas.assessment_b,
        token_hash=hash_token(new_token()),
        created_by=personas.charlie,
        expires_at=timezone.now() + timedelta(days=1),
    )
    theirs = _pdf_job(other, "a4", ReportJob.Status.SUCCEEDED, b"%PDF-1.7 another org")
    assert _download(reader, link, theirs) == 404  # the job of another assessment
    ShareLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert _download(reader, link, job) == 404
    ShareLink.objects.filter(pk=link.pk).update(
        expires_at=timezone.now() + timedelta(days=1), revoked_at=timezone.now()
    )
    assert _download(reader, link, job) == 404
    ShareLink.objects.filter(pk=link.pk).delete()
    assert _download(reader, link, job) == 404


def test_a_shared_report_is_the_report_its_sharer_would_make(
    personas: Personas, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    _three_submitted(personas)
    earlier = make_assessment(personas.org_a, personas.alice, title="Last year")
    Assessment.objects.filter(pk=earlier.pk).update(
        created_at=personas.assessment_a.created_at - timedelta(days=120)
    )
    _three_submitted(personas, earlier)
    # fiona facilitates org A for her firm: a report she makes wears her firm's branding.
    Branding.objects.create(user=personas.fiona, firm_name="Fjord Advisory")
    link, token = _share(personas)
    ShareLink.objects.filter(pk=link.pk).update(created_by=personas.fiona)
    link.refresh_from_db()
    reader = Client()
    _open(reader, token)
    job = _pdf_job(link, "a4", ReportJob.Status.SUCCEEDED, b"%PDF-1.7 branded")
    page = reader.get(reverse("reports:shared_report", args=[link.pk])).content.decode()
    assert "Prepared by Fjord Advisory" in page
    assert 'id="comparison"' in page and "What changed since Last year" in page
    # Charts drawn in the browser, as on the owner's page (not the PDF's images).
    assert "data:image/svg+xml" not in page
    # The PDF made with her branding and the comparison is the report as it stands.
    assert reverse("reports:shared_download", args=[link.pk, job.pk]) in page
    response = reader.get(reverse("reports:shared_download", args=[link.pk, job.pk]))
    assert response.status_code == 200 and b"".join(response) == b"%PDF-1.7 branded"


def test_a_guesser_held_back_is_told_so_without_a_referrer_or_cache(
    personas: Personas, settings: Any
) -> None:
    settings.TOKEN_RATE_LIMIT_PER_MINUTE = 1
    cache.clear()
    guesser = Client()
    assert [_open(guesser, f"guess-{n}") for n in range(2)] == [404, 429]
    held = guesser.get(reverse("reports:shared", args=["guess-3"]))
    assert held.status_code == 429 and held["Retry-After"] == "60"
    assert b"Too many attempts" in held.content
    # The page is the site's own page, its script allowed by this answer's policy.
    nonce = re.search(r"'nonce-([^']+)'", held["Content-Security-Policy"])
    assert nonce is not None and f'nonce="{nonce.group(1)}"'.encode() in held.content
    assert held["Referrer-Policy"] == "no-referrer"
    assert "no-store" in held["Cache-Control"]
    cache.clear()


@pytest.mark.parametrize("offset", [timedelta(seconds=-1), timedelta(0), timedelta(seconds=1)])
def test_a_share_link_is_usable_strictly_before_its_expiry(
    personas: Personas, offset: timedelta
) -> None:
    link, _token = _share(personas)
    assert link.is_usable(link.expires_at + offset) is (offset < timedelta(0))
    ShareLink.objects.filter(pk=link.pk).update(revoked_at=timezone.now())
    link.refresh_from_db()
    assert link.is_usable(link.expires_at - timedelta(days=1)) is False
