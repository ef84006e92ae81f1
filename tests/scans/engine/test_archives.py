from __future__ import annotations

import io
import os
import stat
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from assessments.scans.engine.archives import (
    _check_total_ratio,
    _Entry,
    _Writer,
    clean_name,
    extract_archive,
    sniff_archive,
)
from assessments.scans.engine.model import Limits, ScanCancelled, ScanError

MIB = 1024 * 1024


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


def zip_special(name: str, kind: int) -> tuple[zipfile.ZipInfo, bytes]:
    info = zipfile.ZipInfo(name)
    info.external_attr = (kind | 0o600) << 16
    return info, b""


def tar_with_pax_comment(path: Path, size: int) -> Path:
    """A tar whose one small file carries a PAX header of `size` bytes (tarfile reads a PAX
    header into memory whole: a header-sized memory bomb the declared sizes do not show)."""
    info, data = tar_file("small.txt")
    info.pax_headers = {"comment": "x" * size}
    return make_tar(path, [(info, data)])


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
    "tar absolute": (lambda d: make_tar(d / "a.tgz", [tar_file("/tmp/evil.txt")]), "has an absolute name", Limits()),
    "tar symlink": (lambda d: make_tar(d / "a.tgz", [tar_special("link", tarfile.SYMTYPE, "/etc/passwd")]), "is a symbolic link", Limits()),
    "tar hard link": (lambda d: make_tar(d / "a.tgz", [tar_file("a"), tar_special("b", tarfile.LNKTYPE, "a")]), "is a hard link", Limits()),
    "tar device": (lambda d: make_tar(d / "a.tgz", [tar_special("dev", tarfile.CHRTYPE)]), "is a device", Limits()),
    "tar fifo": (lambda d: make_tar(d / "a.tar", [tar_special("pipe", tarfile.FIFOTYPE)], gz=False), "is a FIFO", Limits()),
    "tar backslash": (lambda d: make_tar(d / "a.tgz", [tar_file("a\\..\\b")]), "contains a backslash", Limits()),
    "tar drive letter": (lambda d: make_tar(d / "a.tgz", [tar_file("C:/windows/x")]), "starts with a drive letter", Limits()),
    "tar control char": (lambda d: make_tar(d / "a.tgz", [tar_file("a\x1bb")]), "contains NUL or control characters", Limits()),
    "tar case duplicate": (lambda d: make_tar(d / "a.tgz", [tar_file("README"), tar_file("readme")]), "is a duplicate name (names are compared case-folded)", Limits()),
    "tar too many": (lambda d: make_tar(d / "a.tgz", [tar_file(f"f{i}") for i in range(10)]), "it has more than 5 entries", Limits(max_entries=5)),
    "tar too big": (lambda d: make_tar(d / "a.tgz", [tar_file("big", b"x" * 2000)]), "it expands to more than 0 MiB", Limits(max_extracted_bytes=1000)),
    "gzip bomb": (lambda d: make_tar(d / "a.tgz", [tar_file("zeros", bytes(20 * 1024 * 1024))]), "it expands far more than archives normally do (zip bomb?)", Limits()),
    "zip dot-dot": (lambda d: make_zip(d / "a.zip", [("../evil.txt", b"x")]), "contains '..'", Limits()),
    "zip absolute": (lambda d: make_zip(d / "a.zip", [("/tmp/evil.txt", b"x")]), "has an absolute name", Limits()),
    "zip backslash": (lambda d: make_zip(d / "a.zip", [("..\\evil.txt", b"x")]), "contains a backslash", Limits()),
    "zip drive letter": (lambda d: make_zip(d / "a.zip", [("C:evil.txt", b"x")]), "starts with a drive letter", Limits()),
    "zip control char": (lambda d: make_zip(d / "a.zip", [("a\x07b", b"x")]), "contains NUL or control characters", Limits()),
    "zip symlink": (lambda d: make_zip(d / "a.zip", [zip_symlink("link", "/etc/passwd")]), "is a symbolic link", Limits()),
    "zip encrypted": (lambda d: make_encrypted_zip(d / "a.zip"), "is encrypted", Limits()),
    "zip case duplicate": (lambda d: make_zip(d / "a.zip", [("A.txt", b"1"), ("a.TXT", b"2")]), "is a duplicate name (names are compared case-folded)", Limits()),
    "zip file then dir": (lambda d: make_zip(d / "a.zip", [("a", b"1"), ("a/b", b"2")]), "is inside a path that is also a file", Limits()),
    "zip bomb": (lambda d: make_zip(d / "a.zip", [("zeros", bytes(10 * 1024 * 1024))]), "has a suspicious compression ratio (zip bomb?)", Limits()),
    "zip too many": (lambda d: make_zip(d / "a.zip", [(f"f{i}", b"x") for i in range(10)]), "it has more than 5 entries", Limits(max_entries=5)),
    "zip too big": (lambda d: make_zip(d / "a.zip", [("big", b"x" * 2000)]), "it expands to more than 0 MiB", Limits(max_extracted_bytes=1000)),
    "zip device": (lambda d: make_zip(d / "a.zip", [zip_special("dev", stat.S_IFCHR)]), "is a device, FIFO or other special file", Limits()),
    "zip fifo": (lambda d: make_zip(d / "a.zip", [zip_special("pipe", stat.S_IFIFO)]), "is a device, FIFO or other special file", Limits()),
    "zip doubled slash": (lambda d: make_zip(d / "a.zip", [("a/b", b"1"), ("a//b", b"2")]), "is a duplicate name (names are compared case-folded)", Limits()),
    "tar long name part": (lambda d: make_tar(d / "a.tgz", [tar_file("repo/" + "n" * 256)]), "has a name that is too long", Limits()),
    "tar sparse": (lambda d: make_tar(d / "a.tar", [tar_special("sparse.bin", tarfile.GNUTYPE_SPARSE)], gz=False), "is a sparse file", Limits()),
    "tar unknown type": (lambda d: make_tar(d / "a.tgz", [tar_special("odd", b"Z")]), "has an unsupported type", Limits()),
    "zip dir named like a file": (lambda d: make_zip(d / "a.zip", [("notes", b"1"), ("NOTES/", b"")]), "is a duplicate name (names are compared case-folded)", Limits()),
    "tar huge pax header": (lambda d: tar_with_pax_comment(d / "a.tgz", 200_000), "it expands to more than 0 MiB", Limits(max_extracted_bytes=1000, max_entries=5)),
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
    # The whole reason, word for word: what the person who uploaded the archive reads.
    assert str(caught.value).startswith("The archive was refused: ")
    assert str(caught.value).endswith(f" {reason}.")
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
    # Only the server's own user may read the upload: files 0600, folders 0700, including the
    # folders no entry names (repo/deep/a).
    assert stat.S_IMODE(mode) == 0o600
    for folder in ("repo", "repo/deep", "repo/deep/a"):
        assert stat.S_IMODE((dest / folder).stat().st_mode) == 0o700


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


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("a\x1bb", "contains NUL or control characters"),
        ("a\x00b", "contains NUL or control characters"),
        ("a\\b", "contains a backslash"),
        ("/etc/passwd", "has an absolute name"),
        ("C:evil", "starts with a drive letter"),
        ("a/../../b", "contains '..'"),
        ("a/" + "n" * 256, "has a name that is too long"),
        ("a/" * 2100, "has a name that is too long"),
    ],
)
def test_a_refusal_names_the_entry_and_the_reason_in_full(raw: str, reason: str) -> None:
    with pytest.raises(ScanError) as caught:
        clean_name(raw)
    shown = raw[:200].encode("unicode_escape").decode("ascii")
    assert str(caught.value) == f"The archive was refused: entry '{shown}' {reason}."


