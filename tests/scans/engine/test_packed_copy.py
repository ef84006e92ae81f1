"""The whole-history copy written by pack-objects (`sources.packed_copy`) against the clone.

The packed copy skips the clone's index-pack, so it must hold exactly what the clone through
upload-pack holds (the branch, the tags on its history, nothing else), and what upload-pack
guarantees about the source must still hold: its replace refs rewrite nothing, and a source
that lacks objects is never fetched from.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import struct
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

import pytest

from assessments.scans.engine import Limits, ScanError, scan_repository
from assessments.scans.engine.gitrunner import GitRunner
from assessments.scans.engine.sources import (
    _clone,
    packed_copy,
    prepare_bare_copy,
    sanitising_clone,
)
from tests.scans.engine.gitbuild import BOB, RepoBuilder, day, git_env


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

    def one_layer(self: GitRunner, **kwargs: object) -> dict[str, str]:
        env = build_env(self, **kwargs)  # type: ignore[arg-type]
        if kwargs.get("copy_objects") and layer == "no lazy fetch alone":
            env["GIT_ALLOW_PROTOCOL"] = "https"
        if kwargs.get("copy_objects") and layer == "no transport alone":
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
    repo.commit("big", files={"blob.bin": os.urandom(1_500_000)}, when=day(1))
    workdir = tmp_path / "job"
    workdir.mkdir()
    caplog.set_level(logging.DEBUG, logger="assessments.scans.engine.gitrunner")
    refused = "^The repository could not be copied: the repository is larger than the size limit of 1 MiB.$"
    with pytest.raises(ScanError, match=refused):
        scan_repository(
            source=repo.path, kind="path", workdir=workdir, now=day(30),
            window_days=int(day(30).timestamp()) // 86400, allowed_roots=[tmp_path],
            limits=Limits(max_repo_bytes=1024 * 1024),
        )  # fmt: skip
    assert list(workdir.iterdir()) == []
    assert "pack-objects" in caplog.text
    assert " clone " not in caplog.text


def _tree_state(root: Path) -> dict[str, tuple[int, bytes]]:
    """Every entry under `root` with its mode and contents (a link's target), to compare."""
    state = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        if path.is_symlink():
            body = os.readlink(path).encode()
        elif path.is_file():
            body = path.read_bytes()
        else:
            body = b""
        state[str(path.relative_to(root))] = (info.st_mode, body)
    return state


@pytest.mark.parametrize("outcome", ["copied", "over the size limit"])
def test_the_packed_copy_writes_nothing_into_the_source(tmp_path: Path, outcome: str) -> None:
    """pack-objects puts its temporary files in the object folder it writes to: that must be
    the copy's, never the source's (a scan must not change a server's repository, and a
    failed one must not leave a partial pack behind in it)."""
    repo = RepoBuilder(tmp_path / "repo")
    repo.commit("Initial", files={"app.py": "print('hi')\n"}, when=day(1))
    repo.commit("Data", files={"data.bin": os.urandom(300_000)}, when=day(2))
    repo.git("gc", "-q")
    before = _tree_state(repo.path)
    limit = 100_000 if outcome == "over the size limit" else Limits().max_repo_bytes
    runner = GitRunner(job_root=tmp_path)
    try:
        if outcome == "copied":
            assert packed_copy(
                runner=runner, source=repo.path, dest=tmp_path / "c.git", limits=Limits()
            )
        else:
            with pytest.raises(ScanError, match="larger than"):
                packed_copy(
                    runner=runner, source=repo.path, dest=tmp_path / "c.git",
                    limits=Limits(max_repo_bytes=limit),
                )  # fmt: skip
    finally:
        runner.cleanup()
    assert _tree_state(repo.path) == before


@pytest.mark.skipif(
    not Path("/dev/shm").is_dir() or os.stat("/dev/shm").st_dev == os.stat("/tmp").st_dev,
    reason="needs a second file system (/dev/shm) beside the test's temporary folder",
)
def test_a_source_on_another_file_system_is_copied_the_fast_way(tmp_path: Path) -> None:
    """With the temporary pack in the source, the final rename into the copy failed across
    file systems: every such scan left a pack in the source and cloned anyway."""
    with tempfile.TemporaryDirectory(dir="/dev/shm") as elsewhere:
        repo = RepoBuilder(Path(elsewhere) / "repo")
        repo.commit("Initial", files={"app.py": "print('hi')\n"}, when=day(1))
        before = _tree_state(repo.path)
        runner = GitRunner(job_root=tmp_path)
        try:
            assert packed_copy(
                runner=runner, source=repo.path, dest=tmp_path / "c.git", limits=Limits()
            )
        finally:
            runner.cleanup()
        assert _tree_state(repo.path) == before


def _multi_pack_index(path: Path, pack_name: str, oid: str, offset: int) -> None:
    """A one-object multi-pack-index naming `pack_name` (any text: git 2.39 does not check it)."""
    name = pack_name.encode() + b"\0"
    name += b"\0" * (-len(name) % 4)
    raw = bytes.fromhex(oid)
    fanout = b"".join(struct.pack(">I", 1 if i >= raw[0] else 0) for i in range(256))
    chunks = [
        (b"PNAM", name),
        (b"OIDF", fanout),
        (b"OIDL", raw),
        (b"OOFF", struct.pack(">II", 0, offset)),
    ]
    header = b"MIDX" + bytes([1, 1, len(chunks), 0]) + struct.pack(">I", 1)
    position = len(header) + 12 * (len(chunks) + 1)
    table, body = b"", b""
    for chunk_id, data in chunks:
        table += chunk_id + struct.pack(">Q", position)
        position += len(data)
        body += data
    table += b"\0\0\0\0" + struct.pack(">Q", position)
    data = header + table + body
    path.write_bytes(data + hashlib.sha1(data).digest())


def _pack_of(repo: RepoBuilder, oid: str) -> tuple[Path, int]:
    """(the .idx holding `oid`, its offset in the pack)."""
    for idx in (repo.path / ".git" / "objects" / "pack").glob("*.idx"):
        for line in repo.git("show-index", input=idx.read_bytes()).splitlines():
            offset, sha = line.split()[:2]
            if sha == oid:
                return idx, int(offset)
    raise AssertionError(f"{oid} is in no pack")


@pytest.mark.parametrize("window", ["whole history", "default window"])
def test_a_crafted_multi_pack_index_reads_nothing_from_another_repository(
    tmp_path: Path, window: str
) -> None:
    """A source whose multi-pack-index names another repository's pack ("../" in the name)
    and whose tree names a blob of that repository: the copy must not contain it."""
    victim = RepoBuilder(tmp_path / "victim")
    victim.commit("Key", files={"key": "PRIVATE-KEY-OF-VICTIM\n"}, when=day(1))
    victim.git("gc", "-q")
    blob = victim.git("rev-parse", "HEAD:key").strip()
    idx, offset = _pack_of(victim, blob)
    attacker = RepoBuilder(tmp_path / "attacker")
    attacker.commit("Initial", files={"app.py": "print('hi')\n"}, when=day(20))
    attacker.git("update-index", "--add", "--info-only", "--cacheinfo", f"100644,{blob},key")
    tree = attacker.git("write-tree", "--missing-ok").strip()
    stamp = {"GIT_AUTHOR_NAME": "A", "GIT_AUTHOR_EMAIL": "a@example.com"}
    stamp |= {"GIT_COMMITTER_NAME": "A", "GIT_COMMITTER_EMAIL": "a@example.com"}
    stamp |= {"GIT_AUTHOR_DATE": "@1769860800 +0000", "GIT_COMMITTER_DATE": "@1769860800 +0000"}
    commit = attacker.git("commit-tree", tree, "-p", "HEAD", "-m", "Borrow", env=stamp).strip()
    attacker.git("update-ref", "refs/heads/main", commit)
    packs = attacker.path / ".git" / "objects" / "pack"
    packs.mkdir(exist_ok=True)
    _multi_pack_index(packs / "multi-pack-index", "../" * 40 + str(idx).lstrip("/"), blob, offset)
    job = tmp_path / "job"
    job.mkdir()
    runner = GitRunner(job_root=job)
    try:
        copy = prepare_bare_copy(
            source=attacker.path, kind="path", runner=runner, workdir=job, limits=Limits(),
            allowed_roots=(attacker.path,),
            since=None if window == "whole history" else int(day(0).timestamp()),
        )  # fmt: skip
        contents = runner.run(["cat-file", "--batch-all-objects", "--batch"], git_dir=copy.path)
    finally:
        runner.cleanup()
    assert b"PRIVATE-KEY-OF-VICTIM" not in contents
    assert copy.missing_blobs == 1  # the borrowed file is marked missing, not read


def _swap_bitmap_entries(bitmap: Path, first: int, second: int) -> None:
    """Swap which commits two entries of a pack bitmap (format version 1) say they describe."""
    data = bytearray(bitmap.read_bytes())
    assert data[:4] == b"BITM"
    count = struct.unpack(">I", data[8:12])[0]
    position = 12 + 20

    def skip_ewah(at: int) -> int:
        words = struct.unpack(">I", data[at + 4 : at + 8])[0]
        return at + 8 + words * 8 + 4

    for _ in range(4):  # the type bitmaps: commits, trees, blobs, tags
        position = skip_ewah(position)
    entries = {}
    for _ in range(count):
        entries[struct.unpack(">I", data[position : position + 4])[0]] = position
        position = skip_ewah(position + 6)
    a, b = entries[first], entries[second]
    data[a : a + 4], data[b : b + 4] = data[b : b + 4], data[a : a + 4]
    bitmap.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["packed copy", "clone"])
