from __future__ import annotations

from django.urls import path

from assessments import survey

app_name = "survey"

urlpatterns = [
    path("i/<str:token>/", survey.redeem, name="redeem"),
    path("join/", survey.join, name="join"),
    path("r/<uuid:respondent_id>/", survey.home, name="home"),
    path("r/<uuid:respondent_id>/answer/", survey.answer, name="answer"),
    path("r/<uuid:respondent_id>/finish/", survey.review, name="review"),
    path("r/<uuid:respondent_id>/submit/", survey.submit, name="submit"),
    # Sections live under s/ so a dimension id can never collide with another page's path.
    path("r/<uuid:respondent_id>/s/<slug:section_id>/", survey.section, name="section"),
]
