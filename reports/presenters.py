"""Shape a result (its JSON form) for people: titles instead of ids, items grouped the way
pages and the PDF show them. Pure functions, shared by the results page and the report."""

from __future__ import annotations

from typing import Any

from reports.numbers import difference, gap_text, num
from scoring.roadmap import BUCKET_TITLES
from scoring.rubric import Rubric
from scoring.scores import POINTS_PER_LEVEL

LEVEL_NAMES = {1: "Ad hoc", 2: "Repeatable", 3: "Defined", 4: "Managed", 5: "Optimizing"}


def level_name(level: int | None) -> str:
    return LEVEL_NAMES.get(level or 0, "No data")


def present(result: dict[str, Any], rubric: Rubric) -> dict[str, Any]:
    capabilities = {c["id"]: c for c in result["capabilities"]}
    dimensions = {d["id"]: d for d in result["dimensions"]}
    titles = {c.id: c.title for c in rubric.capabilities}
    readiness = result["readiness"]
    limiting = dimensions.get(readiness["limiting_dimension_id"] or "")

    by_dimension = []
    for d in result["dimensions"]:
        caps = [
            {
                **capabilities[cid],
                "source_label": source_label(capabilities[cid]),
                "shown_spread": shown_spread(capabilities[cid]),
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
                "gap_text": difference(
                    levels[gap["high_group"]], levels[gap["low_group"]], 1, sign=False
                ),
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
    # Evidence exists when at least one claim could be checked against a determinable finding.
    has_evidence = any(c["evidence"]["verdict"] != "unverifiable" for c in result["capabilities"])

    roadmap: dict[str, list[dict[str, Any]]] = {bucket: [] for bucket in BUCKET_TITLES}
    item_titles = {item["id"]: f"{item['position']}. {item['title']}" for item in result["roadmap"]}
    for item in result["roadmap"]:
        roadmap[item["bucket"]].append(
            {
                **item,
                "capability_title": titles[item["capability_id"]],
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
        "readiness": {
            **readiness,
            "level_name": level_name(readiness["level"]),
            # From the two numbers as printed beside it, so that they add up.
            "held_back_text": (
                difference(readiness["weighted_mean"], readiness["score"], 0, sign=False)
                if readiness["score"] is not None and readiness["weighted_mean"] is not None
                else None
            ),
        },
        "respondents_text": ", ".join(
            f"{role} {n}" for role, n in result["respondents_by_role"].items() if n
        ),
        "limiting": limiting,
        "dimensions": by_dimension,
        "perception_gaps": gaps,
        "register": register,
        "has_evidence": has_evidence,
        "roadmap": [(bucket, BUCKET_TITLES[bucket], items) for bucket, items in roadmap.items()],
        "roadmap_count": len(result["roadmap"]),
        "autonomy": _autonomy(autonomy, titles) if autonomy else None,
        "delivery_splits": delivery_splits(result.get("delivery")),
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


SOURCE_LABELS = {"workshop": "agreed in the workshop", "survey": "survey median"}


def source_label(capability: dict[str, Any]) -> str:
    """Where a capability's level comes from, in words for the page and the report."""
    return SOURCE_LABELS.get(capability.get("source") or "", "no data")


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
                    difference(room["agreed_level"], room["survey_level"], 1)
                    if room["survey_level"] is not None
                    else None
                ),
                "groups": [
                    {**g, "cells": [g["counts"][k] for k in keys]} for g in distribution["groups"]
                ],
                "hidden_note": (
                    f"{distribution['hidden_voters']} vote(s) from "
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
            }
        )
    return rows


def _figure(value: float) -> str:
    """A fact's number: whole numbers without decimals, others to one decimal."""
    text = num(value, 1)
    return text[:-2] if text.endswith(".0") else text


def _requirement_title(requirement: dict[str, Any], titles: dict[str, str]) -> dict[str, Any]:
    """A requirement's title; requirements other than a capability level (one answer, scan
    evidence, review headroom, track record; rubric version 2) are `plain`: their title is a
    whole phrase, with no "level N needed" after it."""
    title = titles[requirement["capability_id"]]
    kind = requirement.get("kind", "capability")
    if kind == "capability":
        return {"title": title, "plain": False}
    return {"title": f"{title}: {requirement.get('label', '')}", "plain": True}


def _autonomy(autonomy: dict[str, Any], titles: dict[str, str]) -> dict[str, Any]:
    """Autonomy steps with each requirement titled and its state: met, met with low
    confidence, or missing (with the claimed level where scan evidence lowered it)."""
    granted = autonomy["granted_index"]
    next_id = autonomy["next_gate"]["id"] if autonomy["next_gate"] else None
    steps = []
    for index, step in enumerate(autonomy["steps"]):
        requirements = [
            {
                **check,
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
    missing = [{**m, **_requirement_title(m, titles)} for m in autonomy["missing_for_next"]]
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
