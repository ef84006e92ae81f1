from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pytest

from assessments.scans.engine.gitrunner import (
    DIFF_SAFETY,
    SAFE_CONFIG,
    GitError,
    GitRunner,
    git_date,
)
from assessments.scans.engine.model import ScanCancelled, ScanError, ScanTimeout
from tests.scans.engine.gitbuild import processes_left, processes_with

ALLOWED_ENV = {
    "PATH", "HOME", "GIT_CONFIG_NOSYSTEM", "GIT_CONFIG_GLOBAL", "GIT_TERMINAL_PROMPT",
    "GIT_ASKPASS", "SSH_ASKPASS", "GIT_SSH_COMMAND", "GIT_ALLOW_PROTOCOL",
    "GIT_PROTOCOL_FROM_USER", "GIT_LFS_SKIP_SMUDGE", "GIT_CEILING_DIRECTORIES", "LC_ALL", "LANG",
}  # fmt: skip


def test_every_call_starts_with_the_safety_flags(tmp_path: Path) -> None:
    runner = GitRunner(job_root=tmp_path)
    argv = runner.build_argv(["ls-tree", "HEAD"], git_dir=tmp_path / "r.git")
    expected = ["/usr/bin/git"]
    for key, value in SAFE_CONFIG:
        expected += ["-c", f"{key}={value}"]
    assert argv[: len(expected)] == expected
    assert argv[len(expected) :] == [f"--git-dir={tmp_path / 'r.git'}", "ls-tree", "HEAD"]
    for flag in (
        "protocol.allow=never", "protocol.https.allow=always", "core.hooksPath=/dev/null",
        "core.fsmonitor=false", "core.symlinks=false", "submodule.recurse=false",
        "credential.helper=", "http.followRedirects=false", "safe.bareRepository=explicit",
        "core.sshCommand=/bin/false", "log.showSignature=false", "init.templateDir=",
    ):  # fmt: skip
        assert flag in argv


@pytest.mark.parametrize("command", ["log", "diff", "show"])
def test_diffing_commands_always_get_no_textconv_no_ext_diff(tmp_path: Path, command: str) -> None:
    runner = GitRunner(job_root=tmp_path)
    argv = runner.build_argv([command, "--no-textconv", "HEAD"])
    index = argv.index(command)
    assert set(DIFF_SAFETY) <= set(argv[index + 1 :])
    assert argv.count("--no-textconv") == 1


def test_the_environment_is_built_from_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "GIT_DIR",
        "GIT_CONFIG_COUNT",
        "GIT_SSH",
        "GIT_EXEC_PATH",
        "GIT_EXTERNAL_DIFF",
    ):
        monkeypatch.setenv(name, "planted")
    runner = GitRunner(job_root=tmp_path)
    env = runner.build_env()
    assert set(env) == ALLOWED_ENV
    assert env["GIT_ALLOW_PROTOCOL"] == "https"
    assert env["PATH"] == "/usr/bin:/bin"
    assert env["GIT_CONFIG_GLOBAL"] == "/dev/null"
    assert env["GIT_CEILING_DIRECTORIES"] == str(tmp_path.resolve())
    assert (
        Path(env["HOME"]).parent == tmp_path.resolve() and list(Path(env["HOME"]).iterdir()) == []
    )
    assert runner.build_env(allow_file=True)["GIT_ALLOW_PROTOCOL"] == "file"


def test_secrets_travel_in_the_environment_of_one_call_only(tmp_path: Path) -> None:
    runner = GitRunner(job_root=tmp_path)
    runner.add_secret("s3cret")
    env = runner.build_env(secret_config={"http.extraHeader": "Authorization: Basic s3cret"})
    assert env["GIT_CONFIG_COUNT"] == "1"
    assert env["GIT_CONFIG_KEY_0"] == "http.extraHeader"
    assert env["GIT_CONFIG_VALUE_0"] == "Authorization: Basic s3cret"
    assert "GIT_CONFIG_COUNT" not in runner.build_env()
    assert runner.redact("token s3cret here") == "token *** here"


def test_a_failing_command_raises_a_safe_error(tmp_path: Path) -> None:
    runner = GitRunner(job_root=tmp_path)
    with pytest.raises(GitError) as caught:
        runner.run(["rev-parse", "HEAD"], git_dir=tmp_path / "missing.git")
    assert str(caught.value) == "git rev-parse failed (exit 128)"
    assert str(tmp_path) not in str(caught.value)


