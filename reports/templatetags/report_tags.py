from __future__ import annotations

import re
from typing import Any

from django import template
from django.template.defaultfilters import pluralize

from scoring.scores import level_text

register = template.Library()


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    """mapping[key] in templates; keys may be ints or strings (JSON turns int keys to str)."""
    if mapping is None:
        return None
    try:
        return mapping[key]
    except (KeyError, TypeError, IndexError):
        try:
            return mapping[str(key)]
        except (KeyError, TypeError):
            return None


@register.filter
def level(exact_level: Any) -> str:
    """A level as every page and the PDF print it (scoring.scores.level_text): 2.8, never a
    badge saying 2 beside a table saying 2.8; "not assessed" without one."""
    if exact_level is None or exact_level == "":
        return "not assessed"
    return level_text(float(exact_level))


@register.filter
def percent(share: Any) -> str:
    """A share from 0 to 1 as a whole percentage ("10%"); below 1% reads "under 1%"."""
    try:
        value = float(share)
    except (TypeError, ValueError):
        return ""
    if 0 < value < 0.005:
        return "under 1%"
    return f"{round(value * 100)}%"


_COMMIT = re.compile(r"[0-9a-f]{40}")
SHORT_COMMIT = 12  # as `git log --abbrev=12`: unique in any repository a report scans
ROWS_SHOWN = 5


def _export_of(detector: str) -> str:
    """Which export a finding's rows are from: the delivery detectors read deployments, except
    recovery time, which reads incidents (assessments/scans/engine/deliveryfindings.py)."""
    if detector == "delivery.recovery-time":
        return "incident export"
    if detector.startswith("delivery."):
        return "deployment export"
    return "export"


@register.filter
def evidence_pointers(finding: Any) -> list[dict[str, Any]]:
    """A finding's pointers as a reader takes them in: export rows gathered into one entry
    ("deployment export rows prd-14, prd-15, … (8)"), commits as 12-character hashes with the
    full one kept for a title, everything else (paths, URLs) as it is; empty pointers left out.

    Each entry is {"label": text before the codes, "codes": [{"text", "title"}], "more": text
    after them}."""
    rows: list[str] = []
    commits: list[dict[str, str]] = []
    others: list[dict[str, Any]] = []
    for pointer in finding.get("pointers") or ():
        ref = str(pointer).strip()
        if not ref:
            continue
        if ref.startswith("row "):
            rows.append(ref.removeprefix("row ").strip())
        elif _COMMIT.fullmatch(ref):
            commits.append({"text": ref[:SHORT_COMMIT], "title": ref})
        else:
            others.append({"label": "", "codes": [{"text": ref, "title": ""}], "more": ""})
    out = []
    if rows:
        export = _export_of(str(finding.get("detector", "")))
        label = f"{export} row{pluralize(len(rows))}"
        more = f", … ({len(rows)} in all)" if len(rows) > ROWS_SHOWN else ""
        codes = [{"text": r, "title": ""} for r in rows[:ROWS_SHOWN]]
        out.append({"label": label, "codes": codes, "more": more})
    if commits:
        out.append({"label": f"commit{pluralize(len(commits))}", "codes": commits, "more": ""})
    return out + others
