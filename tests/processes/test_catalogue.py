"""The catalogue in the app: CRUD, steps inline (htmx and plain posts), tenancy, import and
export as CSV and XLSX."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from assessments.processes.models import Process
from tests.processes.conftest import make_process

pytestmark = pytest.mark.django_db

FIELDS = {
    "name": "Access requests",
    "owner": "IT lead",
    "trigger": "A ticket",
    "outcome": "Access granted",
    "runs_per_week": "30",
    "minutes_per_run": "15",
    "error_rate": "4",
    "verification": "checklist",
    "reversibility": "reversible",
    "blast_radius": "1",
    "doc_url": "https://wiki.example.com/access",
    "recording": "none",
}


def _url(name: str, **kwargs: Any) -> str:
    return reverse(f"processes:{name}", kwargs=kwargs)


def test_owner_adds_a_process_and_sees_it_ranked(personas: Any, owner_client: Client) -> None:
    org = personas.org_a
    response = owner_client.post(_url("create", org_id=org.pk), FIELDS)
    process = Process.objects.get(organisation=org, name="Access requests")
    assert response.status_code == 302
    assert response["Location"] == _url("detail", org_id=org.pk, process_id=process.pk)
    assert process.created_by == personas.alice and process.error_rate == 4
    page = owner_client.get(_url("catalogue", org_id=org.pk)).content.decode()
    assert "Access requests" in page and "Processes, best pilot first" in page


def test_bad_input_changes_nothing_and_says_why(personas: Any, owner_client: Client) -> None:
    org = personas.org_a
    make_process(org, "Access requests")
    for bad, message in (
        ({"name": "access requests"}, "already has a process of that name"),
        ({"error_rate": "140"}, "less than or equal to 100"),
        ({"runs_per_week": "-3"}, "greater than or equal to 0"),
        ({"doc_url": "javascript:alert(1)"}, "Enter a valid URL"),
        ({"blast_radius": "9"}, "Select a valid choice"),
        ({"team": str(personas.team_b.pk)}, "Select a valid choice"),  # another org's team
    ):
        response = owner_client.post(_url("create", org_id=org.pk), {**FIELDS, **bad})
        assert response.status_code == 400, bad
        assert message in response.content.decode(), bad
    assert Process.objects.filter(organisation=org).count() == 1


def test_editing_a_measured_field_makes_it_a_claim(personas: Any, owner_client: Client) -> None:
    process = make_process(
        personas.org_a,
        runs_per_week=12,
        error_rate=5,
        measured={"runs_per_week": {"source": "log"}, "error_rate": {"source": "log"}},
    )
    url = _url("detail", org_id=personas.org_a.pk, process_id=process.pk)
    response = owner_client.post(
        url, {**FIELDS, "name": process.name, "runs_per_week": "20", "error_rate": ""}
    )
    assert response.status_code == 302
    process.refresh_from_db()
    assert process.runs_per_week == 20
    assert set(process.measured) == set()  # both changed by hand (error_rate cleared too)


def test_steps_are_added_reordered_and_removed_with_htmx(
    personas: Any, owner_client: Client
) -> None:
    org = personas.org_a
    process = make_process(org)
    hx = {"HTTP_HX_REQUEST": "true"}
    add = owner_client.post(
        _url("step_add", org_id=org.pk, process_id=process.pk),
        {"name": "File the invoice", "system": "SharePoint", "api": "yes"},
        **hx,
    )
    assert add.status_code == 200
    body = add.content.decode()
    assert body.lstrip().startswith('<div id="steps-block">') and "<html" not in body
    assert "File the invoice" in body
    # The suitability card comes along out of band: steps change what its factors say.
    assert 'id="suitability" aria-labelledby="suit-title" hx-swap-oob="true"' in body
    assert "3 steps known" in body

    def names() -> list[str]:
        return list(process.steps.values_list("name", flat=True))

    assert names() == ["Receive invoice", "Approve", "File the invoice"]
    last = process.steps.get(name="File the invoice")
    owner_client.post(
        _url("step_move", org_id=org.pk, process_id=process.pk, step_id=last.pk),
        {"direction": "up"},
        **hx,
    )
    assert names() == ["Receive invoice", "File the invoice", "Approve"]
    first = process.steps.get(name="Receive invoice")
    owner_client.post(
        _url("step_move", org_id=org.pk, process_id=process.pk, step_id=first.pk),
        {"direction": "up"},
        **hx,
    )
    assert names() == ["Receive invoice", "File the invoice", "Approve"]  # already first
    assert list(process.steps.values_list("position", flat=True)) == [1, 2, 3]
    owner_client.post(
        _url("step_update", org_id=org.pk, process_id=process.pk, step_id=last.pk),
        {
            f"step-{last.pk}-name": "File it",
            f"step-{last.pk}-system": "SharePoint",
            f"step-{last.pk}-api": "no",
            f"step-{last.pk}-decides": "on",
        },
        **hx,
    )
    last.refresh_from_db()
    assert (last.name, last.api, last.decides) == ("File it", "no", True)
    owner_client.post(
        _url("step_delete", org_id=org.pk, process_id=process.pk, step_id=first.pk), **hx
    )
    assert names() == ["File it", "Approve"]
    assert list(process.steps.values_list("position", flat=True)) == [1, 2]


def test_steps_work_without_javascript(personas: Any, owner_client: Client) -> None:
    org = personas.org_a
    process = make_process(org, steps=[])
    response = owner_client.post(
        _url("step_add", org_id=org.pk, process_id=process.pk),
        {"name": "Only step", "api": "unknown"},
    )
    assert response.status_code == 302 and response["Location"].endswith("#steps")
    assert process.steps.get().name == "Only step"
    refused = owner_client.post(
        _url("step_add", org_id=org.pk, process_id=process.pk), {"name": "  ", "api": "yes"}
    )
    assert refused.status_code == 400 and "Give the step a name" in refused.content.decode()
    bad_move = owner_client.post(
        _url("step_move", org_id=org.pk, process_id=process.pk, step_id=process.steps.get().pk),
        {"direction": "sideways"},
    )
    assert bad_move.status_code == 400
    assert process.steps.count() == 1


def test_member_reads_but_cannot_change(personas: Any) -> None:
    org = personas.org_a
    process = make_process(org)
    client = Client()
    client.force_login(personas.bob)
    assert client.get(_url("catalogue", org_id=org.pk)).status_code == 200
    page = client.get(_url("detail", org_id=org.pk, process_id=process.pk))
    assert page.status_code == 200 and "Edit the process" not in page.content.decode()
    assert client.post(_url("create", org_id=org.pk), FIELDS).status_code == 403
    assert client.post(_url("delete", org_id=org.pk, process_id=process.pk)).status_code == 403
    assert (
        client.post(
            _url("step_add", org_id=org.pk, process_id=process.pk), {"name": "x", "api": "yes"}
        ).status_code
        == 403
    )
    assert Process.objects.filter(pk=process.pk).exists() and process.steps.count() == 2


def test_another_organisations_processes_are_404(personas: Any, owner_client: Client) -> None:
    theirs = make_process(personas.org_b, "Payroll")
    step = theirs.steps.first()
    assert step is not None
    mine = personas.org_a
    for url in (
        _url("catalogue", org_id=personas.org_b.pk),
        _url("detail", org_id=personas.org_b.pk, process_id=theirs.pk),
        _url("detail", org_id=mine.pk, process_id=theirs.pk),  # own org, their process
        _url("export", org_id=personas.org_b.pk, kind="processes.csv"),
    ):
        assert owner_client.get(url).status_code == 404, url
    for url in (
        _url("delete", org_id=mine.pk, process_id=theirs.pk),
        _url("step_add", org_id=mine.pk, process_id=theirs.pk),
        _url("step_delete", org_id=mine.pk, process_id=theirs.pk, step_id=step.pk),
    ):
        assert owner_client.post(url, {"name": "x", "api": "yes"}).status_code == 404, url
    own = make_process(mine, "Mine")
    # Their step under my own process: still not found.
    assert (
        owner_client.post(
            _url("step_delete", org_id=mine.pk, process_id=own.pk, step_id=step.pk)
        ).status_code
        == 404
    )
    assert theirs.steps.count() == 2 and Process.objects.filter(pk=theirs.pk).exists()


def _upload(client: Client, org: Any, data: bytes, name: str) -> Any:
    return client.post(_url("import", org_id=org.pk), {"file": SimpleUploadedFile(name, data)})


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_imports_back_unchanged(personas: Any, owner_client: Client, fmt: str) -> None:
    org = personas.org_a
    make_process(
        org,
        "Invoice approval",
        team=personas.team_a,
        owner="=cmd|' /C calc'!A0",
        runs_per_week=12.5,
        error_rate=3,
        verification="automated",
        doc_url="https://wiki.example.com/i",
    )
    make_process(org, "Access review", steps=[("Export", "Okta", "yes", False)], blast_radius=3)
    exported = owner_client.get(_url("export", org_id=org.pk, kind=f"processes.{fmt}"))
    assert exported.status_code == 200 and "attachment" in exported["Content-Disposition"]
    before = sorted(
        (
            p.name,
            p.owner,
            p.runs_per_week,
            p.blast_radius,
            tuple(p.steps.values_list("name", "system", "api", "decides")),
        )
        for p in Process.objects.filter(organisation=org)
    )
    Process.objects.filter(organisation=org).delete()
    response = _upload(owner_client, org, exported.content, f"catalogue.{fmt}")
    assert response.status_code == 200
    assert "2 added, 0 updated" in response.content.decode()
    after = sorted(
        (
            p.name,
            p.owner,
            p.runs_per_week,
            p.blast_radius,
            tuple(p.steps.values_list("name", "system", "api", "decides")),
        )
        for p in Process.objects.filter(organisation=org)
    )
    assert after == before
    assert Process.objects.get(name="Invoice approval").team == personas.team_a
    # Importing the same file again updates; nothing is doubled.
    again = _upload(owner_client, org, exported.content, f"catalogue.{fmt}")
    assert "0 added, 2 updated" in again.content.decode()
    assert Process.objects.filter(organisation=org).count() == 2


def test_export_escapes_formulas(personas: Any, owner_client: Client) -> None:
    make_process(personas.org_a, "=SUM(A1)")
    csv_text = owner_client.get(
        _url("export", org_id=personas.org_a.pk, kind="processes.csv")
    ).content.decode("utf-8-sig")
    assert "'=SUM(A1)" in csv_text
    book = load_workbook(
        io.BytesIO(
            owner_client.get(
                _url("export", org_id=personas.org_a.pk, kind="processes.xlsx")
            ).content
        )
    )
    assert book["Processes"]["A2"].value == "'=SUM(A1)"


def test_bad_rows_are_listed_and_import_nothing(personas: Any, owner_client: Client) -> None:
    data = (
        b"name,runs_per_week,verification,team\n"
        b"Good one,5,checklist,Platform\n"
        b"Bad one,many,checklist,\n"
        b"Other bad,1,sometimes,Payments\n"
    )
    response = _upload(owner_client, personas.org_a, data, "c.csv")
    page = response.content.decode()
    assert response.status_code == 200
    assert "1 added, 0 updated, 3 problems" in page
    assert "Row 3, column runs_per_week: &#x27;many&#x27; is not a number of runs a week" in page
    assert "Row 4, column team: no team named &#x27;Payments&#x27;" in page  # org B's team
    assert list(
        Process.objects.filter(organisation=personas.org_a).values_list("name", flat=True)
    ) == ["Good one"]


def test_unreadable_files_are_refused_whole(personas: Any, owner_client: Client) -> None:
    for data, name, message in (
        (b"PK\x03\x04garbage", "c.xlsx", "not a readable XLSX"),
        (b"owner,team\nx,y\n", "c.csv", "no &#x27;name&#x27; column"),
        (b"\x00\x01\x02", "c.csv", "not a CSV file"),
        (b"", "c.csv", "The submitted file is empty"),
    ):
        response = _upload(owner_client, personas.org_a, data, name)
        assert response.status_code == 400, name
        assert message in response.content.decode(), name
    assert not Process.objects.filter(organisation=personas.org_a).exists()


def test_templates_download_and_import(personas: Any, owner_client: Client) -> None:
    for fmt in ("csv", "xlsx"):
        template = owner_client.get(
            _url("export", org_id=personas.org_a.pk, kind=f"template.{fmt}")
        )
        assert template.status_code == 200
        response = _upload(owner_client, personas.org_a, template.content, f"t.{fmt}")
        assert "Monthly access review" in Process.objects.filter(
            organisation=personas.org_a
        ).values_list("name", flat=True)
        assert response.status_code == 200
    book = load_workbook(
        io.BytesIO(
            owner_client.get(_url("export", org_id=personas.org_a.pk, kind="template.xlsx")).content
        )
    )
    assert "How to fill it in" in book.sheetnames
    assert (
        owner_client.get(_url("export", org_id=personas.org_a.pk, kind="other.txt")).status_code
        == 404
    )
