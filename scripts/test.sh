#!/usr/bin/env bash
# The whole test suite, browser tests included. Extra arguments go to pytest.
# Uses DATABASE_URL / CELERY_BROKER_URL / CACHE_URL from the environment when set
# (CI runs it once on the embedded defaults and once on PostgreSQL + Redis).
set -euo pipefail
cd "$(dirname "$0")/.."
export DJANGO_ALLOW_ASYNC_UNSAFE=true   # Playwright's sync API runs an event loop
export OPREADY_FORBID_SKIPS=${OPREADY_FORBID_SKIPS:-1}
# The tests' own queue and media folder, shared with the Celery worker the tests start, and
# apart from anything a development server or worker on this machine uses.
export OPREADY_CELERY_QUEUE=${OPREADY_CELERY_QUEUE:-opready-test-$$}
export MEDIA_ROOT=${MEDIA_ROOT:-$PWD/var/test-media}
# Independent tests run in parallel worker processes (pytest-xdist), one per CPU by default;
# TEST_WORKERS=0 runs everything in this one process. Each worker gets its own test database,
# Celery worker and queue, media folder and cache keys (config/settings.py, tests/conftest.py).
WORKERS=${TEST_WORKERS:-auto}
echo "==> Tests on database: ${DATABASE_URL:-sqlite (default)}; broker: ${CELERY_BROKER_URL:-filesystem:// (default)}; workers: $WORKERS"
exec .venv/bin/python -m pytest -n "$WORKERS" "$@"
