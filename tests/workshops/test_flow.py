"""A workshop through its views: join by code, blind vote, reveal, re-vote, agree, dissent,
pause and resume, and the result that scoring makes of it."""

from __future__ import annotations

import pytest
from django.test import Client

from assessments.workshops import services
from assessments.workshops.models import Vote, Workshop, WorkshopItem
from reports.services import result_compute
from tests.factories import Personas
from tests.workshops.conftest import join, vote

pytestmark = pytest.mark.django_db


def _action(client: Client, workshop: Workshop, action: str, **data: str) -> None:
    response = client.post(
        f"/assessments/{workshop.assessment_id}/workshops/{workshop.pk}/action/",
        {"action": action, **data},
    )
    assert response.status_code == 302


def test_a_room_votes_blind_reveals_and_agrees_a_level_that_scoring_uses(
    personas: Personas, workshop: Workshop, fiona_client: Client
) -> None:
    phones = [join(workshop, role) for role in ["engineering"] * 4 + ["leadership"] * 2]
    console = f"/assessments/{workshop.assessment_id}/workshops/{workshop.pk}/"
    screen = console + "screen/"
    assert fiona_client.get(console).status_code == 200
    _action(fiona_client, workshop, "next")
    workshop.refresh_from_db()
    item = workshop.current_item
    assert item is not None and item.state == "voting"
    for (client, participant), value in zip(phones, ["3", "3", "4", "2", "4", "dk"], strict=True):
        assert vote(client, participant, value).status_code == 302
    # Blind: the screen says how many voted, not what.
    page = fiona_client.get(screen).content.decode()
    assert "6</strong><span> / 6" in page
    assert "bar-row" not in page
    _action(fiona_client, workshop, "reveal")
    page = fiona_client.get(screen).content.decode()
    assert "bar-row" in page
    # Two leaders are fewer than three: they are not shown apart from the engineers.
    assert "other roles" not in page
    assert "2 votes from leadership are counted in the total" in page

    response = fiona_client.post(
        console + "agree/",
        {"capability": item.capability_id, "level": "3", "rationale": "CI runs on every PR."},
    )
    assert response.status_code == 302
    fiona_client.post(
        console + "dissent/",
        {"capability": item.capability_id, "role": "leadership", "who": "", "reason": "Too low"},
    )
    result = result_compute(assessment=workshop.assessment).data
    capability = next(c for c in result["capabilities"] if c["id"] == item.capability_id)
    assert capability["source"] == "workshop"
    assert capability["level"] == 3
    assert capability["workshop"]["rationale"] == "CI runs on every PR."
    assert capability["workshop"]["dissent"][0]["reason"] == "Too low"
    assert capability["workshop"]["distribution"]["counts"]["3"] == 2
    others = [c for c in result["capabilities"] if c["id"] != item.capability_id]
    assert all(c["source"] is None for c in others)


def test_a_second_vote_replaces_the_first(workshop: Workshop) -> None:
    services.item_open_next(workshop=workshop)
    client, participant = join(workshop)
    vote(client, participant, "2")
    vote(client, participant, "5")
    vote(client, participant, "5")
    votes = Vote.objects.filter(participant=participant)
    assert [(v.level, v.round) for v in votes] == [(5, 1)]


def test_a_vote_after_the_reveal_is_refused_and_changes_nothing(workshop: Workshop) -> None:
    services.item_open_next(workshop=workshop)
    client, participant = join(workshop)
    vote(client, participant, "2")
    services.item_reveal(workshop=workshop)
    response = vote(client, participant, "4")
    assert response.status_code == 409
    assert "voting has closed" in response.content.decode()
    assert Vote.objects.get(participant=participant).level == 2


def test_pause_and_resume_keep_everyone_where_they_were(workshop: Workshop) -> None:
    services.item_open_next(workshop=workshop)
    client, participant = join(workshop)
    vote(client, participant, "3")
    services.workshop_pause(workshop=workshop)
    response = vote(client, participant, "4")
    assert response.status_code == 409
    assert "paused" in response.content.decode()
    page = client.get(f"/w/p/{participant.pk}/").content.decode()
    assert "Paused" in page
    services.workshop_resume(workshop=workshop)
    page = client.get(f"/w/p/{participant.pk}/").content.decode()
    assert "Your vote is in: level 3" in page
    workshop.refresh_from_db()
    item = WorkshopItem.objects.get(pk=workshop.current_item_id)
    assert item.state == "voting"


def test_results_report_and_exports_say_where_each_level_comes_from(
    personas: Personas, workshop: Workshop, fiona_client: Client
) -> None:
    from assessments import services as survey
    from tests.factories import invite

    # Three finished survey respondents, so a capability has a survey median to compare.
    capability = workshop.items.first()
    assert capability is not None
    questions = personas.assessment_a.rubric.capability(capability.capability_id).questions
    for _n in range(3):
        respondent, _token = invite(personas.assessment_a, role="engineering")
        for q in questions:
            if "engineering" in q.audience:
                survey.answer_save(
                    respondent=respondent, question_id=q.id, value="2", comment="", seq=1
                )
        survey.respondent_submit(respondent=respondent)
    phones = [join(workshop, "engineering") for _ in range(3)]
    services.item_open_next(workshop=workshop)
    for client, participant in phones:
        vote(client, participant, "4")
    services.item_reveal(workshop=workshop)
    services.item_agree(
        workshop=workshop,
        capability_id=capability.capability_id,
        level=4,
        rationale="Shown <b>live</b>",
    )
    aid = workshop.assessment_id
    results = fiona_client.get(f"/assessments/{aid}/results/").content.decode()
    assert "Agreed in the workshop" in results
    assert "Shown &lt;b&gt;live&lt;/b&gt;" in results
    assert (
        '0.0 <span class="muted small">room</span>' in results
    )  # the room's spread, not the survey's
    report = fiona_client.get(f"/assessments/{aid}/report/").content.decode()
    assert "agreed in the workshop" in report
    assert "Survey median" in report
    assert '2.0 <span class="muted small">(agreed +2.0)</span>' in report
    scores = fiona_client.get(f"/assessments/{aid}/export/scores.csv")
    text = b"".join(scores.streaming_content if scores.streaming else [scores.content]).decode()
    assert "source" in text.splitlines()[0]
    assert f"{capability.capability_id}," in text and ",workshop," in text
    table = fiona_client.get(f"/assessments/{aid}/export/workshop.csv").content.decode()
    assert "agreed_level" in table and ",4," in table
