"""Liveness and readiness for operators and load balancers.

- `/healthz`: the process answers (no database, no network). For restarting a wedged process.
- `/readyz`: database, cache, broker and the newest worker heartbeat, each with its time, as
  JSON. 200 while the database answers (the site works, degraded at worst: links fail open
  without the cache, jobs wait without a broker or worker); 503 when it does not. With
  `?strict=1`, any check that fails gives 503 (for monitoring rather than load balancing).
Both send `Cache-Control: no-store` and take no input.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    response = HttpResponse("ok\n", content_type="text/plain")
    response["Cache-Control"] = "no-store"
    return response


def _timed(check: Callable[[], dict[str, Any] | None]) -> dict[str, Any]:
    started = time.monotonic()
    try:
        extra = check() or {}
        result: dict[str, Any] = {"ok": True, **extra}
    except Exception as exc:
        result = {"ok": False, "error": f"{type(exc).__name__}: {str(exc)[:200]}"}
    result["ms"] = round((time.monotonic() - started) * 1000, 1)
    return result


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _cache() -> None:
    cache.set("readyz", "1", timeout=10)
    if cache.get("readyz") != "1":
        raise RuntimeError("the cache did not return what was stored")


def _broker() -> None:
    from config.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=settings.BROKER_TIMEOUT_SECONDS)


def _worker() -> dict[str, Any]:
    from assessments.jobs import newest_worker_heartbeat

    seen = newest_worker_heartbeat()
    if seen is None:
        raise RuntimeError("no worker has reported")
    age = (timezone.now() - seen).total_seconds()
    if age > 3 * settings.WORKER_HEARTBEAT_SECONDS:
        raise RuntimeError(f"newest worker heartbeat is {age:.0f} s old")
    return {"heartbeat_age_seconds": round(age, 1)}


@require_GET
def readyz(request: HttpRequest) -> HttpResponse:
    checks = {"database": _timed(_database)}
    if checks["database"]["ok"]:
        checks["worker"] = _timed(_worker)
    else:
        checks["worker"] = {"ok": False, "error": "needs the database"}
    checks["cache"] = _timed(_cache)
    checks["broker"] = _timed(_broker)
    strict = request.GET.get("strict") == "1"
    ready = checks["database"]["ok"] and (not strict or all(c["ok"] for c in checks.values()))
    response = JsonResponse(
        {"status": "ok" if all(c["ok"] for c in checks.values()) else "degraded", "checks": checks},
        status=200 if ready else 503,
    )
    response["Cache-Control"] = "no-store"
    return response
