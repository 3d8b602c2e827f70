"""Settings for every environment, read from the environment.

`DATABASE_URL` points at PostgreSQL; without it an embedded server (pgserver) is
started in `.pgdata/`. `DEBUG` is off unless set.
"""

import datetime
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
    "axes",
    "csp",
    "django_celery_beat",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "crm.core",
    "crm.core.imports",
    "crm.dashboard",
    "crm.insight",
    "customers",
    "contracts",
    "orders",
    "service",
    "marketing",
    "crm.webhooks",
    "crm.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files (compressed, hashed names) are answered here, before any page's work.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # One log line per request (crm.request), with the request id set just inside it.
    "crm.core.middleware.RequestLogMiddleware",
    "crm.core.middleware.RequestContextMiddleware",
    # A request that writes, and a browser's requests just after one, read from the primary.
    "crm.core.db_router.ReplicaPinMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "crm.core.middleware.UserLanguageMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "crm.core.middleware.SecurityHeadersMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a refused login into the lockout page.
    "axes.middleware.AxesMiddleware",
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
                "crm.core.context_processors.masking",
                "crm.core.context_processors.notifications",
            ],
        },
    },
]

if os.environ.get("DATABASE_URL"):
    database_url = os.environ["DATABASE_URL"]
else:
    from crm.settings.embedded_postgres import embedded_database_url

    database_url = embedded_database_url()
DATABASES = {"default": dj_database_url.parse(database_url, conn_max_age=60)}
# An unreachable database fails a request (and /health/ reports it down) within seconds.
DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
    "connect_timeout", int(os.environ.get("DATABASE_CONNECT_TIMEOUT", "5"))
)
# A read replica (a streaming standby of the primary): lists, search and dashboard figures
# read from it, writes and a user's reads just after their own write go to the primary
# (crm/core/db_router.py). REPLICA_STICKY_SECONDS: how long after a write a browser keeps
# reading from the primary; keep it above the replica's usual lag.
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(os.environ["DATABASE_REPLICA_URL"], conn_max_age=60)
    DATABASES["replica"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", DATABASES["default"]["OPTIONS"]["connect_timeout"]
    )
    # Tests against a replica read the primary's test database through it.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["crm.core.db_router.ReplicaRouter"]
REPLICA_STICKY_SECONDS = int(os.environ.get("REPLICA_STICKY_SECONDS", "10"))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a login while the username and address are locked out.
AUTHENTICATION_BACKENDS = [
    "crm.core.auth.LoginAttemptBackend",
    "crm.core.auth.PermissionBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
# English and Simplified Chinese. Signed-in users keep their choice (crm.core.UserPreference,
# applied by crm.core.middleware.UserLanguageMiddleware); everyone else gets the language
# cookie set by the switcher, else the browser's Accept-Language.
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Number formats by language, over Django's (crm/formats/<lang>/formats.py): amounts in
# Chinese are grouped by thousands with commas, as Chinese invoices and contracts write them.
FORMAT_MODULE_PATH = ["crm.formats"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Our own files, and the JavaScript packages `npm ci` installs from package-lock.json
# (`make install`), served under their package's name: static/sortablejs/Sortable.min.js.
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("sortablejs", BASE_DIR / "node_modules" / "sortablejs"),
    ("chart.js", BASE_DIR / "node_modules" / "chart.js"),
]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
# WhiteNoise serves the files `collectstatic` gathered into STATIC_ROOT: in production
# under compressed (gzip, brotli when installed), content-hashed names that browsers may
# cache for ever. With DEBUG (and in tests, crm/settings/test.py) the plain storage serves
# them straight from the apps and static/, without collectstatic.
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
if DEBUG:
    # WhiteNoise serves from the finders with DEBUG, and warns about a missing STATIC_ROOT.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)

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
# Seconds before an unanswering mail server counts as a failed delivery.
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "10"))
# Every mail is sent by a Celery task (crm.core.tasks.mail_deliver), retried with exponential
# back-off (MAIL_RETRY_DELAY seconds, doubled each time) up to MAIL_MAX_RETRIES times.
MAIL_MAX_RETRIES = int(os.environ.get("MAIL_MAX_RETRIES", "8"))
MAIL_RETRY_DELAY = float(os.environ.get("MAIL_RETRY_DELAY", "30"))

