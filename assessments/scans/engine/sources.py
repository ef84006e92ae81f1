"""Turn a source (URL, uploaded archive, local path) into a clean bare copy the app made.

git never runs inside a directory the app did not create (docs/SECURITY.md "Safe git"):

- url: validated and resolved (urls.py), then `git clone --bare --single-branch` over https
  only, pinned to the checked addresses, size-watched and time-limited;
- archive: extracted safely (archives.py) into `<job>/upload`, the single repository inside is
  located, then copied with `git clone --no-local --bare --no-hardlinks` (through
  upload-pack: none of the upload's config, hooks or attributes travels) and the extracted
  tree is deleted; a git bundle is cloned directly;
- path: must resolve (realpath) under one of the allowed roots, then copied the same way.

A copy of the whole history skips the clone's index-pack (`packed_copy`): pack-objects runs
in the source as upload-pack would run it and writes the pack straight into the copy.

Given the start of the history window (`since`), a local copy holds only what the scan reads:
`--shallow-since` brings the commits of the window (and HEAD's tree for the file detectors),
then one `fetch --depth=1` through upload-pack adds the parents just outside the window of the
commits where the copy was cut, so those commits diff against their real parents and a merge
of an old branch does not hide the window behind it (see `window_copy`). The cost of a scan
then follows its window, not the length of the repository's history.

A local source that lacks objects (a partial or promisor clone, a mirror without its largest
blobs, a damaged loose object) makes upload-pack give up; the copy (or fetch) is then made
again leniently, without the blobs the source lacks (`lenient_upload_pack`, `check_missing`):
missing commits or trees still stop the scan with a message saying so.

The sanitising clone is the only git call that allows the `file` transport. Repositories
that borrow objects from elsewhere (alternates, linked worktrees, `.git` files pointing away,
symlinks leaving the repository) are refused: they could read data outside the source.
"""

from __future__ import annotations

import base64
import os
import shlex
import shutil
import stat
from collections.abc import Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from assessments.scans.engine.archives import extract_archive, sniff_archive
from assessments.scans.engine.gitrunner import (
    MISSING_REF_BASE,
    SAFE_CONFIG,
    GitError,
    GitRunner,
    _dir_bytes,
    git_date,
)
from assessments.scans.engine.model import Limits, ScanError
from assessments.scans.engine.urls import RemoteTarget, Resolver, resolve_remote

FILE_ALLOWED = (("protocol.file.allow", "always"),)
MAX_SEARCH_DEPTH = 4


NO_COMMITS_SINCE = "no commits selected for shallow requests"
MAX_WINDOW_ROUNDS = 20
WINDOW_MARGIN_SECONDS = 7 * 86400
WHOLE_HISTORY_BEFORE = 86400  # a window starting on 1970-01-01 (the longest there is)


@dataclass(frozen=True)
class BareCopy:
    path: Path
    display: str  # what to show as the scanned source (no credentials, no server paths)
    # Whether the SOURCE is a shallow repository (None: read it from the copy, which is then
    # complete); a window copy is shallow on purpose, which says nothing about the source.
    source_shallow: bool | None = None
    windowed: bool = False
    # Blobs the source lacks (a partial or promisor clone, a damaged pack): the copy was made
    # without them (`lenient`), and history reads them as empty stand-ins (MISSING_REF_BASE).
    missing_blobs: int = 0
    missing_at_head: tuple[str, ...] = ()  # the paths at HEAD among them


# What git says when the source's objects are damaged (a corrupt or truncated object or pack,
# blobs a partial clone never fetched): upload-pack gives up and the copy's writer then dies
# with "invalid index-pack output", which on its own would look like the size limit.
DAMAGE = (
    "corrupt",
    "early eof",
    "does not match index",
    "not our ref",
    "unable to unpack",
    "inflate:",
    "bad object",
    "missing blob",
    "missing tree",
    "did not send all necessary objects",
    "pack has bad object",
    "pack-objects died",
)


# The lenient copy's filter: a partial clone (so the copy accepts a pack that lacks objects)
# that filters nothing out; a blob this large could never be copied anyway.
NOTHING_FILTERED = f"blob:limit={2**62}"
EMPTY_BLOB = "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
COMMITS_MISSING = (
    "some of its objects are corrupt, truncated or missing beyond file contents (commits, "
    "trees or a damaged pack; missing file contents alone would have been skipped), so git "
    "could not copy it"
)


