"""Shape a result (its JSON form) for people: titles instead of ids, items grouped the way
pages and the PDF show them. Pure functions, shared by the results page and the report."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reports.charts import lead_log_scale
from reports.numbers import difference, gap_text, level_difference, num, shown
from scoring.delivery import disagreement
from scoring.roadmap import BUCKET_TITLES
from scoring.rubric import Rubric
from scoring.scores import POINTS_PER_LEVEL, level_text, score_to_exact_level, shown_level

LEVEL_NAMES = {1: "Ad hoc", 2: "Repeatable", 3: "Defined", 4: "Managed", 5: "Optimizing"}


# Which way a claim and the scan evidence disagree, in the words the report uses for it.
DIRECTION_WORDS = {
    "overclaim": "the answers claim more than the scans found",
    "underclaim": "the scans found more than the answers say",
}


def level_name(level: int | None) -> str:
    return LEVEL_NAMES.get(level or 0, "No data")


def present(result: dict[str, Any], rubric: Rubric) -> dict[str, Any]:
    capabilities = {c["id"]: c for c in result["capabilities"]}
    dimensions = {d["id"]: d for d in result["dimensions"]}
    titles = {c.id: c.title for c in rubric.capabilities}
    readiness = result["readiness"]
    limiting = dimensions.get(readiness["limiting_dimension_id"] or "")
    held_back_text = (
        difference(readiness["weighted_mean"], readiness["score"], 0, sign=False)
        if readiness["score"] is not None and readiness["weighted_mean"] is not None
        else None
    )

    by_dimension = []
    for d in result["dimensions"]:
        caps = [
            {
                **capabilities[cid],
                "source_label": source_label(capabilities[cid]),
                "shown_spread": shown_spread(capabilities[cid]),
                "evidence_lines": evidence_lines(capabilities[cid]["evidence"]),
            }
            for cid in d["capability_ids"]
        ]
        by_dimension.append(
            {
                **d,
                "level_name": level_name(d["level"]),
                "capabilities": caps,
                "summary": rubric.dimension(d["id"]).summary,
            }
        )

    gaps = []
    for gap in result["perception"]:
        if not gap["flagged"]:
            continue
        drivers = [
            {**driver, "text": rubric.question(driver["question_id"]).text}
            for driver in gap["drivers"][:3]
        ]
        levels = {g["group"]: g["level"] for g in gap["groups"]}
        gaps.append(
            {
                **gap,
                "title": titles[gap["capability_id"]],
                "drivers": drivers,
                "high_level": levels[gap["high_group"]],
                "low_level": levels[gap["low_group"]],
                "gap_text": level_difference(
                    levels[gap["high_group"]], levels[gap["low_group"]]
                ).lstrip("+"),
                "dimension_id": capabilities[gap["capability_id"]]["dimension_id"],
            }
        )
    gaps.sort(key=lambda g: -g["gap"])
    for d in by_dimension:
        d["gaps"] = [g for g in gaps if g["dimension_id"] == d["id"]]

    # The register: contradicted claims, largest disagreement first, each with only the
    # findings that contradict it (built by the engine).
    register = [
        {
            **entry,
            "claim_level": 1 + entry["claim_score"] / POINTS_PER_LEVEL,
            "evidence_level": 1 + entry["evidence_score"] / POINTS_PER_LEVEL,
            "gap_points": difference(
                max(entry["claim_score"], entry["evidence_score"]),
                min(entry["claim_score"], entry["evidence_score"]),
                0,
                sign=False,
            ),
        }
        for entry in result["evidence_register"]
    ]
    register_counts = {
        direction: sum(e["direction"] == direction for e in register)
        for direction in DIRECTION_WORDS
    }
    # Evidence exists when at least one capability has a determinable finding (a claim it could
    # not refute, because the scans cover too little of the organisation, still counts).
    has_evidence = any(
        c["evidence"]["found"] + c["evidence"]["absent"] for c in result["capabilities"]
    )

    roadmap: dict[str, list[dict[str, Any]]] = {bucket: [] for bucket in BUCKET_TITLES}
    item_titles = {item["id"]: f"{item['position']}. {item['title']}" for item in result["roadmap"]}
    levels = capability_levels(result)
    for item in result["roadmap"]:
        roadmap[item["bucket"]].append(
            {
                **item,
                "capability_title": titles[item["capability_id"]],
                "capability_level": levels.get(item["capability_id"]),
                "prerequisite_titles": [item_titles[p] for p in item["prerequisites"]],
            }
        )

    # A rubric without autonomy gates (a custom one) has no autonomy section.
    autonomy = result.get("autonomy")
    projection = result["review"]["projection"]
    planned = (
        list(zip(projection["planned_labels"], projection["planned"], strict=True))
        if projection
        else []
    )
    biggest = sorted((c for c in result["capabilities"] if c["gap"]), key=lambda c: -c["gap"])
    return {
        "workshop": workshop_rows(result, rubric),
        "room": result.get("room"),
        "sources": source_counts(result),
        "review_planned": planned,
        "review": review_wall(projection, result["review"].get("too_few")),
        "review_too_few": review_too_few(result["review"].get("too_few")),
        "review_reviewers": projection["inputs"]["reviewers"] if projection else None,
        "readiness": {
            **readiness,
            "level_name": level_name(readiness["level"]),
            "exact_level": (
                score_to_exact_level(readiness["score"]) if readiness["score"] is not None else None
            ),
            # From the two numbers as printed beside it, so that they add up.
            "held_back_text": held_back_text,
            # Whether the weakest-link cap lowers readiness by a printed point or more: only
            # then may a sentence say the weakest dimension sets or holds back the level.
            "held_back": held_back_text not in (None, "0"),
        },
        "respondents_text": ", ".join(
            f"{role} {n}" for role, n in result["respondents_by_role"].items() if n
        ),
        "limiting": limiting,
        # Dimensions that count but nobody answered: readiness is computed without them.
        "not_assessed": [
            dimensions[d]["title"] for d in readiness.get("not_assessed", []) if d in dimensions
        ],
        "dimensions": by_dimension,
        "perception_gaps": gaps,
        "register": register,
        "register_counts": register_counts,
        "register_text": _listing(
            [
                f"{n} {direction}{'s' if n != 1 else ''} ({DIRECTION_WORDS[direction]})"
                for direction, n in register_counts.items()
                if n
            ]
        ),
        "has_evidence": has_evidence,
        "roadmap": [(bucket, BUCKET_TITLES[bucket], items) for bucket, items in roadmap.items()],
        "roadmap_count": len(result["roadmap"]),
        "autonomy": _autonomy(autonomy, titles, capabilities) if autonomy else None,
        "delivery_splits": delivery_splits(result.get("delivery")),
        "delivery_disagreements": delivery_disagreements(result),
        "delivery_lead_log": lead_log_scale((result.get("delivery") or {}).get("weekly", [])),
        "delivery_lead_weeks": any(
            w["median_lead_time_hours"] is not None
            for w in (result.get("delivery") or {}).get("weekly", [])
        ),
        "low_confidence": [c for c in result["capabilities"] if c["low_confidence"]],
        "biggest_gaps": [
            {**c, "gap_text": gap_text(c["exact_level"], c["target_level"])}
            for c in biggest
            if gap_text(c["exact_level"], c["target_level"]) != "0.0"
        ][:3],
        "facts": _facts(result, rubric),
        "top_actions": result["roadmap"][:5],
    }


EVIDENCE_STATUSES = (("found", "In place"), ("absent", "Not found"), ("unknown", "Could not tell"))


def evidence_lines(evidence: dict[str, Any]) -> list[dict[str, Any]]:
    """A capability's findings grouped by what they show (in place, not found, could not
    tell), each group's titles in order; groups without findings are left out."""
    lines = []
    for status, label in EVIDENCE_STATUSES:
        titles = [f["title"] for f in evidence["findings"] if f["status"] == status]
        if titles:
            lines.append({"status": status, "label": label, "titles": titles})
    return lines


