"""Results and reports for an assessment's owners and facilitators."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import F, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseStopPolling

from assessments.access import AuthenticatedHttpRequest, get_assessment_for_user
from assessments.models import Assessment, Membership, hash_token, new_token
from assessments.processes import services as processes
from assessments.scans import services as scans
from assessments.survey import count_failure, rate_limited
from reports import charts, exports
from reports import plan as plans
from reports.compare import compare
from reports.forms import BrandingForm, PlanItemForm, ScoringSettingsForm
from reports.jobs import comparison_for, pdf_request, requeue_if_stuck
from reports.models import Branding, PlanDecision, ReportJob, ShareLink
from reports.presenters import present
from reports.reach import gate_reach
from reports.rendering import Branding as RenderBranding
from reports.rendering import branding_for, render_hash, report_context
from reports.services import ResultUnavailable, result_compute, result_figures, settings_update

RESULTS_DENIED = "Results are shown to the organisation's owners and facilitators."
# Inputs that cannot be scored are the request's content, not a server fault.
UNSCORABLE = 422


def _assessment_for_results(
    request: AuthenticatedHttpRequest, assessment_id: str
) -> tuple[Assessment, Membership]:
    return get_assessment_for_user(request, assessment_id, write=True, denied=RESULTS_DENIED)


@login_required
def results(request: AuthenticatedHttpRequest, assessment_id: str) -> HttpResponse:
    assessment, membership = _assessment_for_results(request, assessment_id)
    form = ScoringSettingsForm(
        rubric=assessment.rubric,
        targets=assessment.targets,
        weights=assessment.weights,
        repositories_in_scope=assessment.repositories_in_scope,
    )
    return _render_results(request, assessment, membership, form)


@login_required
@require_POST
def results_settings(request: AuthenticatedHttpRequest, assessment_id: str) -> HttpResponse:
    assessment, membership = _assessment_for_results(request, assessment_id)
    form = ScoringSettingsForm(
        request.POST,
        rubric=assessment.rubric,
        targets=assessment.targets,
        weights=assessment.weights,
        repositories_in_scope=assessment.repositories_in_scope,
    )
    if not form.is_valid():
        return _render_results(request, assessment, membership, form, status=400)
    settings_update(
        assessment=assessment,
        targets=form.targets(),
        weights=form.weights(),
        repositories_in_scope=form.cleaned_data["repositories_in_scope"],
    )
    messages.success(request, "Targets and weights saved; the results below use them.")
    return redirect("reports:results", assessment_id=assessment.pk)


def _render_results(
    request: AuthenticatedHttpRequest,
    assessment: Assessment,
    membership: Membership,
    form: ScoringSettingsForm,
    status: int = 200,
) -> HttpResponse:
    try:
        view = result_compute(assessment=assessment)
    except ResultUnavailable as exc:
        return _render_unscorable(
            request, assessment, membership, str(exc), form, UNSCORABLE if status == 200 else status
        )
    context = {"assessment": assessment, "membership": membership, "form": form}
    result = view.data
    context.update(
        {
            "result": result,
            "computed_at": view.computed_at,
            "p": present(result, assessment.rubric),
            "charts": result_figures(view),
            "tables": {
                "radar": charts.radar_table(result),
                "heatmap": charts.heatmap_table(result),
                "review": charts.review_table(result),
            },
            "processes": processes.backlog_context(assessment, result),
            "scan_coverage": scans.scan_coverage(assessment),
            "plan": plans.plan_for(assessment, result),
            "reach": gate_reach(assessment, result),
        }
    )
    return render(request, "reports/results.html", context, status=status)


def _render_unscorable(
    request: AuthenticatedHttpRequest,
    assessment: Assessment,
    membership: Membership,
    error: str,
    form: ScoringSettingsForm | None = None,
    status: int = UNSCORABLE,
) -> HttpResponse:
    """The stored inputs (usually targets or weights) cannot be scored: say why, and keep the
    settings form on the page so the leader can put it right."""
    if form is None:
        form = ScoringSettingsForm(
            rubric=assessment.rubric,
            targets=assessment.targets,
            weights=assessment.weights,
            repositories_in_scope=assessment.repositories_in_scope,
        )
    context = {"assessment": assessment, "membership": membership, "form": form, "error": error}
    return render(request, "reports/results.html", context, status=status)


# --- The gap report -----------------------------------------------------------------------


@login_required
def report(request: AuthenticatedHttpRequest, assessment_id: str) -> HttpResponse:
    assessment, membership = _assessment_for_results(request, assessment_id)
    try:
        result = result_compute(assessment=assessment).data
    except ResultUnavailable as exc:
        return _render_unscorable(request, assessment, membership, str(exc))
    comparison = comparison_for(assessment)
    context = report_context(
        assessment=assessment,
        result=result,
        for_pdf=False,
        branding=branding_for(assessment, request.user),
        comparison=comparison,
    )
    context.update(
        {
            "membership": membership,
            "jobs": assessment.report_jobs.filter(status=ReportJob.Status.SUCCEEDED)[:5],
            "current_job": _current_job(assessment, request),
            "others": assessment.organisation.assessments.exclude(pk=assessment.pk),
            "shares": assessment.share_links.all()[:20],
            "fresh_share": request.session.pop(f"fresh_share:{assessment.pk}", None),
            "tables_available": exports.TABLES,
        }
    )
    return render(request, "reports/report_screen.html", context)


def _current_job(assessment: Assessment, request: AuthenticatedHttpRequest) -> ReportJob | None:
    job_id = request.session.get(f"report_job:{assessment.pk}")
    return assessment.report_jobs.filter(pk=job_id).first() if job_id else None


@login_required
@require_POST
def report_pdf(request: AuthenticatedHttpRequest, assessment_id: str) -> HttpResponse:
    assessment, _membership = _assessment_for_results(request, assessment_id)
    paper = request.POST.get("paper", "a4")
    if paper not in ReportJob.Paper.values:
        return HttpResponse("Choose A4 or US Letter.", status=400, content_type="text/plain")
    try:
        job = pdf_request(assessment=assessment, user=request.user, paper=paper)
    except ResultUnavailable as exc:
        return HttpResponse(
            f"This assessment cannot be scored: {exc}", status=409, content_type="text/plain"
        )
    request.session[f"report_job:{assessment.pk}"] = str(job.pk)
    if request.htmx:
        return render(request, "reports/_job.html", {"assessment": assessment, "job": job})
    return redirect("reports:report", assessment_id=assessment.pk)


@login_required
def report_job(request: AuthenticatedHttpRequest, assessment_id: str, job_id: str) -> HttpResponse:
    """The job's state: a progress partial polled by htmx, stopping once the file is ready."""
    assessment, _membership = _assessment_for_results(request, assessment_id)
    job = _job_or_404(assessment, job_id)
    requeue_if_stuck(job)
    if not request.htmx:
        return redirect("reports:report", assessment_id=assessment.pk)
    response = render(request, "reports/_job.html", {"assessment": assessment, "job": job})
    if job.done:
        response.status_code = HttpResponseStopPolling.status_code
    return response


