"""The detector tables of docs/scans.md, generated from the catalogue so they cannot drift.

`python -m assessments.scans.engine.catalogue_docs docs/scans.md` rewrites the part between
the markers; tests/scans/engine/test_catalogue_docs.py fails when the document and the
catalogue differ.
"""

from __future__ import annotations

import sys
from pathlib import Path

from assessments.scans.engine.detectors import Catalogue, Detector, Measure, load_catalogue

START = "<!-- catalogue-table:start (generated: python -m assessments.scans.engine.catalogue_docs docs/scans.md) -->"
END = "<!-- catalogue-table:end -->"
MAX_GLOBS = 8

_CHECK_ABSENT = {
    "workflow-permissions": "a workflow lacks read-only top-level permissions (points at it)",
    "dangerous-workflow": "a workflow checks out pull request code under pull_request_target or "
    "interpolates untrusted input into a script (points at it)",
    "pinned-actions": "an action is referenced by a tag or branch, not a commit sha (points at it)",
}
_MEASURE_UNKNOWN = {
    "history": "too few changes in the window to judge, no activity in the window (the last "
    "commit's date is given), or the history scan hit the time limit",
    "github": "GitHub answered 403/404 for the endpoint (no permission), a rate limit stopped "
    "the scan, or too little data",
    "delivery": "the export it needs was not imported, or no successful production deployment "
    "in the three-month window",
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _globs(globs: tuple[str, ...]) -> str:
    shown = ", ".join(f"`{g}`" for g in globs[:MAX_GLOBS])
    more = f" and {len(globs) - MAX_GLOBS} more" if len(globs) > MAX_GLOBS else ""
    return shown + more


def _where(detector: Detector) -> str:
    parts = []
    if detector.paths:
        parts.append(f"files named {_globs(detector.paths)}")
    if detector.dependencies:
        parts.append(
            "direct dependencies in the manifests of " + ", ".join(sorted(detector.dependencies))
        )
    for rule in detector.content:
        parts.append(f"the content of {_globs(rule.files)}")
    if detector.check is not None:
        parts.append("every GitHub Actions workflow, parsed")
    return "; ".join(parts)


def _absent(detector: Detector) -> str:
    if detector.check is not None:
        return _CHECK_ABSENT.get(detector.check, "the check failed (points at the files)")
    kinds = []
    if detector.paths:
        kinds.append("no file has such a name")
    if detector.dependencies:
        kinds.append("no manifest lists such a direct dependency")
    if detector.content:
        kinds.append("no searched file has such content")
    return "; ".join(kinds) + " (the finding lists what was searched)"


def _unknown(detector: Detector) -> str:
    if detector.check is not None:
        return "no workflow to check, a workflow could not be read or parsed, or the tree was cut at the entry limit"
    reasons = ["the tree has more files than the entry limit"]
    if detector.dependencies:
        reasons.append("a manifest of that ecosystem could not be read or parsed")
    if detector.content:
        reasons.append(
            "a file to search could not be read (size, read budget, a missing object) or "
            "there were more files than the per-rule limit"
        )
    if detector.remote_workflows:
        reasons.append(
            "a workflow calls a reusable workflow of another repository (which cannot be read)"
        )
    return "; ".join(reasons) + ", and nothing else matched"


def _measure_row(measure: Measure) -> str:
    return (
        f"| `{measure.id}` | {', '.join(measure.capabilities)} | {measure.strength} | "
        f"{_cell(measure.title)} | {_cell(measure.description)} | "
        f"{_MEASURE_UNKNOWN[measure.source]} |"
    )


def catalogue_tables(catalogue: Catalogue | None = None) -> str:
    """The markdown of both tables (repository detectors, then measures)."""
    catalogue = catalogue or load_catalogue()
    sources = [m.source for m in catalogue.measures]
    lines = [
        START,
        "",
        f"{len(catalogue.detectors)} repository detectors, {sources.count('history')} history, "
        f"{sources.count('github')} GitHub and {sources.count('delivery')} delivery measures. "
        "Every `evidence:` id in `scoring/rubrics/operationalization-1.yaml` is among them (a "
        "test checks it).",
        "",
        "| Detector | Capabilities | Strength | Means (title) | Looks for | Where | Absent means | Could not determine when |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for detector in catalogue.detectors:
        lines.append(
            f"| `{detector.id}` | {', '.join(detector.capabilities)} | {detector.strength} | "
            f"{_cell(detector.title)} | {_cell(detector.description)} | "
            f"{_cell(_where(detector))} | {_cell(_absent(detector))} | "
            f"{_cell(_unknown(detector))} |"
        )
    lines += [
        "",
        "| Measure | Capabilities | Strength | Means (title) | Found when | Could not determine when |",
        "|---|---|---|---|---|---|",
    ]
    lines += [_measure_row(m) for m in catalogue.measures]
    lines += ["", END]
    return "\n".join(lines)


def rewrite(path: Path, catalogue: Catalogue | None = None) -> str:
    """The document with its generated part replaced (the markers must be there)."""
    text = path.read_text(encoding="utf-8")
    start, end = text.index(START), text.index(END) + len(END)
    return text[:start] + catalogue_tables(catalogue) + text[end:]


if __name__ == "__main__":  # pragma: no cover
    target = Path(sys.argv[1])
    target.write_text(rewrite(target), encoding="utf-8")
