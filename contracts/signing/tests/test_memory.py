"""The in-memory backend: a real RSA key per alias, shared by every instance in the process."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from contracts.signing.backends.memory import InMemoryBackend
from contracts.signing.base import verify


def test_instances_of_one_alias_share_the_key():
    assert InMemoryBackend("memory-shared").key_id() == InMemoryBackend("memory-shared").key_id()


def test_aliases_have_their_own_keys():
    assert InMemoryBackend("memory-a", key_size=2048).key_id() != InMemoryBackend("memory-b", key_size=2048).key_id()


def test_smaller_key_size_for_speed():
    backend = InMemoryBackend("memory-small", key_size=2048)

    assert backend.public_key().key_size == 2048
    assert verify(backend.public_key_pem(), b"data", backend.sign(b"data"))


def test_signatures_are_randomised():
    backend = InMemoryBackend("memory-small", key_size=2048)

    first, second = backend.sign(b"data"), backend.sign(b"data")

    assert first != second
    assert verify(backend.public_key_pem(), b"data", first)
    assert verify(backend.public_key_pem(), b"data", second)


@pytest.mark.parametrize("key_size", [1024, 2047, "3072"])
def test_key_size_below_2048_is_refused(key_size):
    with pytest.raises(ImproperlyConfigured, match="at least 2048 bits"):
        InMemoryBackend("memory-weak", key_size=key_size)


def test_unknown_option_is_refused():
    with pytest.raises(TypeError, match="Unknown options for InMemoryBackend: key_path"):
        InMemoryBackend("memory-bad", key_path="/tmp")


def test_with_key_rejects_what_is_not_a_key_id():
    from contracts.signing.base import SigningError

    with pytest.raises(SigningError, match="is not a key id"):
        InMemoryBackend("memory-small", key_size=2048).with_key("0123")