SOURCE_LABELS = {"workshop": "agreed in the workshop", "survey": "survey median"}


def source_label(capability: dict[str, Any]) -> str:
    """Where a capability's level comes from, in words for the page and the report."""
    return SOURCE_LABELS.get(capability.get("source") or "", "no data")


def capability_levels(result: Mapping[str, Any]) -> dict[str, float | None]:
    """Each capability's level (one decimal, as printed everywhere), by id."""
    return {
        c["id"]: None if c["exact_level"] is None else round(c["exact_level"], 1)
        for c in result.get("capabilities", [])
    }


def shown_spread(capability: dict[str, Any]) -> float | None:
    """The spread beside a level: the room's final vote for an agreed level (the survey's
    spread would describe answers the level no longer comes from), else the survey's."""
    room = capability.get("workshop")
    if room:
        d = room["distribution"]
        return d["q3"] - d["q1"] if d["q1"] is not None and d["q3"] is not None else None
    spread: float | None = capability["spread"]
    return spread


def source_counts(result: dict[str, Any]) -> dict[str, int]:
    counts = {"workshop": 0, "survey": 0, "none": 0}
    for c in result["capabilities"]:
        counts[c.get("source") or "none"] += 1
    return counts


def workshop_rows(result: dict[str, Any], rubric: Rubric) -> list[dict[str, Any]]:
    """Capabilities a workshop agreed, in rubric order: agreed level beside the survey
    median, the room's final votes (and the first round when it re-voted), rationale and
    dissent. Role groups follow the k >= 3 rule the engine applied."""
    rows = []
    for c in result["capabilities"]:
        room = c.get("workshop")
        if not room:
            continue
        distribution = room["distribution"]
        keys = ("1", "2", "3", "4", "5", "dont_know")
        rows.append(
            {
                **room,
                "id": c["id"],
                "title": c["title"],
                "dimension_id": c["dimension_id"],
                "counts": [distribution["counts"][k] for k in keys],
                "first_counts": (
                    [room["first_round"]["counts"][k] for k in keys]
                    if room["first_round"]
                    else None
                ),
                "difference_text": (
                    level_difference(room["agreed_level"], room["survey_level"])
                    if room["survey_level"] is not None
                    else None
                ),
                "groups": [
                    {**g, "cells": [g["counts"][k] for k in keys]} for g in distribution["groups"]
                ],
                "hidden_note": (
                    f"{distribution['hidden_voters']} "
                    f"vote{'' if distribution['hidden_voters'] == 1 else 's'} from "
                    f"{', '.join(distribution['hidden_roles'])} not shown by role "
                    "(fewer than three people)"
                    if distribution["hidden_roles"]
                    else ""
                ),
            }
        )
    return rows