def _damaged(exc: GitError) -> bool:
    text = exc.stderr.lower()
    if exc.returncode in (-25, 153) or "signal 25" in text:
        return False  # the size limit, not damage
    return any(needle in text for needle in DAMAGE) or "unable to read" in text


def lenient_upload_pack(runner: GitRunner) -> str:
    """The upload-pack command of a copy that skips objects the source lacks.

    git runs a local upload-pack without the caller's `-c` flags (it clears
    GIT_CONFIG_PARAMETERS for the other repository), so the safety flags are given on its own
    command line, with `uploadpack.allowFilter` and a pack-objects hook that adds
    `--missing=allow-any`. `uploadpack.packObjectsHook` is read only from the command line,
    the system or the user's config, never from the source's own config; the hook is this
    fixed text running this git, nothing from the source. pack-objects still walks only what
    the advertised refs reach: nothing unreachable travels.
    """
    hook = f'f() {{ shift; exec {shlex.quote(runner.git)} "$@" --missing=allow-any; }}; f'
    return safe_upload_pack(
        runner, (("uploadpack.allowFilter", "true"), ("uploadpack.packObjectsHook", hook))
    )


def safe_upload_pack(runner: GitRunner, config: Sequence[tuple[str, str]] = ()) -> str:
    """The upload-pack command of every copy: git starts a local upload-pack without the
    caller's `-c` flags, so the engine's safety flags are given on its own command line."""
    flags = " ".join(
        f"-c {shlex.quote(f'{key}={value}')}" for key, value in (*SAFE_CONFIG, *config)
    )
    return f"{shlex.quote(runner.git)} {flags} upload-pack"


def _limit_text(limit: int | None) -> str:
    return f" of {limit // (1024 * 1024)} MiB" if limit else ""


def _clone_message(
    exc: GitError, what: str, *, limit: int | None = None, source_bytes: int | None = None
) -> ScanError:
    """A user-safe reason for a failed clone, copy or fetch, worded from what happened.

    The size limit is blamed only when it was reached: the writer died of SIGXFSZ (git says
    so), or the writer died without a word while the source's objects (`source_bytes`, a
    local source's object folder) are at least the limit. Damaged objects say so; an
    unexplained death of the writer under the limit says the copy failed, not the limit.
    """
    text = exc.stderr.lower()
    if exc.returncode in (-25, 153) or "signal 25" in text:
        return ScanError(
            f"{what}: the repository is larger than the size limit{_limit_text(limit)}."
        )
    if any(needle in text for needle in DAMAGE):
        return ScanError(
            f"{what}: some of its objects are corrupt, truncated or missing (a damaged "
            "repository, or a partial or shallow clone lacking objects), so git could not "
            "copy it."
        )
    if "invalid index-pack output" in text:
        # RLIMIT_FSIZE kills the writer (index-pack) with SIGXFSZ and git reports only the
        # missing output, so the limit is the cause only if the copy could have reached it.
        if limit is not None and source_bytes is not None and source_bytes >= limit:
            return ScanError(
                f"{what}: the repository is larger than the size limit{_limit_text(limit)}."
            )
        if limit is not None and source_bytes is not None:
            return ScanError(
                f"{what}: git stopped while writing the copy's objects, under the size "
                f"limit{_limit_text(limit)} (the source holds {source_bytes:,} bytes of "
                "objects), which points to a corrupt or truncated repository."
            )
        return ScanError(
            f"{what}: git stopped while writing the copy's objects without saying why (a "
            f"corrupt or truncated repository, or a copy reaching the size "
            f"limit{_limit_text(limit)})."
        )
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
        raise _clone_message(
            exc, "The repository could not be cloned", limit=limits.max_repo_bytes
        ) from None


def sanitising_clone(
    *,
    runner: GitRunner,
    source: Path,
    dest: Path,
    limits: Limits,
    since: int | None = None,
) -> bool:
    """Copy a local repository through upload-pack into a fresh bare repository.

    With `since` (epoch seconds), copy only the history from then on (`window_copy`);
    returns whether the copy was limited that way. A window reaching back to 1970 reads every
    commit: the plain clone is then cheaper (git can use the source's bitmaps, and needs no
    connectivity walk) than a shallow one that cuts nothing.
    """
    if since is not None and since >= WHOLE_HISTORY_BEFORE:
        return window_copy(runner=runner, source=source, dest=dest, limits=limits, since=since)
    whole_copy(runner=runner, source=source, dest=dest, limits=limits)
    return False


