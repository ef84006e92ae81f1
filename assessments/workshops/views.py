"""The facilitator's side: start a workshop, the console, the big screen, and the actions
that pace the room. Owners and facilitators of the organisation only; outsiders get 404.

The console and the big screen poll their own URL with `?v=<version>` (htmx, every second):
204 while nothing changed, the live fragment when something did, 286 (stop polling) once
the workshop is over and the view already shows it.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.views.decorators.http import require_http_methods, require_POST

from assessments.access import (
    AuthenticatedHttpRequest,
    get_assessment_for_user,
    get_workshop_for_user,
)
from assessments.workshops import presenters, services
from assessments.workshops.core import WorkshopRuleError
from assessments.workshops.forms import AgreeForm, DissentForm, NotesForm, WorkshopForm
from assessments.workshops.models import Workshop

DENIED = "Workshops are run by the organisation's owners and facilitators."


def join_url(request: HttpRequest, workshop: Workshop) -> str:
    return request.build_absolute_uri(reverse("workshops:join_code", args=[workshop.code]))


def poll_response(request: HttpRequest, counter: int, finished: bool) -> HttpResponse | None:
    """204 (or 286 to stop) when the poller already shows `counter`; None to render."""
    seen = request.GET.get("v", "")
    if request.headers.get("HX-Request") == "true" and seen == str(counter):
        response = HttpResponse(status=286 if finished else 204)
        add_never_cache_headers(response)
        return response
    return None


def _live(response: HttpResponse) -> HttpResponse:
    add_never_cache_headers(response)
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@require_http_methods(["GET", "POST"])
def workshop_list(request: AuthenticatedHttpRequest, assessment_id: str) -> HttpResponse:
    assessment, membership = get_assessment_for_user(
        request, assessment_id, write=True, denied=DENIED
    )
    form = WorkshopForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                workshop = services.workshop_create(
                    assessment=assessment,
                    title=form.cleaned_data["title"],
                    minutes_per_capability=form.cleaned_data["minutes_per_capability"],
                    created_by=request.user,
                )
            except WorkshopRuleError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    "Workshop ready. Put the big screen on the projector; people join with "
                    "the code.",
                )
                return redirect("workshops:console", assessment.pk, workshop.pk)
        status = 400
    workshops = assessment.workshops.annotate(
        n_items=Count("items", distinct=True),
        n_agreed=Count("items", filter=Q(items__state="agreed"), distinct=True),
    )
    return render(
        request,
        "workshops/list.html",
        {
            "assessment": assessment,
            "membership": membership,
            "workshops": workshops,
            "form": form,
        },
        status=status,
    )


@login_required
def console(request: AuthenticatedHttpRequest, assessment_id: str, workshop_id: str) -> Any:
    workshop, membership = get_workshop_for_user(request, assessment_id, workshop_id)
    early = poll_response(request, workshop.version, workshop.is_finished)
    if early is not None:
        return early
    url = join_url(request, workshop)
    context = presenters.console_context(workshop, url)
    if request.htmx:
        return _live(render(request, "workshops/console.html#console-live", context))
    context["membership"] = membership
    return _live(render(request, "workshops/console.html", context))


@login_required
def screen(request: AuthenticatedHttpRequest, assessment_id: str, workshop_id: str) -> Any:
    workshop, _membership = get_workshop_for_user(request, assessment_id, workshop_id)
    early = poll_response(request, workshop.version, workshop.is_finished)
    if early is not None:
        return early
    context = presenters.screen_context(workshop, join_url(request, workshop))
    template = "workshops/screen.html#screen-live" if request.htmx else "workshops/screen.html"
    return _live(render(request, template, context))


ACTIONS = {
    "reveal": services.item_reveal,
    "revote": services.item_revote,
    "pause": services.workshop_pause,
    "resume": services.workshop_resume,
    "finish": services.workshop_finish,
}
DONE = {
    "open": "Voting is open.",
    "next": "Next capability: voting is open.",
    "reveal": "Votes revealed.",
    "revote": "Re-vote open: the first round is kept for the record.",
    "pause": "Paused. Resume any time, another day too: people continue where they were.",
    "resume": "Resumed.",
    "finish": "Workshop finished. Its agreed levels are in the results and the report.",
    "extend": "One more minute on the timer.",
}


@login_required
@require_POST
def workshop_action(
    request: AuthenticatedHttpRequest, assessment_id: str, workshop_id: str
) -> HttpResponse:
    workshop, _membership = get_workshop_for_user(request, assessment_id, workshop_id)
    action = request.POST.get("action", "")
    try:
        if action == "open":
            services.item_open(workshop=workshop, capability_id=request.POST.get("capability", ""))
        elif action == "next":
            if services.item_open_next(workshop=workshop) is None:
                raise WorkshopRuleError("Every capability has an agreed level.")
        elif action == "extend":
            services.timer_extend(workshop=workshop)
        elif action in ACTIONS:
            ACTIONS[action](workshop=workshop)
        else:
            raise WorkshopRuleError("Unknown action.")
    except WorkshopRuleError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, DONE[action])
    return redirect("workshops:console", workshop.assessment_id, workshop.pk)


@login_required
@require_POST
def agree(request: AuthenticatedHttpRequest, assessment_id: str, workshop_id: str) -> Any:
    workshop, _membership = get_workshop_for_user(request, assessment_id, workshop_id)
    form = AgreeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Nothing was recorded: " + form.first_error())
    else:
        try:
            services.item_agree(
                workshop=workshop,
                capability_id=form.cleaned_data["capability"],
                level=form.cleaned_data["level"],
                rationale=form.cleaned_data["rationale"],
            )
        except WorkshopRuleError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request, f"Agreed level {form.cleaned_data['level']} recorded with its rationale."
            )
    return redirect("workshops:console", workshop.assessment_id, workshop.pk)


@login_required
@require_POST
def dissent_add(request: AuthenticatedHttpRequest, assessment_id: str, workshop_id: str) -> Any:
    workshop, _membership = get_workshop_for_user(request, assessment_id, workshop_id)
    form = DissentForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Nothing was recorded: " + form.first_error())
    else:
        try:
            services.dissent_add(
                workshop=workshop,
                capability_id=form.cleaned_data["capability"],
                role=form.cleaned_data["role"],
                who=form.cleaned_data["who"],
                reason=form.cleaned_data["reason"],
            )
        except WorkshopRuleError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "Dissent recorded.")
    return redirect("workshops:console", workshop.assessment_id, workshop.pk)


@login_required
@require_POST
def dissent_delete(
    request: AuthenticatedHttpRequest, assessment_id: str, workshop_id: str, dissent_id: int
) -> HttpResponse:
    workshop, _membership = get_workshop_for_user(request, assessment_id, workshop_id)
    services.dissent_remove(workshop=workshop, dissent_id=dissent_id)
    messages.success(request, "Dissent removed.")
    return redirect("workshops:console", workshop.assessment_id, workshop.pk)


@login_required
@require_POST
def notes_save(request: AuthenticatedHttpRequest, assessment_id: str, workshop_id: str) -> Any:
    workshop, _membership = get_workshop_for_user(request, assessment_id, workshop_id)
    form = NotesForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Notes not saved: " + form.first_error())
    else:
        try:
            services.notes_save(
                workshop=workshop,
                capability_id=form.cleaned_data["capability"],
                notes=form.cleaned_data["notes"],
            )
        except WorkshopRuleError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "Notes saved.")
    return redirect("workshops:console", workshop.assessment_id, workshop.pk)