# Background work (crm/celery.py). With CELERY_BROKER_URL set (redis://… or amqp://…), web,
# workers and the scheduler share only PostgreSQL and the broker. Unset: kombu's filesystem
# transport in var/broker/, which needs nothing installed and works across processes on one
# machine. Results are not kept (tasks record their outcome in the database).
BROKER_DIR = Path(os.environ.get("BROKER_DIR", str(BASE_DIR / "var" / "broker")))
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "") or "filesystem://"
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "store_processed": False,
        "control_folder": str(BROKER_DIR / "control"),
    }
    if CELERY_BROKER_URL.startswith("filesystem")
    else {}
)
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE", "crm")
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Beside the jobs of crm/core/jobs.py (in the admin): a worker's heartbeat every minute, for
# /health/, and the audit sealer every few seconds (it also runs after each audited commit).
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "crm.core.tasks.heartbeat", "schedule": 60.0},
    "audit-seal": {
        "task": "crm.core.tasks.audit_seal",
        "schedule": float(os.environ.get("AUDIT_SEAL_EVERY_SECONDS", "5")),
        "options": {"expires": 30},
    },
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
if CELERY_BROKER_URL.startswith("filesystem"):
    for folder in ("queue", "processed", "control"):
        (BROKER_DIR / folder).mkdir(parents=True, exist_ok=True)
# Who is mailed when a scheduled job finds a problem (verify_signatures): comma-separated addresses.
ADMINS = [(address, address) for address in env_list("ADMINS")]


DEFAULT_CURRENCY = os.environ.get("DEFAULT_CURRENCY", "CNY")
COMPANY_NAME = os.environ.get("COMPANY_NAME", "Our Company Ltd.")
# Absolute links in e-mails (the customer's signing link) start with this.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")

# Webhooks (crm/webhooks): endpoints admins register, each delivery retried with exponential
# back-off (WEBHOOK_RETRY_DELAY seconds, doubled each time) until WEBHOOK_MAX_ATTEMPTS attempts.
# An endpoint must be https and its host must not resolve to a private, loopback or link-local
# address; development (DEBUG) allows http and such hosts, production only when these say so.
WEBHOOK_MAX_ATTEMPTS = int(os.environ.get("WEBHOOK_MAX_ATTEMPTS", "8"))
WEBHOOK_RETRY_DELAY = float(os.environ.get("WEBHOOK_RETRY_DELAY", "30"))
WEBHOOK_TIMEOUT = float(os.environ.get("WEBHOOK_TIMEOUT", "10"))
WEBHOOK_ALLOW_HTTP = env_bool("WEBHOOK_ALLOW_HTTP", DEBUG)
WEBHOOK_ALLOW_PRIVATE_HOSTS = env_bool("WEBHOOK_ALLOW_PRIVATE_HOSTS", DEBUG)

# Masking of contact details (crm/core/masking.py). Phone numbers written without a
# country code are read as numbers of this region (an ISO 3166 code).
PHONE_REGION = os.environ.get("PHONE_REGION", "CN")
MASKING_REVEAL_PERMISSION = "customers.view_contact_details"
# Who approves or signs contracts reads their terms in full, even with contact details masked.
MASKING_TERMS_PERMISSIONS = ["contracts.approve_contract", "contracts.sign_contract"]
# The terms, by model ("app_label.model_name"), for the history of their changes.
MASKING_TERMS_FIELDS = {"contracts.contract": ["title", "body"], "contracts.contractversion": ["title", "body"]}

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
# Opening the link exchanges its token for a session this long (the page then has no token).
SIGNING_SESSION_MINUTES = int(os.environ.get("SIGNING_SESSION_MINUTES", "60"))

# Signed checkpoints of the audit chain (write_audit_checkpoint): the signer, by dotted path
# (crm.core imports no domain app), and the folder that keeps a copy out of the database's
# reach; put it on storage the database's administrators cannot write.
AUDIT_CHECKPOINT_SIGNER = os.environ.get(
    "AUDIT_CHECKPOINT_SIGNER", "contracts.signing.checkpoints.AuditCheckpointSigner"
)
AUDIT_CHECKPOINT_DIR = os.environ.get("AUDIT_CHECKPOINT_DIR", str(BASE_DIR / "var" / "audit-checkpoints"))
# verify_audit_chain names events still unsealed this long after they were written.
AUDIT_SEAL_OVERDUE_MINUTES = int(os.environ.get("AUDIT_SEAL_OVERDUE_MINUTES", "15"))

