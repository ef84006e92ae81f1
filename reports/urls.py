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
    path("assessments/<uuid:assessment_id>/report/", views.report, name="report"),
    path("assessments/<uuid:assessment_id>/report/pdf/", views.report_pdf, name="report_pdf"),
    path(
        "assessments/<uuid:assessment_id>/report/jobs/<uuid:job_id>/",
        views.report_job,
        name="report_job",
    ),
    path(
        "assessments/<uuid:assessment_id>/report/jobs/<uuid:job_id>/download/",
        views.report_download,
        name="report_download",
    ),
    path("assessments/<uuid:assessment_id>/export/<str:kind>", views.export, name="export"),
    path(
        "assessments/<uuid:assessment_id>/compare/<uuid:other_id>/",
        views.comparison,
        name="compare",
    ),
    path("assessments/<uuid:assessment_id>/plan/", views.plan, name="plan"),
    path("assessments/<uuid:assessment_id>/share/", views.share_create, name="share_create"),
    path(
        "assessments/<uuid:assessment_id>/share/<uuid:share_id>/revoke/",
        views.share_revoke,
        name="share_revoke",
    ),
    path("shared/<str:token>/", views.shared, name="shared"),
    path("shared/r/<uuid:share_id>/", views.shared_report, name="shared_report"),
    path(
        "shared/r/<uuid:share_id>/pdf/<uuid:job_id>/", views.shared_download, name="shared_download"
    ),
    path("account/branding/", views.branding, name="branding"),
]
