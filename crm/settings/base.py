"""Settings for every environment, read from the environment.

`DATABASE_URL` points at PostgreSQL; without it an embedded server (pgserver) is
started in `.pgdata/`. `DEBUG` is off unless set.
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG")
# Without SECRET_KEY, commands run with a throwaway key of this process; serving refuses
# to start (crm/wsgi.py, crm/asgi.py) unless DEBUG is on, and `check --deploy` says so.
SECRET_KEY_FROM_ENVIRONMENT = bool(os.environ.get("SECRET_KEY"))
SECRET_KEY = os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_filters",
    "django_htmx",
    "bootstrap",
    "crm.core",
    "crm.dashboard",
    "customers",
    "contracts",
    "orders",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "crm.core.middleware.RequestContextMiddleware",
]

ROOT_URLCONF = "crm.urls"
WSGI_APPLICATION = "crm.wsgi.application"
ASGI_APPLICATION = "crm.asgi.application"

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

if os.environ.get("DATABASE_URL"):
    database_url = os.environ["DATABASE_URL"]
else:
    from crm.settings.embedded_postgres import embedded_database_url

    database_url = embedded_database_url(BASE_DIR / ".pgdata")
DATABASES = {"default": dj_database_url.parse(database_url, conn_max_age=60)}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.filebased.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "crm@localhost")

DEFAULT_CURRENCY = os.environ.get("DEFAULT_CURRENCY", "CNY")
COMPANY_NAME = os.environ.get("COMPANY_NAME", "Our Company Ltd.")
# Absolute links in e-mails (the customer's signing link) start with this.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")

# Signing backends, shaped like STORAGES. The SIGNING_BACKEND environment variable picks
# one of the kinds below:
# "memory" (a real key that lives as long as the process; for development and tests),
# "local" (an encrypted PEM key file) or "pkcs11" (a key that never leaves the token).
SIGNING_BACKEND_KINDS = {
    "memory": {"BACKEND": "contracts.signing.backends.memory.InMemoryBackend", "OPTIONS": {}},
    "local": {
        "BACKEND": "contracts.signing.backends.local.LocalFileBackend",
        "OPTIONS": {
            "key_path": os.environ.get("SIGNING_KEY_DIR", str(BASE_DIR / "var" / "signing-keys")),
            "passphrase_env": "SIGNING_KEY_PASSPHRASE",
        },
    },
    "pkcs11": {
        "BACKEND": "contracts.signing.backends.pkcs11.Pkcs11Backend",
        "OPTIONS": {
            "module": os.environ.get("SIGNING_PKCS11_MODULE", "/usr/lib/softhsm/libsofthsm2.so"),
            "token_label": os.environ.get("SIGNING_PKCS11_TOKEN", "crm"),
            "pin_env": "SIGNING_PKCS11_PIN",
        },
    },
}
# (Not named SIGNING_BACKEND: that is Django's own setting for signed cookies.)
CONTRACT_SIGNING_KIND = os.environ.get("SIGNING_BACKEND", "memory" if DEBUG else "local")
if CONTRACT_SIGNING_KIND not in SIGNING_BACKEND_KINDS:
    raise ImproperlyConfigured(f"SIGNING_BACKEND must be one of {', '.join(SIGNING_BACKEND_KINDS)}.")
SIGNING_BACKENDS = {"default": SIGNING_BACKEND_KINDS[CONTRACT_SIGNING_KIND]}
SIGNING_LINK_DAYS = int(os.environ.get("SIGNING_LINK_DAYS", "14"))

# An order needs a sales manager's approval above this total, with a line discount above
# this percent, or without a contract.
ORDER_APPROVAL_TOTAL_ABOVE = os.environ.get("ORDER_APPROVAL_TOTAL_ABOVE", "200000")
ORDER_APPROVAL_DISCOUNT_ABOVE = os.environ.get("ORDER_APPROVAL_DISCOUNT_ABOVE", "15")

# One cache every server process shares: a database table (`manage.py createcachetable`,
# run by `make migrate`), with an atomic increment for counters such as rate limits.
CACHES = {"default": {"BACKEND": "crm.core.cache.DatabaseCache", "LOCATION": "crm_cache"}}
RATELIMIT_USE_CACHE = "default"
# The public verification page: uploads larger than this are refused before they are read,
# bundles with more members or unpacking to more bytes are refused while being read, and
# each client address may verify this often (count/period, period s, m, h or d).
VERIFY_UPLOAD_MAX_BYTES = int(os.environ.get("VERIFY_UPLOAD_MAX_BYTES", str(5 * 1024 * 1024)))
VERIFY_BUNDLE_MAX_MEMBERS = int(os.environ.get("VERIFY_BUNDLE_MAX_MEMBERS", "50"))
VERIFY_BUNDLE_MAX_UNCOMPRESSED_BYTES = int(
    os.environ.get("VERIFY_BUNDLE_MAX_UNCOMPRESSED_BYTES", str(20 * 1024 * 1024))
)
VERIFY_RATE_LIMIT = os.environ.get("VERIFY_RATE_LIMIT", "20/m")

# Behind TLS in production; plain HTTP with DEBUG on for `make run`.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
