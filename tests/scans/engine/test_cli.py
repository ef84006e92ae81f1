from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assessments.scans.engine import Finding, Pointer, ScanResult, render_json, render_table
from tests.scans.engine.gitbuild import RepoBuilder, day

ROOT = Path(__file__).resolve().parents[3]

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


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "DJANGO_"))}
    return subprocess.run(
        [sys.executable, "-X", "importtime", "manage.py", "scan", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_the_command_line_scan_starts_without_django_celery_or_pandas(tmp_path: Path) -> None:
    repo = RepoBuilder(tmp_path / "repo")
    repo.commit("Initial", files={"CODEOWNERS": "* @a\n"}, when=day(1))
    done = _cli(str(repo.path), "--json", "--now", day(30).isoformat())
    assert done.returncode == 0, done.stderr[-2000:]
    document = json.loads(done.stdout)
    assert document["facts"]["history"]["commits"] == 1
    assert document["facts"]["repository"]["copied"] == "window"
    imported = {
        line.split("|")[-1].strip().split(".")[0]
        for line in done.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert imported.isdisjoint({"django", "celery", "kombu", "pandas", "numpy", "redis", "config"})


def test_the_command_line_refuses_an_impossible_window_clearly(tmp_path: Path) -> None:
    repo = RepoBuilder(tmp_path / "repo")
    repo.commit("Initial", files={"a.txt": "a\n"}, when=day(1))
    done = _cli(str(repo.path), "--window-days", "25000", "--now", day(30).isoformat())
    assert done.returncode == 1
    assert (
        "CommandError: The history window must be between 1 and 20,484 days (a longer one "
        "would start before 1970, before any git commit); 25,000 was asked for."
    ) in done.stderr
    assert done.stdout == ""


def _quiet_repo(tmp_path: Path) -> RepoBuilder:
    repo = RepoBuilder(tmp_path / "repo")
    repo.commit("Old", files={"a.txt": "a\n"}, when=day(1))
    repo.commit("In the window", files={"b.txt": "b\n"}, when=day(10))
    repo.commit("Also in it", files={"c.txt": "c\n"}, when=day(20))
    repo.commit("After it", files={"d.txt": "d\n"}, when=day(40))
    return repo


def test_since_and_until_name_the_window_and_the_copy_covers_it(tmp_path: Path) -> None:
    repo = _quiet_repo(tmp_path)
    since, until = day(10).date().isoformat(), day(20).date().isoformat()
    now = day(300).isoformat()
    done = _cli(str(repo.path), "--json", "--since", since, "--until", until, "--now", now)
    assert done.returncode == 0, done.stderr[-2000:]
    facts = json.loads(done.stdout)["facts"]
    history = facts["history"]
    assert history["commits"] == 2  # day 10 and day 20, both days included; not 1 nor 40
    assert history["since"].startswith(f"{since}T00:00:00")
    assert history["window_days"] == 11
    assert facts["repository"]["copied"] == "window"
    # Only --since: up to today (--now); only --until: the default 180 days ending then.
    done = _cli(str(repo.path), "--json", "--since", since, "--now", now)
    assert json.loads(done.stdout)["facts"]["history"]["commits"] == 3
    done = _cli(str(repo.path), "--json", "--until", until, "--now", now)
    assert json.loads(done.stdout)["facts"]["history"]["commits"] == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--since", "2026-03-01", "--until", "2026-02-01"), "--until 2026-02-01 is before --since 2026-03-01: the window would be empty."),
        (("--until", "2026-09-01"), "--until 2026-09-01 is in the future (today is 2026-06-30, UTC)"),
        (("--since", "2026-07-01"), "--since 2026-07-01 is in the future (today is 2026-06-30, UTC)"),
        (("--since", "1969-12-31"), "--since 1969-12-31 is before 1970-01-01: git stores no earlier date."),
        (("--since", "2026-01-01", "--window-days", "30"), "Give either --window-days or --since/--until, not both"),
    ],
)  # fmt: skip
def test_since_and_until_are_validated_clearly(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    from assessments.scans.engine.cli import main

    out, err = io.StringIO(), io.StringIO()
    status = main([str(tmp_path), *args, "--now", "2026-06-30T10:00:00"], stdout=out, stderr=err)
    assert status == 1
    assert f"CommandError: {message}" in err.getvalue()
    assert out.getvalue() == ""


def test_a_date_that_is_not_one_is_refused_by_the_parser(tmp_path: Path) -> None:
    from assessments.scans.engine.cli import main

    with pytest.raises(SystemExit):
        main([str(tmp_path), "--since", "2026-13-01"], stdout=io.StringIO(), stderr=io.StringIO())


def test_a_quiet_window_offers_the_window_ending_at_the_last_commit(tmp_path: Path) -> None:
    repo = _quiet_repo(tmp_path)
    done = _cli(str(repo.path), "--now", day(400).isoformat())
    assert done.returncode == 0, done.stderr[-2000:]
    note = (
        "note: no commits in the window; the last commit was on 2026-02-10. To measure the "
        "team at work: --since 2025-08-15 --until 2026-02-10"
    )
    assert note in done.stdout
    done = _cli(str(repo.path), "--json", "--since", "2025-08-15", "--until", "2026-02-10")
    history = json.loads(done.stdout)["facts"]["history"]
    assert history["commits"] == 4
    assert "suggested_window" not in history


def test_the_command_line_scans_a_source_lacking_a_blob(tmp_path: Path) -> None:
    """`manage.py scan` on a repository missing one blob completes (exit 0), marks only that
    file and blames no limit."""
    repo = RepoBuilder(tmp_path / "src")
    repo.commit(
        "Layout",
        files={
            "a/alerts.yml": "groups:\n  - name: api\n    rules:\n      - alert: High\n",
            "requirements.txt": "structlog\n",
        },
        when=day(1),
    )
    sha = repo.git("rev-parse", "HEAD:a/alerts.yml").strip()
    (repo.path / ".git" / "objects" / sha[:2] / sha[2:]).unlink()
    done = _cli(str(repo.path), "--json", "--window-days", "3650", "--now", day(30).isoformat())
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert (
        "1 file(s) could not be read: a/alerts.yml (object missing from the source)."
        in (result["warnings"])
    )
    assert "limit" not in " ".join(result["warnings"])
    statuses = {f["detector"]: f["status"] for f in result["findings"]}
    assert statuses["repo.structured-logging"] == "found"
    assert statuses["repo.alert-rules"] == "unknown"
