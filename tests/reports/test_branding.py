from __future__ import annotations

import base64
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from assessments.demo import DEMO_ASSESSMENT_ID, seed_demo
from assessments.models import Assessment
from reports.models import Branding

pytestmark = pytest.mark.django_db
# A 1x1 transparent PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


def _login(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password="opready-demo")
    return client


@pytest.fixture
def demo() -> Assessment:
    seed_demo()
    return Assessment.objects.get(pk=DEMO_ASSESSMENT_ID)


def test_a_consultants_branding_is_on_reports_for_their_clients(demo: Assessment) -> None:
    consultant = _login("consultant")
    response = consultant.post(
        reverse("reports:branding"),
        {
            "firm_name": "Northbridge Advisory",
            "colour": "#aa3300",
            "logo": SimpleUploadedFile("logo.png", PNG),
        },
    )
    assert response.status_code == 302
    profile = Branding.objects.get(user__username="consultant")
    assert (profile.firm_name, profile.colour, profile.logo_type) == (
        "Northbridge Advisory",
        "#aa3300",
        "image/png",
    )
    html = consultant.get(reverse("reports:report", args=[demo.pk])).content.decode()
    assert "Prepared by Northbridge Advisory" in html
    assert "data:image/png;base64," in html
    # The organisation's own leader makes an unbranded report.
    assert (
        "Northbridge"
        not in _login("demo").get(reverse("reports:report", args=[demo.pk])).content.decode()
    )


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("logo.png", b"<svg onload=alert(1)>"), b"must be a PNG or JPEG"),
        (SimpleUploadedFile("logo.png", PNG + b"0" * 400_000), b"larger than 300 KB"),
    ],
)
def test_bad_logos_are_refused_and_change_nothing(
    demo: Assessment, upload: Any, message: bytes
) -> None:
    consultant = _login("consultant")
    response = consultant.post(
        reverse("reports:branding"), {"firm_name": "X", "colour": "#aa3300", "logo": upload}
    )
    assert response.status_code == 400
    assert message in response.content
    assert not Branding.objects.filter(user__username="consultant", firm_name="X").exists()


def test_a_bad_colour_is_refused(demo: Assessment) -> None:
    response = _login("consultant").post(
        reverse("reports:branding"), {"firm_name": "X", "colour": "red; background:url(x)"}
    )
    assert response.status_code == 400
    assert b"Use a colour like" in response.content
