"""The loader: SIGNING_BACKENDS like STORAGES, a cached instance per alias, a system check."""

import pytest
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from contracts.signing.backends.memory import InMemoryBackend
from contracts.signing.loader import (
    build_signing_backend,
    check_signing_backends,
    connect_signals,
    reset_signing_backends,
    signing_backend,
)

MEMORY = {"BACKEND": "contracts.signing.backends.memory.InMemoryBackend", "OPTIONS": {"key_size": 2048}}


@pytest.fixture(autouse=True)
def _empty_cache():
    reset_signing_backends()
    yield
    reset_signing_backends()


@override_settings(SIGNING_BACKENDS={"default": MEMORY, "other": MEMORY})
def test_backend_is_built_from_settings_and_cached():
    backend = signing_backend()

    assert isinstance(backend, InMemoryBackend)
    assert backend.alias == "default"
    assert backend.key_size == 2048
    assert signing_backend() is backend
    assert signing_backend("default") is backend
    assert signing_backend("other") is not backend
    assert signing_backend("other").alias == "other"


@override_settings(SIGNING_BACKENDS={"default": MEMORY})
def test_cache_resets_when_settings_change():
    before = signing_backend()

    with override_settings(SIGNING_BACKENDS={"default": {**MEMORY, "OPTIONS": {"key_size": 3072}}}):
        during = signing_backend()
        assert during is not before
        assert during.key_size == 3072

    after = signing_backend()
    assert after is not during
    assert after.key_size == 2048


def test_connect_signals_is_idempotent():
    connect_signals()
    connect_signals()

    with override_settings(SIGNING_BACKENDS={"default": MEMORY}):
        backend = signing_backend()
        with override_settings(DEBUG=True):
            assert signing_backend() is not backend


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"default": {"BACKEND": "contracts.signing.backends.nope.Backend"}}, "Could not import signing backend"),
        ({"default": {"BACKEND": "contracts.signing.base.SigningError"}}, "is not a SigningBackend subclass"),
        ({"default": {"OPTIONS": {}}}, "needs a BACKEND dotted path"),
        ({"default": {**MEMORY, "OPTIONS": {"key_file": "x"}}}, "Unknown options for InMemoryBackend: key_file"),
        ({"default": {**MEMORY, "OPTIONS": {"key_size": 1024}}}, "at least 2048 bits"),
        ({"default": {**MEMORY, "OPTIONS": ["key_size"]}}, "'OPTIONS'\\] must be a dict"),
        ({"other": MEMORY}, "Could not find signing backend 'default' in SIGNING_BACKENDS"),
    ],
)
def test_bad_settings_are_improperly_configured(config, message):
    with override_settings(SIGNING_BACKENDS=config), pytest.raises(ImproperlyConfigured, match=message):
        signing_backend()


def test_missing_setting_is_improperly_configured(settings):
    del settings.SIGNING_BACKENDS

    with pytest.raises(ImproperlyConfigured, match="Set SIGNING_BACKENDS"):
        build_signing_backend()


@override_settings(SIGNING_BACKENDS={"default": MEMORY}, DEBUG=True)
def test_check_passes_for_a_good_configuration():
    assert check_signing_backends(None) == []


@override_settings(SIGNING_BACKENDS={"default": MEMORY}, DEBUG=False)
def test_check_warns_about_memory_keys_without_debug():
    messages = check_signing_backends(None)

    assert [(type(message), message.id) for message in messages] == [(checks.Warning, "contracts.W101")]


@override_settings(
    SIGNING_BACKENDS={"default": MEMORY, "broken": {"BACKEND": "contracts.signing.backends.nope.Backend"}},
    DEBUG=True,
)
def test_check_reports_a_backend_that_cannot_be_built():
    messages = check_signing_backends(None)

    assert len(messages) == 1
    assert messages[0].level == checks.ERROR
    assert messages[0].id == "contracts.E102"
    assert "Could not import signing backend 'contracts.signing.backends.nope.Backend'" in messages[0].msg


@override_settings(SIGNING_BACKENDS={"other": MEMORY}, DEBUG=True)
def test_check_requires_a_default_alias():
    assert [message.id for message in check_signing_backends(None)] == ["contracts.E101"]
