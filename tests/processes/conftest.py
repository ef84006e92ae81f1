from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from assessments.processes.models import Process, ProcessStep


@pytest.fixture
def owner_client(personas: Any) -> Client:
    client = Client()
    client.force_login(personas.alice)
    return client


def make_process(org: Any, name: str = "Invoice approval", **kwargs: Any) -> Process:
    steps = kwargs.pop(
        "steps", [("Receive invoice", "Email", "no", False), ("Approve", "SAP", "yes", True)]
    )
    process = Process.objects.create(organisation=org, name=name, **kwargs)
    for position, (step, system, api, decides) in enumerate(steps, start=1):
        ProcessStep.objects.create(
            process=process, position=position, name=step, system=system, api=api, decides=decides
        )
    return process
