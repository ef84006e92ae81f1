"""opready settings: one file, every deployment knob read from the environment.

The defaults make a fresh checkout run on embedded parts (SQLite, a filesystem Celery broker,
DEBUG on). Production sets DEBUG=0, SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL and
CELERY_BROKER_URL; see the README's configuration table.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from config.env import database_from_url, env_bool, env_int, env_list, env_str

# Lets annotations such as admin.ModelAdmin[Model] work at run time, as the type checker sees them.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("OPREADY_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", True)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "django-insecure-local-development-only-not-for-production-use-0123456789"  # noqa: S105 - DEBUG only  # nosec B105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    "assessments",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "assessments.middleware.PrivatePagesMiddleware",
    "assessments.middleware.DatabaseUnavailableMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "assessments.middleware.RubricUnavailableMiddleware",
    # Last, as django-axes requires: it turns a locked-out login into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "assessments.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": database_from_url(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'opready.sqlite3'}"), BASE_DIR
    )
}
if str(DATABASES["default"]["ENGINE"]).endswith("sqlite3"):
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    # Tests use a file, not memory, so threads and a Celery worker process share the database;
    # one file per test process, so two test runs on one checkout never share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-opready-{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Parallel test workers (pytest-xdist sets PYTEST_XDIST_WORKER, also in the Celery worker a
# test process starts) each get their own queue, media folder and cache keys, so no worker
# reads another's jobs, files or rate-limit counters.
_TEST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")

_redis_cache = env_str("CACHE_URL")
# Cache calls from a request give up within this many seconds (a hung Redis must not hold a
# request); the rate limiter then lets the request through (assessments/ratelimit.py).
CACHE_TIMEOUT_SECONDS = env_int("CACHE_TIMEOUT_SECONDS", 1)
if _redis_cache:
    CACHES = {
        "default": {
            "BACKEND": "config.cache.ScopedRedisCache",
            "LOCATION": _redis_cache,
            "OPTIONS": {
                "socket_timeout": CACHE_TIMEOUT_SECONDS,
                "socket_connect_timeout": CACHE_TIMEOUT_SECONDS,
            },
            # Several deployments (or test workers) may share one Redis database: each keeps
            # to its own keys, and clearing the cache clears only those.
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "opready") + _TEST_WORKER,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login throttling (django-axes, attempts kept in the database so it works with the cache down):
# LOGIN_FAILURE_LIMIT failed logins for one account, or from one client address, lock that
# account or address out of the login page and the admin for LOGIN_LOCKOUT_MINUTES.
AUTHENTICATION_BACKENDS = [
    "assessments.auth.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "assessments.ratelimit.client_ip"
AXES_USERNAME_CALLABLE = "assessments.auth.throttled_username"
AXES_VERBOSE = False
AXES_DISABLE_ACCESS_LOG = True  # failures are what is throttled; successes need no row
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "assessments:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "config.staticfinders.PlotlyFinder",
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media"))) / _TEST_WORKER
MEDIA_URL = "/media/"
# Charts drawn for PDFs, by a digest of their figure (reports.chartcache): a local cache that
# outlives processes, bounded in size, safe to delete at any time.
CHART_CACHE_DIR = Path(env_str("CHART_CACHE_DIR", str(VAR_DIR / "chart-cache"))) / _TEST_WORKER
CHART_CACHE_MAX_BYTES = env_int("CHART_CACHE_MAX_MB", 64) * 1024 * 1024

# --- Security -------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# "same-origin", not "no-referrer": browsers send `Origin: null` on form posts under
# no-referrer, which Django's CSRF check rightly refuses. Pages that carry a token in their
# URL (link redemption) set no-referrer themselves.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    # Scripts only from our static files or carrying the per-response nonce; no inline code.
    "script-src": [CSP.SELF, CSP.NONCE],
    # plotly.js writes inline styles; browsers ignore 'unsafe-inline' when a nonce is present,
    # so style-src carries no nonce (see STACK-NOTES).
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
SILENCED_SYSTEM_CHECKS = env_list("SILENCED_SYSTEM_CHECKS", [])

DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
_broker_dir = VAR_DIR / "broker"
# Every broker call a request makes (publishing a job) gives up within seconds, also against a
# Redis that accepts connections and never answers: the job row stays queued and says so.
BROKER_TIMEOUT_SECONDS = env_int("BROKER_TIMEOUT_SECONDS", 2)
REDIS_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
    "visibility_timeout": 3600,
    # Above the worker's 1-second BRPOP, which kombu reads without this timeout anyway.
    "socket_timeout": BROKER_TIMEOUT_SECONDS,
    "socket_connect_timeout": BROKER_TIMEOUT_SECONDS,
    "max_retries": 1,
}
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = (
    {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "control_folder": str(_broker_dir / "control"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
        "polling_interval": 0.1,
    }
    if CELERY_BROKER_URL.startswith("filesystem://")
    else REDIS_BROKER_TRANSPORT_OPTIONS
)
if CELERY_BROKER_URL.startswith("filesystem://"):
    for _folder in ("queue", "control", "processed"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
# Separate queues let several deployments (or a test run beside a dev worker) share a broker.
CELERY_TASK_DEFAULT_QUEUE = env_str("OPREADY_CELERY_QUEUE", "opready") + _TEST_WORKER
# Tasks record their status on model rows, so no result backend is needed.
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Hard limit below the broker visibility timeout, so a redelivery never races a live task.
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 1800)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 60
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# A broker outage must never hang a request: publishing gives up quickly, the job row stays
# "queued" and is sent again by the page polling it, a starting worker or `manage.py
# requeue_jobs`.
CELERY_BROKER_CONNECTION_TIMEOUT = BROKER_TIMEOUT_SECONDS
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
# Background jobs (assessments/jobs.py): a running job beats every JOB_HEARTBEAT_SECONDS; one
# silent for JOB_STALE_SECONDS is taken over; one started JOB_MAX_ATTEMPTS times without
# finishing is given up; a queued job not picked up within JOB_REQUEUE_AFTER_SECONDS is sent
# again when someone looks at it.
JOB_HEARTBEAT_SECONDS = env_int("JOB_HEARTBEAT_SECONDS", 5)
JOB_STALE_SECONDS = env_int("JOB_STALE_SECONDS", 30)
JOB_MAX_ATTEMPTS = env_int("JOB_MAX_ATTEMPTS", 3)
JOB_REQUEUE_AFTER_SECONDS = env_int("JOB_REQUEUE_AFTER_SECONDS", 30)
WORKER_HEARTBEAT_SECONDS = env_int("WORKER_HEARTBEAT_SECONDS", 10)
if JOB_STALE_SECONDS < 3 * JOB_HEARTBEAT_SECONDS:
    raise ImproperlyConfigured("JOB_STALE_SECONDS must be at least 3 x JOB_HEARTBEAT_SECONDS.")

# --- E-mail (invitations and reminders) ------------------------------------------------------
# Django 6.1's MAILERS, from the familiar EMAIL_* variables. With DEBUG on and no EMAIL_HOST,
# mail is printed to the console, so a fresh checkout never sends any; otherwise SMTP (to
# EMAIL_HOST, or a local mail server on port 25). Never the console in production: the
# messages carry survey links, which do not belong in server logs.
_email_host = env_str("EMAIL_HOST")
_email_backend = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG and not _email_host
    else "django.core.mail.backends.smtp.EmailBackend",
)
_email_ssl = env_bool("EMAIL_USE_SSL", False)  # port 465
MAILERS = {
    "default": {
        "BACKEND": _email_backend,
        "OPTIONS": {
            "host": _email_host or "localhost",
            "port": env_int("EMAIL_PORT", (465 if _email_ssl else 587) if _email_host else 25),
            "username": env_str("EMAIL_HOST_USER"),
            "password": env_str("EMAIL_HOST_PASSWORD"),
            "use_ssl": _email_ssl,
            "use_tls": env_bool("EMAIL_USE_TLS", bool(_email_host) and not _email_ssl),
            "timeout": env_int("EMAIL_TIMEOUT", 20),
        }
        if _email_backend.endswith("smtp.EmailBackend")
        else {},
    }
}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "opready <opready@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- opready --------------------------------------------------------------------------------
# Encrypts stored scan tokens; defaults to a key derived from SECRET_KEY.
OPREADY_ENCRYPTION_KEY = env_str("OPREADY_ENCRYPTION_KEY")
# Where scans make their temporary bare copies; never served.
SCAN_WORK_ROOT = Path(env_str("SCAN_WORK_ROOT", str(VAR_DIR / "scans")))
# Server paths that "scan a local repository" may read (comma-separated); empty turns it off.
SCAN_ALLOWED_ROOTS = [Path(p) for p in env_list("SCAN_ALLOWED_ROOTS", [])]
SCAN_TIMEOUT_SECONDS = env_int("SCAN_TIMEOUT_SECONDS", 900)
SCAN_MAX_UPLOAD_BYTES = env_int("SCAN_MAX_UPLOAD_BYTES", 500 * 1024 * 1024)
EXPORT_MAX_UPLOAD_BYTES = env_int("EXPORT_MAX_UPLOAD_BYTES", 20 * 1024 * 1024)
# Environment names that DORA measures count as production (comma-separated, any case);
# deployments that name another environment are left out. Empty counts every environment.
DELIVERY_ENVIRONMENTS = env_list("DELIVERY_ENVIRONMENTS", ["production", "prod", "prd", "live"])
PROCESS_LOG_MAX_UPLOAD_BYTES = env_int("PROCESS_LOG_MAX_UPLOAD_BYTES", 512 * 1024 * 1024)
INVITATION_TTL_DAYS = env_int("INVITATION_TTL_DAYS", 30)
MEMBER_INVITATION_TTL_DAYS = env_int("MEMBER_INVITATION_TTL_DAYS", 14)
TOKEN_RATE_LIMIT_PER_MINUTE = env_int("TOKEN_RATE_LIMIT_PER_MINUTE", 30)
# New respondents through one open link: per client address in 10 minutes, and in all per minute.
OPEN_LINK_JOINS_PER_ADDRESS = env_int("OPEN_LINK_JOINS_PER_ADDRESS", 20)
OPEN_LINK_JOINS_PER_MINUTE = env_int("OPEN_LINK_JOINS_PER_MINUTE", 60)
# How many proxies in front of the app append to X-Forwarded-For: the client's address is the
# entry that many from the right (0: use the connection's address). Behind one proxy every
# client would otherwise share that proxy's address, and so one rate-limit bucket.
TRUSTED_PROXY_COUNT = env_int(
    "TRUSTED_PROXY_COUNT", 1 if env_bool("BEHIND_TLS_PROXY", False) else 0
)
ANSWER_COMMENT_MAX_LENGTH = 2000
# Live workshops: how long a join code works after the session starts or resumes, and how
# many mistyped codes one client address may send per minute (a room shares one address).
WORKSHOP_CODE_TTL_HOURS = env_int("WORKSHOP_CODE_TTL_HOURS", 12)
WORKSHOP_CODE_RATE_LIMIT_PER_MINUTE = env_int("WORKSHOP_CODE_RATE_LIMIT_PER_MINUTE", 60)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # Survey, share and member-invitation tokens are in their URLs' paths: every log line
    # (requests, 404s, the development server's access log) shows them as [redacted].
    "filters": {"redact_tokens": {"()": "config.logfilters.RedactTokens"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_tokens"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
        # PDF and chart libraries narrate every step at INFO.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        "kaleido": {"level": "WARNING"},
        "choreographer": {"level": "WARNING"},
        # Lock-outs are logged at WARNING; every login and cleanup is narrated at INFO.
        "axes": {"level": "WARNING"},
    },
}
