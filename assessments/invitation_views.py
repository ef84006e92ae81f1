"""Invitation management pages: import people from CSV (pasted or uploaded), e-mail their
links, remind those who have not finished, and download the links just made as CSV."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling

from assessments import invitations, mailouts
from assessments.access import AuthenticatedHttpRequest, get_assessment_for_user
from assessments.forms import InvitationImportForm
from assessments.models import Mailout
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


def _announce(request: AuthenticatedHttpRequest, mailout: Mailout | None, what: str) -> None:
    if mailout is None:
        return
    messages.info(
        request,
        f"Sending {mailout.total} {what}{'s' if mailout.total != 1 else ''} in the background: "
        "the progress is shown below.",
    )


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
        mailout = mailouts.invitations_send(
            assessment=assessment, links=links, sender=_sender(request), user=request.user
        )
        _announce(request, mailout, "invitation")
        without = sum(1 for link in links if not link.email)
        if without:
            messages.info(request, f"{without} without an e-mail address: copy their links below.")
    return back  # the new links to copy come first, the sending's progress below them


@login_required
@require_POST
def invitations_remind(request: AuthenticatedHttpRequest, assessment_id: str) -> HttpResponse:
    assessment, _membership = get_assessment_for_user(request, assessment_id, write=True)
    back = redirect("assessments:detail", assessment_id=assessment.pk)
    try:
        mailout = mailouts.reminders_send(
            assessment=assessment, sender=_sender(request), user=request.user
        )
    except invitations.InvitationInputError as exc:
        messages.error(request, " ".join(exc.problems))
        return back
    if mailout is None:
        messages.info(request, "Nobody to remind: everyone with an e-mail address has finished.")
        return back
    _announce(request, mailout, "reminder")
    return redirect(reverse("assessments:detail", args=[assessment.pk]) + "#mailouts")


@login_required
@require_GET
def mailout_detail(
    request: AuthenticatedHttpRequest, assessment_id: str, mailout_id: str
) -> HttpResponse:
    """A mailout's progress: for htmx the partial, polled until it ends (then 286 stops the
    polling); without JavaScript, the assessment page where it is shown."""
    assessment, _membership = get_assessment_for_user(request, assessment_id, write=True)
    mailout = get_object_or_404(assessment.mailouts, pk=mailout_id)
    mailouts.requeue_if_stuck(mailout)
    if not request.htmx:
        return redirect(reverse("assessments:detail", args=[assessment.pk]) + "#mailouts")
    response = render(
        request,
        "assessments/_mailout.html",
        {"assessment": assessment, "mailout": mailout, "failed": mailouts.failed_items(mailout)},
    )
    if mailout.done:
        response.status_code = HttpResponseStopPolling.status_code
    return response


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
