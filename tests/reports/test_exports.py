"""The exports cell by cell: what counts (only finished responses an owner did not exclude),
what each column holds, the k >= 3 rule in the answer counts, and cells a spreadsheet could
read as formulas."""

from __future__ import annotations

import io
import json
import statistics
import time
from typing import Any

import pandas as pd
import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from assessments import services
from assessments.models import Assessment, Respondent
from reports import exports
from reports.plan import HORIZON_LIMIT
from reports.services import result_compute
from tests.factories import Personas, invite
from tests.reports.test_results_evidence import FINDINGS, _delivery

pytestmark = pytest.mark.django_db


def _csv(client: Client, assessment: Assessment, kind: str) -> pd.DataFrame:
    response = client.get(reverse("reports:export", args=[assessment.pk, kind]))
    assert response.status_code == 200, kind
    return pd.read_csv(io.BytesIO(response.content), encoding="utf-8-sig", keep_default_na=False)


def _owner(personas: Personas) -> Client:
    client = Client()
    client.force_login(personas.alice)
    return client


def _respond(
    assessment: Assessment,
    answers: dict[str, str],
    *,
    role: str = "engineering",
    name: str = "Pat",
    comment: str = "",
    submit: bool = True,
) -> Respondent:
    respondent, _token = invite(assessment, role=role, name=name)
    for seq, (question_id, value) in enumerate(answers.items(), start=1):
        services.answer_save(
            respondent=respondent, question_id=question_id, value=value, comment=comment, seq=seq
        )
    if submit:
        services.respondent_submit(respondent=respondent)
    return respondent


def _named(assessment: Assessment) -> None:
    Assessment.objects.filter(pk=assessment.pk).update(export_named_answers=True)
    assessment.refresh_from_db()


# --- Answers by respondent ---------------------------------------------------------------------


def test_named_answers_leave_out_unfinished_and_excluded_responses(personas: Personas) -> None:
    assessment = personas.assessment_a
    _named(assessment)
    first = services.questions_for(invite(assessment)[0])[0].id
    _respond(assessment, {first: "3"}, name="Counted")
    _respond(assessment, {first: "5"}, name="Unfinished", submit=False)
    excluded = _respond(assessment, {first: "1"}, name="Excluded")
    services.respondent_exclude(respondent=excluded, excluded=True)
    frame = _csv(_owner(personas), assessment, "answers.csv")
    assert list(frame["respondent"]) == ["Counted"]
    assert list(frame["level"]) == [3]
    # Counted again once the owner takes the exclusion back.
    services.respondent_exclude(respondent=excluded, excluded=False)
    frame = _csv(_owner(personas), assessment, "answers.csv")
    assert sorted(frame["respondent"]) == ["Counted", "Excluded"]


def test_named_answers_before_anyone_finished_are_the_columns_alone(personas: Personas) -> None:
    assessment = personas.assessment_a
    _named(assessment)
    question = services.questions_for(invite(assessment)[0])[0].id
    _respond(assessment, {question: "3"}, name="Still answering", submit=False)
    response = _owner(personas).get(reverse("reports:export", args=[assessment.pk, "answers.csv"]))
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines == [
        "respondent,role,dimension,capability,question_id,question,answer,level,number,comment"
    ]


