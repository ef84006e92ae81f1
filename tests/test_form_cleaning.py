"""Every form's text fields are cleaned and length-checked before anything reaches the
database: whitespace, over-long values and odd Unicode give a clean value or a clear error, and
posting them through the pages never gives a 500 (the PostgreSQL run catches overflows)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import Any
from urllib.parse import quote

import pytest
from django import forms
from django.test import Client
from django.urls import reverse

from assessments.cleaning import CleanFieldsMixin
from scoring.rubric import DEFAULT_RUBRIC, get_rubric
from tests.factories import Personas


def _form_modules() -> list[str]:
    """Every `forms` module of the apps and their subpackages: a new one cannot be missed."""
    names = []
    for package in ("assessments", "reports"):
        root = importlib.import_module(package)
        for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
            if info.name.endswith(".forms"):
                names.append(info.name)
    return sorted(names)


FORM_MODULES = _form_modules()

NASTY = {
    "padded": "   Platform team   ",
    "trailing newline": "#1d5aa6\n",
    "tabs and newlines": "a\tb\nc\r\n",
    "over-long": "x" * 100_000,
    "NUL": "ab\x00cd",
    "bidi override": "abc\u202edcba",
    "lone surrogate": "ab\ud800cd",
    "decomposed": "Cafe\u0301",
    "zero-width": "\u200bname\ufeff",
    "emoji": "Ops \U0001f680 team",
}


def _form_classes() -> list[type[forms.BaseForm]]:
    found = []
    for name in FORM_MODULES:
        module = importlib.import_module(name)
        for _n, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, forms.BaseForm) and cls.__module__ == name:
                found.append(cls)
    return found


def _make(cls: type[forms.BaseForm], data: dict[str, Any]) -> forms.BaseForm:
    from assessments.models import EngagementTemplate, Organisation

    extra: dict[str, Any] = {
        "AssessmentForm": {"organisation": Organisation(name="x")},
        "ScoringSettingsForm": {
            "rubric": get_rubric(*DEFAULT_RUBRIC),
            "targets": {},
            "weights": {},
        },
        "UploadForm": {"limit": 1000},
        "ExportForm": {"limit": 1000},
        "RepoArchiveForm": {"limit": 1000},
        "MappingForm": {"fields": {"time": (True, [])}, "columns": ["a"], "initial_mapping": {}},
        "ClientStartForm": {"templates": EngagementTemplate.objects.none()},
        "ProcessForm": {"organisation": Organisation(name="x")},
        "LogUploadForm": {"organisation": Organisation(name="x"), "limit": 1000},
        "LogMappingForm": {"columns": ["a"]},
    }.get(cls.__name__, {})
    return cls(data, **extra)  # type: ignore[call-arg]


def test_every_form_cleans_its_text_fields() -> None:
    classes = _form_classes()
    assert len(classes) >= 12
    for cls in classes:
        assert issubclass(cls, CleanFieldsMixin), f"{cls.__name__} must use CleanFieldsMixin"


@pytest.mark.django_db
@pytest.mark.parametrize("kind", list(NASTY))
def test_nasty_values_are_cleaned_or_refused_by_every_form(kind: str) -> None:
    value = NASTY[kind]
    for cls in _form_classes():
        probe = _make(cls, {})
        text_fields = [n for n, f in probe.fields.items() if isinstance(f, forms.CharField)]
        for name in text_fields:
            form = _make(cls, {name: value})
            form.is_valid()  # never raises
            field = form.fields[name]
            assert field.max_length, f"{cls.__name__}.{name} has no length limit"
            cleaned = form.cleaned_data.get(name) if hasattr(form, "cleaned_data") else None
            if isinstance(field.widget, forms.PasswordInput):
                continue  # passwords are taken exactly as typed, only their length is capped
            if isinstance(cleaned, str):
                where = f"{cls.__name__}.{name} kept {kind!r}"
                assert len(cleaned) <= field.max_length, where
                assert cleaned == cleaned.strip(), where
                assert not any(c in cleaned for c in "\x00\u202e\ud800\u200b\ufeff"), where
                if kind == "decomposed":
                    assert cleaned == "Café", where


def _post(client: Client, url: str, data: dict[str, str]) -> Any:
    """A form post with the raw bytes a browser or script could send: a lone surrogate goes
    out as its (invalid) UTF-8 bytes."""
    body = "&".join(
        f"{quote(k)}={quote(v.encode('utf-8', 'surrogatepass'))}" for k, v in data.items()
    )
    return client.post(url, body, content_type="application/x-www-form-urlencoded")


@pytest.mark.django_db
@pytest.mark.parametrize("kind", list(NASTY))
def test_posting_nasty_values_to_every_page_never_fails(personas: Personas, kind: str) -> None:
    value = NASTY[kind]
    client = Client()
    client.force_login(personas.alice)
    org, assessment = personas.org_a, personas.assessment_a
    posts = [
        (reverse("assessments:org_create"), {"name": value, "my_role": "owner"}),
        (reverse("assessments:team_create", args=[org.pk]), {"name": value}),
        (reverse("assessments:member_add", args=[org.pk]), {"email": value, "role": "member"}),
        (reverse("assessments:create", args=[org.pk]), {"title": value, "rubric": "x"}),
        (reverse("assessments:invitations_create", args=[assessment.pk]), {"people": value}),
        (
            reverse("assessments:invitations_create", args=[assessment.pk]),
            {"people": f"{value} <a@example.com>, engineering"},
        ),
        (reverse("assessments:open_link_create", args=[assessment.pk]), {"max_respondents": value}),
        (reverse("reports:branding"), {"firm_name": value, "colour": "#1d5aa6"}),
        (reverse("reports:branding"), {"firm_name": "Firm", "colour": value}),
        (reverse("reports:share_create", args=[assessment.pk]), {"days": value}),
        (reverse("scans:add", args=[assessment.pk, "repo_url"]), {"url": value}),
        (reverse("scans:add", args=[assessment.pk, "repo_path"]), {"path": value}),
        (reverse("scans:add", args=[assessment.pk, "github"]), {"repo": value, "token": value}),
        (reverse("login"), {"username": value, "password": value}),
    ]
    for url, data in posts:
        response = _post(client, url, data)
        assert response.status_code < 500, f"{url} with {kind}: {response.status_code}"
    # The branding colour is stored only as 7 characters, whatever was posted.
    from reports.models import Branding

    for branding in Branding.objects.all():
        assert len(branding.colour) == 7
    # Respondents joining through an open link, with a nasty name.
    from assessments import services

    issued = services.invitation_create_open(assessment=assessment)
    respondent = Client()
    respondent.get(reverse("survey:redeem", args=[issued.token]))
    joined = _post(respondent, reverse("survey:join"), {"role": "engineering", "name": value})
    assert joined.status_code < 500
