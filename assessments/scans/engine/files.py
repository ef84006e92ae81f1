"""Repository file detectors: one `git ls-tree` stream and one `git cat-file --batch` process.

The tree of the scanned commit is streamed once and every path is matched against all the
catalogue's globs at the same time (GlobSet). Only the blobs that some rule needs are read:
manifests, files named by content rules, and workflows for the built-in checks, each once, in
one `cat-file --batch` process, within a per-blob and a total byte budget. Whatever cannot be
read (a blob over the size limit, the budget spent, too many candidate files, a tree over the
entry limit, a manifest that does not parse) turns the affected detectors "unknown" unless
they matched something else.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from assessments.scans.engine.detectors import Catalogue, Detector, GlobSet
from assessments.scans.engine.gitrunner import GitError, GitProcess, GitRunner
from assessments.scans.engine.manifests import MANIFESTS, ManifestError, parse_manifest
from assessments.scans.engine.model import Finding, Limits, Pointer, ScanError
from assessments.scans.engine.workflows import (
    CHECK_FUNCTIONS,
    WORKFLOW_GLOB,
    Workflow,
    parse_workflow,
)

MAX_POINTERS = 20
_REMOTE_WORKFLOW = re.compile(
    r"^\s*(?:-\s*)?uses:\s*['\"]?([\w.-]+/[\w.-]+/\.github/workflows/[^\s@'\"]+@[^\s'\"]+)", re.M
)


@dataclass(frozen=True)
class TreeFile:
    path: str
    sha: str
    size: int


def iter_tree(*, runner: GitRunner, git_dir: Path, commit: str, limit: int) -> Iterator[TreeFile]:
    """Every blob of `commit`'s tree, in path order; stops (killing ls-tree) after `limit`.

    Raises _Abandoned once more than `limit` files were seen.
    """
    with runner.stream(
        ["ls-tree", "-r", "-l", "-z", "--full-tree", commit],
        git_dir=git_dir,
        stage="files",
        percent=45,
        buffered=True,
    ) as proc:
        count = 0
        for record in _split(proc, b"\0"):
            meta, _, raw_path = record.partition(b"\t")
            parts = meta.split()
            if len(parts) != 4 or parts[1] != b"blob":
                continue  # submodules (commits) and anything unexpected
            count += 1
            if count > limit:
                # Stop early on purpose: leaving the block by an exception kills ls-tree
                # instead of waiting for a process blocked on a full pipe.
                raise _Abandoned
            size = int(parts[3]) if parts[3].isdigit() else 0
            yield TreeFile(raw_path.decode("utf-8", "replace"), parts[2].decode("ascii"), size)


class _Abandoned(Exception):
    """The tree has more entries than the limit; the listing was stopped."""


def _split(proc: GitProcess, sep: bytes) -> Iterator[bytes]:
    fd = proc.stdout.fileno()
    buffer = b""
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        buffer += chunk
        parts = buffer.split(sep)
        buffer = parts.pop()
        yield from parts
    if buffer:
        yield buffer


class BlobReader:
    """Reads blobs through a `git cat-file --batch` process, within byte budgets, one file at
    a time: a file that cannot be read never stops the others.

    `read()` returns None (and says why) for a blob over the per-blob limit, once the total
    budget is spent, for an object missing from the copy (a partial or shallow clone, a
    promisor remote, a damaged pack), or when git failed on that object; the caller then
    reports "could not determine" for whatever needed that blob. A cat-file process that dies
    or answers out of step is replaced (at most MAX_RESTARTS times) and the blob tried once
    more.
    """

    MAX_RESTARTS = 5

    def __init__(self, *, runner: GitRunner, git_dir: Path, limits: Limits) -> None:
        self.runner = runner
        self.git_dir = git_dir
        self.limits = limits
        self.bytes_read = 0
        self.blobs_read = 0
        self.restarts = 0
        self.broken = False
        self._context: Any = None
        self._proc: GitProcess | None = None

    def __enter__(self) -> BlobReader:
        self._start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._context is None:
            return
        context, self._context, self._proc = self._context, None, None
        if exc[0] is not None:
            context.__exit__(*exc)
            return
        # A failure exit status is not an error here: every blob it could not give was
        # already reported, file by file.
        with suppress(GitError):
            context.__exit__(None, None, None)

    def _start(self) -> None:
        self._context = self.runner.stream(
            ["cat-file", "--batch"], git_dir=self.git_dir, stdin=True, stage="files", percent=50
        )
        self._proc = self._context.__enter__()

    def _discard(self) -> None:
        """Kill the current process (its output can no longer be trusted)."""
        if self._context is not None:
            context, self._context, self._proc = self._context, None, None
            failure = _ReaderFailed()
            with suppress(GitError, _ReaderFailed):
                context.__exit__(_ReaderFailed, failure, None)

    def read(self, sha: str, size: int) -> tuple[bytes | None, str]:
        if size > self.limits.max_blob_bytes:
            return None, f"larger than {self.limits.max_blob_bytes // 1024} KiB"
        if self.bytes_read + size > self.limits.max_blob_bytes_read:
            return None, "the scan's read budget was spent"
        why = "git cat-file failed"
        for _attempt in range(2):
            if self._proc is None:
                if self.restarts >= self.MAX_RESTARTS:
                    self.broken = True
                    return None, "git cat-file failed too often"
                self.restarts += 1
                self._start()
            assert self._proc is not None
            try:
                self._proc.stdin.write(sha.encode("ascii") + b"\n")
                self._proc.stdin.flush()
                header = self._proc.stdout.readline()
                parts = header.split()
                if len(parts) == 2 and parts[1] in (b"missing", b"ambiguous"):
                    # cat-file answers and carries on: only this file is affected.
                    return None, "object missing from the source"
                if len(parts) != 3 or parts[1] != b"blob":
                    why = "git cat-file returned no blob"
                    self._discard()
                    continue
                length = int(parts[2])
                data = self._proc.stdout.read(length + 1)[:length]
                if len(data) != length:
                    why = "git cat-file output ended early"
                    self._discard()
                    continue
            except (OSError, ValueError):
                why = "git cat-file failed"
                self._discard()
                continue
            self.bytes_read += length
            self.blobs_read += 1
            return data, ""
        return None, why


class _ReaderFailed(Exception):
    """Raised into a cat-file stream to kill it."""


@dataclass
class _State:
    pointers: list[Pointer] = field(default_factory=list)
    matched: int = 0
    reasons: list[str] = field(default_factory=list)

    def hit(self, pointer: Pointer) -> None:
        # One pointer per file; a content or dependency match (with a line) beats a path match.
        for index, known in enumerate(self.pointers):
            if known.ref == pointer.ref:
                if known.line is None and pointer.line is not None:
                    self.pointers[index] = pointer
                return
        self.matched += 1
        if len(self.pointers) < MAX_POINTERS:
            self.pointers.append(pointer)

    def cannot(self, reason: str) -> None:
        if reason not in self.reasons and len(self.reasons) < 5:
            self.reasons.append(reason)


_GLOB_CACHE: dict[int, tuple[Catalogue, GlobSet]] = {}


def _globs_for(catalogue: Catalogue) -> GlobSet:
    """Every glob of the catalogue in one GlobSet, compiled once per catalogue object."""
    cached = _GLOB_CACHE.get(id(catalogue))
    if cached is not None and cached[0] is catalogue:
        return cached[1]
    globs = GlobSet()
    for glob in catalogue.ignore:
        globs.add(glob, ("ignore",))
    for d_index, detector in enumerate(catalogue.detectors):
        for glob in detector.paths:
            globs.add(glob, ("path", d_index))
        for r_index, rule in enumerate(detector.content):
            for glob in rule.files:
                globs.add(glob, ("content", d_index, r_index))
    for glob, (ecosystem, parser) in MANIFESTS.items():
        globs.add(glob, ("manifest", ecosystem, parser))
    globs.add(WORKFLOW_GLOB, ("workflow",))
    if len(_GLOB_CACHE) > 8:  # tests load many small catalogues; keep the cache small
        _GLOB_CACHE.clear()
    _GLOB_CACHE[id(catalogue)] = (catalogue, globs)
    return globs


@dataclass(frozen=True)
class FileScan:
    findings: tuple[Finding, ...]
    facts: dict[str, Any]
    warnings: tuple[str, ...]
    partial: bool


def scan_files(
    *,
    catalogue: Catalogue,
    runner: GitRunner,
    git_dir: Path,
    limits: Limits,
    commit: str = "HEAD",
) -> FileScan:
    """Evaluate every repository detector of the catalogue against `commit`'s tree."""
    globs = _globs_for(catalogue)

    states = [_State() for _ in catalogue.detectors]
    content_files: dict[tuple[int, int], list[TreeFile]] = {}
    manifests: list[tuple[TreeFile, str, str]] = []
    workflow_files: list[TreeFile] = []
    broken_ecosystems: dict[str, str] = {}
    workflow_unreadable = 0
    entries = ignored = 0
    truncated = False

    try:
        for tree_file in iter_tree(
            runner=runner, git_dir=git_dir, commit=commit, limit=limits.max_tree_entries
        ):
            entries += 1
            if entries % 5000 == 0:
                runner.check("files", 45)
            keys = list(globs.match(tree_file.path))
            if ("ignore",) in keys:
                ignored += 1
                continue
            for key in dict.fromkeys(keys):  # a file counts once per key
                assert isinstance(key, tuple)
                if key[0] == "path":
                    states[key[1]].hit(Pointer("file", tree_file.path))
                elif key[0] == "content":
                    bucket = content_files.setdefault((key[1], key[2]), [])
                    if len(bucket) < limits.max_content_files:
                        bucket.append(tree_file)
                    else:
                        states[key[1]].cannot(
                            f"more than {limits.max_content_files} files to search"
                        )
                elif key[0] == "manifest":
                    if len(manifests) < limits.max_manifests:
                        manifests.append((tree_file, key[1], key[2]))
                    else:
                        broken_ecosystems.setdefault(key[1], "too many manifests")
                elif key[0] == "workflow" and len(workflow_files) < limits.max_content_files:
                    workflow_files.append(tree_file)
                elif key[0] == "workflow":
                    workflow_unreadable += 1
    except _Abandoned:
        truncated = True

    # Read each needed blob once.
    needed: dict[str, TreeFile] = {}
    for bucket in content_files.values():
        for tree_file in bucket:
            needed[tree_file.path] = tree_file
    for tree_file, _eco, _parser in manifests:
        needed[tree_file.path] = tree_file
    for tree_file in workflow_files:
        needed[tree_file.path] = tree_file
    texts: dict[str, str] = {}
    unreadable: dict[str, str] = {}
    blobs_read = bytes_read = 0
    if needed:
        with BlobReader(runner=runner, git_dir=git_dir, limits=limits) as reader:
            for index, path in enumerate(sorted(needed)):
                if index % 200 == 0:
                    runner.check("files", 50)
                tree_file = needed[path]
                data, why = reader.read(tree_file.sha, tree_file.size)
                if data is None:
                    unreadable[path] = why
                else:
                    texts[path] = data.decode("utf-8", "replace")
            blobs_read, bytes_read = reader.blobs_read, reader.bytes_read

    # Content rules.
    for (d_index, r_index), bucket in content_files.items():
        rule = catalogue.detectors[d_index].content[r_index]
        cap = rule.max_bytes or limits.content_scan_bytes
        for tree_file in bucket:
            text = texts.get(tree_file.path)
            if text is None:
                states[d_index].cannot(
                    f"{tree_file.path}: {unreadable.get(tree_file.path, 'unread')}"
                )
                continue
            match = rule.pattern.search(text[:cap])
            if match:
                # A pattern with a group named `at` points at that group's line (the `kind:`
                # of a manifest whose pattern also checks the lines before it).
                at = match.start()
                if "at" in rule.pattern.groupindex and match.start("at") >= 0:
                    at = match.start("at")
                line = text.count("\n", 0, at) + 1
                states[d_index].hit(Pointer("file", tree_file.path, line))

    # Manifests: dependency name -> first (path, line).
    dependencies: dict[str, dict[str, Pointer]] = {}
    for tree_file, ecosystem, parser in manifests:
        text = texts.get(tree_file.path)
        if text is None:
            broken_ecosystems.setdefault(
                ecosystem, f"{tree_file.path}: {unreadable.get(tree_file.path, 'unread')}"
            )
            continue
        try:
            found = parse_manifest(parser, ecosystem, text)
        except (ManifestError, RecursionError):
            broken_ecosystems.setdefault(ecosystem, f"{tree_file.path} could not be parsed")
            continue
        names = dependencies.setdefault(ecosystem, {})
        for name, at_line in found.items():
            names.setdefault(name, Pointer("file", tree_file.path, at_line))
    for d_index, detector in enumerate(catalogue.detectors):
        _match_dependencies(detector, states[d_index], dependencies, broken_ecosystems)

    # Reusable workflows of other repositories: what they run cannot be read here.
    remote_calls = [
        (tree_file.path, match.group(1))
        for tree_file in workflow_files
        for match in _REMOTE_WORKFLOW.finditer(texts.get(tree_file.path, ""))
    ]
    for d_index, detector in enumerate(catalogue.detectors):
        if detector.remote_workflows and not states[d_index].matched and remote_calls:
            path, ref = remote_calls[0]
            more = f" (and {len(remote_calls) - 1} more)" if len(remote_calls) > 1 else ""
            states[d_index].cannot(
                f"{path} calls the reusable workflow {ref}{more} of another repository, which "
                "the scan cannot read"
            )

    # Built-in checks.
    workflows: list[Workflow] = []
    for tree_file in workflow_files:
        text = texts.get(tree_file.path)
        if text is None:
            workflow_unreadable += 1
        else:
            workflows.append(parse_workflow(tree_file.path, text))

    findings: list[Finding] = []
    for d_index, detector in enumerate(catalogue.detectors):
        state = states[d_index]
        if detector.check is not None:
            outcome = CHECK_FUNCTIONS[detector.check](workflows, workflow_unreadable)
            status, detail, evidence = outcome.status, outcome.detail, outcome.evidence
            if truncated and status == "found":
                status, detail = "unknown", detail + " The file list was cut at the entry limit."
        elif state.matched:
            status, evidence = "found", tuple(state.pointers)
            detail = _found_detail(state)
        elif truncated or state.reasons:
            reasons = list(state.reasons)
            if truncated:
                reasons.insert(0, f"the tree has more than {limits.max_tree_entries} files")
            status, evidence = "unknown", ()
            detail = "Could not determine: " + "; ".join(reasons) + "."
        else:
            status, evidence = "absent", _searched(detector, dependencies, content_files, d_index)
            detail = "Not found" + (f": {detector.description}" if detector.description else ".")
        for capability in detector.capabilities:
            findings.append(
                Finding(
                    detector=detector.id,
                    capability=capability,
                    status=status,
                    strength=detector.strength,
                    title=detector.title,
                    detail=detail,
                    evidence=evidence,
                )
            )

    warnings: list[str] = []
    if truncated:
        warnings.append(
            f"The repository has more than {limits.max_tree_entries} files; only the first "
            "were examined."
        )
    if unreadable:
        listed = "; ".join(f"{path} ({why})" for path, why in sorted(unreadable.items())[:10])
        more = f"; and {len(unreadable) - 10} more" if len(unreadable) > 10 else ""
        warnings.append(f"{len(unreadable)} file(s) could not be read: {listed}{more}.")
    facts = {
        "tree_entries": entries,
        "ignored_entries": ignored,
        "truncated": truncated,
        "blobs_read": blobs_read,
        "blob_bytes_read": bytes_read,
        "manifests": len(manifests),
        "dependencies": {eco: len(names) for eco, names in sorted(dependencies.items())},
        "workflows": len(workflow_files),
    }
    return FileScan(tuple(findings), facts, tuple(warnings), truncated or bool(unreadable))


