"""Small points a respondent or leader notices: grammar, honest saving copy, one name per step,
breadcrumbs without stray separators, the branding link only for consultants."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from assessments.templatetags.wording import indefinite_article
from tests.factories import Personas, invite

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


@pytest.mark.parametrize(
    ("word", "article"),
    [("engineering", "an"), ("operations", "an"), ("leadership", "a"), ("product", "a")],
)
def test_roles_take_the_right_article(word: str, article: str) -> None:
    assert indefinite_article(word) == article


def _respondent_client(personas: Personas, role: str) -> tuple[Client, Any]:
    respondent, token = invite(personas.assessment_a, role=role)
    client = Client()
    client.get(reverse("survey:redeem", args=[token]))
    return client, respondent


@pytest.mark.django_db
def test_an_engineering_respondent(personas: Personas) -> None:
    client, respondent = _respondent_client(personas, "engineering")
    page = client.get(reverse("survey:home", args=[respondent.pk])).content.decode()
    assert "You answer as an <strong>engineering</strong> respondent" in page
    assert "as a <strong>engineering" not in page


@pytest.mark.django_db
def test_the_last_survey_step_is_not_confusable_with_the_review_dimension(
    personas: Personas,
) -> None:
    client, respondent = _respondent_client(personas, "engineering")
    assert any(d.title == "Review" for d in personas.assessment_a.rubric.dimensions)
    for url in (
        reverse("survey:home", args=[respondent.pk]),
        reverse("survey:section", args=[respondent.pk, "facts"]),
        reverse("survey:review", args=[respondent.pk]),
    ):
        page = client.get(url).content.decode()
        assert "Review and submit" not in page, url
        assert "Check and submit" in page, url
    check = client.get(reverse("survey:review", args=[respondent.pk])).content.decode()
    assert re.search(r'aria-current="page">Check and submit<', check)


@pytest.mark.django_db
def test_pages_without_javascript_say_which_button_saves(personas: Personas) -> None:
    """The server's copy is what a browser without JavaScript shows: it must not promise
    autosave. survey.js swaps in the data-js-text when htmx runs."""
    client, respondent = _respondent_client(personas, "engineering")
    dimension = personas.assessment_a.rubric.dimensions[0].id
    for url in (
        reverse("survey:home", args=[respondent.pk]),
        reverse("survey:section", args=[respondent.pk, dimension]),
        reverse("survey:section", args=[respondent.pk, "facts"]),
    ):
        page = client.get(url).content.decode()
        without_js = re.sub(r'data-js-text="[^"]*"', "", page)
        assert "save as you go" not in without_js.lower(), url
        assert "“Save and continue”" in page, url
        assert 'data-js-text="Answers save as you go' in page, url


@pytest.mark.django_db
def test_the_debug_htmx_handler_never_loads_under_make_run(
    personas: Personas, settings: Any
) -> None:
    """django-htmx's DEBUG script replaced the whole survey page with a refused autosave's
    400 response (a blank page saying "Enter a whole number.")."""
    settings.DEBUG = True
    client, respondent = _respondent_client(personas, "engineering")
    page = client.get(reverse("survey:section", args=[respondent.pk, "facts"])).content.decode()
    assert "htmx-2.min.js" in page
    assert "django-htmx.js" not in page
    staff = Client()
    staff.force_login(personas.alice)
    assert "django-htmx.js" not in staff.get(reverse("assessments:home")).content.decode()


@pytest.mark.django_db
def test_the_branding_link_is_for_facilitators_only(personas: Personas) -> None:
    branding = reverse("reports:branding")
    for user, shown in ((personas.fiona, True), (personas.alice, False), (personas.bob, False)):
        client = Client()
        client.force_login(user)
        page = client.get(reverse("assessments:home")).content.decode()
        assert (f'href="{branding}"' in page) is shown, user.username


def test_breadcrumbs_have_no_stray_separators_and_start_at_the_top() -> None:
    trails = []
    for path in TEMPLATES.rglob("*.html"):
        for trail in re.findall(r'<nav class="breadcrumbs".*?</nav>', path.read_text()):
            trails.append((path.name, trail))
    assert len(trails) >= 15
    for name, trail in trails:
        # Separators come from CSS between list items, so none can dangle at either end.
        assert "›" not in trail, name
        assert trail.startswith('<nav class="breadcrumbs" aria-label="Breadcrumb"><ol><li>'), name
        first = re.search(r"<li><a [^>]*>([^<]*)</a>", trail)
        assert first and first.group(1) in {"Organisations", "Clients"}, name
    css = (TEMPLATES.parent / "static/css/app.css").read_text()
    assert '.breadcrumbs li + li::before { content: "›"' in css


@pytest.mark.django_db
def test_the_branding_page_tells_a_non_facilitator_it_changes_no_report(
    personas: Personas,
) -> None:
    for user, told in ((personas.alice, True), (personas.fiona, False)):
        client = Client()
        client.force_login(user)
        page = client.get(reverse("reports:branding")).content.decode()
        assert ("no report shows this branding" in page) is told, user.username
