"""Catalogue pages: the list ranked for pilots, one process with its steps (htmx inline, plain
forms without JavaScript), CSV/XLSX import and export, and event logs.

Every view starts from the organisation the user belongs to (`get_org_for_user`), so another
organisation's process, step or log is not found (404). Members read; owners and facilitators
change things (403 for members).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from assessments.access import AuthenticatedHttpRequest, get_org_for_user
from assessments.models import Membership, Organisation
from assessments.processes import logs, services
from assessments.processes.core import eventlog, table
from assessments.processes.core.suitability import coverage
from assessments.processes.forms import (
    LogMappingForm,
    LogUploadForm,
    ProcessForm,
    StepForm,
    UploadForm,
)
from assessments.processes.models import EventLog, Process, ProcessStep
from reports.charts import figure_json

DENIED = "The catalogue is changed by the organisation's owners and facilitators."
EXPORTS = {
    "processes.csv": ("export", "csv"),
    "processes.xlsx": ("export", "xlsx"),
    "template.csv": ("template", "csv"),
    "template.xlsx": ("template", "xlsx"),
}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _org(
    request: AuthenticatedHttpRequest, org_id: str, *, write: bool = False
) -> tuple[Organisation, Membership]:
    org, membership = get_org_for_user(request, org_id)
    if write and not membership.can_write:
        raise PermissionDenied(DENIED)
    return org, membership


def _process_or_404(org: Organisation, process_id: Any) -> Process:
    try:
        return org.processes.select_related("team").get(pk=process_id)
    except (Process.DoesNotExist, ValueError, ValidationError):
        raise Http404 from None


def _step_or_404(process: Process, step_id: Any) -> ProcessStep:
    try:
        return process.steps.get(pk=step_id)
    except (ProcessStep.DoesNotExist, ValueError, ValidationError):
        raise Http404 from None


def _attachment(data: bytes, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- The catalogue -----------------------------------------------------------------------------


@login_required
def catalogue(request: AuthenticatedHttpRequest, org_id: str) -> HttpResponse:
    org, membership = _org(request, org_id)
    return _render_catalogue(request, org, membership)


def _render_catalogue(
    request: AuthenticatedHttpRequest,
    org: Organisation,
    membership: Membership,
    *,
    import_form: UploadForm | None = None,
    log_form: LogUploadForm | None = None,
    report: services.ImportReport | None = None,
    status: int = 200,
) -> HttpResponse:
    processes = services.catalogue(org)
    scores = services.suitability_for(processes)
    ranked = sorted(processes, key=lambda p: (-scores[p.pk].pilot_score, p.name))
    rows = [{"process": p, "s": scores[p.pk]} for p in ranked]
    return render(
        request,
        "processes/catalogue.html",
        {
            "org": org,
            "membership": membership,
            "rows": rows,
            "coverage": coverage([p.facts() for p in processes]),
            "import_form": import_form or UploadForm(limit=table.MAX_BYTES),
            "log_form": log_form
            or LogUploadForm(limit=settings.PROCESS_LOG_MAX_UPLOAD_BYTES, organisation=org),
            "report": report,
            "logs": org.event_logs.select_related("process")[:10],
            "from_respondents": services.respondent_summary(org),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def process_create(request: AuthenticatedHttpRequest, org_id: str) -> HttpResponse:
    org, membership = _org(request, org_id, write=True)
    form = ProcessForm(request.POST or None, organisation=org)
    if request.method == "POST" and form.is_valid():
        process = form.save(commit=False)
        process.organisation = org
        process.created_by = request.user
        process.save()
        messages.success(request, f"Added {process.name}. Now list its steps.")
        return redirect("processes:detail", org_id=org.pk, process_id=process.pk)
    return render(
        request,
        "processes/process_form.html",
        {"org": org, "membership": membership, "form": form},
        status=400 if form.is_bound else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def process_detail(request: AuthenticatedHttpRequest, org_id: str, process_id: str) -> HttpResponse:
    org, membership = _org(request, org_id)
    process = _process_or_404(org, process_id)
    if request.method == "POST":
        if not membership.can_write:
            raise PermissionDenied(DENIED)
        form = ProcessForm(request.POST, instance=process, organisation=org)
        if form.is_valid():
            form.save()
            services.process_saved(process=process, changed=form.changed_data)
            messages.success(request, "Saved.")
            return redirect("processes:detail", org_id=org.pk, process_id=process.pk)
        return _render_detail(request, org, membership, process, form=form, status=400)
    return _render_detail(request, org, membership, process)


def _render_detail(
    request: AuthenticatedHttpRequest,
    org: Organisation,
    membership: Membership,
    process: Process,
    *,
    form: ProcessForm | None = None,
    step_form: StepForm | None = None,
    status: int = 200,
    template: str = "processes/process_detail.html",
    oob: bool = False,
) -> HttpResponse:
    process = _process_or_404(org, process.pk)  # fresh steps and measurements
    return render(
        request,
        template,
        {
            "org": org,
            "membership": membership,
            "process": process,
            "steps": list(process.steps.all()),
            "form": form or ProcessForm(instance=process, organisation=org),
            "step_form": step_form or StepForm(),
            "s": services.suitability_for([process])[process.pk],
            "measurable": services.MEASURABLE,
            # With htmx, a steps fragment carries the suitability card too (out of band):
            # steps change what the factors say.
            "oob": oob,
            "logs": process.event_logs.all()[:10],
            "log_form": LogUploadForm(
                limit=settings.PROCESS_LOG_MAX_UPLOAD_BYTES,
                organisation=org,
                initial={"process": process.pk},
            ),
        },
        status=status,
    )


@login_required
@require_POST
def process_delete(request: AuthenticatedHttpRequest, org_id: str, process_id: str) -> HttpResponse:
    org, _membership = _org(request, org_id, write=True)
    process = _process_or_404(org, process_id)
    process.delete()
    messages.success(request, f"Removed {process.name} from the catalogue.")
    return redirect("processes:catalogue", org_id=org.pk)


# --- Steps (htmx fragments, or a redirect without JavaScript) ---------------------------------


def _steps_response(
    request: AuthenticatedHttpRequest,
    org: Organisation,
    membership: Membership,
    process: Process,
    *,
    step_form: StepForm | None = None,
    status: int = 200,
) -> HttpResponse:
    if request.htmx:
        response = _render_detail(
            request,
            org,
            membership,
            process,
            step_form=step_form,
            status=status,
            template="processes/process_detail.html#steps",
            oob=True,
        )
        response["Vary"] = "HX-Request"
        return response
    if step_form is not None and step_form.errors:
        return _render_detail(request, org, membership, process, step_form=step_form, status=status)
    url = reverse("processes:detail", kwargs={"org_id": org.pk, "process_id": process.pk})
    return redirect(f"{url}#steps")


@login_required
@require_POST
def step_add(request: AuthenticatedHttpRequest, org_id: str, process_id: str) -> HttpResponse:
    org, membership = _org(request, org_id, write=True)
    process = _process_or_404(org, process_id)
    form = StepForm(request.POST)
    if not form.is_valid():
        return _steps_response(request, org, membership, process, step_form=form, status=400)
    data = form.cleaned_data
    services.step_add(
        process=process,
        name=data["name"],
        system=data["system"].strip(),
        api=data["api"],
        decides=data["decides"],
    )
    return _steps_response(request, org, membership, process)


@login_required
@require_POST
def step_update(
    request: AuthenticatedHttpRequest, org_id: str, process_id: str, step_id: str
) -> HttpResponse:
    org, membership = _org(request, org_id, write=True)
    process = _process_or_404(org, process_id)
    step = _step_or_404(process, step_id)
    form = StepForm(request.POST, instance=step, prefix=f"step-{step.pk}")
    if not form.is_valid():
        messages.error(request, "A step needs a name (at most 200 characters).")
        return _steps_response(request, org, membership, process, status=400)
    form.save()
    return _steps_response(request, org, membership, process)


@login_required
@require_POST
def step_move(
    request: AuthenticatedHttpRequest, org_id: str, process_id: str, step_id: str
) -> HttpResponse:
    org, membership = _org(request, org_id, write=True)
    process = _process_or_404(org, process_id)
    step = _step_or_404(process, step_id)
    direction = request.POST.get("direction")
    if direction not in ("up", "down"):
        return HttpResponse("Move a step up or down.", status=400, content_type="text/plain")
    services.step_move(step=step, offset=-1 if direction == "up" else 1)
    return _steps_response(request, org, membership, process)


@login_required
@require_POST
def step_delete(
    request: AuthenticatedHttpRequest, org_id: str, process_id: str, step_id: str
) -> HttpResponse:
    org, membership = _org(request, org_id, write=True)
    process = _process_or_404(org, process_id)
    services.step_delete(step=_step_or_404(process, step_id))
    return _steps_response(request, org, membership, process)


# --- Import and export -------------------------------------------------------------------------


@login_required
def catalogue_export(request: AuthenticatedHttpRequest, org_id: str, kind: str) -> HttpResponse:
    org, _membership = _org(request, org_id)
    if kind not in EXPORTS:
        raise Http404
    what, fmt = EXPORTS[kind]
    stamp = timezone.now().strftime("%Y-%m-%d")
    if what == "template":
        data = services.catalogue_template(fmt=fmt)
        name = f"opready-process-template.{fmt}"
    else:
        data = services.catalogue_export(organisation=org, fmt=fmt)
        name = f"opready-processes-{stamp}.{fmt}"
    return _attachment(data, name, XLSX if fmt == "xlsx" else "text/csv; charset=utf-8")


@login_required
@require_POST
def catalogue_import(request: AuthenticatedHttpRequest, org_id: str) -> HttpResponse:
    org, membership = _org(request, org_id, write=True)
    form = UploadForm(request.POST, request.FILES, limit=table.MAX_BYTES)
    if not form.is_valid():
        return _render_catalogue(request, org, membership, import_form=form, status=400)
    upload = form.cleaned_data["file"]
    try:
        report = services.catalogue_import(
            organisation=org, data=upload.read(), filename=upload.name, user=request.user
        )
    except table.TableError as exc:
        form.add_error("file", str(exc))
        return _render_catalogue(request, org, membership, import_form=form, status=400)
    nothing = report.problems and not (report.created or report.updated)
    return _render_catalogue(
        request, org, membership, report=report, status=400 if nothing else 200
    )


# --- Event logs -------------------------------------------------------------------------------


def _log_or_404(org: Organisation, log_id: Any) -> EventLog:
    try:
        return org.event_logs.select_related("process").get(pk=log_id)
    except (EventLog.DoesNotExist, ValueError, ValidationError):
        raise Http404 from None


@login_required
@require_POST
def log_upload(request: AuthenticatedHttpRequest, org_id: str) -> HttpResponse:
    org, membership = _org(request, org_id, write=True)
    form = LogUploadForm(
        request.POST,
        request.FILES,
        limit=settings.PROCESS_LOG_MAX_UPLOAD_BYTES,
        organisation=org,
    )
    if form.is_valid():
        try:
            log = logs.log_upload(
                organisation=org,
                upload=form.cleaned_data["file"],
                process=form.cleaned_data["process"],
                user=request.user,
            )
        except logs.LogInputError as exc:
            form.add_error("file", str(exc))
        else:
            return redirect("processes:log", org_id=org.pk, log_id=log.pk)
    return _render_catalogue(request, org, membership, log_form=form, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def log_detail(request: AuthenticatedHttpRequest, org_id: str, log_id: str) -> HttpResponse:
    """The mapping step until the log is mapped (or ?columns=1), then the job's progress and,
    once done, the analysis. With htmx, the progress partial (polled until the job ends)."""
    org, membership = _org(request, org_id)
    log = _log_or_404(org, log_id)
    wants_mapping = not log.mapped or request.GET.get("columns") == "1"
    if request.method == "POST" or (wants_mapping and membership.can_write):
        return _log_mapping(request, org, membership, log)
    logs.log_requeue_if_stuck(log)
    context: dict[str, Any] = {"org": org, "membership": membership, "log": log}
    if request.htmx:
        response = render(request, "processes/log.html#job", context)
        if log.done:
            # The finished state replaces the whole page, so the analysis appears.
            response["HX-Refresh"] = "true"
        return response
    analysis = log.analysis or {}
    if analysis:
        context["flow"] = figure_json(logs.flow_figure(analysis))
        context["prefill"] = eventlog.prefill(analysis)
    return render(request, "processes/log.html", context)


def _log_mapping(
    request: AuthenticatedHttpRequest, org: Organisation, membership: Membership, log: EventLog
) -> HttpResponse:
    if not membership.can_write:
        raise PermissionDenied(DENIED)
    initial = {
        **{k: v for k, v in log.column_mapping.items() if not k.startswith("_")},
        "time_zone": log.time_zone,
        "date_order": log.date_order,
    }
    form = LogMappingForm(request.POST or None, columns=list(log.columns), initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            logs.log_map(
                log=log,
                mapping=form.mapping(),
                time_zone=form.cleaned_data["time_zone"],
                date_order=form.cleaned_data["date_order"],
                user=request.user,
            )
        except logs.LogInputError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("processes:log", org_id=org.pk, log_id=log.pk)
    return render(
        request,
        "processes/log_mapping.html",
        {
            "org": org,
            "membership": membership,
            "log": log,
            "form": form,
            "source": logs.log_source(log),
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
@require_POST
def log_apply(request: AuthenticatedHttpRequest, org_id: str, log_id: str) -> HttpResponse:
    org, _membership = _org(request, org_id, write=True)
    log = _log_or_404(org, log_id)
    try:
        process = logs.log_apply(log=log, user=request.user)
    except logs.LogInputError as exc:
        messages.error(request, str(exc))
        return redirect("processes:log", org_id=org.pk, log_id=log.pk)
    messages.success(request, "Filled in from the log; measured values are marked as measured.")
    return redirect("processes:detail", org_id=org.pk, process_id=process.pk)