def _searched(
    detector: Detector,
    dependencies: dict[str, dict[str, Pointer]],
    content_files: dict[tuple[int, int], list[TreeFile]],
    d_index: int,
) -> tuple[Pointer, ...]:
    """What an absent detector looked at: its path globs, the manifests it read for each
    ecosystem, and each content pattern with the number of files it searched."""
    out = [Pointer("searched", f"paths {', '.join(detector.paths)}")] if detector.paths else []
    for ecosystem, names in detector.dependencies.items():
        read = len(dependencies.get(ecosystem, {}))
        shown = ", ".join(names[:6]) + (" ..." if len(names) > 6 else "")
        out.append(
            Pointer(
                "searched",
                f"{ecosystem} dependencies ({read} found in manifests) for {shown}",
            )
        )
    for r_index, rule in enumerate(detector.content):
        files = len(content_files.get((d_index, r_index), []))
        pattern = rule.pattern.pattern
        if len(pattern) > 120:
            pattern = pattern[:117] + "..."
        out.append(
            Pointer("searched", f"{files} file(s) matching {', '.join(rule.files)} for /{pattern}/")
        )
    return tuple(out)


def _found_detail(state: _State) -> str:
    shown = ", ".join(p.ref + (f":{p.line}" if p.line else "") for p in state.pointers[:5])
    more = f" and {state.matched - 5} more" if state.matched > 5 else ""
    return f"Found in {shown}{more}."


