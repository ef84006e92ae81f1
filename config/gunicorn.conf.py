"""gunicorn settings for opready: `gunicorn -c config/gunicorn.conf.py config.wsgi`.

Every value can be overridden on the command line or with GUNICORN_CMD_ARGS. The access log
never contains link tokens or query strings (config/gunicorn_logging.py).
"""

from __future__ import annotations

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
# A request that takes longer than this is killed; every broker, cache and database call from
# a request gives up long before (BROKER_TIMEOUT_SECONDS, CACHE_TIMEOUT_SECONDS,
# DATABASE_CONNECT_TIMEOUT).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
# Client address, time, request line (path only, tokens redacted), status, size, duration (µs).
access_log_format = '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(D)s'
logger_class = "config.gunicorn_logging.RedactingLogger"
