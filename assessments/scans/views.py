"""Scan pages: add sources, watch runs, cancel, rescan, map export columns, read findings."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseStopPolling

from assessments.access import AuthenticatedHttpRequest, get_assessment_for_user
from assessments.models import Assessment, Membership
from assessments.scans import services
from assessments.scans.engine.delivery import FIELDS
from assessments.scans.forms import (
    ARCHIVE_MAGIC,
    ExportForm,
    GitHubForm,
    HistoryWindowForm,
    MappingForm,
    RepoArchiveForm,
    RepoPathForm,
    RepoUrlForm,
)
from assessments.scans.models import ScanRun, ScanSource

DENIED = "Scans are run by the organisation's owners and facilitators."


def _assessment(
    request: AuthenticatedHttpRequest, assessment_id: str
) -> tuple[Assessment, Membership]:
    return get_assessment_for_user(request, assessment_id, write=True, denied=DENIED)


def _forms(data: Any = None, files: Any = None, which: str = "") -> dict[str, Any]:
    """The add-a-source forms; only the submitted one is bound. Each names its fields' ids
    after its kind: the page holds them all, and a label must point at its own field."""

    def d(name: str) -> Any:
        return data if which == name else None

    def f(name: str) -> Any:
        return files if which == name else None

    return {
        "repo_url": RepoUrlForm(d("repo_url"), auto_id="repo_url_%s"),
        "repo_archive": RepoArchiveForm(
            d("repo_archive"),
            f("repo_archive"),
            limit=settings.SCAN_MAX_UPLOAD_BYTES,
            magic=ARCHIVE_MAGIC,
            kinds="a .zip, .tar.gz or git bundle",
            auto_id="repo_archive_%s",
        ),
        "repo_path": RepoPathForm(d("repo_path"), auto_id="repo_path_%s"),
        "github": GitHubForm(d("github"), auto_id="github_%s"),
        "export": ExportForm(
            d("export"),
            f("export"),
            limit=settings.EXPORT_MAX_UPLOAD_BYTES,
            kinds="a CSV or JSON export",
            auto_id="export_%s",
        ),
    }


@login_required
def sources(request: AuthenticatedHttpRequest, assessment_id: str) -> HttpResponse:
    assessment, membership = _assessment(request, assessment_id)
    return _render_sources(request, assessment, membership, _forms())


def _render_sources(
    request: AuthenticatedHttpRequest,
    assessment: Assessment,
    membership: Membership,
    forms: dict[str, Any],
    status: int = 200,
) -> HttpResponse:
    items = []
    for source in assessment.scan_sources.select_related("current_run"):
        latest = source.runs.first()
        items.append({"source": source, "latest": latest, "current": source.current_run})
    return render(
        request,
        "scans/sources.html",
        {
            "assessment": assessment,
            "membership": membership,
            "items": items,
            "forms": forms,
            "paths_enabled": bool(settings.SCAN_ALLOWED_ROOTS),
        },
        status=status,
    )


@sensitive_post_parameters("token")  # kept out of error reports and their emails
@login_required
@require_POST
def source_add(
    request: AuthenticatedHttpRequest, assessment_id: str, source_kind: str
) -> HttpResponse:
    kind = source_kind
    assessment, membership = _assessment(request, assessment_id)
    forms = _forms(request.POST, request.FILES, which=kind)
    form = forms.get(kind)
    if form is None:
        raise Http404
    if not form.is_valid():
        return _render_sources(request, assessment, membership, forms, status=400)
    data = form.cleaned_data
    try:
        if kind == "repo_url":
            source, run = services.source_add(
                assessment=assessment,
                kind=kind,
                user=request.user,
                location=data["url"],
                token=data["token"],
                since=data["since"],
                until=data["until"],
            )
        elif kind == "repo_path":
            source, run = services.source_add(
                assessment=assessment,
                kind=kind,
                user=request.user,
                location=data["path"],
                since=data["since"],
                until=data["until"],
            )
        elif kind == "github":
            source, run = services.source_add(
                assessment=assessment,
                kind=kind,
                user=request.user,
                location=data["repo"],
                token=data["token"],
            )
        elif kind == "repo_archive":
            source, run = services.source_add(
                assessment=assessment,
                kind=kind,
                user=request.user,
                upload=data["file"],
                label=data["file"].name,
                since=data["since"],
                until=data["until"],
            )
        else:
            source, run = services.source_add(
                assessment=assessment,
                kind=data["kind"],
                user=request.user,
                upload=data["file"],
                label=data["file"].name,
            )
    except services.ScanInputError as exc:
        form.add_error(None, str(exc))
        return _render_sources(request, assessment, membership, forms, status=400)
    if run is None:
        imported = source.current_run
        if imported is not None and imported.status == ScanRun.Status.FAILED:
            messages.warning(request, imported.error)
        else:
            messages.success(
                request, "Export imported. Check the column mapping if rows were skipped."
            )
        return redirect("scans:mapping", assessment_id=assessment.pk, source_id=source.pk)
    return redirect("scans:run", assessment_id=assessment.pk, run_id=run.pk)


def _run_or_404(assessment: Assessment, run_id: str) -> ScanRun:
    try:
        return assessment.scan_runs.select_related("source").get(pk=run_id)
    except (ScanRun.DoesNotExist, ValueError):
        raise Http404 from None


def _source_or_404(assessment: Assessment, source_id: str) -> ScanSource:
    try:
        return assessment.scan_sources.get(pk=source_id)
    except (ScanSource.DoesNotExist, ValueError):
        raise Http404 from None


@login_required
def run_detail(request: AuthenticatedHttpRequest, assessment_id: str, run_id: str) -> HttpResponse:
    """A run's progress: the page, or (htmx) the partial that polls until the run ends."""
    assessment, membership = _assessment(request, assessment_id)
    run = _run_or_404(assessment, run_id)
    services.run_requeue_if_stuck(run)
    context = {"assessment": assessment, "run": run, "membership": membership}
    if request.htmx:
        response = render(request, "scans/_run.html", context)
        if run.done:
            response.status_code = HttpResponseStopPolling.status_code
        return response
    return render(request, "scans/run.html", context)


