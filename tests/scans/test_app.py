"""Scans inside the app: sources added through the pages, run by a real Celery worker (or the
task body in-process), findings kept per run and fed to the results."""

from __future__ import annotations

import io
import json
import tarfile
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from assessments.scans import secrets
from assessments.scans.models import ScanFinding, ScanRun, ScanSource
from assessments.scans.services import run_create, run_execute
from reports.services import result_compute
from tests.factories import Personas
from tests.scans.engine.gitbuild import RepoBuilder, day

CODEOWNERS = "* @acme/platform\n"
WORKFLOW = """name: ci
on: [pull_request]
permissions:
  contents: read
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: pytest
"""


def _repo(tmp_path: Path, *, with_codeowners: bool = True) -> Path:
    repo = RepoBuilder(tmp_path / "repo")
    files: dict[str, str] = {
        "README.md": "# App\n\nRun `make test`.\n",
        ".github/workflows/ci.yml": WORKFLOW,
        "tests/test_app.py": "def test_ok():\n    assert True\n",
    }
    if with_codeowners:
        files["CODEOWNERS"] = CODEOWNERS
    repo.commit("Initial commit", files=files, when=day(300))
    repo.commit(
        "Add feature\n\nCo-authored-by: Claude <noreply@anthropic.com>",
        files={"app.py": "print('hi')\n"},
        when=day(301),
    )
    repo.tag("v1.0.0", when=day(302))
    return repo.path


