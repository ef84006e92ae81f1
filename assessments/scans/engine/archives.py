"""Safe extraction of uploaded archives (docs/SECURITY.md "Safe archives").

The type comes from magic bytes, never from the file name. Before anything is written, every
entry is checked: count, total declared size, compression ratio, names (absolute, `..`,
backslashes, drive letters, control characters, over-long, duplicates after case folding) and
types (only regular files and directories: symlinks, hard links, devices, FIFOs and sparse
files are refused). Files are then written by this module itself, never by `tarfile.extract`
or `zipfile.extract`: each is created with O_EXCL|O_NOFOLLOW inside the destination, and the
real bytes are counted while writing, so an entry that lies about its size stops at the cap.
Nested archives are ordinary files: nothing is expanded twice.
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal, Protocol

from assessments.scans.engine.model import Limits, ScanError

ArchiveKind = Literal["zip", "tar.gz", "tar", "bundle"]
CHUNK = 1024 * 1024
# Per-entry ratio checks apply to entries above this size: small text files legitimately
# compress very well.
RATIO_MIN_BYTES = 1024 * 1024
_DRIVE = re.compile(r"^[A-Za-z]:")


def sniff_archive(path: Path) -> ArchiveKind:
    """The upload's type from its first bytes; ScanError for anything else."""
    with open(path, "rb") as handle:
        head = handle.read(512)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if head.startswith(b"\x1f\x8b"):
        return "tar.gz"
    if len(head) >= 262 and head[257:262] == b"ustar":
        return "tar"
    if head.startswith((b"# v2 git bundle\n", b"# v3 git bundle\n")):
        return "bundle"
    raise ScanError(
        "The upload is not a supported archive: expected a .zip, .tar.gz, .tar or git bundle."
    )


def _refuse(name: str, reason: str) -> ScanError:
    shown = name[:200].encode("unicode_escape").decode("ascii")
    return ScanError(f"The archive was refused: entry '{shown}' {reason}.")