def whole_copy(*, runner: GitRunner, source: Path, dest: Path, limits: Limits) -> None:
    """Copy all of the branch's history: `packed_copy` when the source is an ordinary
    repository, else (or if it fails for any reason but the size limit) the clone."""
    if not packed_copy(runner=runner, source=source, dest=dest, limits=limits):
        shutil.rmtree(dest, ignore_errors=True)
        _clone(runner=runner, source=source, dest=dest, limits=limits)


# Over the source's own values: the copy needs no bitmap of its own.
PACK_CONFIG = (("pack.writeBitmaps", "false"), ("repack.writeBitmaps", "false"))


def packed_copy(*, runner: GitRunner, source: Path, dest: Path, limits: Limits) -> bool:
    """The whole-history copy without the clone's index-pack, or False to clone instead.

    A clone through upload-pack spends most of its time in index-pack, which inflates and
    hashes every object the source already named (a 60,000-commit history: 6 s against
    0.6 s for the pack itself). Here the same pack is written straight into the copy: the
    refs are read through upload-pack (`ls-remote`, with the clone's safety and ownership
    checks), then `git pack-objects --revs --include-tag` runs in the source, as upload-pack
    itself would run it, with the engine's safety flags, no transport, no lazy fetch and no
    replace refs, reading the source's objects as an alternate and writing only into the
    copy's object folder (`GitRunner.build_env`), so nothing is ever written into the
    source, not even a temporary file. It walks from the branch alone, so, as with the clone,
    nothing the branch does not reach travels (no reflog, stash, other branches or
    unreachable objects); tags come when their object did, like the clone's tag following.

    What this gives up is index-pack's re-hashing: objects keep the names the source gave
    them. A source that lies about its objects' names can only mislead the scan of itself,
    which its author could do by committing the same content honestly.

    Anything unusual goes to the clone (False): a source owned by another user or whose git
    folders are not plain folders, a shallow or partial source, grafts, a detached or unborn
    HEAD, SHA-256, refs git refuses, or any pack-objects failure other than the size limit (a
    damaged source then gets the clone's strict-then-lenient handling). A git folder swapped
    for another between the checks and the end of the copy is refused.
    """
    git_dir = _git_dir_of(source)
    if git_dir is None or not _plain_source(git_dir):
        return False
    before = _identity(git_dir)
    if before is None:
        return False
    try:
        advertised = runner.run(
            [
                "ls-remote",
                "--symref",
                f"--upload-pack={safe_upload_pack(runner)}",
                "--",
                str(source),
            ],
            allow_file=True,
            extra_config=FILE_ALLOWED,
            stage="copying",
            percent=15,
        )
    except GitError as exc:
        raise _clone_message(exc, "The repository could not be copied") from None
    branch, tip, tags = _advertised(advertised.decode("utf-8", "replace"))
    if branch is None or tip is None or len(tip) != 40:
        return False
    runner.run(["init", "--quiet", "--bare", "--", str(dest)], stage="copying", percent=16)
    try:
        runner.run(
            ["pack-objects", "--revs", "--include-tag", "--delta-base-offset", "--quiet",
             str(dest / "objects" / "pack" / "pack")],
            git_dir=git_dir,
            copy_objects=dest / "objects",
            extra_config=PACK_CONFIG,
            stage="copying",
            percent=20,
            watch_dir=dest,
            max_dir_bytes=limits.max_repo_bytes,
            fsize_limit=limits.max_repo_bytes,
            input_bytes=f"{tip}\n".encode("ascii"),
        )  # fmt: skip
        failure = None
    except GitError as exc:
        failure = exc
    if _identity(git_dir) != before:  # whether pack-objects failed or not
        raise ScanError(
            "The repository was replaced while it was being copied, so the copy was refused."
        )
    if failure is not None:
        if failure.returncode in (-25, 153) or "signal 25" in failure.stderr.lower():
            raise _clone_message(
                failure, "The repository could not be copied", limit=limits.max_repo_bytes
            ) from None
        return False
    present = _objects_present(runner, dest, [tip, *tags.values()])
    if tip not in present:
        return False
    updates = [f"create {branch} {tip}"] + [
        f"create {ref} {sha}" for ref, sha in sorted(tags.items()) if sha in present
    ]
    try:
        runner.run(
            ["update-ref", "--stdin"],
            git_dir=dest,
            stage="copying",
            percent=25,
            input_bytes="".join(f"{line}\n" for line in updates).encode("utf-8"),
        )
        runner.run(["symbolic-ref", "HEAD", branch], git_dir=dest, stage="copying", percent=25)
    except GitError:
        return False
    return True


