"""Pages for leaders and consultants: organisations, teams, assessments, invitations.

Views are thin: fetch through `assessments.access`, call a service, render.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from assessments import mailouts, members, services
from assessments.access import (
    AuthenticatedHttpRequest,
    get_assessment_for_user,
    get_invitation_for_user,
    get_org_for_user,
)
from assessments.automation import automation_for
from assessments.engagements.forms import TemplateForm
from assessments.engagements.services import consultant_overview
from assessments.forms import (
    AssessmentForm,
    BulkInvitationForm,
    InvitationImportForm,
    MemberForm,
    OpenLinkForm,
    OrganisationForm,
    TeamForm,
)
from assessments.member_views import FRESH_INVITE
from assessments.models import ROLE_CHOICES, AssessmentSetup, Invitation, Membership, Respondent
from reports.models import Branding
from scoring.rubric import AUDIENCES

FRESH_LINKS = "fresh_links:{}"
LINKS_DOWNLOAD = "links_download:{}"


@login_required
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    memberships = list(
        request.user.memberships.select_related("organisation").annotate(
            n_assessments=Count("organisation__assessments", distinct=True)
        )
    )
    if len(memberships) == 1 and memberships[0].role != Membership.Role.FACILITATOR:
        return redirect("assessments:org_detail", org_id=memberships[0].organisation_id)
    clients = []
    if any(m.role == Membership.Role.FACILITATOR for m in memberships):
        clients = consultant_overview(request.user)  # the consultant home
    return render(
        request, "assessments/home.html", {"memberships": memberships, "clients": clients}
    )


@login_required
@require_http_methods(["GET", "POST"])
def org_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = OrganisationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        org = services.organisation_create(
            name=form.cleaned_data["name"], creator=request.user, role=form.cleaned_data["my_role"]
        )
        messages.success(request, f"Created {org.name}.")
        return redirect("assessments:org_detail", org_id=org.pk)
    return render(request, "assessments/org_create.html", {"form": form}, status=_status(form))


@login_required
def org_detail(request: AuthenticatedHttpRequest, org_id: str) -> HttpResponse:
    org, membership = get_org_for_user(request, org_id)
    assessments = org.assessments.annotate(
        n_respondents=Count("respondents", distinct=True),
        n_submitted=Count("respondents", filter=Q(respondents__status="submitted"), distinct=True),
    ).prefetch_related("teams")
    return render(
        request,
        "assessments/org_detail.html",
        {
            "org": org,
            "membership": membership,
            "assessments": assessments,
            "teams": org.teams.all(),
            "members": org.memberships.select_related("user").order_by("role", "user__username"),
            "team_form": TeamForm(),
            "member_form": MemberForm(roles=members.roles_for(membership)),
            "may_invite": members.may_invite(membership),
            "pending_invitations": members.pending_for(org)
            if members.may_invite(membership)
            else [],
            "fresh_invite": request.session.pop(FRESH_INVITE.format(org.pk), None),
        },
    )


@login_required
@require_POST
def team_create(request: AuthenticatedHttpRequest, org_id: str) -> HttpResponse:
    org, _membership = get_org_for_user(request, org_id, write=True)
    form = TeamForm(request.POST)
    if form.is_valid():
        try:
            with transaction.atomic():
                org.teams.create(name=form.cleaned_data["name"])
        except IntegrityError:
            messages.error(request, "A team with that name already exists.")
        else:
            messages.success(request, f"Added team {form.cleaned_data['name']}.")
    else:
        messages.error(request, "Give the team a name (at most 120 characters).")
    return redirect("assessments:org_detail", org_id=org.pk)


@login_required
@require_http_methods(["GET", "POST"])
def assessment_create(request: AuthenticatedHttpRequest, org_id: str) -> HttpResponse:
    org, _membership = get_org_for_user(request, org_id, write=True)
    form = AssessmentForm(request.POST or None, organisation=org)
    if request.method == "POST" and form.is_valid():
        rubric_id, version = form.cleaned_data["rubric"]
        assessment = services.assessment_create(
            organisation=org,
            title=form.cleaned_data["title"],
            created_by=request.user,
            teams=list(form.cleaned_data["teams"]),
            anonymous=form.cleaned_data["anonymous"],
            rubric_id=rubric_id,
            rubric_version=version,
            repositories_in_scope=form.cleaned_data["repositories_in_scope"],
            export_named_answers=form.cleaned_data["export_named_answers"],
        )
        messages.success(request, "Assessment created. Now invite the people who will answer.")
        return redirect("assessments:detail", assessment_id=assessment.pk)
    return render(
        request,
        "assessments/assessment_create.html",
        {"org": org, "form": form},
        status=_status(form),
    )


def _template_form(setup: AssessmentSetup | None, profile: Branding | None) -> TemplateForm:
    """ "Save as a template", filled in with this assessment's set-up, and its branding or else
    the user's own report branding."""
    if setup is not None and setup.has_brand:
        firm_name, colour = setup.brand_firm_name, setup.brand_colour
    elif profile is not None:
        firm_name, colour = profile.firm_name, profile.colour
    else:
        firm_name, colour = "", "#1d5aa6"
    return TemplateForm(
        initial={
            "invitation_roles": setup.invitation_roles if setup else [],
            "cover_text": setup.cover_text if setup else "",
            "firm_name": firm_name,
            "colour": colour or "#1d5aa6",
            "use_my_logo": bool(profile and profile.logo),
        },
        auto_id="template-%s",
    )


