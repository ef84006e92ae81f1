"""The app's URLs plus one for benchmarks/load.py: `/bench/write`, a view that makes one
committed single-row write and nothing else (the floor under any view that must write).
Served only by the gunicorn that load.py starts with benchmarks.floor_settings; never part
of the app."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from config.urls import urlpatterns as app_urlpatterns


@csrf_exempt
def bare_write(request: HttpRequest) -> HttpResponse:
    from assessments.models import WorkerHeartbeat

    with transaction.atomic():
        WorkerHeartbeat.objects.filter(name="load-benchmark").update(seen_at=timezone.now())
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/write", bare_write), *app_urlpatterns]
