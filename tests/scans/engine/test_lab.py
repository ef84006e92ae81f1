"""The safety lab (docs/SECURITY.md): hostile repositories, slow servers, tokens and limits.

Each test builds a real repository or server and checks that nothing the repository
configures runs, nothing leaks, and nothing is left behind.
"""

from __future__ import annotations

import logging
import os
import subprocess
import tarfile
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from assessments.scans.engine import Limits, ScanCancelled, ScanError, ScanTimeout, scan_repository
from assessments.scans.engine import sources as sources_module
from assessments.scans.engine.gitrunner import GitRunner
from assessments.scans.engine.sources import clone_remote, prepare_bare_copy
from assessments.scans.engine.urls import RemoteTarget
from tests.scans.engine.gitbuild import RepoBuilder, day, git_env, processes_left, processes_with

TOKEN = "ghp_LabToken0123456789abcdefSECRET"

HOOKS = (
    "applypatch-msg", "pre-applypatch", "post-applypatch", "pre-commit", "prepare-commit-msg",
    "commit-msg", "post-commit", "pre-rebase", "post-checkout", "post-merge", "pre-push",
    "pre-receive", "update", "post-receive", "post-update", "push-to-checkout", "pre-auto-gc",
    "post-rewrite", "reference-transaction", "post-index-change", "fsmonitor-watchman",
    "proc-receive", "sendemail-validate", "p4-pre-submit",
)  # fmt: skip
CONFIG_PROGRAMS = (
    ("core", "fsmonitor"), ("core", "pager"), ("core", "editor"), ("core", "sshCommand"),
    ("core", "askPass"), ("core", "alternateRefsCommand"), ("diff", "external"),
    ("sequence", "editor"), ("gpg", "program"), ("uploadpack", "packObjectsHook"),
    ("credential", "helper"), ("pager", "log"), ("core", "gitProxy"),
)  # fmt: skip


@dataclass(frozen=True)
class Hostile:
    repo: Path
    markers: Path
    bundle: Path


def _script(path: Path, markers: Path, name: str) -> None:
    path.write_text(f'#!/bin/sh\ntouch "{markers}/{name}"\nexit 0\n')
    path.chmod(0o755)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hostile]:
    """A repository whose config, attributes and hooks run marker scripts."""
    base = tmp_path_factory.mktemp("hostile")
    markers = base / "markers"
    markers.mkdir()
    bin_dir = base / "bin"
    bin_dir.mkdir()
    repo = RepoBuilder(base / "repo")
    repo.commit(
        "Initial",
        files={
            "app.py": "print('hi')\n" * 20,
            ".gitattributes": "* diff=evil filter=evil merge=evil\n",
        },
        when=day(1),
    )
    repo.commit("Second", files={"app.py": "print('bye')\n" * 20}, when=day(2))
    # A commit carrying a signature header, so a signature program would run if allowed.
    tree = repo.git("rev-parse", "HEAD^{tree}").strip()
    parent = repo.head()
    signed = (
        f"tree {tree}\nparent {parent}\nauthor A <a@example.com> 1767355200 +0000\n"
        "committer A <a@example.com> 1767355200 +0000\n"
        "gpgsig -----BEGIN PGP SIGNATURE-----\n \n iQEzBAABCAAdFiEE\n -----END PGP SIGNATURE-----\n\nSigned\n"
    )
    sha = repo.git("hash-object", "-t", "commit", "-w", "--stdin", input=signed.encode()).strip()
    repo.git("update-ref", "refs/heads/main", sha)
    bundle = base / "repo.bundle"
    repo.git("bundle", "create", str(bundle), "--all")
    # Only now arm the traps (the set-up above must not trigger them).
    git_dir = repo.path / ".git"
    for hook in HOOKS:
        _script(git_dir / "hooks" / hook, markers, f"hook-{hook}")
    hooks_path = base / "hooks-elsewhere"
    hooks_path.mkdir()
    for hook in HOOKS:
        _script(hooks_path / hook, markers, f"hookspath-{hook}")
    config_lines = [f"[core]\n\thooksPath = {hooks_path}"]
    for section, key in CONFIG_PROGRAMS:
        _script(bin_dir / f"{section}-{key}", markers, f"config-{section}.{key}")
        config_lines.append(f"[{section}]\n\t{key} = {bin_dir / f'{section}-{key}'}")
    for kind in ("textconv", "command"):
        _script(bin_dir / f"diff-{kind}", markers, f"diff.evil.{kind}")
    for kind in ("smudge", "clean"):
        _script(bin_dir / f"filter-{kind}", markers, f"filter.evil.{kind}")
    _script(bin_dir / "merge-driver", markers, "merge.evil.driver")
    config_lines += [
        f'[diff "evil"]\n\ttextconv = {bin_dir / "diff-textconv"}\n\tcommand = {bin_dir / "diff-command"}',
        f'[filter "evil"]\n\tsmudge = {bin_dir / "filter-smudge"}\n\tclean = {bin_dir / "filter-clean"}',
        f'[merge "evil"]\n\tdriver = {bin_dir / "merge-driver"} %O %A %B',
        "[log]\n\tshowSignature = true",
        "[uploadpack]\n\tallowFilter = true",
    ]
    with open(git_dir / "config", "a") as handle:
        handle.write("\n".join(config_lines) + "\n")
    (git_dir / "info").mkdir(exist_ok=True)
    (git_dir / "info" / "attributes").write_text("* diff=evil filter=evil\n")
    yield Hostile(repo.path, markers, bundle)


