from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from assessments.workshops import services
from assessments.workshops.models import Participant, Workshop
from tests.factories import Personas


@pytest.fixture
def workshop(personas: Personas) -> Workshop:
    """A workshop on org A's assessment, started by fiona (facilitator)."""
    return services.workshop_create(
        assessment=personas.assessment_a,
        title="Board room",
        minutes_per_capability=5,
        created_by=personas.fiona,
    )


@pytest.fixture
def fiona_client(personas: Personas) -> Client:
    client = Client()
    client.force_login(personas.fiona)
    return client


def join(
    workshop: Workshop, role: str = "engineering", name: str = ""
) -> tuple[Client, Participant]:
    """A phone: a fresh client that joins through the code page."""
    client = Client()
    response = client.post(f"/w/{workshop.code}/", {"role": role, "display_name": name})
    assert response.status_code == 302, response.content[:500]
    participant = Participant.objects.get(pk=response["Location"].split("/")[-2])
    return client, participant


def vote(client: Client, participant: Participant, value: str, **extra: Any) -> Any:
    workshop = Workshop.objects.select_related("current_item").get(pk=participant.workshop_id)
    item = workshop.current_item
    data = {
        "capability": item.capability_id if item else "",
        "round": item.round if item else 1,
        "value": value,
    }
    data.update(extra)
    return client.post(f"/w/p/{participant.pk}/vote/", data)
