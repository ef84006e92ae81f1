"""Exports of an assessment: CSV per table, one XLSX workbook, and the whole result as JSON.

The delivery table (the DORA measures, with the AI-assisted against other split where changes
were marked) exists only when the result has delivery metrics.

The answers table lists each respondent's answers (by name, or "Respondent N" where no name
was given) only where the assessment said so when it was created (`export_named_answers`), as
respondents were told before they started. Otherwise it holds one row per question or numeric
question with the counts, median and range of the answers, and only the number who answered
where fewer than three did: nothing in an export rests on one or two people's answers.
Every text cell that a spreadsheet could read as a formula (leading = + - @, a tab, a carriage
return or another control character) is prefixed with an apostrophe.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pandas as pd

from assessments.models import Answer, Assessment, Respondent
from assessments.processes import services as processes
from reports import plan as plans
from scoring.scores import POINTS_PER_LEVEL

# The document's format: a name and version, bumped when a key changes meaning or goes away,
# and where the format is described (in this repository).
SCHEMA = "opready-result/1"
SCHEMA_DOCS = "docs/result-schema.md"
TABLES = (
    "answers",
    "scores",
    "findings",
    "roadmap",
    "plan",
    "delivery",
    "pilot_backlog",
    "workshop",
)
_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value and (value.startswith(_DANGEROUS) or ord(value[0]) < 32):
        return "'" + value
    return value


def _safe(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        # Every column: pandas 3 stores text as a string dtype, not object.
        if not pd.api.types.is_numeric_dtype(out[column]):
            out[column] = out[column].map(safe_cell)
    return out


ANSWER_COUNT_COLUMNS = [
    "dimension",
    "capability",
    "question_id",
    "question",
    "answered",
    "level_1",
    "level_2",
    "level_3",
    "level_4",
    "level_5",
    "dont_know",
    "not_applicable",
    "median",
    "lowest",
    "highest",
    "shown",
]


def answer_counts_table(assessment: Assessment, result: dict[str, Any]) -> pd.DataFrame:
    """One row per question and numeric question: how many answered, and (from three answers)
    how they answered. Built from the result, whose statistics already leave out figures
    fewer than three people gave."""
    rubric = assessment.rubric
    rows: list[dict[str, Any]] = []
    for q in rubric.questions:
        stat = result["questions"].get(q.id) or {}
        counts = stat.get("counts") or {}
        answered = stat.get("answered", sum(counts.values()))
        shown = bool(answered) and not stat.get("withheld")
        row: dict[str, Any] = {
            "dimension": q.dimension_id,
            "capability": q.capability_id,
            "question_id": q.id,
            "question": q.text,
            "answered": answered,
            "median": stat.get("median") if shown else None,
            "shown": "yes" if shown else ("fewer than three answers" if answered else "none"),
        }
        for level in ("1", "2", "3", "4", "5"):
            row[f"level_{level}"] = counts.get(level) if shown else None
        row["dont_know"] = counts.get("dont_know") if shown else None
        row["not_applicable"] = counts.get("not_applicable") if shown else None
        rows.append(row)
    for fact in rubric.facts:
        value = result["facts"].get(fact.id) or {}
        n = value.get("n", 0)
        shown = bool(n) and not value.get("withheld")
        rows.append(
            {
                "question_id": fact.id,
                "question": fact.text,
                "answered": n,
                "median": value.get("median") if shown else None,
                "lowest": value.get("low") if shown else None,
                "highest": value.get("high") if shown else None,
                "shown": "yes" if shown else ("fewer than three answers" if n else "none"),
            }
        )
    frame = pd.DataFrame(rows, columns=ANSWER_COUNT_COLUMNS)
    for column in ("level_1", "level_2", "level_3", "level_4", "level_5", "dont_know"):
        frame[column] = frame[column].astype("Int64")
    frame["not_applicable"] = frame["not_applicable"].astype("Int64")
    return frame


def answers_table(assessment: Assessment) -> pd.DataFrame:
    """Each counted respondent's answers, one row per answer: only for an assessment created
    with `export_named_answers` (see the module docstring)."""
    rubric = assessment.rubric
    # The responses the result counts: finished, and not excluded by an owner.
    respondents = list(
        assessment.respondents.filter(
            status=Respondent.Status.SUBMITTED, excluded_at__isnull=True
        ).order_by("created_at", "pk")
    )
    labels = {
        r.pk: (
            f"Respondent {n}" if assessment.anonymous else (r.name or r.email or f"Respondent {n}")
        )
        for n, r in enumerate(respondents, start=1)
    }
    roles = {r.pk: r.role for r in respondents}
    rows = []
    answers = Answer.objects.filter(respondent__in=respondents).exclude(choice=Answer.Choice.NONE)
    for a in answers.order_by("respondent__created_at", "respondent_id", "question_id"):
        try:
            q = rubric.question(a.question_id)
            dimension, capability, text = q.dimension_id, q.capability_id, q.text
        except KeyError:
            dimension, capability, text = "", "", rubric.fact(a.question_id).text
        rows.append(
            {
                "respondent": labels[a.respondent_id],
                "role": roles[a.respondent_id],
                "dimension": dimension,
                "capability": capability,
                "question_id": a.question_id,
                "question": text,
                "answer": a.get_choice_display() if a.choice not in ("level", "number") else None,
                "level": a.level,
                "number": a.number,
                "comment": a.comment,
            }
        )
    columns = [
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
    # Levels are whole numbers: without a nullable integer column, one blank level (a "don't
    # know") turned every other into 4.0 in the file.
    return pd.DataFrame(rows, columns=columns).astype({"level": "Int64"})


def scores_table(result: dict[str, Any]) -> pd.DataFrame:
    rows = []
    for d in result["dimensions"]:
        rows.append(
            {
                "kind": "dimension",
                "id": d["id"],
                "title": d["title"],
                "score": d["score"],
                "level": d["level"],
                "exact_level": d["exact_level"],
                "target_level": d["target_level"],
                "gap": d["gap"],
                "confidence": d["confidence"],
                "confidence_label": d["confidence_label"],
                "respondents": None,
                "spread": None,
                "agreement": None,
                "evidence": None,
                "adjusted_score": d["adjusted_score"],
            }
        )
    for c in result["capabilities"]:
        rows.append(
            {
                "kind": "capability",
                "id": c["id"],
                "title": c["title"],
                "score": c["score"],
                "level": c["level"],
                "exact_level": c["exact_level"],
                "target_level": c["target_level"],
                "gap": c["gap"],
                "confidence": c["confidence"],
                "confidence_label": c["confidence_label"],
                "respondents": c["n_respondents"],
                "spread": c["spread"],
                "agreement": c["agreement"],
                "evidence": c["evidence"]["verdict"],
                "adjusted_score": c["evidence"]["adjusted_score"],
                "source": c.get("source"),
                "survey_score": c.get("survey_score"),
            }
        )
    readiness = result["readiness"]
    rows.append(
        {
            "kind": "overall",
            "id": "readiness",
            "title": "Overall readiness",
            "score": readiness["score"],
            "level": readiness["level"],
            # The level the headline badge prints (1 + readiness / 25), as for every other row.
            "exact_level": (
                None if readiness["score"] is None else 1 + readiness["score"] / POINTS_PER_LEVEL
            ),
            "target_level": None,
            "gap": None,
            "confidence": readiness["confidence"],
            "confidence_label": readiness["confidence_label"],
            "respondents": result["respondents"],
            "spread": None,
            "agreement": None,
            "evidence": None,
            "adjusted_score": readiness.get("adjusted_score"),
            "source": None,
            "survey_score": None,
        }
    )
    return pd.DataFrame(rows)


def workshop_table(result: dict[str, Any]) -> pd.DataFrame | None:
    """One row per capability a workshop agreed: the agreed level beside the survey median,
    the room's final votes per level, the rationale and the dissent (by role)."""
    rows = []
    for c in result["capabilities"]:
        room = c.get("workshop")
        if not room:
            continue
        distribution = room["distribution"]
        first = room.get("first_round")
        row: dict[str, Any] = {
            "capability": c["id"],
            "title": c["title"],
            "agreed_level": room["agreed_level"],
            "survey_median": room["survey_level"],
            "difference": room["difference"],
            "voters": distribution["voters"],
            "room_median": distribution["median"],
            "room_spread": (
                distribution["q3"] - distribution["q1"]
                if distribution["q1"] is not None and distribution["q3"] is not None
                else None
            ),
        }
        for key in ("1", "2", "3", "4", "5", "dont_know"):
            row[f"votes_{key}"] = distribution["counts"][key]
        row["revoted"] = first is not None
        row["first_round_median"] = first["median"] if first else None
        row["rationale"] = room["rationale"]
        row["dissent"] = "; ".join(
            f"{d['role']}{' (' + d['who'] + ')' if d['who'] else ''}: {d['reason']}"
            for d in room["dissent"]
        )
        row["agreed_on"] = room.get("agreed_on", "")
        rows.append(row)
    return pd.DataFrame(rows) if rows else None


