"""Shape a result (its JSON form) for people: titles instead of ids, items grouped the way
pages and the PDF show them. Pure functions, shared by the results page and the report."""

from __future__ import annotations

from typing import Any

from reports.numbers import difference, gap_text, num, shown
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
                "title": titles[check["capability_id"]],
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
    missing = [{**m, "title": titles[m["capability_id"]]} for m in autonomy["missing_for_next"]]
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


def _listing(words: list[str]) -> str:
    """ "A", "A and B", "A, B and C"."""
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


def _more(n: int) -> str:
    words = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five"}
    return f" and {words.get(n, str(n))} more" if n > 0 else ""


def _at(level: float | None) -> str:
    return "no data" if level is None else f"level {num(level, 1)}"


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
        f"{readiness['level']} ({p['readiness']['level_name'].lower()}), with "
        f"{readiness['confidence_label']} confidence from {result['respondents']} "
        f"respondent{'s' if result['respondents'] != 1 else ''}."
    )
    autonomy = p.get("autonomy")
    if autonomy and autonomy.get("granted"):
        stand += f" Agents are ready for \u201c{autonomy['granted']['title'].lower()}\u201d."
        if autonomy.get("next_gate") and autonomy["missing"]:
            needs = [f"{m['title']} to level {m['required']}" for m in autonomy["missing"][:3]]
            more = len(autonomy["missing"]) - 3
            stand += (
                f" The next step, \u201c{autonomy['next_gate']['title'].lower()}\u201d, needs "
                f"{_listing(needs) if more <= 0 else ', '.join(needs)}"
                f"{_more(more)}."
            )
    paragraphs.append(("Where you stand.", stand))

    strongest = max(dims, key=lambda d: (float(shown(d["exact_level"], 1)), -dims.index(d)))
    met = [c for c in caps if float(shown(c["exact_level"], 1)) >= c["target_level"]]
    strong = (
        f"{strongest['title']} is the strongest dimension, at {_at(strongest['exact_level'])} "
        f"against a target of {strongest['target_level']}."
    )
    if met:
        best = sorted(met, key=lambda c: -c["exact_level"])
        names = [c["title"] for c in best[:3]]
        extra = len(best) - 3
        strong += (
            f" Of {len(caps)} capabilities, {len(best)} already meet their target, among them "
            f"{_listing(names)}{f' ({extra} more)' if extra > 0 else ''}."
            if len(best) > 1
            else f" {names[0]} already meets its target."
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
        sentence = (
            f"{limiting['title']}, at {_at(limiting['exact_level'])} against a target of "
            f"{limiting['target_level']}, sets the overall level: readiness is only as strong "
            "as its weakest dimension."
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
            "today's pull-request volume"
        )
        over = [(label, s) for label, s in p.get("review_planned", []) if s["saturated"]]
        if over:
            label, s = over[0]
            wall += (
                f"; with the agent work planned, volume reaches {num(s['multiplier'], 1)}\u00d7 "
                f"{label}, more than the reviewers can absorb"
            )
        limits.append(wall + ".")
    if p["register"]:
        n = len(p["register"])
        limits.append(
            f"Scan evidence contradicts {n} claim{'s' if n != 1 else ''} made in the answers "
            "(see \u201cClaims versus evidence\u201d)."
        )
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
