from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import worker_init, worker_ready, worker_shutdown

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def _survive_redis_loss_with_tasks_in_flight() -> None:
    """Keep the worker alive when Redis goes away while a task runs (kombu 5.7, celery 5.7).

    When the broker connection breaks, the consumer first calls `connection.collect()`, which
    detaches the transport (`transport.client = None`), and then `connection.close()`, which
    closes the channel and restores its unacknowledged messages. If a BRPOP was in flight (the
    worker had a free pool slot), the first close attempt stopped early, so the second one finds
    its Redis pool already dropped and builds a new one from `transport.client.hostname`:
    AttributeError, which escapes `ignore_errors` (it only ignores connection errors), and the
    worker exits with "Unrecoverable error: AttributeError(... 'hostname')". Upstream main still
    has the same sequence (celery consumer.on_connection_error_after_connected, kombu
    Channel._connparams). Raising a connection error instead lets the consumer carry on to its
    reconnect loop; the unacknowledged message stays in Redis's unacked set (restored after the
    visibility timeout) and our own job takeover does not depend on it.
    """
    import redis
    from kombu.transport import redis as kombu_redis

    original: Any = kombu_redis.Channel._connparams
    if getattr(original, "_opready_patched", False):
        return

    def _connparams(self: Any, asynchronous: bool = False) -> Any:
        if self.connection.client is None:
            raise redis.exceptions.ConnectionError("the broker connection was already released")
        return original(self, asynchronous=asynchronous)

    _connparams._opready_patched = True  # type: ignore[attr-defined]
    kombu_redis.Channel._connparams = _connparams  # type: ignore[method-assign]


@worker_init.connect
def _patch_the_consumer(**_kwargs: Any) -> None:
    # Only a worker consumes; a web process or a command (render_report, migrate) that merely
    # sends tasks does not pay redis's import (about a third of a second) for it.
    _survive_redis_loss_with_tasks_in_flight()


app = Celery("opready")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
def _worker_ready(**kwargs: Any) -> None:
    from assessments.worker import worker_started

    worker_started(**kwargs)


@worker_shutdown.connect
def _worker_shutdown(**kwargs: Any) -> None:
    from assessments.worker import worker_stopping

    worker_stopping(**kwargs)
