"""The signer of audit checkpoints, named by `settings.AUDIT_CHECKPOINT_SIGNER`.

`crm.core` imports no domain app, so it loads this class by dotted path (like a Django
backend) to sign its checkpoints with the platform's key through the signing service: the
`default` backend bound to the active key of the key registry, the same key that signs
contracts. Verification needs only the stored public key PEM; a key is "one we know" when
the registry recorded it, or the backend can sign with it now.
"""

from cryptography.exceptions import UnsupportedAlgorithm
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils.translation import gettext as _

from contracts.models import SigningKey
from contracts.signing.base import SigningError, key_id_for, load_public_key, verify
from contracts.signing.keys import signing_key_for_signing
from contracts.signing.loader import DEFAULT_ALIAS, signing_backend
from crm.core.exceptions import DomainError


class AuditCheckpointSigner:
    """Signs bytes with the active key of a signing backend (`alias`, default "default")."""

    def __init__(self, alias: str = DEFAULT_ALIAS):
        self.alias = alias
        self._bound = None
        self._key_problems: dict[tuple[str, str], str | None] = {}

    def _backend(self):
        if self._bound is None:
            # The registry may record an in-memory backend's fresh key; that write joins the
            # caller's transaction when there is one.
            with transaction.atomic():
                self._bound, _key = signing_key_for_signing(alias=self.alias)
        return self._bound

    def key_id(self) -> str:
        """The fingerprint of the key the next `sign()` uses."""
        try:
            return self._backend().key_id()
        except SigningError as error:
            raise DomainError(_("The signing service is unavailable: %(error)s") % {"error": error}) from error

    def sign(self, data: bytes) -> tuple[bytes, str, str]:
        """(signature, key fingerprint, public key PEM) of `data`; DomainError when the key is unusable."""
        try:
            signature = self._backend().signature_for(bytes(data))
        except SigningError as error:
            raise DomainError(_("The signing service is unavailable: %(error)s") % {"error": error}) from error
        return signature.signature, signature.key_id, signature.public_key_pem.decode("ascii")

    def verify(self, public_key_pem: str, data: bytes, signature: bytes) -> bool:
        """True when `signature` is this platform's kind of signature of `data` by that public key."""
        try:
            return verify(public_key_pem, bytes(data), bytes(signature))
        except (SigningError, UnsupportedAlgorithm, ValueError, TypeError):
            return False

    def key_problem(self, key_id: str, public_key_pem: str) -> str | None:
        """None when the public key is a key we know and `key_id` is its fingerprint; else why not."""
        cache_key = (key_id, public_key_pem.strip())
        if cache_key not in self._key_problems:
            self._key_problems[cache_key] = self._find_key_problem(key_id, public_key_pem)
        return self._key_problems[cache_key]

    def _find_key_problem(self, key_id: str, public_key_pem: str) -> str | None:
        try:
            fingerprint = key_id_for(load_public_key(public_key_pem))
        except (SigningError, UnsupportedAlgorithm, ValueError, TypeError):
            return _("its public key is not a usable RSA public key")
        if fingerprint != key_id:
            return _("its public key is not key %(key)s") % {"key": key_id}
        known = SigningKey.objects.filter(key_id=key_id).values_list("public_key_pem", flat=True).first()
        if known is not None:
            if known.strip() == public_key_pem.strip():
                return None
            return _("key %(key)s differs from the registry's") % {"key": key_id}
        try:
            if key_id in signing_backend(self.alias).key_ids():
                return None
        except (SigningError, ImproperlyConfigured):
            pass
        return _("it is signed by key %(key)s, which is not one of our keys") % {"key": key_id}