def _plain_source(git_dir: Path) -> bool:
    """Whether the packed copy may read this git directory: ours (git refuses another
    user's repository, and the clone then says so), real folders for it and its objects,
    and nothing that changes what a walk reaches (a `shallow` file, even a symbolic link;
    grafts; a partial clone's promisor packs)."""
    for folder in (git_dir, git_dir / "objects", git_dir / "objects" / "pack"):
        try:
            status = os.lstat(folder)
        except OSError:
            return False
        if not stat.S_ISDIR(status.st_mode) or status.st_uid != os.geteuid():
            return False
    if os.path.lexists(git_dir / "shallow") or os.path.lexists(git_dir / "info" / "grafts"):
        return False
    return not any((git_dir / "objects" / "pack").glob("*.promisor"))


def _identity(git_dir: Path) -> tuple[tuple[int, int], ...] | None:
    """The git directory and its object folders as the file system knows them (None if one
    is gone): a folder swapped for another (a symbolic link to someone else's repository,
    say) between the checks and the copy changes this."""
    found = []
    for folder in (git_dir, git_dir / "objects", git_dir / "objects" / "pack"):
        try:
            status = os.lstat(folder)
        except OSError:
            return None
        found.append((status.st_dev, status.st_ino))
    return tuple(found)


def _git_dir_of(source: Path) -> Path | None:
    dot_git = source / ".git"
    if dot_git.is_dir() and not dot_git.is_symlink():
        return dot_git
    return source if _looks_bare(source) else None


def _advertised(text: str) -> tuple[str | None, str | None, dict[str, str]]:
    """(HEAD's branch, its commit, {tag ref: the object it names}) from `ls-remote --symref`.

    Peeled lines (`^{}`) are left out: a tag's ref names the tag object, which
    `--include-tag` brings when the object it tags came."""
    branch = None
    refs: dict[str, str] = {}
    for line in text.splitlines():
        left, _, name = line.partition("\t")
        if left.startswith("ref: ") and name == "HEAD":
            branch = left[5:]
        elif _is_sha(left) and not name.endswith("^{}"):
            refs[name] = left
    if branch is None or not branch.startswith("refs/heads/"):
        return None, None, {}
    tags = {name: sha for name, sha in refs.items() if name.startswith("refs/tags/")}
    return branch, refs.get(branch), tags


def _objects_present(runner: GitRunner, git_dir: Path, shas: Iterable[str]) -> set[str]:
    """The objects of any type among `shas` that `git_dir` holds."""
    wanted = sorted({sha for sha in shas if _is_sha(sha)})
    if not wanted:
        return set()
    out = runner.run(
        ["cat-file", "--batch-check=%(objectname)"],
        git_dir=git_dir,
        stage="copying",
        percent=24,
        input_bytes="".join(f"{sha}\n" for sha in wanted).encode("ascii"),
    )
    return {line for line in out.decode("ascii", "replace").splitlines() if _is_sha(line)}


class _SourceDamaged(Exception):
    """The strict copy failed on the source's objects; the lenient copy may still work."""


def _clone(
    *, runner: GitRunner, source: Path, dest: Path, limits: Limits, depth: Sequence[str] = ()
) -> None:
    """Copy through upload-pack; if the source lacks objects, copy again without them.

    The lenient copy (`lenient_upload_pack`) is a partial clone that filters nothing out:
    pack-objects skips what the source lacks, and the copy accepts the pack because a partial
    clone's connectivity check allows missing objects. Its promisor settings are then removed
    (`_plain`), so nothing ever tries to fetch a missing object: readers see it as missing.
    """
    try:
        _clone_once(runner=runner, source=source, dest=dest, limits=limits, depth=depth)
    except _SourceDamaged:
        shutil.rmtree(dest, ignore_errors=True)
        _clone_once(
            runner=runner, source=source, dest=dest, limits=limits, depth=depth, lenient=True
        )


