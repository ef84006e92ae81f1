"""The optional survey section: respondents list or confirm the processes they run."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from assessments.processes.models import Process, ProcessReport
from tests.factories import invite
from tests.processes.conftest import make_process

pytestmark = pytest.mark.django_db


def _respondent_client(assessment: Any) -> tuple[Any, Client]:
    respondent, token = invite(assessment, role="operations", name="Robin Secret")
    client = Client()
    client.get(reverse("survey:redeem", args=[token]))
    return respondent, client


def test_section_appears_only_when_the_leader_asks(personas: Any, owner_client: Client) -> None:
    assessment = personas.assessment_a
    respondent, client = _respondent_client(assessment)
    url = reverse("processes:respondent", args=[respondent.pk])
    assert client.get(url).status_code == 404
    assert (
        "the processes you run"
        not in client.get(reverse("survey:home", args=[respondent.pk])).content.decode()
    )
    toggled = owner_client.post(reverse("processes:ask_toggle", args=[assessment.pk]), {"ask": "1"})
    assert toggled.status_code == 302
    assert (
        "Optional: the processes you run"
        in client.get(reverse("survey:home", args=[respondent.pk])).content.decode()
    )
    assert client.get(url).status_code == 200
    member = Client()
    member.force_login(personas.bob)
    assert (
        member.post(reverse("processes:ask_toggle", args=[assessment.pk]), {"ask": "0"}).status_code
        == 403
    )


def test_confirm_and_add_processes_then_leaders_see_counts_not_names(
    personas: Any, owner_client: Client
) -> None:
    assessment = personas.assessment_a
    assessment.ask_processes = True
    assessment.save()
    listed = make_process(personas.org_a, "Invoice approval")
    other_org = make_process(personas.org_b, "Payroll")
    respondent, client = _respondent_client(assessment)
    url = reverse("processes:respondent", args=[respondent.pk])
    page = client.get(url).content.decode()
    assert "Invoice approval" in page and "Payroll" not in page
    saved = client.post(
        url,
        {
            f"run-{listed.pk}": "on",
            f"runs-{listed.pk}": "10",
            f"minutes-{listed.pk}": "15",
            f"run-{other_org.pk}": "on",  # another organisation's process: ignored
            "new-0-name": "Customer refunds",
            "new-0-runs": "25",
            "new-0-minutes": "12",
            "new-0-note": "Mostly by e-mail",
        },
    )
    assert saved.status_code == 302
    assert ProcessReport.objects.filter(respondent=respondent).count() == 2
    assert not ProcessReport.objects.filter(process=other_org).exists()
    # A second respondent names the same new process: counted together, medians shown.
    second, client2 = _respondent_client(assessment)
    client2.post(
        reverse("processes:respondent", args=[second.pk]),
        {"new-0-name": "customer refunds", "new-0-runs": "35"},
    )
    catalogue = owner_client.get(
        reverse("processes:catalogue", args=[personas.org_a.pk])
    ).content.decode()
    assert "What respondents said" in catalogue
    assert "Invoice approval by 1 respondent" in catalogue
    assert "Customer refunds" in catalogue and ">30<" in catalogue  # median of 25 and 35
    assert "Robin Secret" not in catalogue
    added = owner_client.post(
        reverse("processes:suggestion_add", args=[personas.org_a.pk]), {"name": "Customer refunds"}
    )
    process = Process.objects.get(organisation=personas.org_a, name="Customer refunds")
    assert (
        added.status_code == 302 and process.origin == "respondent" and process.runs_per_week == 30
    )
    before = Process.objects.filter(organisation=personas.org_a).count()
    refused = owner_client.post(
        reverse("processes:suggestion_add", args=[personas.org_a.pk]), {"name": "Nope"}, follow=True
    )
    assert "No process of that name is waiting" in refused.content.decode()
    assert Process.objects.filter(organisation=personas.org_a).count() == before


def test_bad_numbers_save_nothing_and_keep_what_was_typed(personas: Any) -> None:
    assessment = personas.assessment_a
    assessment.ask_processes = True
    assessment.save()
    respondent, client = _respondent_client(assessment)
    url = reverse("processes:respondent", args=[respondent.pk])
    response = client.post(url, {"new-0-name": "Access reviews", "new-0-runs": "lots"})
    assert response.status_code == 400
    page = response.content.decode()
    assert (
        "nothing was saved yet" in page
        and 'value="Access reviews"' in page
        and 'value="lots"' in page
    )
    assert not ProcessReport.objects.exists()


def test_outsiders_cannot_reach_a_respondents_section(personas: Any) -> None:
    assessment = personas.assessment_a
    assessment.ask_processes = True
    assessment.save()
    respondent, _client = _respondent_client(assessment)
    stranger = Client()
    assert stranger.get(reverse("processes:respondent", args=[respondent.pk])).status_code == 404