@login_required
def report_download(
    request: AuthenticatedHttpRequest, assessment_id: str, job_id: str
) -> HttpResponse:
    assessment, _membership = _assessment_for_results(request, assessment_id)
    job = _job_or_404(assessment, job_id)
    if job.status != ReportJob.Status.SUCCEEDED or not job.file:
        raise Http404
    return _attachment(job.file.open("rb").read(), job.filename, "application/pdf")


def _job_or_404(assessment: Assessment, job_id: str) -> ReportJob:
    try:
        return assessment.report_jobs.get(pk=job_id)
    except (ReportJob.DoesNotExist, ValueError, ValidationError):
        raise Http404 from None


def _attachment(data: bytes, filename: str, content_type: str) -> HttpResponse:
    # Downloads are never shown inline: the browser saves them.
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


EXPORT_KINDS = {
    "answers.csv": "answers",
    "scores.csv": "scores",
    "findings.csv": "findings",
    "roadmap.csv": "roadmap",
    "plan.csv": "plan",
    "delivery.csv": "delivery",
    "pilot-backlog.csv": "pilot_backlog",
    "workshop.csv": "workshop",
    "workbook.xlsx": "xlsx",
    "result.json": "json",
}


@login_required
def export(request: AuthenticatedHttpRequest, assessment_id: str, kind: str) -> HttpResponse:
    assessment, _membership = _assessment_for_results(request, assessment_id)
    if kind not in EXPORT_KINDS:
        raise Http404
    result = result_compute(assessment=assessment).data
    stamp = timezone.now().strftime("%Y-%m-%d")
    what = EXPORT_KINDS[kind]
    if what == "json":
        return _attachment(
            exports.to_json(assessment, result), f"opready-result-{stamp}.json", "application/json"
        )
    frames = exports.tables(assessment, result)
    if what != "xlsx" and what not in frames:
        raise Http404  # no delivery records (or no workshop), so no such table
    if what == "xlsx":
        return _attachment(
            exports.to_xlsx(frames),
            f"opready-{stamp}.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    return _attachment(
        exports.to_csv(frames[what]), f"opready-{what}-{stamp}.csv", "text/csv; charset=utf-8"
    )