def test_a_crafted_bitmap_sends_nothing_the_branch_does_not_reach(tmp_path: Path, how: str) -> None:
    """A pack bitmap that says the branch reaches another branch's objects: pack-objects
    trusting it would put that branch (a secret, say) into the copy."""
    repo = RepoBuilder(tmp_path / "repo")
    repo.commit("Initial", files={"app.py": "print('hi')\n"}, when=day(1))
    repo.branch("secret")
    repo.commit("Secret", files={"secret.txt": "SECRET-BRANCH\n"}, when=day(2))
    repo.checkout("main")
    repo.commit("Docs", files={"README.md": "x\n"}, when=day(3))
    repo.git("repack", "-a", "-d", "-q", "--write-bitmap-index")
    (bitmap,) = (repo.path / ".git" / "objects" / "pack").glob("*.bitmap")
    (idx,) = bitmap.parent.glob("*.idx")
    names = sorted(
        line.split()[1] for line in repo.git("show-index", input=idx.read_bytes()).splitlines()
    )
    main, secret = repo.git("rev-parse", "main").strip(), repo.git("rev-parse", "secret").strip()
    _swap_bitmap_entries(bitmap, names.index(main), names.index(secret))
    runner = GitRunner(job_root=tmp_path)
    dest = tmp_path / "copy.git"
    try:
        if how == "packed copy":
            assert packed_copy(runner=runner, source=repo.path, dest=dest, limits=Limits())
        else:
            _clone(runner=runner, source=repo.path, dest=dest, limits=Limits())
        contents = runner.run(["cat-file", "--batch-all-objects", "--batch"], git_dir=dest)
    finally:
        runner.cleanup()
    assert b"SECRET-BRANCH" not in contents
    assert secret.encode() not in contents


