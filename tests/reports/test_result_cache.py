"""Finding the cached result without reading the inputs: every change to what the result is
computed from gives the assessment a new inputs token (and a new result); no change means one
lookup and no scoring, however many answers there are."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from assessments import services
from assessments.models import Assessment, InputsVersion, Respondent, Team
from assessments.processes.models import Process, ProcessStep
from assessments.scans.models import ScanFinding, ScanRun, ScanSource
from assessments.workshops import services as workshops
from assessments.workshops.models import Dissent
from reports import services as report_services
from reports.models import ResultSnapshot
from reports.services import result_compute, settings_update
from tests.factories import Personas, invite, make_personas

pytestmark = pytest.mark.django_db


def _submitted(assessment: Assessment, role: str = "engineering", value: str = "3") -> Respondent:
    respondent, _token = invite(assessment, role=role, name=f"{role} {value}")
    for question in services.questions_for(respondent)[:8]:
        services.answer_save(
            respondent=respondent, question_id=question.id, value=value, comment="", seq=1
        )
    services.respondent_submit(respondent=respondent)
    return respondent


@pytest.fixture
def world() -> Personas:
    p = make_personas()
    _submitted(p.assessment_a, "engineering", "2")
    _submitted(p.assessment_a, "leadership", "4")
    return p


def _token(assessment: Assessment) -> str:
    return InputsVersion.objects.get(assessment=assessment).token


def _scored(assessment: Assessment, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = report_services.score_assessment

    def counting(**kw: Any) -> Any:
        calls.append(1)
        return real(**kw)

    monkeypatch.setattr(report_services, "score_assessment", counting)
    return calls


def test_unchanged_inputs_are_found_with_one_query_and_not_scored_again(
    world: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = result_compute(assessment=world.assessment_a)
    calls = _scored(world.assessment_a, monkeypatch)
    assessment = Assessment.objects.get(pk=world.assessment_a.pk)
    with CaptureQueriesContext(connection) as queries:
        again = result_compute(assessment=assessment)
    assert len(queries) == 1
    assert not calls and not again.fresh
    assert again.data == first.data


def test_the_lookup_does_not_grow_with_the_number_of_respondents(world: Personas) -> None:
    result_compute(assessment=world.assessment_a)
    with CaptureQueriesContext(connection) as few:
        result_compute(assessment=world.assessment_a)
    for i in range(5):
        _submitted(world.assessment_a, "operations", str(1 + i % 5))
    result_compute(assessment=world.assessment_a)
    with CaptureQueriesContext(connection) as more:
        result_compute(assessment=world.assessment_a)
    assert len(more) == len(few) == 1


def _changes(p: Personas) -> dict[str, tuple[Callable[[], Any], Callable[[], Any]]]:
    """Each input change as (set-up, change): the result before is read after the set-up."""
    a = p.assessment_a

    def nothing() -> None:
        pass

    def submit() -> None:
        _submitted(a, "operations", "5")

    def exclude(excluded: bool = True) -> None:
        services.respondent_exclude(respondent=a.respondents.first(), excluded=excluded)

    def remove_respondent() -> None:
        a.respondents.filter(role="leadership").delete()

    def scan() -> None:
        source = ScanSource.objects.create(assessment=a, kind="repo_path", label="app")
        run = ScanRun.objects.create(source=source, assessment=a, status="succeeded")
        ScanFinding.objects.bulk_create(
            [
                ScanFinding(
                    run=run,
                    detector="repo.codeowners",
                    capability="rev.policy-ownership",
                    status="found",
                    strength=3,
                    title="CODEOWNERS",
                )
            ]
        )
        source.current_run = run
        source.save(update_fields=["current_run"])

    def workshop_agreed() -> None:
        w = workshops.workshop_create(
            assessment=a, title="Room", minutes_per_capability=5, created_by=None
        )
        item = w.items.first()
        item.state, item.agreed_level, item.agreed_at = "agreed", 5, timezone.now()
        item.save()

    def dissent() -> None:
        item = a.workshops.get().items.get(state="agreed")
        Dissent.objects.create(item=item, role="engineering", who="", reason="too high")

    def process() -> None:
        Process.objects.create(organisation=p.org_a, name="Invoice approval", runs_per_week=50)

    def process_step() -> None:
        ProcessStep.objects.create(
            process=Process.objects.get(name="Invoice approval"), position=1, name="Check"
        )

    def data_team_process() -> None:
        data = Team.objects.create(organisation=p.org_a, name="Data")
        Process.objects.create(organisation=p.org_a, team=data, name="Report run")

    def teams() -> None:
        a.teams.add(p.team_a)  # the catalogue now leaves out the Data team's process

    def settings() -> None:
        dimension = a.rubric.dimensions[0]
        target = 5 if dimension.target_level != 5 else 4
        settings_update(assessment=a, targets={dimension.id: target}, weights={})

    return {
        "a submission": (nothing, submit),
        "an exclusion": (nothing, exclude),
        "an exclusion undone": (exclude, lambda: exclude(False)),
        "a respondent removed": (nothing, remove_respondent),
        "a scan": (nothing, scan),
        "a workshop agreement": (nothing, workshop_agreed),
        "a dissent note": (workshop_agreed, dissent),
        "a process catalogued": (nothing, process),
        "a process step": (process, process_step),
        "the assessment's teams": (data_team_process, teams),
        "targets": (nothing, settings),
    }


@pytest.mark.parametrize(
    "change",
    [
        "a submission",
        "an exclusion",
        "an exclusion undone",
        "a respondent removed",
        "a scan",
        "a workshop agreement",
        "a dissent note",
        "a process catalogued",
        "a process step",
        "the assessment's teams",
        "targets",
    ],
)
def test_each_input_change_gives_a_new_result(
    world: Personas, change: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_up, make_change = _changes(world)[change]
    set_up()
    before = result_compute(assessment=Assessment.objects.get(pk=world.assessment_a.pk))
    token = _token(world.assessment_a)
    make_change()
    assessment = Assessment.objects.get(pk=world.assessment_a.pk)
    after = result_compute(assessment=assessment)
    if change != "targets":  # targets and weights are in the key itself, not the token
        assert _token(assessment) != token
    if change == "a process step":  # read, but the coverage evidence does not change
        assert after.inputs_hash == before.inputs_hash and not after.fresh
    else:
        assert after.inputs_hash != before.inputs_hash
        assert after.fresh and after.data != before.data
    calls = _scored(assessment, monkeypatch)
    assert not result_compute(assessment=assessment).fresh and not calls


def test_an_invitation_and_answers_before_submitting_change_nothing(world: Personas) -> None:
    result_compute(assessment=world.assessment_a)
    token = _token(world.assessment_a)
    respondent, _t = invite(world.assessment_a, role="operations", name="Half way")
    question = services.questions_for(respondent)[0]
    services.answer_save(
        respondent=respondent, question_id=question.id, value="5", comment="", seq=1
    )
    assert _token(world.assessment_a) == token


def test_a_result_kept_from_before_the_token_is_found_by_its_inputs(
    world: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = result_compute(assessment=world.assessment_a)
    ResultSnapshot.objects.update(inputs_token="", settings_key="")  # as migrated
    calls = _scored(world.assessment_a, monkeypatch)
    again = result_compute(assessment=world.assessment_a)
    assert again.data == first.data and not calls
    with CaptureQueriesContext(connection) as queries:
        result_compute(assessment=world.assessment_a)
    assert len(queries) == 1


def test_the_results_page_draws_its_charts_once_per_result(
    world: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = Client()
    client.force_login(world.alice)
    url = reverse("reports:results", args=[world.assessment_a.pk])
    first = client.get(url)
    assert first.status_code == 200
    built: list[int] = []
    real = report_services.charts.radar
    monkeypatch.setattr(report_services.charts, "radar", lambda r: built.append(1) or real(r))
    again = client.get(url)
    assert again.status_code == 200 and not built
    assert again.context["charts"]["radar"] == first.context["charts"]["radar"]
    _submitted(world.assessment_a, "operations", "5")
    assert client.get(url).status_code == 200 and built == [1]