def _targz(path: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        archive.add(path, arcname="repo")
    return buffer.getvalue()


def _login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _wait(run: ScanRun, timeout: float = 120) -> ScanRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.done:
            return run
        time.sleep(0.3)
    raise AssertionError(f"scan still {run.status} after {timeout}s ({run.stage})")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_an_uploaded_repository_is_scanned_by_a_real_worker(
    personas: Personas, tmp_path: Path, celery_worker: Any
) -> None:
    client = _login(personas.alice)
    assessment = personas.assessment_a
    upload = SimpleUploadedFile("repo.tar.gz", _targz(_repo(tmp_path)))
    response = client.post(
        reverse("scans:add", args=[assessment.pk, "repo_archive"]), {"file": upload}
    )
    run = ScanRun.objects.get(assessment=assessment)
    assert response["Location"] == reverse("scans:run", args=[assessment.pk, run.pk])
    poll = client.get(response["Location"], HTTP_HX_REQUEST="true")
    assert poll.status_code in (200, 286)
    run = _wait(run)
    assert run.status == "succeeded", run.error
    assert client.get(response["Location"], HTTP_HX_REQUEST="true").status_code == 286
    statuses = dict(ScanFinding.objects.filter(run=run).values_list("detector", "status"))
    assert statuses["repo.codeowners"] == "found"
    assert statuses["repo.ci-github-actions"] == "found"
    assert statuses["repo.terraform"] == "absent"
    codeowners = ScanFinding.objects.get(run=run, detector="repo.codeowners")
    assert "CODEOWNERS" in codeowners.pointers()[0]
    page = client.get(reverse("scans:findings", args=[assessment.pk])).content.decode()
    assert "CODEOWNERS" in page and "Review policy and ownership" in page


@pytest.mark.django_db
def test_rescanning_replaces_the_findings(personas: Personas, tmp_path: Path) -> None:
    assessment = personas.assessment_a
    client = _login(personas.alice)
    client.post(
        reverse("scans:add", args=[assessment.pk, "repo_archive"]),
        {"file": SimpleUploadedFile("repo.tar.gz", _targz(_repo(tmp_path / "a")))},
    )
    source = ScanSource.objects.get(assessment=assessment)
    first = source.runs.get()
    run_execute(run_id=str(first.pk))
    source.refresh_from_db()
    assert source.current_run_id == first.pk
    second = run_create(source=source, user=personas.alice)
    run_execute(run_id=str(second.pk))
    source.refresh_from_db()
    assert source.current_run_id == second.pk
    from assessments.scans.services import current_findings

    current = current_findings(assessment)
    assert {f.run_id for f in current} == {second.pk}
    assert len(current) == ScanFinding.objects.filter(run=second).count()


@pytest.mark.django_db
def test_findings_reach_the_results_as_evidence(personas: Personas, tmp_path: Path) -> None:
    from assessments import services
    from tests.factories import invite

    assessment = personas.assessment_a
    # Three engineers claim the best review policy...
    for _ in range(3):
        respondent, _token = invite(assessment, role="engineering")
        for question in assessment.rubric.capability("rev.policy-ownership").questions:
            if "engineering" in question.audience:
                services.answer_save(
                    respondent=respondent, question_id=question.id, value="5", comment="", seq=1
                )
        services.respondent_submit(respondent=respondent)
    # ...but the repository has no CODEOWNERS file.
    client = _login(personas.alice)
    client.post(
        reverse("scans:add", args=[assessment.pk, "repo_archive"]),
        {"file": SimpleUploadedFile("repo.tar.gz", _targz(_repo(tmp_path, with_codeowners=False)))},
    )
    run_execute(run_id=str(ScanRun.objects.get(assessment=assessment).pk))
    # The repository is all there is: its evidence speaks for the whole organisation.
    assessment.repositories_in_scope = 1
    assessment.save(update_fields=["repositories_in_scope"])
    result = result_compute(assessment=assessment).data
    capability = next(c for c in result["capabilities"] if c["id"] == "rev.policy-ownership")
    assert any(
        f["detector"] == "repo.codeowners" and f["status"] == "absent"
        for f in capability["evidence"]["findings"]
    )
    assert capability["evidence"]["verdict"] in {"contradicts", "agrees"}
    assert capability["evidence"]["adjusted_score"] < capability["score"]


@pytest.mark.django_db
def test_a_queued_run_can_be_cancelled(personas: Personas, tmp_path: Path) -> None:
    assessment = personas.assessment_a
    client = _login(personas.alice)
    client.post(
        reverse("scans:add", args=[assessment.pk, "repo_archive"]),
        {"file": SimpleUploadedFile("repo.tar.gz", _targz(_repo(tmp_path)))},
    )
    run = ScanRun.objects.get(assessment=assessment)
    response = client.post(reverse("scans:cancel", args=[assessment.pk, run.pk]))
    assert response.status_code == 302
    run.refresh_from_db()
    assert run.status == "cancelled"
    run_execute(run_id=str(run.pk))  # a late delivery of the task does nothing
    run.refresh_from_db()
    assert run.status == "cancelled" and not run.findings.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "data", "message"),
    [
        ("repo_url", {"url": "http://github.com/a/b.git"}, b"Use an https:// URL"),
        (
            "repo_url",
            {"url": "https://user:pw@github.com/a/b.git"},
            b"Do not put credentials in the URL",
        ),
        ("repo_url", {"url": "file:///etc"}, b"Use an https:// URL"),
        (
            "repo_url",
            {"url": "https://github.com/a/b.git?access_token=ghp_x"},
            b"Remove the query string",
        ),
        ("repo_url", {"url": "https://github.com/a/b.git#ghp_x"}, b"Remove the query string"),
        ("repo_url", {"url": "http://x:ghp_x@github.com/a/b.git"}, b"Do not put credentials"),
        ("repo_url", {"url": "https://github.com:8443/a/b.git"}, b"only the standard https port"),
        ("repo_url", {"url": "https://github.com/"}, b"it names no repository path"),
        ("github", {"repo": "not a repo", "token": "x"}, b"owner/name"),
        ("repo_path", {"path": "/etc"}, b"turned off"),
    ],
)
def test_bad_sources_are_refused_and_change_nothing(
    personas: Personas, kind: str, data: dict[str, str], message: bytes
) -> None:
    response = _login(personas.alice).post(
        reverse("scans:add", args=[personas.assessment_a.pk, kind]), data
    )
    assert response.status_code == 400
    assert message in response.content
    assert b"ghp_x" not in response.content and b":pw@" not in response.content  # not echoed
    assert not ScanSource.objects.exists()


@pytest.mark.django_db
def test_a_repository_url_is_stored_as_the_engine_normalises_it(personas: Personas) -> None:
    response = _login(personas.alice).post(
        reverse("scans:add", args=[personas.assessment_a.pk, "repo_url"]),
        {"url": " https://GitHub.com:443/acme/app.git "},
    )
    assert response.status_code == 302
    source = ScanSource.objects.get()
    assert source.location == source.label == "https://github.com/acme/app.git"


@pytest.mark.django_db
def test_tokens_are_kept_out_of_error_reports(personas: Personas) -> None:
    from django.views.debug import SafeExceptionReporterFilter

    client = _login(personas.alice)
    for kind, data in (
        ("repo_url", {"url": "https://github.com/acme/app.git", "token": "ghp_private1"}),
        ("github", {"repo": "acme/app", "token": "ghp_private2"}),
    ):
        request = client.post(
            reverse("scans:add", args=[personas.assessment_a.pk, kind]), data
        ).wsgi_request
        posted = SafeExceptionReporterFilter().get_post_parameters(request)
        assert posted["token"] == SafeExceptionReporterFilter.cleansed_substitute
        assert "ghp_private" not in str(dict(posted))