def test_a_stream_past_the_deadline_is_killed_with_its_group(tmp_path: Path) -> None:
    git_dir = tmp_path / "deadline-probe.git"
    GitRunner(job_root=tmp_path).run(["init", "--bare", "-q", "--", str(git_dir)])
    runner = GitRunner(job_root=tmp_path, deadline=time.monotonic() + 0.5)
    started = time.monotonic()
    with (
        pytest.raises(ScanTimeout),
        runner.stream(["cat-file", "--batch"], git_dir=git_dir, stdin=True) as proc,
    ):
        # cat-file waits for input that never comes; the watchdog kills it at the deadline.
        assert proc.stdout.read() == b""
    assert time.monotonic() - started < 5
    assert processes_left(str(git_dir)) == []
    runner.cleanup()
    assert not runner.home.exists()


def test_a_call_just_before_the_deadline_still_runs(tmp_path: Path) -> None:
    now = [99.5]
    runner = GitRunner(job_root=tmp_path, deadline=100.0, clock=lambda: now[0])
    assert runner.run(["version"]).startswith(b"git version ")
    now[0] = 100.0
    with pytest.raises(ScanTimeout):
        runner.run(["version"])


def test_cleanup_can_run_twice(tmp_path: Path) -> None:
    runner = GitRunner(job_root=tmp_path)
    runner.cleanup()
    runner.cleanup()  # the scan's own finally after an earlier cleanup
    assert not runner.home.exists()


def test_a_call_after_the_deadline_starts_nothing(tmp_path: Path) -> None:
    runner = GitRunner(job_root=tmp_path, deadline=time.monotonic() - 1)
    with pytest.raises(ScanTimeout) as caught:
        runner.run(["version"])
    assert str(caught.value) == "the scan took longer than its time limit and was stopped"


def test_the_environment_is_exactly_the_documented_allowlist(tmp_path: Path) -> None:
    runner = GitRunner(job_root=tmp_path)
    documented = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(runner.home),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ASKPASS": "/bin/false",
        "SSH_ASKPASS": "/bin/false",
        "GIT_SSH_COMMAND": "/bin/false",
        "GIT_ALLOW_PROTOCOL": "https",
        "GIT_PROTOCOL_FROM_USER": "0",
        "GIT_LFS_SKIP_SMUDGE": "1",
        "GIT_CEILING_DIRECTORIES": str(tmp_path.resolve()),
        "LC_ALL": "C",
        "LANG": "C",
    }
    assert runner.build_env() == documented
    assert runner.build_env(buffered=True, diffing=True) == documented | {
        "GIT_FLUSH": "0",
        "GIT_REPLACE_REF_BASE": "refs/opready-missing/",
    }


def test_a_one_word_command_runs_and_reports_its_progress(tmp_path: Path) -> None:
    stages: list[tuple[str, int]] = []
    runner = GitRunner(job_root=tmp_path, progress=lambda stage, pct: stages.append((stage, pct)))
    assert runner.run(["version"]).startswith(b"git version ")
    assert stages == [("git", 0)]
    with pytest.raises(ValueError, match="^no git command$"):
        runner.build_argv([])


