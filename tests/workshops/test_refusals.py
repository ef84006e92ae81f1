"""What a workshop refuses, each with a clear message and nothing changed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from assessments.workshops import services
from assessments.workshops.models import Participant, Vote, Workshop, WorkshopItem
from tests.factories import Personas
from tests.workshops.conftest import join, vote

pytestmark = pytest.mark.django_db


def _counts(workshop: Workshop) -> tuple[int, int, list[tuple[str, str, int | None]]]:
    return (
        Participant.objects.filter(workshop=workshop).count(),
        Vote.objects.filter(item__workshop=workshop).count(),
        list(
            WorkshopItem.objects.filter(workshop=workshop).values_list(
                "capability_id", "state", "agreed_level"
            )
        ),
    )


def test_a_wrong_code_is_refused_with_the_same_message_as_an_expired_one(
    workshop: Workshop,
) -> None:
    client = Client()
    before = _counts(workshop)
    wrong = client.post("/w/", {"code": "ACEACE" if workshop.code != "ACEACE" else "HHHHHH"})
    assert wrong.status_code == 400
    assert "open a workshop" in wrong.content.decode()
    Workshop.objects.filter(pk=workshop.pk).update(
        code_expires_at=timezone.now() - timedelta(minutes=1)
    )
    expired = client.post("/w/", {"code": workshop.code})
    assert expired.status_code == 400
    assert "open a workshop" in expired.content.decode()
    by_link = client.post(f"/w/{workshop.code}/", {"role": "engineering"})
    assert by_link.status_code == 404
    assert "open a workshop" in by_link.content.decode()
    assert _counts(workshop) == before


def test_a_finished_workshops_code_no_longer_joins(workshop: Workshop) -> None:
    services.workshop_finish(workshop=workshop)
    response = Client().post(f"/w/{workshop.code}/", {"role": "engineering"})
    assert response.status_code == 404
    assert not Participant.objects.filter(workshop=workshop).exists()


def test_guessing_codes_is_rate_limited(workshop: Workshop, settings: object) -> None:
    settings.WORKSHOP_CODE_RATE_LIMIT_PER_MINUTE = 3  # type: ignore[attr-defined]
    client = Client()
    for _ in range(3):
        client.post("/w/", {"code": "XXXXXX"})
    limited = client.post("/w/", {"code": workshop.code})
    assert limited.status_code == 429
    assert "Too many codes" in limited.content.decode()


def test_a_join_without_a_role_explains_and_creates_nobody(workshop: Workshop) -> None:
    response = Client().post(f"/w/{workshop.code}/", {"role": "boss", "display_name": "X"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not Participant.objects.filter(workshop=workshop).exists()


def test_a_vote_on_a_capability_the_room_has_left_is_refused(workshop: Workshop) -> None:
    services.item_open_next(workshop=workshop)
    client, participant = join(workshop)
    workshop.refresh_from_db()
    first = workshop.current_item
    assert first is not None
    services.item_open_next(workshop=workshop)
    response = client.post(
        f"/w/p/{participant.pk}/vote/",
        {"capability": first.capability_id, "round": 1, "value": "3"},
    )
    assert response.status_code == 409
    assert "Voting on this capability has closed" in response.content.decode()
    assert not Vote.objects.filter(participant=participant).exists()


def test_a_first_round_vote_during_the_re_vote_is_refused(workshop: Workshop) -> None:
    services.item_open_next(workshop=workshop)
    client, participant = join(workshop)
    vote(client, participant, "2")
    services.item_reveal(workshop=workshop)
    services.item_revote(workshop=workshop)
    response = vote(client, participant, "4", round="1")
    assert response.status_code == 409
    assert "voting again" in response.content.decode()
    assert [(v.round, v.level) for v in Vote.objects.filter(participant=participant)] == [(1, 2)]


def test_a_second_re_vote_is_refused(workshop: Workshop, fiona_client: Client) -> None:
    services.item_open_next(workshop=workshop)
    services.item_reveal(workshop=workshop)
    services.item_revote(workshop=workshop)
    services.item_reveal(workshop=workshop)
    url = f"/assessments/{workshop.assessment_id}/workshops/{workshop.pk}/action/"
    page = fiona_client.post(url, {"action": "revote"}, follow=True).content.decode()
    assert "already re-voted once" in page
    workshop.refresh_from_db()
    assert WorkshopItem.objects.get(pk=workshop.current_item_id).round == 2


def test_a_participant_of_another_session_cannot_vote_or_watch(
    personas: Personas, workshop: Workshop
) -> None:
    services.item_open_next(workshop=workshop)
    _own_client, victim = join(workshop)
    other = services.workshop_create(
        assessment=personas.assessment_b,
        title="B",
        minutes_per_capability=5,
        created_by=personas.charlie,
    )
    intruder, _theirs = join(other)
    page = intruder.get(f"/w/p/{victim.pk}/")
    assert page.status_code == 404
    response = intruder.post(
        f"/w/p/{victim.pk}/vote/",
        {"capability": workshop.items.first().capability_id, "round": 1, "value": "5"},
    )
    assert response.status_code == 404
    assert not Vote.objects.filter(participant=victim).exists()


def test_a_facilitator_of_another_organisation_gets_404_everywhere(
    personas: Personas, workshop: Workshop
) -> None:
    services.item_open_next(workshop=workshop)
    charlie = Client()
    charlie.force_login(personas.charlie)
    base = f"/assessments/{workshop.assessment_id}/workshops/{workshop.pk}/"
    before = _counts(workshop)
    assert charlie.get(base).status_code == 404
    assert charlie.get(base + "screen/").status_code == 404
    assert charlie.post(base + "action/", {"action": "reveal"}).status_code == 404
    assert charlie.post(base + "agree/", {"capability": "x", "level": 3}).status_code == 404
    assert _counts(workshop) == before
    # Their own assessment id with our workshop id is no way in either.
    crossed = f"/assessments/{personas.assessment_b.pk}/workshops/{workshop.pk}/"
    assert charlie.get(crossed).status_code == 404


def test_a_read_only_member_cannot_run_the_workshop(personas: Personas, workshop: Workshop) -> None:
    bob = Client()
    bob.force_login(personas.bob)
    base = f"/assessments/{workshop.assessment_id}/workshops/{workshop.pk}/"
    assert bob.get(base).status_code == 403
    assert bob.post(base + "action/", {"action": "next"}).status_code == 403
    workshop.refresh_from_db()
    assert workshop.current_item is None


def test_agreeing_before_the_reveal_or_on_a_closed_assessment_is_refused(
    workshop: Workshop, fiona_client: Client
) -> None:
    services.item_open_next(workshop=workshop)
    workshop.refresh_from_db()
    item = workshop.current_item
    url = f"/assessments/{workshop.assessment_id}/workshops/{workshop.pk}/agree/"
    page = fiona_client.post(url, {"capability": item.capability_id, "level": 3}, follow=True)
    assert "Reveal the votes before recording" in page.content.decode()
    services.item_reveal(workshop=workshop)
    workshop.assessment.close()
    page = fiona_client.post(url, {"capability": item.capability_id, "level": 3}, follow=True)
    assert "The assessment is closed" in page.content.decode()
    item.refresh_from_db()
    assert item.agreed_level is None


def test_a_closed_assessment_cannot_start_a_workshop(
    personas: Personas, fiona_client: Client
) -> None:
    personas.assessment_a.close()
    response = fiona_client.post(
        f"/assessments/{personas.assessment_a.pk}/workshops/",
        {"title": "x", "minutes_per_capability": 5},
    )
    assert response.status_code == 400
    assert not Workshop.objects.filter(assessment=personas.assessment_a).exists()


def test_polls_answer_204_until_something_changes_and_286_when_over(
    workshop: Workshop, fiona_client: Client
) -> None:
    client, participant = join(workshop)
    workshop.refresh_from_db()
    poll = f"/w/p/{participant.pk}/?v={workshop.phase}&w={workshop.pk}"
    assert client.get(poll, HTTP_HX_REQUEST="true").status_code == 204
    console = f"/assessments/{workshop.assessment_id}/workshops/{workshop.pk}/?v={workshop.version}"
    assert fiona_client.get(console, HTTP_HX_REQUEST="true").status_code == 204
    services.item_open_next(workshop=workshop)
    changed = client.get(poll, HTTP_HX_REQUEST="true")
    assert changed.status_code == 200 and "level-button" in changed.content.decode()
    services.workshop_finish(workshop=workshop)
    workshop.refresh_from_db()
    ended = f"/assessments/{workshop.assessment_id}/workshops/{workshop.pk}/?v={workshop.version}"
    assert fiona_client.get(ended, HTTP_HX_REQUEST="true").status_code == 286
