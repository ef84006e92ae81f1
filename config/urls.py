from __future__ import annotations

import sys

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import include, path

from assessments import member_views
from assessments.access import LinkNoLongerUsable, NotAParticipant
from assessments.middleware import database_unavailable
from config import health

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Invitations to join an organisation: the token is exchanged for the session at once.
    path("join-org/<str:token>/", member_views.member_join, name="member_join"),
    path("invitations/accept/", member_views.member_accept, name="member_accept"),
    path("", include("assessments.survey_urls")),
    path("", include("assessments.urls")),
    path("", include("reports.urls")),
    path("", include("assessments.scans.urls")),
    path("", include("assessments.processes.urls")),
    path("", include("assessments.workshops.urls")),
    path("", include("assessments.engagements.urls")),
]


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404s, with the survey's neutral "this link can't be used" page for a respondent whose
    link was revoked, replaced or expired while their browser still had it open."""
    if isinstance(exception, LinkNoLongerUsable):
        response = render(request, "survey/link_unusable.html", status=404)
        response["Cache-Control"] = "no-store"
        return response
    if isinstance(exception, NotAParticipant):
        response = render(request, "workshops/not_joined.html", status=404)
        response["Cache-Control"] = "no-store"
        return response
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    """500s; a database that cannot be reached gets a 503 page that says so instead."""
    unavailable = database_unavailable(request, sys.exc_info()[1])
    if unavailable is not None:
        return unavailable
    return HttpResponse(render_to_string("500.html"), status=500)


handler404 = page_not_found
handler500 = server_error
