"""What a sceptical reader trips over in the report and the results page: internal ids printed
raw (40-character hashes, "row prd-14 row prd-15 …"), a pilot backlog that repeats one list
four times, "(s)" plurals and percentages rounded three ways."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from assessments.models import Assessment
from scoring.evidence import EvidenceFinding
from tests.reports.test_results_evidence import FINDINGS, _delivery, _owner_client, demo  # noqa: F401

pytestmark = pytest.mark.django_db

SHA = "9f929f3d0134f3bcca07d21775bca1dd28c399a7"
POINTED = [
    # Underclaims on agent runs (claimed at level 1), so the register lists them.
    EvidenceFinding(
        "delivery.change-failure-rate", "obs.agent-runs", "found", 3,
        "Change failure rate at most 15%", tuple(f"row prd-{n}" for n in range(10, 18)),
    ),
    EvidenceFinding(
        "delivery.recovery-time", "obs.agent-runs", "found", 3,
        "Failed deployments recover within a day", ("row INC-900",),
    ),
    EvidenceFinding(
        "history.ai-attribution", "obs.agent-runs", "found", 2,
        "AI-assisted changes are attributed in history", (SHA, ""),
    ),
    EvidenceFinding(
        "ci.read-only-token", "obs.agent-runs", "found", 2,
        "Workflows default to a read-only token", (".github/workflows/ci.yml:3",),
    ),
]  # fmt: skip


def _text(fragment: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)).replace(" ,", ",")


def _register(html: str) -> str:
    start = html.index('class="data-table register"')
    return html[start : html.index("</table>", start)]


@pytest.mark.parametrize("page", ["reports:results", "reports:report"])
def test_evidence_pointers_read_as_rows_short_hashes_and_whole_paths(
    demo: Assessment,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    page: str,
) -> None:
    monkeypatch.setattr("reports.services.evidence_for", lambda a: [*FINDINGS, *POINTED])
    monkeypatch.setattr("reports.services.delivery_for", lambda a: _delivery())
    html = _owner_client(demo).get(reverse(page, args=[demo.pk])).content.decode()
    register = _register(html)
    text = _text(register)
    # Several rows: one readable list from the export they are in, capped with a count.
    assert "deployment export rows prd-10, prd-11, prd-12, prd-13, prd-14, … (8 in all)" in text
    assert "prd-15" not in text
    assert "row prd-10 row" not in text
    assert "incident export row INC-900" in text
    # A commit: 12 characters to read, the full hash kept for hovering.
    assert f"commit {SHA[:12]}" in text
    assert SHA not in text
    assert f'title="{SHA}"' in register
    # A path whole; an empty pointer prints nothing (no empty code box).
    assert "<code>.github/workflows/ci.yml:3</code>" in register
    assert "<code></code>" not in register
