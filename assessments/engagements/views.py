"""Engagement pages: save a template from an assessment, start a new client from one, and
copy an assessment for a re-assessment."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from assessments.access import AuthenticatedHttpRequest, get_assessment_for_user
from assessments.engagements import services
from assessments.engagements.forms import ClientStartForm, ReassessForm, TemplateForm
from assessments.engagements.models import EngagementTemplate
from reports.models import Branding

DENIED = "Only the organisation's owners and facilitators set up assessments."


@login_required
@require_http_methods(["GET", "POST"])
def client_start(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A new client organisation and its first assessment, from one of the user's templates."""
    templates = EngagementTemplate.objects.filter(owner=request.user)
    form = ClientStartForm(request.POST or None, templates=templates)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                assessment = services.client_start(
                    template=form.cleaned_data["template"],
                    organisation_name=form.cleaned_data["organisation"],
                    title=form.cleaned_data["title"],
                    consultant=request.user,
                )
            except services.EngagementInputError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    f"Started {assessment.organisation.name} from "
                    f"“{form.cleaned_data['template'].name}”. Now invite people.",
                )
                return redirect("assessments:detail", assessment_id=assessment.pk)
        status = 400
    return render(
        request,
        "engagements/client_start.html",
        {"form": form, "templates": templates},
        status=status,
    )


@login_required
@require_POST
def template_save(request: AuthenticatedHttpRequest, assessment_id: str) -> HttpResponse:
    assessment, _membership = get_assessment_for_user(
        request, assessment_id, write=True, denied=DENIED
    )
    form = TemplateForm(request.POST, request.FILES)
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else None
            for error in errors:
                messages.error(
                    request,
                    f"Template not saved: {label}: {error}"
                    if label
                    else f"Template not saved: {error}",
                )
    else:
        data = form.cleaned_data
        logo = b""
        if data.get("logo"):
            logo = data["logo"][0]
        elif data.get("use_my_logo"):
            profile = Branding.objects.filter(user=request.user).first()
            logo = bytes(profile.logo) if profile and profile.logo else b""
        try:
            template = services.template_save(
                owner=request.user,
                name=data["name"],
                assessment=assessment,
                invitation_roles=data["invitation_roles"],
                cover_text=data["cover_text"],
                firm_name=data["firm_name"],
                colour=data["colour"] or "#1d5aa6",
                logo=logo,
            )
        except services.EngagementInputError as exc:
            messages.error(request, f"Template not saved: {exc}")
        else:
            branded = f", branded {template.brand_firm_name}" if template.has_brand else ""
            messages.success(
                request,
                f"Saved the template “{template.name}”{branded}: start new clients from it on "
                "your home page.",
            )
    return redirect("assessments:detail", assessment_id=assessment.pk)


@login_required
@require_POST
def reassess(request: AuthenticatedHttpRequest, assessment_id: str) -> HttpResponse:
    source, _membership = get_assessment_for_user(request, assessment_id, write=True, denied=DENIED)
    form = ReassessForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the re-assessment a title (at most 200 characters).")
        return redirect("assessments:detail", assessment_id=source.pk)
    copy = services.assessment_copy(
        source=source, title=form.cleaned_data["title"], created_by=request.user
    )
    messages.success(
        request,
        f"Created “{copy.title}” with the same set-up as “{source.title}”: invite people for "
        "fresh answers. The report compares the two once both have results.",
    )
    return redirect("assessments:detail", assessment_id=copy.pk)