def _facts(result: dict[str, Any], rubric: Rubric) -> list[dict[str, Any]]:
    """The numeric fact questions (pull requests a week, reviewers, planned agent work) with
    the median, range and count of the numbers given."""
    rows = []
    for fact in rubric.facts:
        value = result["facts"].get(fact.id) or {}
        n = value.get("n", 0)
        median, low, high = value.get("median"), value.get("low"), value.get("high")
        rows.append(
            {
                "id": fact.id,
                "text": fact.text,
                "unit": fact.unit,
                "median": "-" if median is None else _figure(median),
                "range": "-"
                if low is None or high is None
                else f"{_figure(low)}\u2013{_figure(high)}",
                "n": n,
                "withheld": bool(value.get("withheld")),
            }
        )
    return rows


def _figure(value: float) -> str:
    """A fact's number: whole numbers without decimals, others to one decimal."""
    text = num(value, 1)
    return text[:-2] if text.endswith(".0") else text


def _current_text(check: dict[str, Any], capability: dict[str, Any] | None) -> str:
    """A gate requirement's current level as the capability table prints it (2.8, not the 2
    the gate counts as reached); where scan evidence lowered the claim, the evidence-adjusted
    level; "no data" without answers."""
    if capability is None or capability.get("exact_level") is None or check["current"] is None:
        return "no data"
    adjusted = (capability.get("evidence") or {}).get("adjusted_score")
    lowered = check.get("claimed") is not None and check["claimed"] != check["current"]
    if lowered and adjusted is not None:
        return level_text(score_to_exact_level(adjusted))
    return level_text(capability["exact_level"])


def _requirement_title(requirement: dict[str, Any], titles: dict[str, str]) -> dict[str, Any]:
    """A requirement's title; requirements other than a capability level (one answer, scan
    evidence, review headroom, track record; rubric version 2) are `plain`: their title is a
    whole phrase, with no "level N needed" after it."""
    title = titles[requirement["capability_id"]]
    kind = requirement.get("kind", "capability")
    if kind == "capability":
        return {"title": title, "plain": False}
    return {"title": f"{title}: {requirement.get('label', '')}", "plain": True}


