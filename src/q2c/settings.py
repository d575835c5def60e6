"""Django settings, read from the environment with safe defaults.

| variable | default |
|---|---|
| Q2C_DATABASE_URL | SQLite file ``./var/q2c.sqlite3`` (WAL, synchronous=NORMAL, 128 MiB page cache, busy timeout, IMMEDIATE) |
| Q2C_SECRET_KEY | generated once into ``./var/secret_key`` |
| Q2C_DEBUG | off |
| Q2C_TIME_ZONE | UTC (entities keep their own zone for business dates) |
| Q2C_ALLOWED_HOSTS | ``127.0.0.1,localhost`` |
| Q2C_EMAIL_BACKEND | file backend writing to ``./var/mail`` |
| Q2C_VAR_DIR | ``./var`` |
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import dj_database_url

from q2c.core import clock

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("Q2C_VAR_DIR", "var")).resolve()


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key() -> str:
    if key := os.environ.get("Q2C_SECRET_KEY"):
        return key
    path = VAR_DIR / "secret_key"
    if path.exists():
        return path.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    # Written with owner-only permissions: the key signs sessions and public links.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


SECRET_KEY = _secret_key()
DEBUG = _env_bool("Q2C_DEBUG")
ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("Q2C_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("Q2C_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "ninja",  # serves Swagger UI from its own static files, not a CDN
    "django_tasks",
    "django_tasks_db",
    "q2c.platform",
    "q2c.ledger",
    "q2c.parties",
    "q2c.tax",
    "q2c.catalog",
    "q2c.quotes",
    "q2c.invoicing",
    "q2c.contracts",
    "q2c.orders",
    "q2c.billing",
    "q2c.payments",
    "q2c.payments.cash",
    "q2c.payments.dunning",
    "q2c.revenue",
    "q2c.analytics",
    "q2c.simulation",
    "q2c.root",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # 413 per endpoint and Idempotency-Key replay run before CSRF, which reads the body.
    "q2c.platform.middleware.BodyLimitMiddleware",
    "q2c.platform.idempotency.IdempotencyMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "q2c.platform.middleware.DomainErrorMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "q2c.urls"
WSGI_APPLICATION = "q2c.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "q2c.platform.ui.context",
            ],
        },
    }
]


def _database() -> dict[str, Any]:
    url = os.environ.get("Q2C_DATABASE_URL")
    if url:
        config: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=60))
    else:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        config = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(VAR_DIR / "q2c.sqlite3")}
    if config["ENGINE"].endswith("sqlite3"):
        # WAL lets readers run beside one writer; IMMEDIATE takes the write lock at BEGIN so that
        # concurrent writers wait (busy timeout) instead of failing with "database is locked". A
        # page cache of up to 128 MiB per connection (SQLite's default is 2 MiB) keeps the indexes a
        # bank run or a bill run writes into in memory; it grows only as pages are used.
        config.setdefault("OPTIONS", {}).update(
            {
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-131072;",
            }
        )
    return config


DATABASES = {"default": _database()}
if test_url := os.environ.get("Q2C_TEST_DATABASE_URL"):
    # The test run's database: pytest-django creates test_<name> from it.
    DATABASES = {"default": dict(dj_database_url.parse(test_url))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = os.environ.get("Q2C_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True
clock.configure(TIME_ZONE)

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# WhiteNoise serves from the finders (WHITENOISE_USE_FINDERS) but warns on every request when the
# collected-static folder is missing; an empty one is enough.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(VAR_DIR / "media")},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

EMAIL_BACKEND = os.environ.get("Q2C_EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = str(VAR_DIR / "mail")
DEFAULT_FROM_EMAIL = os.environ.get("Q2C_DEFAULT_FROM_EMAIL", "q2c@localhost")

# Bodies above this are refused with 413 before a view runs; batch endpoints raise their own limit.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

TASKS = {
    "default": {
        "BACKEND": os.environ.get("Q2C_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

AXES_FAILURE_LIMIT = int(os.environ.get("Q2C_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.25  # hours
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_VERBOSE = False
AXES_LOCKOUT_CALLABLE = "q2c.platform.views.locked_out"  # the login page again, 429

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("Q2C_LOG_LEVEL", "WARNING")},
}
