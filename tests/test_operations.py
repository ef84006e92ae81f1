"""What an operator relies on: private caching headers, liveness and readiness endpoints,
token-free logs (Django's and gunicorn's access log), and a database outage that gives fast,
clear 503s and recovers without stale connections."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from assessments.models import WorkerHeartbeat
from config.logfilters import redact
from tests.chaos.conftest import database_url, free_port, wait_for
from tests.factories import Personas, invite

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_result_report_and_organisation_pages_are_private_and_not_stored(
    personas: Personas,
) -> None:
    client = Client()
    client.force_login(personas.alice)
    a = personas.assessment_a
    for url in [
        reverse("assessments:org_detail", args=[personas.org_a.pk]),
        reverse("assessments:detail", args=[a.pk]),
        reverse("reports:results", args=[a.pk]),
        reverse("reports:report", args=[a.pk]),
        reverse("reports:export", args=[a.pk, "result.json"]),
    ]:
        response = client.get(url)
        assert response.status_code in (200, 422), url
        cache_control = response["Cache-Control"]
        assert "private" in cache_control and "no-store" in cache_control, url


@pytest.mark.django_db
def test_readiness_reports_each_dependency_and_liveness_needs_none(settings: Any) -> None:
    # A queue of its own: the Celery worker an earlier test of this process started keeps
    # reporting heartbeats for the process's usual queue.
    settings.CELERY_TASK_DEFAULT_QUEUE = "readyz-test-queue"
    client = Client()
    assert client.get("/healthz").content == b"ok\n"
    ready = client.get("/readyz")
    body = ready.json()
    assert ready.status_code == 200 and ready["Cache-Control"] == "no-store"
    assert body["checks"]["database"]["ok"] and body["checks"]["cache"]["ok"]
    assert body["checks"]["broker"]["ok"], body
    # No worker has reported: the site still serves (200), strict monitoring says 503.
    assert not body["checks"]["worker"]["ok"] and body["status"] == "degraded"
    assert client.get("/readyz?strict=1").status_code == 503
    WorkerHeartbeat.objects.create(name="w:1", queue="readyz-test-queue")
    body = client.get("/readyz?strict=1").json()
    assert body["status"] == "ok" and body["checks"]["worker"]["heartbeat_age_seconds"] < 5


@pytest.mark.django_db
def test_django_logs_never_contain_link_tokens(
    personas: Personas, caplog: pytest.LogCaptureFixture
) -> None:
    from django.core.cache import cache

    cache.clear()
    respondent, token = invite(personas.assessment_a)
    secret = "S3cretT0kenThatMustNotBeLogged"
    client = Client()
    with caplog.at_level(logging.INFO):
        client.get(f"/i/{secret}/")
        client.get(f"/shared/{secret}/?x={secret}")
        client.get(f"/join-org/{secret}/")
    handler = logging.getLogger().handlers[0]
    lines = [handler.format(r) for r in caplog.records if handler.filter(r)]
    assert any("/i/[redacted]/" in line for line in lines), lines
    assert not any(secret in line for line in lines), lines
    assert redact(f'"GET /i/{token}/?a=b HTTP/1.1"') == '"GET /i/[redacted]/ HTTP/1.1"'


class _Proxy:
    """A TCP forwarder to PostgreSQL that the test can cut and restore: the database becoming
    unreachable and coming back, without touching the shared server."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self.listener: socket.socket | None = None
        self.conns: list[socket.socket] = []
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(32)
        self.thread = threading.Thread(target=self._accept, args=(self.listener,), daemon=True)
        self.thread.start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        if self.listener is not None:
            # shutdown() wakes the thread blocked in accept(); close() alone would leave the
            # port accepting until then.
            with contextlib.suppress(OSError):
                self.listener.shutdown(socket.SHUT_RDWR)
            self.listener.close()
            self.listener = None
        for conn in self.conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        self.conns = []


def _get(url: str) -> tuple[int, bytes, float]:
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - loopback
            return response.status, response.read(), time.monotonic() - started
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), time.monotonic() - started


@pytest.fixture
def gunicorn(tmp_path: Path) -> Iterator[Any]:
    """Start gunicorn with the project's config file against a given database URL."""
    started: list[subprocess.Popen[bytes]] = []

    def run(db_url: str) -> tuple[str, Path]:
        port = free_port()
        log = tmp_path / f"access-{port}.log"
        env = {
            **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
            "DATABASE_URL": db_url,
            "GUNICORN_ACCESS_LOG": str(log),
            "GUNICORN_WORKERS": "1",
            "DATABASE_CONNECT_TIMEOUT": "2",
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py",
             "--bind", f"127.0.0.1:{port}", "config.wsgi"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        started.append(process)
        base = f"http://127.0.0.1:{port}"

        def up() -> bool:
            try:
                return _get(base + "/healthz")[0] == 200
            except OSError:
                return False

        wait_for(up, 60, "gunicorn to answer", interval=0.2)
        return base, log

    yield run
    for process in started:
        process.terminate()
        process.wait(timeout=20)


@pytest.mark.django_db(transaction=True)
def test_gunicorn_access_log_has_no_tokens_or_query_strings(gunicorn: Any) -> None:
    base, log = gunicorn(database_url())
    secret = "An0therS3cretT0ken"
    for path in [
        f"/i/{secret}/",
        f"/shared/{secret}/",
        f"/join-org/{secret}/",
        f"/login/?next={secret}",
    ]:
        _get(base + path)
    wait_for(lambda: log.exists() and log.read_text().count("\n") >= 5, 10, "the access log")
    text = log.read_text()
    assert secret not in text, text
    assert '"GET /i/[redacted]/ HTTP/1.1" 404' in text, text
    assert '"GET /login/ HTTP/1.1" 200' in text, text


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_database_gives_fast_clear_503s_and_recovers(gunicorn: Any) -> None:
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        # A PostgreSQL URL with a port where nothing listens: unreachable from the start.
        base, _log = gunicorn(f"postgres://opready@127.0.0.1:{free_port()}/opready")
        status, body, seconds = _get(base + "/i/some-token/")
        assert status == 503 and b"database cannot be reached" in body and seconds < 10
        status, body, seconds = _get(base + "/readyz")
        assert status == 503 and seconds < 10
        return
    proxy = _Proxy((db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432)))
    proxy.start()
    url = f"postgres://{db['USER']}:{db['PASSWORD']}@127.0.0.1:{proxy.port}/{db['NAME']}"
    base, _log = gunicorn(url)
    assert _get(base + "/readyz")[0] == 200  # connected (and the connection kept: CONN_MAX_AGE)
    proxy.cut()
    status, body, seconds = _get(base + "/i/some-token/")
    assert status == 503 and b"database cannot be reached" in body, body
    assert seconds < 10
    assert _get(base + "/readyz")[0] == 503
    proxy.start()  # the database is back on the same address
    # The kept connection is stale; the next request must not fail on it.
    status, _body, _s = _get(base + "/readyz")
    assert status == 200
    assert _get(base + "/i/some-token/")[0] == 404