def _autonomy(
    autonomy: dict[str, Any],
    titles: dict[str, str],
    capabilities: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Autonomy steps with each requirement titled and its state: met, met with low
    confidence, or missing (with the claimed level where scan evidence lowered it). Levels
    carry `current_text` and `claimed_text`, written as every other level is."""
    capabilities = capabilities or {}

    def texts(check: dict[str, Any]) -> dict[str, Any]:
        capability = capabilities.get(check["capability_id"])
        claimed = capability.get("exact_level") if capability else None
        return {
            "current_text": _current_text(check, capability),
            "claimed_text": level_text(claimed, missing="no data"),
        }

    granted = autonomy["granted_index"]
    next_id = autonomy["next_gate"]["id"] if autonomy["next_gate"] else None
    steps = []
    for index, step in enumerate(autonomy["steps"]):
        requirements = [
            {
                **check,
                **texts(check),
                **_requirement_title(check, titles),
                "lowered": check["claimed"] != check["current"],
            }
            for check in step["checks"]
        ]
        state = (
            "granted" if index <= granted else "next" if step["gate"]["id"] == next_id else "later"
        )
        steps.append(
            {
                **step,
                "state": state,
                "requirements": requirements,
                "unmet": [r for r in requirements if not r["met"]],
            }
        )
    missing = [
        {**m, **texts(m), **_requirement_title(m, titles)} for m in autonomy["missing_for_next"]
    ]
    return {
        **autonomy,
        "steps": steps,
        "missing": missing,
        "granted_low_confidence": any(s["low_confidence"] for s in steps[: granted + 1]),
    }


def delivery_splits(delivery: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The AI-assisted against other split of lead time and change failure rate, where the
    changes were marked and both groups exist; values formatted as every page shows them."""
    if not delivery:
        return []
    rows = []
    lead = delivery.get("lead_time_split")
    if lead:
        rows.append(
            {
                "measure": "Lead time for changes",
                "key": "lead_time",
                "unit": "hours",
                "ai_assisted": lead["ai_assisted"],
                "other": lead["other"],
                "ai_count": lead["ai_count"],
                "other_count": lead["other_count"],
                "ai_text": f"{num(lead['ai_assisted'], 1)} h",
                "other_text": f"{num(lead['other'], 1)} h",
                "counted": "changes",
            }
        )
    failure = delivery.get("failure_rate_split")
    if failure:
        rows.append(
            {
                "measure": "Change failure rate",
                "key": "change_failure_rate",
                "unit": "share of deployments",
                "ai_assisted": failure["ai_assisted"],
                "other": failure["other"],
                "ai_count": failure["ai_count"],
                "other_count": failure["other_count"],
                "ai_text": f"{num(failure['ai_assisted'] * 100, 0)}%",
                "other_text": f"{num(failure['other'] * 100, 0)}%",
                "counted": "deployments",
            }
        )
    return rows


# Delivery measures the survey also asks as a fact question: (measure, fact id, the result's
# key for the measured value, the unit in words).
ANSWERED_MEASURES = (
    ("Deployment frequency", "fact.deploys-per-week", "deployments_per_week", "deployments a week"),
)


def delivery_disagreements(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Delivery measures where the records and the survey's median answer for the same
    measure disagree by DISAGREEMENT_FACTOR or more (scoring.delivery.disagreement), compared
    as both are printed (one decimal), with a sentence that says so. A fact withheld for too
    few answers is not compared."""
    delivery = result.get("delivery")
    if not delivery:
        return []
    rows = []
    for measure, fact_id, key, unit in ANSWERED_MEASURES:
        fact = (result.get("facts") or {}).get(fact_id) or {}
        measured, answered = delivery.get(key), fact.get("median")
        if measured is None or answered is None or fact.get("withheld"):
            continue
        measured_text, answered_text = _figure(measured), _figure(answered)
        factor = disagreement(float(shown(measured, 1)), float(shown(answered, 1)))
        if factor is None:
            continue
        if float(shown(answered, 1)) == 0 or float(shown(measured, 1)) == 0:
            how = "one of them is zero"
        elif answered > measured:
            how = f"the answers are {num(factor, 1)} times the records"
        else:
            how = f"the records are {num(factor, 1)} times the answers"
        rows.append(
            {
                "measure": measure,
                "fact_id": fact_id,
                "factor": factor,
                "text": (
                    f"{measure}: the records show {measured_text} {unit}, people answered "
                    f"{answered_text} (median of {fact['n']} answers); {how}. Check which "
                    "services and environments the export covers and what people counted "
                    "before relying on either."
                ),
            }
        )
    return rows


AGENT_SOURCES = {
    "survey": "from the survey",
    "override": "set for this assessment",
    "published": "published figure: LinearB 2026 benchmarks",
    "assumption": "assumption",
}


def hours_text(value: float | None) -> str:
    """A duration in hours as the review wall prints it: minutes under an hour."""
    if value is None:
        return "-"
    if value < 1:
        return f"{num(value * 60, 0)} min"
    return f"{num(value, 1)} h"


# The review wall's inputs by review-input key (scoring.engine.REVIEW_INPUTS and the optional
# ones), as a sentence names them; the first four are the ones the wall cannot be drawn without.
REVIEW_INPUT_NAMES = {
    "prs_per_week": "pull requests merged per week",
    "reviewers": "people who review in a typical week",
    "hours_per_pr": "reviewer hours per pull request",
    "reviewer_hours_per_week": "review hours each reviewer can give per week",
    "hours_to_first_review": "the observed wait to a first review",
    "agent_share": "the share of merged changes made by agents",
    "agent_prs_6m": "agent pull requests planned a week in 6 months",
    "agent_prs_12m": "agent pull requests planned a week in 12 months",
}
REQUIRED_REVIEW_INPUTS = ("prs_per_week", "reviewers", "hours_per_pr", "reviewer_hours_per_week")


def review_too_few(too_few: dict[str, int] | None) -> dict[str, Any] | None:
    """The review-wall inputs fewer than three people answered, in words: the wall prints
    its inputs, so it uses none of them (groups of three or more, in every output)."""
    if not too_few:
        return None

    def text(keys: list[str]) -> str:
        return "; ".join(f"{REVIEW_INPUT_NAMES.get(k, k)}: {too_few[k]} answered" for k in keys)

    ordered = [k for k in REVIEW_INPUT_NAMES if k in too_few]
    required = [k for k in ordered if k in REQUIRED_REVIEW_INPUTS]
    optional = [k for k in ordered if k not in REQUIRED_REVIEW_INPUTS]
    return {
        "required": required,
        "optional": optional,
        "required_text": text(required),
        "optional_text": text(optional),
        "observed": too_few.get("hours_to_first_review"),
    }


def review_wall(
    projection: dict[str, Any] | None, too_few: dict[str, int] | None = None
) -> dict[str, Any] | None:
    """The review wall in words: the model's wait beside the observed one, the reviewers
    needed to stay under the target today and at the planned volumes, and where each agent
    PR parameter comes from."""
    if not projection:
        return None
    too_few = too_few or {}
    inputs = projection["inputs"]
    reviewers = inputs["reviewers"]
    needed = [
        {
            **n,
            "label_text": "Today" if n["label"] == "today" else n["label"].capitalize(),
            "prs_text": num(n["prs_per_week"], 0),
            "reviewers_text": (
                str(n["reviewers"]) if n["reviewers"] is not None else "more than 5,000"
            ),
            "change": (
                None
                if n["reviewers"] is None
                else "enough today"
                if n["reviewers"] <= reviewers
                else f"{n['reviewers'] - reviewers} more than today"
            ),
        }
        for n in projection.get("reviewers_needed") or []
    ]
    reconciliation = projection.get("reconciliation")
    wall = None
    if reconciliation:
        model, observed = reconciliation["model_hours"], reconciliation["observed_hours"]
        wall = {
            **reconciliation,
            "model_text": hours_text(model) if model is not None else "no finite wait",
            # The same wait in working time, as the review table's "Expected wait" prints it.
            "model_working_text": hours_text(projection["states"][0]["wait_hours"])
            if projection["states"][0]["wait_hours"] is not None
            else None,
            "observed_text": hours_text(observed),
            "delay_text": hours_text(reconciliation["delay_hours"]),
            "agent_text": hours_text(reconciliation["agent_observed_hours"]),
            # Observed well beyond the model: the queue is not what keeps people waiting.
            "explain": model is not None and observed > 2 * model + 0.5,
        }
    agent = inputs.get("agent")
    parameters = []
    if agent:
        sources = agent.get("sources") or {}

        def source(key: str) -> str:
            return AGENT_SOURCES.get(sources.get(key, ""), "default")

        rounds = agent["rework_rounds"]
        parameters = [
            {
                "name": "Share of today's merged PRs made by agents",
                "value": f"{num(agent['share'] * 100, 0)}%",
                "source": source("agent_share")
                + (
                    (
                        f" (fewer than three answers, {too_few['agent_share']}: counted as none)"
                        if "agent_share" in too_few
                        else " (no answer: counted as none)"
                    )
                    if sources.get("agent_share") == "assumption"
                    else ""
                ),
            },
            {
                "name": "Agent PRs accepted (merged)",
                "value": f"{num(agent['acceptance_rate'] * 100, 1)}%",
                "source": source("agent_acceptance_rate")
                + (
                    ", against 84.4% for other PRs"
                    if sources.get("agent_acceptance_rate") == "published"
                    else ""
                ),
            },
            {
                "name": "Reviewer hours per review round of an agent PR",
                "value": hours_text(agent["review_hours_per_pr"]),
                "source": source("agent_review_hours_per_pr")
                + (
                    ": as for other PRs"
                    if sources.get("agent_review_hours_per_pr") == "assumption"
                    else ""
                ),
            },
            {
                "name": "Extra review rounds per agent PR",
                "value": num(rounds, 1).removesuffix(".0"),
                "source": source("agent_rework_rounds"),
            },
        ]
    merged_text = other_text = ""
    if agent:
        merged_text = hours_text(
            agent["review_hours_per_pr"] * (1 + agent["rework_rounds"]) / agent["acceptance_rate"]
        )
        other_text = hours_text(inputs["hours_per_pr"])
    return {
        "merged_text": merged_text,
        "other_text": other_text,
        "needed": needed,
        "target_text": hours_text(needed[0]["target_hours"]) if needed else "",
        "reconciliation": wall,
        "agent": parameters,
        "effort_ratio_text": num(projection.get("effort_ratio", 1.0), 1),
        "utilisation_text": f"{num(projection['states'][0]['utilisation'] * 100, 0)}%",
        "agent_today_text": num(projection.get("agent_prs_per_week", 0.0), 0),
    }


def _listing(words: list[str]) -> str:
    """ "A", "A and B", "A, B and C"."""
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


def _more(n: int) -> str:
    words = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five"}
    return f" and {words.get(n, str(n))} more" if n > 0 else ""


def _at(level: float | None) -> str:
    return "no data" if level is None else f"level {level_text(level)}"


def summary_narrative(
    result: dict[str, Any], p: dict[str, Any], plan: dict[str, Any]
) -> dict[str, Any]:
    """The executive summary as a few sentences a CTO reads in two minutes: where the
    organisation stands, what is strong, what limits it, and what to do first and why.
    Plain text (the template escapes it); levels as the tables print them (one decimal)."""
    readiness = result["readiness"]
    dims = [d for d in result["dimensions"] if d["exact_level"] is not None]
    caps = [c for c in result["capabilities"] if c["exact_level"] is not None]
    if readiness["score"] is None or not dims:
        return {"paragraphs": [], "actions": []}
    paragraphs: list[tuple[str, str]] = []

    stand = (
        f"Overall readiness is {num(readiness['score'], 0)} out of 100, level "
        f"{level_text(p['readiness']['exact_level'])} "
        f"({p['readiness']['level_name'].lower()}), with "
        f"{readiness['confidence_label']} confidence from {result['respondents']} "
        f"respondent{'s' if result['respondents'] != 1 else ''}."
    )
    autonomy = p.get("autonomy")
    if autonomy and autonomy.get("granted"):
        stand += f" Agents are ready for \u201c{autonomy['granted']['title'].lower()}\u201d."
        if autonomy.get("next_gate") and autonomy["missing"]:
            needs = [
                m["title"] if m.get("plain") else f"{m['title']} to level {m['required']}"
                for m in autonomy["missing"][:3]
            ]
            more = len(autonomy["missing"]) - 3
            stand += (
                f" The next step, \u201c{autonomy['next_gate']['title'].lower()}\u201d, needs "
                f"{_listing(needs) if more <= 0 else ', '.join(needs)}"
                f"{_more(more)}."
            )
    paragraphs.append(("Where you stand.", stand))

    strongest = max(dims, key=lambda d: (float(shown_level(d["exact_level"])), -dims.index(d)))
    met = [c for c in caps if float(shown_level(c["exact_level"])) >= c["target_level"]]
    strong = (
        f"{strongest['title']} is the strongest dimension, at {_at(strongest['exact_level'])} "
        f"against a target of {strongest['target_level']}."
    )
    if met:
        best = sorted(met, key=lambda c: -c["exact_level"])
        names = [c["title"] for c in best[:3]]
        extra = len(best) - 3
        # "among them" only when the list is not complete.
        if len(best) == 1:
            strong += f" {names[0]} already meets its target."
        elif extra > 0:
            strong += (
                f" Of {len(caps)} capabilities, {len(best)} already meet their target, among "
                f"them {_listing(names)} ({extra} more)."
            )
        else:
            strong += (
                f" Of {len(caps)} capabilities, {len(best)} already meet their target: "
                f"{_listing(names)}."
            )
    else:
        closest = sorted(caps, key=lambda c: c["target_level"] - c["exact_level"])[:2]
        strong += (
            " No capability meets its target yet; the closest are "
            + _listing(
                [f"{c['title']} ({_at(c['exact_level'])} of {c['target_level']})" for c in closest]
            )
            + "."
        )
    paragraphs.append(("What is strong.", strong))

    limiting = p.get("limiting")
    limits: list[str] = []
    if limiting and limiting.get("exact_level") is not None:
        weakest = sorted(
            (c for c in caps if c["dimension_id"] == limiting["id"]), key=lambda c: c["exact_level"]
        )[:2]
        where = (
            f"{limiting['title']}, at {_at(limiting['exact_level'])} against a target of "
            f"{limiting['target_level']},"
        )
        # The weakest-link cap (methodology, section 5) lowers readiness only when the
        # weakest dimension is more than one level below the mean; say so only then.
        sentence = (
            f"{where} holds overall readiness back by {p['readiness']['held_back_text']} "
            "points: readiness can sit at most one level above its weakest dimension."
            if p["readiness"]["held_back"]
            else f"{where} is the weakest dimension, but it does not hold overall readiness "
            f"back: the dimensions average {num(readiness['weighted_mean'], 0)}/100, within one "
            "level of it."
        )
        if weakest:
            sentence += (
                " Its weakest capabilities are "
                + _listing([f"{c['title']} ({_at(c['exact_level'])})" for c in weakest])
                + "."
            )
        limits.append(sentence)
    projection = result["review"]["projection"]
    if projection:
        wall = (
            f"Code review saturates at {num(projection['saturation_multiplier'], 1)}\u00d7 "
            "today's pull-request volume and review effort"
        )
        over = [(label, s) for label, s in p.get("review_planned", []) if s["saturated"]]
        if over:
            label, s = over[0]
            # The multiplier is of review effort (agent PRs cost more to review than others),
            # not of pull requests: name the count beside it, as the review table prints it.
            wall += (
                f"; with the agent work planned, review effort reaches "
                f"{num(s['multiplier'], 1)}\u00d7 today's {label} "
                f"({num(s['prs_per_week'], 0)} pull requests a week), more than the reviewers "
                "can absorb"
            )
        limits.append(wall + ".")
    if p["register"]:
        # Each direction in its own words: an underclaim is not a claim the scans refute.
        over, under = p["register_counts"]["overclaim"], p["register_counts"]["underclaim"]
        parts = []
        if over:
            parts.append(
                f"for {over} capabilit{'ies' if over != 1 else 'y'} {DIRECTION_WORDS['overclaim']}"
            )
        if under:
            parts.append(
                f"for {under} capabilit{'ies' if under != 1 else 'y'} "
                f"{DIRECTION_WORDS['underclaim']}"
            )
        text = "; ".join(parts)
        limits.append(f"{text[0].upper()}{text[1:]} (see \u201cClaims versus evidence\u201d).")
    if limits:
        paragraphs.append(("What limits you.", " ".join(limits)))

    now = next((h for h in plan["horizons"] if h["items"]), None)
    actions = []
    for item in (now["items"] if now else [])[:3]:
        because = item["reasons"][0] if item["reasons"] else item["why"]
        unblocks = (
            f" It unblocks {item['unblocks']} other item{'s' if item['unblocks'] != 1 else ''}."
            if item["unblocks"]
            else ""
        )
        actions.append(
            {
                "number": item["number"],
                "title": item["title"],
                "because": because,
                "unblocks": unblocks.strip(),
                "decision": item["decision"],
            }
        )
    return {
        "paragraphs": [{"lead": lead, "text": text} for lead, text in paragraphs],
        "actions": actions,
        "first_horizon": now["title"] if now else "",
    }
