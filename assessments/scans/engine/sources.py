"""Turn a source (URL, uploaded archive, local path) into a clean bare copy the app made.

git never runs inside a directory the app did not create (docs/SECURITY.md "Safe git"):

- url: validated and resolved (urls.py), then `git clone --bare --single-branch` over https
  only, pinned to the checked addresses, size-watched and time-limited;
- archive: extracted safely (archives.py) into `<job>/upload`, the single repository inside is
  located, then copied with `git clone --no-local --bare --no-hardlinks` (through
  upload-pack: none of the upload's config, hooks or attributes travels) and the extracted
  tree is deleted; a git bundle is cloned directly;
- path: must resolve (realpath) under one of the allowed roots, then copied the same way.

The sanitising clone is the only git call that allows the `file` transport. Repositories
that borrow objects from elsewhere (alternates, linked worktrees, `.git` files pointing away,
symlinks leaving the repository) are refused: they could read data outside the source.
"""

from __future__ import annotations

import base64
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from assessments.scans.engine.archives import extract_archive, sniff_archive
from assessments.scans.engine.gitrunner import GitError, GitRunner
from assessments.scans.engine.model import Limits, ScanError
from assessments.scans.engine.urls import RemoteTarget, Resolver, resolve_remote

FILE_ALLOWED = (("protocol.file.allow", "always"),)
MAX_SEARCH_DEPTH = 4


@dataclass(frozen=True)
class BareCopy:
    path: Path
    display: str  # what to show as the scanned source (no credentials, no server paths)


def _clone_message(exc: GitError, what: str) -> ScanError:
    text = exc.stderr.lower()
    # RLIMIT_FSIZE kills the writer (index-pack or unpack-objects) with SIGXFSZ; git reports
    # the dead child, not the signal, so both of its messages map to the size limit.
    if exc.returncode in (-25, 153) or "signal 25" in text or "invalid index-pack output" in text:
        return ScanError(f"{what}: the repository is larger than the size limit.")
    reasons = (
        (
            "dubious ownership",
            "the repository belongs to another user account and git refuses to read it "
            "(run the scanner as its owner, or upload the repository instead)",
        ),
        ("authentication failed", "the server asked for credentials or refused the token"),
        ("could not read username", "the server asked for credentials or refused the token"),
        ("terminal prompts disabled", "the server asked for credentials or refused the token"),
        ("not found", "the repository was not found"),
        ("redirect", "the server answered with a redirect, which is not followed"),
        ("operation too slow", "the server was too slow"),
        ("timed out", "the connection timed out"),
        ("ssl", "the TLS connection failed"),
        ("certificate", "the server's TLS certificate was not accepted"),
        ("could not connect", "the server could not be reached"),
        ("failed to connect", "the server could not be reached"),
        ("connection refused", "the server could not be reached"),
        ("remote helper", "the protocol is not allowed"),
        ("transport", "the protocol is not allowed"),
        ("does not appear to be a git repository", "it is not a git repository"),
        ("not a git repository", "it is not a git repository"),
        ("bundle", "the bundle could not be read"),
    )
    for needle, reason in reasons:
        if needle in text:
            return ScanError(f"{what}: {reason}.")
    return ScanError(f"{what} (git exited with status {exc.returncode}).")


def clone_remote(
    *,
    runner: GitRunner,
    target: RemoteTarget,
    dest: Path,
    limits: Limits,
    token: str | None = None,
) -> None:
    """Clone a validated https remote into `dest` (bare), pinned to its checked addresses.

    A token travels as an `http.extraHeader` in the environment of this one call, never on
    the command line, never in the stored remote URL.
    """
    secret = None
    if token:
        basic = base64.b64encode(f"x-access-token:{token}".encode()).decode("ascii")
        runner.add_secret(token)
        runner.add_secret(basic)
        secret = {"http.extraHeader": f"Authorization: Basic {basic}"}
    try:
        runner.run(
            ["clone", "--bare", "--single-branch", "--quiet", "--", target.url, str(dest)],
            extra_config=(("http.curloptResolve", target.curlopt_resolve()),),
            secret_config=secret,
            stage="cloning",
            percent=10,
            watch_dir=dest,
            max_dir_bytes=limits.max_repo_bytes,
            fsize_limit=limits.max_repo_bytes,
        )
    except GitError as exc:
        raise _clone_message(exc, "The repository could not be cloned") from None


def sanitising_clone(*, runner: GitRunner, source: Path, dest: Path, limits: Limits) -> None:
    """Copy a local repository through upload-pack into a fresh bare repository."""
    try:
        runner.run(
            [
                "clone",
                "--no-local",
                "--bare",
                "--no-hardlinks",
                "--single-branch",
                "--quiet",
                "--",
                str(source),
                str(dest),
            ],
            allow_file=True,
            extra_config=FILE_ALLOWED,
            stage="copying",
            percent=20,
            watch_dir=dest,
            max_dir_bytes=limits.max_repo_bytes,
            fsize_limit=limits.max_repo_bytes,
        )
    except GitError as exc:
        raise _clone_message(exc, "The repository could not be copied") from None


def clone_bundle(*, runner: GitRunner, bundle: Path, dest: Path, limits: Limits) -> None:
    try:
        runner.run(
            ["clone", "--bare", "--quiet", "--", str(bundle), str(dest)],
            allow_file=True,
            extra_config=FILE_ALLOWED,
            stage="copying",
            percent=20,
            watch_dir=dest,
            max_dir_bytes=limits.max_repo_bytes,
            fsize_limit=limits.max_repo_bytes,
        )
    except GitError as exc:
        raise _clone_message(exc, "The git bundle could not be read") from None