def test_names_are_cleaned_to_plain_relative_paths() -> None:
    assert clean_name("./repo//src/./a.py") == "repo/src/a.py"
    assert clean_name("repo/My Notes (draft).md") == "repo/My Notes (draft).md"
    longest = "a/" * 2047 + "bc"  # 4,096 bytes: the most a name may have
    assert clean_name(longest) == longest
    with pytest.raises(ScanError, match="has a name that is too long"):
        clean_name(longest + "d")
    assert clean_name("repo/") == "repo"
    assert clean_name("./") == ""
    assert clean_name("n" * 255) == "n" * 255


@pytest.mark.parametrize("form", ["zip", "tar", "tar.gz"])
def test_an_archive_exactly_at_the_entry_and_size_limits_extracts(
    tmp_path: Path, form: str
) -> None:
    # Five entries of 1,000 bytes under limits of five entries and 5,000 bytes: the limits
    # are maxima, so this is allowed. (The tar stream's own headers do not count as content.)
    files = {f"f{i}.bin": os.urandom(1000) for i in range(5)}
    if form == "zip":
        archive = make_zip(tmp_path / "a.zip", list(files.items()))
    else:
        members = [tar_file(name, data) for name, data in files.items()]
        archive = make_tar(tmp_path / f"a.{form}", list(members), gz=form == "tar.gz")
    dest = tmp_path / "out"
    dest.mkdir()
    limits = Limits(max_entries=5, max_extracted_bytes=5000)
    assert extract_archive(archive=archive, dest=dest, limits=limits) == form
    assert {p.name: p.read_bytes() for p in dest.iterdir()} == files


