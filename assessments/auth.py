"""Login throttling: django-axes, for logins that come from a web request."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.http import HttpRequest


class LoginThrottleBackend(AxesStandaloneBackend):  # type: ignore[misc]
    """django-axes' lock-out check. Authentication without a request (code that checks a
    password directly, Django's test client `login()`) has no client address to throttle and
    no page to lock out, so it passes on to the next backend; every login page and the admin
    pass their request and are throttled."""

    def authenticate(self, request: HttpRequest | None, *args: Any, **kwargs: Any) -> None:
        if request is None:
            return None
        return super().authenticate(request, *args, **kwargs)  # type: ignore[no-any-return]


def throttled_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """The user name the throttle counts: as posted, cut to Django's 150 characters (a
    100,000-character name must not reach django-axes' 255-character column)."""
    name = (credentials or {}).get("username") or request.POST.get("username", "")
    return str(name).strip()[:150]