def _looks_bare(path: Path) -> bool:
    return (path / "HEAD").is_file() and (path / "objects").is_dir() and (path / "refs").is_dir()


def locate_repository(base: Path) -> tuple[Path, Path]:
    """(path to clone from, its git directory) for the one repository under `base`.

    The shallowest repository wins; two at the same depth are ambiguous and refused. A `.git`
    file (a worktree or submodule pointing elsewhere) at the top is refused.
    """
    level = [base]
    for _depth in range(MAX_SEARCH_DEPTH + 1):
        found: list[tuple[Path, Path]] = []
        deeper: list[Path] = []
        for directory in level:
            dot_git = directory / ".git"
            if dot_git.is_symlink():
                raise ScanError("The repository's .git is a symbolic link, which is not allowed.")
            if dot_git.is_dir():
                found.append((directory, dot_git))
                continue
            if dot_git.exists():
                raise ScanError(
                    "The repository's .git is a file pointing elsewhere (a worktree or "
                    "submodule); scan the main repository instead."
                )
            if _looks_bare(directory):
                found.append((directory, directory))
                continue
            try:
                children = sorted(directory.iterdir())
            except OSError:
                continue
            deeper += [c for c in children if c.is_dir() and not c.is_symlink()]
        if len(found) > 1:
            raise ScanError("The upload contains more than one repository; upload one at a time.")
        if found:
            return found[0]
        if not deeper:
            break
        level = deeper
    raise ScanError(
        "No git repository was found (expected a folder with .git, or a bare repository)."
    )


def check_git_dir(git_dir: Path, root: Path) -> None:
    """Refuse repositories whose objects or refs live outside `root`."""
    for relative in ("objects/info/alternates", "objects/info/http-alternates"):
        if (git_dir / relative).exists():
            raise ScanError(
                "The repository borrows objects from another repository (alternates), "
                "which is not supported."
            )
    if (git_dir / "commondir").exists():
        raise ScanError("The repository is a linked worktree; scan the main repository instead.")
    real_root = os.path.realpath(root)
    for current, dirs, files in os.walk(git_dir):
        for name in dirs + files:
            full = os.path.join(current, name)
            if os.path.islink(full):
                target = os.path.realpath(full)
                if os.path.commonpath([target, real_root]) != real_root:
                    raise ScanError(
                        "The repository contains a symbolic link leading outside it, "
                        "which is not allowed."
                    )


def resolve_local_path(source: Path, allowed_roots: tuple[Path, ...]) -> Path:
    """The real path of a local repository, if it lies under one of the allowed roots."""
    if not allowed_roots:
        raise ScanError("Scanning local paths is switched off: no allowed folders are configured.")
    real = Path(os.path.realpath(source))
    for root in allowed_roots:
        real_root = os.path.realpath(root)
        if os.path.commonpath([str(real), real_root]) == real_root:
            if not real.is_dir():
                raise ScanError("The path is not a folder.")
            return real
    raise ScanError("The path is outside the folders that may be scanned.")


def prepare_bare_copy(
    *,
    source: str | Path,
    kind: str,
    runner: GitRunner,
    workdir: Path,
    limits: Limits,
    allowed_roots: tuple[Path, ...] = (),
    resolver: Resolver | None = None,
    token: str | None = None,
    _allow_private_for_tests: bool = False,
) -> BareCopy:
    """Make `<workdir>/repo.git` from the source. Cleans its own temporary upload folder."""
    dest = workdir / "repo.git"
    if dest.exists():
        raise ScanError("The job folder already holds a repository copy.")
    if kind == "url":
        target = resolve_remote(
            str(source), resolver=resolver, _allow_private_for_tests=_allow_private_for_tests
        )
        runner.check("cloning", 5)
        clone_remote(runner=runner, target=target, dest=dest, limits=limits, token=token)
        return BareCopy(dest, target.url)
    if kind == "archive":
        archive = Path(source)
        if archive.stat().st_size > limits.max_archive_bytes:
            raise ScanError(
                f"The upload is larger than the limit of {limits.max_archive_bytes // (1024 * 1024)} MiB."
            )
        if sniff_archive(archive) == "bundle":
            clone_bundle(runner=runner, bundle=archive, dest=dest, limits=limits)
            return BareCopy(dest, archive.name)
        upload = workdir / "upload"
        upload.mkdir(mode=0o700)
        try:
            extract_archive(
                archive=archive,
                dest=upload,
                limits=limits,
                check=lambda: runner.check("extracting", 5),
            )
            root, git_dir = locate_repository(upload)
            check_git_dir(git_dir, upload)
            sanitising_clone(runner=runner, source=root, dest=dest, limits=limits)
        finally:
            shutil.rmtree(upload, ignore_errors=True)
        return BareCopy(dest, archive.name)
    if kind == "path":
        real = resolve_local_path(Path(source), allowed_roots)
        root, git_dir = locate_repository_at(real)
        check_git_dir(git_dir, real)
        sanitising_clone(runner=runner, source=root, dest=dest, limits=limits)
        return BareCopy(dest, str(source))
    raise ScanError(f"Unknown source kind {kind!r}: expected url, archive or path.")


def locate_repository_at(path: Path) -> tuple[Path, Path]:
    """A local path must itself be the repository (work tree with .git, or bare)."""
    dot_git = path / ".git"
    if dot_git.is_symlink():
        raise ScanError("The repository's .git is a symbolic link, which is not allowed.")
    if dot_git.is_dir():
        return path, dot_git
    if dot_git.exists():
        raise ScanError(
            "The repository's .git is a file pointing elsewhere (a worktree or submodule); "
            "scan the main repository instead."
        )
    if _looks_bare(path):
        return path, path
    raise ScanError("The path is not a git repository.")
