"""The Redis cache keeps to its own keys: clearing it leaves other deployments' (and other
test workers') keys alone. Runs against a redis-server this test starts on a free port."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
import redis

from config.cache import ScopedRedisCache


@pytest.fixture
def redis_url(tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    server = shutil.which("redis-server")
    assert server, "redis-server is needed (apt-get install redis-server)"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    client = redis.Redis(port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/3"
    process.terminate()
    process.wait(10)


def test_clearing_the_cache_deletes_only_its_own_keys(redis_url: str) -> None:
    ours = ScopedRedisCache(redis_url, {"KEY_PREFIX": "opreadygw0"})
    theirs = ScopedRedisCache(redis_url, {"KEY_PREFIX": "opreadygw1"})
    ours.set("rl:redeem:127.0.0.1:1", 5)
    theirs.set("rl:redeem:127.0.0.1:1", 7)
    other_app = redis.Redis.from_url(redis_url)
    other_app.set("someone-else", b"1")
    ours.clear()
    assert ours.get("rl:redeem:127.0.0.1:1") is None
    assert theirs.get("rl:redeem:127.0.0.1:1") == 7
    assert other_app.get("someone-else") == b"1"


def test_each_parallel_test_worker_gets_its_own_queue_media_folder_and_cache_keys() -> None:
    """What pytest-xdist's worker id changes in the settings, read by a fresh interpreter as a
    test worker (and the Celery worker it starts, which inherits the variable) reads them."""
    import json
    import os
    import sys

    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        "print(json.dumps([settings.CELERY_TASK_DEFAULT_QUEUE, str(settings.MEDIA_ROOT), "
        "settings.CACHES['default']['KEY_PREFIX']]))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "CACHE_URL": "redis://127.0.0.1:6379/0",
        "OPREADY_CELERY_QUEUE": "q",
        "MEDIA_ROOT": "/srv/media",
    }
    seen = {}
    for worker in ("gw0", "gw1"):
        out = subprocess.run(
            [sys.executable, "-c", code],
            env={**env, "PYTEST_XDIST_WORKER": worker},
            capture_output=True,
            text=True,
            check=True,
        )
        seen[worker] = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["gw0"] == ["qgw0", "/srv/media/gw0", "opreadygw0"]
    assert seen["gw1"] == ["qgw1", "/srv/media/gw1", "opreadygw1"]