def findings_table(result: dict[str, Any]) -> pd.DataFrame:
    rows = []
    for c in result["capabilities"]:
        for f in c["evidence"]["findings"]:
            rows.append(
                {
                    "capability": c["id"],
                    "detector": f["detector"],
                    "status": f["status"],
                    "strength": f["strength"],
                    "title": f["title"],
                    "pointers": " ".join(f["pointers"]),
                    "verdict": c["evidence"]["verdict"],
                }
            )
    return pd.DataFrame(
        rows,
        columns=["capability", "detector", "status", "strength", "title", "pointers", "verdict"],
    )


def roadmap_table(
    result: dict[str, Any], decisions: dict[str, dict[str, Any]] | None = None
) -> pd.DataFrame:
    """The roadmap as scored, with each item's decision (status, owner, target quarter,
    note) where the plan was edited."""
    decisions = decisions or {}
    rows = [
        {
            "position": i["position"],
            "bucket": i["bucket"],
            "id": i["id"],
            "title": i["title"],
            "capability": i["capability_id"],
            "impact": i["impact"],
            "effort": i["effort"],
            "prerequisites": ", ".join(i["prerequisites"]),
            "why": i["why"],
            "reasons": " ".join(i["reasons"]),
            "steps": "\n".join(f"{n}. {s}" for n, s in enumerate(i["steps"], start=1)),
            "first_30_days": i.get("first_30_days", ""),
            "done_when": i.get("done_when", ""),
            "owner_role": i.get("owner_role", ""),
            "effort_weeks": i.get("effort_weeks"),
            "raises_to": i.get("raises_to"),
            "unlocks": i.get("gate_id") or i.get("unlocks", ""),
            "status": decisions.get(i["id"], {}).get("status", "proposed"),
            "owner": decisions.get(i["id"], {}).get("owner", ""),
            "target_quarter": decisions.get(i["id"], {}).get("quarter", ""),
            "note": decisions.get(i["id"], {}).get("note", ""),
        }
        for i in result["roadmap"]
    ]
    columns = [
        "position",
        "bucket",
        "id",
        "title",
        "capability",
        "impact",
        "effort",
        "prerequisites",
        "why",
        "reasons",
        "steps",
        "first_30_days",
        "done_when",
        "owner_role",
        "effort_weeks",
        "raises_to",
        "unlocks",
        "status",
        "owner",
        "target_quarter",
        "note",
    ]
    return pd.DataFrame(rows, columns=columns)


