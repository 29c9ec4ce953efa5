"""Galenic settings: one module, every value from a typed environment helper.

The documented table of variables lives in README.md ("Configuration").
"""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path
from typing import Any

from galenic.env import env_bool, env_int, env_list, env_path, env_str, parse_database_url

PACKAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = env_path("GALENIC_DATA_DIR", Path.cwd() / "var")
DATA_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("GALENIC_DEBUG", False)


def _secret_key() -> str:
    configured = env_str("GALENIC_SECRET_KEY", "")
    if configured:
        return configured
    # A laptop demo needs no configuration: keep a generated key in the data directory.
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("GALENIC_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("GALENIC_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "galenic.core",
    "galenic.accounts",
    "galenic.audit",
    "galenic.signatures",
    "galenic.equipment",
    "galenic.recipes",
    "galenic.execution",
    "galenic.quality",
    "galenic.exports",
    "galenic.review",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "galenic.core.middleware.RequestSizeLimitMiddleware",  # 413 before reading a huge body
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "galenic.core.middleware.SecurityHeadersMiddleware",
    "galenic.core.middleware.RequestContextMiddleware",
    "galenic.core.middleware.SessionMiddleware",  # Django's, tolerant of a full disk
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "galenic.accounts.middleware.SessionPolicyMiddleware",
    "galenic.audit.middleware.RefusalAuditMiddleware",  # every 403 is a security event
    "galenic.core.middleware.IdempotencyMiddleware",  # API writes with Idempotency-Key: once
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "galenic.urls"
WSGI_APPLICATION = "galenic.wsgi.application"

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
                "galenic.core.context_processors.galenic",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
DATABASE_URL = env_str("GALENIC_DATABASE_URL", f"sqlite:///{DATA_DIR / 'galenic.sqlite3'}")
_db = parse_database_url("GALENIC_DATABASE_URL", DATABASE_URL)
# Separate test databases per checkout so parallel work on one server never collides.
_test_suffix = hashlib.sha1(str(PACKAGE_DIR).encode()).hexdigest()[:8]  # noqa: S324 - a name, not security

DATABASES: dict[str, dict[str, Any]]
if _db.engine == "sqlite":
    DATABASES = {
        "default": {
            "ENGINE": "galenic.audit.db.sqlite3",  # Django's, plus the audit commit hook
            "NAME": _db.name,
            "OPTIONS": {
                # WAL for concurrent readers; synchronous=FULL so a commit survives power loss.
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                    "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=20000;"
                ),
                # Take the write lock at BEGIN so concurrent writers queue instead of failing.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
            # Keep connections (one per thread): a full disk then still lets people read what
            # is recorded, because the WAL index is already mapped (docs/reliability.md).
            "CONN_MAX_AGE": env_int("GALENIC_DB_CONN_MAX_AGE", 60, minimum=0),
            "CONN_HEALTH_CHECKS": True,
            "TEST": {"NAME": env_str("GALENIC_TEST_SQLITE_NAME", "") or None},
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "galenic.audit.db.postgresql",  # Django's, plus the audit commit hook
            "NAME": _db.name,
            "USER": _db.user,
            "PASSWORD": _db.password,
            "HOST": _db.host,
            "PORT": _db.port,
            "CONN_MAX_AGE": env_int("GALENIC_DB_CONN_MAX_AGE", 60, minimum=0),
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": {
                "application_name": "galenic",
                # Parameters bound by the server, and a statement prepared the second time a
                # connection runs it: the server then skips parsing and planning (a third of a
                # recorded value's time). Off behind a pooler that cannot keep them.
                **(
                    {"server_side_binding": True, "prepare_threshold": 2}
                    if env_bool("GALENIC_DB_PREPARED_STATEMENTS", True)
                    else {}
                ),
            },
            "TEST": {"NAME": env_str("GALENIC_TEST_PG_NAME", f"galenic_test_{_test_suffix}")},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Users, passwords, sessions (21 CFR 11.10(d), 11.300) ------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["galenic.accounts.backends.GalenicBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"

ARGON2_TIME_COST = env_int("GALENIC_ARGON2_TIME_COST", 3, minimum=1)
ARGON2_MEMORY_COST_KIB = env_int("GALENIC_ARGON2_MEMORY_KIB", 65536, minimum=8)
ARGON2_PARALLELISM = env_int("GALENIC_ARGON2_PARALLELISM", 2, minimum=1)
PASSWORD_HASHERS = ["galenic.accounts.hashers.Argon2idHasher"]

PASSWORD_MIN_LENGTH = env_int("GALENIC_PASSWORD_MIN_LENGTH", 12, minimum=8)
PASSWORD_HISTORY = env_int("GALENIC_PASSWORD_HISTORY", 5, minimum=0)
PASSWORD_MAX_AGE_DAYS = env_int("GALENIC_PASSWORD_MAX_AGE_DAYS", 90, minimum=0)  # 0 = never expires
# Periodic review of every active account (11.300(b)): due this many days after the last one.
ACCESS_REVIEW_DAYS = env_int("GALENIC_ACCESS_REVIEW_DAYS", 365, minimum=0)  # 0 = not tracked
LOCKOUT_THRESHOLD = env_int("GALENIC_LOCKOUT_THRESHOLD", 5, minimum=1)
SESSION_TIMEOUT_MINUTES = env_int("GALENIC_SESSION_TIMEOUT_MINUTES", 15, minimum=1)
# "session": ID + password at the first signing of a session, password after (11.200(a)(1)(i)).
# "kiosk": ID + password at every signing (11.200(a)(1)(ii)).
SIGNATURE_MODE = env_str("GALENIC_SIGNATURE_MODE", "session")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "galenic.accounts.validators.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "galenic.accounts.validators.PasswordHistoryValidator"},
]

SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = SESSION_TIMEOUT_MINUTES * 60
# Sliding expiry = inactivity timeout: SessionPolicyMiddleware pushes the expiry forward at most
# once a minute (a session write per request would double the commits of every API call).
SESSION_SAVE_EVERY_REQUEST = False
SESSION_REFRESH_SECONDS = 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_COOKIES = env_bool("GALENIC_SECURE_COOKIES", False)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Behind a proxy that terminates TLS and sets X-Forwarded-Proto: trust it, redirect plain HTTP and
# tell browsers to use HTTPS only (HSTS).
BEHIND_TLS_PROXY = env_bool("GALENIC_BEHIND_TLS_PROXY", False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = env_int("GALENIC_HSTS_SECONDS", 31536000, minimum=0)

# --- Request size (refused with 413 and a clear message, before the body is read) ----------
# A whole request (a file upload with its form); above the 10 MiB attachment limit.
MAX_REQUEST_BYTES = env_int("GALENIC_MAX_REQUEST_BYTES", 12 * 1024 * 1024, minimum=1024)
# A body that is not a file (JSON, YAML documents, form fields), held in memory.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("GALENIC_MAX_BODY_BYTES", 5 * 1024 * 1024, minimum=1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024  # larger uploads spool to a temporary file

# --- Time -------------------------------------------------------------------
USE_TZ = True
TIME_ZONE = "UTC"  # storage is always UTC
DISPLAY_TIME_ZONE = env_str("GALENIC_TIME_ZONE", "UTC")
LANGUAGE_CODE = "en-us"
USE_I18N = True

# --- Audit trail ------------------------------------------------------------
AUDIT_CHECKPOINT_DIR = env_path("GALENIC_AUDIT_CHECKPOINT_DIR", DATA_DIR / "checkpoints")
AUDIT_SIGNING_KEY_FILE = env_path("GALENIC_AUDIT_KEY_FILE", DATA_DIR / "keys" / "audit-ed25519.pem")
AUDIT_CHECKPOINT_EVERY = env_int("GALENIC_AUDIT_CHECKPOINT_EVERY", 1000, minimum=0)

# --- Static files -------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG
MEDIA_ROOT = DATA_DIR / "media"

# --- Site ---------------------------------------------------------------------
SITE_NAME = env_str("GALENIC_SITE_NAME", "Galenic")
SERVE_HOST = env_str("GALENIC_HOST", "127.0.0.1")
SERVE_PORT = env_int("GALENIC_PORT", 8000, minimum=1)
SERVE_WORKERS = env_int("GALENIC_WORKERS", 3, minimum=1)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("GALENIC_LOG_LEVEL", "INFO")},
    "loggers": {"django.request": {"level": "ERROR"}},
}
