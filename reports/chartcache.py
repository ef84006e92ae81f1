"""Drawn charts on disk, by a digest of their figure: a report rendered again, by any process
on this machine, draws no chart whose figure did not change.

Plain files in one folder, one per chart: a header line naming the format and the SHA-256 of
the body, then the body (an SVG data URI). A file that is truncated, edited or not ours fails
that check and is treated as missing (and replaced when the chart is drawn again). Writers
never expose a partial file: each writes a temporary file in the same folder and renames it
into place (`os.replace` is atomic on one file system), so concurrent renders of the same
chart race harmlessly, the last rename winning with identical content. The folder is bounded:
after a write that takes it over `max_bytes`, the least recently used files are deleted down to
three quarters of it (a hit refreshes a file's modification time). Every failure to read or
write is an optimisation lost, never an error for the report.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import tempfile
import time
from pathlib import Path

logger = logging.getLogger(__name__)

MAGIC = b"opready-chart-1 "
_KEY = re.compile(r"[0-9a-f]{64}")
SUFFIX = ".chart"


class ChartCache:
    def __init__(self, folder: Path | str, *, max_bytes: int) -> None:
        self.folder = Path(folder)
        self.max_bytes = max_bytes

    def _path(self, key: str) -> Path:
        if not _KEY.fullmatch(key):
            raise ValueError(f"not a chart key: {key[:80]!r}")
        return self.folder / f"{key}{SUFFIX}"

    def get(self, key: str) -> str | None:
        """The cached value, or None when missing, unreadable or corrupt."""
        path = self._path(key)
        try:
            raw = path.read_bytes()
        except OSError:
            return None
        header, newline, body = raw.partition(b"\n")
        if (
            not newline
            or not header.startswith(MAGIC)
            or header[len(MAGIC) :] != hashlib.sha256(body).hexdigest().encode()
        ):
            logger.warning("Ignoring a corrupt chart cache file %s", path.name)
            return None
        try:
            body_text = body.decode()
        except UnicodeDecodeError:  # the digest matched, so this was written corrupt; skip it
            return None
        with contextlib.suppress(OSError):  # least recently used goes first when pruning
            os.utime(path)
        return body_text

    def put(self, key: str, value: str) -> None:
        path = self._path(key)
        body = value.encode()
        data = MAGIC + hashlib.sha256(body).hexdigest().encode() + b"\n" + body
        temporary = None
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(
                dir=self.folder, prefix=".tmp-", suffix=SUFFIX, delete=False
            ) as handle:
                temporary = handle.name
                handle.write(data)
            os.replace(temporary, path)
            temporary = None
            self._prune()
        except OSError:
            logger.warning("Could not write the chart cache in %s", self.folder, exc_info=True)
        finally:
            if temporary is not None:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)

    def _prune(self) -> None:
        entries: list[tuple[float, int, str]] = []
        total = 0
        stale_temporary = time.time() - 3600
        with os.scandir(self.folder) as listing:
            for entry in listing:
                if not entry.name.endswith(SUFFIX):
                    continue
                try:
                    stat = entry.stat()
                except OSError:
                    continue
                if entry.name.startswith(".tmp-"):
                    # A writer that died between writing and renaming left this behind.
                    if stat.st_mtime < stale_temporary:
                        with contextlib.suppress(OSError):
                            os.unlink(entry.path)
                    continue
                entries.append((stat.st_mtime, stat.st_size, entry.path))
                total += stat.st_size
        if total <= self.max_bytes:
            return
        for _mtime, size, name in sorted(entries):
            if total <= self.max_bytes * 3 // 4:
                break
            with contextlib.suppress(OSError):
                os.unlink(name)
                total -= size
