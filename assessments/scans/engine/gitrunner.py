"""The one way the engine runs git.

Every git process goes through `GitRunner`, which applies docs/SECURITY.md "Safe git":

- an empty environment plus an allow-list (no proxies, no user or system config, no prompts,
  https as the only transport except for the one sanitising clone that needs `file`);
- the `-c` flags that switch off every repository-controlled program (hooks, fsmonitor,
  ssh commands, credential helpers, redirects, signature programs) on every call;
- `log`/`diff`/`show` always with `--no-textconv --no-ext-diff --no-show-signature`;
- its own session (process group), killed as a whole on timeout, cancel or error;
- a wall-clock deadline shared by the whole scan, and a progress callback polled while a
  process runs so a cancel stops it mid-clone.

Secrets (a clone token) travel in `GIT_CONFIG_COUNT`/`GIT_CONFIG_KEY_n`/`GIT_CONFIG_VALUE_n`
for the one call that needs them, never on the command line, where `ps` would show them.
"""

from __future__ import annotations

import logging
import os
import resource
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO

from assessments.scans.engine.model import Progress, ScanError, ScanTimeout

log = logging.getLogger(__name__)

GIT = "/usr/bin/git"

# Applied to every call, in this order, before any caller-supplied flag (docs/SECURITY.md b.3).
SAFE_CONFIG: tuple[tuple[str, str], ...] = (
    ("protocol.allow", "never"),
    ("protocol.https.allow", "always"),
    ("core.hooksPath", "/dev/null"),
    ("core.fsmonitor", "false"),
    ("core.symlinks", "false"),
    ("core.sshCommand", "/bin/false"),
    ("core.gitProxy", ""),
    ("core.pager", "cat"),
    ("credential.helper", ""),
    ("submodule.recurse", "false"),
    ("init.templateDir", ""),
    ("safe.bareRepository", "explicit"),
    ("http.followRedirects", "false"),
    ("http.proxy", ""),
    ("http.lowSpeedLimit", "1000"),
    ("http.lowSpeedTime", "30"),
    ("log.showSignature", "false"),
    # git 2.39 opens the packs a multi-pack-index names without checking the names, so a
    # crafted index could read another repository's objects ("../" in a name).
    ("core.multiPackIndex", "false"),
    # A crafted bitmap makes pack-objects send objects the branch does not reach.
    ("pack.useBitmaps", "false"),
)
DIFF_SAFETY = ("--no-textconv", "--no-ext-diff", "--no-show-signature")
# Where a copy made without blobs the source lacks keeps their empty stand-ins
# (sources.check_missing). Only log/diff/show read them (GIT_REPLACE_REF_BASE), so history
# reads the commits that changed such a file, while every other reader (cat-file) still sees
# the blob as missing and says so.
MISSING_REF_BASE = "refs/opready-missing/"
_DIFFING = frozenset({"log", "diff", "show"})
POLL_SECONDS = 0.2


def git_date(epoch: int) -> str:
    """A timestamp git reads as one whatever its size.

    `@N` alone is taken as seconds only when N has nine digits or more (approxidate); with the
    zone after it, it is git's own object-header form, which always is.
    """
    if epoch < 0:
        raise ValueError("git cannot represent dates before 1970")
    return f"@{epoch} +0000"


class GitError(ScanError):
    """A git command failed. `str()` is safe for users; `stderr` (redacted) is for logs."""

    def __init__(self, message: str, *, returncode: int, stderr: str) -> None:
        super().__init__(message)
        self.returncode = returncode
        self.stderr = stderr


