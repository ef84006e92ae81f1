"""The participant's side, on a phone and without an account: join with the code, choose a
role and a display name, then vote on whatever capability the room is on.

Joining puts the participant's id in the session; the participant page and the vote check it
(`access.get_participant_for_session`), so a reload, a dropped connection or a late join
lands on the room's current capability, and another browser's participant id finds nothing.
The page polls with `?p=<phase>` every two seconds and gets 204 until the room moves on.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.views.decorators.http import require_http_methods, require_POST

from assessments import ratelimit
from assessments.access import (
    get_participant_for_session,
    participant_in_session,
    remember_participant,
)
from assessments.workshops import presenters, services
from assessments.workshops.core import WorkshopRuleError
from assessments.workshops.forms import CodeForm, JoinForm
from assessments.workshops.models import Participant, Vote, Workshop
from assessments.workshops.views import poll_response

BAD_CODE = (
    "That code doesn't open a workshop. Check it on the big screen: six letters and digits. "
    "A code stops working when its workshop is over."
)


def _failure_key(request: HttpRequest) -> str:
    return f"workshop-code:{ratelimit.client_ip(request)}"


def _rate_limited(request: HttpRequest) -> bool:
    # A room of people behind one office address mistypes codes too, so this limit is its
    # own (WORKSHOP_CODE_RATE_LIMIT_PER_MINUTE) rather than the survey links' one. Like every
    # limit, it lets requests through while the cache is down.
    return ratelimit.over(_failure_key(request), settings.WORKSHOP_CODE_RATE_LIMIT_PER_MINUTE, 60)


def _count_failure(request: HttpRequest) -> None:
    ratelimit.hit(_failure_key(request), 60)


def _htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _private(response: HttpResponse) -> HttpResponse:
    # Not "no-referrer" as on survey links: browsers then send `Origin: null` with the join
    # form, which the CSRF check refuses; a code is short-lived and these pages link nowhere.
    add_never_cache_headers(response)
    return response


def _too_many(request: HttpRequest) -> HttpResponse:
    context = {"form": CodeForm(), "limited": True}
    response = render(request, "workshops/join.html", context, status=429)
    response["Retry-After"] = "60"
    return _private(response)


@require_http_methods(["GET", "POST"])
def join(request: HttpRequest) -> HttpResponse:
    """Type the code shown on the big screen."""
    if _rate_limited(request):
        return _too_many(request)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        workshop = services.workshop_for_code(code=form.cleaned_data["code"])
        if workshop is not None:
            return redirect("workshops:join_code", code=workshop.code)
        _count_failure(request)
        form.add_error("code", BAD_CODE)
    status = 400 if request.method == "POST" else 200
    return _private(render(request, "workshops/join.html", {"form": form}, status=status))


@require_http_methods(["GET", "POST"])
def join_code(request: HttpRequest, code: str) -> HttpResponse:
    """The QR code's address: choose a role and a display name, then in."""
    if _rate_limited(request):
        return _too_many(request)
    workshop = services.workshop_for_code(code=code)
    if workshop is None:
        _count_failure(request)
        form = CodeForm(initial={"code": code[:40]})
        form.is_bound = False
        response = render(
            request, "workshops/join.html", {"form": form, "error": BAD_CODE}, status=404
        )
        return _private(response)
    existing = participant_in_session(request, workshop.pk)
    if existing is not None:
        return _private(redirect("workshops:participant", participant_id=existing))
    join_form = JoinForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if join_form.is_valid():
            try:
                participant = services.participant_join(
                    workshop=workshop,
                    role=join_form.cleaned_data["role"],
                    display_name=join_form.cleaned_data["display_name"],
                )
            except WorkshopRuleError as exc:
                join_form.add_error(None, str(exc))
            else:
                remember_participant(request, participant)
                return _private(redirect("workshops:participant", participant_id=participant.pk))
        status = 400
    context = {"form": join_form, "workshop": workshop, "assessment": workshop.assessment}
    return _private(render(request, "workshops/join_role.html", context, status=status))


def _unchanged(request: HttpRequest) -> HttpResponse | None:
    """204 for a phone's poll while its workshop's phase is the one it shows, before any
    session or database work: two hundred phones poll every two seconds. The answer says
    nothing but "no change" about a workshop id the phone already has."""
    seen, workshop_id = request.GET.get("v", ""), request.GET.get("w", "")
    if not (_htmx(request) and seen and workshop_id):
        return None
    try:
        phase = services.current_phase(uuid.UUID(workshop_id))
    except ValueError:
        return None
    if phase is None or str(phase) != seen:
        return None
    response = HttpResponse(status=204)
    add_never_cache_headers(response)
    return response


def _render_participant(
    request: HttpRequest,
    participant: Participant,
    error: str = "",
    status: int = 200,
    own: Vote | None = None,
) -> HttpResponse:
    context = presenters.participant_context(participant, error, own)
    template = "workshops/participant.html"
    if _htmx(request):
        template += "#participant-live"
    response = render(request, template, context, status=status)
    add_never_cache_headers(response)
    patch_vary_headers(response, ["HX-Request"])
    return response


def participant(request: HttpRequest, participant_id: str) -> HttpResponse:
    quick = _unchanged(request)
    if quick is not None:
        return quick
    found = get_participant_for_session(request, participant_id)
    workshop: Workshop = found.workshop
    early = poll_response(request, workshop.phase, workshop.is_finished)
    if early is not None:
        return early
    return _render_participant(request, found)


@require_POST
def vote(request: HttpRequest, participant_id: str) -> HttpResponse:
    found = get_participant_for_session(request, participant_id)
    try:
        round_number = int(request.POST.get("round", "0"))
    except ValueError:
        round_number = 0
    try:
        stored = services.vote_cast(
            participant=found,
            capability_id=request.POST.get("capability", ""),
            round_number=round_number,
            value=request.POST.get("value", ""),
        )
    except WorkshopRuleError as exc:
        fresh = Participant.objects.select_related(
            "workshop__assessment__organisation", "workshop__current_item"
        ).get(pk=found.pk)
        return _render_participant(request, fresh, error=str(exc), status=409)
    if not _htmx(request):
        return redirect("workshops:participant", participant_id=found.pk)
    return _render_participant(request, found, own=stored)