PLAN_COLUMNS = [
    "plan_number",
    "title",
    "horizon",
    "in_view",
    "status",
    "owner",
    "target_quarter",
    "note",
    "unblocks",
    "after",
    "capability",
    "impact",
    "effort",
    "why",
    "steps",
    "id",
]


def plan_table(plan: dict[str, Any]) -> pd.DataFrame:
    """The edited plan for a tracker: one row per item in the order the report shows them
    (the horizons' short lists, then the rest), rejected items last with no number."""
    shown = [i for h in plan["horizons"] for i in h["items"]]
    rows = [
        {
            "plan_number": i.get("number"),
            "title": i["title"],
            "horizon": i["horizon_title"],
            "in_view": "yes"
            if i in shown
            else ("no" if i["decision"]["status"] != "rejected" else ""),
            "status": i["decision"]["status"],
            "owner": i["decision"]["owner"],
            "target_quarter": i["decision"]["quarter"],
            "note": i["decision"]["note"],
            "unblocks": i["unblocks"],
            "after": "; ".join(i["prerequisite_titles"]),
            "capability": i["capability_id"],
            "impact": i["impact"],
            "effort": i["effort"],
            "why": i["why"],
            "steps": "\n".join(f"{n}. {s}" for n, s in enumerate(i["steps"], start=1)),
            "id": i["id"],
        }
        for i in [*shown, *plan["appendix"], *plan["rejected"]]
    ]
    frame = pd.DataFrame(rows, columns=PLAN_COLUMNS)
    frame["plan_number"] = frame["plan_number"].astype("Int64")
    return frame


DELIVERY_COLUMNS = [
    "measure",
    "value",
    "unit",
    "bucket",
    "ai_assisted",
    "ai_assisted_n",
    "other",
    "other_n",
]


