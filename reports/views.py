"""Results and reports for an assessment's owners and facilitators."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from assessments.access import AuthenticatedHttpRequest, get_assessment_for_user
from assessments.models import Assessment, Membership
from reports import charts
from reports.forms import ScoringSettingsForm
from reports.presenters import present
from reports.services import ResultUnavailable, result_compute, settings_update

RESULTS_DENIED = "Results are shown to the organisation's owners and facilitators."


def _assessment_for_results(
    request: AuthenticatedHttpRequest, assessment_id: str
) -> tuple[Assessment, Membership]:
    assessment, membership = get_assessment_for_user(request, assessment_id)
    if not membership.can_write:
        raise PermissionDenied(RESULTS_DENIED)
    return assessment, membership


@login_required
def results(request: AuthenticatedHttpRequest, assessment_id: str) -> HttpResponse:
    assessment, membership = _assessment_for_results(request, assessment_id)
    form = ScoringSettingsForm(
        rubric=assessment.rubric, targets=assessment.targets, weights=assessment.weights
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
    )
    if not form.is_valid():
        return _render_results(request, assessment, membership, form, status=400)
    settings_update(assessment=assessment, targets=form.targets(), weights=form.weights())
    messages.success(request, "Targets and weights saved; the results below use them.")
    return redirect("reports:results", assessment_id=assessment.pk)


def _render_results(
    request: AuthenticatedHttpRequest,
    assessment: Assessment,
    membership: Membership,
    form: ScoringSettingsForm,
    status: int = 200,
) -> HttpResponse:
    context = {"assessment": assessment, "membership": membership, "form": form}
    try:
        view = result_compute(assessment=assessment)
    except ResultUnavailable as exc:
        context["error"] = str(exc)
        return render(
            request, "reports/results.html", context, status=500 if status == 200 else status
        )
    result = view.data
    context.update(
        {
            "result": result,
            "computed_at": view.computed_at,
            "p": present(result, assessment.rubric),
            "charts": {
                "radar": charts.figure_json(charts.radar(result)),
                "heatmap": charts.figure_json(charts.heatmap(result)),
                "review": charts.figure_json(charts.review_wall(result)),
            },
            "tables": {
                "radar": charts.radar_table(result),
                "heatmap": charts.heatmap_table(result),
                "review": charts.review_table(result),
            },
        }
    )
    return render(request, "reports/results.html", context, status=status)
