"""Build real git repositories for tests, with fixed dates, identities and trailers.

Test set-up runs git directly on repositories the test itself created, with an isolated
environment (no user or system config), so results do not depend on the machine.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

ALICE = ("Alice Example", "alice@example.com")
BOB = ("Bob Example", "bob@example.com")


def git_env(home: Path) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "LC_ALL": "C",
    }


def stamp(when: datetime) -> str:
    return f"@{int(when.timestamp())} +0000"


class RepoBuilder:
    """A non-bare repository under `path`, committed to with explicit dates."""

    def __init__(self, path: Path, *, branch: str = "main") -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.home = path.parent / f".{path.name}-home"
        self.home.mkdir(exist_ok=True)
        self.git("init", "-q", "-b", branch)

    def git(
        self, *args: str, env: Mapping[str, str] | None = None, input: bytes | None = None
    ) -> str:
        full = git_env(self.home) | dict(env or {})
        out = subprocess.run(
            ["/usr/bin/git", "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false", *args],
            cwd=self.path,
            env=full,
            input=input,
            capture_output=True,
            check=True,
        )
        return out.stdout.decode()

    def write(self, files: Mapping[str, str | bytes]) -> None:
        for name, content in files.items():
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content)

    def commit(
        self,
        message: str,
        *,
        files: Mapping[str, str | bytes] | None = None,
        when: datetime,
        author: tuple[str, str] = ALICE,
        committer: tuple[str, str] | None = None,
        delete: tuple[str, ...] = (),
    ) -> str:
        if files:
            self.write(files)
        for name in delete:
            self.git("rm", "-q", name)
        self.git("add", "-A")
        committer = committer or author
        env = {
            "GIT_AUTHOR_NAME": author[0],
            "GIT_AUTHOR_EMAIL": author[1],
            "GIT_AUTHOR_DATE": stamp(when),
            "GIT_COMMITTER_NAME": committer[0],
            "GIT_COMMITTER_EMAIL": committer[1],
            "GIT_COMMITTER_DATE": stamp(when),
        }
        self.git("commit", "-q", "--allow-empty", "-m", message, env=env)
        return self.head()

    def head(self) -> str:
        return self.git("rev-parse", "HEAD").strip()

    def branch(self, name: str, start: str | None = None) -> None:
        self.git("checkout", "-q", "-b", name, *([start] if start else []))

    def checkout(self, name: str) -> None:
        self.git("checkout", "-q", name)

    def merge(
        self,
        branch: str,
        message: str,
        *,
        when: datetime,
        committer: tuple[str, str] = ALICE,
    ) -> str:
        env = {
            "GIT_AUTHOR_NAME": committer[0],
            "GIT_AUTHOR_EMAIL": committer[1],
            "GIT_AUTHOR_DATE": stamp(when),
            "GIT_COMMITTER_NAME": committer[0],
            "GIT_COMMITTER_EMAIL": committer[1],
            "GIT_COMMITTER_DATE": stamp(when),
        }
        self.git("merge", "-q", "--no-ff", "-m", message, branch, env=env)
        return self.head()

    def tag(
        self, name: str, *, when: datetime, annotated: bool = True, target: str = "HEAD"
    ) -> None:
        env = {
            "GIT_COMMITTER_NAME": ALICE[0],
            "GIT_COMMITTER_EMAIL": ALICE[1],
            "GIT_COMMITTER_DATE": stamp(when),
        }
        if annotated:
            self.git("tag", "-a", name, "-m", f"release {name}", target, env=env)
        else:
            self.git("tag", name, target, env=env)


def day(n: int, hour: int = 12) -> datetime:
    """Day n of a fixed calendar (2026-01-01 is day 0), at `hour` UTC."""
    return datetime(2026, 1, 1, hour, tzinfo=UTC) + timedelta(days=n)


def processes_left(text: str, wait: float = 5.0) -> list[int]:
    """`processes_with(text)` once they have had `wait` seconds to go: a process killed with
    SIGKILL still shows in /proc until the kernel has run it to its end, which on a busy
    machine takes a moment after the kill returned."""
    deadline = time.monotonic() + wait
    left = processes_with(text)
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = processes_with(text)
    return left


def processes_with(text: str) -> list[int]:
    """Pids whose command line contains `text` (for leak checks)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                cmdline = handle.read()
        except OSError:
            continue
        if text.encode() in cmdline:
            found.append(int(entry))
    return found
