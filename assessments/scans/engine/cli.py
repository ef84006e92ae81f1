"""Rendering scan results for a terminal: an aligned table, or JSON.

`manage.py scan <url-or-path> [--json]` (the Django side) prints one of these; they need
nothing but a ScanResult.
"""

from __future__ import annotations

import json
from typing import Any

from assessments.scans.engine.model import Finding, ScanResult

_ORDER = {"found": 0, "absent": 1, "unknown": 2}


def _evidence(finding: Finding) -> str:
    if not finding.evidence:
        return "-"
    first = finding.evidence[0]
    ref = first.ref if first.kind != "commit" else first.ref[:12]
    text = ref + (f":{first.line}" if first.line else "")
    if len(finding.evidence) > 1:
        text += f" (+{len(finding.evidence) - 1})"
    return text


def _grouped(result: ScanResult) -> list[tuple[Finding, str]]:
    """One row per detector, its capabilities joined (a detector may speak to several)."""
    rows: dict[str, tuple[Finding, list[str]]] = {}
    for finding in result.findings:
        if finding.detector in rows:
            rows[finding.detector][1].append(finding.capability)
        else:
            rows[finding.detector] = (finding, [finding.capability])
    ordered = sorted(rows.values(), key=lambda item: (_ORDER[item[0].status], item[0].detector))
    return [(finding, ", ".join(caps)) for finding, caps in ordered]


def render_table(result: ScanResult) -> str:
    """An aligned table: status, detector, capability, evidence; then warnings."""
    header = ("STATUS", "DETECTOR", "CAPABILITY", "EVIDENCE")
    rows = [header] + [
        (finding.status, finding.detector, caps, _evidence(finding))
        for finding, caps in _grouped(result)
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:3])) + "  " + row[3]
        for row in rows
    ]
    counts = {s: sum(1 for f, _c in _grouped(result) if f.status == s) for s in _ORDER}
    lines.append("")
    lines.append(
        f"{result.source}: {counts['found']} found, {counts['absent']} absent, "
        f"{counts['unknown']} could not be determined"
        + (" (partial result)" if result.partial else "")
    )
    lines += [f"warning: {w}" for w in result.warnings]
    return "\n".join(lines) + "\n"


def render_json(result: ScanResult, *, indent: int | None = 2) -> str:
    """`{"findings": [...], "facts": {...}}` plus source, warnings and partial."""
    data: dict[str, Any] = result.to_dict()
    ordered = {
        "findings": data["findings"],
        "facts": data["facts"],
        "source": data["source"],
        "warnings": data["warnings"],
        "partial": data["partial"],
    }
    return json.dumps(ordered, indent=indent, sort_keys=False, ensure_ascii=False) + "\n"
