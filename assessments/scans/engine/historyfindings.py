"""History findings from the facts history.py computes; thresholds documented in docs/scans.md.

Each finding points at the scanned HEAD commit; a measure with too little data to judge is
"unknown" (could not determine), never "absent".
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from assessments.scans.engine.detectors import Catalogue
from assessments.scans.engine.model import Finding, Pointer

# Thresholds for the history findings (docs/scans.md explains each).
COMMIT_FREQUENCY_PER_WEEK = 5.0
CHANGE_SIZE_MEDIAN = 200
CHANGE_SIZE_LARGE_SHARE = 0.20
REVERT_SHARE = 0.15
REVIEW_SHARE = 0.5
MERGE_SHARE = 0.5
RELEASES_PER_30_DAYS = 1.0
LEAD_TIME_HOURS = 168.0
MIN_CHANGES = 10
MIN_CHANGES_REVERTS = 20


def _window_words(facts: dict[str, Any]) -> str:
    """The window as a reader checks it against a calendar: its days, first and last (a
    window chosen with since/until ends at the midnight after its last day)."""
    days = facts["window_days"]
    try:
        first = datetime.fromisoformat(str(facts["since"]).replace("Z", "+00:00"))
        end = datetime.fromisoformat(str(facts["until"]).replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return f"the last {days} days"
    last = (end - timedelta(seconds=1)).date()
    return f"the {days} days from {first.date().isoformat()} to {last.isoformat()}"


def history_findings(catalogue: Catalogue, facts: dict[str, Any], *, head: str) -> list[Finding]:
    """One finding per history measure (per capability it speaks to), thresholds documented."""
    pointer = (Pointer("commit", head),)
    changes, landings = facts["changes"], facts["landings"]
    window = _window_words(facts)
    out: dict[str, tuple[str, str]] = {}

    per_week = facts["landings_per_week"]
    last = facts.get("last_commit_at")
    if facts["commits"] == 0 and last:
        # Quiet, not absent: nothing in the window says how the team works.
        out["history.commit-frequency"] = (
            "unknown",
            f"No activity in {window}; last commit on {last[:10]}. Scan the window ending at "
            "the last commit to measure it"
            + (
                f" (from {suggested['since']} to {suggested['until']})."
                if (suggested := facts.get("suggested_window"))
                else "."
            ),
        )
    elif landings == 0:
        out["history.commit-frequency"] = (
            "absent",
            f"No commit reached the default branch in {window}.",
        )
    else:
        status = "found" if per_week >= COMMIT_FREQUENCY_PER_WEEK else "absent"
        out["history.commit-frequency"] = (
            status,
            f"{per_week} changes per week reached the default branch over {window} "
            f"(threshold {COMMIT_FREQUENCY_PER_WEEK:g}).",
        )

    size = facts["change_size"]
    if changes < MIN_CHANGES:
        out["history.change-size"] = (
            "unknown",
            f"Only {changes} changes in {window}: too few to judge.",
        )
    else:
        small = (
            size["median_lines"] <= CHANGE_SIZE_MEDIAN
            and size["share_over_400_lines"] <= CHANGE_SIZE_LARGE_SHARE
        )
        out["history.change-size"] = (
            "found" if small else "absent",
            f"Median {size['median_lines']} lines changed, 90th percentile {size['p90_lines']}, "
            f"{size['share_over_400_lines']:.0%} over 400 lines (thresholds: median <= "
            f"{CHANGE_SIZE_MEDIAN}, at most {CHANGE_SIZE_LARGE_SHARE:.0%} over 400).",
        )

    reverts = facts["reverts"]
    if changes < MIN_CHANGES_REVERTS:
        out["history.reverts"] = (
            "unknown",
            f"Only {changes} changes in {window}: too few to judge.",
        )
    else:
        out["history.reverts"] = (
            "found" if reverts["share"] <= REVERT_SHARE else "absent",
            f"{reverts['count']} of {changes} changes were reverts ({reverts['share']:.1%}; "
            f"threshold {REVERT_SHARE:.0%}); median time to revert "
            f"{_show_hours(reverts['median_hours_to_revert'])}.",
        )

    ai = facts["ai"]
    if changes == 0:
        out["history.ai-coauthored"] = ("unknown", f"No changes in {window}.")
    else:
        who = ", ".join(f"{k} {v}" for k, v in ai["by_identity"].items()) or "none"
        out["history.ai-coauthored"] = (
            "found" if ai["changes"] else "absent",
            f"{ai['changes']} of {changes} changes authored or co-authored by AI agents "
            f"({who}); {facts['bots']['dependency_changes']} by dependency bots.",
        )

    review = facts["review"]
    if review["visible_landings"] < MIN_CHANGES:
        out["history.review-trailers"] = (
            "unknown",
            f"Only {review['visible_landings']} landings show who merged them in git "
            "(changes merged in GitHub's web UI do not); see the GitHub scan.",
        )
    else:
        out["history.review-trailers"] = (
            "found" if review["share"] >= REVIEW_SHARE else "absent",
            f"{review['landings_with_evidence']} of {review['visible_landings']} landings carry a "
            "review trailer or were merged by someone other than their author "
            f"(threshold {REVIEW_SHARE:.0%}).",
        )

    if landings < MIN_CHANGES:
        out["history.merge-share"] = (
            "unknown",
            f"Only {landings} landings in {window}: too few to judge.",
        )
    else:
        share = facts["pr_landed_share"]
        out["history.merge-share"] = (
            "found" if share >= MERGE_SHARE else "absent",
            f"{share:.0%} of landings came through a merge or GitHub's merge button; "
            f"merge commits are {facts['merge_share']:.0%} of all commits (threshold {MERGE_SHARE:.0%}).",
        )

    releases = facts["releases"]
    out["history.release-tags"] = (
        "found" if releases["per_30_days"] >= RELEASES_PER_30_DAYS else "absent",
        f"{releases['release_tags_in_window']} release tags in {window} "
        f"({releases['per_30_days']} per 30 days; threshold {RELEASES_PER_30_DAYS:g}); "
        f"{releases['release_tags']} release tags of {releases['tags_total']} tags in all.",
    )

    lead = facts["lead_time"]
    if lead["released_changes"] == 0:
        out["history.lead-time"] = (
            "unknown",
            "No change in the window is contained in a release tag yet, so lead time is unknown.",
        )
    else:
        out["history.lead-time"] = (
            "found" if lead["median_hours"] <= LEAD_TIME_HOURS else "absent",
            f"Median {_show_hours(lead['median_hours'])} from commit to the first release tag "
            f"containing it over {lead['released_changes']} released changes (threshold "
            f"{LEAD_TIME_HOURS:g} h); {lead['unreleased_changes']} changes not released yet.",
        )

    findings = []
    for measure in catalogue.measures:
        if measure.id not in out:
            continue
        status, detail = out[measure.id]
        findings.extend(measure.findings(status, detail, pointer))  # type: ignore[arg-type]
    return findings


def _show_hours(hours: float | None) -> str:
    if hours is None:
        return "n/a"
    return f"{hours:g} h" if hours < 48 else f"{hours / 24:.1f} days"


def unknown_history_findings(catalogue: Catalogue, reason: str) -> list[Finding]:
    """Every history measure as "unknown" (the history could not be read)."""
    return [
        Finding(m.id, capability, "unknown", m.strength, m.title, reason)
        for m in catalogue.measures
        if m.source == "history"
        for capability in m.capabilities
    ]
