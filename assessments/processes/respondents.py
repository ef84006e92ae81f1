"""The optional survey section on processes: respondents list or confirm the processes they
run, so the catalogue starts from the people who do the work. Leaders switch it on per
assessment and see counts and medians on the catalogue page, never who said what."""

from __future__ import annotations

import math
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_POST

from assessments.access import (
    AuthenticatedHttpRequest,
    get_assessment_for_user,
    get_respondent_for_session,
)
from assessments.processes import services
from assessments.processes.views import _org

MAX_RUNS = 1_000_000
MAX_MINUTES = 100_000


@login_required
@require_POST
def ask_toggle(request: AuthenticatedHttpRequest, assessment_id: str) -> HttpResponse:
    assessment, _membership = get_assessment_for_user(request, assessment_id, write=True)
    assessment.ask_processes = request.POST.get("ask") == "1"
    assessment.save(update_fields=["ask_processes"])
    messages.success(
        request,
        "Respondents are asked which processes they run."
        if assessment.ask_processes
        else "Respondents are no longer asked about processes.",
    )
    return redirect("assessments:detail", assessment_id=assessment.pk)


def _number(text: str, high: float) -> float | None:
    text = text.strip().replace(",", ".")
    if not text:
        return None
    value = float(text)  # ValueError for text
    if not math.isfinite(value) or not 0 <= value <= high:
        raise ValueError
    return value


@require_http_methods(["GET", "POST"])
def respondent_processes(request: HttpRequest, respondent_id: str) -> HttpResponse:
    respondent = get_respondent_for_session(request, respondent_id)
    assessment = respondent.assessment
    if not assessment.ask_processes:
        raise Http404
    if not respondent.can_answer:
        return redirect("survey:home", respondent_id=respondent.pk)
    processes = services.catalogue(assessment.organisation, services.assessment_scope(assessment))
    previous = {r.process_id: r for r in respondent.process_reports.all() if r.process_id}
    added = [r for r in respondent.process_reports.all() if not r.process_id]
    errors: dict[str, str] = {}
    data: Any = request.POST if request.method == "POST" else None
    rows: list[dict[str, Any]] = []
    for process in processes:
        key = str(process.pk)
        if data is not None:
            runs_text, minutes_text = data.get(f"runs-{key}", ""), data.get(f"minutes-{key}", "")
            checked = data.get(f"run-{key}") == "on"
        else:
            report = previous.get(process.pk)
            runs_text = (
                ""
                if report is None or report.runs_per_week is None
                else f"{report.runs_per_week:g}"
            )
            minutes_text = (
                ""
                if report is None or report.minutes_per_run is None
                else f"{report.minutes_per_run:g}"
            )
            checked = report is not None
        rows.append(
            {
                "process": process,
                "key": key,
                "checked": checked,
                "runs": runs_text,
                "minutes": minutes_text,
            }
        )
    new_rows: list[dict[str, str]] = []
    for index in range(services.MAX_SUGGESTIONS):
        if data is not None:
            entry = {
                f: str(data.get(f"new-{index}-{f}", "")).strip()
                for f in ("name", "runs", "minutes", "note")
            }
        else:
            r = added[index] if index < len(added) else None
            entry = {
                "name": r.name if r else "",
                "runs": f"{r.runs_per_week:g}" if r and r.runs_per_week is not None else "",
                "minutes": f"{r.minutes_per_run:g}" if r and r.minutes_per_run is not None else "",
                "note": r.note if r else "",
            }
        entry["index"] = str(index)
        new_rows.append(entry)
    if data is not None:
        confirmed: dict[Any, tuple[float | None, float | None]] = {}
        for row in rows:
            try:
                runs = _number(row["runs"], MAX_RUNS)
                minutes = _number(row["minutes"], MAX_MINUTES)
            except ValueError:
                errors[f"runs-{row['key']}"] = (
                    "Give runs a week and minutes as numbers (0 or more)."
                )
                continue
            if row["checked"]:
                confirmed[row["process"].pk] = (runs, minutes)
        suggestions = []
        for row in new_rows:
            if not row["name"]:
                continue
            if len(row["name"]) > 200 or len(row["note"]) > 500:
                errors[f"new-{row['index']}"] = (
                    "Keep the name under 200 and the note under 500 characters."
                )
                continue
            try:
                suggestions.append(
                    (
                        row["name"],
                        _number(row["runs"], MAX_RUNS),
                        _number(row["minutes"], MAX_MINUTES),
                        row["note"],
                    )
                )
            except ValueError:
                errors[f"new-{row['index']}"] = (
                    "Give runs a week and minutes as numbers (0 or more)."
                )
        if not errors:
            services.respondent_reports_save(
                respondent=respondent, confirmed=confirmed, suggestions=suggestions
            )
            messages.success(
                request,
                "Thank you: your processes are saved. You can change them until you submit.",
            )
            return redirect("survey:home", respondent_id=respondent.pk)
    response = render(
        request,
        "processes/respondent.html",
        {
            "respondent": respondent,
            "assessment": assessment,
            "rows": rows,
            "new_rows": new_rows,
            "errors": errors,
        },
        status=400 if errors else 200,
    )
    add_never_cache_headers(response)
    return response


@login_required
@require_POST
def suggestion_add(request: AuthenticatedHttpRequest, org_id: str) -> HttpResponse:
    org, _membership = _org(request, org_id, write=True)
    try:
        process = services.suggestion_accept(
            organisation=org, name=str(request.POST.get("name", "")), user=request.user
        )
    except LookupError:
        # A stale page (someone else added it first) or a hand-made post: say so, change nothing.
        messages.error(
            request, "No process of that name is waiting among respondents' suggestions."
        )
        return redirect("processes:catalogue", org_id=org.pk)
    messages.success(
        request, f"Added {process.name} to the catalogue. Fill in what respondents could not."
    )
    return redirect("processes:detail", org_id=org.pk, process_id=process.pk)
