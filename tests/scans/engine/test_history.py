from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from assessments.scans.engine import ScanResult, load_catalogue, scan_repository
from assessments.scans.engine.gitrunner import GitRunner
from assessments.scans.engine.history import RELEASE_TAG, Sample, scan_history
from assessments.scans.engine.model import Limits, ScanCancelled
from assessments.scans.engine.sources import sanitising_clone
from tests.scans.engine.gitbuild import BOB, RepoBuilder, day, processes_left

DEPENDABOT = ("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com")
COPILOT = ("Copilot", "198982749+Copilot@users.noreply.github.com")
WEB_FLOW = ("GitHub", "noreply@github.com")


def lines(n: int, prefix: str = "line") -> str:
    return "".join(f"{prefix} {i}\n" for i in range(n))


@dataclass(frozen=True)
class History:
    path: Path
    shas: dict[str, str]


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    """Eleven changes and one merge over two weeks of 2026 (see the expected facts below)."""
    repo = RepoBuilder(tmp_path_factory.mktemp("history") / "repo")
    s: dict[str, str] = {}
    s["c1"] = repo.commit("Initial commit", files={"a.txt": lines(10)}, when=day(1))
    s["c2"] = repo.commit(
        "polys: fix thing\n\nSigned-off-by: Alice Example <alice@example.com>",
        files={"a.txt": lines(9) + "changed\n"},
        when=day(2),
    )
    repo.tag("v1.0.0", when=day(3))
    repo.branch("feature")
    s["c3"] = repo.commit(
        "Add feature\n\nCo-authored-by: Claude <noreply@anthropic.com>",
        files={"feature.py": lines(20)},
        when=day(4),
        author=BOB,
    )
    repo.checkout("main")
    s["merge"] = repo.merge("feature", "Merge branch 'feature'", when=day(5))
    s["c4"] = repo.commit(
        "Bump x from 1 to 2", files={"requirements.txt": "x==2\n"}, when=day(6), author=DEPENDABOT
    )
    s["c5"] = repo.commit("Add b", files={"b.py": lines(5)}, when=day(7), author=COPILOT)
    s["c6"] = repo.commit(
        f'Revert "Add feature"\n\nThis reverts commit {s["c3"]}.',
        delete=("feature.py",),
        when=day(8),
    )
    repo.tag("v1.1.0", when=day(9), annotated=False)  # lightweight: dated by its commit (day 8)
    repo.tag("v1.2.0-rc1", when=day(9))  # a pre-release: not a release tag
    repo.tag("deploy-123", when=day(9))  # not release-shaped
    s["c7"] = repo.commit(
        "Large change\n\nPart-of: epic\nFixes: #12", files={"big.txt": lines(500)}, when=day(10)
    )
    s["c8"] = repo.commit(
        "Squash merged (#12)\n\nReviewed-by: Bob Example <bob@example.com>",
        files={"c.txt": lines(3)},
        when=day(11),
        committer=WEB_FLOW,
    )
    s["c9"] = repo.commit("Apply patch", files={"d.txt": lines(4)}, when=day(12), committer=BOB)
    s["c10"] = repo.commit("Docs", files={"e.txt": lines(2)}, when=day(13), committer=BOB)
    s["c11"] = repo.commit("More", files={"f.txt": lines(6)}, when=day(14))
    yield History(repo.path, s)


def _scan(history: History, workdir: Path, **kwargs: Any) -> ScanResult:
    return scan_repository(
        source=history.path,
        kind="path",
        workdir=workdir,
        now=day(100),
        allowed_roots=[history.path.parent],
        **kwargs,
    )


