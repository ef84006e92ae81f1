"""A local source that lacks some objects is scanned: only what is missing is marked.

A partial clone, a promisor remote's checkout, a mirror without its largest blobs or a
damaged pack: the strict copy through upload-pack refuses such a source, so the copy is made
again without the missing blobs (sources.lenient_upload_pack). These tests build such sources
themselves and check that the scan completes, marks exactly the files whose contents are
missing, keeps every safety property of the copy, and names missing commits or trees.
"""

from __future__ import annotations

import subprocess
import tarfile
from pathlib import Path

import pytest

from assessments.scans.engine import Limits, ScanError, scan_repository
from assessments.scans.engine.gitrunner import GitRunner
from assessments.scans.engine.model import ScanResult
from assessments.scans.engine.sources import BareCopy, prepare_bare_copy
from tests.scans.engine.gitbuild import RepoBuilder, day, git_env
from tests.scans.engine.test_lab import CONFIG_PROGRAMS, HOOKS, _script

ALERTS = "groups:\n  - name: api\n    rules:\n      - alert: HighLatency\n"
FILES = {
    "a/alerts.yml": ALERTS,
    "package.json": '{"dependencies": {"@sentry/node": "8"}}\n',
    "requirements.txt": "structlog\n",
    "deploy/app.yaml": "apiVersion: apps/v1\nkind: Deployment\n",
}


def _lose(repo: RepoBuilder, spec: str) -> str:
    """Delete the loose object `spec` names from the source; returns its id."""
    sha = repo.git("rev-parse", spec).strip()
    (repo.path / ".git" / "objects" / sha[:2] / sha[2:]).unlink()
    return sha


def _scan(source: Path, tmp_path: Path, window_days: int = 3650) -> ScanResult:
    workdir = tmp_path / "job"
    workdir.mkdir()
    result = scan_repository(
        source=source,
        kind="path",
        workdir=workdir,
        now=day(30),
        allowed_roots=[source.parent],
        window_days=window_days,
    )
    assert list(workdir.iterdir()) == []
    return result


@pytest.mark.parametrize("window_days", [3650, 25])
def test_a_source_missing_one_blob_is_scanned_with_only_that_file_marked(
    tmp_path: Path, window_days: int
) -> None:
    repo = RepoBuilder(tmp_path / "src")
    repo.commit("Layout", files=FILES, when=day(1))
    repo.commit("More", files={"README.md": "# app\n"}, when=day(10))
    repo.commit("Tune", files={"a/alerts.yml": ALERTS + "      - alert: Errors\n"}, when=day(20))
    _lose(repo, "HEAD:a/alerts.yml")
    result = _scan(repo.path, tmp_path, window_days)
    status = {f.detector: (f.status, f.detail) for f in result.findings}
    assert status["repo.sentry"][0] == "found"
    assert status["repo.structured-logging"][0] == "found"
    assert status["repo.kubernetes"][0] == "found"
    assert status["repo.alert-rules"] == (
        "unknown",
        "Could not determine: a/alerts.yml: object missing from the source.",
    )
    warnings = result.warnings
    assert "1 file(s) could not be read: a/alerts.yml (object missing from the source)." in (
        warnings
    )
    (lacking,) = [w for w in warnings if "lacks the contents" in w]
    assert "lacks the contents of 1 file version(s)" in lacking
    assert "At HEAD: a/alerts.yml;" in lacking
    assert "limit" not in " ".join(warnings)
    assert result.partial is True
    # History reads every commit, the one that changed the missing file included.
    facts = result.facts
    assert facts["history"]["commits"] == (3 if window_days > 30 else 2)
    assert facts["repository"]["missing_blobs"] == 1
    assert facts["repository"]["missing_at_head"] == ["a/alerts.yml"]


@pytest.mark.parametrize("since", [None, int(day(15).timestamp())])
def test_an_upload_missing_one_blob_is_copied_leniently(tmp_path: Path, since: int | None) -> None:
    """An uploaded archive takes the same lenient copy as a local path: the copy says which
    blob is missing and where, under the upload's own name, and the extracted upload is gone."""
    repo = RepoBuilder(tmp_path / "src")
    repo.commit("Layout", files=FILES, when=day(1))
    repo.commit("Tune", files={"a/alerts.yml": ALERTS + "      - alert: Errors\n"}, when=day(20))
    _lose(repo, "HEAD:a/alerts.yml")
    upload = tmp_path / "upload.tgz"
    with tarfile.open(upload, "w:gz") as tf:
        tf.add(repo.path, arcname="repo")
    job = tmp_path / "job"
    job.mkdir()
    runner = GitRunner(job_root=job)
    try:
        copy = prepare_bare_copy(
            source=upload, kind="archive", runner=runner, workdir=job, limits=Limits(),
            since=since,
        )  # fmt: skip
    finally:
        runner.cleanup()
    windowed = since is not None
    assert copy == BareCopy(job / "repo.git", "upload.tgz", False, windowed, 1, ("a/alerts.yml",))
    assert sorted(p.name for p in job.iterdir()) == ["repo.git"]