def _clone_once(
    *,
    runner: GitRunner,
    source: Path,
    dest: Path,
    limits: Limits,
    depth: Sequence[str] = (),
    lenient: bool = False,
) -> None:
    extra = [f"--upload-pack={safe_upload_pack(runner)}"]
    if lenient:
        extra = [f"--filter={NOTHING_FILTERED}", f"--upload-pack={lenient_upload_pack(runner)}"]
    try:
        runner.run(
            [
                "clone",
                "--no-local",
                "--bare",
                "--no-hardlinks",
                "--single-branch",
                "--quiet",
                *depth,
                *extra,
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
        if depth and NO_COMMITS_SINCE in exc.stderr:
            raise
        if _damaged(exc):
            if not lenient:
                raise _SourceDamaged from None
            raise ScanError(f"The repository could not be copied: {COMMITS_MISSING}.") from None
        raise _clone_message(
            exc,
            "The repository could not be copied",
            limit=limits.max_repo_bytes,
            source_bytes=_object_bytes(source),
        ) from None
    if lenient:
        _plain(runner, dest)


def _plain(runner: GitRunner, git_dir: Path) -> None:
    """Drop the promisor settings of a lenient copy: with them, reading a missing object
    would start a fetch from the source (refused, as every later call allows https only,
    but costing a process and a failure each time)."""
    for key in ("remote.origin.promisor", "remote.origin.partialclonefilter"):
        with suppress(GitError):  # exit 5: the key is not set
            runner.run(["config", "--unset-all", key], git_dir=git_dir, stage="copying", percent=20)
    with suppress(GitError):
        runner.run(
            ["config", "--unset-all", "extensions.partialclone"],
            git_dir=git_dir,
            stage="copying",
            percent=20,
        )


def is_lenient_copy(git_dir: Path) -> bool:
    """Whether the copy was made without objects the source lacks (a lenient copy's packs
    are marked `.promisor`; the strict copy's never are)."""
    return any((git_dir / "objects" / "pack").glob("*.promisor"))


def check_missing(runner: GitRunner, git_dir: Path) -> tuple[int, tuple[str, ...]]:
    """After a lenient copy: refuse a copy lacking commits or trees, and give each missing
    blob an empty stand-in under MISSING_REF_BASE (read only by log/diff, see GitRunner) so
    history reads the commits that changed it. Returns the number of missing blobs."""
    try:
        structure = runner.run(
            ["rev-list", "--objects", "--missing=print", "--filter=blob:none", "HEAD"],
            git_dir=git_dir,
            stage="copying",
            percent=38,
        )
        everything = runner.run(
            ["rev-list", "--objects", "--missing=print", "HEAD"],
            git_dir=git_dir,
            stage="copying",
            percent=39,
        )
    except GitError:
        raise ScanError(f"The repository could not be copied: {COMMITS_MISSING}.") from None
    lost = [line for line in structure.split(b"\n") if line.startswith(b"?")]
    if lost:
        raise ScanError(
            f"The repository could not be copied: {len(lost)} of its trees or commits are "
            f"missing from the source (the first: {lost[0][1:].decode('ascii', 'replace')}), "
            "so its history cannot be read; only missing file contents can be skipped."
        )
    blobs = sorted(
        {line[1:].decode("ascii", "replace") for line in everything.split(b"\n")
         if line.startswith(b"?")}
    )  # fmt: skip
    blobs = [sha for sha in blobs if _is_sha(sha)]
    if blobs:
        empty = runner.run(
            ["hash-object", "-w", "--no-filters", "--stdin"],
            git_dir=git_dir,
            stage="copying",
            percent=39,
            input_bytes=b"",
        )
        if empty.strip().decode("ascii") != EMPTY_BLOB:
            raise ScanError("The repository copy could not be prepared (unexpected empty blob).")
        base = git_dir / MISSING_REF_BASE
        base.mkdir(parents=True, exist_ok=True)
        for sha in blobs:
            (base / sha).write_text(f"{EMPTY_BLOB}\n", "ascii")
    return len(blobs), _paths_at_head(runner, git_dir, set(blobs))


def _paths_at_head(runner: GitRunner, git_dir: Path, blobs: set[str]) -> tuple[str, ...]:
    if not blobs:
        return ()
    out = runner.run(
        ["ls-tree", "-r", "-z", "--full-tree", "HEAD"],
        git_dir=git_dir,
        stage="copying",
        percent=39,
    )
    paths = []
    for record in out.split(b"\0"):
        meta, _, path = record.partition(b"\t")
        parts = meta.split()
        if len(parts) == 3 and parts[2].decode("ascii", "replace") in blobs:
            paths.append(path.decode("utf-8", "replace"))
    return tuple(sorted(paths))


def _object_bytes(source: Path) -> int | None:
    """The size of a local repository's object folder (read by stat alone, no git runs in
    the source), or None when it cannot be found."""
    for objects in (source / ".git" / "objects", source / "objects"):
        if objects.is_dir() and not objects.is_symlink():
            return _dir_bytes(objects)
    return None


def window_copy(*, runner: GitRunner, source: Path, dest: Path, limits: Limits, since: int) -> bool:
    """A bare copy of the history since `since`, read by `git log --since` as a full copy is.

    `clone --shallow-since` brings the commits reachable from the branch through commits of
    the window (with HEAD's tree and the tags on them), but git cuts the copy at every commit
    whose parents are not all in the window and pretends that commit has no parents: its
    numstat would count its whole tree as added, and behind a merge of an old branch the
    rest of the window would be missing altogether. So, until no commit of the window is cut:

    1. the parents the copy lacks of the cut commits are fetched with `--depth=1` (each
       commit with its tree: what a diff against it needs);
    2. those that belong to the window are fetched again with `--shallow-since`, which brings
       the window behind them;
    3. the shallow list is rewritten to the commits whose parents are still missing, all
       older than the window.

    The clone starts a week before the window (WINDOW_MARGIN_SECONDS), so in a busy history
    step 1 has nothing to fetch. A history that needs more than MAX_WINDOW_ROUNDS rounds is
    copied whole. When no commit
    is as new as `since`, HEAD alone is copied (`--depth=1`) for the file detectors. Every
    step goes through upload-pack like the full copy, so nothing of the source's own
    configuration, hooks or attributes runs or travels. Returns whether the copy is limited
    to the window.
    """
    # A margin before the window: in a busy history the parents of the window's oldest
    # commits then come with the clone, and no repair round (a fetch each) is needed.
    after = f"--shallow-since={git_date(max(0, since - WINDOW_MARGIN_SECONDS))}"
    try:
        _clone(runner=runner, source=source, dest=dest, limits=limits, depth=(after,))
    except GitError:
        shutil.rmtree(dest, ignore_errors=True)
        _clone(runner=runner, source=source, dest=dest, limits=limits, depth=("--depth=1",))
        return True
    for _round in range(MAX_WINDOW_ROUNDS):
        graph = _commits(runner, dest, _shallow_list(dest))
        present = _present(runner, dest, {p for _t, ps in graph.values() for p in ps})
        cut = {sha: ps for sha, (ctime, ps) in graph.items() if not set(ps) <= present}
        _write_shallow(dest, sorted(cut))
        missing = sorted(
            {p for sha, ps in cut.items() if graph[sha][0] >= since for p in ps} - present
        )
        if not missing:
            if _round:
                _fetch_tags(runner, dest, limits)
            return True
        _fetch(runner, dest, limits, ("--depth=1",), missing)
        fetched = _commits(runner, dest, missing)
        recent = sorted(sha for sha, (ctime, _ps) in fetched.items() if ctime >= since)
        if recent:
            _fetch(runner, dest, limits, (after,), recent)
    shutil.rmtree(dest, ignore_errors=True)
    whole_copy(runner=runner, source=source, dest=dest, limits=limits)
    return False


def _fetch_tags(runner: GitRunner, git_dir: Path, limits: Limits) -> None:
    """Add the source's tags that point at commits fetched after the clone (a fetch by id
    does not follow tags), so release tags in the window are all there."""
    try:
        out = runner.run(
            ["ls-remote", "--tags", "origin"],
            git_dir=git_dir,
            allow_file=True,
            extra_config=FILE_ALLOWED,
            stage="copying",
            percent=35,
        )
    except GitError as exc:
        raise _clone_message(exc, "The repository could not be copied") from None
    # Ref names are bytes to git, not always UTF-8 (`café`, or Latin-1): they are read with
    # surrogateescape and written back the same way, so each names the same ref again.
    targets: dict[str, str] = {}
    for line in out.decode("utf-8", "surrogateescape").splitlines():
        sha, _, ref = line.partition("\t")
        if not _is_sha(sha) or not ref.startswith("refs/tags/") or ":" in ref:
            continue
        if ref.endswith("^{}"):
            targets[ref[:-3]] = sha  # an annotated tag's commit
        else:
            targets.setdefault(ref, sha)
    have = set(
        runner.run(
            ["for-each-ref", "--format=%(refname)", "refs/tags"],
            git_dir=git_dir,
            stage="copying",
            percent=35,
        )
        .decode("utf-8", "surrogateescape")
        .splitlines()
    )
    present = _present(runner, git_dir, targets.values(), percent=35)
    wanted = sorted(ref for ref, sha in targets.items() if sha in present and ref not in have)
    if wanted:
        _fetch(runner, git_dir, limits, (), [f"{ref}:{ref}" for ref in wanted], percent=35)


def _fetch(
    runner: GitRunner,
    git_dir: Path,
    limits: Limits,
    depth: Sequence[str],
    shas: Sequence[str],
    percent: int = 30,
) -> None:
    """Fetch commits by id (or refspecs) from the source (origin) through upload-pack; a
    lenient copy fetches leniently, and a strict fetch that meets missing objects is tried
    once more leniently (see `_clone`)."""
    lenient = is_lenient_copy(git_dir)
    try:
        _fetch_once(runner, git_dir, limits, depth, shas, lenient=lenient, percent=percent)
    except _SourceDamaged:
        _fetch_once(runner, git_dir, limits, depth, shas, lenient=True, percent=percent)


def _fetch_once(
    runner: GitRunner,
    git_dir: Path,
    limits: Limits,
    depth: Sequence[str],
    shas: Sequence[str],
    *,
    lenient: bool,
    percent: int = 30,
) -> None:
    config: tuple[tuple[str, str], ...] = FILE_ALLOWED
    extra = [f"--upload-pack={safe_upload_pack(runner)}"]
    if lenient:
        # A promisor remote for this one call: the fetched pack is then accepted without
        # the objects the source lacks, and the copy's config stays plain.
        config += (
            ("remote.origin.promisor", "true"),
            ("remote.origin.partialclonefilter", NOTHING_FILTERED),
        )
        extra = [f"--upload-pack={lenient_upload_pack(runner)}"]
    try:
        runner.run(
            [
                "fetch",
                "--quiet",
                "--no-tags",
                "--no-write-fetch-head",
                *depth,
                *extra,
                "--stdin",
                "origin",
            ],
            git_dir=git_dir,
            allow_file=True,
            extra_config=config,
            stage="copying",
            percent=percent,
            watch_dir=git_dir,
            max_dir_bytes=limits.max_repo_bytes,
            fsize_limit=limits.max_repo_bytes,
            input_bytes="".join(f"{sha}\n" for sha in shas).encode("utf-8", "surrogateescape"),
        )
    except GitError as exc:
        if _damaged(exc):
            if not lenient:
                raise _SourceDamaged from None
            raise ScanError(f"The repository could not be copied: {COMMITS_MISSING}.") from None
        raise _clone_message(
            exc, "The repository could not be copied", limit=limits.max_repo_bytes
        ) from None


_HEX = frozenset("0123456789abcdef")


def _is_sha(text: str) -> bool:
    return len(text) in (40, 64) and set(text) <= _HEX


def _shallow_list(git_dir: Path) -> list[str]:
    try:
        lines = (git_dir / "shallow").read_text("ascii").split()
    except FileNotFoundError:
        return []
    return [line for line in lines if _is_sha(line)]


def _write_shallow(git_dir: Path, shas: Sequence[str]) -> None:
    target = git_dir / "shallow"
    if not shas:
        target.unlink(missing_ok=True)
        return
    temporary = git_dir / "shallow.opready"
    temporary.write_text("".join(f"{sha}\n" for sha in shas), "ascii")
    os.replace(temporary, target)


def _commits(
    runner: GitRunner, git_dir: Path, shas: Iterable[str]
) -> dict[str, tuple[int, list[str]]]:
    """Each commit's committer time and parents, from the raw objects (a shallow copy hides
    the parents of the commits it cut). Objects that are missing or not commits are left out.
    """
    wanted = [sha for sha in shas if _is_sha(sha)]
    if not wanted:
        return {}
    out = runner.run(
        ["cat-file", "--batch"],
        git_dir=git_dir,
        stage="copying",
        percent=30,
        input_bytes="".join(f"{sha}\n" for sha in wanted).encode("ascii"),
    )
    graph: dict[str, tuple[int, list[str]]] = {}
    position = 0
    while position < len(out):
        end = out.index(b"\n", position)
        header = out[position:end].split()
        position = end + 1
        if len(header) != 3 or not header[2].isdigit():
            continue  # "<sha> missing"
        size = int(header[2])
        body = out[position : position + size]
        position += size + 1
        if header[1] != b"commit":
            continue
        parents, ctime = [], 0
        for line in body.split(b"\n\n", 1)[0].split(b"\n"):
            if line.startswith(b"parent "):
                parents.append(line[7:].decode("ascii"))
            elif line.startswith(b"committer "):
                stamp = line.rsplit(b" ", 2)
                ctime = int(stamp[1]) if len(stamp) == 3 and stamp[1].isdigit() else 0
        graph[header[0].decode("ascii")] = (ctime, parents)
    return graph


def _present(runner: GitRunner, git_dir: Path, shas: Iterable[str], percent: int = 30) -> set[str]:
    wanted = sorted({sha for sha in shas if _is_sha(sha)})
    if not wanted:
        return set()
    out = runner.run(
        ["cat-file", "--batch-check=%(objectname) %(objecttype)"],
        git_dir=git_dir,
        stage="copying",
        percent=percent,
        input_bytes="".join(f"{sha}\n" for sha in wanted).encode("ascii"),
    )
    present = set()
    for line in out.decode("ascii", "replace").splitlines():
        sha, _, kind = line.partition(" ")
        if kind == "commit":
            present.add(sha)
    return present


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
        raise _clone_message(
            exc,
            "The git bundle could not be read",
            limit=limits.max_repo_bytes,
            source_bytes=bundle.stat().st_size,
        ) from None


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
    since: int | None = None,
    _allow_private_for_tests: bool = False,
) -> BareCopy:
    """Make `<workdir>/repo.git` from the source. Cleans its own temporary upload folder.

    `since` (epoch seconds): a local repository (path or extracted archive) is copied from
    then on only (`window_copy`), unless it is itself shallow; remote clones and bundles
    are copied whole.
    """
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
            shallow = is_shallow_source(git_dir)
            windowed = sanitising_clone(
                runner=runner, source=root, dest=dest, limits=limits,
                since=None if shallow else since,
            )  # fmt: skip
        finally:
            shutil.rmtree(upload, ignore_errors=True)
        missing, at_head = check_missing(runner, dest) if is_lenient_copy(dest) else (0, ())
        return BareCopy(dest, archive.name, shallow, windowed, missing, at_head)
    if kind == "path":
        real = resolve_local_path(Path(source), allowed_roots)
        root, git_dir = locate_repository_at(real)
        check_git_dir(git_dir, real)
        shallow = is_shallow_source(git_dir)
        windowed = sanitising_clone(
            runner=runner, source=root, dest=dest, limits=limits, since=None if shallow else since
        )
        missing, at_head = check_missing(runner, dest) if is_lenient_copy(dest) else (0, ())
        return BareCopy(dest, str(source), shallow, windowed, missing, at_head)
    raise ScanError(f"Unknown source kind {kind!r}: expected url, archive or path.")


def is_shallow_source(git_dir: Path) -> bool:
    """Whether a repository is itself shallow (git keeps its cut commits in `shallow`; a
    link there counts too: git follows it, and check_git_dir refuses one leaving the
    repository)."""
    shallow = git_dir / "shallow"
    if shallow.is_symlink():
        return True
    return shallow.is_file() and shallow.stat().st_size > 0


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
