"""Turns a missing or broken pinned rubric into a page that says so, instead of a bare 500."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string

from scoring.rubric import RubricError

logger = logging.getLogger(__name__)


class RubricUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, RubricError):
            return None
        # The file an assessment pinned was removed or replaced by a broken one: an operator
        # must put the released file back (see docs/rubric.md, "Versions are immutable").
        logger.error("A pinned rubric cannot be loaded: %s", exception)
        return render(request, "rubric_unavailable.html", status=503)


class PrivatePagesMiddleware:
    """Every page and download is about one organisation or one person: `Cache-Control:
    private, no-store` unless the view chose its own, so no shared cache or browser history
    keeps results, reports or organisation pages. Static files never get here (WhiteNoise
    answers them first, with long-lived public caching)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not response.has_header("Cache-Control"):
            response["Cache-Control"] = "private, no-store"
        return response


class DatabaseUnavailableMiddleware:
    """A view that cannot reach the database answers with the 503 page (`database_unavailable`);
    failures outside views reach the same page through the 500 handler (config/urls.py)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return database_unavailable(request, exception)


def database_unavailable(request: HttpRequest, exc: BaseException | None) -> HttpResponse | None:
    """A short 503 page for a database that cannot be reached (used by the 500 handler, so
    it covers failures anywhere in the request), or None for any other error."""
    if not isinstance(exc, (OperationalError, InterfaceError)) or not _is_connection_error(exc):
        return None
    logger.error("Database unavailable: %s", (str(exc).strip().splitlines() or [""])[0][:300])
    # Rendered without the request: context processors could reach for the database again.
    response = HttpResponse(render_to_string("db_unavailable.html"), status=503)
    response["Retry-After"] = "30"
    response["Cache-Control"] = "no-store"
    return response


def _is_connection_error(exc: BaseException) -> bool:
    """Connection failures, not query errors (a lock timeout or a bad query is a real bug)."""
    text = str(exc).lower()
    return isinstance(exc, InterfaceError) or any(
        marker in text
        for marker in (
            "connection",
            "could not connect",
            "server closed",
            "terminating",
            "timeout expired",
        )
    )