@login_required
def comparison(
    request: AuthenticatedHttpRequest, assessment_id: str, other_id: str
) -> HttpResponse:
    assessment, membership = _assessment_for_results(request, assessment_id)
    other, _m = _assessment_for_results(request, other_id)
    if other.organisation_id != assessment.organisation_id or other.pk == assessment.pk:
        raise Http404
    earlier, later = sorted([assessment, other], key=lambda a: a.created_at)
    data = compare(later, earlier)
    return render(
        request,
        "reports/compare.html",
        {
            "assessment": later,
            "previous": earlier,
            "membership": membership,
            "comparison": data,
            "trend": charts.figure_json(charts.trend(data)) if data else None,
            "trend_table": charts.trend_table(data) if data else [],
        },
    )


# --- The plan editor -------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def plan(request: AuthenticatedHttpRequest, assessment_id: str) -> HttpResponse:
    """The roadmap as a plan to edit: one form per item (status, owner, target quarter, note).
    A post saves one item; htmx swaps the whole editor, since a status moves an item between
    horizons. Refused input is shown beside the item and saves nothing."""
    assessment, membership = _assessment_for_results(request, assessment_id)
    try:
        result = result_compute(assessment=assessment).data
    except ResultUnavailable as exc:
        return _render_unscorable(request, assessment, membership, str(exc))
    if request.method == "GET":
        return _render_plan(request, assessment, membership, result)
    form = PlanItemForm(request.POST)
    item_id = str(request.POST.get("item", ""))[:80]
    if not form.is_valid():
        errors = [
            f"{form.fields[name].label or name.capitalize()}: {message}"
            if name in form.fields
            else str(message)
            for name, messages_ in form.errors.items()
            for message in messages_
        ]
        return _render_plan(
            request,
            assessment,
            membership,
            result,
            refused=(item_id, errors, form.data),
            status=400,
        )
    data = form.cleaned_data
    try:
        decision = plans.plan_item_update(
            assessment=assessment,
            result=result,
            item_id=data["item"],
            edit=plans.Edit(data["status"], data["owner"], data["quarter"], data["note"]),
            version=data["version"],
            user=request.user,
        )
    except plans.StaleEdit as exc:
        return _render_plan(
            request, assessment, membership, result, refused=(item_id, [str(exc)], None), status=409
        )
    except plans.PlanEditRefused as exc:
        return _render_plan(
            request, assessment, membership, result, refused=(item_id, [str(exc)], None), status=400
        )
    title = next(i["title"] for i in result["roadmap"] if i["id"] == decision.item_id)
    saved = f"Saved “{title}”."
    if request.htmx:
        return _render_plan(
            request, assessment, membership, result, saved=(decision.item_id, saved)
        )
    messages.success(request, saved)
    return redirect(reverse("reports:plan", args=[assessment.pk]) + f"#plan-{decision.item_id}")


