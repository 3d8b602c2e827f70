"""Build signing backends from `settings.SIGNING_BACKENDS`, shaped like Django's `STORAGES`:

    SIGNING_BACKENDS = {
        "default": {
            "BACKEND": "contracts.signing.backends.local.LocalFileBackend",
            "OPTIONS": {"key_path": "/etc/crm/signing", "passphrase_env": "SIGNING_KEY_PASSPHRASE"},
        },
    }

`signing_backend(alias)` returns one cached instance per alias; the cache is dropped when
a test overrides the setting (after `connect_signals()`, called from the app's `ready()`).
"""

import threading

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.test.signals import setting_changed
from django.utils.module_loading import import_string

from contracts.signing.base import SigningBackend

DEFAULT_ALIAS = "default"
# DEBUG changes what the local backend accepts (unencrypted keys), so it resets the cache too.
RESET_ON_SETTINGS = {"SIGNING_BACKENDS", "DEBUG"}

_backends: dict[str, SigningBackend] = {}
_lock = threading.Lock()


def signing_backends_config() -> dict:
    config = getattr(settings, "SIGNING_BACKENDS", None)
    if not isinstance(config, dict):
        raise ImproperlyConfigured("Set SIGNING_BACKENDS to a dict of alias -> {BACKEND, OPTIONS}.")
    return config


def build_signing_backend(alias: str = DEFAULT_ALIAS) -> SigningBackend:
    """A new, uncached backend for `alias`; ImproperlyConfigured says what is wrong with its settings."""
    config = signing_backends_config()
    try:
        entry = config[alias]
    except KeyError:
        raise ImproperlyConfigured(f"Could not find signing backend {alias!r} in SIGNING_BACKENDS.") from None
    if not isinstance(entry, dict) or not entry.get("BACKEND"):
        raise ImproperlyConfigured(f"SIGNING_BACKENDS[{alias!r}] needs a BACKEND dotted path.")
    path = entry["BACKEND"]
    try:
        backend_class = import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(f"Could not import signing backend {path!r} for {alias!r}: {exc}") from exc
    if not (isinstance(backend_class, type) and issubclass(backend_class, SigningBackend)):
        raise ImproperlyConfigured(f"Signing backend {path!r} for {alias!r} is not a SigningBackend subclass.")
    options = entry.get("OPTIONS", {})
    if not isinstance(options, dict):
        raise ImproperlyConfigured(f"SIGNING_BACKENDS[{alias!r}]['OPTIONS'] must be a dict.")
    try:
        return backend_class(alias, **options)
    except TypeError as exc:
        raise ImproperlyConfigured(f"Signing backend {alias!r} ({path}): {exc}") from exc


def signing_backend(alias: str = DEFAULT_ALIAS) -> SigningBackend:
    """The configured backend for `alias`, built once per process and then cached."""
    backend = _backends.get(alias)
    if backend is None:
        with _lock:
            backend = _backends.get(alias)
            if backend is None:
                backend = _backends[alias] = build_signing_backend(alias)
    return backend


def reset_signing_backends() -> None:
    with _lock:
        _backends.clear()


def _reset_on_setting_changed(*, setting, **kwargs):
    if setting in RESET_ON_SETTINGS:
        reset_signing_backends()


def connect_signals() -> None:
    """Reset the cache when tests override the settings; call from the app's `ready()`."""
    setting_changed.connect(_reset_on_setting_changed, dispatch_uid="contracts.signing.reset_backends")


def check_signing_backends(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """System check: every alias in SIGNING_BACKENDS imports and builds, and a default exists."""
    try:
        config = signing_backends_config()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="contracts.E101")]
    messages = []
    if DEFAULT_ALIAS not in config:
        messages.append(checks.Error(f"SIGNING_BACKENDS has no {DEFAULT_ALIAS!r} alias.", id="contracts.E101"))
    for alias in config:
        try:
            backend = build_signing_backend(alias)
        except ImproperlyConfigured as exc:
            messages.append(checks.Error(str(exc), id="contracts.E102"))
            continue
        if getattr(backend, "ephemeral", False) and not settings.DEBUG:
            messages.append(
                checks.Warning(
                    f"Signing backend {alias!r} keeps its key in memory; it is lost at every restart.",
                    hint="Use the local or PKCS#11 backend outside development.",
                    id="contracts.W101",
                )
            )
    return messages