def test_missing_blobs_are_told_apart_from_file_names_and_named_in_any_bytes(
    tmp_path: Path,
) -> None:
    """File names are bytes to git. A missing blob at HEAD whose name is not UTF-8 is still
    named (a stand-in for the byte UTF-8 cannot read), and a file whose name looks like
    git's mark for a missing object (`?` and an object id) is no missing object."""
    repo = RepoBuilder(tmp_path / "src")
    repo.commit("Layout", files=FILES, when=day(1))
    present = repo.git("rev-parse", "HEAD:package.json").strip()
    (repo.path / f"a ?{present}").write_text("a file, not a missing object\n")
    with open(bytes(repo.path) + b"/caf\xe9.txt", "w") as handle:
        handle.write("lost contents\n")
    repo.commit("Odd names", when=day(2))
    lost = repo.git("hash-object", "--stdin", input=b"lost contents\n").strip()
    (repo.path / ".git" / "objects" / lost[:2] / lost[2:]).unlink()
    job = tmp_path / "job"
    job.mkdir()
    runner = GitRunner(job_root=job)
    try:
        copy = prepare_bare_copy(
            source=repo.path, kind="path", runner=runner, workdir=job, limits=Limits(),
            allowed_roots=(tmp_path,),
        )  # fmt: skip
    finally:
        runner.cleanup()
    assert (copy.missing_blobs, copy.missing_at_head) == (1, ("caf\ufffd.txt",))


def test_a_complete_source_is_copied_strictly(tmp_path: Path) -> None:
    repo = RepoBuilder(tmp_path / "src")
    repo.commit("Layout", files=FILES, when=day(1))
    result = _scan(repo.path, tmp_path)
    assert result.facts["repository"]["missing_blobs"] == 0
    assert not any("lacks" in w for w in result.warnings)


def test_a_partial_clone_is_scanned_and_nothing_is_fetched_for_it(tmp_path: Path) -> None:
    """A `--filter=blob:limit` clone from a server: its large blobs were never fetched, and
    the scan must not fetch them from its promisor remote either."""
    origin = RepoBuilder(tmp_path / "origin")
    big = "x: 1\n" * 400  # over the filter's limit
    origin.commit("Layout", files=FILES | {"deploy/big.yaml": big}, when=day(1))
    origin.commit("Later", files={"README.md": "# app\n"}, when=day(5))
    origin.git("config", "uploadpack.allowFilter", "true")
    clone = tmp_path / "partial"
    subprocess.run(
        ["/usr/bin/git", "-c", "protocol.file.allow=always", "clone", "-q", "--no-checkout",
         "--filter=blob:limit=1k", f"file://{origin.path}", str(clone)],
        env=git_env(tmp_path), check=True, capture_output=True,
    )  # fmt: skip
    before = sorted(p.name for p in (clone / ".git" / "objects").rglob("*"))
    result = _scan(clone, tmp_path)
    after = sorted(p.name for p in (clone / ".git" / "objects").rglob("*"))
    assert before == after  # nothing was fetched into (or written to) the source
    assert result.facts["repository"]["missing_blobs"] == 1
    assert result.facts["history"]["commits"] == 2
    assert (
        "1 file(s) could not be read: deploy/big.yaml (object missing from the source)."
        in result.warnings
    )
    assert result.finding("repo.kubernetes").status == "found"


def test_a_missing_tree_is_named_not_blamed_on_a_limit(tmp_path: Path) -> None:
    repo = RepoBuilder(tmp_path / "src")
    repo.commit("Layout", files=FILES, when=day(1))
    _lose(repo, "HEAD:deploy")
    workdir = tmp_path / "job"
    workdir.mkdir()
    with pytest.raises(ScanError) as caught:
        scan_repository(
            source=repo.path, kind="path", workdir=workdir, now=day(30),
            allowed_roots=[tmp_path], window_days=3650,
        )  # fmt: skip
    message = str(caught.value)
    assert message.startswith("The repository could not be copied")
    assert "tree" in message
    assert "limit" not in message and "larger than" not in message
    assert str(tmp_path) not in message
    assert list(workdir.iterdir()) == []