def _render_plan(
    request: AuthenticatedHttpRequest,
    assessment: Assessment,
    membership: Membership,
    result: dict[str, Any],
    *,
    refused: tuple[str, list[str], Any] | None = None,
    saved: tuple[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    data = plans.plan_for(assessment, result)
    items = [i for h in data["horizons"] for i in h["items"]] + data["appendix"] + data["rejected"]
    unknown_item_errors: list[str] = []
    for item in items:
        item["values"] = item["decision"]
    if refused:
        item_id, errors, posted = refused
        target = next((i for i in items if i["id"] == item_id), None)
        if target is None:
            unknown_item_errors = errors
        else:
            target["errors"] = errors
            if posted is not None:  # show what was typed, so it can be put right
                target["values"] = {
                    **target["decision"],
                    **{k: str(posted.get(k, ""))[:1000] for k in plans.FIELDS},
                }
    if saved:
        target = next((i for i in items if i["id"] == saved[0]), None)
        if target is not None:
            target["saved"] = saved[1]
    context = {
        "assessment": assessment,
        "membership": membership,
        "plan": data,
        "plan_errors": unknown_item_errors,
        "statuses": PlanDecision.Status.choices,
    }
    template = "reports/plan.html#plan-editor" if request.htmx else "reports/plan.html"
    # htmx swaps only 2xx answers: a refused edit comes back as the editor with its message.
    code = 200 if request.htmx else status
    response = render(request, template, context, status=code)
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- Share links ---------------------------------------------------------------------------


@login_required
@require_POST
def share_create(request: AuthenticatedHttpRequest, assessment_id: str) -> HttpResponse:
    assessment, _membership = _assessment_for_results(request, assessment_id)
    try:
        days = int(request.POST.get("days", "30"))
    except ValueError:
        days = 0
    if not 1 <= days <= 365:
        messages.error(request, "A share link lasts from 1 to 365 days.")
        return redirect("reports:report", assessment_id=assessment.pk)
    token = new_token()
    ShareLink.objects.create(
        assessment=assessment,
        token_hash=hash_token(token),
        created_by=request.user,
        expires_at=timezone.now() + timedelta(days=days),
    )
    request.session[f"fresh_share:{assessment.pk}"] = request.build_absolute_uri(
        reverse("reports:shared", args=[token])
    )
    messages.success(request, "Share link created. Copy it now: it is shown only once.")
    return redirect("reports:report", assessment_id=assessment.pk)


@login_required
@require_POST
def share_revoke(
    request: AuthenticatedHttpRequest, assessment_id: str, share_id: str
) -> HttpResponse:
    assessment, _membership = _assessment_for_results(request, assessment_id)
    try:
        link = assessment.share_links.get(pk=share_id)
    except (ShareLink.DoesNotExist, ValueError, ValidationError):
        raise Http404 from None
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])
    messages.success(request, "Share link revoked: it no longer opens the report.")
    return redirect("reports:report", assessment_id=assessment.pk)


SESSION_SHARES = "shared_reports"


def shared(request: HttpRequest, token: str) -> HttpResponse:
    """Exchange a share token for the session and go to a URL without it. Failed tokens are
    counted per client address; past the limit every token is refused for a minute."""
    # The invitation links' limiter, on purpose: one budget of failed guesses per address for
    # both kinds of token, so alternating between them buys a guesser nothing.
    if rate_limited(request):
        response = render(request, "survey/rate_limited.html", status=429)
        response["Retry-After"] = "60"
        response["Referrer-Policy"] = "no-referrer"
        add_never_cache_headers(response)
        return response
    link = (
        ShareLink.objects.filter(
            token_hash=hash_token(token), revoked_at__isnull=True, expires_at__gt=timezone.now()
        ).first()
        if 0 < len(token) <= 128
        else None
    )
    if link is None:
        count_failure(request)
        response = render(request, "reports/share_unusable.html", status=404)
    else:
        ShareLink.objects.filter(pk=link.pk).update(views=F("views") + 1)
        allowed = [s for s in request.session.get(SESSION_SHARES, []) if s != str(link.pk)]
        request.session[SESSION_SHARES] = [*allowed, str(link.pk)][-20:]
        response = redirect("reports:shared_report", share_id=link.pk)
    response["Referrer-Policy"] = "no-referrer"
    add_never_cache_headers(response)
    return response


