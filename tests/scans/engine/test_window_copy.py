"""The scan copies only the history its window reads, and reads it exactly as a full copy would.

`clone --shallow-since` alone cuts the copy at every commit of the window with a parent older
than the window and pretends that commit has no parents: its numstat counts its whole tree, and
behind a merge of an old branch the rest of the window disappears. These tests build exactly
those shapes and compare every history fact with a scan of a complete copy.
"""

from __future__ import annotations

import os
import subprocess
import tarfile
from pathlib import Path
from typing import Any, Literal

import pytest

from assessments.scans.engine import ScanError, load_catalogue, scan_repository, sources
from assessments.scans.engine.gitrunner import GitRunner, git_date
from assessments.scans.engine.history import scan_history, window_start
from assessments.scans.engine.model import Limits
from assessments.scans.engine.sources import sanitising_clone
from tests.scans.engine.gitbuild import BOB, RepoBuilder, day, git_env

ALL_SUBJECTS = [
    "After the merge", "Merge branch 'old'", "Second", "First in the window",
    "Before the window", "Old work", "Initial",
]  # fmt: skip


def lines(n: int, prefix: str = "line") -> str:
    return "".join(f"{prefix} {i}\n" for i in range(n))


@pytest.fixture(scope="module")
def tangled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Old history, an old branch merged inside the window, and a gap at the window's edge.

    The window (30 days before day 400) starts at day 370. In it: c5 and c6 on main, whose
    parent c4 (day 200) is older; the merge (day 390) of a branch whose tip c3 is from day 100;
    c7 after it. A large file from long ago makes a parentless c5 look like a huge change.
    """
    repo = RepoBuilder(tmp_path_factory.mktemp("tangled") / "repo")
    repo.commit("Initial", files={"big.txt": lines(900), "a.txt": lines(3)}, when=day(1))
    repo.tag("v0.1.0", when=day(2))
    repo.branch("old")
    repo.commit("Old work", files={"old.txt": lines(7)}, when=day(100), author=BOB)
    repo.checkout("main")
    repo.commit("Before the window", files={"a.txt": lines(4)}, when=day(200))
    repo.commit("First in the window", files={"a.txt": lines(6)}, when=day(375))
    repo.commit("Second", files={"b.txt": lines(2)}, when=day(380))
    repo.tag("v0.2.0", when=day(381))
    repo.merge("old", "Merge branch 'old'", when=day(390), committer=BOB)
    repo.commit("After the merge", files={"c.txt": lines(5)}, when=day(395))
    return repo.path


def _history(source: Path, tmp_path: Path, name: str, since: int | None) -> dict[str, Any]:
    job = tmp_path / name
    job.mkdir()
    runner = GitRunner(job_root=job)
    bare = job / "repo.git"
    try:
        sanitising_clone(runner=runner, source=source, dest=bare, limits=Limits(), since=since)
        head = runner.run(["rev-parse", "HEAD"], git_dir=bare).decode().strip()
        _findings, facts = scan_history(
            runner=runner, git_dir=bare, catalogue=load_catalogue(), head=head,
            now=day(400), window_days=30, limits=Limits(),
        )  # fmt: skip
        return facts
    finally:
        runner.cleanup()


def test_a_window_copy_reads_the_window_exactly_as_a_full_copy(
    tangled: Path, tmp_path: Path
) -> None:
    since = window_start(day(400), 30)
    full = _history(tangled, tmp_path, "full", None)
    window = _history(tangled, tmp_path, "window", since)
    assert full["commits"] == 4  # c5, c6, the merge and c7
    releases_full, releases_window = full.pop("releases"), window.pop("releases")
    assert window == full
    # Tags are counted on the copied history (the window and the commits just before it), so
    # the totals shrink; the releases in the window, their dates and lead times do not.
    for key in ("release_tags_in_window", "per_30_days", "records"):
        assert releases_window[key] == releases_full[key]
    assert releases_full["release_tags_in_window"] == 1  # v0.2.0, on a commit fetched late
    assert (releases_window["tags_total"], releases_full["tags_total"]) == (1, 2)


def test_a_window_copy_holds_no_history_older_than_the_window(
    tangled: Path, tmp_path: Path
) -> None:
    job = tmp_path / "job"
    job.mkdir()
    runner = GitRunner(job_root=job)
    bare = job / "repo.git"
    try:
        windowed = sanitising_clone(
            runner=runner, source=tangled, dest=bare, limits=Limits(),
            since=window_start(day(400), 30),
        )  # fmt: skip
        assert windowed is True
        subjects = runner.run(["log", "--format=%s", "HEAD"], git_dir=bare).decode().splitlines()
        # The window, plus the parents just outside it (kept so the window diffs correctly).
        assert subjects == [
            "After the merge", "Merge branch 'old'", "Second", "First in the window",
            "Before the window", "Old work",
        ]  # fmt: skip
        assert "Initial" not in subjects
    finally:
        runner.cleanup()


def test_every_tag_of_the_window_arrives_whatever_its_kind_or_name(tmp_path: Path) -> None:
    """The repair fetch brings the commits the clone cut (here "In the window", behind a merge
    of an old branch); the tags on them are fetched after it by name: lightweight or
    annotated, and named in UTF-8 or in bytes that are not UTF-8 (git allows both). A
    non-ASCII tag name once stopped the whole scan with a UnicodeEncodeError."""
    repo = RepoBuilder(tmp_path / "repo")
    repo.commit("Initial", files={"a.txt": lines(3)}, when=day(1))
    repo.branch("old")
    repo.commit("Old work", files={"old.txt": lines(7)}, when=day(100), author=BOB)
    repo.checkout("main")
    repo.commit("Before the window", files={"a.txt": lines(4)}, when=day(200))
    late = repo.commit("In the window", files={"a.txt": lines(6)}, when=day(375))
    repo.tag("v0.2.0", when=day(376))
    repo.tag("light-0.2", when=day(376), annotated=False)
    repo.tag("café-0.2", when=day(376), annotated=False)
    repo.merge("old", "Merge branch 'old'", when=day(390), committer=BOB)
    cloned = repo.commit("After the merge", files={"c.txt": lines(5)}, when=day(395))

    def update_ref(name: bytes, sha: str) -> None:
        subprocess.run(
            [b"/usr/bin/git", b"update-ref", name, sha.encode()],
            cwd=repo.path, env=git_env(repo.home), check=True, capture_output=True,
        )  # fmt: skip

    update_ref(b"refs/tags/latin-caf\xe9-0.2", late)
    update_ref(b"refs/tags/latin-caf\xe9-0.3", cloned)  # on a commit the clone brings
    listing = ["for-each-ref", "--format=%(objectname) %(refname)", "refs/tags"]
    job = tmp_path / "job"
    job.mkdir()
    runner = GitRunner(job_root=job)
    bare = job / "repo.git"
    try:
        windowed = sanitising_clone(
            runner=runner, source=repo.path, dest=bare, limits=Limits(),
            since=window_start(day(400), 30),
        )  # fmt: skip
        copied = runner.run(listing, git_dir=bare)
        subjects = runner.run(["log", "--format=%s", "HEAD"], git_dir=bare).decode()
    finally:
        runner.cleanup()
    assert windowed is True
    assert "In the window" in subjects and "Initial" not in subjects
    source = subprocess.run(
        ["/usr/bin/git", *listing], cwd=repo.path, env=git_env(repo.home), check=True,
        capture_output=True,
    ).stdout  # fmt: skip
    assert source.count(b"\n") == 5
    assert copied == source


@pytest.mark.parametrize("how", ["window", "all", "packed", "archive", "bundle"])
def test_a_scan_reports_its_progress_forward_only(tmp_path: Path, how: str) -> None:
    """Every git call of the copy reports its stage and percent: a call left at the default
    (stage "git", 0 %) sent a running scan's progress bar back to nothing mid-copy. The
    copies take every step there is between them: the window's repair fetch and its tags,
    the lenient copy's clean-up for a missing blob (window, all, archive), the packed copy
    of a complete whole history, an upload's extraction, a bundle."""
    repo = RepoBuilder(tmp_path / "repo")
    repo.commit("Initial", files={"a.txt": lines(3), "lost.txt": "lost\n"}, when=day(1))
    repo.branch("old")
    repo.commit("Old work", files={"old.txt": lines(7)}, when=day(100), author=BOB)
    repo.checkout("main")
    repo.commit("Before the window", files={"a.txt": lines(4)}, when=day(200))
    repo.commit("In the window", files={"a.txt": lines(6)}, when=day(375))
    repo.tag("v0.2.0", when=day(376))
    repo.merge("old", "Merge branch 'old'", when=day(390), committer=BOB)
    repo.commit("After the merge", files={"c.txt": lines(5)}, when=day(395))
    source: Path = repo.path
    kind: Literal["path", "archive"] = "path"
    missing = 1
    if how in ("packed", "bundle"):
        missing = 0
    else:
        lost = repo.git("rev-parse", "HEAD:lost.txt").strip()
        (repo.path / ".git" / "objects" / lost[:2] / lost[2:]).unlink()
    if how == "archive":
        kind, source = "archive", tmp_path / "upload.tgz"
        with tarfile.open(source, "w:gz") as tf:
            tf.add(repo.path, arcname="repo")
    elif how == "bundle":
        kind, source = "archive", tmp_path / "repo.bundle"
        repo.git("bundle", "create", str(source), "--all")
    # The longest window (back to 1970) takes the whole history, by the packed copy if it can.
    longest = how in ("all", "packed")
    window_days = int(day(400).timestamp()) // 86400 if longest else 30
    seen: list[tuple[str, int]] = []
    workdir = tmp_path / "job"
    workdir.mkdir()
    result = scan_repository(
        source=source, kind=kind, workdir=workdir, now=day(400), window_days=window_days,
        allowed_roots=[tmp_path], progress=lambda stage, percent: seen.append((stage, percent)),
    )  # fmt: skip
    repository = result.facts["repository"]
    windowed = how in ("window", "archive")
    assert (repository["copied"], repository["missing_blobs"]) == (
        "window" if windowed else "all",
        missing,
    )
    assert result.facts["history"]["releases"]["release_tags_in_window"] == 1
    assert all(type(percent) is int and 0 <= percent <= 100 for _stage, percent in seen)
    percents = [percent for _stage, percent in seen]
    assert percents == sorted(percents), seen
    # The copy moves the bar from the start (0 %) toward the files stage (40 %).
    assert all(0 < percent < 40 for stage, percent in seen if stage == "copying"), seen
    stages = [stage for n, (stage, _p) in enumerate(seen) if n == 0 or seen[n - 1][0] != stage]
    extracting = ["extracting"] if how == "archive" else []
    assert stages == ["preparing", *extracting, "copying", "files", "history", "done"]


