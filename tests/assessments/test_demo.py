from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client

from assessments.demo import DEMO_ASSESSMENT_ID, DEMO_PASSWORD, DEMO_USERNAME
from assessments.models import Answer, Assessment, Respondent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _debug(settings: Any) -> None:
    settings.DEBUG = True  # as `make run` has it; see the DEBUG=0 test below


def _answers() -> list[tuple[str, str, str, int | None, float | None]]:
    return list(
        Answer.objects.filter(respondent__assessment_id=DEMO_ASSESSMENT_ID)
        .order_by("respondent__name", "question_id")
        .values_list("respondent__name", "question_id", "choice", "level", "number")
    )


def test_seed_demo_loads_a_completed_assessment_and_prints_the_login() -> None:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    text = out.getvalue()
    assert f"Demo login: {DEMO_USERNAME} / {DEMO_PASSWORD}" in text
    assert f"Demo assessment id: {DEMO_ASSESSMENT_ID}" in text
    assessment = Assessment.objects.get(pk=DEMO_ASSESSMENT_ID)
    respondents = Respondent.objects.filter(assessment=assessment)
    assert respondents.count() == 12
    assert set(respondents.values_list("status", flat=True)) == {"submitted"}
    assert set(respondents.values_list("role", flat=True)) == {
        "leadership",
        "engineering",
        "operations",
        "product",
    }
    levels = Answer.objects.filter(respondent__assessment=assessment, choice="level")
    assert levels.count() > 12 * 15
    assert Answer.objects.filter(respondent__assessment=assessment, choice="number").exists()
    assert Answer.objects.filter(respondent__assessment=assessment, choice="dont_know").exists()
    client = Client()
    assert client.login(username=DEMO_USERNAME, password=DEMO_PASSWORD)
    page = client.get(f"/assessments/{DEMO_ASSESSMENT_ID}/")
    assert page.status_code == 200
    assert b"Maren Halvorsen" in page.content


def test_seed_demo_is_idempotent_and_reproducible() -> None:
    call_command("seed_demo", stdout=StringIO())
    first = _answers()
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "Found existing demo data" in out.getvalue()
    assert _answers() == first
    assert Respondent.objects.filter(assessment_id=DEMO_ASSESSMENT_ID).count() == 12
    call_command("seed_demo", "--reset", stdout=StringIO())
    assert _answers() == first


def test_seed_demo_refuses_to_run_without_debug_unless_asked(settings: Any) -> None:
    settings.DEBUG = False
    with pytest.raises(CommandError, match="runs only with DEBUG=1"):
        call_command("seed_demo", stdout=StringIO())
    assert not Assessment.objects.filter(pk=DEMO_ASSESSMENT_ID).exists()
    call_command("seed_demo", "--allow-without-debug", stdout=StringIO())
    assert Assessment.objects.filter(pk=DEMO_ASSESSMENT_ID).exists()


def test_seed_demo_never_takes_over_a_real_account_named_demo() -> None:
    real = get_user_model().objects.create_user(
        DEMO_USERNAME, "ceo@real-company.example", "her own password"
    )
    with pytest.raises(CommandError, match="already exists and is not opready's demo user"):
        call_command("seed_demo", stdout=StringIO())
    real.refresh_from_db()
    assert real.check_password("her own password")
    assert not real.check_password(DEMO_PASSWORD)
