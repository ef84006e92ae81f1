"""What the sanitising copy must not carry: objects nothing in the branch reaches.

An uploaded repository can hold more than its history shows: a secret committed and then
reset away (still in the object store and the reflog), a blob written and never committed, a
stash. `git clone --no-local` goes through upload-pack, which sends only what the copied refs
reach; a local copy (hard links or not) takes the object store whole. These tests look inside
the copy, object by object, for every path into it (archive, zip, server path).
"""

from __future__ import annotations

import os
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from assessments.scans.engine import Limits
from assessments.scans.engine.gitrunner import GitRunner
from assessments.scans.engine.sources import prepare_bare_copy
from tests.scans.engine.gitbuild import RepoBuilder, day

MARK = b"SECRET-"


@dataclass(frozen=True)
class Leaky:
    repo: Path
    hidden: dict[str, str]  # what each secret is -> its object id
    kept: str  # a blob the branch does reach


@pytest.fixture(scope="module")
def leaky(tmp_path_factory: pytest.TempPathFactory) -> Leaky:
    base = tmp_path_factory.mktemp("leaky")
    repo = RepoBuilder(base / "repo")
    repo.commit("Initial", files={"app.py": "print('hi')\n"}, when=day(1))
    kept = repo.git("rev-parse", "HEAD:app.py").strip()
    hidden: dict[str, str] = {}
    # A secret committed, then reset away: only the reflog still knows it.
    repo.commit("Oops", files={"config.env": "TOKEN=SECRET-RESET\n"}, when=day(2))
    hidden["reset commit"] = repo.head()
    hidden["reset blob"] = repo.git("rev-parse", "HEAD:config.env").strip()
    repo.git("reset", "-q", "--hard", "HEAD~1")
    # A secret amended out of the last commit.
    repo.commit(
        "Feature", files={"feature.py": "x = 1\n", "key.pem": "SECRET-AMENDED\n"}, when=day(3)
    )
    hidden["amended blob"] = repo.git("rev-parse", "HEAD:key.pem").strip()
    repo.git("rm", "-q", "--cached", "key.pem")
    (repo.path / "key.pem").unlink()
    who = {"GIT_AUTHOR_NAME": "A", "GIT_AUTHOR_EMAIL": "a@example.com"}
    who |= {"GIT_COMMITTER_NAME": "A", "GIT_COMMITTER_EMAIL": "a@example.com"}
    repo.git("commit", "-q", "--amend", "--no-edit", env=who)
    # A blob written to the store and never committed.
    hidden["dangling blob"] = repo.git(
        "hash-object", "-w", "--stdin", input=b"password=SECRET-DANGLING\n"
    ).strip()
    # A stash (refs/stash is no branch).
    (repo.path / "app.py").write_text("print('SECRET-STASHED')\n")
    repo.git("stash", "-q", env=who)
    hidden["stashed blob"] = repo.git("rev-parse", "stash@{0}:app.py").strip()
    return Leaky(repo.path, hidden, kept)


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


def _copy(leaky: Leaky, how: str, tmp_path: Path) -> tuple[GitRunner, Path]:
    job = tmp_path / "job"
    job.mkdir()
    runner = GitRunner(job_root=job)
    if how == "path":
        copy = prepare_bare_copy(
            source=leaky.repo,
            kind="path",
            runner=runner,
            workdir=job,
            limits=Limits(),
            allowed_roots=(leaky.repo.parent,),
        )
    else:
        archive = (_tar_gz if how == "tar.gz" else _zip)(leaky.repo, tmp_path / f"up.{how}")
        copy = prepare_bare_copy(
            source=archive, kind="archive", runner=runner, workdir=job, limits=Limits()
        )
    return runner, copy.path


@pytest.mark.parametrize("how", ["tar.gz", "zip", "path"])
def test_the_copy_holds_no_object_the_branch_does_not_reach(
    leaky: Leaky, how: str, tmp_path: Path
) -> None:
    runner, copy = _copy(leaky, how, tmp_path)
    try:
        listing = runner.run(
            ["cat-file", "--batch-all-objects", "--batch-check=%(objectname)"], git_dir=copy
        )
        objects = set(listing.decode().split())
        assert leaky.kept in objects  # the history itself did arrive
        for what, sha in leaky.hidden.items():
            assert sha not in objects, f"the {what} travelled into the copy"
        # And no object at all, whatever its id, carries a secret's bytes.
        contents = runner.run(["cat-file", "--batch-all-objects", "--batch"], git_dir=copy)
        assert MARK not in contents
        refs = runner.run(["for-each-ref", "--format=%(refname)"], git_dir=copy).decode()
        assert "refs/stash" not in refs
        assert not (copy / "logs").exists() or not any((copy / "logs").rglob("*stash*"))
    finally:
        runner.cleanup()
