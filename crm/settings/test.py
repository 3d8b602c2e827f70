"""Test settings: only what tests need differs from base."""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdef")

from crm.settings.base import *  # noqa: E402,F403

ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SIGNING_BACKENDS = {"default": SIGNING_BACKEND_KINDS["memory"]}  # noqa: F405
# Each request closes its connection, so no live-server thread holds the test database open.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
# Checkpoint files of the test run go to a scratch folder, not the developer's var/.
AUDIT_CHECKPOINT_DIR = tempfile.mkdtemp(prefix="crm-test-audit-checkpoints-")
# Tests that verify many times in one test are not slowed to a halt; the rate-limit test sets its own.
VERIFY_RATE_LIMIT = "1000/m"
# Tests share one process over many databases' contents: counts are not remembered between
# requests, except in the tests of that memory.
CAPPED_COUNT_SECONDS = 0
TICKET_FORM_RATE_LIMIT = "1000/m"
TICKET_MAIL_ADDRESS = "support@crm.localhost"
MARKETING_BOUNCE_ADDRESS = "bounces@crm.localhost"
# The multipart .eml fixture carries a 120 KiB PDF: above this limit.
TICKET_ATTACHMENT_MAX_BYTES = 100 * 1024
# Static files straight from the apps and static/, without collectstatic (the production
# storage is tested in crm/core/tests/test_server.py).
STATIC_ROOT = tempfile.mkdtemp(prefix="crm-test-static-")
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405

# Background tasks run inline (eagerly) unless a test starts a real worker (the `task_worker`
# fixture), which goes through Redis at 127.0.0.1:6379 when it answers (as on CI), else the
# filesystem transport in a scratch folder. Each test process has its own queue (and folder),
# so parallel test processes never take each other's tasks. CRM_TEST_BROKER=filesystem skips Redis.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_DEFAULT_QUEUE = f"crm-test-{os.getpid()}"
MAIL_MAX_RETRIES = 2
MAIL_RETRY_DELAY = 0.1
# Webhook tests deliver to a local HTTP server; the refusal of private hosts sets these back.
WEBHOOK_ALLOW_HTTP = True
WEBHOOK_ALLOW_PRIVATE_HOSTS = True
WEBHOOK_MAX_ATTEMPTS = 3
WEBHOOK_RETRY_DELAY = 0.1
WEBHOOK_TIMEOUT = 5


def _redis_answers() -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.2) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


if not os.environ.get("CELERY_BROKER_URL"):
    if os.environ.get("CRM_TEST_BROKER") != "filesystem" and _redis_answers():
        CELERY_BROKER_URL = "redis://127.0.0.1:6379/0"
        CELERY_BROKER_TRANSPORT_OPTIONS = {}
    else:
        BROKER_DIR = Path(tempfile.mkdtemp(prefix="crm-test-broker-"))  # noqa: F405
        CELERY_BROKER_URL = "filesystem://"
        CELERY_BROKER_TRANSPORT_OPTIONS = {
            "data_folder_in": str(BROKER_DIR / "queue"),
            "data_folder_out": str(BROKER_DIR / "queue"),
            "control_folder": str(BROKER_DIR / "control"),
            "store_processed": False,
        }
        for folder in ("queue", "control"):
            (BROKER_DIR / folder).mkdir(parents=True, exist_ok=True)

# The API's throttles count in Redis when it answers (as in production with
# API_THROTTLE_CACHE_URL), under a prefix of this test process, so parallel runs never share
# counters; else (or with CRM_TEST_BROKER=filesystem) in the database cache.
if "api_throttle" in CACHES or (os.environ.get("CRM_TEST_BROKER") != "filesystem" and _redis_answers()):  # noqa: F405
    CACHES["api_throttle"] = {  # noqa: F405
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ.get("API_THROTTLE_CACHE_URL", "redis://127.0.0.1:6379/0"),
        "KEY_PREFIX": f"crm-test-{os.getpid()}",
    }
    API_THROTTLE_CACHE = "api_throttle"