def test_a_shallow_list_behind_a_symbolic_link_still_makes_a_shallow_copy(tmp_path: Path) -> None:
    """A depth-1 clone whose `shallow` file is a link to a file inside the repository: the
    copy must still know it is shallow (the packed copy would lack the cut parents)."""
    origin = RepoBuilder(tmp_path / "origin")
    origin.commit("One", files={"a.txt": "1\n"}, when=day(1))
    origin.commit("Two", files={"a.txt": "2\n"}, when=day(2))
    shallow = tmp_path / "shallow"
    subprocess.run(
        ["/usr/bin/git", "clone", "-q", "--depth=1", f"file://{origin.path}", str(shallow)],
        check=True, env=git_env(tmp_path), capture_output=True,
    )  # fmt: skip
    listing = shallow / ".git" / "shallow"
    listing.rename(shallow / ".git" / "cut-commits")
    listing.symlink_to("cut-commits")
    workdir = tmp_path / "job"
    workdir.mkdir()
    result = scan_repository(
        source=shallow, kind="path", workdir=workdir, now=day(30),
        window_days=int(day(30).timestamp()) // 86400, allowed_roots=[shallow],
    )  # fmt: skip
    assert result.facts["history"]["commits"] == 1
    assert result.partial is True


@pytest.mark.parametrize(
    "unusual",
    [
        "objects is a link", "pack is a link", "shallow", "grafts", "promisor pack", "not ours",
        "detached HEAD",
    ],
)  # fmt: skip
def test_an_unusual_git_folder_is_left_to_the_clone(tmp_path: Path, unusual: str) -> None:
    """The packed copy reads the source only when its git folder and object folders are real
    folders of this user and nothing changes what a walk reaches; anything else goes to the
    clone (False), before any git runs in the source and before the copy is made."""
    repo = RepoBuilder(tmp_path / "repo")
    repo.commit("Initial", files={"app.py": "print('hi')\n"}, when=day(1))
    git_dir = repo.path / ".git"
    if unusual == "objects is a link":
        (git_dir / "objects").rename(git_dir / "objects-real")
        (git_dir / "objects").symlink_to("objects-real")
    elif unusual == "pack is a link":
        (git_dir / "objects" / "pack").rename(git_dir / "objects" / "pack-real")
        (git_dir / "objects" / "pack").symlink_to("pack-real")
    elif unusual == "shallow":
        (git_dir / "shallow").symlink_to("nowhere")  # even a link to nothing
    elif unusual == "grafts":
        (git_dir / "info").mkdir(exist_ok=True)
        (git_dir / "info" / "grafts").write_text("")
    elif unusual == "promisor pack":
        (git_dir / "objects" / "pack" / "pack-0.promisor").write_text("")
    elif unusual == "detached HEAD":
        repo.git("checkout", "-q", "--detach")
    else:
        if os.geteuid() != 0:
            pytest.skip("needs root to give a folder to another user")
        os.lchown(git_dir / "objects" / "pack", 65534, 65534)
    runner = GitRunner(job_root=tmp_path)
    try:
        assert not packed_copy(
            runner=runner, source=repo.path, dest=tmp_path / "c.git", limits=Limits()
        )
    finally:
        runner.cleanup()
    assert not (tmp_path / "c.git").exists()