# An order needs a sales manager's approval above this total, with a line discount above
# this percent, or without a contract.
ORDER_APPROVAL_TOTAL_ABOVE = os.environ.get("ORDER_APPROVAL_TOTAL_ABOVE", "200000")
ORDER_APPROVAL_DISCOUNT_ABOVE = os.environ.get("ORDER_APPROVAL_DISCOUNT_ABOVE", "15")
# Quotes: the tax rate a new quote line gets (percent; 13 is China's standard VAT rate),
# how long a new quote is valid, and how long the customer's link to it works.
DEFAULT_TAX_RATE = os.environ.get("DEFAULT_TAX_RATE", "13")
QUOTE_VALID_DAYS = int(os.environ.get("QUOTE_VALID_DAYS", "30"))
QUOTE_LINK_DAYS = int(os.environ.get("QUOTE_LINK_DAYS", "30"))
# The daily job closes orders delivered more than this many days ago.
ORDER_CLOSE_AFTER_DAYS = int(os.environ.get("ORDER_CLOSE_AFTER_DAYS", "30"))
# The service desk warns this many minutes before an SLA clock breaches (and escalates at breach).
SERVICE_SLA_WARN_MINUTES = int(os.environ.get("SERVICE_SLA_WARN_MINUTES", "60"))
# Resolved tickets are closed this many days after resolution by the daily job.
SERVICE_CLOSE_AFTER_DAYS = int(os.environ.get("SERVICE_CLOSE_AFTER_DAYS", "7"))

# The pipeline: an open opportunity nothing happened to for more than this many days is
# flagged on the board and the list; the board shows this many cards per column; an
# activity's assignee is reminded this many minutes before it is due.
OPPORTUNITY_STALE_DAYS = int(os.environ.get("OPPORTUNITY_STALE_DAYS", "14"))
BOARD_CARDS_PER_COLUMN = int(os.environ.get("BOARD_CARDS_PER_COLUMN", "20"))
ACTIVITY_REMINDER_MINUTES = int(os.environ.get("ACTIVITY_REMINDER_MINUTES", "30"))

# One cache every server process shares: a database table (`manage.py createcachetable`,
# run by `make migrate`), with an atomic increment for counters such as rate limits.
CACHES = {"default": {"BACKEND": "crm.core.cache.DatabaseCache", "LOCATION": "crm_cache"}}
# How long a web process remembers that a list's count reached its cap ("100,000+") instead
# of counting again (crm/core/capped_count.py); 0 counts on every request.
CAPPED_COUNT_SECONDS = int(os.environ.get("CAPPED_COUNT_SECONDS", "60"))
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