def test_a_failure_is_logged_with_its_command_and_without_secrets(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    runner = GitRunner(job_root=tmp_path)
    runner.add_secret("s3cret")
    caplog.set_level(logging.DEBUG, logger="assessments.scans.engine.gitrunner")
    with pytest.raises(GitError) as caught:
        runner.run(["fsck"], git_dir=tmp_path / "s3cret.git")
    assert str(caught.value) == "git fsck failed (exit 128)"
    assert caught.value.returncode == 128
    assert caught.value.stderr.startswith("fatal: not a git repository: ")
    assert "***.git" in caught.value.stderr
    failures = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert failures == [f"git fsck exited with 128: {caught.value.stderr.strip()}"]
    assert "s3cret" not in caplog.text


def test_kill_all_stops_a_running_process_and_its_reader_sees_the_failure(
    tmp_path: Path,
) -> None:
    git_dir = tmp_path / "kill-all-probe.git"
    runner = GitRunner(job_root=tmp_path)
    runner.run(["init", "--bare", "-q", "--", str(git_dir)])
    with (
        pytest.raises(GitError, match="exit -9"),
        runner.stream(["cat-file", "--batch"], git_dir=git_dir, stdin=True),
    ):
        waited = time.monotonic() + 5
        while not processes_with(str(git_dir)) and time.monotonic() < waited:
            time.sleep(0.05)  # /proc shows the new command line a moment after the start
        assert processes_with(str(git_dir)) != []
        runner.kill_all()
        assert processes_left(str(git_dir)) == []
    assert runner._live == set()  # nothing reaped is kept, to be signalled again later
    runner.cleanup()


def test_a_command_whose_folder_outgrows_the_limit_is_stopped(
    silent_server: int, tmp_path: Path
) -> None:
    mib = 1024 * 1024
    watched = tmp_path / "copy.git"
    watched.mkdir()
    (watched / "pack.tmp").write_bytes(bytes(3 * mib))
    host = "outgrown.test.example"
    runner = GitRunner(job_root=tmp_path, deadline=time.monotonic() + 20)
    with pytest.raises(ScanError) as caught:
        # ls-remote waits on a server that never answers; the folder is already too big.
        runner.run(
            ["ls-remote", "--", f"https://{host}:{silent_server}/a.git"],
            extra_config=[("http.curloptResolve", f"{host}:{silent_server}:127.0.0.1")],
            watch_dir=watched,
            max_dir_bytes=2 * mib,
        )
    assert str(caught.value) == "the repository is larger than the limit of 2 MiB"
    # The whole group was sent SIGKILL; the helpers (git-remote-https) may take a moment to
    # go, but would otherwise wait out the 30-second low-speed limit.
    gone = time.monotonic() + 3
    while processes_with(host) and time.monotonic() < gone:
        time.sleep(0.05)
    assert processes_left(host) == []
    runner.cleanup()


def test_git_dates_are_whole_seconds_since_1970_in_utc() -> None:
    assert git_date(0) == "@0 +0000"
    assert git_date(1_767_355_200) == "@1767355200 +0000"
    with pytest.raises(ValueError, match="^git cannot represent dates before 1970$"):
        git_date(-1)


def test_input_reaches_the_command(tmp_path: Path) -> None:
    runner = GitRunner(job_root=tmp_path)
    sha = runner.run(["hash-object", "--stdin"], input_bytes=b"hello\n")
    assert sha == b"ce013625030ba8dba906f756967f9e9ca394464a\n"


def test_the_file_size_limit_alone_stops_a_git_process_writing_past_it(tmp_path: Path) -> None:
    git_dir = tmp_path / "fsize-probe.git"
    runner = GitRunner(job_root=tmp_path)
    runner.run(["init", "--bare", "-q", "--", str(git_dir)])
    blob = os.urandom(300_000)  # stays about 300 kB as a loose object: random bytes do not shrink
    with pytest.raises(GitError):
        runner.run(["hash-object", "-w", "--stdin"], git_dir=git_dir, input_bytes=blob,
                   fsize_limit=100_000)  # fmt: skip
    assert (
        len(runner.run(["hash-object", "-w", "--stdin"], git_dir=git_dir, input_bytes=blob)) == 41
    )


def test_a_cancel_from_the_progress_callback_stops_a_running_command(
    silent_server: int, tmp_path: Path
) -> None:
    host = "cancelled.test.example"
    seen: list[tuple[str, int]] = []

    def progress(stage: str, percent: int) -> None:
        seen.append((stage, percent))
        if len(seen) == 3:
            raise ScanCancelled("cancelled by the user")

    runner = GitRunner(job_root=tmp_path, deadline=time.monotonic() + 20, progress=progress)
    with pytest.raises(ScanCancelled):
        runner.run(
            ["ls-remote", "--", f"https://{host}:{silent_server}/a.git"],
            extra_config=[("http.curloptResolve", f"{host}:{silent_server}:127.0.0.1")],
            stage="cloning",
            percent=5,
        )
    assert seen == [("cloning", 5)] * 3  # at the start, then while it runs
    gone = time.monotonic() + 3
    while processes_with(host) and time.monotonic() < gone:
        time.sleep(0.05)
    assert processes_left(host) == []
    runner.cleanup()