@pytest.mark.django_db
def test_an_upload_that_is_not_an_archive_is_refused(personas: Personas) -> None:
    upload = SimpleUploadedFile("repo.zip", b"#!/bin/sh\nrm -rf /\n")
    response = _login(personas.alice).post(
        reverse("scans:add", args=[personas.assessment_a.pk, "repo_archive"]), {"file": upload}
    )
    assert response.status_code == 400
    assert b"checked by its content" in response.content
    assert not ScanSource.objects.exists()


@pytest.mark.django_db
def test_a_private_address_is_refused_by_the_scan_with_a_clear_reason(personas: Personas) -> None:
    client = _login(personas.alice)
    client.post(
        reverse("scans:add", args=[personas.assessment_a.pk, "repo_url"]),
        {"url": "https://127.0.0.1/acme/app.git"},
    )
    run = ScanRun.objects.get()
    run_execute(run_id=str(run.pk))
    run.refresh_from_db()
    assert run.status == "failed"
    assert (
        "127.0.0.1" in run.error
        or "private" in run.error.lower()
        or "not allowed" in run.error.lower()
    )


@pytest.mark.django_db
def test_github_tokens_are_stored_encrypted_and_never_shown(personas: Personas) -> None:
    token = "ghp_supersecrettokenvalue1234567890"
    client = _login(personas.alice)
    client.post(
        reverse("scans:add", args=[personas.assessment_a.pk, "github"]),
        {"repo": "acme/payments", "token": token},
    )
    source = ScanSource.objects.get()
    assert token.encode() not in bytes(source.token_encrypted)
    assert secrets.decrypt(source.token_encrypted) == token
    run = source.runs.get()
    for url in [
        reverse("scans:sources", args=[personas.assessment_a.pk]),
        reverse("scans:run", args=[personas.assessment_a.pk, run.pk]),
    ]:
        assert token not in client.get(url).content.decode()
    run_execute(
        run_id=str(run.pk)
    )  # no internet here: the scan fails, and says so without the token
    run.refresh_from_db()
    assert run.status == "failed" and token not in run.error


CSV = b"""id,deployed_at,status,commit
d1,2026-10-01T10:00:00Z,success,aaaaaaa1
d2,2026-10-02T10:00:00Z,success,bbbbbbb2
d3,not a date,success,ccccccc3
d4,2026-10-05T10:00:00Z,failure,ddddddd4
d1,2026-10-06T10:00:00Z,success,eeeeeee5
"""


@pytest.mark.django_db
def test_a_delivery_export_imports_good_rows_and_reports_bad_ones(personas: Personas) -> None:
    client = _login(personas.alice)
    upload = SimpleUploadedFile("deploys.csv", CSV)
    response = client.post(
        reverse("scans:add", args=[personas.assessment_a.pk, "export"]),
        {"file": upload, "kind": "deployments"},
    )
    source = ScanSource.objects.get()
    assert response["Location"] == reverse(
        "scans:mapping", args=[personas.assessment_a.pk, source.pk]
    )
    run = source.current_run
    assert run is not None
    assert {r["id"] for r in source.records} >= {"d1", "d2"}
    assert "d3" not in {r["id"] for r in source.records}
    assert any("row" in w and ("date" in w.lower() or "time" in w.lower()) for w in run.warnings)
    page = client.get(response["Location"]).content.decode()
    assert "Column mapping" in page and "deployed_at" in page


@pytest.mark.django_db
def test_an_export_missing_a_required_column_goes_to_the_mapping_step(
    personas: Personas,
) -> None:
    client = _login(personas.alice)
    assessment = personas.assessment_a
    upload = SimpleUploadedFile("deploys.csv", b"name,when\nd1,2026-10-01T10:00:00Z\n")
    response = client.post(
        reverse("scans:add", args=[assessment.pk, "export"]),
        {"file": upload, "kind": "deployments"},
    )
    source = ScanSource.objects.get()
    mapping_url = reverse("scans:mapping", args=[assessment.pk, source.pk])
    assert response["Location"] == mapping_url
    assert source.records == [] and source.upload
    page = client.get(mapping_url).content.decode()
    assert "lacks a column for the required field(s) id, time" in page
    assert "Columns found: name, when" in page
    assert '<option value="when">when</option>' in page
    response = client.post(mapping_url, {"id": "name", "time": "when"})
    assert response.status_code == 302
    source.refresh_from_db()
    assert [r["id"] for r in source.records] == ["d1"]
    assert source.current_run is not None and source.current_run.status == "succeeded"


