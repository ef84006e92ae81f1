"""Numbers that agree with each other: a level reads the same in the table, the badge, the
headline and every sentence of the report and the results page, and sentences name the real
target and carry units."""

from __future__ import annotations

import html as html_lib
import re

import pytest
from django.test import Client
from django.urls import reverse

from assessments.demo import DEMO_ASSESSMENT_ID, seed_demo
from assessments.models import Assessment, Membership
from reports.numbers import level_text, num
from reports.services import result_compute

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo() -> Assessment:
    seed_demo()
    return Assessment.objects.get(pk=DEMO_ASSESSMENT_ID)


def _client(assessment: Assessment) -> Client:
    owner = Membership.objects.get(organisation=assessment.organisation, role="owner").user
    client = Client()
    client.force_login(owner)
    return client


def _text(fragment: str) -> str:
    return html_lib.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)))


def _pages(assessment: Assessment) -> dict[str, str]:
    client = _client(assessment)
    return {
        name: client.get(reverse(f"reports:{name}", args=[assessment.pk])).content.decode()
        for name in ("report", "results")
    }


def test_every_level_badge_reads_as_the_table_does(demo: Assessment) -> None:
    result = result_compute(assessment=demo).data
    caps = {c["title"]: c for c in result["capabilities"]}
    # The demo must exercise the point: a level whose whole part is not what rounding gives.
    assert any(c["exact_level"] is not None and c["exact_level"] % 1 >= 0.5 for c in caps.values())
    pages = _pages(demo)
    # "What the current levels mean": each capability's badge is its table level, not the
    # whole level reached (2.8 must never read "2").
    meanings = re.findall(
        r"<dt>(.*?) <span class=\"level-pill level-\d\">(.*?)</span>", pages["report"]
    )
    assert meanings
    for title, badge in meanings:
        cap = caps[html_lib.unescape(title)]
        assert badge == level_text(cap["exact_level"]), title
    # The results table's badges.
    for page in pages.values():
        for badge in re.findall(r'class="level-pill level-\d">([^<]*)<', page):
            assert re.fullmatch(r"(Level )?\d\.\d", badge.split(":")[0].split(" ·")[0]), badge
    # The headline badge is readiness on the same scale and rounding.
    readiness = level_text(1 + result["readiness"]["score"] / 25)
    assert f"Level {readiness}:" in pages["report"]
    assert f"Level {readiness} ·" in pages["results"]


def test_sentences_name_the_level_as_printed_and_the_real_target(demo: Assessment) -> None:
    result = result_compute(assessment=demo).data
    caps = {c["id"]: c for c in result["capabilities"]}
    report = _text(_pages(demo)["report"])
    checked = 0
    for item in result["roadmap"]:
        for reason in item["triggers"]:
            if reason["kind"] != "capability_below":
                continue
            cap = caps[reason["subject"]]
            text = reason["text"]
            assert f"at level {level_text(cap['exact_level'])}" in text, text
            threshold, target = int(reason["threshold"]), cap["target_level"]
            if threshold == target:
                assert f"below its target of {target}" in text, text
            else:
                # Never "below 4" as if 4 were the target when the target is 3.
                assert f"target {target}" in text or f"target of {target}" in text, text
            checked += 1
    assert checked
    # A sentence never names a whole level the table does not show: "is at level 2," with
    # the table at 2.8.
    assert not re.search(r"is at level \d(?:,|\.(?!\d))", report)
    # The average readiness is held back from carries its scale.
    for average in re.findall(r"dimensions average (\S+)", report):
        assert re.fullmatch(r"\d+/100\)?[.,]?", average), average
    # Fact medians carry their units (never "a median of 20.45." alone).
    for fact in re.findall(r"have a median of ([\d.]+)([^.]*)\.", report):
        number, rest = fact
        assert rest.strip(), f"a median of {number} without a unit"


def test_a_dimension_nobody_answered_is_not_assessed_and_the_headline_says_so(
    demo: Assessment,
) -> None:
    from assessments.inputs import inputs_changed
    from assessments.models import Answer

    before = result_compute(assessment=demo).data["readiness"]
    assert before["not_assessed"] == []
    # Nobody answers the review dimension: without the caveat readiness would quietly rise,
    # the weakest-link rule no longer seeing it.
    review = [q.id for q in demo.rubric.questions if q.dimension_id == "review"]
    Answer.objects.filter(respondent__assessment=demo, question_id__in=review).delete()
    # Submitted answers change only through the survey, which marks the inputs changed; a
    # bulk delete behind its back says so itself.
    inputs_changed(assessment_ids=[demo.pk])
    result = result_compute(assessment=demo).data
    assert result["readiness"]["not_assessed"] == ["review"]
    title = next(d["title"] for d in result["dimensions"] if d["id"] == "review")
    for name, page in _pages(demo).items():
        caveat = page[page.index('id="not-assessed-caveat"') :]
        caveat = _text(caveat[: caveat.index("</p>")])
        assert f"Not assessed: {title}." in caveat, name
        assert "upper bound" in caveat, name
        assert f"{title}: not assessed (target" in _text(page), name


def test_the_review_wall_sets_the_models_wait_beside_the_observed_one(demo: Assessment) -> None:
    projection = result_compute(assessment=demo).data["review"]["projection"]
    reconciliation = projection["reconciliation"]
    assert reconciliation is not None  # the demo's respondents gave their observed wait
    for name, page in _pages(demo).items():
        text = _text(page[page.index('id="review-reconcile"') :].split("</p>", 1)[0])
        assert "median wait of" in text, name
        # Why the two differ, in words, whenever observation is far beyond the model.
        if reconciliation["observed_hours"] > 2 * reconciliation["model_hours"] + 0.5:
            for reason in ("not started on arrival", "batch", "working hours", "priorities"):
                assert reason in text, (name, reason)
        # Reviewers needed: today and at the planned 6- and 12-month volumes, with the target.
        needed = _text(page[page.index('id="review-needed"') :].split("</table>", 1)[0])
        assert "under 8.0 h of working time" in needed, name
        for n in projection["reviewers_needed"]:
            label = "Today" if n["label"] == "today" else n["label"].capitalize()
            assert f"{label} {num(n['prs_per_week'], 0)} {n['reviewers']}" in needed, (name, n)
        assert [n["label"] for n in projection["reviewers_needed"]] == [
            "today",
            "in 6 months",
            "in 12 months",
        ]
        # Agent PRs: each parameter with its source, defaults marked as such.
        agent = _text(page[page.index('id="review-agent"') :].split("</table>", 1)[0])
        assert "32.7% published figure: LinearB 2026 benchmarks" in agent, name
        assert "assumption" in agent, name


def test_chart_hovers_print_levels_as_the_tables_do(demo: Assessment) -> None:
    from reports import charts

    result = result_compute(assessment=demo).data
    for d in result["dimensions"]:
        bars = charts.capability_bars(result, d["id"]).data[0]
        caps = [c for c in result["capabilities"] if c["dimension_id"] == d["id"]]
        assert list(bars.customdata) == [level_text(c["exact_level"]) for c in caps]
        assert "%{x:.1f}" not in bars.hovertemplate


def test_the_scores_export_carries_the_headline_level(demo: Assessment) -> None:
    from reports.exports import scores_table

    result = result_compute(assessment=demo).data
    overall = scores_table(result).set_index("kind").loc["overall"]
    assert level_text(overall["exact_level"]) == level_text(1 + result["readiness"]["score"] / 25)