def test_named_answers_say_who_answered_what(personas: Personas) -> None:
    assessment = personas.assessment_a
    _named(assessment)
    engineer = invite(assessment)[0]
    questions = services.questions_for(engineer)
    fact = next(f for f in assessment.rubric.facts if "engineering" in f.audience)
    answers = {
        questions[0].id: "4",
        questions[1].id: "dk",
        questions[2].id: "na",
        fact.id: f"{fact.minimum + 1:g}",
    }
    # A question opened and left blank is no answer.
    named = _respond(
        assessment, {**answers, questions[3].id: ""}, name="Ada", comment="we do this weekly"
    )
    nameless = _respond(assessment, {questions[0].id: "2"}, name="")
    Respondent.objects.filter(pk=nameless.pk).update(email="ops@example.com")
    lead = assessment.rubric.questions_for("leadership")[0].id
    _respond(assessment, {lead: "1"}, name="", role="leadership")
    frame = _csv(_owner(personas), assessment, "answers.csv")
    assert list(frame.columns) == [
        "respondent",
        "role",
        "dimension",
        "capability",
        "question_id",
        "question",
        "answer",
        "level",
        "number",
        "comment",
    ]
    # Ordered by when each person was invited, then by question; no blank answers.
    assert list(frame["respondent"]) == ["Ada"] * 4 + ["ops@example.com", "Respondent 3"]
    assert list(frame["role"]) == ["engineering"] * 5 + ["leadership"]
    ada = frame[frame["respondent"] == "Ada"].set_index("question_id")
    assert list(ada.index) == sorted(answers)
    level = ada.loc[questions[0].id]
    assert (level["answer"], str(level["level"]), level["number"]) == ("", "4", "")  # not 4.0
    assert (level["dimension"], level["capability"], level["question"]) == (
        questions[0].dimension_id,
        questions[0].capability_id,
        questions[0].text,
    )
    assert level["comment"] == "we do this weekly"
    assert ada.loc[questions[1].id, "answer"] == "Don't know"
    assert ada.loc[questions[2].id, "answer"] == "Not applicable"
    number = ada.loc[fact.id]
    assert (number["answer"], number["level"], number["dimension"], number["question"]) == (
        "",
        "",
        "",
        fact.text,
    )
    assert float(number["number"]) == fact.minimum + 1
    assert named.name == "Ada"
    # An anonymous assessment numbers people even where a name was given.
    Assessment.objects.filter(pk=assessment.pk).update(anonymous=True)
    frame = _csv(_owner(personas), assessment, "answers.csv")
    assert list(frame["respondent"]) == ["Respondent 1"] * 4 + ["Respondent 2", "Respondent 3"]


# --- Answer counts (the default) ---------------------------------------------------------------


def test_answer_counts_show_how_people_answered_only_from_three_answers(
    personas: Personas,
) -> None:
    assessment = personas.assessment_a
    engineer = invite(assessment)[0]
    three, two, none = (q.id for q in services.questions_for(engineer)[:3])
    fact = next(f for f in assessment.rubric.facts if "engineering" in f.audience)
    few_fact = next(f for f in assessment.rubric.facts if "engineering" in f.audience and f != fact)
    numbers = [fact.minimum, fact.minimum + 2, fact.minimum + 3]
    for n, value in enumerate(["2", "4", "4", "dk", "na"]):
        answers = {three: value}
        if n < 3:
            answers[fact.id] = f"{numbers[n]:g}"
        if n < 2:
            answers |= {two: "5", few_fact.id: f"{few_fact.minimum:g}"}
        _respond(assessment, answers, name=f"Person {n}")
    frame = _csv(_owner(personas), assessment, "answers.csv").set_index("question_id")
    assert list(frame.columns) == [c for c in exports.ANSWER_COUNT_COLUMNS if c != "question_id"]
    shown = frame.loc[three]
    assert shown["answered"] == 5
    assert [shown[f"level_{n}"] for n in "12345"] == ["0", "1", "0", "2", "0"]
    assert (shown["dont_know"], shown["not_applicable"], shown["shown"]) == ("1", "1", "yes")
    assert float(shown["median"]) == 4.0  # of the levels given
    assert shown["dimension"] == assessment.rubric.question(three).dimension_id
    assert shown["capability"] == assessment.rubric.question(three).capability_id
    assert shown["question"] == assessment.rubric.question(three).text
    withheld = frame.loc[two]
    assert withheld["answered"] == 2
    assert withheld["shown"] == "fewer than three answers"
    for column in ["level_1", "level_2", "level_3", "level_4", "level_5", "dont_know",
                   "not_applicable", "median"]:  # fmt: skip
        assert withheld[column] == "", column
    unanswered = frame.loc[none]
    assert (unanswered["answered"], unanswered["shown"], unanswered["level_3"]) == (0, "none", "")
    counted = frame.loc[fact.id]
    assert (counted["answered"], counted["shown"], counted["question"]) == (3, "yes", fact.text)
    assert float(counted["median"]) == statistics.median(numbers)
    assert (float(counted["lowest"]), float(counted["highest"])) == (min(numbers), max(numbers))
    few = frame.loc[few_fact.id]
    assert (few["answered"], few["shown"]) == (2, "fewer than three answers")
    assert (few["median"], few["lowest"], few["highest"]) == ("", "", "")
    unasked = next(f for f in assessment.rubric.facts if f not in (fact, few_fact))
    assert (frame.loc[unasked.id, "answered"], frame.loc[unasked.id, "shown"]) == (0, "none")