def clean_name(raw: str) -> str:
    """A member name as a safe relative path ('' for the archive root), or ScanError."""
    if any(ord(c) < 32 or ord(c) == 127 for c in raw):
        raise _refuse(raw, "contains NUL or control characters")
    if "\\" in raw:
        raise _refuse(raw, "contains a backslash")
    if raw.startswith("/"):
        raise _refuse(raw, "has an absolute name")
    if _DRIVE.match(raw):
        raise _refuse(raw, "starts with a drive letter")
    parts = [part for part in raw.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise _refuse(raw, "contains '..'")
    if len(raw.encode()) > 4096 or any(len(part.encode()) > 255 for part in parts):
        raise _refuse(raw, "has a name that is too long")
    return "/".join(parts)


@dataclass(frozen=True)
class _Entry:
    name: str  # cleaned relative path
    is_dir: bool
    size: int  # declared


class _Plan:
    """Pre-extraction bookkeeping: counts, sizes, and name collisions (case-folded)."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.count = 0
        self.declared = 0
        self.files: set[str] = set()
        self.dirs: set[str] = set()

    def add(self, raw: str, *, is_dir: bool, size: int) -> _Entry | None:
        self.count += 1
        if self.count > self.limits.max_entries:
            raise ScanError(
                f"The archive was refused: it has more than {self.limits.max_entries} entries."
            )
        name = clean_name(raw)
        if not name:
            return None
        key = name.casefold()
        parents = key.split("/")[:-1]
        for depth in range(1, len(parents) + 1):
            prefix = "/".join(parents[:depth])
            if prefix in self.files:
                raise _refuse(raw, "is inside a path that is also a file")
            self.dirs.add(prefix)
        if is_dir:
            if key in self.files:
                raise _refuse(raw, "is a duplicate name (names are compared case-folded)")
            self.dirs.add(key)
            return _Entry(name, True, 0)
        if key in self.files or key in self.dirs:
            raise _refuse(raw, "is a duplicate name (names are compared case-folded)")
        self.files.add(key)
        self.declared += size
        if self.declared > self.limits.max_extracted_bytes:
            raise ScanError(
                "The archive was refused: it expands to more than "
                f"{self.limits.max_extracted_bytes // (1024 * 1024)} MiB."
            )
        return _Entry(name, False, size)


def _make_folders(path: Path) -> None:
    """`os.makedirs(path, 0o700, exist_ok=True)`, but with every folder it creates 0700:
    os.makedirs gives the mode to the last folder only, so folders no entry names (`a/` of
    `a/b/c.txt`) were left readable by every local user."""
    missing: list[Path] = []
    while not path.is_dir():
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        with suppress(FileExistsError):
            os.mkdir(folder, 0o700)


class _Writer:
    """Creates directories and files under `dest`, counting the real bytes written."""

    def __init__(self, dest: Path, limits: Limits) -> None:
        self.dest = dest
        self.limits = limits
        self.written = 0

    def mkdir(self, name: str) -> None:
        _make_folders(self.dest / name)

    def write(self, entry: _Entry, source: IO[bytes]) -> None:
        target = self.dest / entry.name
        _make_folders(target.parent)
        root = os.path.realpath(self.dest)
        if os.path.commonpath([os.path.realpath(target.parent), root]) != root:
            raise _refuse(entry.name, "would be written outside the upload folder")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(target, flags, 0o600)
        with os.fdopen(fd, "wb") as out:
            own = 0
            while True:
                chunk = source.read(CHUNK)
                if not chunk:
                    break
                own += len(chunk)
                self.written += len(chunk)
                if own > entry.size:
                    raise _refuse(entry.name, "holds more data than its header declares")
                if self.written > self.limits.max_extracted_bytes:
                    raise ScanError(
                        "The archive was refused: it expands to more than "
                        f"{self.limits.max_extracted_bytes // (1024 * 1024)} MiB."
                    )
                out.write(chunk)


def extract_archive(
    *,
    archive: Path,
    dest: Path,
    limits: Limits,
    check: Callable[[], None] | None = None,
) -> ArchiveKind:
    """Extract a .zip, .tar.gz/.tgz or .tar into the empty directory `dest`.

    Raises ScanError with the reason when the archive is refused; `dest` is then emptied.
    `check` is called every few hundred entries (it may raise to cancel).
    """
    size = archive.stat().st_size
    if size > limits.max_archive_bytes:
        raise ScanError(
            f"The upload is larger than the limit of {limits.max_archive_bytes // (1024 * 1024)} MiB."
        )
    kind = sniff_archive(archive)
    if kind == "bundle":
        raise ScanError("A git bundle is not an archive to extract.")
    try:
        if kind == "zip":
            _extract_zip(archive, dest, limits, check)
        else:
            _extract_tar(archive, dest, limits, check, gz=kind == "tar.gz")
    except ScanError:
        _empty(dest)
        raise
    except (zipfile.BadZipFile, tarfile.TarError, zlib.error, EOFError, gzip.BadGzipFile) as exc:
        _empty(dest)
        raise ScanError(
            f"The archive is damaged and could not be read ({type(exc).__name__})."
        ) from None
    except OSError:
        _empty(dest)
        raise ScanError(
            "The archive could not be extracted (a file could not be written)."
        ) from None
    except BaseException:
        _empty(dest)
        raise
    return kind


def _empty(dest: Path) -> None:
    for child in list(dest.iterdir()) if dest.exists() else []:
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def _extract_zip(
    archive: Path, dest: Path, limits: Limits, check: Callable[[], None] | None
) -> None:
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
        if len(infos) > limits.max_entries:
            raise ScanError(
                f"The archive was refused: it has more than {limits.max_entries} entries."
            )
        plan = _Plan(limits)
        entries: list[tuple[zipfile.ZipInfo, _Entry]] = []
        for info in infos:
            mode = info.external_attr >> 16
            kind = stat.S_IFMT(mode)
            if kind == stat.S_IFLNK:
                raise _refuse(info.filename, "is a symbolic link")
            if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
                raise _refuse(info.filename, "is a device, FIFO or other special file")
            if info.flag_bits & 0x1:
                raise _refuse(info.filename, "is encrypted")
            if info.file_size > RATIO_MIN_BYTES and info.file_size > limits.max_ratio * max(
                info.compress_size, 1
            ):
                raise _refuse(info.filename, "has a suspicious compression ratio (zip bomb?)")
            entry = plan.add(info.filename, is_dir=info.is_dir(), size=info.file_size)
            if entry is not None:
                entries.append((info, entry))
        _check_total_ratio(plan.declared, archive.stat().st_size, limits)
        writer = _Writer(dest, limits)
        for index, (info, entry) in enumerate(entries):
            if check is not None and index % 256 == 0:
                check()
            if entry.is_dir:
                writer.mkdir(entry.name)
            else:
                with zf.open(info) as source:
                    writer.write(entry, source)


def _check_total_ratio(declared: int, archive_size: int, limits: Limits) -> None:
    if declared > RATIO_MIN_BYTES and declared > limits.max_ratio * max(archive_size, 1):
        raise ScanError(
            "The archive was refused: it expands far more than archives normally do (zip bomb?)."
        )


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class _CountingReader:
    """A read-only stream that stops once more than `cap` bytes came through."""

    def __init__(self, raw: _Readable, cap: int) -> None:
        self.raw = raw
        self.cap = cap
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.count += len(data)
        if self.count > self.cap:
            raise ScanError(
                f"The archive was refused: it expands to more than {self.cap // (1024 * 1024)} MiB."
            )
        return data


def _tar_members(
    archive: Path, limits: Limits, *, gz: bool
) -> Iterator[tuple[tarfile.TarFile, tarfile.TarInfo]]:
    # Headers and padding add up to 1.5 KiB per entry; the cap leaves room for them.
    cap = limits.max_extracted_bytes + (limits.max_entries + 16) * 1536
    with open(archive, "rb") as raw:
        stream: _Readable = gzip.GzipFile(fileobj=raw, mode="rb") if gz else raw
        counting = _CountingReader(stream, cap)
        with tarfile.open(fileobj=counting, mode="r|") as tf:  # type: ignore[call-overload]
            for member in tf:
                yield tf, member


def _tar_entry(plan: _Plan, member: tarfile.TarInfo) -> _Entry | None:
    if member.issym():
        raise _refuse(member.name, "is a symbolic link")
    if member.islnk():
        raise _refuse(member.name, "is a hard link")
    if member.ischr() or member.isblk():
        raise _refuse(member.name, "is a device")
    if member.isfifo():
        raise _refuse(member.name, "is a FIFO")
    if member.issparse():
        raise _refuse(member.name, "is a sparse file")
    if not (member.isreg() or member.isdir()):
        raise _refuse(member.name, "has an unsupported type")
    return plan.add(member.name, is_dir=member.isdir(), size=member.size)


def _extract_tar(
    archive: Path, dest: Path, limits: Limits, check: Callable[[], None] | None, *, gz: bool
) -> None:
    # Pass 1 reads headers only (data is skipped while streaming); nothing is written.
    plan = _Plan(limits)
    for index, (_tf, member) in enumerate(_tar_members(archive, limits, gz=gz)):
        if check is not None and index % 256 == 0:
            check()
        _tar_entry(plan, member)
    _check_total_ratio(plan.declared, archive.stat().st_size, limits)
    # Pass 2 writes; the members are the same, so every check passed already.
    writer = _Writer(dest, limits)
    replay = _Plan(limits)
    for index, (tf, member) in enumerate(_tar_members(archive, limits, gz=gz)):
        if check is not None and index % 256 == 0:
            check()
        entry = _tar_entry(replay, member)
        if entry is None:
            continue
        if entry.is_dir:
            writer.mkdir(entry.name)
            continue
        source = tf.extractfile(member)
        if source is None:
            raise _refuse(member.name, "could not be read")
        writer.write(entry, source)
