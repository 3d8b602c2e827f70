"""Test settings: only what tests need differs from base."""

import os
import tempfile

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
# Static files straight from the apps and static/, without collectstatic (the production
# storage is tested in crm/core/tests/test_server.py).
STATIC_ROOT = tempfile.mkdtemp(prefix="crm-test-static-")
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
