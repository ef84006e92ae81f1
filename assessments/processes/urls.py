from __future__ import annotations

from django.urls import path

from assessments.processes import views

app_name = "processes"

_P = "orgs/<uuid:org_id>/processes/"

urlpatterns = [
    path(_P, views.catalogue, name="catalogue"),
    path(f"{_P}new/", views.process_create, name="create"),
    path(f"{_P}import/", views.catalogue_import, name="import"),
    path(f"{_P}files/<str:kind>", views.catalogue_export, name="export"),
    path(f"{_P}<uuid:process_id>/", views.process_detail, name="detail"),
    path(f"{_P}<uuid:process_id>/delete/", views.process_delete, name="delete"),
    path(f"{_P}<uuid:process_id>/steps/", views.step_add, name="step_add"),
    path(f"{_P}<uuid:process_id>/steps/<int:step_id>/", views.step_update, name="step_update"),
    path(f"{_P}<uuid:process_id>/steps/<int:step_id>/move/", views.step_move, name="step_move"),
    path(
        f"{_P}<uuid:process_id>/steps/<int:step_id>/delete/", views.step_delete, name="step_delete"
    ),
]

urlpatterns += [
    path(f"{_P}logs/", views.log_upload, name="log_upload"),
    path(f"{_P}logs/<uuid:log_id>/", views.log_detail, name="log"),
    path(f"{_P}logs/<uuid:log_id>/apply/", views.log_apply, name="log_apply"),
]

from assessments.processes import respondents  # noqa: E402

urlpatterns += [
    path(
        "assessments/<uuid:assessment_id>/processes/ask/",
        respondents.ask_toggle,
        name="ask_toggle",
    ),
    path(
        "r/<uuid:respondent_id>/processes/",
        respondents.respondent_processes,
        name="respondent",
    ),
    path(f"{_P}suggestions/", respondents.suggestion_add, name="suggestion_add"),
]
