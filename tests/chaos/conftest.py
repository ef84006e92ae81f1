"""Real faults for the job system: a private redis-server that the tests kill, stop and hang,
and real Celery workers (prefork, as in production) whose pool processes and main processes
the tests kill. Nothing here touches the shared Redis or PostgreSQL."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Short bounds, so each fault test takes seconds: a job beats every second and is stale after 4.
FAST_JOBS = {
    "JOB_HEARTBEAT_SECONDS": "1",
    "JOB_STALE_SECONDS": "4",
    "JOB_REQUEUE_AFTER_SECONDS": "3",
    "WORKER_HEARTBEAT_SECONDS": "1",
    "JOB_MAX_ATTEMPTS": "3",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(predicate: Any, timeout: float, what: str, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class RedisServer:
    """A redis-server of our own on a free port, which the test may stop, kill and restart."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self.ping, 10, "redis-server to answer")

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def pause(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    yield server
    if server.process is not None:
        server.resume()
        server.kill()


def database_url() -> str:
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    host = db["HOST"] or "127.0.0.1"
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


class ChaosWorker:
    """A production-like Celery worker (prefork) on the test's Redis and database."""

    def __init__(
        self, broker_url: str, control: Path, log: Path, concurrency: int, scan_root: Path
    ) -> None:
        self.scan_root = scan_root
        self.broker_url = broker_url
        self.control = control
        self.log = log
        self.concurrency = concurrency
        self.process: subprocess.Popen[bytes] | None = None
        self._offset = 0

    def start(self) -> None:
        from django.conf import settings

        env = {
            **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
            **FAST_JOBS,
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": self.broker_url,
            "OPREADY_CHAOS_DIR": str(self.control),
            "SCAN_ALLOWED_ROOTS": str(self.scan_root),
            "OPREADY_CELERY_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
            "DJANGO_SETTINGS_MODULE": "config.settings",
        }
        self._offset = self.log.stat().st_size if self.log.exists() else 0
        with open(self.log, "ab") as output:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "tests.chaos.worker_app",
                    "worker",
                    "--pool",
                    "prefork",
                    "--concurrency",
                    str(self.concurrency),
                    "-Q",
                    settings.CELERY_TASK_DEFAULT_QUEUE,
                    "--loglevel",
                    "INFO",
                ],
                cwd=ROOT,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: the test can kill it whole
            )
        wait_for(
            lambda: "ready." in self.output() or self.process.poll() is not None,
            90,
            "the worker to start",
        )
        assert self.process.poll() is None, self.output()[-3000:]

    def output(self) -> str:
        return self.log.read_text(errors="replace")[self._offset :] if self.log.exists() else ""

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill_all(self) -> None:
        """SIGKILL the main process and its pool at once: a machine losing the worker."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@pytest.fixture
def chaos(
    tmp_path: Path, redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> Iterator[Any]:
    """The test process publishes to the private Redis with the same short job bounds as the
    workers; `chaos.worker(...)` starts workers that are stopped after the test."""
    from config.celery import app as celery_app

    for key, value in FAST_JOBS.items():
        setattr(settings, key, int(value))
    monkeypatch.setenv("CELERY_BROKER_URL", redis_server.url)
    monkeypatch.setitem(celery_app.conf, "broker_url", redis_server.url)
    monkeypatch.setitem(
        celery_app.conf, "broker_transport_options", settings.REDIS_BROKER_TRANSPORT_OPTIONS
    )
    monkeypatch.setattr(celery_app, "_pool", None)
    monkeypatch.setattr(celery_app.amqp, "_producer_pool", None)
    control = tmp_path / "control"
    control.mkdir()
    scan_root = tmp_path / "repos"
    scan_root.mkdir()
    settings.SCAN_ALLOWED_ROOTS = [scan_root]
    workers: list[ChaosWorker] = []

    class Chaos:
        redis = redis_server
        repos = scan_root

        def worker(self, concurrency: int = 1) -> ChaosWorker:
            log = tmp_path / f"worker-{len(workers)}.log"  # its own: tests read what it said
            w = ChaosWorker(redis_server.url, control, log, concurrency, scan_root)
            workers.append(w)
            w.start()
            return w

        def pause_jobs(self) -> None:
            (control / "pause").write_text("")

        def release_jobs(self) -> None:
            (control / "pause").unlink(missing_ok=True)

        def paused_pid(self, timeout: float = 60) -> int:
            def find() -> int | None:
                files = sorted(control.glob("paused-*"), key=lambda p: p.stat().st_mtime)
                return int(files[-1].read_text()) if files else None

            pid = wait_for(find, timeout, "a job to reach its pause point")
            for f in control.glob("paused-*"):
                f.unlink()
            return int(pid)

    yield Chaos()
    (control / "pause").unlink(missing_ok=True)
    for w in workers:
        w.stop()
    celery_app.pool.force_close_all()
