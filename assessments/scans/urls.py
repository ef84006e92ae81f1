from __future__ import annotations

from django.urls import path

from assessments.scans import views

app_name = "scans"

urlpatterns = [
    path("assessments/<uuid:assessment_id>/scans/", views.sources, name="sources"),
    path(
        "assessments/<uuid:assessment_id>/scans/add/<slug:source_kind>/",
        views.source_add,
        name="add",
    ),
    path(
        "assessments/<uuid:assessment_id>/scans/runs/<uuid:run_id>/", views.run_detail, name="run"
    ),
    path(
        "assessments/<uuid:assessment_id>/scans/runs/<uuid:run_id>/cancel/",
        views.run_cancel,
        name="cancel",
    ),
    path(
        "assessments/<uuid:assessment_id>/scans/sources/<uuid:source_id>/rescan/",
        views.source_rescan,
        name="rescan",
    ),
    path(
        "assessments/<uuid:assessment_id>/scans/sources/<uuid:source_id>/delete/",
        views.source_delete,
        name="delete",
    ),
    path(
        "assessments/<uuid:assessment_id>/scans/sources/<uuid:source_id>/mapping/",
        views.export_mapping,
        name="mapping",
    ),
    path("assessments/<uuid:assessment_id>/findings/", views.findings, name="findings"),
]
