"""Fixed-window counters in the cache, for rate limits on links and forms.

The cache (Redis in production) is a helper, not a dependency: when it is down or hung, every
call here gives up within CACHE_TIMEOUT_SECONDS, logs the outage (once a minute per process) and
lets the request through. A survey link that keeps working unlimited for the length of a cache
outage is better than every link answering 500.
"""

from __future__ import annotations

import ipaddress
import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

logger = logging.getLogger(__name__)
_last_outage_log = 0.0


def client_ip(request: HttpRequest) -> str:
    """The client's address: from X-Forwarded-For when trusted proxies set it (the entry
    appended by the outermost trusted proxy, which a client cannot forge)."""
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [a for a in forwarded if a]
    if proxies > 0 and len(forwarded) >= proxies and _valid(forwarded[-proxies]):
        return str(forwarded[-proxies])
    remote = str(request.META.get("REMOTE_ADDR", ""))
    # Always an address (the login throttle stores it in an inet column on PostgreSQL).
    return remote if _valid(remote) else "0.0.0.0"  # noqa: S104 - a value, not a bind address  # nosec B104


def _valid(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def _outage(exc: Exception) -> None:
    global _last_outage_log
    now = time.monotonic()
    if now - _last_outage_log >= 60:
        _last_outage_log = now
        logger.error("Cache unavailable, rate limits are not enforced: %s", exc)


def _key(name: str, window: int) -> str:
    return f"rl:{name}:{int(time.time() // window)}"


def count(name: str, window: int) -> int:
    """Hits recorded for `name` in the current window (0 when the cache is unavailable)."""
    try:
        return int(cache.get(_key(name, window), 0))
    except Exception as exc:
        _outage(exc)
        return 0


def hit(name: str, window: int) -> int:
    """Record one hit for `name` in the current window; returns the new count (0 when the
    cache is unavailable: fail open)."""
    key = _key(name, window)
    try:
        if cache.add(key, 1, timeout=window + 10):
            return 1
        try:
            return int(cache.incr(key))
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=window + 10)
            return 1
    except Exception as exc:
        _outage(exc)
        return 0


def over(name: str, limit: int, window: int) -> bool:
    return count(name, window) >= limit
