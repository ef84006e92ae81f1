from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import include, path

from assessments import member_views
from assessments.access import LinkNoLongerUsable

urlpatterns = [
    path("admin/", admin.site.urls),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Invitations to join an organisation: the token is exchanged for the session at once.
    path("join-org/<str:token>/", member_views.member_join, name="member_join"),
    path("invitations/accept/", member_views.member_accept, name="member_accept"),
    path("", include("assessments.survey_urls")),
    path("", include("assessments.urls")),
    path("", include("reports.urls")),
    path("", include("assessments.scans.urls")),
]


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404s, with the survey's neutral "this link can't be used" page for a respondent whose
    link was revoked, replaced or expired while their browser still had it open."""
    if isinstance(exception, LinkNoLongerUsable):
        response = render(request, "survey/link_unusable.html", status=404)
        response["Cache-Control"] = "no-store"
        return response
    return render(request, "404.html", status=404)


handler404 = page_not_found