def test_a_bare_source_is_copied_the_fast_way_and_a_broken_one_refused(tmp_path: Path) -> None:
    """A bare repository is a source like a work tree's `.git`; a git folder that passes the
    folder checks but that git cannot read stops the copy with the reason."""
    repo = RepoBuilder(tmp_path / "repo")
    repo.commit("Initial", files={"app.py": "print('hi')\n"}, when=day(1))
    bare = tmp_path / "bare.git"
    subprocess.run(
        ["/usr/bin/git", "clone", "-q", "--bare", str(repo.path), str(bare)],
        check=True, env=git_env(tmp_path), capture_output=True,
    )  # fmt: skip
    broken = tmp_path / "broken"
    (broken / ".git" / "objects" / "pack").mkdir(parents=True)
    runner = GitRunner(job_root=tmp_path)
    try:
        assert packed_copy(runner=runner, source=bare, dest=tmp_path / "c.git", limits=Limits())
        log = runner.run(["log", "--format=%s"], git_dir=tmp_path / "c.git")
        with pytest.raises(ScanError) as caught:
            packed_copy(runner=runner, source=broken, dest=tmp_path / "d.git", limits=Limits())
    finally:
        runner.cleanup()
    assert log == b"Initial\n"
    assert str(caught.value) == "The repository could not be copied: it is not a git repository."


