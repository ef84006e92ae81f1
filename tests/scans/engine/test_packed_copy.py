"""The whole-history copy written by pack-objects (`sources.packed_copy`) against the clone.

The packed copy skips the clone's index-pack, so it must hold exactly what the clone through
upload-pack holds (the branch, the tags on its history, nothing else), and what upload-pack
guarantees about the source must still hold: its replace refs rewrite nothing, and a source
that lacks objects is never fetched from.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from pathlib import Path

import pytest

from assessments.scans.engine import Limits, ScanError, scan_repository
from assessments.scans.engine.gitrunner import GitRunner
from assessments.scans.engine.sources import _clone, packed_copy, sanitising_clone
from tests.scans.engine.gitbuild import BOB, RepoBuilder, day


def _everything(runner: GitRunner, git_dir: Path) -> dict[str, object]:
    """What a reader of the copy can see: refs, HEAD, every object, the history's numstat."""

    def run(*args: str) -> str:
        return runner.run(list(args), git_dir=git_dir).decode()

    return {
        "refs": run("for-each-ref", "--format=%(objectname) %(refname)"),
        "head": run("symbolic-ref", "HEAD"),
        "objects": sorted(
            run("cat-file", "--batch-all-objects", "--batch-check=%(objectname)").split()
        ),
        "history": run("log", "--numstat", "--format=%H %P %s", "HEAD"),
    }


@pytest.fixture(scope="module")
def busy(tmp_path_factory: pytest.TempPathFactory) -> RepoBuilder:
    """A branch with merges and tags, beside refs a clone of the branch never takes."""
    repo = RepoBuilder(tmp_path_factory.mktemp("busy") / "repo", branch="trunk")
    repo.commit("Initial", files={"app.py": "print('hi')\n", "README.md": "x\n"}, when=day(1))
    repo.tag("v1.0", when=day(1))
    repo.branch("feature")
    repo.commit("Feature", files={"feature.py": "x = 1\n"}, when=day(2), author=BOB)
    repo.checkout("trunk")
    repo.commit("Fix", files={"app.py": "print('hello')\n"}, when=day(3))
    repo.merge("feature", "Merge feature", when=day(4))
    repo.tag("light", when=day(4), annotated=False)
    # Another branch, with a tag of each kind on it: none of it is the scanned branch's.
    repo.branch("experiment")
    repo.commit("Experiment", files={"secret.txt": "EXPERIMENT\n"}, when=day(5))
    repo.tag("exp-annotated", when=day(5))
    repo.tag("exp-light", when=day(5), annotated=False)
    repo.checkout("trunk")
    repo.git("update-ref", "refs/remotes/origin/old", "experiment")
    repo.git("update-ref", "refs/original/refs/heads/trunk", "experiment")
    who = {"GIT_AUTHOR_NAME": "A", "GIT_AUTHOR_EMAIL": "a@example.com"}
    repo.git(
        "notes",
        "add",
        "-m",
        "a note",
        "HEAD",
        env=who | {"GIT_COMMITTER_NAME": "A", "GIT_COMMITTER_EMAIL": "a@example.com"},
    )
    repo.commit("Docs", files={"README.md": "Run `make test`.\n"}, when=day(6))
    return repo


def test_the_packed_copy_holds_what_the_clone_holds_and_nothing_more(
    busy: RepoBuilder, tmp_path: Path
) -> None:
    runner = GitRunner(job_root=tmp_path)
    try:
        assert packed_copy(
            runner=runner, source=busy.path, dest=tmp_path / "packed.git", limits=Limits()
        )
        _clone(runner=runner, source=busy.path, dest=tmp_path / "cloned.git", limits=Limits())
        packed = _everything(runner, tmp_path / "packed.git")
        cloned = _everything(runner, tmp_path / "cloned.git")
    finally:
        runner.cleanup()
    assert packed == cloned
    refs = str(packed["refs"])
    assert "refs/heads/trunk" in refs and "refs/tags/v1.0" in refs and "refs/tags/light" in refs
    for elsewhere in ("experiment", "exp-", "refs/remotes", "refs/original", "refs/notes"):
        assert elsewhere not in refs
    assert packed["head"] == "refs/heads/trunk\n"
    experiment = busy.git("rev-parse", "experiment").strip()
    assert experiment not in packed["objects"]  # type: ignore[operator]


def test_the_whole_history_copy_goes_through_the_packed_copy(
    busy: RepoBuilder, tmp_path: Path
) -> None:
    """`sanitising_clone` without a window takes the packed copy: its copy has no origin
    (a clone's would), and says it is not limited to a window."""
    runner = GitRunner(job_root=tmp_path)
    try:
        windowed = sanitising_clone(
            runner=runner, source=busy.path, dest=tmp_path / "copy.git", limits=Limits()
        )
        config = runner.run(["config", "--list", "--local"], git_dir=tmp_path / "copy.git")
    finally:
        runner.cleanup()
    assert windowed is False
    assert b"remote.origin.url" not in config


