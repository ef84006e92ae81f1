"""Open links that resist flooding: join limits per address and per link, owner caps and
expiry, warnings about automated responses, excluding responses from the results, and
reissuing a link closing the browsers that came in through the old token."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from assessments import services
from assessments.automation import ResponseRow, find_automation
from assessments.models import Respondent
from reports.services import answers_frame, result_compute
from tests.factories import Personas, invite

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_counters() -> Any:
    cache.clear()
    yield
    cache.clear()


def _join(client: Client, token: str, role: str = "engineering") -> Any:
    client.get(reverse("survey:redeem", args=[token]))
    return client.post(reverse("survey:join"), {"role": role})


def test_one_address_cannot_flood_an_open_link(personas: Personas, settings: Any) -> None:
    settings.OPEN_LINK_JOINS_PER_ADDRESS = 3
    issued = services.invitation_create_open(assessment=personas.assessment_a)
    statuses = [_join(Client(REMOTE_ADDR="6.6.6.6"), issued.token).status_code for _ in range(5)]
    assert statuses == [302, 302, 302, 429, 429]
    assert Respondent.objects.filter(invitation=issued.invitation).count() == 3
    limited = _join(Client(REMOTE_ADDR="6.6.6.6"), issued.token)
    assert b"Too many people joined just now" in limited.content
    # Another address still joins.
    assert _join(Client(REMOTE_ADDR="7.7.7.7"), issued.token).status_code == 302


def test_an_open_link_has_an_overall_rate_too(personas: Personas, settings: Any) -> None:
    settings.OPEN_LINK_JOINS_PER_MINUTE = 4
    issued = services.invitation_create_open(assessment=personas.assessment_a)
    statuses = [
        _join(Client(REMOTE_ADDR=f"10.1.1.{i}"), issued.token).status_code for i in range(6)
    ]
    assert statuses == [302] * 4 + [429] * 2


def test_the_owner_caps_an_open_link_and_sets_its_expiry(personas: Personas) -> None:
    owner = Client()
    owner.force_login(personas.alice)
    detail = reverse("assessments:detail", args=[personas.assessment_a.pk])
    owner.post(
        reverse("assessments:open_link_create", args=[personas.assessment_a.pk]),
        {"max_respondents": "2", "days": "3"},
    )
    link = personas.assessment_a.invitations.get(kind="open")
    assert link.max_respondents == 2
    assert timedelta(days=2, hours=23) < link.expires_at - timezone.now() <= timedelta(days=3)
    token = owner.get(detail).context["fresh_links"][0]["url"].rstrip("/").rsplit("/", 1)[-1]
    assert [_join(Client(REMOTE_ADDR=f"10.2.2.{i}"), token).status_code for i in range(3)] == [
        302,
        302,
        409,
    ]
    full = _join(Client(REMOTE_ADDR="10.2.2.9"), token)
    assert b"This link has all the answers it takes" in full.content
    # Raising the cap lets more people in; a bad value changes nothing.
    limit = reverse("assessments:open_link_limit", args=[personas.assessment_a.pk, link.pk])
    owner.post(limit, {"max_respondents": "-1"})
    link.refresh_from_db()
    assert link.max_respondents == 2
    owner.post(limit, {"max_respondents": "5", "days": "1"})
    link.refresh_from_db()
    assert link.max_respondents == 5
    assert link.expires_at - timezone.now() <= timedelta(days=1)
    assert _join(Client(REMOTE_ADDR="10.2.2.10"), token).status_code == 302
    # A read-only member cannot change limits.
    member = Client()
    member.force_login(personas.bob)
    assert member.post(limit, {"max_respondents": "100"}).status_code == 403


def test_the_scripted_flood_of_the_report_is_flagged_and_can_be_excluded(
    personas: Personas, settings: Any
) -> None:
    """30 scripted respondents answering all 5s within seconds, as in the incident report."""
    settings.OPEN_LINK_JOINS_PER_ADDRESS = 1000
    issued = services.invitation_create_open(assessment=personas.assessment_a)
    real, _ = invite(personas.assessment_a, role="engineering")
    questions = personas.assessment_a.rubric.questions_for("engineering")
    for i, q in enumerate(questions):
        services.answer_save(
            respondent=real, question_id=q.id, value=str(1 + i % 3), comment="", seq=1
        )
    Respondent.objects.filter(pk=real.pk).update(started_at=timezone.now() - timedelta(hours=1))
    services.respondent_submit(respondent=real)
    started = timezone.now()
    seen: set[Any] = set()
    for i in range(30):
        client = Client(REMOTE_ADDR=f"10.9.{i // 250}.{i % 250}")
        _join(client, issued.token)
        # The new one (created_at is rewritten below, so "latest" would not find it).
        bot = Respondent.objects.filter(invitation=issued.invitation).exclude(pk__in=seen).get()
        seen.add(bot.pk)
        for q in questions[:12]:
            services.answer_save(respondent=bot, question_id=q.id, value="5", comment="", seq=1)
        services.respondent_submit(respondent=bot)
        # The script's pace in the incident (30 in 17 s), whatever this machine's speed.
        Respondent.objects.filter(pk=bot.pk).update(
            created_at=started + timedelta(seconds=i / 2),
            started_at=started + timedelta(seconds=i / 2),
            submitted_at=started + timedelta(seconds=i / 2 + 3),
        )
    before = result_compute(assessment=personas.assessment_a).data
    owner = Client()
    owner.force_login(personas.alice)
    page = owner.get(reverse("assessments:detail", args=[personas.assessment_a.pk]))
    html = page.content.decode()
    assert "Some responses look automated" in html
    assert "30 people joined through an open link within one minute" in html
    assert "30 responses gave exactly the same answers to all 12 questions" in html
    assert "30 responses were finished faster than 2 seconds per question" in html
    assert html.count("looks automated") >= 30
    owner.post(reverse("assessments:exclude_flagged", args=[personas.assessment_a.pk]))
    assert Respondent.objects.filter(excluded_at__isnull=False).count() == 30
    assert set(answers_frame(personas.assessment_a)["respondent_id"]) == {str(real.pk)}
    after = result_compute(assessment=personas.assessment_a).data
    assert after["respondents"] == 1 and before["respondents"] == 31
    # The results page and the report say how many were left out, so a count that shrank
    # from 31 to 1 is explained to whoever reads it.
    assert before["excluded_respondents"] == 0 and after["excluded_respondents"] == 30
    results = owner.get(reverse("reports:results", args=[personas.assessment_a.pk]))
    assert "30 finished responses left out by the assessment's owner" in results.content.decode()
    report = owner.get(reverse("reports:report", args=[personas.assessment_a.pk]))
    assert "30 more left out by the assessment's owner as not genuine" in report.content.decode()
    # One response counted again.
    bot = Respondent.objects.filter(excluded_at__isnull=False).first()
    assert bot is not None
    owner.post(
        reverse("assessments:respondent_exclude", args=[personas.assessment_a.pk, bot.pk]),
        {"excluded": "0"},
    )
    counted_again = result_compute(assessment=personas.assessment_a).data
    assert counted_again["respondents"] == 2 and counted_again["excluded_respondents"] == 29


def test_real_people_answering_over_time_are_not_flagged() -> None:
    start = timezone.now()
    rows = [
        ResponseRow(
            id=str(i),
            open_link="L",
            created_at=start + timedelta(minutes=7 * i),
            started_at=start + timedelta(minutes=7 * i),
            submitted_at=start + timedelta(minutes=7 * i + 12),
            answers={f"q{j}": str(random.Random(i * 100 + j).randint(1, 5)) for j in range(20)},
        )
        for i in range(20)
    ]
    report = find_automation(rows)
    assert report.warnings == [] and report.flagged == {}


def test_reissuing_an_open_link_closes_browsers_that_joined_through_the_old_token(
    personas: Personas,
) -> None:
    issued = services.invitation_create_open(assessment=personas.assessment_a)
    joined, waiting = Client(), Client()
    _join(joined, issued.token)
    respondent = Respondent.objects.get(invitation=issued.invitation)
    waiting.get(reverse("survey:redeem", args=[issued.token]))  # opened, not yet joined
    assert joined.get(reverse("survey:home", args=[respondent.pk])).status_code == 200
    new = services.invitation_reissue(invitation=issued.invitation)
    closed = joined.get(reverse("survey:home", args=[respondent.pk]))
    assert closed.status_code == 404 and b"This link can't be used" in closed.content
    assert waiting.post(reverse("survey:join"), {"role": "product"}).status_code == 404
    # The new token works.
    assert _join(Client(), new.token).status_code == 302
