"""Before and after: compare two assessments of the same organisation."""

from __future__ import annotations

from typing import Any

from assessments.models import Assessment
from reports.numbers import difference, level_difference, level_text
from reports.services import ResultUnavailable, result_compute

# A capability counts as improved or declined from half a level of change.
MEANINGFUL_CHANGE = 0.5
# An automatic comparison needs this many submitted respondents on each side, and the smaller
# side at least this share of the larger: medians of 3 people against 12 are not alike.
MIN_RESPONDENTS = 5
MIN_POPULATION_RATIO = 0.5


def previous_assessment(assessment: Assessment) -> Assessment | None:
    """The most recent earlier assessment of the organisation that has submitted answers
    counted in its results: one whose every response was excluded has no result to compare
    with, and must not hide the assessment before it."""
    return (
        Assessment.objects.filter(
            organisation_id=assessment.organisation_id,
            created_at__lt=assessment.created_at,
            respondents__status="submitted",
            respondents__excluded_at__isnull=True,
        )
        .exclude(pk=assessment.pk)
        .order_by("-created_at")
        .distinct()
        .first()
    )


def _scanned(assessment: Assessment) -> bool:
    """Whether integration scans (of repositories or GitHub) checked the assessment's claims;
    delivery exports alone do not count."""
    return any(
        not source.is_export for source in assessment.scan_sources.filter(current_run__isnull=False)
    )


def _population(assessment: Assessment, result: dict[str, Any]) -> dict[str, Any]:
    by_role = {role: n for role, n in result["respondents_by_role"].items() if n}
    return {
        "title": assessment.title,
        "respondents": result["respondents"],
        "by_role": by_role,
        "by_role_text": ", ".join(f"{role} {n}" for role, n in by_role.items()),
        "scope": assessment.scope_label,
        "scanned": _scanned(assessment),
        "rubric": result["rubric_key"],
    }


def comparability(previous: dict[str, Any], current: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Why two populations (see `_population`) cannot be compared, and the caveats of a
    comparison that can: (reasons, caveats), each a list of sentences' clauses."""
    reasons, caveats = [], []
    if previous["rubric"] != current["rubric"]:
        reasons.append(
            f"they use different rubric versions ({previous['rubric']} and {current['rubric']})"
        )
    if previous["scope"] != current["scope"]:
        reasons.append(
            f"they cover different parts of the organisation ({previous['scope']} and "
            f"{current['scope']})"
        )
    small, large = sorted([previous["respondents"], current["respondents"]])
    if small < MIN_RESPONDENTS:
        reasons.append(
            f"{previous['respondents']} respondents against {current['respondents']}: each "
            f"needs at least {MIN_RESPONDENTS}"
        )
    elif small < MIN_POPULATION_RATIO * large:
        reasons.append(
            f"{previous['respondents']} respondents against {current['respondents']}: the "
            f"smaller group needs to be at least half the larger"
        )
    if previous["scanned"] != current["scanned"]:
        which = "the earlier" if previous["scanned"] else "the later"
        reasons.append(f"only {which} one was checked against integration scans")
    if previous["by_role"] != current["by_role"] and not reasons:
        roles = sorted(set(previous["by_role"]) | set(current["by_role"]))
        changed = [
            f"{role} {previous['by_role'].get(role, 0)} \u2192 {current['by_role'].get(role, 0)}"
            for role in roles
            if previous["by_role"].get(role, 0) != current["by_role"].get(role, 0)
        ]
        caveats.append(
            "the mix of roles changed (" + ", ".join(changed) + "), so part of a change may "
            "come from who answered rather than from what changed"
        )
    if not reasons:
        caveats.append(
            "levels are medians of the people who answered each time, not necessarily the "
            "same people; a change under half a level is not counted as one"
        )
    return reasons, caveats


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
    populations = {
        "previous": _population(previous, then_result),
        "current": _population(current, now_result),
    }
    reasons, caveats = comparability(populations["previous"], populations["current"])
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
        "comparable": not reasons,
        "reasons": reasons,
        "caveats": caveats,
        "populations": populations,
    }


def automatic_comparison(current: Assessment, previous: Assessment) -> dict[str, Any] | None:
    """The comparison a report makes by itself with the previous assessment: the whole of it
    when the two are comparable, otherwise only who was compared and why it is left out
    (`comparable` false, `reasons`, `populations`); None without results on both sides."""
    data = compare(current, previous)
    if data is None or data["comparable"]:
        return data
    keys = ("previous", "current", "comparable", "reasons", "caveats", "populations")
    return {key: data[key] for key in keys}