def test_replace_refs_in_the_source_rewrite_nothing_in_the_copy(
    tmp_path: Path,
) -> None:
    """`git replace` makes git read one object for another; upload-pack ignores replace refs
    and so must the packed copy, or the copy's history would be the replacement's."""
    repo = RepoBuilder(tmp_path / "repo")
    repo.commit("Initial", files={"app.py": "v1\n"}, when=day(1))
    real = repo.commit("Real change", files={"app.py": "v2\n"}, when=day(2))
    repo.commit("Later", files={"app.py": "v3\n"}, when=day(3))
    repo.checkout(real)
    fake = repo.commit("FAKE history", files={"fake.txt": "REPLACED\n"}, when=day(2))
    repo.checkout("main")
    repo.git("replace", real, fake)
    assert "FAKE history" in repo.git("log", "--format=%s")  # git in the source does replace
    runner = GitRunner(job_root=tmp_path)
    try:
        assert packed_copy(
            runner=runner, source=repo.path, dest=tmp_path / "copy.git", limits=Limits()
        )
        seen = _everything(runner, tmp_path / "copy.git")
    finally:
        runner.cleanup()
    assert "Real change" in str(seen["history"])
    assert "FAKE" not in str(seen["history"])
    assert fake not in seen["objects"]  # type: ignore[operator]


@pytest.fixture
def listener() -> tuple[int, list[bool]]:
    """A TCP port that records whether anything connected to it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.settimeout(0.2)
    connected: list[bool] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            connected.append(True)
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], connected  # type: ignore[misc]
    stop.set()
    thread.join()
    server.close()


@pytest.mark.parametrize("layer", ["both", "no lazy fetch alone", "no transport alone"])
def test_a_source_lacking_objects_is_never_fetched_from_its_promisor_remote(
    tmp_path: Path,
    listener: tuple[int, list[bool]],
    layer: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A source that says it is a partial clone of some server (its own config names the
    server) and lacks a file's contents: git would fetch the contents from that server when
    they are needed. The scan must read what is there, mark the missing contents, and never
    connect anywhere. Two settings guard the pack-objects that reads the source (no lazy
    fetch, no transport); each must hold with the other switched off."""
    port, connected = listener
    build_env = GitRunner.build_env

    def one_layer(self: GitRunner, **kwargs: bool) -> dict[str, str]:
        env = build_env(self, **kwargs)  # type: ignore[arg-type]
        if kwargs.get("in_source") and layer == "no lazy fetch alone":
            env["GIT_ALLOW_PROTOCOL"] = "https"
        if kwargs.get("in_source") and layer == "no transport alone":
            del env["GIT_NO_LAZY_FETCH"]
        return env

    monkeypatch.setattr(GitRunner, "build_env", one_layer)
    repo = RepoBuilder(tmp_path / "repo")
    repo.commit("Initial", files={"app.py": "print('hi')\n"}, when=day(1))
    repo.commit("Add notes", files={"notes.txt": "lost contents\n"}, when=day(2))
    lost = repo.git("rev-parse", "HEAD:notes.txt").strip()
    (repo.path / ".git" / "objects" / lost[:2] / lost[2:]).unlink()
    repo.git("config", "core.repositoryformatversion", "1")
    repo.git("config", "extensions.partialclone", "origin")
    repo.git("config", "remote.origin.url", f"https://127.0.0.1:{port}/acme/app.git")
    repo.git("config", "remote.origin.promisor", "true")
    workdir = tmp_path / "job"
    workdir.mkdir()
    result = scan_repository(
        source=repo.path,
        kind="path",
        workdir=workdir,
        now=day(30),
        window_days=int(day(30).timestamp()) // 86400,  # back to 1970: the packed copy
        allowed_roots=[repo.path.parent],
    )
    assert connected == []
    assert result.facts["history"]["commits"] == 2
    assert result.facts["repository"]["missing_blobs"] == 1
    assert result.facts["repository"]["missing_at_head"] == ["notes.txt"]


def test_a_whole_history_over_the_size_limit_is_refused_once_and_leaves_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The size limit stops the packed copy with the limit's message; the clone is not tried
    again (it would only hit the same limit after the same work)."""
    repo = RepoBuilder(tmp_path / "big")
    repo.commit("big", files={"blob.bin": os.urandom(600_000)}, when=day(1))
    workdir = tmp_path / "job"
    workdir.mkdir()
    caplog.set_level(logging.DEBUG, logger="assessments.scans.engine.gitrunner")
    with pytest.raises(ScanError, match="larger than"):
        scan_repository(
            source=repo.path, kind="path", workdir=workdir, now=day(30),
            window_days=int(day(30).timestamp()) // 86400, allowed_roots=[tmp_path],
            limits=Limits(max_repo_bytes=200_000),
        )  # fmt: skip
    assert list(workdir.iterdir()) == []
    assert "pack-objects" in caplog.text
    assert " clone " not in caplog.text
