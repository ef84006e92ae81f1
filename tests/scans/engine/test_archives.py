from __future__ import annotations

import io
import stat
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from assessments.scans.engine.archives import _Entry, _Writer, extract_archive, sniff_archive
from assessments.scans.engine.model import Limits, ScanError


def make_tar(
    path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]], *, gz: bool = True
) -> Path:
    with tarfile.open(path, "w:gz" if gz else "w", format=tarfile.PAX_FORMAT) as tf:
        for info, data in members:
            tf.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def tar_file(name: str, data: bytes = b"x") -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def tar_special(name: str, kind: bytes, link: str = "") -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    return info, None


def make_zip(path: Path, entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for info, data in entries:
            zf.writestr(info, data)
    return path


def zip_symlink(name: str, target: str) -> tuple[zipfile.ZipInfo, bytes]:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target.encode()


def make_encrypted_zip(path: Path) -> Path:
    """A zip whose entry claims to be encrypted (zipfile cannot write one: patch the flags)."""
    make_zip(path, [("secret", b"x")])
    data = bytearray(path.read_bytes())
    local, central = data.find(b"PK\x03\x04"), data.find(b"PK\x01\x02")
    data[local + 6] |= 0x1
    data[central + 8] |= 0x1
    path.write_bytes(bytes(data))
    return path


Builder = Callable[[Path], Path]

REFUSED: dict[str, tuple[Builder, str, Limits]] = {
    "tar dot-dot": (lambda d: make_tar(d / "a.tgz", [tar_file("../evil.txt")]), "contains '..'", Limits()),
    "tar absolute": (lambda d: make_tar(d / "a.tgz", [tar_file("/tmp/evil.txt")]), "absolute name", Limits()),
    "tar symlink": (lambda d: make_tar(d / "a.tgz", [tar_special("link", tarfile.SYMTYPE, "/etc/passwd")]), "symbolic link", Limits()),
    "tar hard link": (lambda d: make_tar(d / "a.tgz", [tar_file("a"), tar_special("b", tarfile.LNKTYPE, "a")]), "hard link", Limits()),
    "tar device": (lambda d: make_tar(d / "a.tgz", [tar_special("dev", tarfile.CHRTYPE)]), "is a device", Limits()),
    "tar fifo": (lambda d: make_tar(d / "a.tar", [tar_special("pipe", tarfile.FIFOTYPE)], gz=False), "FIFO", Limits()),
    "tar backslash": (lambda d: make_tar(d / "a.tgz", [tar_file("a\\..\\b")]), "backslash", Limits()),
    "tar drive letter": (lambda d: make_tar(d / "a.tgz", [tar_file("C:/windows/x")]), "drive letter", Limits()),
    "tar control char": (lambda d: make_tar(d / "a.tgz", [tar_file("a\x1bb")]), "control characters", Limits()),
    "tar case duplicate": (lambda d: make_tar(d / "a.tgz", [tar_file("README"), tar_file("readme")]), "duplicate name", Limits()),
    "tar too many": (lambda d: make_tar(d / "a.tgz", [tar_file(f"f{i}") for i in range(10)]), "more than 5 entries", Limits(max_entries=5)),
    "tar too big": (lambda d: make_tar(d / "a.tgz", [tar_file("big", b"x" * 2000)]), "expands to more than", Limits(max_extracted_bytes=1000)),
    "gzip bomb": (lambda d: make_tar(d / "a.tgz", [tar_file("zeros", bytes(20 * 1024 * 1024))]), "zip bomb", Limits()),
    "zip dot-dot": (lambda d: make_zip(d / "a.zip", [("../evil.txt", b"x")]), "contains '..'", Limits()),
    "zip absolute": (lambda d: make_zip(d / "a.zip", [("/tmp/evil.txt", b"x")]), "absolute name", Limits()),
    "zip backslash": (lambda d: make_zip(d / "a.zip", [("..\\evil.txt", b"x")]), "backslash", Limits()),
    "zip drive letter": (lambda d: make_zip(d / "a.zip", [("C:evil.txt", b"x")]), "drive letter", Limits()),
    "zip control char": (lambda d: make_zip(d / "a.zip", [("a\x07b", b"x")]), "control characters", Limits()),
    "zip symlink": (lambda d: make_zip(d / "a.zip", [zip_symlink("link", "/etc/passwd")]), "symbolic link", Limits()),
    "zip encrypted": (lambda d: make_encrypted_zip(d / "a.zip"), "encrypted", Limits()),
    "zip case duplicate": (lambda d: make_zip(d / "a.zip", [("A.txt", b"1"), ("a.TXT", b"2")]), "duplicate name", Limits()),
    "zip file then dir": (lambda d: make_zip(d / "a.zip", [("a", b"1"), ("a/b", b"2")]), "inside a path that is also a file", Limits()),
    "zip bomb": (lambda d: make_zip(d / "a.zip", [("zeros", bytes(10 * 1024 * 1024))]), "zip bomb", Limits()),
    "zip too many": (lambda d: make_zip(d / "a.zip", [(f"f{i}", b"x") for i in range(10)]), "more than 5 entries", Limits(max_entries=5)),
    "zip too big": (lambda d: make_zip(d / "a.zip", [("big", b"x" * 2000)]), "expands to more than", Limits(max_extracted_bytes=1000)),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_hostile_archives_are_refused_and_nothing_is_written(case: str, tmp_path: Path) -> None:
    build, reason, limits = REFUSED[case]
    source = tmp_path / "incoming"
    source.mkdir()
    archive = build(source)
    job = tmp_path / "job"
    dest = job / "upload"
    dest.mkdir(parents=True)
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(ScanError) as caught:
        extract_archive(archive=archive, dest=dest, limits=limits)
    assert reason in str(caught.value)
    assert str(caught.value).startswith("The archive was refused")
    assert list(dest.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert not Path("/tmp/evil.txt").exists()


def test_a_good_archive_extracts_and_nested_archives_stay_files(tmp_path: Path) -> None:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("inner.txt", "inner")
    archive = make_zip(
        tmp_path / "a.zip",
        [
            ("repo/", b""),
            ("repo/README.md", b"# hi\n"),
            ("repo/deep/a/b.txt", b"b"),
            ("repo/nested.zip", inner.getvalue()),
        ],
    )
    dest = tmp_path / "out"
    dest.mkdir()
    assert extract_archive(archive=archive, dest=dest, limits=Limits()) == "zip"
    assert (dest / "repo/README.md").read_text() == "# hi\n"
    assert (dest / "repo/deep/a/b.txt").read_text() == "b"
    assert (dest / "repo/nested.zip").read_bytes() == inner.getvalue()
    assert not (dest / "repo/inner.txt").exists()
    mode = (dest / "repo/README.md").stat().st_mode
    assert not mode & 0o111  # nothing extracted is executable


def test_dot_prefixed_tar_members_extract_under_the_destination(tmp_path: Path) -> None:
    archive = make_tar(
        tmp_path / "a.tgz", [tar_file("./repo/.git/HEAD", b"ref: refs/heads/main\n")]
    )
    dest = tmp_path / "out"
    dest.mkdir()
    assert extract_archive(archive=archive, dest=dest, limits=Limits()) == "tar.gz"
    assert (dest / "repo/.git/HEAD").read_bytes() == b"ref: refs/heads/main\n"


def test_the_type_comes_from_magic_bytes_not_the_name(tmp_path: Path) -> None:
    disguised = make_tar(tmp_path / "looks-like.zip", [tar_file("a.txt")])
    assert sniff_archive(disguised) == "tar.gz"
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"MZ\x90\x00 not an archive")
    with pytest.raises(ScanError, match="not a supported archive"):
        sniff_archive(junk)
    bundle = tmp_path / "x.tgz"
    bundle.write_bytes(b"# v2 git bundle\nabc refs/heads/main\n\n")
    assert sniff_archive(bundle) == "bundle"


def test_oversized_uploads_are_refused_before_reading(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "a.zip", [("a.txt", b"x" * 5000)])
    dest = tmp_path / "out"
    dest.mkdir()
    with pytest.raises(ScanError, match="larger than the limit"):
        extract_archive(archive=archive, dest=dest, limits=Limits(max_archive_bytes=100))


def test_real_bytes_are_counted_while_writing(tmp_path: Path) -> None:
    writer = _Writer(tmp_path, Limits(max_extracted_bytes=50))
    with pytest.raises(ScanError, match="holds more data than its header declares"):
        writer.write(_Entry("liar.bin", False, 10), io.BytesIO(b"x" * 100))
    writer = _Writer(tmp_path, Limits(max_extracted_bytes=50))
    with pytest.raises(ScanError, match="expands to more than"):
        writer.write(_Entry("big.bin", False, 1000), io.BytesIO(b"x" * 100))


def test_damaged_archives_give_a_clear_error(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "a.zip", [("a.txt", b"hello world" * 100)])
    data = bytearray(archive.read_bytes())
    data[40:60] = b"\x00" * 20
    archive.write_bytes(bytes(data))
    dest = tmp_path / "out"
    dest.mkdir()
    with pytest.raises(ScanError, match="damaged|refused"):
        extract_archive(archive=archive, dest=dest, limits=Limits())
    assert list(dest.iterdir()) == []
