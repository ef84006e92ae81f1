from __future__ import annotations

from django.urls import path

from assessments.engagements import views

app_name = "engagements"

urlpatterns = [
    path("clients/new/", views.client_start, name="client_start"),
    path("assessments/<uuid:assessment_id>/template/", views.template_save, name="template_save"),
    path("assessments/<uuid:assessment_id>/reassess/", views.reassess, name="reassess"),
]