@login_required
def assessment_detail(request: AuthenticatedHttpRequest, assessment_id: str) -> HttpResponse:
    assessment, membership = get_assessment_for_user(request, assessment_id)
    respondents = list(
        assessment.respondents.select_related("invitation")
        .annotate(n_answered=Count("answers", filter=~Q(answers__choice="none")))
        .order_by("created_at", "name", "pk")
    )
    rubric = assessment.rubric
    n_questions = {
        role: len(rubric.questions_for(role)) + sum(role in f.audience for f in rubric.facts)
        for role in AUDIENCES
    }
    counts = dict.fromkeys(Respondent.Status.values, 0)
    by_role: dict[str, int] = {}
    for r in respondents:
        counts[r.status] += 1
        by_role[r.role] = by_role.get(r.role, 0) + 1
        r.total_questions = n_questions.get(r.role, 0)  # type: ignore[attr-defined]
    if assessment.anonymous:
        # Rows in invitation order would line up with the list of names the leader just
        # typed; sorted by status and role, with no per-person progress, they don't.
        order = {s: i for i, s in enumerate(Respondent.Status.values)}
        respondents.sort(key=lambda r: (order[r.status], r.role, str(r.pk)))
    automation = automation_for(assessment) if membership.can_write else None
    for r in respondents:
        r.flags = automation.flagged.get(str(r.pk), []) if automation else []  # type: ignore[attr-defined]
    fresh_links = request.session.pop(FRESH_LINKS.format(assessment.pk), [])
    setup = (
        AssessmentSetup.objects.filter(assessment=assessment)
        .select_related("previous", "template")
        .first()
    )
    brand_profile = Branding.objects.filter(user=request.user).first()
    shown_mailouts = mailouts.mailouts_on_show(assessment) if membership.can_write else []
    for mailout in shown_mailouts:
        mailout.failed_list = mailouts.failed_items(mailout)  # type: ignore[attr-defined]
    if fresh_links:
        # "Download as CSV" gives the links on show, until the next batch replaces them.
        request.session[LINKS_DOWNLOAD.format(assessment.pk)] = fresh_links
    return render(
        request,
        "assessments/assessment_detail.html",
        {
            "assessment": assessment,
            "membership": membership,
            "respondents": respondents,
            "counts": counts,
            "by_role": sorted(by_role.items()),
            "open_links": assessment.invitations.filter(kind=Invitation.Kind.OPEN),
            "fresh_links": fresh_links,
            "import_form": InvitationImportForm(),
            "setup": setup,
            "mailouts": shown_mailouts,
            "brand_profile": brand_profile,
            "template_form": _template_form(setup, brand_profile),
            "role_choices": [(v, label) for v, label in ROLE_CHOICES if v in rubric.audiences],
            "remind_count": sum(
                1
                for r in respondents
                if r.status != Respondent.Status.SUBMITTED
                and r.email
                and r.invitation is not None
                and r.invitation.kind == Invitation.Kind.PERSONAL
            ),
            "open_link_form": OpenLinkForm(),
            "automation": automation,
            "rubric": assessment.rubric,
        },
    )


@login_required
@require_POST
def invitations_create(request: AuthenticatedHttpRequest, assessment_id: str) -> HttpResponse:
    assessment, _membership = get_assessment_for_user(request, assessment_id, write=True)
    if not assessment.is_open:
        messages.error(request, "This assessment is closed: reopen it to invite people.")
        return redirect("assessments:detail", assessment_id=assessment.pk)
    form = BulkInvitationForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("people", []):
            messages.error(request, str(error))
        return redirect("assessments:detail", assessment_id=assessment.pk)
    with transaction.atomic():
        issued = [
            services.invitation_create_personal(
                assessment=assessment, role=role, name=name, email=email
            )
            for name, email, role in form.cleaned_data["people"]
        ]
    _remember_fresh_links(request, assessment.pk, issued)
    messages.success(request, f"Created {len(issued)} personal link(s). Copy them now.")
    return redirect("assessments:detail", assessment_id=assessment.pk)