def _match_dependencies(
    detector: Detector,
    state: _State,
    dependencies: dict[str, dict[str, Pointer]],
    broken: dict[str, str],
) -> None:
    for ecosystem, patterns in detector.dependencies.items():
        names = dependencies.get(ecosystem, {})
        for pattern in patterns:
            if "*" in pattern or "?" in pattern or "[" in pattern:
                hits = [n for n in names if fnmatchcase(n, pattern)]
            else:
                hits = [pattern] if pattern in names else []
            for name in hits:
                pointer = names[name]
                state.hit(Pointer("file", pointer.ref, pointer.line))
        if ecosystem in broken:
            state.cannot(broken[ecosystem])


def read_head(*, runner: GitRunner, git_dir: Path) -> tuple[str, str | None]:
    """(commit sha of HEAD, branch name or None when detached). ScanError if there is none."""
    try:
        sha = (
            runner.run(
                ["rev-parse", "--verify", "--quiet", "HEAD^{commit}"],
                git_dir=git_dir,
                stage="files",
                percent=40,
            )
            .decode()
            .strip()
        )
    except ScanError:
        raise ScanError("The repository has no commits on its default branch.") from None
    try:
        branch = (
            runner.run(
                ["symbolic-ref", "--quiet", "--short", "HEAD"],
                git_dir=git_dir,
                stage="files",
                percent=40,
            )
            .decode()
            .strip()
        )
    except ScanError:
        branch = ""
    return sha, branch or None
