"""Django settings. Every value comes from the environment, with defaults that run the app locally.

Embedded defaults (nothing set): SQLite under ``var/`` and a Redis that ``./openflow up`` starts
itself on 127.0.0.1:``OPENFLOW_REDIS_PORT``. Production: set ``DATABASE_URL``, ``REDIS_URL``,
``SECRET_KEY``, ``ALLOWED_HOSTS`` and ``DEBUG=false`` (see README, "Production settings").
"""

from __future__ import annotations

import secrets
from pathlib import Path
from urllib.parse import urlparse

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from openflow_site.embedded_redis import embedded_url, stored_password
from openflow_site.env import env_bool, env_choice, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("OPENFLOW_VAR_DIR", str(BASE_DIR / "var"))).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept in var/ (local installs)."""
    key = env_str("SECRET_KEY")
    if key:
        return key
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", False)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", False) else None

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "channels",
    "editor",
    "runs",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "openflow_site.middleware.ApiErrorsAsJsonMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "openflow_site.middleware.LoginRequiredForPagesMiddleware",
    "openflow_site.middleware.DatabaseUnavailableMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "openflow_site.urls"
ASGI_APPLICATION = "openflow_site.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
_SQLITE_DEFAULT = f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
DATABASE_URL = env_str("DATABASE_URL", _SQLITE_DEFAULT)
try:
    _db = dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60, minimum=0))
except Exception as exc:  # dj_database_url raises several types for bad URLs
    raise ImproperlyConfigured(
        f"DATABASE_URL={DATABASE_URL!r} is not a database URL ({exc}); "
        "use postgres://user:pass@host:5432/name or sqlite:////absolute/path.sqlite3"
    ) from None
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # Several processes (daphne, celery workers) write to one file: WAL + IMMEDIATE transactions
    # avoid "database is locked" on lock upgrades; the busy timeout absorbs short contention.
    # Connections are kept (CONN_MAX_AGE as for PostgreSQL): opening one per Celery task, with its
    # PRAGMAs, was ~9 % of a worker's CPU in the identity-throughput benchmark.
    _db["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Live-server tests run daphne and workers in other processes: they need a file, not :memory:.
    _db["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
elif _db["ENGINE"] not in ("django.db.backends.postgresql",):
    raise ImproperlyConfigured(f"DATABASE_URL engine {_db['ENGINE']} is not supported; use postgres or sqlite")
# A kept connection is checked (one cheap query) before its first use in each request or task, so a
# database restart costs one reconnect instead of an error.
_db["CONN_HEALTH_CHECKS"] = True
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: Celery broker + channel layer ----------------------------------------------------
EMBEDDED_REDIS_PORT = env_int("OPENFLOW_REDIS_PORT", 6390, minimum=1)
EMBEDDED_REDIS_DIR = VAR_DIR / "redis"

# Unset: the Redis ``./openflow up`` starts, in var/redis/ with the password it generated there.
REDIS_URL = env_str("REDIS_URL") or embedded_url(EMBEDDED_REDIS_PORT, stored_password(EMBEDDED_REDIS_DIR))
if urlparse(REDIS_URL).scheme not in ("redis", "rediss", "unix"):
    raise ImproperlyConfigured(f"REDIS_URL={REDIS_URL!r} must start with redis://, rediss:// or unix://")

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL], "prefix": "openflow:ch:", "capacity": 1000, "expiry": 60},
    }
}

CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_WORKER_PREFETCH_MULTIPLIER = env_int("WORKER_PREFETCH_MULTIPLIER", 1, minimum=1)
# Celery's Django fixup closes every DB connection before and after each task unless this is set;
# reconnecting per task was the largest single cost of short tasks (SQLite: PRAGMAs; PostgreSQL: a
# new backend). Connections follow Django's own rules instead (CONN_MAX_AGE, health checks), applied
# around every task by openflow_site.celery.
CELERY_DB_REUSE_MAX = 1_000_000_000
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=60)}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_WORKER_MAX_MEMORY_PER_CHILD = env_int("WORKER_MAX_MEMORY_KB", 1_000_000, minimum=50_000)
# A worker that finishes a script runs the run's next script itself (no queue hop) for up to this
# many seconds of one chain, then hands the next one back to the queue so other runs get a turn.
# 0 = every step goes through the queue. Durability does not depend on it (runs/tasks.py).
STEP_INLINE_SECONDS = env_float("STEP_INLINE_SECONDS", 5.0, minimum=0)

# --- Limits for user code ---------------------------------------------------------------------
WORKER_CONCURRENCY = env_int("WORKER_CONCURRENCY", 2, minimum=1)
SCRIPT_TIMEOUT = env_float("SCRIPT_TIMEOUT", 900.0, minimum=1)
SCRIPT_MEMORY_MB = env_int("SCRIPT_MEMORY_MB", 512, minimum=32)
SCRIPT_OUTPUT_LIMIT = env_int("SCRIPT_OUTPUT_LIMIT", 2_000_000, minimum=1000)
SCRIPT_RESULT_LIMIT = env_int("SCRIPT_RESULT_LIMIT", 2_000_000, minimum=1000)
EXPRESSION_TIMEOUT = env_float("EXPRESSION_TIMEOUT", 5.0, minimum=0.01)
EXPRESSION_MEMORY_MB = env_int("EXPRESSION_MEMORY_MB", 128, minimum=16)
STEP_HEARTBEAT_SECONDS = env_float("STEP_HEARTBEAT_SECONDS", 5.0, minimum=0.5)
STEP_STALE_SECONDS = env_float("STEP_STALE_SECONDS", 30.0, minimum=2)
# Scripts run in a private mount namespace with no capabilities (runs/harness/isolation.py): the
# var dir (secret key, SQLite database, Redis data) is hidden and the project is read-only.
# "auto": where the kernel allows it (else a warning, privileges still dropped); "required": a
# step fails rather than run without it; "off": neither.
SCRIPT_ISOLATION = env_choice("SCRIPT_ISOLATION", "auto", ("auto", "required", "off"))
MAX_PAYLOAD_BYTES = env_int("MAX_PAYLOAD_BYTES", 10_000_000, minimum=10_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_PAYLOAD_BYTES + 1_000_000

# --- Auth, API --------------------------------------------------------------------------------
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/flows/"
LOGOUT_REDIRECT_URL = "/login/"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "openflow_site.api_errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "OpenFlow Studio API",
    "DESCRIPTION": "Store, validate and run OpenFlow (Windmill) flows.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and Swagger UI describe every endpoint: only for logged-in users, like the API itself.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- Static files -----------------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"  # collectstatic target; until then whitenoise serves from the finders
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG  # pick up a fresh front-end build without a restart while developing

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
# Per-task lines ("received", "succeeded", the beat's "Sending due task" every few seconds) drown
# everything else and cost ~3 % of a worker's CPU on short tasks; failures are still logged (ERROR).
_PER_TASK_LOG_LEVEL = "DEBUG" if LOG_LEVEL == "DEBUG" else "WARNING"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.channels.server": {"level": "WARNING"},
        "daphne": {"level": "WARNING"},
        "celery.worker.strategy": {"level": _PER_TASK_LOG_LEVEL},
        "celery.app.trace": {"level": _PER_TASK_LOG_LEVEL},
        "celery.beat": {"level": _PER_TASK_LOG_LEVEL},
    },
}

CELERY_BEAT_SCHEDULE = {
    "sweep-stale-work": {"task": "runs.tasks.sweep", "schedule": env_float("SWEEP_INTERVAL_SECONDS", 10.0, minimum=1)},
}
