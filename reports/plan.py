"""The plan: the roadmap as the leader or consultant edited it.

Scoring produces the roadmap (every triggered recommendation in dependency order, in three
horizons). People act on a short list, so each horizon shows at most HORIZON_LIMIT items, those
that unblock the most other items first (an item's count of direct and indirect dependents on
the roadmap; a prerequisite always unblocks more than what needs it, so it still comes first);
the rest go to an appendix. Owners and facilitators accept, defer or reject items and give
each an owner, a target quarter and a note (`PlanDecision`); every saved edit is kept
(`PlanChange`). Accepted items are kept on the short list; deferred ones move to the last
horizon, after the others; rejected ones leave the plan and are listed apart.

`compose` is pure (plain dicts in, plain dicts out); the rest reads and writes the database.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from assessments.models import Assessment
from reports.models import PlanChange, PlanDecision
from reports.presenters import capability_levels
from scoring.roadmap import BUCKET_TITLES, BUCKETS

# What a team can hold in view per horizon: five to seven items; six, and the rest in the
# appendix (the roadmap's own NOW_LIMIT and NEXT_LIMIT decide the horizons, not this).
HORIZON_LIMIT = 6
QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
FIELDS = ("status", "owner", "quarter", "note")
FIELD_LABELS = {"status": "status", "owner": "owner", "quarter": "target quarter", "note": "note"}
STATUS_LABELS = dict(PlanDecision.Status.choices)


def blank_decision() -> dict[str, Any]:
    return {
        "status": PlanDecision.Status.PROPOSED.value,
        "owner": "",
        "quarter": "",
        "note": "",
        "version": 0,
        "updated_at": None,
        "updated_by": "",
    }


def unblocks(roadmap: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Per item, how many roadmap items wait on it directly or through others."""
    items = list(roadmap)
    dependents: dict[str, set[str]] = {i["id"]: set() for i in items}
    for i in items:
        for p in i["prerequisites"]:
            if p in dependents:
                dependents[p].add(i["id"])
    memo: dict[str, frozenset[str]] = {}

    def reach(rid: str) -> frozenset[str]:
        if rid not in memo:
            memo[rid] = frozenset()  # a cycle (never produced by scoring) cannot loop
            found: set[str] = set()
            for d in dependents[rid]:
                found.add(d)
                found |= reach(d)
            memo[rid] = frozenset(found)
        return memo[rid]

    return {rid: len(reach(rid)) for rid in dependents}


