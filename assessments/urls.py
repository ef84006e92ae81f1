from __future__ import annotations

from django.urls import path

from assessments import invitation_views, member_views, views

app_name = "assessments"

urlpatterns = [
    path("", views.home, name="home"),
    path("orgs/new/", views.org_create, name="org_create"),
    path("orgs/<uuid:org_id>/", views.org_detail, name="org_detail"),
    path("orgs/<uuid:org_id>/teams/", views.team_create, name="team_create"),
    path("orgs/<uuid:org_id>/members/", member_views.member_add, name="member_add"),
    path(
        "orgs/<uuid:org_id>/member-invitations/<uuid:member_invitation_id>/revoke/",
        member_views.member_invitation_revoke,
        name="member_invitation_revoke",
    ),
    path("orgs/<uuid:org_id>/assessments/new/", views.assessment_create, name="create"),
    path("assessments/<uuid:assessment_id>/", views.assessment_detail, name="detail"),
    path(
        "assessments/<uuid:assessment_id>/invitations/",
        views.invitations_create,
        name="invitations_create",
    ),
    path(
        "assessments/<uuid:assessment_id>/open-link/",
        views.open_link_create,
        name="open_link_create",
    ),
    path(
        "assessments/<uuid:assessment_id>/invitations/<uuid:invitation_id>/revoke/",
        views.invitation_revoke,
        name="invitation_revoke",
    ),
    path(
        "assessments/<uuid:assessment_id>/invitations/<uuid:invitation_id>/reissue/",
        views.invitation_reissue,
        name="invitation_reissue",
    ),
    path(
        "assessments/<uuid:assessment_id>/invitations/import/",
        invitation_views.invitations_import,
        name="invitations_import",
    ),
    path(
        "assessments/<uuid:assessment_id>/invitations/remind/",
        invitation_views.invitations_remind,
        name="invitations_remind",
    ),
    path(
        "assessments/<uuid:assessment_id>/mailouts/<uuid:mailout_id>/",
        invitation_views.mailout_detail,
        name="mailout_detail",
    ),
    path(
        "assessments/<uuid:assessment_id>/invitations/links.csv",
        invitation_views.invitation_links_csv,
        name="invitation_links_csv",
    ),
    path(
        "assessments/<uuid:assessment_id>/invitations/<uuid:invitation_id>/limit/",
        views.open_link_limit,
        name="open_link_limit",
    ),
    path(
        "assessments/<uuid:assessment_id>/respondents/<uuid:respondent_id>/exclude/",
        views.respondent_exclude,
        name="respondent_exclude",
    ),
    path(
        "assessments/<uuid:assessment_id>/respondents/exclude-flagged/",
        views.exclude_flagged,
        name="exclude_flagged",
    ),
    path("assessments/<uuid:assessment_id>/close/", views.assessment_close, name="close"),
    path("assessments/<uuid:assessment_id>/reopen/", views.assessment_reopen, name="reopen"),
]