# The service desk's mail. Replies to customers come from, and are answered to, this
# address; our Message-IDs carry its domain, so an answer threads back to its ticket.
TICKET_MAIL_ADDRESS = os.environ.get("TICKET_MAIL_ADDRESS", DEFAULT_FROM_EMAIL)
# `fetch_ticket_mail` reads a local Maildir (TICKET_MAILDIR, a folder with cur/new/tmp), or
# an IMAP mailbox: imaps://user:password@host[:port][/folder] (imap:// for plain IMAP).
TICKET_MAILDIR = os.environ.get("TICKET_MAILDIR", "")
TICKET_MAIL_IMAP_URL = os.environ.get("TICKET_MAIL_IMAP_URL", "")
# Attachments of customers' mail and forms: a part above the size, of another type, or past
# the count is refused (recorded by name, type and size, without its content).
TICKET_ATTACHMENT_MAX_BYTES = int(os.environ.get("TICKET_ATTACHMENT_MAX_BYTES", str(10 * 1024 * 1024)))
TICKET_ATTACHMENT_MAX_COUNT = int(os.environ.get("TICKET_ATTACHMENT_MAX_COUNT", "10"))
TICKET_ATTACHMENT_TYPES = os.environ.get(
    "TICKET_ATTACHMENT_TYPES",
    "image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain,text/csv,"
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document,"
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
).split(",")
# The customer's links: the status page of a ticket, and the satisfaction survey (once).
TICKET_STATUS_LINK_DAYS = int(os.environ.get("TICKET_STATUS_LINK_DAYS", "90"))
TICKET_STATUS_SESSION_MINUTES = int(os.environ.get("TICKET_STATUS_SESSION_MINUTES", "60"))
SATISFACTION_LINK_DAYS = int(os.environ.get("SATISFACTION_LINK_DAYS", "14"))
# Marketing campaigns: the default pace of a campaign's mail (each campaign may set its own,
# never above the ceiling), and the click and unsubscribe requests per client address.
MARKETING_SEND_RATE_PER_MINUTE = int(os.environ.get("MARKETING_SEND_RATE_PER_MINUTE", "600"))
MARKETING_SEND_RATE_CEILING = int(os.environ.get("MARKETING_SEND_RATE_CEILING", "60000"))
# Campaign mail goes out with a return path of its own per recipient (VERP):
# MARKETING_BOUNCE_ADDRESS "bounces@crm.example.com" makes it bounces+<token>@crm.example.com,
# so a bounce names its recipient even when it quotes nothing. Empty: the envelope sender is
# DEFAULT_FROM_EMAIL, and bounces are matched by the headers they quote. The mailbox those
# addresses (and replies, with MARKETING_REPLY_TO) arrive in is read by `fetch_campaign_mail`:
# a Maildir (MARKETING_MAILDIR) or imaps://user:password@host[:port][/folder].
MARKETING_BOUNCE_ADDRESS = os.environ.get("MARKETING_BOUNCE_ADDRESS", "")
MARKETING_REPLY_TO = os.environ.get("MARKETING_REPLY_TO", "")
MARKETING_MAILDIR = os.environ.get("MARKETING_MAILDIR", "")
MARKETING_MAIL_IMAP_URL = os.environ.get("MARKETING_MAIL_IMAP_URL", "")
# The public inquiry form: submissions per client address (count/period, like VERIFY_RATE_LIMIT).
TICKET_FORM_RATE_LIMIT = os.environ.get("TICKET_FORM_RATE_LIMIT", "5/h")

# The REST API (crm/api/): tokens or the session, problem details for every error, the
# OpenAPI schema by drf-spectacular, its Swagger UI from drf-spectacular-sidecar (no CDN).
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "crm.api.authentication.BearerTokenAuthentication",
        "crm.api.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["crm.api.permissions.TokenScopes"],
    "DEFAULT_THROTTLE_CLASSES": ["crm.api.throttling.TokenRateThrottle", "crm.api.throttling.UserRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "crm.api.problems.problem_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# Calls allowed per token and per user (count/period: s, m, h or d), counted in a cache every
# server process shares: Redis at API_THROTTLE_CACHE_URL (e.g. redis://127.0.0.1:6379/1), else
# the database cache above (four queries per limit and call, against none).
API_THROTTLE_RATES = {
    "token": os.environ.get("API_TOKEN_RATE", "600/m"),
    "user": os.environ.get("API_USER_RATE", "1200/m"),
}
API_THROTTLE_CACHE = "default"
if os.environ.get("API_THROTTLE_CACHE_URL"):
    CACHES["api_throttle"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ["API_THROTTLE_CACHE_URL"],
        "KEY_PREFIX": "crm",
    }
    API_THROTTLE_CACHE = "api_throttle"
# How long a creating POST's answer is kept for retries with the same Idempotency-Key (the
# hourly job purge_idempotency_keys deletes older ones; a retry after that is a new request).
API_IDEMPOTENCY_HOURS = int(os.environ.get("API_IDEMPOTENCY_HOURS", "24"))
SPECTACULAR_SETTINGS = {
    "TITLE": "CRM API",
    "DESCRIPTION": "Customers, the pipeline, contracts, orders and the service desk. "
    "Errors are RFC 9457 problem details.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["crm.api.permissions.TokenScopes"],
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "CustomerKindEnum": "customers.choices.CustomerKind",
        "InteractionKindEnum": "customers.choices.InteractionKind",
        "TicketTypeEnum": "service.choices.TicketType",
        "TicketEntryKindEnum": "service.choices.TicketEntryKind",
    },
}

