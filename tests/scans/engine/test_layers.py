"""Defence in depth for the scan engine: each layer tested with the other switched off.

Two checks guard each of these, so a test that exercises both at once cannot notice one of
them rotting. Here each layer faces the attack alone:

- archive entries: the name check (`clean_name`) and the writer's own "outside the upload
  folder" check;
- untrusted repositories: the sanitising copy (no config, hooks or attributes survive it) and
  the runner's safety flags (`-c core.hooksPath=/dev/null`, `--no-textconv`, ...).
"""

from __future__ import annotations

import io
import os
import shutil
import tarfile
from pathlib import Path

import pytest

from assessments.scans.engine import archives, gitrunner, scan_repository, sources
from assessments.scans.engine.model import Limits, ScanError
from tests.scans.engine.gitbuild import RepoBuilder, day
from tests.scans.engine.test_lab import Hostile, _clear, _tar_gz, hostile  # noqa: F401

ESCAPES = ["../escaped.txt", "a/../../escaped.txt", "/tmp/opready-absolute-escape.txt"]


def _tar(path: Path, name: str) -> Path:
    data = b"escaped\n"
    with tarfile.open(path, "w:gz") as tf:
        info = tarfile.TarInfo("repo/README.md")
        info.size = 3
        tf.addfile(info, io.BytesIO(b"hi\n"))
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    return path


def _nothing_escaped(tmp_path: Path) -> None:
    assert not (tmp_path / "escaped.txt").exists()
    assert not (tmp_path.parent / "escaped.txt").exists()
    assert not Path("/tmp/opready-absolute-escape.txt").exists()


@pytest.mark.parametrize("name", ESCAPES)
def test_the_writer_alone_keeps_entries_inside_the_upload_folder(
    tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The name check switched off: names pass through as the archive spells them.
    monkeypatch.setattr(
        archives, "clean_name", lambda raw: raw.strip("/") if raw == "repo/" else raw
    )
    dest = tmp_path / "job" / "upload"
    dest.mkdir(parents=True)
    with pytest.raises(ScanError) as caught:
        archives.extract_archive(archive=_tar(tmp_path / "a.tgz", name), dest=dest, limits=Limits())
    assert str(caught.value) == (
        f"The archive was refused: entry '{name}' would be written outside the upload folder."
    )
    _nothing_escaped(tmp_path / "job")


def test_the_writer_alone_never_writes_through_a_link_or_over_a_file(tmp_path: Path) -> None:
    # The name and duplicate checks switched off (the writer called directly): links and files
    # already in the folder must stop it, never be followed or overwritten.
    dest = tmp_path / "job" / "upload"
    dest.mkdir(parents=True)
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"original")
    (dest / "link").symlink_to(outside)
    (dest / "dangling").symlink_to(tmp_path / "created-outside.txt")
    (dest / "taken").write_bytes(b"first")
    writer = archives._Writer(dest, Limits())
    for name in ("link", "dangling", "taken"):
        with pytest.raises(FileExistsError):
            writer.write(archives._Entry(name, False, 5), io.BytesIO(b"later"))
    assert outside.read_bytes() == b"original"
    assert not (tmp_path / "created-outside.txt").exists()
    assert (dest / "taken").read_bytes() == b"first"


def test_the_writer_reads_an_entry_in_bounded_chunks(tmp_path: Path) -> None:
    # An entry is never read into memory whole: its size is checked as the chunks come.
    sizes: list[int | None] = []

    class Recording(io.BytesIO):
        def read(self, size: int | None = -1, /) -> bytes:
            sizes.append(size)
            return super().read(size)

    writer = archives._Writer(tmp_path, Limits())
    data = bytes(3 * archives.CHUNK // 2)
    writer.write(archives._Entry("blob.bin", False, len(data)), Recording(data))
    assert (tmp_path / "blob.bin").read_bytes() == data
    assert sizes == [archives.CHUNK] * 3


@pytest.mark.parametrize("name", ESCAPES)
def test_the_name_check_alone_refuses_entries_that_leave_the_folder(
    tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The writer's own check switched off: every path counts as inside the folder.
    monkeypatch.setattr(archives.os.path, "commonpath", lambda paths: paths[-1])
    dest = tmp_path / "job" / "upload"
    dest.mkdir(parents=True)
    with pytest.raises(ScanError, match="absolute name|contains '..'"):
        archives.extract_archive(archive=_tar(tmp_path / "a.tgz", name), dest=dest, limits=Limits())
    _nothing_escaped(tmp_path / "job")


def test_the_sanitising_copy_alone_runs_nothing_from_the_repository(
    hostile: Hostile,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The runner's safety flags switched off: only the copy stands between git and the traps.
    monkeypatch.setattr(gitrunner, "SAFE_CONFIG", ())
    monkeypatch.setattr(gitrunner, "DIFF_SAFETY", ())
    _clear(hostile.markers)
    workdir = tmp_path / "job"
    workdir.mkdir()
    result = scan_repository(
        source=_tar_gz(hostile.repo, tmp_path / "up.tgz"),
        kind="archive",
        workdir=workdir,
        now=day(30),
    )
    assert result.facts["history"]["commits"] == 3
    assert sorted(m.name for m in hostile.markers.iterdir()) == []


def test_the_file_size_limit_alone_stops_a_copy_past_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The runner's watch on the copy's folder switched off: only the file-size limit given
    # to the copy's writer stops a source larger than the limit.
    monkeypatch.setattr(gitrunner, "_dir_bytes", lambda path: 0)
    repo = RepoBuilder(tmp_path / "big")
    repo.commit("big", files={"blob.bin": os.urandom(1_500_000)}, when=day(1))
    (tmp_path / "job").mkdir()
    runner = gitrunner.GitRunner(job_root=tmp_path / "job")
    try:
        with pytest.raises(ScanError, match="larger than the size limit of 1 MiB"):
            sources._clone(
                runner=runner, source=repo.path, dest=tmp_path / "job" / "copy.git",
                limits=Limits(max_repo_bytes=1024 * 1024),
            )  # fmt: skip
    finally:
        runner.cleanup()


def test_the_runner_alone_runs_nothing_from_the_repository(
    hostile: Hostile,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The sanitising copy switched off: the repository's own .git, config, hooks and
    # attributes included, is what the scan reads.
    def plain_copy(
        *, runner: object, source: Path, dest: Path, limits: Limits, since: int | None = None
    ) -> bool:
        shutil.copytree(source / ".git", dest, symlinks=True)
        return False  # the whole history, config and hooks included

    monkeypatch.setattr(sources, "sanitising_clone", plain_copy)
    _clear(hostile.markers)
    workdir = tmp_path / "job"
    workdir.mkdir()
    result = scan_repository(
        source=hostile.repo,
        kind="path",
        workdir=workdir,
        now=day(30),
        allowed_roots=[hostile.repo.parent],
    )
    assert result.facts["history"]["commits"] == 3
    assert sorted(m.name for m in hostile.markers.iterdir()) == []
    # The commands that set off the traps for plain git (see the lab's positive control),
    # through the runner, straight on the repository's own .git.
    runner = gitrunner.GitRunner(job_root=hostile.repo)
    try:
        runner.run(["log", "-p", "-2"], git_dir=hostile.repo / ".git")
        runner.run(["log", "-1"], git_dir=hostile.repo / ".git")  # log.showSignature is set
        runner.run(["diff", "HEAD~2", "HEAD~1"], git_dir=hostile.repo / ".git")
    finally:
        runner.cleanup()
    assert sorted(m.name for m in hostile.markers.iterdir()) == []