def test_a_hostile_source_with_missing_blobs_runs_nothing_and_leaks_nothing(
    tmp_path: Path,
) -> None:
    """The lenient copy keeps the strict one's guarantees: none of the source's programs
    runs (its own uploadpack.packObjectsHook included) and no unreachable object travels."""
    repo = RepoBuilder(tmp_path / "src")
    repo.commit(
        "Layout", files=FILES | {".gitattributes": "* diff=evil filter=evil\n"}, when=day(1)
    )
    repo.commit("Oops", files={"config.env": "TOKEN=SECRET-RESET\n"}, when=day(2))
    hidden = repo.git("rev-parse", "HEAD:config.env").strip()
    repo.git("reset", "-q", "--hard", "HEAD~1")
    dangling = repo.git("hash-object", "-w", "--stdin", input=b"SECRET-DANGLING\n").strip()
    repo.commit("Tune", files={"README.md": "# app\n"}, when=day(3))
    lost = _lose(repo, "HEAD:a/alerts.yml")
    markers = tmp_path / "markers"
    markers.mkdir()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    git_dir = repo.path / ".git"
    for hook in HOOKS:
        _script(git_dir / "hooks" / hook, markers, f"hook-{hook}")
    lines = []
    for section, key in CONFIG_PROGRAMS:
        _script(bin_dir / f"{section}-{key}", markers, f"config-{section}.{key}")
        lines.append(f"[{section}]\n\t{key} = {bin_dir / f'{section}-{key}'}")
    for kind in ("textconv", "command"):
        _script(bin_dir / f"diff-{kind}", markers, f"diff.evil.{kind}")
    lines += [
        f'[diff "evil"]\n\ttextconv = {bin_dir / "diff-textconv"}\n\tcommand = {bin_dir / "diff-command"}',
        "[uploadpack]\n\tallowFilter = false\n\tallowAnySHA1InWant = true",
    ]
    with open(git_dir / "config", "a") as handle:
        handle.write("\n".join(lines) + "\n")
    job = tmp_path / "job"
    job.mkdir()
    runner = GitRunner(job_root=job)
    try:
        copy = prepare_bare_copy(
            source=repo.path, kind="path", runner=runner, workdir=job, limits=Limits(),
            allowed_roots=(tmp_path,),
        )  # fmt: skip
        assert copy.missing_blobs == 1
        listing = runner.run(
            ["cat-file", "--batch-all-objects", "--batch-check=%(objectname)"], git_dir=copy.path
        )
        objects = set(listing.decode().split())
        assert hidden not in objects and dangling not in objects and lost not in objects
        contents = runner.run(["cat-file", "--batch-all-objects", "--batch"], git_dir=copy.path)
        assert b"SECRET-" not in contents
        # The copy's config is plain: no promisor remote that a read could fetch from.
        config = runner.run(["config", "--list", "--local"], git_dir=copy.path).decode()
        assert "promisor" not in config and "partialclone" not in config
        # History reads through the stand-in; the log runs no program of the source's.
        log = runner.run(["log", "--numstat", "--format=%H", "HEAD"], git_dir=copy.path)
        assert b"a/alerts.yml" in log
    finally:
        runner.cleanup()
    assert sorted(m.name for m in markers.iterdir()) == []
    (tmp_path / "again").mkdir()
    result = _scan(repo.path, tmp_path / "again")
    assert result.facts["history"]["commits"] == 2
    assert sorted(m.name for m in markers.iterdir()) == []


def test_a_blob_missing_only_outside_the_window_is_skipped_by_the_repair_fetch(
    tmp_path: Path,
) -> None:
    """The window copy fetches the parents just outside the window afterwards: a blob only
    they hold is skipped by that fetch, not by the clone, and is not at HEAD."""
    repo = RepoBuilder(tmp_path / "src")
    repo.commit("Base", files=FILES | {"f.txt": "old\n"}, when=day(1))
    repo.branch("topic")
    repo.commit("Topic", files={"other.txt": "x\n"}, when=day(3))
    repo.checkout("main")
    repo.commit("Change", files={"f.txt": "new\n"}, when=day(20))
    repo.merge("topic", "Merge topic", when=day(25))
    lost = _lose(repo, "HEAD~1^:f.txt")
    result = _scan(repo.path, tmp_path, window_days=12)
    facts = result.facts
    assert facts["repository"]["copied"] == "window"
    assert facts["repository"]["missing_blobs"] == 1
    assert facts["repository"]["missing_at_head"] == []
    assert facts["history"]["commits"] == 2  # the change and the merge, each diffed
    (lacking,) = [w for w in result.warnings if "lacks the contents" in w]
    assert "None of them is at HEAD." in lacking
    assert not any("could not be read:" in w for w in result.warnings)
    assert lost not in " ".join(result.warnings)
