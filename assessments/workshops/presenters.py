"""What each of the three live views shows, built from rows and the pure rules.

Blind voting holds here: until the facilitator reveals a round, no view gets more than how
many have voted (and, on the console, how many per role); the distribution is built only for
revealed and agreed rounds.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import segno
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from assessments.scans import services as scans
from assessments.workshops import core, services
from assessments.workshops.models import Participant, Vote, Workshop, WorkshopItem
from scoring.evidence import reconcile
from scoring.rubric import AUDIENCES, Capability
from scoring.scores import level_to_score
from scoring.workshop import COUNT_KEYS, RoomDistribution, room_distribution

COUNT_LABELS = {"1": "1", "2": "2", "3": "3", "4": "4", "5": "5", "dont_know": "Don't know"}


@functools.lru_cache(maxsize=256)
def _qr_svg(url: str) -> str:
    code = segno.make(url, error="m", micro=False)
    svg = code.svg_inline(scale=1, border=2, dark="#000", light="#fff", omitsize=True)
    return str(svg).replace("<svg ", '<svg role="img" aria-label="QR code of the join address" ', 1)


def qr_svg(url: str) -> SafeString:
    """The join URL as a QR code, inline SVG made on the server (no script, no image request,
    so the CSP stays strict). Only our own URL goes in, so marking it safe is sound."""
    # segno writes only path data (the URL is encoded in the modules, never as text).
    return mark_safe(_qr_svg(url))  # noqa: S308  # nosec B308 B703


def _bars(distribution: RoomDistribution) -> list[dict[str, Any]]:
    top = max(distribution.counts.values(), default=0) or 1
    return [
        {
            "key": key,
            "label": COUNT_LABELS[key],
            "count": distribution.counts[key],
            "percent": round(100 * distribution.counts[key] / top),
        }
        for key in COUNT_KEYS
    ]


def distribution_view(distribution: RoomDistribution) -> dict[str, Any]:
    """A distribution as the templates draw it: bars, role rows and the small-group note."""
    note = ""
    if distribution.pooled_roles:
        note = (
            f"Roles with fewer than three voters ({', '.join(distribution.pooled_roles)}) "
            "are shown together as other roles."
        )
    if distribution.hidden_roles:
        votes = distribution.hidden_voters
        note = (note + " " if note else "") + (
            f"{votes} vote{'s' if votes != 1 else ''} from "
            f"{', '.join(distribution.hidden_roles)} "
            f"{'are' if votes != 1 else 'is'} counted in the total but not shown by role: "
            "fewer than three people."
        )
    return {
        "d": distribution,
        "bars": _bars(distribution),
        "groups": [
            {"group": g, "cells": [g.counts[key] for key in COUNT_KEYS]}
            for g in distribution.groups
        ],
        "keys": [COUNT_LABELS[key] for key in COUNT_KEYS],
        "note": note,
    }


@dataclass(frozen=True)
class ItemView:
    item: WorkshopItem
    capability: Capability
    is_current: bool


def _items(workshop: Workshop) -> list[ItemView]:
    rubric = workshop.assessment.rubric
    return [
        ItemView(item, rubric.capability(item.capability_id), item.pk == workshop.current_item_id)
        for item in workshop.items.all()
    ]


def _levels(workshop: Workshop, capability: Capability | None) -> list[tuple[int, str, str]]:
    """(level, its name, what it means for the capability), 1 to 5."""
    if capability is None:
        return []
    names = workshop.assessment.rubric.level_names
    return [(n, names[n], text) for n, text in sorted(capability.levels.items())]


def _current(workshop: Workshop) -> tuple[WorkshopItem | None, Capability | None]:
    item = workshop.current_item
    if item is None:
        return None, None
    return item, workshop.assessment.rubric.capability(item.capability_id)


def live_state(workshop: Workshop, *, now: datetime | None = None) -> dict[str, Any]:
    """What the console's live panel and the big screen share."""
    now = now or timezone.now()
    item, capability = _current(workshop)
    joined = services.participants_by_role(workshop)
    context: dict[str, Any] = {
        "workshop": workshop,
        "item": item,
        "capability": capability,
        "joined": sum(joined.values()),
        "joined_by_role": [(r, joined[r]) for r in AUDIENCES if joined.get(r)],
        "level_names": workshop.assessment.rubric.level_names,
    }
    if item is None:
        return context
    counts = services.vote_counts(item)
    context["voted"] = sum(counts.values())
    context["voted_by_role"] = [(r, counts.get(r, 0), joined.get(r, 0)) for r in AUDIENCES]
    context["timer"] = item.timer(now)
    if item.state in (WorkshopItem.State.REVEALED, WorkshopItem.State.AGREED):
        votes = services.room_votes(item, item.round)
        context["distribution"] = distribution_view(room_distribution(votes))
        if item.round > 1:
            context["first_round"] = distribution_view(
                room_distribution(services.room_votes(item, 1))
            )
        level = item.agreed_level or core.suggested_level(votes)
        if level is not None:
            context["agreement"] = core.agreement_summary(votes, level)
    return context


NAMES_SHOWN = 40


def console_context(workshop: Workshop, join_url: str) -> dict[str, Any]:
    item, capability = _current(workshop)
    context = live_state(workshop)
    if not workshop.assessment.anonymous:
        named = workshop.participants.exclude(display_name="").order_by("joined_at")
        context["names"] = list(named[:NAMES_SHOWN])
        context["more_names"] = max(0, named.count() - NAMES_SHOWN) if context["names"] else 0
    context.update(
        {
            "items": _items(workshop),
            "join_url": join_url,
            "qr": qr_svg(join_url),
            "code_usable": workshop.code_usable(),
            "roles": AUDIENCES,
        }
    )
    if item is not None and capability is not None:
        survey = services.survey_capability(
            assessment=workshop.assessment, capability_id=item.capability_id
        )
        findings = [
            f for f in scans.evidence_for(workshop.assessment) if f.capability == capability.id
        ]
        claim = level_to_score(survey.median) if survey.median is not None else None
        context.update(
            {
                "survey": survey,
                "evidence": reconcile(claim_score=claim, findings=findings) if findings else None,
                "dissent": list(item.dissent.all()),
                "suggested": item.agreed_level
                or core.suggested_level(services.room_votes(item, item.round)),
                "levels": _levels(workshop, capability),
            }
        )
    return context


def screen_context(workshop: Workshop, join_url: str) -> dict[str, Any]:
    context = live_state(workshop)
    item, capability = _current(workshop)
    context.update(
        {
            "join_url": join_url,
            "qr": qr_svg(join_url),
            "code_usable": workshop.code_usable(),
            "levels": _levels(workshop, capability),
        }
    )
    return context


def participant_context(
    participant: Participant, error: str = "", own: Vote | None = None
) -> dict[str, Any]:
    """The phone's view; `own` is the participant's vote in the open round when the caller
    already has it (right after voting), else it is looked up."""
    workshop = participant.workshop
    item, capability = _current(workshop)
    if own is None and item is not None:
        own = item.votes.filter(participant=participant, round=item.round).first()
    return {
        "total": len(workshop.assessment.rubric.capabilities),
        "participant": participant,
        "workshop": workshop,
        "item": item,
        "capability": capability,
        "own": own,
        "own_value": (str(own.level) if own.level else "dk") if own else "",
        "levels": _levels(workshop, capability),
        "error": error,
    }