def test_history_facts_are_exact(history: History, workdir: Path) -> None:
    facts = _scan(history, workdir).facts["history"]
    assert facts["commits"] == 12
    assert facts["merges"] == 1
    assert facts["changes"] == 11
    assert facts["landings"] == 11  # c3 reached main through the merge
    assert facts["authors"] == 4
    assert facts["active_days"] == 99.0
    assert facts["landings_per_week"] == 0.78
    assert facts["merge_share"] == round(1 / 12, 4)
    assert facts["pr_landed_share"] == round(2 / 11, 4)  # the merge and the web-UI squash
    # Only allow-listed trailers: "polys:" and "Fixes:"/"Part-of:" are not trailers.
    assert facts["trailers"] == {"co-authored-by": 1, "reviewed-by": 1, "signed-off-by": 1}
    assert facts["ai"] == {
        "changes": 2,
        "authored": 1,
        "co_authored": 1,
        "share": round(2 / 11, 4),
        "by_identity": {"Claude": 1, "GitHub Copilot": 1},
    }
    assert facts["bots"] == {"dependency_changes": 1, "other_changes": 0}
    assert facts["reverts"] == {
        "count": 1,
        "share": round(1 / 11, 4),
        "median_hours_to_revert": 96.0,
    }
    assert facts["change_size"] == {
        "median_lines": 5,
        "p90_lines": 20,
        "share_over_400_lines": round(1 / 11, 4),
        "median_files": 1,
    }
    # Visible landings exclude the web-UI squash; evidence: the merge of Bob's branch by
    # Alice, and two commits applied by Bob.
    assert facts["review"] == {"visible_landings": 10, "landings_with_evidence": 3, "share": 0.3}
    releases = facts["releases"]
    assert releases["tags_total"] == 4
    assert releases["release_tags"] == 2
    assert releases["release_tags_in_window"] == 2
    assert releases["per_30_days"] == 0.61
    assert [r["tag"] for r in releases["records"]] == ["v1.1.0", "v1.0.0"]
    assert releases["records"][0] == {
        "tag": "v1.1.0",
        "sha": history.shas["c6"],
        "time": "2026-01-09T12:00:00Z",
    }
    # Lead times (h): c1 48, c2 24 (v1.0.0, day 3); c3 96, c4 48, c5 24, c6 0 (v1.1.0, day 8).
    assert facts["lead_time"] == {
        "released_changes": 6,
        "unreleased_changes": 5,
        "median_hours": 24.0,
        "p90_hours": 96.0,
        "ai_median_hours": 24.0,
        "other_median_hours": 24.0,
    }


def test_change_records_feed_delivery_metrics(history: History, workdir: Path) -> None:
    records = _scan(history, workdir).facts["history"]["changes_records"]
    assert records["truncated"] is False
    assert len(records["sha"]) == 11
    assert records["sha"][0] == history.shas["c11"]
    assert records["time"][0] == "2026-01-15T12:00:00Z"
    by_sha = dict(
        zip(
            records["sha"],
            zip(records["ai_assisted"], records["bot"], records["revert"], strict=True),
            strict=True,
        )
    )
    assert by_sha[history.shas["c3"]] == (True, False, False)
    assert by_sha[history.shas["c4"]] == (False, True, False)
    assert by_sha[history.shas["c5"]] == (True, False, False)
    assert by_sha[history.shas["c6"]] == (False, False, True)


def test_change_records_are_bounded(history: History, workdir: Path) -> None:
    result = _scan(history, workdir, limits=Limits(max_change_records=3))
    records = result.facts["history"]["changes_records"]
    assert len(records["sha"]) == 3 and records["truncated"] is True
    assert any("Only the newest 3 changes" in w for w in result.warnings)


def test_weekly_buckets_cover_the_window(history: History, workdir: Path) -> None:
    weekly = _scan(history, workdir).facts["history"]["weekly"]
    assert weekly[0]["week"] == "2025-10-13"  # the window starts on Monday 2025-10-13
    assert len(weekly) == 26  # Mondays 2025-10-13 .. 2026-04-06
    busy = {w["week"]: w for w in weekly if w["commits"]}
    # day(1) is Friday 2 January 2026; day(4) Monday 5 January.
    assert busy == {
        "2025-12-29": {
            "week": "2025-12-29",
            "commits": 2,
            "landings": 2,
            "merges": 0,
            "authors": 1,
            "ai": 0,
            "bots": 0,
            "reverts": 0,
            "releases": 1,
        },
        "2026-01-05": {
            "week": "2026-01-05",
            "commits": 6,
            "landings": 5,
            "merges": 1,
            "authors": 4,
            "ai": 2,
            "bots": 1,
            "reverts": 1,
            "releases": 1,
        },
        "2026-01-12": {
            "week": "2026-01-12",
            "commits": 4,
            "landings": 4,
            "merges": 0,
            "authors": 1,
            "ai": 0,
            "bots": 0,
            "reverts": 0,
            "releases": 0,
        },
    }


def test_history_findings_and_thresholds(history: History, workdir: Path) -> None:
    result = _scan(history, workdir)
    statuses = {f.detector: f.status for f in result.findings if f.detector.startswith("history.")}
    assert statuses == {
        "history.commit-frequency": "absent",  # 0.78 per week
        "history.change-size": "found",  # median 5 lines, 9% over 400
        "history.reverts": "unknown",  # 11 changes: too few to judge
        "history.ai-coauthored": "found",
        "history.review-trailers": "absent",  # 30%
        "history.merge-share": "absent",  # 18%
        "history.release-tags": "absent",  # 0.61 per 30 days
        "history.lead-time": "found",  # 24 h
    }
    finding = result.finding("history.lead-time")
    assert finding.evidence[0].kind == "commit" and finding.evidence[0].ref == history.shas["c11"]


