from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """Tests make many users and log them in: the production hasher's deliberate slowness
    (about a second per password on a busy machine) bought nothing here and dominated the
    suite's time. Production keeps Django's default hashers."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def personas(db: Any) -> Any:
    """alice owns org A, bob is a read-only member of A, fiona facilitates A and C,
    charlie is an outsider who owns org B."""
    from tests.factories import make_personas  # Django models: only for tests that use them

    return make_personas()


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    django_db_modify_db_settings_parallel_suffix: None,
) -> Iterator[None]:
    """Under `make mutate`, every forked test run starts from its own copy of a migrated
    SQLite template (with --reuse-db), instead of migrating a fresh database per mutant."""
    template = os.environ.get("OPREADY_MUTATE_DB_TEMPLATE")
    if not template:
        yield
        return
    from django.conf import settings

    database = settings.DATABASES["default"]
    copy = f"{template}.{os.getpid()}"
    shutil.copyfile(template, copy)
    database.setdefault("TEST", {})["NAME"] = copy
    yield
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.remove(copy + suffix)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    # Debian's Chromium, never a downloaded browser; the flags keep it off the network.
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    }


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under `make mutate` (scripts/mutate.py), property tests try at most
    OPREADY_MUTATE_EXAMPLES examples, derandomised and without the example database, so every
    mutant meets the same examples and a surviving mutant does not pay for hundreds."""
    cap = int(os.environ.get("OPREADY_MUTATE_EXAMPLES") or 0)
    if cap <= 0:
        return
    from hypothesis import settings as hypothesis_settings

    for item in items:
        test = getattr(item, "obj", None)
        current = getattr(test, "_hypothesis_internal_use_settings", None)
        if current is not None and current.max_examples > cap:
            test._hypothesis_internal_use_settings = hypothesis_settings(  # type: ignore[union-attr]
                current, max_examples=cap, derandomize=True, database=None
            )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under `make test` (and so in CI) a skipped test fails the run: nothing, browser tests
    included, may quietly not run."""
    if os.environ.get("OPREADY_FORBID_SKIPS") != "1":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        reporter.write_line(
            f"FAILED: {len(skipped)} test(s) were skipped; OPREADY_FORBID_SKIPS=1 forbids skips.",
            red=True,
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def celery_worker(django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: Any) -> Any:
    """A real Celery worker process on the configured broker (filesystem:// by default, Redis
    in CI), reading and writing the test database. Tests that use it must commit their data
    (django_db(transaction=True))."""
    import subprocess
    import sys
    import time
    from pathlib import Path

    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        url = f"sqlite:///{Path(db['NAME']).resolve()}"
    else:
        url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings"}
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--pool",
        "solo",
        "-Q",
        settings.CELERY_TASK_DEFAULT_QUEUE,
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--loglevel",
        "INFO",
    ]
    with open(log, "w") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while "ready." not in log.read_text():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"the Celery worker did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(autouse=True)
def _chart_cache_of_this_run(settings: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Charts drawn for PDFs are cached on disk; tests share one folder per run, never the
    developer's var/chart-cache, so a test run starts with no chart drawn."""
    settings.CHART_CACHE_DIR = tmp_path_factory.getbasetemp() / "chart-cache"