def compose(
    roadmap: Iterable[Mapping[str, Any]],
    decisions: Mapping[str, Mapping[str, Any]],
    *,
    limit: int = HORIZON_LIMIT,
) -> dict[str, Any]:
    """The edited plan from the roadmap (result["roadmap"]) and the decisions by item id.

    Returns horizons (bucket, title, shown items, number left to the appendix), the appendix
    (items beyond each horizon's limit, in horizon order), the rejected items, and counts. Items
    are numbered in the order the plan shows them: the horizons' short lists, then the
    appendix; rejected items carry no number."""
    items = [dict(i) for i in roadmap]
    counts = unblocks(items)
    titles = {i["id"]: i["title"] for i in items}
    status_of: dict[str, str] = {}
    for i in items:
        decision = {**blank_decision(), **decisions.get(i["id"], {})}
        decision["status_label"] = STATUS_LABELS.get(decision["status"], decision["status"])
        i["decision"] = decision
        i["unblocks"] = counts[i["id"]]
        i["horizon"] = "later" if decision["status"] == "deferred" else i["bucket"]
        status_of[i["id"]] = decision["status"]

    # Deferred work goes last, and so does what waits on it (directly or not), so that a
    # prerequisite is never listed after what needs it.
    prereqs = {i["id"]: [p for p in i["prerequisites"] if p in titles] for i in items}
    waits: dict[str, bool] = {}

    def waits_on_deferred(rid: str) -> bool:
        if rid not in waits:
            waits[rid] = False
            waits[rid] = status_of[rid] == "deferred" or any(
                waits_on_deferred(p) for p in prereqs[rid]
            )
        return waits[rid]

    def rank(i: Mapping[str, Any]) -> tuple[int, int, int]:
        return (1 if waits_on_deferred(i["id"]) else 0, -i["unblocks"], i["position"])

    rejected = [i for i in items if i["decision"]["status"] == "rejected"]
    horizons: list[dict[str, Any]] = []
    appendix: list[dict[str, Any]] = []
    for bucket in BUCKETS:
        ranked = sorted(
            (i for i in items if i["horizon"] == bucket and i["decision"]["status"] != "rejected"),
            key=rank,
        )
        accepted = [i for i in ranked if i["decision"]["status"] == "accepted"]
        chosen = {id(i) for i in [*accepted, *[i for i in ranked if i not in accepted]][:limit]}
        shown = [i for i in ranked if id(i) in chosen]
        rest = [i for i in ranked if id(i) not in chosen]
        for i in rest:
            i["horizon_title"] = BUCKET_TITLES[bucket]
        horizons.append(
            {"bucket": bucket, "title": BUCKET_TITLES[bucket], "items": shown, "more": len(rest)}
        )
        appendix.extend(rest)
    numbers: dict[str, int] = {}
    for number, i in enumerate([*(i for h in horizons for i in h["items"]), *appendix], start=1):
        i["number"] = number
        numbers[i["id"]] = number
    for i in items:
        i["horizon_title"] = BUCKET_TITLES[i["horizon"]]
        i["prerequisite_titles"] = [
            f"{numbers[p]}. {titles[p]}" if p in numbers else titles[p]
            for p in i["prerequisites"]
            if status_of.get(p) != "rejected"
        ]
        i["needs_rejected"] = [
            titles[p] for p in i["prerequisites"] if status_of.get(p) == "rejected"
        ]
        i["needs_deferred"] = [
            titles[p]
            for p in i["prerequisites"]
            if status_of.get(p) == "deferred" and i["horizon"] != "later"
        ]
    return {
        "horizons": horizons,
        "appendix": appendix,
        "rejected": rejected,
        "numbers": numbers,
        "count": len(items),
        "planned": len(items) - len(rejected),
        "shown": sum(len(h["items"]) for h in horizons),
        "limit": limit,
        "edited": any(i["decision"]["version"] for i in items),
    }


# --- Database ----------------------------------------------------------------------------------


def _name(user: Any) -> str:
    if user is None:
        return "a former user"
    full = (user.get_full_name() or "").strip()
    return full or user.get_username()


def decisions_for(assessment: Assessment) -> dict[str, dict[str, Any]]:
    return {
        d.item_id: {
            "status": d.status,
            "owner": d.owner,
            "quarter": d.quarter,
            "note": d.note,
            "version": d.version,
            "updated_at": d.updated_at,
            "updated_by": _name(d.updated_by) if d.version else "",
        }
        for d in assessment.plan_decisions.select_related("updated_by")
    }


def history_for(assessment: Assessment, limit: int = 200) -> list[dict[str, Any]]:
    """Saved edits, newest first, each change in words."""
    rows = []
    for change in assessment.plan_changes.all()[:limit]:
        parts = []
        for key in FIELDS:
            if key not in change.changes:
                continue
            old, new = change.changes[key]
            if key == "status":
                old, new = STATUS_LABELS.get(old, old), STATUS_LABELS.get(new, new)
            parts.append(
                {"field": FIELD_LABELS[key], "old": old or "(none)", "new": new or "(none)"}
            )
        rows.append(
            {
                "item_id": change.item_id,
                "item_title": change.item_title,
                "who": change.changed_by_name,
                "at": change.changed_at,
                "parts": parts,
                "changes": change.changes,
            }
        )
    return rows