# --- Scores ------------------------------------------------------------------------------------


def test_scores_export_holds_every_figure_of_the_result(personas: Personas) -> None:
    assessment = personas.assessment_a
    engineer = invite(assessment)[0]
    questions = services.questions_for(engineer)
    for n in range(3):
        _respond(assessment, {q.id: str(2 + (i + n) % 3) for i, q in enumerate(questions)})
    result = result_compute(assessment=assessment).data
    frame = _csv(_owner(personas), assessment, "scores.csv")
    assert list(frame.columns) == [
        "kind", "id", "title", "score", "level", "exact_level", "target_level", "gap",
        "confidence", "confidence_label", "respondents", "spread", "agreement", "evidence",
        "adjusted_score", "source", "survey_score",
    ]  # fmt: skip
    rows = {(r["kind"], r["id"]): r for r in frame.to_dict(orient="records")}
    assert len(rows) == len(result["dimensions"]) + len(result["capabilities"]) + 1

    def same(cell: Any, value: Any) -> bool:
        if value is None:
            return cell == ""
        if isinstance(value, float | int) and not isinstance(value, bool):
            return float(cell) == pytest.approx(value, abs=1e-9)
        return str(cell) == str(value)

    for d in result["dimensions"]:
        row = rows[("dimension", d["id"])]
        for column in ["title", "score", "level", "exact_level", "target_level", "gap",
                       "confidence", "confidence_label", "adjusted_score"]:  # fmt: skip
            assert same(row[column], d[column]), (d["id"], column)
        for column in ["respondents", "spread", "agreement", "evidence", "source"]:
            assert row[column] == "", (d["id"], column)
    scored = [c for c in result["capabilities"] if c["score"] is not None]
    assert scored
    for c in result["capabilities"]:
        row = rows[("capability", c["id"])]
        for column in ["title", "score", "level", "exact_level", "target_level", "gap",
                       "confidence", "confidence_label", "spread", "agreement"]:  # fmt: skip
            assert same(row[column], c[column]), (c["id"], column)
        assert same(row["respondents"], c["n_respondents"]), c["id"]
        assert same(row["evidence"], c["evidence"]["verdict"]), c["id"]
        assert same(row["adjusted_score"], c["evidence"]["adjusted_score"]), c["id"]
        assert same(row["source"], c.get("source")), c["id"]
        assert same(row["survey_score"], c.get("survey_score")), c["id"]
    readiness = result["readiness"]
    overall = rows[("overall", "readiness")]
    assert overall["title"] == "Overall readiness"
    assert same(overall["score"], readiness["score"])
    assert same(overall["level"], readiness["level"])
    assert same(overall["exact_level"], 1 + readiness["score"] / 25)
    assert same(overall["confidence"], readiness["confidence"])
    assert same(overall["confidence_label"], readiness["confidence_label"])
    assert float(overall["respondents"]) == 3
    for column in ["target_level", "gap", "spread", "agreement", "evidence", "source",
                   "survey_score"]:  # fmt: skip
        assert overall[column] == "", column
    assert same(overall["adjusted_score"], readiness["adjusted_score"])


def test_an_unscored_readiness_has_no_exact_level() -> None:
    result = {
        "dimensions": [],
        "capabilities": [],
        "respondents": 0,
        "readiness": {"score": None, "level": None, "confidence": 0, "confidence_label": "low"},
    }
    overall = exports.scores_table(result).iloc[0]
    assert overall["exact_level"] is None and overall["respondents"] == 0


