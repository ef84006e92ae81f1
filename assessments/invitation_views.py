"""Invitation management pages: import people from CSV (pasted or uploaded), e-mail their
links, remind those who have not finished, and download the links just made as CSV."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET, require_POST

from assessments import invitations
from assessments.access import AuthenticatedHttpRequest, get_assessment_for_user
from assessments.forms import InvitationImportForm
from assessments.views import FRESH_LINKS, LINKS_DOWNLOAD


def _remember(
    request: AuthenticatedHttpRequest, assessment_id: object, links: list[invitations.FreshLink]
) -> None:
    """Show the new links once on the assessment page, which also keeps them for the CSV
    download in this browser session until the next batch replaces them."""
    key = FRESH_LINKS.format(assessment_id)
    request.session[key] = request.session.get(key, []) + [link.as_session() for link in links]


def _sender(request: AuthenticatedHttpRequest) -> str:
    user = request.user
    return user.get_full_name() or user.get_username()


def _report(request: AuthenticatedHttpRequest, outcome: invitations.SendOutcome, what: str) -> None:
    if outcome.failed:
        messages.error(
            request,
            f"The {what} could not be e-mailed ({outcome.failed}). The links below work: copy "
            "them or download them as CSV.",
        )
        return
    text = f"E-mailed {outcome.sent} {what}{'s' if outcome.sent != 1 else ''}."
    if outcome.without_address:
        text += f" {outcome.without_address} without an e-mail address: copy their links below."
    messages.success(request, text)


@login_required
@require_POST
def invitations_import(request: AuthenticatedHttpRequest, assessment_id: str) -> HttpResponse:
    assessment, _membership = get_assessment_for_user(request, assessment_id, write=True)
    back = redirect("assessments:detail", assessment_id=assessment.pk)
    if not assessment.is_open:
        messages.error(request, "This assessment is closed: reopen it to invite people.")
        return back
    form = InvitationImportForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return back
    try:
        people = invitations.parse_people(
            form.people_text(),
            existing_emails=invitations.existing_emails(assessment),
            roles=assessment.rubric.audiences,
        )
        links = invitations.invitations_import(
            assessment=assessment, people=people, base_url=request.build_absolute_uri("/")[:-1]
        )
    except invitations.InvitationInputError as exc:
        messages.error(request, "Nobody was invited: " + " ".join(exc.problems[:20]))
        if len(exc.problems) > 20:
            messages.error(request, f"… and {len(exc.problems) - 20} more problems.")
        return back
    _remember(request, assessment.pk, links)
    messages.success(request, f"Created {len(links)} personal link(s).")
    if form.cleaned_data["send_email"]:
        outcome = invitations.links_send(
            assessment=assessment, links=links, sender=_sender(request), now=timezone.now()
        )
        _report(request, outcome, "invitation")
    return back


@login_required
@require_POST
def invitations_remind(request: AuthenticatedHttpRequest, assessment_id: str) -> HttpResponse:
    assessment, _membership = get_assessment_for_user(request, assessment_id, write=True)
    back = redirect("assessments:detail", assessment_id=assessment.pk)
    try:
        outcome, unsent = invitations.reminders_send(assessment=assessment, sender=_sender(request))
    except invitations.InvitationInputError as exc:
        messages.error(request, " ".join(exc.problems))
        return back
    if unsent:
        _remember(request, assessment.pk, unsent)
    if not outcome.sent and not outcome.failed:
        messages.info(request, "Nobody to remind: everyone with an e-mail address has finished.")
        return back
    _report(request, outcome, "reminder")
    return back


@login_required
@require_GET
def invitation_links_csv(request: AuthenticatedHttpRequest, assessment_id: str) -> HttpResponse:
    assessment, _membership = get_assessment_for_user(request, assessment_id, write=True)
    links = request.session.get(LINKS_DOWNLOAD.format(assessment.pk)) or []
    if not links:
        messages.error(
            request,
            "No new links to download: links can be downloaded only right after they are made.",
        )
        return redirect("assessments:detail", assessment_id=assessment.pk)
    response = HttpResponse(
        invitations.links_csv(links).encode("utf-8-sig"), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.now().strftime("%Y-%m-%d")
    response["Content-Disposition"] = f'attachment; filename="opready-links-{stamp}.csv"'
    add_never_cache_headers(response)
    return response
