"""What the results page, the report and the exports show once scans have run: the register
of contradicted claims, evidence-adjusted scores, autonomy gates that read the evidence, the
AI-assisted split of the delivery measures; and an unscorable assessment that can be fixed."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import pandas as pd
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from assessments.demo import DEMO_ASSESSMENT_ID, seed_demo
from assessments.models import Assessment, Membership
from reports.numbers import level_text, num
from reports.services import result_compute
from scoring.delivery import DeliveryData
from scoring.evidence import EvidenceFinding

pytestmark = pytest.mark.django_db

POLICY = "rev.policy-ownership"
BRANCHES = "https://github.com/acme/app/settings/branches"
FINDINGS = [
    # Review policy: claimed around level 3, the scans find almost nothing (an overclaim).
    EvidenceFinding("github.branch-protection", POLICY, "absent", 3, "No branch protection", (BRANCHES,)),
    EvidenceFinding("repo.codeowners", POLICY, "absent", 2, "No CODEOWNERS file", ("repo:CODEOWNERS",)),
    EvidenceFinding("repo.pr-template", POLICY, "found", 1, "PR template in place", ("repo:.github/PULL_REQUEST_TEMPLATE.md",)),
    # Agent runs: claimed at level 1, the scans find traces of every run (an underclaim).
    EvidenceFinding("repo.agent-traces", "obs.agent-runs", "found", 3, "Agent run traces kept", ("repo:traces/",)),
    EvidenceFinding("github.actions-logs", "obs.agent-runs", "found", 3, "Agent job logs retained", ("actions:agent.yml",)),
    # CI: the scans agree with the answers.
    EvidenceFinding("github.required-checks", "dep.ci-small-batches", "found", 3, "CI required on every PR", ("actions:ci.yml",)),
]  # fmt: skip


def _delivery() -> DeliveryData:
    """Twenty deployments in the last month, one change each: eight AI-assisted changes waited
    10 hours, twelve others 30; two AI-assisted deployments and one other caused incidents."""
    now = timezone.now().replace(microsecond=0)
    deployments, changes, incidents = [], [], []
    for i in range(20):
        deployed = now - timedelta(days=1 + i)
        ai = i < 8
        deployments.append(
            {"id": f"d{i}", "time": deployed, "status": "success", "shas": [f"s{i}"]}
        )
        changes.append(
            {
                "sha": f"s{i}",
                "time": deployed - timedelta(hours=10 if ai else 30),
                "ai_assisted": ai,
            }
        )
    for n, deployment in enumerate(["d0", "d1", "d10"]):
        incidents.append(
            {
                "id": f"i{n}",
                "created": now - timedelta(days=1),
                "resolved": now - timedelta(hours=20),
                "deployment_id": deployment,
            }
        )
    return DeliveryData(pd.DataFrame(deployments), pd.DataFrame(changes), pd.DataFrame(incidents))


@pytest.fixture
def demo() -> Assessment:
    seed_demo()
    return Assessment.objects.get(pk=DEMO_ASSESSMENT_ID)


@pytest.fixture
def scanned(demo: Assessment, monkeypatch: pytest.MonkeyPatch) -> Assessment:
    """The demo as if its integration scans and delivery exports had run."""
    monkeypatch.setattr("reports.services.evidence_for", lambda assessment: list(FINDINGS))
    monkeypatch.setattr("reports.services.delivery_for", lambda assessment: _delivery())
    return demo


def _owner_client(assessment: Assessment) -> Client:
    client = Client()
    owner = Membership.objects.get(organisation=assessment.organisation, role="owner").user
    client.force_login(owner)
    return client


def _section(html: str, heading_id: str) -> str:
    start = html.index(f'id="{heading_id}"')
    return html[start : html.index("</section>", start)]


def _text(fragment: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment))


def _capability(result: dict[str, Any], capability_id: str) -> dict[str, Any]:
    return next(c for c in result["capabilities"] if c["id"] == capability_id)


def test_results_page_shows_the_register_largest_disagreement_first(scanned: Assessment) -> None:
    html = _owner_client(scanned).get(reverse("reports:results", args=[scanned.pk])).content
    register = _section(html.decode(), "evidence-title")
    result = result_compute(assessment=scanned).data
    entries = result["evidence_register"]
    assert [e["capability_id"] for e in entries] == ["obs.agent-runs", POLICY]
    text = _text(register)
    # Largest disagreement first: the underclaim on agent runs, then the review policy claim.
    assert text.index(_capability(result, "obs.agent-runs")["title"]) < text.index(
        _capability(result, POLICY)["title"]
    )
    policy = entries[1]
    assert (
        f"{num(policy['claim_score'], 0)} (level {level_text(1 + policy['claim_score'] / 25)})"
        in text
    )
    assert (
        f"{num(policy['evidence_score'], 0)} ({num(abs(policy['difference']), 0)} points apart)"
        in text
    )
    # Only the findings that contradict the claim, with their pointers.
    assert "absent: No branch protection" in text and escape(BRANCHES) in register
    assert "absent: No CODEOWNERS file" in text and "repo:CODEOWNERS" in register
    assert "found: Agent run traces kept" in text and "repo:traces/" in register
    assert "PR template in place" not in register  # supports the claim: not a contradiction
    assert "CI required on every PR" not in register  # agrees: not in the register


def test_report_shows_the_same_register(scanned: Assessment) -> None:
    html = _owner_client(scanned).get(reverse("reports:report", args=[scanned.pk])).content
    start = html.decode().index('id="evidence"')
    section = html.decode()[start : html.decode().index("</section>", start)]
    text = _text(section)
    assert "Overclaim: answers claim more than the scans found" in text
    assert "Underclaim: the scans found more than answers claim" in text
    finding = "absent: No branch protection (strength 3)"
    assert finding in text.replace("&nbsp;", " ") and escape(BRANCHES) in section
    assert "PR template in place" not in section


def test_evidence_adjusted_scores_sit_beside_the_self_reported_ones(scanned: Assessment) -> None:
    client = _owner_client(scanned)
    html = client.get(reverse("reports:results", args=[scanned.pk])).content.decode()
    result = result_compute(assessment=scanned).data
    readiness = result["readiness"]
    assert readiness["adjusted_score"] != readiness["score"]
    assert f"Evidence-adjusted: <strong>{num(readiness['adjusted_score'], 0)}</strong>/100" in html
    table = _section(html, "dims-title")
    assert '<th scope="col">Evidence-adjusted</th>' in table
    policy = _capability(result, POLICY)
    row = re.search(
        rf"<th scope=\"row\">{re.escape(escape(policy['title']))}</th>(.*?)</tr>", table, re.S
    )
    assert row is not None
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)
    assert _text(cells[1]).strip() == f"{num(policy['score'], 0)}"  # self-reported
    assert _text(cells[-1]).strip() == f"{num(policy['evidence']['adjusted_score'], 0)}"  # adjusted
    # The report's capability table has the column too.
    report = client.get(reverse("reports:report", args=[scanned.pk])).content.decode()
    assert '<th scope="col">Evidence-adjusted</th>' in report
    adjusted = num(readiness["adjusted_score"], 0)
    assert f"Evidence-adjusted: {adjusted}/100" in _text(report).replace(" /100", "/100")


def test_without_scans_no_adjusted_readiness_and_claims_are_unverified(demo: Assessment) -> None:
    from assessments.inputs import organisation_inputs_changed
    from assessments.processes.models import Process

    # The demo's process catalogue is evidence too: without it, the demo has none.
    Process.objects.filter(organisation=demo.organisation).delete()
    organisation_inputs_changed(demo.organisation_id)
    html = _owner_client(demo).get(reverse("reports:results", args=[demo.pk])).content.decode()
    assert 'id="readiness-adjusted"' not in html
    assert "until then every claim is unverified" in _text(_section(html, "evidence-title"))


def test_an_overclaim_refuted_by_scans_does_not_unlock_autonomy_on_the_page(
    scanned: Assessment,
) -> None:
    result = result_compute(assessment=scanned).data
    claimed = _capability(result, POLICY)["level"]
    assert claimed >= 3  # the answers alone would meet "pull requests with review"
    html = _owner_client(scanned).get(reverse("reports:results", args=[scanned.pk])).content
    gates = _text(_section(html.decode(), "gate-title"))
    # Both levels written as the capability table writes them: the evidence-adjusted level the
    # gate reads, and the self-reported one it replaced (never a bare "2" beside a table's 2.8).
    policy = _capability(result, POLICY)
    now = level_text(1 + policy["evidence"]["adjusted_score"] / 25)
    assert now.startswith("2.")
    assert (
        f"Review policy and ownership: level 3 needed, now {now} "
        f"(claimed {level_text(policy['exact_level'])}, lowered by scan evidence)" in gates
    )
    assert result["autonomy"]["granted"]["id"] == "suggest-only"


def test_each_autonomy_step_lists_what_it_requires_and_what_is_missing(demo: Assessment) -> None:
    html = _owner_client(demo).get(reverse("reports:results", args=[demo.pk])).content.decode()
    gates = _text(_section(html, "gate-title"))
    autonomy = result_compute(assessment=demo).data["autonomy"]
    titles = {c.id: c.title for c in demo.rubric.capabilities}
    exact = {
        c["id"]: c["exact_level"] for c in result_compute(assessment=demo).data["capabilities"]
    }
    for step in autonomy["steps"]:
        for check in step["checks"]:
            now = level_text(exact[check["capability_id"]], missing="no data")
            state = "met" if check["met"] else "missing"
            title = titles[check["capability_id"]]
            # Rubric version 2's other kinds (one answer, scan evidence, review headroom, track
            # record) read as a phrase rather than a level.
            line = (
                f"{state} {title}: level {check['required']} needed, now {now}"
                if check["kind"] == "capability"
                else f"{state} {title}: {check['label']}"
            )
            assert escape(line) in gates or line in gates, line
    assert autonomy["next_gate"] is not None
    # The next step's list is open and counts what is missing (each shown above, marked).
    step = next(s for s in autonomy["steps"] if s["gate"]["id"] == autonomy["next_gate"]["id"])
    summary = f"{len(step['checks'])} requirements: {len(autonomy['missing_for_next'])} missing"
    assert summary in gates


def test_dora_split_shows_ai_assisted_against_other_with_counts(scanned: Assessment) -> None:
    client = _owner_client(scanned)
    html = client.get(reverse("reports:results", args=[scanned.pk])).content.decode()
    delivery = _text(_section(html, "delivery-title"))
    assert "Lead time for changes: AI-assisted vs other (n) 10.0 h (8) vs 30.0 h (12)" in delivery
    assert "Change failure rate: AI-assisted vs other (n) 25% (8) vs 8% (12)" in delivery
    report = client.get(reverse("reports:report", args=[scanned.pk])).content.decode()
    start = report.index('id="delivery"')
    section = _text(report[start : report.index("</section>", start)])
    assert "Lead time for changes: AI-assisted vs other (n) 10.0 h (8) vs 30.0 h (12)" in section
    assert "Change failure rate: AI-assisted vs other (n) 25% (8) vs 8% (12)" in section


def test_delivery_export_carries_the_split(scanned: Assessment) -> None:
    client = _owner_client(scanned)
    csv = client.get(reverse("reports:export", args=[scanned.pk, "delivery.csv"]))
    assert csv.status_code == 200
    frame = pd.read_csv(io.BytesIO(csv.content), encoding="utf-8-sig").set_index("measure")
    lead = frame.loc["Lead time for changes"]
    assert (lead["ai_assisted"], lead["ai_assisted_n"], lead["other"], lead["other_n"]) == (
        10.0,
        8,
        30.0,
        12,
    )
    failure = frame.loc["Change failure rate"]
    assert failure["ai_assisted"] == pytest.approx(0.25) and failure["other_n"] == 12
    assert pd.isna(frame.loc["Deployment frequency", "ai_assisted"])
    xlsx = client.get(reverse("reports:export", args=[scanned.pk, "workbook.xlsx"]))
    sheets = pd.read_excel(io.BytesIO(xlsx.content), sheet_name=None)
    assert "Delivery" in sheets
    assert list(sheets["Delivery"]["ai_assisted_n"].dropna()) == [8, 8]


def test_without_delivery_records_there_is_no_delivery_export(demo: Assessment) -> None:
    client = _owner_client(demo)
    assert client.get(reverse("reports:export", args=[demo.pk, "delivery.csv"])).status_code == 404


def test_heatmap_caption_says_what_the_cells_are(demo: Assessment) -> None:
    html = _owner_client(demo).get(reverse("reports:results", args=[demo.pk])).content.decode()
    caption = _text(_section(html, "heat-title"))
    assert "mean level of that role's respondents" in caption
    assert "median level" not in caption
    assert "left out otherwise" in caption


def test_unscorable_settings_answer_422_and_keep_the_form_to_fix_them(demo: Assessment) -> None:
    demo.targets = {"no-such-dimension": 3}
    demo.save(update_fields=["targets"])
    client = _owner_client(demo)
    for name in ("reports:results", "reports:report"):
        response = client.get(reverse(name, args=[demo.pk]))
        assert response.status_code == 422, name
        html = response.content.decode()
        assert "This assessment cannot be scored: target for unknown dimension" in html
        assert "Save and recompute" in html and 'name="target_review"' in html
    # Saving the form from that page puts it right.
    rubric = demo.rubric
    data: dict[str, Any] = {f"target_{d.id}": d.target_level for d in rubric.dimensions}
    data |= {f"weight_{d.id}": d.weight for d in rubric.dimensions}
    data |= {f"weight_{c.id}": c.weight for c in rubric.capabilities}
    assert client.post(reverse("reports:results_settings", args=[demo.pk]), data).status_code == 302
    assert client.get(reverse("reports:results", args=[demo.pk])).status_code == 200