def shared_report(request: HttpRequest, share_id: str) -> HttpResponse:
    if str(share_id) not in request.session.get(SESSION_SHARES, []):
        raise Http404
    link = (
        ShareLink.objects.select_related("assessment", "assessment__organisation")
        .filter(pk=share_id)
        .first()
    )
    if link is None or not link.is_usable():
        # Revoked or expired while the page was open: the same headers as every share answer.
        gone = render(request, "reports/share_unusable.html", status=404)
        gone["Referrer-Policy"] = "no-referrer"
        add_never_cache_headers(gone)
        return gone
    assessment = link.assessment
    result = result_compute(assessment=assessment).data
    # Readers see the report as the person who shared it would have made it.
    brand = branding_for(assessment, link.created_by)
    comparison_data = comparison_for(assessment)
    context = report_context(
        assessment=assessment,
        result=result,
        for_pdf=False,
        branding=brand,
        comparison=comparison_data,
    )
    context["shared"] = link
    context["pdf"] = _current_pdfs(assessment, result, brand, comparison_data).first()
    response = render(request, "reports/report_shared.html", context)
    response["Referrer-Policy"] = "no-referrer"
    add_never_cache_headers(response)
    return response


def shared_download(request: HttpRequest, share_id: str, job_id: str) -> HttpResponse:
    if str(share_id) not in request.session.get(SESSION_SHARES, []):
        raise Http404
    link = ShareLink.objects.filter(pk=share_id).first()
    if link is None or not link.is_usable():
        raise Http404
    assessment = link.assessment
    job = _job_or_404(assessment, job_id)
    result = result_compute(assessment=assessment).data
    brand = branding_for(assessment, link.created_by)
    # Only a PDF of the report as it stands: an older file may show results, names or
    # findings the owner has since changed.
    current = _current_pdfs(assessment, result, brand, comparison_for(assessment))
    if not current.filter(pk=job.pk).exists():
        raise Http404
    return _attachment(job.file.open("rb").read(), job.filename, "application/pdf")


def _current_pdfs(
    assessment: Assessment,
    result: dict[str, Any],
    brand: RenderBranding | None,
    comparison_data: dict[str, Any] | None,
) -> QuerySet[ReportJob]:
    """Finished PDFs of the report as it would be rendered now, in either paper size."""
    current = [
        render_hash(
            result,
            assessment=assessment,
            paper=paper,
            branding=brand,
            comparison=comparison_data,
        )
        for paper in ReportJob.Paper.values
    ]
    return assessment.report_jobs.filter(
        status=ReportJob.Status.SUCCEEDED, render_hash__in=current
    ).exclude(file="")


# --- Branding ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def branding(request: AuthenticatedHttpRequest) -> HttpResponse:
    profile, _created = Branding.objects.get_or_create(user=request.user)
    form = BrandingForm(
        request.POST or None,
        request.FILES or None,
        initial={"firm_name": profile.firm_name, "colour": profile.colour},
    )
    if request.method == "POST" and form.is_valid():
        profile.firm_name = form.cleaned_data["firm_name"]
        profile.colour = form.cleaned_data["colour"]
        if form.cleaned_data.get("remove_logo"):
            profile.logo, profile.logo_type = b"", ""
        elif form.cleaned_data.get("logo"):
            profile.logo, profile.logo_type = form.cleaned_data["logo"]
        profile.save()
        messages.success(
            request, "Branding saved. It appears on reports you make for your client organisations."
        )
        return redirect("reports:branding")
    return render(
        request,
        "reports/branding.html",
        {"form": form, "profile": profile},
        status=400 if form.is_bound and form.errors else 200,
    )