@pytest.mark.parametrize("form", ["zip", "tar.gz"])
def test_a_large_archive_of_ordinary_files_extracts(tmp_path: Path, form: str) -> None:
    data = os.urandom(3 * MIB // 2)  # over the size where compression ratios are checked
    if form == "zip":
        archive = make_zip(tmp_path / "a.zip", [("repo/blob.bin", data)])
    else:
        archive = make_tar(tmp_path / "a.tgz", [tar_file("repo/blob.bin", data)])
    dest = tmp_path / "out"
    dest.mkdir()
    assert extract_archive(archive=archive, dest=dest, limits=Limits()) == form
    assert (dest / "repo/blob.bin").read_bytes() == data


def test_a_compression_ratio_exactly_at_the_limit_is_allowed() -> None:
    limits = Limits(max_ratio=200.0)
    _check_total_ratio(200 * 10_000, 10_000, limits)
    with pytest.raises(ScanError, match="zip bomb"):
        _check_total_ratio(200 * 10_000 + 1, 10_000, limits)


@pytest.mark.filterwarnings("ignore:Duplicate name")
def test_directories_listed_after_their_files_or_twice_extract(tmp_path: Path) -> None:
    archive = make_zip(
        tmp_path / "a.zip",
        [("repo/src/a.py", b"a"), ("repo/src/", b""), ("repo/", b""), ("repo/", b"")],
    )
    dest = tmp_path / "out"
    dest.mkdir()
    assert extract_archive(archive=archive, dest=dest, limits=Limits()) == "zip"
    assert (dest / "repo/src/a.py").read_bytes() == b"a"


def test_an_empty_zip_is_a_zip_with_nothing_in_it(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "empty.zip", [])
    assert sniff_archive(archive) == "zip"
    dest = tmp_path / "out"
    dest.mkdir()
    assert extract_archive(archive=archive, dest=dest, limits=Limits()) == "zip"
    assert list(dest.iterdir()) == []


def test_a_bundle_is_not_extracted(tmp_path: Path) -> None:
    bundle = tmp_path / "x.bundle"
    bundle.write_bytes(b"# v3 git bundle\n@object-format=sha1\n\n")
    dest = tmp_path / "out"
    dest.mkdir()
    with pytest.raises(ScanError) as caught:
        extract_archive(archive=bundle, dest=dest, limits=Limits())
    assert str(caught.value) == "A git bundle is not an archive to extract."
    assert list(dest.iterdir()) == []


@pytest.mark.parametrize("form", ["zip", "tar.gz"])
def test_a_cancel_stops_the_extraction_and_empties_the_folder(tmp_path: Path, form: str) -> None:
    files = [("repo/only.txt", b"x")]  # one entry: the check before the first one must cancel
    if form == "zip":
        archive = make_zip(tmp_path / "a.zip", list(files))
    else:
        archive = make_tar(tmp_path / "a.tgz", [tar_file(n, d) for n, d in files])
    dest = tmp_path / "out"
    dest.mkdir()
    calls: list[int] = []

    def cancel() -> None:
        calls.append(1)
        raise ScanCancelled("cancelled by the user")

    with pytest.raises(ScanCancelled):
        extract_archive(archive=archive, dest=dest, limits=Limits(), check=cancel)
    assert calls == [1]
    assert list(dest.iterdir()) == []


@pytest.mark.parametrize("form", ["zip", "tar.gz"])
def test_a_cancel_arriving_mid_extraction_is_noticed(tmp_path: Path, form: str) -> None:
    # 600 entries; the cancel comes at the second look, so it must be looked for again
    # within the first few hundred entries, not only at the start.
    files = [(f"repo/f{i}.txt", b"x") for i in range(600)]
    if form == "zip":
        archive = make_zip(tmp_path / "a.zip", list(files))
    else:
        archive = make_tar(tmp_path / "a.tgz", [tar_file(n, d) for n, d in files])
    dest = tmp_path / "out"
    dest.mkdir()
    calls: list[int] = []

    def cancel_at_the_second_look() -> None:
        calls.append(1)
        if len(calls) == 2:
            raise ScanCancelled("cancelled by the user")

    with pytest.raises(ScanCancelled):
        extract_archive(
            archive=archive, dest=dest, limits=Limits(), check=cancel_at_the_second_look
        )
    assert list(dest.iterdir()) == []


def test_a_cancel_after_the_reading_pass_stops_the_tar_before_its_first_file(
    tmp_path: Path,
) -> None:
    # A tar is read twice (checked, then written): each pass looks for a cancel first.
    archive = make_tar(tmp_path / "a.tgz", [tar_file("repo/only.txt")])
    dest = tmp_path / "out"
    dest.mkdir()
    calls: list[int] = []

    def cancel_at_the_second_look() -> None:
        calls.append(1)
        if len(calls) == 2:
            raise ScanCancelled("cancelled by the user")

    with pytest.raises(ScanCancelled):
        extract_archive(
            archive=archive, dest=dest, limits=Limits(), check=cancel_at_the_second_look
        )
    assert list(dest.iterdir()) == []


def test_size_refusals_state_the_limit_in_whole_mebibytes(tmp_path: Path) -> None:
    big = make_zip(tmp_path / "a.zip", [("blob.bin", os.urandom(2 * MIB))])
    dest = tmp_path / "out"
    dest.mkdir()
    with pytest.raises(ScanError) as caught:
        extract_archive(archive=big, dest=dest, limits=Limits(max_archive_bytes=MIB))
    assert str(caught.value) == "The upload is larger than the limit of 1 MiB."
    with pytest.raises(ScanError) as caught:
        extract_archive(archive=big, dest=dest, limits=Limits(max_extracted_bytes=MIB))
    assert str(caught.value) == "The archive was refused: it expands to more than 1 MiB."
    writer = _Writer(tmp_path / "out", Limits(max_extracted_bytes=MIB))
    with pytest.raises(ScanError) as caught:
        writer.write(_Entry("liar.bin", False, 3 * MIB), io.BytesIO(bytes(2 * MIB)))
    assert str(caught.value) == "The archive was refused: it expands to more than 1 MiB."
    # The tar stream's cap: the content limit plus room for 1.5 KiB of headers per entry,
    # here 1 MiB in all; a 2 MiB PAX header passes it.
    headers = tar_with_pax_comment(tmp_path / "h.tgz", 2 * MIB)
    limits = Limits(max_extracted_bytes=MIB - 32 * 1536, max_entries=16)
    with pytest.raises(ScanError) as caught:
        extract_archive(archive=headers, dest=dest, limits=limits)
    assert str(caught.value) == "The archive was refused: it expands to more than 1 MiB."


def test_an_entry_holding_more_than_it_declares_is_stopped_whatever_the_chunks(
    tmp_path: Path,
) -> None:
    # Declared 1.5 MiB, holds 3 MiB: each 1 MiB read is under the declared size, their sum not.
    writer = _Writer(tmp_path, Limits())
    with pytest.raises(ScanError) as caught:
        writer.write(_Entry("liar.bin", False, 3 * MIB // 2), io.BytesIO(bytes(3 * MIB)))
    assert str(caught.value) == (
        "The archive was refused: entry 'liar.bin' holds more data than its header declares."
    )


def test_an_entry_the_file_system_cannot_hold_is_a_plain_refusal(tmp_path: Path) -> None:
    # Within the name rules (parts of at most 255 bytes, 4,082 in all) but, under the upload
    # folder, past the file system's 4,096-byte path limit.
    deep = "/".join(["d" * 255] * 15 + ["e" * 240, "f"])
    assert len(deep) == 4082
    archive = make_zip(tmp_path / "a.zip", [("repo/a.txt", b"a"), (deep, b"x")])
    dest = tmp_path / "out"
    dest.mkdir()
    with pytest.raises(ScanError) as caught:
        extract_archive(archive=archive, dest=dest, limits=Limits())
    assert str(caught.value) == (
        "The archive could not be extracted (a file could not be written)."
    )
    assert list(dest.iterdir()) == []