@pytest.mark.django_db
def test_a_refused_export_leaves_no_file_behind(
    personas: Personas, tmp_path: Path, settings: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"
    response = _login(personas.alice).post(
        reverse("scans:add", args=[personas.assessment_a.pk, "export"]),
        {"file": SimpleUploadedFile("deploys.json", b"[not json"), "kind": "deployments"},
    )
    assert response.status_code == 400
    assert b"not valid JSON" in response.content
    assert not ScanSource.objects.exists()
    assert [p for p in (tmp_path / "media").rglob("*") if p.is_file()] == []


@pytest.mark.django_db
def test_dates_out_of_range_are_reported_as_row_errors(personas: Personas) -> None:
    data = (
        b'[{"id": "d1", "time": 1e20}, {"id": "d2", "time": Infinity},'
        b' {"id": "d3", "time": "0001-01-01T00:00:00+01:00"},'
        b' {"id": "d4", "time": "2026-10-01T10:00:00Z"}]'
    )
    response = _login(personas.alice).post(
        reverse("scans:add", args=[personas.assessment_a.pk, "export"]),
        {"file": SimpleUploadedFile("deploys.json", data), "kind": "deployments"},
    )
    assert response.status_code == 302
    source = ScanSource.objects.get()
    assert [r["id"] for r in source.records] == ["d4"]
    assert source.current_run is not None
    assert [w.split(":")[0] for w in source.current_run.warnings] == [
        "row 1, column 'time'",
        "row 2, column 'time'",
        "row 3, column 'time'",
    ]


@pytest.mark.django_db
def test_members_cannot_run_scans(personas: Personas) -> None:
    response = _login(personas.bob).post(
        reverse("scans:add", args=[personas.assessment_a.pk, "repo_url"]),
        {"url": "https://github.com/a/b.git"},
    )
    assert response.status_code == 403
    assert not ScanSource.objects.exists()


def test_scan_command_prints_json_without_a_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _repo(tmp_path)
    call_command("scan", str(repo), "--json")
    document = json.loads(capsys.readouterr().out)
    assert {"findings", "facts"} <= set(document)
    finding = next(f for f in document["findings"] if f["detector"] == "repo.codeowners")
    assert {"detector", "capability", "status", "evidence"} <= set(finding)
    assert finding["status"] == "found"
    assert any(f["status"] == "absent" for f in document["findings"])


def test_scan_command_takes_since_and_until_and_refuses_them_with_window_days(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = _repo(tmp_path)
    first = day(300).date().isoformat()
    call_command("scan", str(repo), "--json", "--since", first, "--until", first)
    history = json.loads(capsys.readouterr().out)["facts"]["history"]
    assert history["commits"] == 1
    assert history["window_days"] == 1
    with pytest.raises(CommandError, match="Give either --window-days or --since/--until"):
        call_command("scan", str(repo), "--since", first, "--window-days", "30")


@pytest.mark.django_db
def test_delivery_exports_become_evidence_and_dora_measures(personas: Personas) -> None:
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    lines = ["id,time,status,shas"] + [
        f"d{i},{(now - timedelta(days=i)).isoformat()},success,{i:07x}a" for i in range(1, 40)
    ]
    client = _login(personas.alice)
    client.post(
        reverse("scans:add", args=[personas.assessment_a.pk, "export"]),
        {
            "file": SimpleUploadedFile("deploys.csv", "\n".join(lines).encode()),
            "kind": "deployments",
        },
    )
    incidents = f"id,created,resolved,deployment_id\ni1,{(now - timedelta(days=3)).isoformat()},{(now - timedelta(days=3, hours=-2)).isoformat()},d3\n"
    client.post(
        reverse("scans:add", args=[personas.assessment_a.pk, "export"]),
        {"file": SimpleUploadedFile("incidents.csv", incidents.encode()), "kind": "incidents"},
    )
    from assessments.scans.services import current_findings

    detectors = {f.detector: f.status for f in current_findings(personas.assessment_a)}
    assert detectors["delivery.deployment-frequency"] == "found"
    assert "delivery.change-failure-rate" in detectors
    result = result_compute(assessment=personas.assessment_a).data
    assert result["delivery"]["deployments"] == 39
    assert result["delivery"]["deployment_frequency"] == "Daily"
    assert result["delivery"]["change_failure_rate"] == pytest.approx(1 / 39, abs=0.01)


@pytest.mark.django_db
def test_a_repository_token_reaches_the_clone_and_is_stored_nowhere_else(
    personas: Personas,
    silent_server: int,
    monkeypatch: pytest.MonkeyPatch,
    settings: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    import base64
    import threading

    from assessments.scans.engine import sources as sources_module
    from assessments.scans.engine.urls import RemoteTarget
    from tests.scans.engine.gitbuild import processes_with

    token = "ghp_RepoCloneToken0123456789SECRET"
    host = "private-repo.test.example"
    # The engine tests' hook: the host "resolves" to a local server that never answers.
    target = RemoteTarget(
        url=f"https://{host}:{silent_server}/acme/app.git",
        host=host,
        port=silent_server,
        addresses=("127.0.0.1",),
    )
    monkeypatch.setattr(sources_module, "resolve_remote", lambda url, **kw: target)
    settings.SCAN_TIMEOUT_SECONDS = 2
    caplog.set_level("DEBUG")
    client = _login(personas.alice)
    client.post(
        reverse("scans:add", args=[personas.assessment_a.pk, "repo_url"]),
        {"url": f"https://{host}/acme/app.git", "token": token},
    )
    source = ScanSource.objects.get()
    run = source.runs.get()
    environments: list[bytes] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            for pid in processes_with(host):
                try:
                    environments.append(Path(f"/proc/{pid}/environ").read_bytes())
                except OSError:
                    continue
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        run_execute(run_id=str(run.pk))
    finally:
        done.set()
        watcher.join()
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    assert any(f"Authorization: Basic {basic}".encode() in env for env in environments)
    run.refresh_from_db()
    source.refresh_from_db()
    assert run.status == "failed" and "time limit" in run.error
    stored = json.dumps([source.location, source.label, run.error, run.warnings, run.facts])
    assert token not in stored and basic not in stored
    assert token not in caplog.text and basic not in caplog.text
    assert token.encode() not in bytes(source.token_encrypted)
    page = client.get(reverse("scans:run", args=[personas.assessment_a.pk, run.pk]))
    assert token not in page.content.decode()


@pytest.mark.django_db
def test_a_rescan_is_refused_while_a_scan_of_the_source_is_active(
    personas: Personas, tmp_path: Path
) -> None:
    assessment = personas.assessment_a
    client = _login(personas.alice)
    client.post(
        reverse("scans:add", args=[assessment.pk, "repo_archive"]),
        {"file": SimpleUploadedFile("repo.tar.gz", _targz(_repo(tmp_path)))},
    )
    source = ScanSource.objects.get()
    first = source.runs.get()
    rescan = reverse("scans:rescan", args=[assessment.pk, source.pk])
    response = client.post(rescan, follow=True)
    assert response.redirect_chain[0][0] == reverse("scans:run", args=[assessment.pk, first.pk])
    assert "already being scanned" in response.content.decode()
    assert source.runs.count() == 1
    run_execute(run_id=str(first.pk))
    response = client.post(rescan)
    second = source.runs.exclude(pk=first.pk).get()
    assert response["Location"] == reverse("scans:run", args=[assessment.pk, second.pk])


@pytest.mark.django_db
def test_an_older_run_finishing_last_does_not_replace_the_newer_findings(
    personas: Personas, tmp_path: Path
) -> None:
    client = _login(personas.alice)
    client.post(
        reverse("scans:add", args=[personas.assessment_a.pk, "repo_archive"]),
        {"file": SimpleUploadedFile("repo.tar.gz", _targz(_repo(tmp_path)))},
    )
    source = ScanSource.objects.get()
    older = source.runs.get()
    # Two runs in flight at once (what the rescan refusal now prevents, and what a run
    # retaken from a dead worker can still produce).
    newer = ScanRun.objects.create(source=source, assessment=source.assessment)
    run_execute(run_id=str(newer.pk))
    run_execute(run_id=str(older.pk))
    older.refresh_from_db()
    source.refresh_from_db()
    assert older.status == "succeeded"
    assert source.current_run_id == newer.pk


@pytest.mark.django_db
def test_a_cancel_after_the_last_progress_check_still_cancels(
    personas: Personas, tmp_path: Path
) -> None:
    from django.utils import timezone

    from assessments.scans.engine import scan_repository
    from assessments.scans.services import _record, run_cancel

    client = _login(personas.alice)
    client.post(
        reverse("scans:add", args=[personas.assessment_a.pk, "repo_archive"]),
        {"file": SimpleUploadedFile("repo.tar.gz", _targz(_repo(tmp_path / "a")))},
    )
    source = ScanSource.objects.get()
    run = source.runs.get()
    ScanRun.objects.filter(pk=run.pk).update(status="running", heartbeat_at=timezone.now())
    workdir = tmp_path / "job"
    workdir.mkdir()
    result = scan_repository(
        source=_repo(tmp_path / "b"), kind="path", workdir=workdir, now=timezone.now(),
        allowed_roots=[tmp_path],
    )  # fmt: skip
    run_cancel(run=run)  # asked for once the scan had nothing left to check
    _record(run, result, 0)
    run.refresh_from_db()
    source.refresh_from_db()
    assert run.status == "cancelled"
    assert not run.findings.exists() and source.current_run_id is None


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_running_scan_is_cancelled_by_a_real_worker(
    personas: Personas, tmp_path: Path, celery_worker: Any
) -> None:
    assessment = personas.assessment_a
    client = _login(personas.alice)
    client.post(
        reverse("scans:add", args=[assessment.pk, "repo_archive"]),
        {"file": SimpleUploadedFile("repo.tar.gz", _targz(_repo(tmp_path)))},
    )
    source = ScanSource.objects.get()
    run = source.runs.get()
    deadline = time.monotonic() + 60
    # The worker has checked for a cancel once ("preparing"); the next check is a second away.
    while not ScanRun.objects.filter(pk=run.pk, status="running", stage="preparing").exists():
        assert time.monotonic() < deadline, "the worker never started the scan"
        time.sleep(0.005)
    response = client.post(reverse("scans:cancel", args=[assessment.pk, run.pk]))
    assert response.status_code == 302
    run = _wait(run)
    source.refresh_from_db()
    assert run.status == "cancelled", run.status
    assert not run.findings.exists() and source.current_run_id is None
    page = client.get(reverse("scans:run", args=[assessment.pk, run.pk])).content.decode()
    assert "Cancelled." in page


@pytest.mark.django_db
def test_the_mapping_page_says_how_change_ids_were_read(personas: Personas) -> None:
    client = _login(personas.alice)
    csv = b'id,deployed_at,status,changes\nd1,2026-10-01T10:00:00Z,success,"[""PROJ-1"", ""PROJ-2""]"\n'
    response = client.post(
        reverse("scans:add", args=[personas.assessment_a.pk, "export"]),
        {"file": SimpleUploadedFile("deploys.csv", csv), "kind": "deployments"},
    )
    page = client.get(response["Location"]).content.decode()
    assert "Change ids read per cell: 1 as a JSON list (first: PROJ-1, PROJ-2)." in page
    assert ScanSource.objects.get().records[0]["shas"] == ["PROJ-1", "PROJ-2"]


@pytest.mark.django_db
def test_an_empty_incident_export_and_staging_deployments(
    personas: Personas,
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    lines = ["id,time,status,shas,environment"]
    for i in range(1, 30):
        when = (now - timedelta(days=i)).isoformat()
        lines += [
            f"p{i},{when},success,{i:07x}a,production",
            f"s{i},{when},success,{i:07x}a,staging",
        ]
    client = _login(personas.alice)
    for name, kind, data in (
        ("deploys.csv", "deployments", "\n".join(lines).encode()),
        ("incidents.csv", "incidents", b"id,created,resolved,deployment_id\n"),
    ):
        client.post(
            reverse("scans:add", args=[personas.assessment_a.pk, "export"]),
            {"file": SimpleUploadedFile(name, data), "kind": kind},
        )
    from assessments.scans.services import current_findings

    findings = {f.detector: f for f in current_findings(personas.assessment_a)}
    assert findings["delivery.change-failure-rate"].status == "found"
    assert "holds no incidents" in findings["delivery.change-failure-rate"].detail
    result = result_compute(assessment=personas.assessment_a).data
    assert result["delivery"]["deployments"] == 29  # production only
    assert result["delivery"]["change_failure_rate"] == 0.0
    assert result["delivery"]["excluded_deployments"] == 29
    assert any("29 deployments to staging left out" in n for n in result["delivery"]["notes"])
