"""Inviting people into an organisation, and accepting an invitation.

Views are thin: access check, one call into `assessments.members`, render.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_POST

from assessments import members
from assessments.access import AuthenticatedHttpRequest, get_org_for_user
from assessments.forms import MemberForm, SignupForm
from assessments.models import MemberInvitation, hash_token
from assessments.survey import count_failure, rate_limited

SESSION_INVITE = "member_invitation"
FRESH_INVITE = "fresh_member_invite:{}"


@login_required
@require_POST
def member_add(request: AuthenticatedHttpRequest, org_id: str) -> HttpResponse:
    org, membership = get_org_for_user(request, org_id, write=True)
    if not members.may_invite(membership):
        raise PermissionDenied("Only owners and facilitators can invite people.")
    # Any known role passes the form; member_invite says why a role is refused.
    form = MemberForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter an e-mail address and a role.")
        return redirect("assessments:org_detail", org_id=org.pk)
    try:
        issued = members.member_invite(
            membership=membership, email=form.cleaned_data["email"], role=form.cleaned_data["role"]
        )
    except members.InvitationRefused as exc:
        messages.error(request, str(exc))
        return redirect("assessments:org_detail", org_id=org.pk)
    # The same answer whether or not an account uses this address.
    request.session[FRESH_INVITE.format(org.pk)] = {
        "email": issued.invitation.email,
        "url": request.build_absolute_uri(reverse("member_join", args=[issued.token])),
    }
    messages.success(
        request,
        f"Invitation created for {issued.invitation.email}. Send them the link below: they "
        "join when they accept it.",
    )
    return redirect("assessments:org_detail", org_id=org.pk)


@login_required
@require_POST
def member_invitation_revoke(
    request: AuthenticatedHttpRequest, org_id: str, member_invitation_id: str
) -> HttpResponse:
    org, membership = get_org_for_user(request, org_id, write=True)
    if not members.may_invite(membership):
        raise PermissionDenied("Only owners and facilitators can manage invitations.")
    invitation = get_object_or_404(org.member_invitations, pk=member_invitation_id)
    members.member_invitation_revoke(invitation=invitation)
    messages.success(request, f"Invitation for {invitation.email} revoked.")
    return redirect("assessments:org_detail", org_id=org.pk)


def _private(response: HttpResponse) -> HttpResponse:
    add_never_cache_headers(response)
    response["Referrer-Policy"] = "no-referrer"
    return response


def member_join(request: HttpRequest, token: str) -> HttpResponse:
    """Exchange an invitation token for the session, then go to a URL without it."""
    if rate_limited(request):
        response = render(request, "survey/rate_limited.html", status=429)
        response["Retry-After"] = "60"
        return _private(response)
    invitation = members.member_invitation_redeem(token=token)
    if invitation is None:
        count_failure(request)
        return _private(render(request, "assessments/member_invitation_unusable.html", status=404))
    request.session[SESSION_INVITE] = [str(invitation.pk), invitation.token_hash]
    return _private(redirect("member_accept"))


def _invitation_in_session(request: HttpRequest) -> MemberInvitation | None:
    held = request.session.get(SESSION_INVITE)
    if not (isinstance(held, list) and len(held) == 2):
        return None
    invitation = (
        MemberInvitation.objects.select_related("organisation", "invited_by")
        .filter(pk=held[0], token_hash=held[1])
        .first()
    )
    return invitation if invitation is not None and invitation.is_usable() else None


@require_http_methods(["GET", "POST"])
def member_accept(request: HttpRequest) -> HttpResponse:
    invitation = _invitation_in_session(request)
    if invitation is None:
        return _private(render(request, "assessments/member_invitation_unusable.html", status=404))
    signup = SignupForm(request.POST if request.POST.get("action") == "signup" else None)
    error = ""
    if request.method == "POST":
        user = request.user if request.user.is_authenticated else None
        try:
            if user is None and request.POST.get("action") == "signup" and signup.is_valid():
                user = members.account_create(
                    username=signup.cleaned_data["username"],
                    email=invitation.email,
                    password=signup.cleaned_data["password1"],
                )
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            if user is not None:
                membership, created = members.member_invitation_accept(
                    invitation=invitation,
                    user=user,
                )
                request.session.pop(SESSION_INVITE, None)
                messages.success(
                    request,
                    f"You joined {membership.organisation.name} as "
                    f"{membership.get_role_display().lower()}."
                    if created
                    else f"You were already a member of {membership.organisation.name}.",
                )
                return redirect("assessments:org_detail", org_id=membership.organisation_id)
        except members.InvitationRefused as exc:
            error = str(exc)
    response = render(
        request,
        "assessments/member_accept.html",
        {
            "invitation": invitation,
            "signup": signup,
            "error": error,
            "login_url": f"{reverse('login')}?next={reverse('member_accept')}",
        },
        status=400 if request.method == "POST" else 200,
    )
    return _private(response)


__all__ = ["hash_token"]
