"""Before and after: compare two assessments of the same organisation."""

from __future__ import annotations

from typing import Any

from assessments.models import Assessment
from reports.numbers import difference, level_difference, level_text
from reports.services import ResultUnavailable, result_compute

# A capability counts as improved or declined from half a level of change.
MEANINGFUL_CHANGE = 0.5


def previous_assessment(assessment: Assessment) -> Assessment | None:
    """The most recent earlier assessment of the organisation that has submitted answers."""
    return (
        Assessment.objects.filter(
            organisation_id=assessment.organisation_id,
            created_at__lt=assessment.created_at,
            respondents__status="submitted",
        )
        .exclude(pk=assessment.pk)
        .order_by("-created_at")
        .distinct()
        .first()
    )


def _point(assessment: Assessment, result: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(assessment.pk),
        "title": assessment.title,
        "date": assessment.created_at.date().isoformat(),
        "readiness": result["readiness"]["score"],
        "dimensions": {d["id"]: d["score"] for d in result["dimensions"]},
    }


def compare(current: Assessment, previous: Assessment) -> dict[str, Any] | None:
    """Per-capability deltas, a series for the trend chart and the headline changes, or None
    when either assessment has no result yet."""
    if previous.organisation_id != current.organisation_id:
        raise ValueError("Only assessments of the same organisation can be compared.")
    try:
        now_result = result_compute(assessment=current).data
        then_result = result_compute(assessment=previous).data
    except ResultUnavailable:
        return None
    if now_result["readiness"]["score"] is None or then_result["readiness"]["score"] is None:
        return None
    before = {c["id"]: c for c in then_result["capabilities"]}
    rows = [["Capability", "Before", "Now", "Change (levels)"]]
    deltas = []
    for cap in now_result["capabilities"]:
        old = before.get(cap["id"])
        if old is None or old["exact_level"] is None or cap["exact_level"] is None:
            continue
        # The change a reader gets from the two levels as printed (1.3 -> 2.0 is +0.7).
        delta_text = level_difference(cap["exact_level"], old["exact_level"])
        deltas.append(
            {
                "id": cap["id"],
                "title": cap["title"],
                "before": old["exact_level"],
                "now": cap["exact_level"],
                "before_text": level_text(old["exact_level"]),
                "now_text": level_text(cap["exact_level"]),
                "delta": float(delta_text),
                "delta_text": delta_text,
            }
        )
        rows.append(
            [
                cap["title"],
                level_text(old["exact_level"]),
                level_text(cap["exact_level"]),
                delta_text,
            ]
        )
    series = []
    history = Assessment.objects.filter(
        organisation_id=current.organisation_id, created_at__lte=current.created_at
    ).order_by("created_at")
    for item in history:
        if item.pk == current.pk:
            series.append(_point(item, now_result))
            continue
        try:
            data = result_compute(assessment=item).data
        except ResultUnavailable:
            continue
        if data["readiness"]["score"] is not None:
            series.append(_point(item, data))
    then_items = {i["id"]: i["title"] for i in then_result["roadmap"]}
    now_items = {i["id"] for i in now_result["roadmap"]}
    return {
        "previous": _point(previous, then_result),
        "current": _point(current, now_result),
        "readiness_delta": now_result["readiness"]["score"] - then_result["readiness"]["score"],
        "readiness_delta_text": difference(
            now_result["readiness"]["score"], then_result["readiness"]["score"], 0
        ),
        "dimensions": [{"id": d["id"], "title": d["title"]} for d in now_result["dimensions"]],
        "series": series,
        "capabilities": deltas,
        "table": rows,
        "improved": sorted(
            (d for d in deltas if d["delta"] >= MEANINGFUL_CHANGE), key=lambda d: -d["delta"]
        ),
        "declined": sorted(
            (d for d in deltas if d["delta"] <= -MEANINGFUL_CHANGE), key=lambda d: d["delta"]
        ),
        "resolved": sorted(title for rid, title in then_items.items() if rid not in now_items),
        "same_rubric": now_result["rubric_key"] == then_result["rubric_key"],
    }