def test_a_window_without_commits(history: History, workdir: Path) -> None:
    result = _scan(history, workdir, window_days=30)
    statuses = {f.detector: f.status for f in result.findings if f.detector.startswith("history.")}
    # A quiet window is not an absent practice: it says when the repository was last active.
    assert statuses["history.commit-frequency"] == "unknown"
    assert "last commit on" in result.finding("history.commit-frequency").detail
    assert statuses["history.change-size"] == "unknown"
    assert statuses["history.ai-coauthored"] == "unknown"
    assert statuses["history.lead-time"] == "unknown"
    assert result.facts["history"]["commits"] == 0


def test_history_runs_one_log_process_and_no_per_commit_processes(
    history: History, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = GitRunner(job_root=tmp_path)
    bare = tmp_path / "repo.git"
    sanitising_clone(runner=runner, source=history.path, dest=bare, limits=Limits())
    spawned: list[list[str]] = []
    original = GitRunner._spawn

    def spy(self: GitRunner, argv: list[str], *args: Any, **kwargs: Any) -> Any:
        spawned.append(argv)
        return original(self, argv, *args, **kwargs)

    monkeypatch.setattr(GitRunner, "_spawn", spy)
    scan_history(
        runner=runner,
        git_dir=bare,
        catalogue=load_catalogue(),
        head=history.shas["c11"],
        now=day(100),
        window_days=180,
        limits=Limits(),
    )
    commands = [
        next(a for a in argv[1:] if not a.startswith("-") and "=" not in a) for argv in spawned
    ]
    assert commands == ["for-each-ref", "rev-list", "log"]  # rev-list: the count, for a split
    log = spawned[2]
    for flag in (
        "--no-textconv",
        "--no-ext-diff",
        "--no-show-signature",
        "--numstat",
        "--topo-order",
    ):
        assert flag in log
    assert log[-2:] == ["HEAD", "--"]
    runner.cleanup()


def test_a_long_history_read_by_two_processes_gives_the_same_facts(
    history: History, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two `git log` processes (the newest commits streamed, the rest diffed alongside into a
    file) measure exactly what one does; here every history counts as long."""
    from assessments.scans.engine import history as module

    runner = GitRunner(job_root=tmp_path)
    bare = tmp_path / "repo.git"
    sanitising_clone(runner=runner, source=history.path, dest=bare, limits=Limits())
    spawned: list[list[str]] = []
    original = GitRunner._spawn

    def spy(self: GitRunner, argv: list[str], *args: Any, **kwargs: Any) -> Any:
        spawned.append(argv)
        return original(self, argv, *args, **kwargs)

    monkeypatch.setattr(GitRunner, "_spawn", spy)

    def facts(cores: int) -> dict[str, Any]:
        monkeypatch.setattr(module, "_cores", lambda: cores)
        monkeypatch.setattr(module, "SPLIT_MIN_COMMITS", 2)
        spawned.clear()
        _findings, found = scan_history(
            runner=runner,
            git_dir=bare,
            catalogue=load_catalogue(),
            head=history.shas["c11"],
            now=day(100),
            window_days=180,
            limits=Limits(max_change_records=5),
        )
        return found

    one = facts(1)
    assert sum(1 for argv in spawned if "log" in argv) == 1
    two = facts(2)
    logs = [argv for argv in spawned if "log" in argv]
    assert len(logs) == 2
    assert any("--max-count=6" in argv for argv in logs)
    assert any("--skip=6" in argv for argv in logs)
    assert two == one
    assert one["commits"] == 12
    runner.cleanup()


def test_a_cancel_while_two_processes_read_the_history_stops_both(
    history: History, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assessments.scans.engine import history as module

    monkeypatch.setattr(module, "_cores", lambda: 2)
    monkeypatch.setattr(module, "SPLIT_MIN_COMMITS", 2)
    workdir = tmp_path / "job"
    workdir.mkdir()
    history_checks: list[int] = []

    def progress(stage: str, percent: int) -> None:
        if stage == "history":
            history_checks.append(percent)
            if len(history_checks) == 3:  # the count, the older half started, the newer next
                raise ScanCancelled("cancelled by the user")

    with pytest.raises(ScanCancelled):
        _scan(history, workdir, progress=progress)
    assert len(history_checks) == 3
    assert processes_left(str(workdir)) == []
    assert list(workdir.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "release"),
    [("v1.2.3", True), ("1.2", True), ("release-2024.05.01", True), ("app/v2.0.1", True),
     ("v1.2.3-rc1", False), ("v2.0.0-beta", False), ("deploy-123", False), ("latest", False)],
)  # fmt: skip
def test_release_tag_names(name: str, release: bool) -> None:
    assert bool(RELEASE_TAG.match(name)) is release


def test_samples_are_exact_then_a_fair_reservoir() -> None:
    sample = Sample(cap=1000)
    for value in range(1, 101):
        sample.add(value)
    assert (sample.quantile(0.5), sample.quantile(0.9)) == (50, 90)
    big = Sample(cap=100)
    for value in range(10_000):
        big.add(value)
    assert len(big.values) == 100 and big.seen == 10_000
    median = big.quantile(0.5)
    assert median is not None and 3000 < median < 7000


def test_a_shallow_copy_is_flagged_as_partial(history: History, tmp_path: Path) -> None:
    shallow = tmp_path / "shallow"
    RepoBuilder(tmp_path / "helper").git(
        "clone", "-q", "--depth", "3", f"file://{history.path}", str(shallow)
    )
    workdir = tmp_path / "job"
    workdir.mkdir()
    result = scan_repository(
        source=shallow, kind="path", workdir=workdir, now=day(100), allowed_roots=[tmp_path]
    )
    assert result.facts["repository"]["shallow"] is True
    assert result.facts["history"]["commits"] == 3
    assert result.partial is True
    assert any("shallow copy" in w for w in result.warnings)


def test_repository_facts_are_json_ready(history: History, workdir: Path) -> None:
    result = _scan(history, workdir)
    assert (
        json.loads(json.dumps(result.to_dict()))["facts"]["repository"]["head"]
        == history.shas["c11"]
    )
    assert result.facts["repository"]["shallow"] is False
    assert result.partial is False


def test_an_oversized_record_is_skipped_not_buffered(tmp_path: Path) -> None:
    from assessments.scans.engine.history import _records

    stream = tmp_path / "stream"
    stream.write_bytes(b"\x1efirst\x1e" + b"x" * 5000 + b"\x1esecond\x1ethird")
    with stream.open("rb") as log:
        records = list(_records(log, limit=1000))
    assert records == [b"", b"first", None, b"second", b"third"]


def test_control_bytes_in_a_commit_message_never_break_the_scan(tmp_path: Path) -> None:
    repo = RepoBuilder(tmp_path / "repo")
    repo.commit("Initial", files={"a.txt": lines(3)}, when=day(1))
    # \x1d ends the log format's header and a tab splits numstat columns: a message holding
    # both once crashed the parser.
    repo.commit(
        "Tricky\n\nbody \x1d\tnot a numstat line\n\nSigned-off-by: A \x1d\tB <a@example.com>",
        files={"a.txt": lines(5)},
        when=day(2),
    )
    workdir = tmp_path / "job"
    workdir.mkdir()
    result = scan_repository(
        source=repo.path, kind="path", workdir=workdir, now=day(30), allowed_roots=[tmp_path]
    )
    facts = result.facts["history"]
    assert (facts["commits"], facts["malformed_records"]) == (2, 0)
    assert facts["change_size"]["median_lines"] == 2  # numstat still read after the message
    assert facts["trailers"] == {"signed-off-by": 1}
    assert result.partial is False


def test_an_unreadable_commit_record_is_counted_and_warned_about(tmp_path: Path) -> None:
    repo = RepoBuilder(tmp_path / "repo")
    repo.commit("Initial", files={"a.txt": lines(3)}, when=day(1))
    # \x1e separates records: this message splits its commit into two unreadable pieces.
    repo.commit("Broken\n\nbody \x1e\tmore", files={"a.txt": lines(5)}, when=day(2))
    workdir = tmp_path / "job"
    workdir.mkdir()
    result = scan_repository(
        source=repo.path, kind="path", workdir=workdir, now=day(30), allowed_roots=[tmp_path]
    )
    facts = result.facts["history"]
    assert facts["commits"] == 1 and facts["malformed_records"] == 2
    assert result.partial is True
    assert any("2 commit record(s) could not be read" in w for w in result.warnings)


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        (b"\n\n3\t1\ta.txt\n-\t-\timg.png\n", (3, 1, 2)),
        (b"\n", (0, 0, 0)),
        (b"\n\tmore text\n1\t1\ta.txt\n", None),
        (b"\nx\t1\ta.txt\n", None),
        (b"\n1\t-\ta.txt\n", None),
    ],
)
def test_numstat_lines_are_parsed_defensively(
    block: bytes, expected: tuple[int, int, int] | None
) -> None:
    from assessments.scans.engine.history import _numstat

    assert _numstat(block) == expected
