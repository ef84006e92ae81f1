"""Turns a missing or broken pinned rubric into a page that says so, instead of a bare 500."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

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