def _clear(markers: Path) -> None:
    for marker in markers.iterdir():
        marker.unlink()


def test_the_traps_are_live_for_plain_git(hostile: Hostile, tmp_path: Path) -> None:
    """Positive control: ordinary git in the hostile repository does run its programs."""
    _clear(hostile.markers)
    env = git_env(tmp_path) | {"GIT_PAGER": "", "PAGER": ""}
    for args in (["log", "-p", "-1", "HEAD~1"], ["status"]):
        subprocess.run(
            ["/usr/bin/git", *args], cwd=hostile.repo, env=env, capture_output=True,
            stdin=subprocess.DEVNULL, timeout=30,
        )  # fmt: skip
    fired = {m.name for m in hostile.markers.iterdir()}
    assert {
        "config-core.fsmonitor",
        "diff.evil.textconv",
        "filter.evil.smudge",
        "hookspath-post-index-change",
    } <= fired
    _clear(hostile.markers)


def _tar_gz(source: Path, target: Path) -> Path:
    with tarfile.open(target, "w:gz") as tf:
        tf.add(source, arcname="repo")
    return target


def _zip(source: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for root, dirs, files in os.walk(source):
            for name in dirs + files:
                full = Path(root) / name
                zf.write(full, Path("repo") / full.relative_to(source))
    return target


@pytest.mark.parametrize("form", ["tar.gz", "zip", "path", "bundle"])
def test_a_hostile_repository_runs_nothing_during_a_full_scan(
    hostile: Hostile, tmp_path: Path, form: str
) -> None:
    _clear(hostile.markers)
    workdir = tmp_path / "job"
    workdir.mkdir()
    if form == "path":
        result = scan_repository(
            source=hostile.repo,
            kind="path",
            workdir=workdir,
            now=day(30),
            allowed_roots=[hostile.repo.parent],
        )
    else:
        if form == "tar.gz":
            upload = _tar_gz(hostile.repo, tmp_path / "upload.tgz")
        elif form == "zip":
            upload = _zip(hostile.repo, tmp_path / "upload.zip")
        else:
            upload = hostile.bundle
        result = scan_repository(source=upload, kind="archive", workdir=workdir, now=day(30))
    assert sorted(m.name for m in hostile.markers.iterdir()) == []
    assert result.facts["history"]["commits"] == 3
    assert result.finding("repo.setup-docs").status == "absent"
    assert list(workdir.iterdir()) == []  # the bare copy and the extracted upload are gone


def test_the_bare_copy_keeps_none_of_the_uploaded_config(hostile: Hostile, tmp_path: Path) -> None:
    _clear(hostile.markers)
    job = tmp_path / "job"
    job.mkdir()
    runner = GitRunner(job_root=job)
    copy = prepare_bare_copy(
        source=_tar_gz(hostile.repo, tmp_path / "u.tgz"),
        kind="archive",
        runner=runner,
        workdir=job,
        limits=Limits(),
    )
    config = runner.run(["config", "--list", "--local"], git_dir=copy.path).decode()
    keys = sorted({line.split("=", 1)[0] for line in config.splitlines()})
    # What `git init --bare` or a clone writes (a clone adds its origin), nothing uploaded.
    made_by_git = {
        "core.bare", "core.filemode", "core.logallrefupdates", "core.repositoryformatversion",
        "remote.origin.url",
    }  # fmt: skip
    assert {"core.bare", "core.repositoryformatversion"} <= set(keys) <= made_by_git
    assert not (job / "upload").exists()
    hooks = copy.path / "hooks"
    assert not hooks.exists() or list(hooks.iterdir()) == []
    assert not (copy.path / "info" / "attributes").exists()
    runner.cleanup()
    assert list(hostile.markers.iterdir()) == []


def test_uploads_borrowing_objects_from_elsewhere_are_refused(
    hostile: Hostile, tmp_path: Path
) -> None:
    tricked = tmp_path / "tricked"
    subprocess.run(["cp", "-a", str(hostile.repo), str(tricked)], check=True)
    (tricked / ".git" / "objects" / "info").mkdir(exist_ok=True)
    (tricked / ".git" / "objects" / "info" / "alternates").write_text("/srv/other/objects\n")
    workdir = tmp_path / "job"
    workdir.mkdir()
    with pytest.raises(ScanError, match="alternates"):
        scan_repository(
            source=_tar_gz(tricked, tmp_path / "t.tgz"),
            kind="archive",
            workdir=workdir,
            now=day(30),
        )
    assert list(workdir.iterdir()) == []


def test_the_one_repository_of_an_upload_is_found_down_to_four_folders_deep(
    tmp_path: Path,
) -> None:
    """`locate_repository` on folders alone: the shallowest repository wins, four folders
    below the upload at most, never through a link; two side by side, or a `.git` that is a
    link or a file, are refused with what to do instead."""
    from assessments.scans.engine.sources import locate_repository

    def upload(name: str, *repos: str) -> Path:
        base = tmp_path / name
        base.mkdir()
        for repo in repos:
            (base / repo / ".git").mkdir(parents=True)
        return base

    deep = upload("deep", "a/b/c/d")
    assert locate_repository(deep) == (deep / "a/b/c/d", deep / "a/b/c/d/.git")
    bare = upload("bare")
    for part in ("objects", "refs"):
        (bare / "x" / "y" / "r.git" / part).mkdir(parents=True)
    (bare / "x" / "y" / "r.git" / "HEAD").write_text("ref: refs/heads/main\n")
    assert locate_repository(bare) == (bare / "x/y/r.git", bare / "x/y/r.git")
    shallowest = upload("shallowest", "top", "z/below")
    assert locate_repository(shallowest) == (shallowest / "top", shallowest / "top/.git")
    nothing = "No git repository was found (expected a folder with .git, or a bare repository)."
    for base in (upload("too-deep", "a/b/c/d/e"), upload("empty")):
        with pytest.raises(ScanError) as caught:
            locate_repository(base)
        assert str(caught.value) == nothing
    linked = upload("linked")
    (linked / "repo").symlink_to(deep / "a/b/c/d")
    with pytest.raises(ScanError) as caught:
        locate_repository(linked)
    assert str(caught.value) == nothing
    with pytest.raises(ScanError) as caught:
        locate_repository(upload("two", "one", "two"))
    assert (
        str(caught.value) == "The upload contains more than one repository; upload one at a time."
    )
    link = upload("git-link", "elsewhere")
    (link / "repo").mkdir()
    (link / "repo" / ".git").symlink_to(link / "elsewhere" / ".git")
    with pytest.raises(ScanError) as caught:
        locate_repository(link / "repo")
    assert str(caught.value) == "The repository's .git is a symbolic link, which is not allowed."
    worktree = upload("worktree")
    (worktree / ".git").write_text("gitdir: /srv/main/.git/worktrees/x\n")
    with pytest.raises(ScanError) as caught:
        locate_repository(worktree)
    assert str(caught.value) == (
        "The repository's .git is a file pointing elsewhere (a worktree or submodule); scan "
        "the main repository instead."
    )


def test_a_local_path_must_itself_be_the_repository(tmp_path: Path) -> None:
    """`locate_repository_at`: a work tree with a real `.git` folder, or a bare repository;
    a `.git` that is a link or a file, or no repository at all, is refused with the reason."""
    from assessments.scans.engine.sources import locate_repository_at

    tree = tmp_path / "tree"
    (tree / ".git").mkdir(parents=True)
    assert locate_repository_at(tree) == (tree, tree / ".git")
    bare = tmp_path / "bare.git"
    for part in ("objects", "refs"):
        (bare / part).mkdir(parents=True)
    (bare / "HEAD").write_text("ref: refs/heads/main\n")
    assert locate_repository_at(bare) == (bare, bare)
    link = tmp_path / "link"
    link.mkdir()
    (link / ".git").symlink_to(tree / ".git")
    worktree = tmp_path / "worktree"
    worktree.mkdir()
    (worktree / ".git").write_text("gitdir: /srv/main/.git/worktrees/x\n")
    plain = tmp_path / "plain"
    plain.mkdir()
    for path, reason in (
        (link, "The repository's .git is a symbolic link, which is not allowed."),
        (
            worktree,
            "The repository's .git is a file pointing elsewhere (a worktree or submodule); "
            "scan the main repository instead.",
        ),
        (plain, "The path is not a git repository."),
    ):
        with pytest.raises(ScanError) as caught:
            locate_repository_at(path)
        assert str(caught.value) == reason


def test_a_git_folder_borrowing_from_elsewhere_is_refused_with_the_reason(tmp_path: Path) -> None:
    """`check_git_dir` on folders alone: both kinds of alternates, a linked worktree's git
    folder (`commondir`), and a link leading out of the upload are each refused."""
    from assessments.scans.engine.sources import check_git_dir

    borrowing = "The repository borrows objects from another repository (alternates), which is not supported."
    cases = {
        "objects/info/alternates": borrowing,
        "objects/info/http-alternates": borrowing,
        "commondir": "The repository is a linked worktree; scan the main repository instead.",
    }
    for relative, reason in cases.items():
        git_dir = tmp_path / relative.replace("/", "-") / ".git"
        (git_dir / relative).parent.mkdir(parents=True, exist_ok=True)
        (git_dir / relative).write_text("/srv/other\n")
        with pytest.raises(ScanError) as caught:
            check_git_dir(git_dir, git_dir.parent)
        assert str(caught.value) == reason
    clean = tmp_path / "clean" / ".git"
    (clean / "objects" / "info").mkdir(parents=True)
    (clean / "inside").symlink_to(clean / "objects")
    check_git_dir(clean, clean.parent)  # a link that stays inside is allowed
    (clean / "outside").symlink_to(tmp_path)
    with pytest.raises(ScanError) as caught:
        check_git_dir(clean, clean.parent)
    assert str(caught.value) == (
        "The repository contains a symbolic link leading outside it, which is not allowed."
    )


def test_a_local_path_that_is_not_a_folder_is_refused(tmp_path: Path) -> None:
    from assessments.scans.engine.sources import resolve_local_path

    (tmp_path / "file.txt").write_text("x\n")
    assert resolve_local_path(tmp_path, (tmp_path,)) == tmp_path
    with pytest.raises(ScanError) as caught:
        resolve_local_path(tmp_path / "file.txt", (tmp_path,))
    assert str(caught.value) == "The path is not a folder."


def test_local_paths_must_stay_inside_the_allowed_roots(hostile: Hostile, tmp_path: Path) -> None:
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    (allowed / "escape").symlink_to(hostile.repo)
    workdir = tmp_path / "job"
    workdir.mkdir()
    with pytest.raises(ScanError, match="outside the folders"):
        scan_repository(
            source=allowed / "escape",
            kind="path",
            workdir=workdir,
            now=day(30),
            allowed_roots=[allowed],
        )
    with pytest.raises(ScanError, match="outside the folders"):
        scan_repository(
            source=allowed / ".." / "..",
            kind="path",
            workdir=workdir,
            now=day(30),
            allowed_roots=[allowed],
        )
    with pytest.raises(ScanError) as caught:
        scan_repository(source=hostile.repo, kind="path", workdir=workdir, now=day(30))
    assert str(caught.value) == (
        "Scanning local paths is switched off: no allowed folders are configured."
    )
    inside = allowed / "repo"
    subprocess.run(["cp", "-a", str(hostile.repo), str(inside)], check=True)
    (inside / ".git" / "packed-refs-link").symlink_to("/etc/passwd")
    with pytest.raises(ScanError, match="symbolic link leading outside"):
        scan_repository(
            source=inside, kind="path", workdir=workdir, now=day(30), allowed_roots=[allowed]
        )
    assert list(workdir.iterdir()) == []


# -- network: a local stand-in that accepts connections and never answers (conftest) ------


def _target(port: int, host: str) -> RemoteTarget:
    return RemoteTarget(
        url=f"https://{host}:{port}/acme/app.git", host=host, port=port, addresses=("127.0.0.1",)
    )


def test_a_token_never_appears_in_the_process_list(silent_server: int, tmp_path: Path) -> None:
    host = "argv-probe.test.example"
    runner = GitRunner(job_root=tmp_path, deadline=time.monotonic() + 2.0)
    seen: list[tuple[bytes, bytes]] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            for pid in processes_with(host):
                try:
                    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
                    environ = Path(f"/proc/{pid}/environ").read_bytes()
                except OSError:
                    continue
                seen.append((cmdline, environ))
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with pytest.raises(ScanTimeout):
            clone_remote(
                runner=runner,
                target=_target(silent_server, host),
                dest=tmp_path / "r.git",
                limits=Limits(),
                token=TOKEN,
            )
    finally:
        done.set()
        watcher.join()
    assert seen, "the clone process was never observed"
    assert all(TOKEN.encode() not in cmdline for cmdline, _env in seen)
    assert all(b"x-access-token" not in cmdline for cmdline, _env in seen)
    # The header travels in the environment, which only the same user can read.
    assert any(b"GIT_CONFIG_VALUE_0=Authorization: Basic " in env for _cmd, env in seen)
    assert any(
        f"http.curloptResolve={host}:{silent_server}:127.0.0.1".encode() in cmd
        for cmd, _env in seen
    )
    assert processes_left(host) == []
    runner.cleanup()


def test_a_slow_server_hits_the_time_limit_and_leaves_nothing(
    silent_server: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    host = "slow.test.example"
    monkeypatch.setattr(
        sources_module, "resolve_remote", lambda url, **kw: _target(silent_server, host)
    )
    workdir = tmp_path / "job"
    workdir.mkdir()
    caplog.set_level(logging.DEBUG)
    started = time.monotonic()
    with pytest.raises(ScanTimeout) as caught:
        scan_repository(
            source=f"https://{host}/acme/app.git", kind="url", workdir=workdir, now=day(30),
            limits=Limits(timeout_seconds=1.5), token=TOKEN,
        )  # fmt: skip
    assert time.monotonic() - started < 10
    assert TOKEN not in str(caught.value)
    assert TOKEN not in caplog.text
    assert processes_left(host) == []
    assert list(workdir.iterdir()) == []


def test_cancel_stops_a_running_clone(
    silent_server: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = "cancel.test.example"
    monkeypatch.setattr(
        sources_module, "resolve_remote", lambda url, **kw: _target(silent_server, host)
    )
    workdir = tmp_path / "job"
    workdir.mkdir()
    stages: list[tuple[str, int]] = []
    started = time.monotonic()

    def progress(stage: str, percent: int) -> None:
        stages.append((stage, percent))
        if stage == "cloning" and time.monotonic() - started > 0.5:
            raise ScanCancelled("cancelled by the user")

    with pytest.raises(ScanCancelled):
        scan_repository(
            source=f"https://{host}/a.git",
            kind="url",
            workdir=workdir,
            now=day(30),
            progress=progress,
        )
    assert stages[0] == ("preparing", 0)
    assert processes_left(host) == []
    assert list(workdir.iterdir()) == []


def test_a_refused_connection_is_a_clear_error_without_the_token(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    workdir = tmp_path / "job"
    workdir.mkdir()
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ScanError) as caught:
        scan_repository(
            source="https://nothing-listens.test.example/a.git", kind="url", workdir=workdir, now=day(30),
            resolver=lambda h, p: ["127.0.0.1"], _allow_private_for_tests=True, token=TOKEN,
            limits=Limits(timeout_seconds=20),
        )  # fmt: skip
    message = str(caught.value)
    assert message.startswith("The repository could not be cloned")
    assert TOKEN not in message and TOKEN not in caplog.text
    assert list(workdir.iterdir()) == []


def test_the_clone_command_carries_no_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[dict[str, Any]] = []

    def record(self: GitRunner, args: list[str], **kwargs: Any) -> bytes:
        calls.append(
            {"argv": self.build_argv(args, extra_config=kwargs.get("extra_config", ())), **kwargs}
        )
        return b""

    monkeypatch.setattr(GitRunner, "run", record)
    runner = GitRunner(job_root=tmp_path)
    clone_remote(
        runner=runner, target=RemoteTarget("https://github.com/acme/app.git", "github.com", 443, ("140.82.121.4",)),
        dest=tmp_path / "r.git", limits=Limits(), token=TOKEN,
    )  # fmt: skip
    (call,) = calls
    argv = call["argv"]
    assert argv[-4:] == ["--", "https://github.com/acme/app.git", str(tmp_path / "r.git")][-3:] or argv[-3:] == [
        "--", "https://github.com/acme/app.git", str(tmp_path / "r.git")
    ]  # fmt: skip
    assert "http.curloptResolve=github.com:443:140.82.121.4" in argv
    assert not any(TOKEN in a for a in argv)
    header = call["secret_config"]["http.extraHeader"]
    assert header.startswith("Authorization: Basic ")
    assert runner.redact(header) == "Authorization: Basic ***"
    assert runner.redact(f"git said {TOKEN}") == "git said ***"  # the token itself too
    # Watched and limited like every copy, and reporting its progress.
    limit = Limits().max_repo_bytes
    assert (call["watch_dir"], call["max_dir_bytes"], call["fsize_limit"]) == (
        tmp_path / "r.git",
        limit,
        limit,
    )
    assert (call["stage"], type(call["percent"])) == ("cloning", int)


def test_the_scan_hands_the_token_to_the_clone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[dict[str, Any]] = []

    def record(self: GitRunner, args: list[str], **kwargs: Any) -> bytes:
        calls.append(kwargs)
        return b""

    monkeypatch.setattr(GitRunner, "run", record)
    monkeypatch.setattr(
        sources_module,
        "resolve_remote",
        lambda url, **kw: RemoteTarget(url, "github.com", 443, ("140.82.121.4",)),
    )
    runner = GitRunner(job_root=tmp_path)
    prepare_bare_copy(
        source="https://github.com/acme/app.git", kind="url", runner=runner,
        workdir=tmp_path, limits=Limits(), token=TOKEN,
    )  # fmt: skip
    (call,) = calls
    header = call["secret_config"]["http.extraHeader"]
    assert runner.redact(header) == "Authorization: Basic ***"


def test_a_remote_clone_over_the_size_limit_names_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assessments.scans.engine.gitrunner import GitError

    def killed(self: GitRunner, args: list[str], **kwargs: Any) -> bytes:
        raise GitError("clone", returncode=128, stderr="error: index-pack died of signal 25")

    monkeypatch.setattr(GitRunner, "run", killed)
    with pytest.raises(ScanError) as caught:
        clone_remote(
            runner=GitRunner(job_root=tmp_path), target=_target(443, "github.com"),
            dest=tmp_path / "r.git", limits=Limits(max_repo_bytes=3 * 1024 * 1024),
        )  # fmt: skip
    assert str(caught.value) == (
        "The repository could not be cloned: the repository is larger than the size limit of 3 MiB."
    )


def test_a_shallow_source_is_told_by_its_shallow_list() -> None:
    """git keeps a shallow repository's cut commits in `shallow`: an empty list is no cut (git
    itself reads it so), a list or a link to one is."""
    import tempfile

    from assessments.scans.engine.sources import is_shallow_source

    with tempfile.TemporaryDirectory() as folder:
        git_dir = Path(folder)
        assert is_shallow_source(git_dir) is False
        (git_dir / "shallow").write_text("")
        assert is_shallow_source(git_dir) is False
        (git_dir / "shallow").write_text("1" * 40 + "\n")
        assert is_shallow_source(git_dir) is True
        (git_dir / "shallow").rename(git_dir / "cut")
        (git_dir / "shallow").symlink_to("cut")
        assert is_shallow_source(git_dir) is True


def test_the_job_folder_and_the_upload_size_are_checked_first(
    hostile: Hostile, tmp_path: Path
) -> None:
    """A job folder already holding a copy is refused; an upload exactly at the size limit is
    accepted (the limit is the largest size allowed), one byte over is refused."""
    upload = _tar_gz(hostile.repo, tmp_path / "u.tgz")
    size = upload.stat().st_size
    job = tmp_path / "job"
    (job / "repo.git").mkdir(parents=True)
    runner = GitRunner(job_root=job)
    try:
        with pytest.raises(ScanError) as caught:
            prepare_bare_copy(
                source=upload, kind="archive", runner=runner, workdir=job, limits=Limits()
            )
        assert str(caught.value) == "The job folder already holds a repository copy."
        (job / "repo.git").rmdir()
        with pytest.raises(ScanError, match="The upload is larger than the limit"):
            prepare_bare_copy(
                source=upload, kind="archive", runner=runner, workdir=job,
                limits=Limits(max_archive_bytes=size - 1),
            )  # fmt: skip
        copy = prepare_bare_copy(
            source=upload, kind="archive", runner=runner, workdir=job,
            limits=Limits(max_archive_bytes=size),
        )  # fmt: skip
        assert copy.display == "u.tgz"
    finally:
        runner.cleanup()


def test_a_repository_over_the_size_limit_is_refused_and_removed(tmp_path: Path) -> None:
    repo = RepoBuilder(tmp_path / "big")
    repo.commit("big", files={"blob.bin": os.urandom(600_000)}, when=day(1))
    workdir = tmp_path / "job"
    workdir.mkdir()
    with pytest.raises(ScanError, match="larger than"):
        scan_repository(
            source=repo.path, kind="path", workdir=workdir, now=day(30), allowed_roots=[tmp_path],
            limits=Limits(max_repo_bytes=200_000),
        )  # fmt: skip
    assert list(workdir.iterdir()) == []


def test_a_timeout_during_history_gives_a_partial_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assessments.scans.engine import scan as scan_module

    real_scan_history = scan_module.scan_history

    def late(**kwargs: Any) -> Any:
        # Wait out the scan's real deadline, then let the real history scan run into it.
        runner: GitRunner = kwargs["runner"]
        remaining = runner.remaining()
        assert remaining is not None and remaining > 0, "the files stage used the whole limit"
        time.sleep(remaining + 0.05)
        return real_scan_history(**kwargs)

    monkeypatch.setattr(scan_module, "scan_history", late)
    repo = RepoBuilder(tmp_path / "r")
    repo.commit("x", files={"Dockerfile": "FROM scratch\n"}, when=day(1))
    workdir = tmp_path / "job"
    workdir.mkdir()
    stages: list[tuple[str, int]] = []
    result = scan_repository(
        source=repo.path, kind="path", workdir=workdir, now=day(30), allowed_roots=[tmp_path],
        limits=Limits(timeout_seconds=3), progress=lambda s, p: stages.append((s, p)),
    )  # fmt: skip
    assert result.partial is True
    assert result.finding("repo.dockerfile").status == "found"
    assert {f.status for f in result.findings if f.detector.startswith("history.")} == {"unknown"}
    assert any("time limit" in w for w in result.warnings)
    assert stages[-1] == ("done", 100)
    assert list(workdir.iterdir()) == []


def test_a_repository_over_the_object_limit_is_refused_and_removed(tmp_path: Path) -> None:
    repo = RepoBuilder(tmp_path / "many")
    repo.commit("many", files={f"f{i}.txt": f"{i}\n" for i in range(30)}, when=day(1))
    workdir = tmp_path / "job"
    workdir.mkdir()
    with pytest.raises(ScanError, match="more than 20 objects"):
        scan_repository(
            source=repo.path, kind="path", workdir=workdir, now=day(30), allowed_roots=[tmp_path],
            limits=Limits(max_objects=20),
        )  # fmt: skip
    assert list(workdir.iterdir()) == []
    result = scan_repository(
        source=repo.path, kind="path", workdir=workdir, now=day(30), allowed_roots=[tmp_path],
        limits=Limits(max_objects=40),
    )  # fmt: skip
    assert result.facts["repository"]["objects"] == 32  # 30 blobs, a tree and a commit


@pytest.mark.parametrize(
    ("stderr", "returncode", "reason"),
    [
        ("fatal: detected dubious ownership in repository at '/srv/x/.git'", 128, "belongs to another user account"),
        ("error: index-pack died of signal 25\nfatal: index-pack failed", 128, "larger than the size limit"),
        ("fatal: fetch-pack: invalid index-pack output", 128, "without saying why"),
        ("remote: fatal: loose object 0c (stored in ./objects/0c/fb) is corrupt\nfatal: early EOF\nfatal: fetch-pack: invalid index-pack output", 128, "corrupt, truncated or missing"),
        ("fatal: Authentication failed for 'https://github.com/a/b.git/'", 128, "asked for credentials"),
        ("remote: Repository not found.\nfatal: repository 'https://github.com/a/b.git/' not found", 128, "was not found"),
        ("fatal: unable to access 'https://x/': Failed to connect to x port 443", 128, "could not be reached"),
        ("something else entirely", 3, "(git exited with status 3)"),
    ],
)  # fmt: skip
def test_clone_failures_become_plain_reasons(stderr: str, returncode: int, reason: str) -> None:
    from assessments.scans.engine.gitrunner import GitError
    from assessments.scans.engine.sources import _clone_message

    message = str(
        _clone_message(
            GitError("x", returncode=returncode, stderr=stderr),
            "The repository could not be cloned",
        )
    )
    assert reason in message
    assert "/srv/x" not in message and "github.com" not in message


# Every reason of `_clone_message`'s table, each from a line git (or curl through it) writes,
# holding only its own needle: the message is the whole of what a user reads.
CREDENTIALS = "the server asked for credentials or refused the token"
UNREACHABLE = "the server could not be reached"
REFUSED_PROTOCOL = "the protocol is not allowed"
NOT_A_REPOSITORY = "it is not a git repository"


@pytest.mark.parametrize(
    ("stderr", "reason"),
    [
        ("fatal: detected dubious ownership in repository at '/srv/x/.git'", "the repository belongs to another user account and git refuses to read it (run the scanner as its owner, or upload the repository instead)"),
        ("fatal: Authentication failed for 'https://github.com/a/b.git/'", CREDENTIALS),
        ("fatal: could not read Username for 'https://github.com': No such device", CREDENTIALS),
        ("fatal: could not read Password: terminal prompts disabled", CREDENTIALS),
        ("remote: Repository not found.", "the repository was not found"),
        ("fatal: unable to update url base from redirection", "the server answered with a redirect, which is not followed"),
        ("error: RPC failed; curl 28 Operation too slow. Less than 1000 bytes/sec", "the server was too slow"),
        ("fatal: unable to access 'https://x/': Connection timed out after 10000 ms", "the connection timed out"),
        ("fatal: unable to access 'https://x/': OpenSSL SSL_read: error:0A000126", "the TLS connection failed"),
        ("fatal: unable to access 'https://x/': server certificate verification failed", "the server's TLS certificate was not accepted"),
        ("fatal: unable to access 'https://x/': Could not connect to server", UNREACHABLE),
        ("fatal: unable to access 'https://x/': Failed to connect to x port 443", UNREACHABLE),
        ("fatal: unable to access 'https://x/': connect(): Connection refused", UNREACHABLE),
        ("git: 'remote-ftp' is not a git command; unable to find remote helper for 'ftp'", REFUSED_PROTOCOL),
        ("fatal: transport 'ext' not allowed", REFUSED_PROTOCOL),
        ("fatal: '/srv/x' does not appear to be a git repository", NOT_A_REPOSITORY),
        ("fatal: not a git repository: '/srv/x'", NOT_A_REPOSITORY),
        ("error: '/srv/x.pack' does not look like a v2 or v3 bundle file", "the bundle could not be read"),
        ("fatal: early EOF", "some of its objects are corrupt, truncated or missing (a damaged repository, or a partial or shallow clone lacking objects), so git could not copy it"),
    ],
)  # fmt: skip
def test_each_clone_failure_is_worded_exactly(stderr: str, reason: str) -> None:
    from assessments.scans.engine.gitrunner import GitError
    from assessments.scans.engine.sources import _clone_message

    message = str(_clone_message(GitError("x", returncode=128, stderr=stderr), "Copy"))
    assert message == f"Copy: {reason}."


def test_the_size_limit_is_never_taken_for_damage() -> None:
    """A writer killed by the file-size limit (SIGXFSZ, signal 25) makes the other side of
    the copy complain too ("early EOF"): that is the limit, not a damaged source, and must
    not start the lenient copy (which would only hit the limit again)."""
    from assessments.scans.engine.gitrunner import GitError
    from assessments.scans.engine.sources import _damaged

    for returncode, stderr in (
        (-25, "fatal: early EOF"),
        (153, "fatal: early EOF"),
        (128, "error: index-pack died of signal 25\nfatal: early EOF"),
    ):
        assert not _damaged(GitError("x", returncode=returncode, stderr=stderr))
    assert _damaged(GitError("x", returncode=128, stderr="fatal: early EOF"))
    assert _damaged(GitError("x", returncode=128, stderr="error: unable to read sha1 file"))
    assert not _damaged(GitError("x", returncode=128, stderr="fatal: not a git repository"))


def test_a_copy_whose_objects_cannot_be_listed_says_so() -> None:
    """`check_missing` after a lenient copy: when git cannot even list the copy's objects,
    the copy is refused with the reason, not with an empty message."""
    from assessments.scans.engine.gitrunner import GitError
    from assessments.scans.engine.sources import COMMITS_MISSING, check_missing

    # A stand-in for the runner (hence the type ignore below): a copy git can clone but not
    # list cannot be built from a real repository on purpose.
    class Refusing:
        def run(self, args: list[str], **kwargs: Any) -> bytes:
            raise GitError(" ".join(args), returncode=128, stderr="fatal: bad object HEAD")

    with pytest.raises(ScanError) as caught:
        check_missing(Refusing(), Path("/nonexistent"))  # type: ignore[arg-type]
    assert str(caught.value) == f"The repository could not be copied: {COMMITS_MISSING}."


def _broken(tmp_path: Path, how: str) -> Path:
    """A real repository whose objects are damaged: a loose blob overwritten, or its only
    pack cut in half."""
    repo = RepoBuilder(tmp_path / how)
    for n in range(3):
        repo.commit(f"c{n}", files={f"f{n}.bin": os.urandom(20_000)}, when=day(1 + n))
    git_dir = repo.path / ".git"
    if how == "truncated":
        subprocess.run(["git", "gc", "-q"], cwd=repo.path, check=True, capture_output=True)
        (pack,) = (git_dir / "objects" / "pack").glob("*.pack")
        pack.chmod(0o644)
        size = pack.stat().st_size
        with pack.open("r+b") as handle:
            handle.truncate(size // 2)
    else:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD~1:f1.bin"], cwd=repo.path, check=True,
            capture_output=True, text=True,
        ).stdout.strip()  # fmt: skip
        loose = git_dir / "objects" / sha[:2] / sha[2:]
        loose.chmod(0o644)
        loose.write_bytes(b"garbage")
    return repo.path


@pytest.mark.parametrize("how", ["corrupt", "truncated"])
def test_a_damaged_repository_is_not_blamed_on_the_size_limit(tmp_path: Path, how: str) -> None:
    source = _broken(tmp_path, how)
    workdir = tmp_path / "job"
    workdir.mkdir()
    with pytest.raises(ScanError) as caught:
        scan_repository(
            source=source, kind="path", workdir=workdir, now=day(30), allowed_roots=[tmp_path],
            window_days=3650,
        )  # fmt: skip
    message = str(caught.value)
    assert message.startswith("The repository could not be copied")
    assert "size limit" not in message and "larger than" not in message
    assert "corrupt, truncated or missing" in message
    assert str(tmp_path) not in message
    assert list(workdir.iterdir()) == []


def test_a_writer_dying_silently_blames_the_limit_only_when_the_source_reaches_it() -> None:
    from assessments.scans.engine.gitrunner import GitError
    from assessments.scans.engine.sources import _clone_message

    silent = GitError("x", returncode=128, stderr="fatal: fetch-pack: invalid index-pack output")
    mib = 1024 * 1024
    over = str(_clone_message(silent, "Copy", limit=2 * mib, source_bytes=3 * mib))
    assert over == "Copy: the repository is larger than the size limit of 2 MiB."
    under = str(_clone_message(silent, "Copy", limit=2 * mib, source_bytes=1000))
    assert "size limit of 2 MiB (the source holds 1,000 bytes of objects)" in under
    assert "corrupt or truncated repository" in under and "larger than" not in under
    # A source exactly at the limit could have filled it.
    at = str(_clone_message(silent, "Copy", limit=2 * mib, source_bytes=2 * mib))
    assert at == over
    # Killed by the limit (signal 25, or 153 from a shell), with or without a limit to name.
    for returncode in (-25, 153):
        killed = GitError("x", returncode=returncode, stderr="")
        assert str(_clone_message(killed, "Copy", limit=2 * mib)) == over
        assert str(_clone_message(killed, "Copy")) == (
            "Copy: the repository is larger than the size limit."
        )


def test_a_copy_whose_empty_stand_in_is_not_git_s_empty_blob_is_refused() -> None:
    """The stand-ins for missing blobs are git's empty blob: if writing it gives another id
    (another hash function, say), the copy is refused rather than pointed at the wrong object."""
    from assessments.scans.engine.sources import check_missing

    # A stand-in for the runner (hence the type ignore below): a git whose empty blob has
    # another id (another hash function) is not on this machine.
    class Answering:
        def run(self, args: list[str], **kwargs: Any) -> bytes:
            if args[0] == "hash-object":
                return b"0" * 40 + b"\n"
            return b"" if "--filter=blob:none" in args else b"?" + b"1" * 40 + b"\n"

    with pytest.raises(ScanError) as caught:
        check_missing(Answering(), Path("/nonexistent"))  # type: ignore[arg-type]
    assert str(caught.value) == "The repository copy could not be prepared (unexpected empty blob)."


def test_a_tag_listing_that_fails_after_the_window_copy_says_so(tmp_path: Path) -> None:
    """`_fetch_tags` asks the source for its tags after the repair fetches: if that fails, the
    copy stops with a reason, never with an error of the code."""
    from assessments.scans.engine.gitrunner import GitError
    from assessments.scans.engine.sources import _fetch_tags

    # A stand-in for the runner (hence the type ignore below): a source that copies and then
    # fails to list its tags cannot be made to fail at exactly that step with a real git.
    class Refusing:
        def run(self, args: list[str], **kwargs: Any) -> bytes:
            raise GitError(" ".join(args), returncode=128, stderr="fatal: early EOF")

    with pytest.raises(ScanError) as caught:
        _fetch_tags(Refusing(), tmp_path, Limits())  # type: ignore[arg-type]
    assert str(caught.value) == (
        "The repository could not be copied: some of its objects are corrupt, truncated or "
        "missing (a damaged repository, or a partial or shallow clone lacking objects), so git "
        "could not copy it."
    )