def test_pack_objects_killed_by_the_size_limit_is_refused_with_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pack-objects stopped by the file-size limit (signal 25; 153 when a shell reports it) is
    the limit, said with its size, not a reason to try the clone after it."""
    from assessments.scans.engine.gitrunner import GitError

    repo = RepoBuilder(tmp_path / "repo")
    repo.commit("Initial", files={"app.py": "print('hi')\n"}, when=day(1))
    run = GitRunner.run

    def killed(self: GitRunner, args: list[str], **kwargs: Any) -> bytes:
        if args[0] == "pack-objects":
            raise GitError("pack-objects", returncode=153, stderr="")
        return run(self, args, **kwargs)

    monkeypatch.setattr(GitRunner, "run", killed)
    runner = GitRunner(job_root=tmp_path)
    try:
        with pytest.raises(ScanError) as caught:
            packed_copy(
                runner=runner, source=repo.path, dest=tmp_path / "c.git",
                limits=Limits(max_repo_bytes=2 * 1024 * 1024),
            )  # fmt: skip
    finally:
        runner.cleanup()
    assert str(caught.value) == (
        "The repository could not be copied: the repository is larger than the size limit of 2 MiB."
    )


def test_a_git_folder_swapped_during_the_copy_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The checks (ownership, plain folders) pass on the source, then its .git is replaced by
    a link to another repository before pack-objects opens it: the copy is refused."""
    other = RepoBuilder(tmp_path / "other")
    other.commit("Other", files={"private.txt": "OTHER-REPOSITORY\n"}, when=day(1))
    repo = RepoBuilder(tmp_path / "repo")
    repo.commit("Initial", files={"app.py": "print('hi')\n"}, when=day(1))
    run = GitRunner.run

    def swap_after_listing(self: GitRunner, args: list[str], **kwargs: Any) -> bytes:
        out = run(self, args, **kwargs)
        if args[0] == "ls-remote":
            (repo.path / ".git").rename(tmp_path / "moved.git")
            (repo.path / ".git").symlink_to(other.path / ".git")
        return out

    monkeypatch.setattr(GitRunner, "run", swap_after_listing)
    (tmp_path / "job").mkdir()
    runner = GitRunner(job_root=tmp_path / "job")
    try:
        with pytest.raises(ScanError, match="replaced while it was being copied"):
            packed_copy(runner=runner, source=repo.path, dest=tmp_path / "c.git", limits=Limits())
    finally:
        runner.cleanup()


def test_a_repository_of_another_user_is_refused_with_the_reason(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to give a repository to another user")
    repo = RepoBuilder(tmp_path / "theirs")
    repo.commit("Initial", files={"app.py": "print('hi')\n"}, when=day(1))
    for path in [repo.path, *repo.path.rglob("*")]:
        os.lchown(path, 65534, 65534)
    workdir = tmp_path / "job"
    workdir.mkdir()
    refused = "^The repository could not be copied: the repository belongs to another user account"
    with pytest.raises(ScanError, match=refused):
        scan_repository(
            source=repo.path, kind="path", workdir=workdir, now=day(30),
            window_days=int(day(30).timestamp()) // 86400, allowed_roots=[repo.path],
        )  # fmt: skip


def test_the_command_reading_the_source_gets_no_transport_and_its_own_object_folders(
    tmp_path: Path,
) -> None:
    runner = GitRunner(job_root=tmp_path)
    try:
        env = runner.build_env(source_objects=tmp_path / "src", copy_objects=tmp_path / "copy")
        assert {key: env[key] for key in env if key not in runner.build_env()} == {
            "GIT_OBJECT_DIRECTORY": str(tmp_path / "copy"),
            "GIT_ALTERNATE_OBJECT_DIRECTORIES": str(tmp_path / "src"),
            "GIT_NO_LAZY_FETCH": "1",
            "GIT_NO_REPLACE_OBJECTS": "1",
        }
        assert env["GIT_ALLOW_PROTOCOL"] == "none"
        with pytest.raises(ValueError, match="^reading the source needs both object folders$"):
            runner.build_env(copy_objects=tmp_path / "copy")
        for refused in (
            {"git_dir": tmp_path, "allow_file": True},  # a transport
            {"git_dir": None},  # no source named
        ):
            with pytest.raises(ValueError, match="names it and never gets a transport"):
                runner.run(["count-objects"], copy_objects=tmp_path / "copy", **refused)  # type: ignore[arg-type]
    finally:
        runner.cleanup()