# --- Cells and files ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", [" =1+1", "plain", "a=b", "", "1-2", "'quoted"])
def test_text_that_no_spreadsheet_reads_as_a_formula_is_left_alone(value: str) -> None:
    assert exports.safe_cell(value) == value


@pytest.mark.parametrize("value", ["\x1fx", "\nx", "\x00"])
def test_text_starting_with_a_control_character_is_escaped(value: str) -> None:
    assert exports.safe_cell(value) == "'" + value


def test_numbers_keep_their_type_and_text_is_escaped_in_every_column() -> None:
    frame = pd.DataFrame(
        {"n": [-1, 2], "x": [-0.5, None], "text": ["=A1", "ok"], "other": [None, "@me"]}
    )
    safe = exports._safe(frame)
    assert list(safe["n"]) == [-1, 2] and safe["n"].dtype == frame["n"].dtype
    assert safe["x"].iloc[0] == -0.5 and safe["x"].dtype == frame["x"].dtype
    assert list(safe["text"]) == ["'=A1", "ok"]
    assert safe["other"].iloc[1] == "'@me"
    assert list(frame["text"]) == ["=A1", "ok"]  # the original is not changed


def test_csv_starts_with_a_byte_order_mark_and_xlsx_columns_fit_their_text() -> None:
    frame = pd.DataFrame({"id": ["a"], "note": ["x" * 30], "essay": ["y" * 200], "n": [1]})
    data = exports.to_csv(frame)
    assert data.startswith("\ufeffid,note,essay,n\r\n".encode()) or data.startswith(
        "\ufeffid,note,essay,n\n".encode()
    )
    book = load_workbook(io.BytesIO(exports.to_xlsx({"answers": frame, "scores": frame})))
    assert book.sheetnames == ["Answers", "Scores"]
    sheet = book["Answers"]
    widths = {c: sheet.column_dimensions[c].width for c in "ABCD"}
    # Short columns at least 10 wide, each column its longest text plus 2, at most 60.
    assert widths == {"A": 10, "B": 32, "C": 60, "D": 10}
    assert [cell.value for cell in sheet[2]] == ["a", "x" * 30, "y" * 200, 1]


# --- Findings, delivery, the workbook and the JSON document ------------------------------------


@pytest.fixture
def scanned(personas: Personas, monkeypatch: pytest.MonkeyPatch) -> Assessment:
    """Org A's assessment, three engineers answered, as if its scans and delivery exports ran."""
    monkeypatch.setattr("reports.services.evidence_for", lambda assessment: list(FINDINGS))
    monkeypatch.setattr("reports.services.delivery_for", lambda assessment: _delivery())
    assessment = personas.assessment_a
    questions = services.questions_for(invite(assessment)[0])
    for _n in range(3):
        _respond(assessment, {q.id: "3" for q in questions})
    return assessment


def test_findings_export_lists_each_finding_with_its_pointers_and_verdict(
    personas: Personas, scanned: Assessment
) -> None:
    result = result_compute(assessment=scanned).data
    frame = _csv(_owner(personas), scanned, "findings.csv")
    assert list(frame.columns) == [
        "capability", "detector", "status", "strength", "title", "pointers", "verdict",
    ]  # fmt: skip
    verdicts = {c["id"]: c["evidence"]["verdict"] for c in result["capabilities"]}
    expected = [
        [
            f.capability,
            f.detector,
            f.status,
            str(f.strength),
            f.title,
            " ".join(f.pointers),
            verdicts[f.capability],
        ]  # fmt: skip
        for f in FINDINGS
    ]
    rows = [[str(v) for v in row] for row in frame.itertuples(index=False)]
    assert sorted(rows) == sorted(expected)