@login_required
@require_POST
def open_link_create(request: AuthenticatedHttpRequest, assessment_id: str) -> HttpResponse:
    assessment, _membership = get_assessment_for_user(request, assessment_id, write=True)
    if not assessment.is_open:
        messages.error(request, "This assessment is closed: reopen it to invite people.")
        return redirect("assessments:detail", assessment_id=assessment.pk)
    form = OpenLinkForm(request.POST)
    if not form.is_valid():
        messages.error(request, "At most 1 to 10,000 people, for 1 to 365 days.")
        return redirect("assessments:detail", assessment_id=assessment.pk)
    issued = services.invitation_create_open(
        assessment=assessment,
        max_respondents=form.cleaned_data["max_respondents"],
        days=form.cleaned_data["days"],
    )
    _remember_fresh_links(request, assessment.pk, [issued])
    messages.success(request, "Created an open link. Copy it now: it is shown only once.")
    return redirect("assessments:detail", assessment_id=assessment.pk)


@login_required
@require_POST
def open_link_limit(
    request: AuthenticatedHttpRequest, assessment_id: str, invitation_id: str
) -> HttpResponse:
    invitation, _membership = get_invitation_for_user(
        request, assessment_id, invitation_id, write=True
    )
    form = OpenLinkForm(request.POST)
    if invitation.kind != Invitation.Kind.OPEN:
        raise Http404
    if not form.is_valid():
        messages.error(request, "At most 1 to 10,000 people, for 1 to 365 days.")
    else:
        services.invitation_limit(
            invitation=invitation,
            max_respondents=form.cleaned_data["max_respondents"],
            days=form.cleaned_data["days"],
        )
        messages.success(request, "Limits saved.")
    return redirect("assessments:detail", assessment_id=invitation.assessment_id)


@login_required
@require_POST
def respondent_exclude(
    request: AuthenticatedHttpRequest, assessment_id: str, respondent_id: str
) -> HttpResponse:
    assessment, _membership = get_assessment_for_user(request, assessment_id, write=True)
    respondent = get_object_or_404(assessment.respondents, pk=respondent_id)
    excluded = request.POST.get("excluded") == "1"
    services.respondent_exclude(respondent=respondent, excluded=excluded)
    messages.success(
        request,
        "Response excluded from the results; its answers are kept."
        if excluded
        else "Response counted in the results again.",
    )
    return redirect("assessments:detail", assessment_id=assessment.pk)


@login_required
@require_POST
def exclude_flagged(request: AuthenticatedHttpRequest, assessment_id: str) -> HttpResponse:
    assessment, _membership = get_assessment_for_user(request, assessment_id, write=True)
    flagged = list(automation_for(assessment).flagged)
    for respondent in assessment.respondents.filter(pk__in=flagged, excluded_at__isnull=True):
        services.respondent_exclude(respondent=respondent, excluded=True)
    messages.success(request, f"Excluded {len(flagged)} marked response(s) from the results.")
    return redirect("assessments:detail", assessment_id=assessment.pk)


@login_required
@require_POST
def invitation_revoke(
    request: AuthenticatedHttpRequest, assessment_id: str, invitation_id: str
) -> HttpResponse:
    invitation, _membership = get_invitation_for_user(
        request, assessment_id, invitation_id, write=True
    )
    services.invitation_revoke(invitation=invitation)
    messages.success(request, "Link revoked. It no longer opens the survey.")
    return redirect("assessments:detail", assessment_id=invitation.assessment_id)


@login_required
@require_POST
def invitation_reissue(
    request: HttpRequest, assessment_id: str, invitation_id: str
) -> HttpResponse:
    invitation, _membership = get_invitation_for_user(
        request, assessment_id, invitation_id, write=True
    )
    issued = services.invitation_reissue(invitation=invitation)
    _remember_fresh_links(request, invitation.assessment_id, [issued])
    messages.success(request, "New link created; the old one no longer works. Answers are kept.")
    return redirect("assessments:detail", assessment_id=invitation.assessment_id)


@login_required
@require_POST
def assessment_close(request: AuthenticatedHttpRequest, assessment_id: str) -> HttpResponse:
    assessment, _membership = get_assessment_for_user(request, assessment_id, write=True)
    assessment.close()
    messages.success(request, "Closed: respondents can no longer change answers.")
    return redirect("assessments:detail", assessment_id=assessment.pk)


@login_required
@require_POST
def assessment_reopen(request: AuthenticatedHttpRequest, assessment_id: str) -> HttpResponse:
    assessment, _membership = get_assessment_for_user(request, assessment_id, write=True)
    assessment.reopen()
    messages.success(request, "Reopened for answers.")
    return redirect("assessments:detail", assessment_id=assessment.pk)


def _remember_fresh_links(
    request: HttpRequest, assessment_id: object, issued: list[services.IssuedLink]
) -> None:
    # Tokens are stored hashed, so a link can be shown only right after it is made; the
    # server-side session carries it across the redirect and the next page view drops it.
    key = FRESH_LINKS.format(assessment_id)
    links = request.session.get(key, [])
    links += [
        {
            "label": link.label,
            "role": link.role,
            "kind": link.invitation.get_kind_display(),
            "url": request.build_absolute_uri(reverse("survey:redeem", args=[link.token])),
        }
        for link in issued
    ]
    request.session[key] = links


def _status(form: object) -> int:
    return 400 if getattr(form, "is_bound", False) and getattr(form, "errors", None) else 200