@login_required
@require_POST
def run_cancel(request: AuthenticatedHttpRequest, assessment_id: str, run_id: str) -> HttpResponse:
    assessment, _membership = _assessment(request, assessment_id)
    run = _run_or_404(assessment, run_id)
    services.run_cancel(run=run)
    messages.info(request, "Cancelling the scan.")
    return redirect("scans:run", assessment_id=assessment.pk, run_id=run.pk)


@login_required
@require_POST
def source_rescan(
    request: AuthenticatedHttpRequest, assessment_id: str, source_id: str
) -> HttpResponse:
    assessment, _membership = _assessment(request, assessment_id)
    source = _source_or_404(assessment, source_id)
    if source.is_export:
        raise Http404
    # Optional history window (the "scan the window ending at the last commit" offer posts
    # one); a bad one starts nothing.
    window = HistoryWindowForm(request.POST)
    if not window.is_valid():
        for errors in window.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect("scans:sources", assessment_id=assessment.pk)
    since, until = window.window()
    try:
        run = services.run_create(source=source, user=request.user, since=since, until=until)
    except services.ScanInputError as exc:
        messages.error(request, str(exc))
        active = services.run_active(source=source)
        if active is None:
            return redirect("scans:sources", assessment_id=assessment.pk)
        return redirect("scans:run", assessment_id=assessment.pk, run_id=active.pk)
    return redirect("scans:run", assessment_id=assessment.pk, run_id=run.pk)


@login_required
@require_POST
def source_delete(
    request: AuthenticatedHttpRequest, assessment_id: str, source_id: str
) -> HttpResponse:
    assessment, _membership = _assessment(request, assessment_id)
    source = _source_or_404(assessment, source_id)
    source.upload.delete(save=False)
    source.delete()
    messages.success(request, "Source removed with its findings.")
    return redirect("scans:sources", assessment_id=assessment.pk)


@login_required
@require_http_methods(["GET", "POST"])
def export_mapping(
    request: AuthenticatedHttpRequest, assessment_id: str, source_id: str
) -> HttpResponse:
    assessment, membership = _assessment(request, assessment_id)
    source = _source_or_404(assessment, source_id)
    if not source.is_export or source.current_run is None:
        raise Http404
    columns = list(source.current_run.facts.get("columns", []))
    form = MappingForm(
        request.POST or None,
        fields=FIELDS[source.kind],
        columns=columns,
        initial_mapping=source.column_mapping,
    )
    if request.method == "POST" and form.is_valid():
        try:
            imported = services.export_import(source=source, mapping=form.mapping())
        except services.ScanInputError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, f"Imported {len(imported.rows)} of {imported.total_rows} rows."
            )
            return redirect("scans:mapping", assessment_id=assessment.pk, source_id=source.pk)
    source.refresh_from_db()
    return render(
        request,
        "scans/mapping.html",
        {
            "assessment": assessment,
            "source": source,
            "run": source.current_run,
            "form": form,
            "preview": source.records[:10],
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
def findings(request: AuthenticatedHttpRequest, assessment_id: str) -> HttpResponse:
    """Every current finding, grouped by dimension and capability, each with its evidence."""
    assessment, membership = _assessment(request, assessment_id)
    rubric = assessment.rubric
    by_capability: dict[str, list[Any]] = defaultdict(list)
    for finding in services.current_findings(assessment):
        by_capability[finding.capability].append(finding)
    dimensions = []
    for dimension in rubric.dimensions:
        caps = [(c, by_capability.get(c.id, [])) for c in dimension.capabilities]
        count = sum(len(items) for _c, items in caps)
        dimensions.append(
            {
                "dimension": dimension,
                "capabilities": [(c, items) for c, items in caps if items],
                "count": count,
            }
        )
    return render(
        request,
        "scans/findings.html",
        {
            "assessment": assessment,
            "membership": membership,
            "dimensions": dimensions,
            "repositories": services.repository_runs(assessment),
        },
    )