# Behind TLS in production; plain HTTP with DEBUG on for `make run`.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
# Behind a reverse proxy (BEHIND_PROXY=1) that sets X-Forwarded-Proto and X-Forwarded-For
# (and strips them from what clients send), trust them: the scheme for HTTPS redirects and
# secure cookies, the client address for the audit trail and the login lockout. Off by
# default: without a proxy those headers are whatever the client typed.
BEHIND_PROXY = env_bool("BEHIND_PROXY")
USE_X_FORWARDED_FOR = BEHIND_PROXY
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
# Browser features no page of ours uses (crm.core.middleware.SecurityHeadersMiddleware).
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), midi=(), payment=(), publickey-credentials-get=(), usb=()"
)
# Content-Security-Policy (django-csp): scripts and styles only from our own origin, no
# inline script, no eval (htmx is configured not to need it, see templates/base.html), no
# inline style (htmx's indicator styles are in static/css/crm.css). Bootstrap's CSS draws
# its icons from data: URIs, hence img-src data:.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Brute-force protection (django-axes). The state lives in the database, so every server
# process sees the same failures. A lock is on the pair username + client address: an
# attacker guessing one account from one address is stopped, while the account's owner
# logging in from elsewhere is not locked out by someone else's guesses.
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = datetime.timedelta(minutes=int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "30")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "crm.core.views.login_locked_out"
# The same client address as the audit trail: X-Forwarded-For only behind a declared proxy.
AXES_CLIENT_IP_CALLABLE = "crm.core.middleware.client_ip"
AXES_VERBOSE = False

# Logs go to standard error: one JSON object a line (LOG_FORMAT=json, the default without
# DEBUG) for a log collector, or plain text (the default with DEBUG). crm.request writes one
# line per request (crm.core.middleware.RequestLogMiddleware).
LOG_FORMAT = (os.environ.get("LOG_FORMAT") or ("text" if DEBUG else "json")).strip().lower()
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured("LOG_FORMAT must be json or text.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # pgserver narrates every start and exit at INFO, also from atexit after pytest has
    # closed its output; django-axes logs every successful login at INFO. Only their
    # warnings (lockouts) and errors are worth reading. fontTools (WeasyPrint's font
    # subsetting, for quote PDFs) writes a line per font table.
    "loggers": {
        "pgserver": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
    },
}

# /health/ (crm.core.health): the worker counts as down when its last heartbeat is older
# than this, but only with a broker configured (CELERY_BROKER_URL); the embedded default
# runs beside the web server.
HEALTH_HEARTBEAT_MAX_AGE_MINUTES = int(os.environ.get("HEALTH_HEARTBEAT_MAX_AGE_MINUTES", "5"))
# Seconds /health/ waits for the broker to answer.
HEALTH_BROKER_TIMEOUT = float(os.environ.get("HEALTH_BROKER_TIMEOUT", "2"))

# Error reporting (sentry-sdk), only when SENTRY_DSN is set: unhandled errors of pages and
# tasks, without personal data (no user e-mails, addresses or request bodies).
SENTRY_DSN = os.environ.get("SENTRY_DSN", "")
if SENTRY_DSN:
    import sentry_sdk

    sentry_sdk.init(
        dsn=SENTRY_DSN,
        environment=os.environ.get("SENTRY_ENVIRONMENT", "production"),
        send_default_pii=False,
        traces_sample_rate=float(os.environ.get("SENTRY_TRACES_SAMPLE_RATE", "0")),
    )

# Imports (crm/core/imports): the largest file accepted, the most an .xlsx (a zip) may unpack
# to, and the number of rows above which a dry run or a commit runs in the background (Celery)
# with a progress bar.
IMPORT_MAX_BYTES = int(os.environ.get("IMPORT_MAX_BYTES", str(50 * 2**20)))
IMPORT_MAX_UNPACKED_BYTES = int(os.environ.get("IMPORT_MAX_UNPACKED_BYTES", str(200 * 2**20)))
IMPORT_BACKGROUND_ROWS = int(os.environ.get("IMPORT_BACKGROUND_ROWS", "2000"))