def test_the_workbook_and_json_hold_every_table_there_is(
    personas: Personas, scanned: Assessment
) -> None:
    client = _owner(personas)
    result = result_compute(assessment=scanned).data
    xlsx = client.get(reverse("reports:export", args=[scanned.pk, "workbook.xlsx"]))
    sheets = pd.read_excel(io.BytesIO(xlsx.content), sheet_name=None)
    # Delivery records: a delivery sheet; no workshop and no process catalogue: no sheet for them.
    assert list(sheets) == ["Answers", "Scores", "Findings", "Roadmap", "Plan", "Delivery"]
    delivery = sheets["Delivery"].set_index("measure")
    measures = result["delivery"]
    assert list(delivery.index) == [
        "Deployment frequency", "Lead time for changes", "Change failure rate",
        "Failed deployment recovery time",
    ]  # fmt: skip
    frequency = delivery.loc["Deployment frequency"]
    assert frequency["value"] == pytest.approx(measures["deployments_per_week"])
    assert (frequency["unit"], frequency["bucket"]) == (
        "deployments per week",
        measures["deployment_frequency"],
    )
    recovery = delivery.loc["Failed deployment recovery time"]
    assert recovery["value"] == pytest.approx(measures["recovery_hours"])
    assert (recovery["unit"], recovery["bucket"]) == ("hours", measures["recovery_bucket"])
    lead = delivery.loc["Lead time for changes"]
    assert lead["value"] == pytest.approx(measures["lead_time_hours"])
    assert lead["bucket"] == measures["lead_time_bucket"]
    failure = delivery.loc["Change failure rate"]
    assert failure["unit"] == "share of deployments"
    assert failure["value"] == pytest.approx(measures["change_failure_rate"])
    assert failure["bucket"] == measures["change_failure_bucket"]
    split = measures["failure_rate_split"]
    assert (failure["ai_assisted"], failure["ai_assisted_n"]) == (
        pytest.approx(split["ai_assisted"]),
        split["ai_count"],
    )
    assert (failure["other"], failure["other_n"]) == (
        pytest.approx(split["other"]),
        split["other_count"],
    )
    assert pd.isna(recovery["ai_assisted_n"]) and pd.isna(recovery["other"])
    Assessment.objects.filter(pk=scanned.pk).update(title="Ørsted readiness, 2026")
    scanned.refresh_from_db()
    data = client.get(reverse("reports:export", args=[scanned.pk, "result.json"])).content
    # Readable as it is: indented, and letters as themselves rather than escapes.
    assert data.startswith(b'{\n  "schema": ') and "Ørsted".encode() in data
    document = json.loads(data)
    assert document["schema"] == exports.SCHEMA
    assert document["assessment"] == {
        "id": str(scanned.pk),
        "title": scanned.title,
        "organisation": "Org A",
        "anonymous": scanned.anonymous,
        "export_named_answers": False,
        "rubric": scanned.rubric.key,
        "created_at": scanned.created_at.isoformat(),
    }
    assert document["result"]["readiness"] == result["readiness"]
    assert document["pilot_backlog"] == []
    plan = document["plan"]
    assert plan["horizon_limit"] == HORIZON_LIMIT and plan["history"] == []
    assert [i["id"] for i in plan["items"]] == list(sheets["Plan"]["id"])
    first = plan["items"][0]
    assert first["plan_number"] == 1 and first["status"] == "proposed"
    assert first["title"] == sheets["Plan"]["title"].iloc[0]