def plan_for(assessment: Assessment, result: Mapping[str, Any]) -> dict[str, Any]:
    """The edited plan of an assessment, its items titled with their capability, and its
    history."""
    plan = compose(result.get("roadmap", []), decisions_for(assessment))
    titles = {c.id: c.title for c in assessment.rubric.capabilities}
    gates = {
        s["gate"]["id"]: s["gate"]["title"] for s in (result.get("autonomy") or {}).get("steps", [])
    }
    levels = capability_levels(result)
    for item in [*(i for h in plan["horizons"] for i in h["items"]), *plan["appendix"]]:
        item["capability_title"] = titles.get(item["capability_id"], item["capability_id"])
        # Where the capability stands, so "raises to level 3" is never said of one at 3.0.
        item["capability_level"] = levels.get(item["capability_id"])
        # The nearest gate not yet granted that the item helps unlock, else the gate the
        # catalogue says the work is for.
        item["unlocks_title"] = item.get("gate_title") or gates.get(item.get("unlocks", ""), "")
    for item in plan["rejected"]:
        item["capability_title"] = titles.get(item["capability_id"], item["capability_id"])
    # What the results page lists (each horizon's first few); the rest is on the plan page.
    plan["on_page"] = {i["id"] for h in plan["horizons"] for i in h["items"]}
    plan["history"] = history_for(assessment)
    return plan


def fingerprint(assessment: Assessment) -> str:
    """Changes whenever a decision does: part of a stored PDF's render hash."""
    rows = sorted(
        (d.item_id, d.status, d.owner, d.quarter, d.note, d.version)
        for d in assessment.plan_decisions.all()
    )
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()


class PlanEditRefused(Exception):
    """The edit was not saved; the message says why in words for the editor."""


class StaleEdit(PlanEditRefused):
    """Someone saved this item after the editor's page was loaded."""


@dataclass(frozen=True)
class Edit:
    status: str
    owner: str
    quarter: str
    note: str


def plan_item_update(
    *,
    assessment: Assessment,
    result: Mapping[str, Any],
    item_id: str,
    edit: Edit,
    version: int,
    user: Any,
) -> PlanDecision:
    """Save one item's decision if the editor saw the latest version; record what changed.

    Raises PlanEditRefused for an item not on the roadmap and StaleEdit when another save came
    first (nothing is written in either case). Saving the same values again is a no-op."""
    titles = {i["id"]: i["title"] for i in result.get("roadmap", [])}
    if item_id not in titles:
        raise PlanEditRefused("That item is not on this assessment's roadmap (any more).")
    new = {"status": edit.status, "owner": edit.owner, "quarter": edit.quarter, "note": edit.note}
    try:
        with transaction.atomic():
            decision, _created = PlanDecision.objects.select_for_update().get_or_create(
                assessment=assessment, item_id=item_id
            )
            if decision.version != version:
                raise StaleEdit(
                    f"{_name(decision.updated_by)} changed this item at "
                    f"{timezone.localtime(decision.updated_at):%H:%M} after you opened the page; "
                    "their version is shown below. Your change was not saved: make it again "
                    "if it still applies."
                )
            changes = {
                key: [getattr(decision, key), value]
                for key, value in new.items()
                if getattr(decision, key) != value
            }
            if not changes:
                return decision
            for key, value in new.items():
                setattr(decision, key, value)
            decision.version += 1
            decision.updated_at = timezone.now()
            decision.updated_by = user
            decision.save()
            PlanChange.objects.create(
                assessment=assessment,
                item_id=item_id,
                item_title=titles[item_id][:200],
                changed_by=user,
                changed_by_name=_name(user)[:200],
                changed_at=decision.updated_at,
                changes=changes,
            )
            return decision
    except IntegrityError:
        # Two first edits of one item at once: the other insert won.
        raise StaleEdit(
            "Someone else saved this item at the same moment; their version is shown below. "
            "Make your change again if it still applies."
        ) from None