def delivery_table(result: dict[str, Any]) -> pd.DataFrame | None:
    """The DORA measures, one row each, with the AI-assisted against other split (and the
    number of changes or deployments behind each side) where there is one; None without
    delivery metrics."""
    delivery = result.get("delivery")
    if not delivery:
        return None

    def row(
        measure: str, value: Any, unit: str, bucket: Any, split: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        return {
            "measure": measure,
            "value": value,
            "unit": unit,
            "bucket": bucket,
            "ai_assisted": split["ai_assisted"] if split else None,
            "ai_assisted_n": split["ai_count"] if split else None,
            "other": split["other"] if split else None,
            "other_n": split["other_count"] if split else None,
        }

    rows = [
        row(
            "Deployment frequency",
            delivery["deployments_per_week"],
            "deployments per week",
            delivery["deployment_frequency"],
        ),
        row(
            "Lead time for changes",
            delivery["lead_time_hours"],
            "hours",
            delivery["lead_time_bucket"],
            delivery.get("lead_time_split"),
        ),
        row(
            "Change failure rate",
            delivery["change_failure_rate"],
            "share of deployments",
            delivery["change_failure_bucket"],
            delivery.get("failure_rate_split"),
        ),
        row(
            "Failed deployment recovery time",
            delivery["recovery_hours"],
            "hours",
            delivery["recovery_bucket"],
        ),
    ]
    if delivery.get("rework_rate") is not None:
        rows.append(
            row("Rework rate", delivery["rework_rate"], "share of deployments", "unplanned")
        )
    frame = pd.DataFrame(rows, columns=DELIVERY_COLUMNS)
    for column in ("ai_assisted_n", "other_n"):
        frame[column] = frame[column].astype("Int64")
    return frame


def tables(assessment: Assessment, result: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """Every table of the assessment; "delivery" only when the result has delivery metrics,
    "workshop" only when a workshop agreed levels."""
    plan = plans.plan_for(assessment, result)
    decisions = {
        i["id"]: i["decision"]
        for i in [*(i for h in plan["horizons"] for i in h["items"]), *plan["appendix"]]
        + plan["rejected"]
    }
    frames = {
        "answers": _safe(
            answers_table(assessment)
            if assessment.export_named_answers
            else answer_counts_table(assessment, result)
        ),
        "scores": _safe(scores_table(result)),
        "findings": _safe(findings_table(result)),
        "roadmap": _safe(roadmap_table(result, decisions)),
        "plan": _safe(plan_table(plan)),
    }
    delivery = delivery_table(result)
    if delivery is not None:
        frames["delivery"] = _safe(delivery)
    backlog = processes.backlog_rows(assessment, result)
    if backlog:
        frames["pilot_backlog"] = _safe(pd.DataFrame(backlog))
    workshop = workshop_table(result)
    if workshop is not None:
        frames["workshop"] = _safe(workshop)
    return frames


def to_csv(frame: pd.DataFrame) -> bytes:
    text: str = frame.to_csv(index=False)
    return text.encode("utf-8-sig")  # the BOM makes Excel read UTF-8


def to_xlsx(frames: dict[str, pd.DataFrame]) -> bytes:
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in frames.items():
            frame.to_excel(writer, sheet_name=name.capitalize(), index=False)
            sheet = writer.sheets[name.capitalize()]
            for column in sheet.columns:
                width = max(
                    (len(str(cell.value)) for cell in column if cell.value is not None), default=8
                )
                sheet.column_dimensions[column[0].column_letter].width = min(60, max(10, width + 2))
    return buffer.getvalue()


def to_json(assessment: Assessment, result: dict[str, Any]) -> bytes:
    """The whole result with its context; the shape is documented in docs/result-schema.md."""
    document = {
        "schema": SCHEMA,
        "schema_docs": SCHEMA_DOCS,
        "assessment": {
            "id": str(assessment.pk),
            "title": assessment.title,
            "organisation": assessment.organisation.name,
            "anonymous": assessment.anonymous,
            "export_named_answers": assessment.export_named_answers,
            "rubric": assessment.rubric.key,
            "created_at": assessment.created_at.isoformat(),
        },
        "result": result,
        "pilot_backlog": processes.backlog_rows(assessment, result),
        "plan": _plan_document(plans.plan_for(assessment, result)),
    }
    return json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8")


def _plan_document(plan: dict[str, Any]) -> dict[str, Any]:
    """The edited plan for the JSON export: the items as the plan table has them (ids, not
    titles, for prerequisites) and the history of changes."""
    frame = plan_table(plan).astype(object).where(lambda f: f.notna(), None)
    return {
        "horizon_limit": plan["limit"],
        "items": frame.to_dict(orient="records"),
        "history": [
            {
                "at": change["at"].isoformat(),
                "who": change["who"],
                "item_id": change["item_id"],
                "changes": change["changes"],
            }
            for change in plan["history"]
        ],
    }
