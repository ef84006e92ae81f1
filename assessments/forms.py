"""Forms only clean and convert input; every form names its fields explicitly."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import UserCreationForm

from assessments.cleaning import CleanFieldsMixin
from assessments.models import ROLE_CHOICES, Membership, Organisation, Team
from assessments.rubrics import parse_rubric_choice, rubric_choices
from scoring.rubric import DEFAULT_RUBRIC


class OrganisationForm(CleanFieldsMixin, forms.Form):
    name = forms.CharField(max_length=200, strip=True)
    my_role = forms.ChoiceField(
        label="You are",
        choices=[
            (Membership.Role.OWNER, "A leader in this organisation"),
            (Membership.Role.FACILITATOR, "A consultant working with this organisation"),
        ],
        widget=forms.RadioSelect,
        initial=Membership.Role.OWNER,
    )


class TeamForm(CleanFieldsMixin, forms.Form):
    name = forms.CharField(max_length=120, strip=True)


class AssessmentForm(CleanFieldsMixin, forms.Form):
    title = forms.CharField(max_length=200, strip=True)
    teams = forms.ModelMultipleChoiceField(
        queryset=Team.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave all unticked to assess the whole organisation.",
    )
    anonymous = forms.BooleanField(
        required=False,
        help_text="Respondents' names are never stored; results show roles only.",
    )
    export_named_answers = forms.BooleanField(
        required=False,
        label="Export each respondent's answers with their name",
        help_text="Respondents are told so before they start. Otherwise exports hold answer "
        "counts per question, never one person's answers.",
    )
    repositories_in_scope = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=100_000,
        label="Repositories or services in scope",
        help_text="How many there are in all, scanned or not: a scan of some of them is "
        "weighed by the share they are. Leave empty if you do not know.",
    )
    rubric = forms.ChoiceField(choices=())

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["teams"].queryset = Team.objects.filter(organisation=organisation)  # type: ignore[attr-defined]
        self.fields["rubric"].choices = rubric_choices()  # type: ignore[attr-defined]
        # New assessments get the current rubric; earlier versions stay available.
        self.fields["rubric"].initial = "{}-{}".format(*DEFAULT_RUBRIC)

    def clean_rubric(self) -> tuple[str, int]:
        return parse_rubric_choice(self.cleaned_data["rubric"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("anonymous") and data.get("export_named_answers"):
            self.add_error(
                "export_named_answers",
                "An anonymous assessment cannot export answers by respondent.",
            )
        return data


class BulkInvitationForm(CleanFieldsMixin, forms.Form):
    """One person per line: `Name <email>, role` or `email, role` or just `role`."""

    people = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=20_000,
        help_text="One person per line: name or e-mail, then a comma and their role "
        "(leadership, engineering, operations, product or security).",
    )

    MAX_PEOPLE = 200

    def clean_people(self) -> list[tuple[str, str, str]]:
        roles = {value for value, _label in ROLE_CHOICES}
        people: list[tuple[str, str, str]] = []
        errors: list[str] = []
        email_field = forms.EmailField(max_length=254)
        for number, raw in enumerate(self.cleaned_data["people"].splitlines(), start=1):
            line = raw.strip()
            if not line:
                continue
            who, _, role = line.rpartition(",")
            role = role.strip().lower()
            if role not in roles:
                errors.append(f"Line {number}: the role must be one of {', '.join(sorted(roles))}.")
                continue
            who = who.strip()
            name, email = who, ""
            if "<" in who and who.endswith(">"):
                name, _, email = who[:-1].partition("<")
                name, email = name.strip(), email.strip()
            elif "@" in who:
                name, email = "", who
            if email:
                try:
                    email = email_field.clean(email)
                except forms.ValidationError:
                    errors.append(f"Line {number}: {email!r} is not a valid e-mail address.")
                    continue
            people.append((name[:120], email, role))
        if errors:
            raise forms.ValidationError(errors)
        if not people:
            raise forms.ValidationError("Add at least one person.")
        if len(people) > self.MAX_PEOPLE:
            raise forms.ValidationError(f"Invite at most {self.MAX_PEOPLE} people at a time.")
        return people


class JoinForm(CleanFieldsMixin, forms.Form):
    role = forms.ChoiceField(
        choices=ROLE_CHOICES, widget=forms.RadioSelect, label="Which best describes your work?"
    )
    name = forms.CharField(max_length=120, required=False, strip=True, label="Your name (optional)")

    def __init__(self, *args: Any, roles: Sequence[str] | None = None, **kwargs: Any) -> None:
        """`roles`: the roles the assessment's rubric asks something of (default: all)."""
        super().__init__(*args, **kwargs)
        if roles is not None:
            field = self.fields["role"]
            assert isinstance(field, forms.ChoiceField)
            field.choices = [(v, label) for v, label in ROLE_CHOICES if v in roles]


class MemberForm(CleanFieldsMixin, forms.Form):
    email = forms.EmailField(label="E-mail address", max_length=254)
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.MEMBER)

    def __init__(self, *args: Any, roles: list[tuple[str, str]] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if roles is not None:
            self.fields["role"].choices = roles  # type: ignore[attr-defined]


class OpenLinkForm(CleanFieldsMixin, forms.Form):
    max_respondents = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=10_000,
        help_text="The link stops taking new people when this many have joined.",
    )
    days = forms.IntegerField(required=False, min_value=1, max_value=365)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["days"].initial = settings.INVITATION_TTL_DAYS


class InvitationImportForm(CleanFieldsMixin, forms.Form):
    """People to invite, pasted or as an uploaded CSV file (`name, email, role` per row)."""

    people = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=200_000,
        required=False,
        help_text="One person per line: name, e-mail, role (leadership, engineering, "
        "operations, product, or security where the rubric asks it). A header row is fine; "
        "so is a column pasted from a sheet.",
    )
    csv_file = forms.FileField(required=False, label="Or upload a CSV file")
    send_email = forms.BooleanField(
        required=False, initial=True, label="E-mail each person their link now"
    )

    def clean(self) -> dict[str, Any]:
        from assessments.invitations import InvitationInputError, decode_csv

        data = super().clean() or {}
        upload = data.get("csv_file")
        text = (data.get("people") or "").strip()
        if upload and text:
            raise forms.ValidationError("Paste the people or upload a file, not both.")
        if upload:
            try:
                data["text"] = decode_csv(upload.read(1024 * 1024 + 1))
            except InvitationInputError as exc:
                raise forms.ValidationError(exc.problems) from None
        elif text:
            data["text"] = text
        else:
            raise forms.ValidationError("Paste the people to invite or upload a CSV file.")
        return data

    def people_text(self) -> str:
        return str(self.cleaned_data["text"])


class SignupForm(CleanFieldsMixin, UserCreationForm):  # type: ignore[type-arg]
    """A new account for someone accepting an invitation (user name and password)."""
