"""Accord settings, read from the environment.

Every value that differs between a laptop and a deployment comes from an environment
variable; the defaults give the embedded set-up (SQLite in ``var/``, DEBUG on).
Set ``ACCORD_ENV=production`` for the production mode, which refuses to start with an
insecure secret key.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = Path(os.environ.get("ACCORD_HOME", Path.cwd()))
VAR_DIR = Path(os.environ.get("ACCORD_VAR_DIR", PROJECT_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


ACCORD_ENV = os.environ.get("ACCORD_ENV", "development")
PRODUCTION = ACCORD_ENV == "production"

INSECURE_SECRET_KEY = "accord-insecure-development-key-change-me"  # noqa: S105
SECRET_KEY = os.environ.get("SECRET_KEY", INSECURE_SECRET_KEY)
DEBUG = env_bool("DEBUG", not PRODUCTION)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

if PRODUCTION:
    if (
        SECRET_KEY == INSECURE_SECRET_KEY
        or len(SECRET_KEY) < 50
        or SECRET_KEY.startswith("django-insecure")
    ):
        raise ImproperlyConfigured(
            "ACCORD_ENV=production needs SECRET_KEY set to a random value of 50+ characters "
            "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(64))')."
        )
    if DEBUG:
        raise ImproperlyConfigured("ACCORD_ENV=production refuses to run with DEBUG on.")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # HTTPS only: plain HTTP is redirected, and browsers remember for a year (HSTS).
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

# Cookies are not sent on cross-site requests (Django's default, stated here on purpose).
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# Content security policy, in every environment so that tests and development see what
# production enforces: our own scripts and styles only, no inline code, no framing.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "accord.core",
    "accord.audit",
    "accord.org",
    "accord.customers",
    "accord.sales",
    "accord.activities",
    "accord.dataquality",
    "accord.territories",
    "accord.integration",
    "accord.imports",
    "accord.insights",
    "django_tasks_db",
    "accord.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "accord.core.middleware.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "accord.core.middleware.ActorContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

if PRODUCTION:
    # Static files served by the application itself (collected by `accord collectstatic`).
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "accord.urls"
WSGI_APPLICATION = "accord.wsgi.application"
AUTH_USER_MODEL = "org.User"
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

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
                "django.template.context_processors.i18n",
                "accord.web.context_processors.shell",
                "accord.web.context_processors.notifications",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'accord.sqlite3'}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
    )
}
# No JIT compilation on PostgreSQL: Accord's queries are short index walks whose cost
# estimates (a LIMIT over a filtered walk) often pass jit_above_cost, and compiling took
# ~5 ms of a 30 ms account search. ACCORD_PG_JIT=on keeps the server's setting.
if (
    DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    and os.environ.get("ACCORD_PG_JIT", "off") == "off"
):
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = f"{options.get('options', '')} -c jit=off".strip()
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite cannot create the directory its file lives in (the embedded default's is
    # VAR_DIR), and a fresh checkout or a new ACCORD_VAR_DIR has none yet.
    if str(DATABASES["default"]["NAME"] or ":memory:") != ":memory:":
        Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("ACCORD_TEST_SQLITE_NAME")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Covering indexes ("include") exist for PostgreSQL; SQLite builds them without the extra
# columns, which is what we want there.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("th", "ไทย")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("ACCORD_TIME_ZONE", "Asia/Bangkok")
USE_I18N = True
USE_TZ = True

ACCORD_DEFAULT_CURRENCY = os.environ.get("ACCORD_DEFAULT_CURRENCY", "THB")
# Forecast quarters follow the fiscal year, which starts in this month (1 = January).
ACCORD_FISCAL_YEAR_START_MONTH = int(os.environ.get("ACCORD_FISCAL_YEAR_START_MONTH", "1"))

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Idle expiry: the session lasts SESSION_COOKIE_AGE seconds after the *last* request,
# because every request saves it again (and so pushes the expiry forward).
SESSION_COOKIE_AGE = int(os.environ.get("ACCORD_SESSION_AGE", str(8 * 3600)))
SESSION_SAVE_EVERY_REQUEST = True
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600

# E-mail (notifications): printed to the console in development; SMTP in production, set
# with ACCORD_SMTP_* (host, port, user, password, TLS). Tests use Django's in-memory outbox.
ACCORD_BASE_URL = os.environ.get("ACCORD_BASE_URL", "")  # absolute links in e-mails
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Accord <accord@localhost>")
# `accord worker` e-mails managers their weekly forecast on Mondays from this local hour (0-23;
# -1 or empty: never).
ACCORD_WEEKLY_DIGEST_HOUR = int(os.environ.get("ACCORD_WEEKLY_DIGEST_HOUR", "7") or "-1")
MAILERS = {
    "default": {
        "BACKEND": os.environ.get(
            "ACCORD_EMAIL_BACKEND",
            "django.core.mail.backends.smtp.EmailBackend"
            if PRODUCTION
            else "django.core.mail.backends.console.EmailBackend",
        ),
        "OPTIONS": {
            "host": os.environ.get("ACCORD_SMTP_HOST", "localhost"),
            "port": int(os.environ.get("ACCORD_SMTP_PORT", "25")),
            "username": os.environ.get("ACCORD_SMTP_USER", ""),
            "password": os.environ.get("ACCORD_SMTP_PASSWORD", ""),
            "use_tls": env_bool("ACCORD_SMTP_TLS", False),
        }
        if PRODUCTION or os.environ.get("ACCORD_EMAIL_BACKEND", "").endswith("smtp.EmailBackend")
        else {},
    }
}

# Reverse proxies in front of Accord that append to X-Forwarded-For (0: none, the header is
# ignored). The client address is the entry this many places from the right.
ACCORD_TRUSTED_PROXIES = int(os.environ.get("ACCORD_TRUSTED_PROXIES", "0"))
# Sign-in throttle: failures within the window, per user name and per client address.
ACCORD_LOGIN_THROTTLE_WINDOW = int(os.environ.get("ACCORD_LOGIN_THROTTLE_WINDOW", "900"))
ACCORD_LOGIN_THROTTLE_PER_USERNAME = int(os.environ.get("ACCORD_LOGIN_THROTTLE_PER_USERNAME", "5"))
ACCORD_LOGIN_THROTTLE_PER_CLIENT = int(os.environ.get("ACCORD_LOGIN_THROTTLE_PER_CLIENT", "20"))

NINJA_PAGINATION_MAX_LIMIT = 200

# Background work (integration deliveries): Django's tasks framework. By default tasks are
# rows in this database, run by `accord worker` (django-tasks-db). ACCORD_TASKS_BACKEND=
# immediate runs each task in the process that enqueues it, right after the commit: handy
# for trying a connector under `make run` without a worker (no deferred retries then; see
# docs/integration.md).
# ACCORD_TASKS_BACKEND=rq puts the tasks on Redis (django-tasks-rq, `pip install
# accord[rq]`), for when one database is not enough: `accord worker` then runs RQ workers.
ACCORD_TASKS_BACKEND = os.environ.get("ACCORD_TASKS_BACKEND", "database")
# How often `accord worker` pulls invoice and payment status from SQL ledgers (0: never).
ACCORD_LEDGER_PULL_SECONDS = int(os.environ.get("ACCORD_LEDGER_PULL_SECONDS", "300"))
ACCORD_REDIS_URL = os.environ.get("ACCORD_REDIS_URL", "redis://127.0.0.1:6379/0")
_TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "immediate": "django.tasks.backends.immediate.ImmediateBackend",
    "rq": "django_tasks_rq.RQBackend",
}
if ACCORD_TASKS_BACKEND not in _TASK_BACKENDS:
    raise ImproperlyConfigured(
        f"ACCORD_TASKS_BACKEND must be one of {', '.join(_TASK_BACKENDS)}, "
        f"not {ACCORD_TASKS_BACKEND!r}."
    )
TASKS = {
    "default": {
        "BACKEND": _TASK_BACKENDS[ACCORD_TASKS_BACKEND],
        **({"QUEUES": ["default"]} if ACCORD_TASKS_BACKEND == "rq" else {}),
    }
}
if ACCORD_TASKS_BACKEND == "rq":
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    RQ_QUEUES = {"default": {"URL": ACCORD_REDIS_URL}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