def test_the_workshop_export_holds_the_agreed_level_both_rounds_and_the_dissent(
    personas: Personas,
) -> None:
    from assessments.workshops import services as workshops
    from tests.workshops.conftest import join, vote

    assessment = personas.assessment_a
    room = workshops.workshop_create(
        assessment=assessment,
        title="Board room",
        minutes_per_capability=5,
        created_by=personas.fiona,
    )
    item = room.items.first()
    assert item is not None
    capability = assessment.rubric.capability(item.capability_id)
    asked = [q.id for q in capability.questions if "engineering" in q.audience]
    for _n in range(3):
        _respond(assessment, dict.fromkeys(asked, "2"))
    phones = [join(room, "engineering") for _ in range(4)]
    workshops.item_open_next(workshop=room)
    for (client, participant), value in zip(phones, ["1", "2", "3", "dk"], strict=True):
        vote(client, participant, value)
    workshops.item_reveal(workshop=room)
    workshops.item_revote(workshop=room)
    for (client, participant), value in zip(phones, ["4", "4", "5", "3"], strict=True):
        vote(client, participant, value)
    workshops.item_reveal(workshop=room)
    workshops.item_agree(
        workshop=room, capability_id=item.capability_id, level=4, rationale="=Shown live"
    )
    for role, who, reason in [("leadership", "Dana", "too generous"), ("operations", "", "late")]:
        workshops.dissent_add(
            workshop=room, capability_id=item.capability_id, role=role, who=who, reason=reason
        )
    result = result_compute(assessment=assessment).data
    room_result = next(c for c in result["capabilities"] if c["id"] == item.capability_id)
    distribution = room_result["workshop"]["distribution"]
    frame = _csv(_owner(personas), assessment, "workshop.csv")
    assert len(frame) == 1
    row = frame.iloc[0]
    assert (row["capability"], row["title"]) == (capability.id, capability.title)
    assert (float(row["agreed_level"]), float(row["survey_median"])) == (4, 2)
    assert float(row["difference"]) == 2
    assert (row["voters"], float(row["room_median"])) == (4, 4)
    assert float(row["room_spread"]) == distribution["q3"] - distribution["q1"] > 0
    votes = [row[f"votes_{k}"] for k in ("1", "2", "3", "4", "5", "dont_know")]
    assert votes == [0, 0, 1, 2, 1, 0]
    assert (row["revoted"], float(row["first_round_median"])) == (True, 2)
    assert row["rationale"] == "'=Shown live"
    assert row["dissent"] == "leadership (Dana): too generous; operations: late"
    assert row["agreed_on"] == room_result["workshop"]["agreed_on"] != ""


# --- Roadmap and plan --------------------------------------------------------------------------


def _number(cell: Any) -> float | None:
    return None if cell == "" else float(cell)


def _steps(steps: list[str]) -> str:
    return "\n".join(f"{n}. {step}" for n, step in enumerate(steps, start=1))


