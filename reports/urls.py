from __future__ import annotations

from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("assessments/<uuid:assessment_id>/results/", views.results, name="results"),
    path(
        "assessments/<uuid:assessment_id>/results/settings/",
        views.results_settings,
        name="results_settings",
    ),
]
