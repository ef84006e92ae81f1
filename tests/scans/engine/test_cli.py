from __future__ import annotations

import json

from assessments.scans.engine import Finding, Pointer, ScanResult, render_json, render_table

RESULT = ScanResult(
    source="https://github.com/acme/widgets.git",
    findings=(
        Finding("repo.test-suite", "rev.automated-verification", "found", 3, "Tests", "Found.", (Pointer("file", "tests/test_a.py"), Pointer("file", "pyproject.toml", 7))),
        Finding("repo.test-suite", "dep.agent-runtime", "found", 3, "Tests", "Found.", (Pointer("file", "tests/test_a.py"),)),
        Finding("history.lead-time", "obs.delivery-measurement", "unknown", 2, "Lead time", "No release.", (Pointer("commit", "a" * 40),)),
        Finding("repo.sentry", "obs.system-telemetry", "absent", 2, "Sentry", "Not found."),
    ),
    facts={"history": {"commits": 3}},
    warnings=("The history scan hit the time limit.",),
    partial=True,
)  # fmt: skip


def test_the_table_is_aligned_and_groups_capabilities() -> None:
    lines = render_table(RESULT).splitlines()
    assert lines[0].split() == ["STATUS", "DETECTOR", "CAPABILITY", "EVIDENCE"]
    assert lines[1].split(None, 3) == [
        "found",
        "repo.test-suite",
        "rev.automated-verification,",
        "dep.agent-runtime  tests/test_a.py (+1)",
    ]
    assert lines[2].split() == ["absent", "repo.sentry", "obs.system-telemetry", "-"]
    assert lines[3].split() == [
        "unknown",
        "history.lead-time",
        "obs.delivery-measurement",
        "a" * 12,
    ]
    starts = {line.index(line.split()[1]) for line in lines[:4]}
    assert len(starts) == 1  # the detector column lines up
    assert (
        lines[5]
        == "https://github.com/acme/widgets.git: 1 found, 1 absent, 1 could not be determined (partial result)"
    )
    assert lines[6] == "warning: The history scan hit the time limit."


def test_json_has_findings_with_status_and_evidence_and_facts() -> None:
    data = json.loads(render_json(RESULT))
    assert list(data)[:2] == ["findings", "facts"]
    assert data["facts"] == {"history": {"commits": 3}}
    first = data["findings"][0]
    assert {k: first[k] for k in ("detector", "capability", "status")} == {
        "detector": "repo.test-suite", "capability": "rev.automated-verification", "status": "found",
    }  # fmt: skip
    assert first["evidence"] == [
        {"kind": "file", "ref": "tests/test_a.py", "line": None, "url": None},
        {"kind": "file", "ref": "pyproject.toml", "line": 7, "url": None},
    ]
    assert data["partial"] is True
