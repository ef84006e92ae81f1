from __future__ import annotations

from django.urls import path

from assessments.workshops import participant_views, views

app_name = "workshops"

W = "assessments/<uuid:assessment_id>/workshops/<uuid:workshop_id>/"

urlpatterns = [
    path("assessments/<uuid:assessment_id>/workshops/", views.workshop_list, name="list"),
    path(W, views.console, name="console"),
    path(W + "screen/", views.screen, name="screen"),
    path(W + "action/", views.workshop_action, name="action"),
    path(W + "agree/", views.agree, name="agree"),
    path(W + "dissent/", views.dissent_add, name="dissent_add"),
    path(W + "dissent/<int:dissent_id>/delete/", views.dissent_delete, name="dissent_delete"),
    path(W + "notes/", views.notes_save, name="notes"),
    # Participants: no account; the code, then the session, is the credential.
    path("w/", participant_views.join, name="join"),
    path("w/p/<uuid:participant_id>/", participant_views.participant, name="participant"),
    path("w/p/<uuid:participant_id>/vote/", participant_views.vote, name="vote"),
    path("w/<str:code>/", participant_views.join_code, name="join_code"),
]
