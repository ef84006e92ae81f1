"""Shape a result (its JSON form) for people: titles instead of ids, items grouped the way
pages and the PDF show them. Pure functions, shared by the results page and the report."""

from __future__ import annotations

from typing import Any

from scoring.roadmap import BUCKET_TITLES
from scoring.rubric import Rubric

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
        caps = [capabilities[cid] for cid in d["capability_ids"]]
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
                "dimension_id": capabilities[gap["capability_id"]]["dimension_id"],
            }
        )
    gaps.sort(key=lambda g: -g["gap"])
    for d in by_dimension:
        d["gaps"] = [g for g in gaps if g["dimension_id"] == d["id"]]

    contradictions = []
    for cid in result["contradictions"]:
        c = capabilities[cid]
        contradictions.append(
            {
                "capability_id": cid,
                "title": c["title"],
                "claim_level": c["exact_level"],
                "claim_score": c["score"],
                "evidence": c["evidence"],
            }
        )

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
    missing = (
        [{**m, "title": titles[m["capability_id"]]} for m in autonomy["missing_for_next"]]
        if autonomy
        else []
    )
    projection = result["review"]["projection"]
    planned = (
        list(zip(projection["planned_labels"], projection["planned"], strict=True))
        if projection
        else []
    )
    return {
        "review_planned": planned,
        "readiness": {**readiness, "level_name": level_name(readiness["level"])},
        "limiting": limiting,
        "dimensions": by_dimension,
        "perception_gaps": gaps,
        "contradictions": contradictions,
        "roadmap": [(bucket, BUCKET_TITLES[bucket], items) for bucket, items in roadmap.items()],
        "roadmap_count": len(result["roadmap"]),
        "autonomy": {**autonomy, "missing": missing} if autonomy else None,
        "low_confidence": [c for c in result["capabilities"] if c["low_confidence"]],
        "biggest_gaps": sorted(
            (c for c in result["capabilities"] if c["gap"]), key=lambda c: -c["gap"]
        )[:3],
        "top_actions": result["roadmap"][:5],
    }