def _dir_bytes(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                continue  # a temporary pack file can vanish between listing and stat
    return total


class GitProcess:
    """A running git process whose stdout the caller reads as a stream."""

    def __init__(self, proc: subprocess.Popen[bytes], stderr_file: IO[bytes]) -> None:
        self.proc = proc
        self.stderr_file = stderr_file
        self.timed_out = False

    @property
    def stdout(self) -> IO[bytes]:
        assert self.proc.stdout is not None
        return self.proc.stdout

    @property
    def stdin(self) -> IO[bytes]:
        assert self.proc.stdin is not None
        return self.proc.stdin


class GitRunner:
    """Runs git for one scan job rooted at `job_root` (a directory the caller created).

    `deadline` is a `clock()` value after which every call fails with ScanTimeout and running
    processes are killed. `progress`, when given, is called while processes run; if it raises
    (ScanCancelled), the process group is killed and the exception propagates.
    """

    def __init__(
        self,
        *,
        job_root: Path,
        deadline: float | None = None,
        progress: Progress | None = None,
        clock: Callable[[], float] = time.monotonic,
        git: str = GIT,
    ) -> None:
        self.job_root = Path(os.path.realpath(job_root))
        self.home = Path(tempfile.mkdtemp(prefix="home-", dir=self.job_root))
        self.deadline = deadline
        self.progress = progress
        self.clock = clock
        self.git = git
        self._secrets: list[str] = []
        self._live: set[subprocess.Popen[bytes]] = set()
        self._lock = threading.Lock()

    # -- secrets ---------------------------------------------------------------------------

    def add_secret(self, value: str) -> None:
        """Remember a value that must never appear in messages or logs."""
        if value:
            self._secrets.append(value)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    # -- building commands -----------------------------------------------------------------

    def build_argv(
        self,
        args: Sequence[str],
        *,
        git_dir: Path | None = None,
        extra_config: Sequence[tuple[str, str]] = (),
    ) -> list[str]:
        """The full argv: git, the safety flags, caller flags, --git-dir, then the command.

        Diffing commands get DIFF_SAFETY right after the subcommand, whatever the caller passed.
        """
        if not args:
            raise ValueError("no git command")
        argv = [self.git]
        for key, value in (*SAFE_CONFIG, *extra_config):
            argv += ["-c", f"{key}={value}"]
        if git_dir is not None:
            argv.append(f"--git-dir={git_dir}")
        command, rest = args[0], list(args[1:])
        argv.append(command)
        if command in _DIFFING:
            argv += [flag for flag in DIFF_SAFETY if flag not in rest]
        return argv + rest

    def build_env(
        self,
        *,
        allow_file: bool = False,
        secret_config: Mapping[str, str] | None = None,
        buffered: bool = False,
        diffing: bool = False,
        source_objects: Path | None = None,
        copy_objects: Path | None = None,
    ) -> dict[str, str]:
        """A fresh environment: nothing is inherited from the server's own environment.

        `buffered` sets GIT_FLUSH=0: git then writes a pipe in full buffers instead of once
        per record (for `git log` that is ~20x fewer writes and wake-ups); never for
        interactive commands such as `cat-file --batch`.

        `source_objects` and `copy_objects` are for the one command that reads the source
        repository itself (the copy's pack-objects, as upload-pack would run it): it reads the
        source's objects as an alternate and writes only into the copy's object folder (git
        puts its temporary files in the object folder it writes to, which must never be the
        source's); no transport at all, no lazy fetch of objects a partial clone lacks (which
        would contact the remote named in the source's own config), and no replace refs.
        """
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(self.home),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": "/dev/null",
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_ASKPASS": "/bin/false",
            "SSH_ASKPASS": "/bin/false",
            "GIT_SSH_COMMAND": "/bin/false",
            "GIT_ALLOW_PROTOCOL": "file" if allow_file else "https",
            "GIT_PROTOCOL_FROM_USER": "0",
            "GIT_LFS_SKIP_SMUDGE": "1",
            "GIT_CEILING_DIRECTORIES": str(self.job_root),
            "LC_ALL": "C",
            "LANG": "C",
        }
        if buffered:
            env["GIT_FLUSH"] = "0"
        if (source_objects is None) != (copy_objects is None):
            raise ValueError("reading the source needs both object folders")
        if source_objects is not None and copy_objects is not None:
            env["GIT_OBJECT_DIRECTORY"] = str(copy_objects)
            env["GIT_ALTERNATE_OBJECT_DIRECTORIES"] = str(source_objects)
            env["GIT_ALLOW_PROTOCOL"] = "none"  # a list naming no real transport
            env["GIT_NO_LAZY_FETCH"] = "1"
            env["GIT_NO_REPLACE_OBJECTS"] = "1"
        if diffing:
            env["GIT_REPLACE_REF_BASE"] = MISSING_REF_BASE
        if secret_config:
            env["GIT_CONFIG_COUNT"] = str(len(secret_config))
            for index, (key, value) in enumerate(secret_config.items()):
                env[f"GIT_CONFIG_KEY_{index}"] = key
                env[f"GIT_CONFIG_VALUE_{index}"] = value
        return env

    # -- deadline and cancel ---------------------------------------------------------------

    def remaining(self) -> float | None:
        if self.deadline is None:
            return None
        return self.deadline - self.clock()

    def check(self, stage: str, percent: int) -> None:
        """Raise ScanTimeout past the deadline; let the progress callback cancel."""
        remaining = self.remaining()
        if remaining is not None and remaining <= 0:
            raise ScanTimeout("the scan took longer than its time limit and was stopped")
        if self.progress is not None:
            self.progress(stage, percent)

    # -- processes -------------------------------------------------------------------------

    def _spawn(
        self,
        argv: list[str],
        env: dict[str, str],
        *,
        stdin: int | None,
        stdout: int | None,
        stderr: int | IO[bytes],
        fsize_limit: int | None,
    ) -> subprocess.Popen[bytes]:
        log.debug("git: %s", self.redact(" ".join(argv)))
        proc = subprocess.Popen(
            argv,
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            env=env,
            cwd=self.home,
            start_new_session=True,  # one process group to kill, helpers included
            close_fds=True,
        )
        if fsize_limit is not None:
            # If this fails, the directory-size watch still enforces the cap.
            with suppress(OSError, ValueError):
                resource.prlimit(proc.pid, resource.RLIMIT_FSIZE, (fsize_limit, fsize_limit))
        with self._lock:
            self._live.add(proc)
        return proc

    def _terminate(self, proc: subprocess.Popen[bytes]) -> None:
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                with suppress(OSError):
                    stream.close()
        proc.wait()
        with self._lock:
            self._live.discard(proc)

    def kill_all(self) -> None:
        """Kill every process group this runner started and has not reaped yet."""
        with self._lock:
            live = list(self._live)
        for proc in live:
            self._terminate(proc)

    def _failure(self, args: Sequence[str], returncode: int, stderr: bytes) -> GitError:
        text = self.redact(stderr.decode("utf-8", "replace"))[-2000:]
        log.info("git %s exited with %s: %s", args[0], returncode, text.strip())
        return GitError(
            f"git {args[0]} failed (exit {returncode})", returncode=returncode, stderr=text
        )

    def run(
        self,
        args: Sequence[str],
        *,
        git_dir: Path | None = None,
        allow_file: bool = False,
        extra_config: Sequence[tuple[str, str]] = (),
        secret_config: Mapping[str, str] | None = None,
        stage: str = "git",
        percent: int = 0,
        watch_dir: Path | None = None,
        max_dir_bytes: int | None = None,
        fsize_limit: int | None = None,
        input_bytes: bytes | None = None,
        copy_objects: Path | None = None,
    ) -> bytes:
        """Run a command to completion and return its stdout (meant for small outputs).

        While it runs: the deadline and progress are polled, and `watch_dir` must stay under
        `max_dir_bytes` (a clone growing past the repository size limit is killed).
        `copy_objects`: the command reads the source repository `git_dir` and writes objects
        only into this folder (see `build_env`).
        """
        self.check(stage, percent)
        if copy_objects is not None and (allow_file or git_dir is None):
            raise ValueError("a command reading the source names it and never gets a transport")
        argv = self.build_argv(args, git_dir=git_dir, extra_config=extra_config)
        env = self.build_env(
            allow_file=allow_file,
            secret_config=secret_config,
            diffing=args[0] in _DIFFING,
            source_objects=git_dir / "objects" if copy_objects and git_dir else None,
            copy_objects=copy_objects,
        )
        proc = self._spawn(
            argv,
            env,
            stdin=subprocess.PIPE if input_bytes is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            fsize_limit=fsize_limit,
        )
        pending_input = input_bytes
        try:
            while True:
                try:
                    out, err = proc.communicate(input=pending_input, timeout=POLL_SECONDS)
                    break
                except subprocess.TimeoutExpired:
                    pending_input = None  # communicate() keeps feeding what it started
                    self.check(stage, percent)
                    if (
                        watch_dir is not None
                        and max_dir_bytes is not None
                        and _dir_bytes(watch_dir) > max_dir_bytes
                    ):
                        raise ScanError(
                            f"the repository is larger than the limit of "
                            f"{max_dir_bytes // (1024 * 1024)} MiB"
                        ) from None
        finally:
            self._terminate(proc)
        if proc.returncode != 0:
            raise self._failure(args, proc.returncode, err)
        return out

    @contextmanager
    def stream(
        self,
        args: Sequence[str],
        *,
        git_dir: Path | None = None,
        stdin: bool = False,
        stage: str = "git",
        percent: int = 0,
        buffered: bool = False,
    ) -> Iterator[GitProcess]:
        """Start a command whose stdout the caller reads (and stdin writes, if asked).

        A watchdog kills the process group at the deadline; the caller then reads EOF and
        leaving the block raises ScanTimeout. Leaving the block normally waits for the exit
        status and raises GitError on failure; leaving it by an exception kills the group.
        """
        self.check(stage, percent)
        argv = self.build_argv(args, git_dir=git_dir)
        env = self.build_env(buffered=buffered, diffing=args[0] in _DIFFING)
        with tempfile.TemporaryFile(dir=self.job_root) as stderr_file:
            proc = self._spawn(
                argv,
                env,
                stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=stderr_file,
                fsize_limit=None,
            )
            handle = GitProcess(proc, stderr_file)
            timer: threading.Timer | None = None
            remaining = self.remaining()
            if remaining is not None:

                def expire() -> None:
                    handle.timed_out = True
                    with suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)

                timer = threading.Timer(max(0.0, remaining), expire)
                timer.daemon = True
                timer.start()
            try:
                try:
                    yield handle
                except BaseException:
                    if handle.timed_out:
                        raise ScanTimeout(
                            "the scan took longer than its time limit and was stopped"
                        ) from None
                    raise
                if proc.stdin is not None:
                    proc.stdin.close()
                returncode = proc.wait()
                if handle.timed_out:
                    raise ScanTimeout("the scan took longer than its time limit and was stopped")
                if returncode != 0:
                    stderr_file.seek(0)
                    raise self._failure(args, returncode, stderr_file.read(64 * 1024))
            finally:
                if timer is not None:
                    timer.cancel()
                self._terminate(proc)

    def cleanup(self) -> None:
        """Kill what is still running and remove the runner's HOME."""
        self.kill_all()
        shutil.rmtree(self.home, ignore_errors=True)
