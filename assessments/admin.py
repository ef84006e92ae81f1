from __future__ import annotations

from django.contrib import admin

from assessments.models import (
    Answer,
    Assessment,
    Invitation,
    Membership,
    Organisation,
    Respondent,
    Team,
)


class MembershipInline(admin.TabularInline[Membership, Organisation]):
    model = Membership
    extra = 1
    autocomplete_fields = ["user"]


class TeamInline(admin.TabularInline[Team, Organisation]):
    model = Team
    extra = 0


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin[Organisation]):
    list_display = ["name", "created_at"]
    search_fields = ["name"]
    inlines = [MembershipInline, TeamInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin[Membership]):
    list_display = ["user", "organisation", "role"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__email", "organisation__name"]
    autocomplete_fields = ["user", "organisation"]


@admin.register(Assessment)
class AssessmentAdmin(admin.ModelAdmin[Assessment]):
    list_display = ["title", "organisation", "status", "rubric_id", "rubric_version", "created_at"]
    list_filter = ["status", "mode", "anonymous"]
    search_fields = ["title", "organisation__name"]
    # The pinned rubric must not change after answers exist.
    readonly_fields = ["rubric_id", "rubric_version", "created_at"]
    autocomplete_fields = ["organisation"]
    filter_horizontal = ["teams"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin[Invitation]):
    list_display = ["assessment", "kind", "created_at", "expires_at", "revoked_at", "uses"]
    list_filter = ["kind"]
    # The token hash is useless to an admin and is never shown or edited here.
    exclude = ["token_hash"]
    readonly_fields = ["assessment", "kind", "created_at", "uses"]


class AnswerInline(admin.TabularInline[Answer, Respondent]):
    model = Answer
    extra = 0
    readonly_fields = ["question_id", "choice", "level", "number", "comment", "seq", "updated_at"]
    can_delete = False


@admin.register(Respondent)
class RespondentAdmin(admin.ModelAdmin[Respondent]):
    list_display = ["__str__", "assessment", "role", "status", "submitted_at"]
    list_filter = ["status", "role"]
    readonly_fields = ["assessment", "invitation", "created_at", "started_at", "submitted_at"]
    inlines = [AnswerInline]