def test_roadmap_and_plan_exports_carry_each_item_and_its_decision() -> None:
    from datetime import datetime

    from assessments.demo import DEMO_ASSESSMENT_ID, seed_demo
    from assessments.models import Membership

    seed_demo()
    demo = Assessment.objects.get(pk=DEMO_ASSESSMENT_ID)
    owner = Membership.objects.get(organisation=demo.organisation, role="owner").user
    client = Client()
    client.force_login(owner)
    roadmap = result_compute(assessment=demo).data["roadmap"]
    accepted, rejected = roadmap[0]["id"], roadmap[1]["id"]
    url = reverse("reports:plan", args=[demo.pk])
    edits = [
        {"item": accepted, "status": "accepted", "owner": "Mo", "quarter": "2027-Q1", "note": "n"},
        {"item": rejected, "status": "rejected", "owner": "", "quarter": "", "note": "no"},
    ]
    for edit in edits:
        assert client.post(url, {"version": "0", **edit}).status_code == 302
    table = _csv(client, demo, "roadmap.csv")
    assert list(table["id"]) == [i["id"] for i in roadmap]
    assert any(i["prerequisites"] for i in roadmap) and any(i["steps"] for i in roadmap)
    for row, item in zip(table.to_dict(orient="records"), roadmap, strict=True):
        assert (row["position"], row["bucket"], row["title"]) == (
            item["position"],
            item["bucket"],
            item["title"],
        )
        assert (row["capability"], row["impact"], row["effort"]) == (
            item["capability_id"],
            item["impact"],
            item["effort"],
        )
        assert row["prerequisites"] == ", ".join(item["prerequisites"])
        assert (row["why"], row["reasons"]) == (item["why"], " ".join(item["reasons"]))
        assert row["steps"] == _steps(item["steps"])
        assert (row["first_30_days"], row["done_when"], row["owner_role"]) == (
            item.get("first_30_days", ""),
            item.get("done_when", ""),
            item.get("owner_role", ""),
        )
        assert _number(row["effort_weeks"]) == item.get("effort_weeks")
        assert _number(row["raises_to"]) == item.get("raises_to")
        assert row["unlocks"] == (item.get("gate_id") or item.get("unlocks", ""))
    decided = table.set_index("id")
    assert tuple(decided.loc[accepted, ["status", "owner", "target_quarter", "note"]]) == (
        "accepted",
        "Mo",
        "2027-Q1",
        "n",
    )
    assert tuple(decided.loc[rejected, ["status", "note"]]) == ("rejected", "no")
    assert set(decided.drop(index=[accepted, rejected])["status"]) == {"proposed"}
    plan = _csv(client, demo, "plan.csv")
    assert list(plan.columns) == exports.PLAN_COLUMNS
    assert list(plan["id"])[-1] == rejected
    last = plan.iloc[-1]
    assert (last["plan_number"], last["in_view"], last["status"]) == ("", "", "rejected")
    numbered = plan.iloc[:-1]
    assert list(numbered["plan_number"]) == [str(n) for n in range(1, len(roadmap))]
    assert {"yes", "no"} == set(numbered["in_view"])  # the demo's plan has an appendix
    assert list(numbered["in_view"]) == sorted(numbered["in_view"], reverse=True)
    by_id = {i["id"]: i for i in roadmap}
    # Prerequisites by their number in the plan and title; a rejected one is not waited for.
    numbers = {r["id"]: r["plan_number"] for r in plan.to_dict(orient="records")}
    for row in plan.to_dict(orient="records"):
        item = by_id[row["id"]]
        after = [
            f"{numbers[p]}. {by_id[p]['title']}" for p in item["prerequisites"] if p != rejected
        ]
        assert row["after"] == "; ".join(after)
        assert (row["title"], row["capability"], row["steps"]) == (
            item["title"],
            item["capability_id"],
            _steps(item["steps"]),
        )
    first = plan.set_index("id").loc[accepted]
    assert (first["status"], first["owner"], first["target_quarter"], first["note"]) == (
        "accepted",
        "Mo",
        "2027-Q1",
        "n",
    )
    assert first["horizon"] != "" and int(first["unblocks"]) >= 0
    document = json.loads(
        client.get(reverse("reports:export", args=[demo.pk, "result.json"])).content
    )
    items = document["plan"]["items"]
    assert [i["id"] for i in items] == list(plan["id"])
    assert items[-1]["plan_number"] is None and items[0]["plan_number"] == 1
    history = document["plan"]["history"]
    assert [h["item_id"] for h in history] == [rejected, accepted]  # newest first
    assert history[1]["changes"]["owner"] == ["", "Mo"]
    assert history[1]["who"] == (owner.get_full_name() or owner.get_username())
    assert abs(datetime.fromisoformat(history[0]["at"]).timestamp() - time.time()) < 60


def test_a_delivery_export_with_unplanned_deployments_adds_the_rework_rate(
    personas: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _delivery()
    # Five of the twenty deployments were unplanned fixes.
    data.deployments["rework"] = ["yes" if n < 5 else "no" for n in range(len(data.deployments))]
    monkeypatch.setattr("reports.services.delivery_for", lambda assessment: data)
    assessment = personas.assessment_a
    questions = services.questions_for(invite(assessment)[0])
    for _n in range(3):
        _respond(assessment, {q.id: "3" for q in questions})
    frame = _csv(_owner(personas), assessment, "delivery.csv").set_index("measure")
    assert list(frame.index)[-1] == "Rework rate" and len(frame) == 5
    rework = frame.loc["Rework rate"]
    assert float(rework["value"]) == pytest.approx(5 / 20)
    assert (rework["unit"], rework["bucket"]) == ("share of deployments", "unplanned")
    assert (rework["ai_assisted"], rework["ai_assisted_n"], rework["other_n"]) == ("", "", "")
