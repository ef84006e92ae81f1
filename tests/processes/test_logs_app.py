"""Event logs in the app: upload, map columns, analyse as a job, fill in the catalogue."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from assessments.processes import logs
from assessments.processes.models import EventLog, Process
from tests.processes.conftest import make_process

LOG = b"""Case ID;Activity;Start Timestamp;Resource
A;Receive;2024-05-06 09:00;ann
A;Check;2024-05-06 10:00;bob
A;Approve;2024-05-06 12:00;cat
B;Receive;2024-05-07 09:00;ann
B;Check;2024-05-07 09:30;bob
B;Check;2024-05-07 11:30;dan
B;Approve;2024-05-08 09:00;cat
C;Receive;2024-05-08 10:00;ann
C;Receive;not a time;ann
"""


def _url(name: str, **kwargs: Any) -> str:
    return reverse(f"processes:{name}", kwargs=kwargs)


def _upload(client: Client, org: Any, data: bytes = LOG, process: Any = None) -> Any:
    form = {"file": SimpleUploadedFile("invoices.csv", data)}
    if process is not None:
        form["process"] = str(process.pk)
    return client.post(_url("log_upload", org_id=org.pk), form)


def _mapping(**overrides: str) -> dict[str, str]:
    return {
        "case": "Case ID",
        "activity": "Activity",
        "timestamp": "Start Timestamp",
        "resource": "Resource",
        "time_zone": "Europe/Oslo",
        "date_order": "auto",
        **overrides,
    }


@pytest.mark.django_db
def test_upload_suggests_columns_then_the_job_measures_and_fills_in_the_entry(
    personas: Any, owner_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    org = personas.org_a
    process = make_process(org, "Invoice approval", steps=[])
    response = _upload(owner_client, org, process=process)
    log = EventLog.objects.get(organisation=org)
    assert response.status_code == 302 and response["Location"] == _url(
        "log", org_id=org.pk, log_id=log.pk
    )
    page = owner_client.get(response["Location"]).content.decode()
    assert "Which column holds what" in page
    assert '<option value="Case ID" selected>' in page  # suggested from the name
    with django_capture_on_commit_callbacks(execute=False) as queued:
        mapped = owner_client.post(_url("log", org_id=org.pk, log_id=log.pk), _mapping())
    assert mapped.status_code == 302 and len(queued) == 1
    log.refresh_from_db()
    assert log.mapped and log.status == "queued" and log.time_zone == "Europe/Oslo"
    logs.log_execute(log_id=str(log.pk))  # the task body, as the worker runs it
    log.refresh_from_db()
    assert log.status == "succeeded" and log.progress == 100
    assert log.analysis["cases"] == 2
    assert log.analysis["skipped"]["unreadable timestamp"] == 1
    page = owner_client.get(_url("log", org_id=org.pk, log_id=log.pk)).content.decode()
    assert "What was skipped, and why" in page and "Row 10: unreadable timestamp" in page
    assert 'data-figure="flow-figure"' in page
    applied = owner_client.post(_url("log_apply", org_id=org.pk, log_id=log.pk))
    assert applied.status_code == 302
    process.refresh_from_db()
    assert process.recording == "trace" and process.error_rate == 50.0
    assert set(process.measured) == {"runs_per_week", "error_rate", "recording"}
    assert list(process.steps.values_list("name", "measured")) == [
        ("Receive", True),
        ("Check", True),
        ("Approve", True),
    ]
    detail = owner_client.get(_url("detail", org_id=org.pk, process_id=process.pk)).content.decode()
    assert "Measured from event logs" in detail and "measured" in detail


@pytest.mark.django_db
def test_ambiguous_dates_are_refused_on_the_mapping_form(
    personas: Any, owner_client: Client
) -> None:
    data = b"case,activity,time\nA,a,03/04/2024 09:00\nA,b,04/04/2024 09:00\n"
    _upload(owner_client, personas.org_a, data)
    log = EventLog.objects.get()
    refused = owner_client.post(
        _url("log", org_id=personas.org_a.pk, log_id=log.pk),
        {
            "case": "case",
            "activity": "activity",
            "timestamp": "time",
            "time_zone": "UTC",
            "date_order": "auto",
        },
    )
    assert refused.status_code == 400 and "day-first or month-first" in refused.content.decode()
    log.refresh_from_db()
    assert not log.mapped
    same_column = owner_client.post(
        _url("log", org_id=personas.org_a.pk, log_id=log.pk),
        {
            "case": "case",
            "activity": "case",
            "timestamp": "time",
            "time_zone": "UTC",
            "date_order": "dayfirst",
        },
    )
    assert same_column.status_code == 400 and "different column" in same_column.content.decode()


@pytest.mark.django_db
def test_files_that_are_not_logs_are_refused_and_kept_nowhere(
    personas: Any, owner_client: Client
) -> None:
    for data, message in (
        (b"PK\x03\x04zip", "not a CSV or XES event log"),
        (b"\x1f\x8b\x08gzip", "unpacked first"),
        (b"a,b\n1,2\n", "at least three columns"),
        (b"", "The submitted file is empty"),
    ):
        response = _upload(owner_client, personas.org_a, data)
        assert response.status_code == 400 and message in response.content.decode()
    assert not EventLog.objects.exists()


@pytest.mark.django_db
def test_a_log_of_single_event_cases_fails_with_the_reason(
    personas: Any, owner_client: Client
) -> None:
    data = b"case,activity,time\nA,a,2024-05-06T09:00:00\nB,a,2024-05-06T09:00:00\n"
    _upload(owner_client, personas.org_a, data)
    log = EventLog.objects.get()
    owner_client.post(
        _url("log", org_id=personas.org_a.pk, log_id=log.pk),
        {
            "case": "case",
            "activity": "activity",
            "timestamp": "time",
            "time_zone": "UTC",
            "date_order": "auto",
        },
    )
    logs.log_execute(log_id=str(log.pk))
    log.refresh_from_db()
    assert log.status == "failed" and "two or more readable events" in log.error
    assert "2 case with a single event" in log.error
    page = owner_client.get(_url("log", org_id=personas.org_a.pk, log_id=log.pk)).content.decode()
    assert "two or more readable events" in page
    assert (
        owner_client.post(_url("log_apply", org_id=personas.org_a.pk, log_id=log.pk)).status_code
        == 302
    )
    assert not Process.objects.exists()


@pytest.mark.django_db
def test_member_cannot_upload_and_outsider_gets_404(personas: Any) -> None:
    bob = Client()
    bob.force_login(personas.bob)
    assert _upload(bob, personas.org_a).status_code == 403
    charlie = Client()
    charlie.force_login(personas.charlie)
    assert _upload(charlie, personas.org_a).status_code == 404
    assert not EventLog.objects.exists()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_analyses_the_log_and_the_page_polls_to_the_end(
    personas: Any, celery_worker: Any
) -> None:
    client = Client()
    client.force_login(personas.alice)
    _upload(client, personas.org_a)
    log = EventLog.objects.get()
    client.post(_url("log", org_id=personas.org_a.pk, log_id=log.pk), _mapping())
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        log.refresh_from_db()
        if log.done:
            break
        partial = client.get(
            _url("log", org_id=personas.org_a.pk, log_id=log.pk), HTTP_HX_REQUEST="true"
        )
        assert "<html" not in partial.content.decode()
        time.sleep(0.3)
    assert log.status == "succeeded", log.error
    done = client.get(_url("log", org_id=personas.org_a.pk, log_id=log.pk), HTTP_HX_REQUEST="true")
    assert done["HX-Refresh"] == "true"
    assert log.analysis["variants"][0]["activities"] == ["Receive", "Check", "Approve"]


@pytest.mark.django_db
def test_an_xes_log_goes_through_the_same_mapping_and_analysis(
    personas: Any, owner_client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    from tests.processes.test_xes import XES

    org = personas.org_a
    form = {"file": SimpleUploadedFile("invoices.xes", XES.encode())}
    response = owner_client.post(_url("log_upload", org_id=org.pk), form)
    log = EventLog.objects.get(organisation=org)
    assert response.status_code == 302
    assert log.upload.name.endswith(".xes") and log.column_mapping["_format"] == "xes"
    assert log.columns[0] == "case:concept:name"
    page = owner_client.get(_url("log", org_id=org.pk, log_id=log.pk)).content.decode()
    assert '<option value="case:concept:name" selected>' in page
    assert 'data-testid="xes-note"' in page
    mapping = _mapping(
        case="case:concept:name",
        activity="concept:name",
        timestamp="time:timestamp",
        resource="org:resource",
    )
    with django_capture_on_commit_callbacks(execute=False) as queued:
        mapped = owner_client.post(_url("log", org_id=org.pk, log_id=log.pk), mapping)
    assert mapped.status_code == 302 and len(queued) == 1
    logs.log_execute(log_id=str(log.pk))
    log.refresh_from_db()
    assert log.status == "succeeded", log.error
    assert log.column_mapping["_format"] == "xes"
    assert log.analysis["source"] == "xes" and log.analysis["cases"] == 3
    page = owner_client.get(_url("log", org_id=org.pk, log_id=log.pk)).content.decode()
    assert "11 events read" in page and "not a completion" in page


@pytest.mark.django_db
def test_hostile_or_broken_xes_is_refused_and_kept_nowhere(
    personas: Any, owner_client: Client
) -> None:
    from tests.processes.test_xes import BILLION_LAUGHS, EXTERNAL_ENTITY

    for data, message in (
        (BILLION_LAUGHS, "declares a document type"),
        (EXTERNAL_ENTITY, "declares a document type"),
        (b"<log><trace><event>", "not well-formed XML"),
        (b"<html><body>hello</body></html>", "not an XES log"),
    ):
        form = {"file": SimpleUploadedFile("log.xes", data)}
        response = owner_client.post(_url("log_upload", org_id=personas.org_a.pk), form)
        assert response.status_code == 400 and message in response.content.decode(), message
    assert not EventLog.objects.exists()