def test_a_repair_fetch_over_the_size_limit_is_refused_with_the_limit(tmp_path: Path) -> None:
    """The clone of the window fits; the parent it cut holds a large file, which the repair
    fetch brings (a commit with its tree): the fetch stops at the size limit and says so."""
    repo = RepoBuilder(tmp_path / "repo")
    repo.commit("Initial", files={"a.txt": "a\n"}, when=day(1))
    repo.commit("Big", files={"big.bin": os.urandom(1_500_000)}, when=day(200))
    repo.commit("In the window", files={"a.txt": "b\n"}, delete=("big.bin",), when=day(375))
    repo.commit("Later", files={"a.txt": "c\n"}, when=day(380))
    job = tmp_path / "job"
    job.mkdir()
    runner = GitRunner(job_root=job)
    try:
        with pytest.raises(ScanError) as caught:
            sanitising_clone(
                runner=runner, source=repo.path, dest=job / "repo.git",
                limits=Limits(max_repo_bytes=1024 * 1024), since=window_start(day(400), 30),
            )  # fmt: skip
    finally:
        runner.cleanup()
    assert str(caught.value) == (
        "The repository could not be copied: the repository is larger than the size limit of 1 MiB."
    )


def test_where_a_window_copy_starts_and_when_it_gives_way(
    tangled: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A window from the second day of 1970 on is still a window (only an earlier start reads
    the whole history); a window after the last commit copies HEAD alone; a history needing
    more repair rounds than allowed is copied whole."""

    def copy(name: str, since: int) -> tuple[bool, list[str]]:
        job = tmp_path / name
        job.mkdir()
        runner = GitRunner(job_root=job)
        try:
            windowed = sanitising_clone(
                runner=runner, source=tangled, dest=job / "repo.git", limits=Limits(), since=since
            )
            log = runner.run(["log", "--format=%s", "HEAD"], git_dir=job / "repo.git")
        finally:
            runner.cleanup()
        return windowed, log.decode().splitlines()

    assert copy("second-day", sources.WHOLE_HISTORY_BEFORE)[0] is True
    assert copy("first-day", sources.WHOLE_HISTORY_BEFORE - 1) == (False, ALL_SUBJECTS)
    assert copy("after-the-last", window_start(day(900), 30)) == (True, ["After the merge"])
    monkeypatch.setattr(sources, "MAX_WINDOW_ROUNDS", 1)
    assert copy("one-round", window_start(day(400), 30)) == (False, ALL_SUBJECTS)


def test_a_window_without_commits_copies_head_for_the_files(tangled: Path, tmp_path: Path) -> None:
    workdir = tmp_path / "job"
    workdir.mkdir()
    result = scan_repository(
        source=tangled, kind="path", workdir=workdir, now=day(900), window_days=30,
        allowed_roots=[tangled.parent],
    )  # fmt: skip
    assert result.facts["history"]["commits"] == 0
    assert result.facts["repository"]["copied"] == "window"
    assert result.facts["repository"]["shallow"] is False  # the source is complete
    assert result.partial is False
    assert result.facts["files"]  # the file detectors read HEAD


def test_a_long_window_reads_the_whole_history(tangled: Path, tmp_path: Path) -> None:
    """`--since=@N` with fewer than nine digits is not read as a timestamp by git: a window
    reaching back to 1970-1973 once read zero commits."""
    now = day(400)
    longest = int(now.timestamp()) // 86400
    workdir = tmp_path / "job"
    workdir.mkdir()
    for window_days in (longest, longest - 1000, 19_700):
        assert window_start(now, window_days) < 100_000_000  # eight digits at most
        result = scan_repository(
            source=tangled, kind="path", workdir=workdir, now=now, window_days=window_days,
            allowed_roots=[tangled.parent],
        )  # fmt: skip
        assert result.facts["history"]["commits"] == 7
        # The longest window reads everything: a plain clone is the cheaper copy then.
        expected = "all" if window_days == longest else "window"
        assert result.facts["repository"]["copied"] == expected


@pytest.mark.parametrize("window_days", [0, -5, 30_000, 10**9])
def test_an_impossible_window_is_refused_clearly(
    tangled: Path, tmp_path: Path, window_days: int
) -> None:
    workdir = tmp_path / "job"
    workdir.mkdir()
    with pytest.raises(ScanError, match=r"between 1 and 20,854 days .* before 1970"):
        scan_repository(
            source=tangled, kind="path", workdir=workdir, now=day(400), window_days=window_days,
            allowed_roots=[tangled.parent],
        )  # fmt: skip
    assert list(workdir.iterdir()) == []


def test_git_reads_every_timestamp_as_one() -> None:
    assert git_date(0) == "@0 +0000"
    assert git_date(12_345) == "@12345 +0000"
    with pytest.raises(ValueError):
        git_date(-1)


def test_the_repair_fetches_run_nothing_from_a_hostile_source(tmp_path: Path) -> None:
    """The fetches after the clone go through upload-pack too: the source's hooks, config
    programs and attributes stay inert (the lab's traps, on a history the window cuts)."""
    markers = tmp_path / "markers"
    markers.mkdir()
    repo = RepoBuilder(tmp_path / "repo")
    repo.commit("Old", files={"a.txt": lines(5), ".gitattributes": "* diff=evil\n"}, when=day(1))
    repo.tag("v1.0.0", when=day(1))
    repo.branch("old")
    repo.commit("Old branch", files={"o.txt": lines(2)}, when=day(2))
    repo.checkout("main")
    repo.commit("Recent", files={"a.txt": lines(6)}, when=day(60))
    repo.tag("v1.1.0", when=day(60))
    repo.merge("old", "Merge branch 'old'", when=day(61))
    git_dir = repo.path / ".git"

    def trap(path: Path, name: str) -> str:
        path.write_text(f'#!/bin/sh\ntouch "{markers}/{name}"\nexit 0\n')
        path.chmod(0o755)
        return str(path)

    for hook in ("pre-upload-pack", "post-upload-pack", "reference-transaction", "post-checkout"):
        trap(git_dir / "hooks" / hook, f"hook-{hook}")
    programs = {
        "core.fsmonitor": "fsmonitor", "uploadpack.packObjectsHook": "pack-hook",
        "core.alternateRefsCommand": "alternate-refs", "diff.evil.textconv": "textconv",
        "diff.external": "external", "gpg.program": "gpg", "core.pager": "pager",
    }  # fmt: skip
    for key, name in programs.items():
        repo.git("config", key, trap(tmp_path / name, f"config-{name}"))
    repo.git("config", "log.showSignature", "true")
    workdir = tmp_path / "job"
    workdir.mkdir()
    result = scan_repository(
        source=repo.path, kind="path", workdir=workdir, now=day(70), window_days=30,
        allowed_roots=[tmp_path],
    )  # fmt: skip
    assert sorted(m.name for m in markers.iterdir()) == []
    history = result.facts["history"]
    assert (history["commits"], history["releases"]["release_tags_in_window"]) == (2, 1)
    assert result.facts["repository"]["copied"] == "window"
    assert list(workdir.iterdir()) == []
