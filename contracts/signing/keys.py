"""The registry of signing keys: which key of which backend signs, and every public key ever used."""

from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contracts.choices import SigningKeyStatus
from contracts.models import SigningKey
from contracts.signing.base import SigningBackend, SigningError, key_id_for, public_key_pem
from contracts.signing.loader import DEFAULT_ALIAS, signing_backend
from crm.core.audit import audit_record
from crm.core.exceptions import DomainError
from crm.core.transactions import in_callers_transaction


def _register(*, actor: User | None, backend: SigningBackend, public_key: rsa.RSAPublicKey, action: str) -> SigningKey:
    now = timezone.now()
    key = SigningKey.objects.create(
        key_id=key_id_for(public_key),
        public_key_pem=public_key_pem(public_key).decode("ascii"),
        backend_alias=backend.alias,
        status=SigningKeyStatus.ACTIVE,
        activated_at=now,
    )
    audit_record(actor=actor, action=action, target=key, extra={"backend": backend.alias})
    return key


def _retire_active(*, actor: User | None, alias: str) -> SigningKey | None:
    current = SigningKey.objects.select_for_update().filter(backend_alias=alias, status=SigningKeyStatus.ACTIVE).first()
    if current is not None:
        current.status, current.retired_at = SigningKeyStatus.RETIRED, timezone.now()
        current.save(update_fields=["status", "retired_at"])
        audit_record(
            actor=actor, action="signingkey.retired", target=current, changes={"status": ["active", "retired"]}
        )
    return current


@transaction.atomic
def signing_key_create(*, actor: User | None, alias: str = DEFAULT_ALIAS) -> SigningKey:
    """Generate the first key of a backend and make it the active one."""
    if SigningKey.objects.filter(backend_alias=alias, status=SigningKeyStatus.ACTIVE).exists():
        raise DomainError(_("Backend %(alias)s already has an active key; rotate it instead.") % {"alias": alias})
    backend = _backend(alias)
    return _register(actor=actor, backend=backend, public_key=_generate(backend), action="signingkey.created")


@transaction.atomic
def signing_key_rotate(*, actor: User | None, alias: str = DEFAULT_ALIAS) -> SigningKey:
    """Generate a new key, retire the active one (it still verifies), activate the new one."""
    backend = _backend(alias)
    public_key = _generate(backend)
    _retire_active(actor=actor, alias=alias)
    return _register(actor=actor, backend=backend, public_key=public_key, action="signingkey.rotated")


@transaction.atomic
def signing_key_revoke(*, actor: User | None, key_id: str, reason: str) -> SigningKey:
    """Stop a key for good. Signatures made before now stay valid as of their time."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Say why the key is revoked."), field="reason")
    key = SigningKey.objects.select_for_update().filter(key_id=key_id).first()
    if key is None:
        raise DomainError(_("No signing key %(key)s.") % {"key": key_id})
    if key.status == SigningKeyStatus.REVOKED:
        raise DomainError(_("Key %(key)s is already revoked.") % {"key": key_id})
    before = key.status
    key.status, key.revoked_at, key.revocation_reason = SigningKeyStatus.REVOKED, timezone.now(), reason
    key.save(update_fields=["status", "revoked_at", "revocation_reason"])
    audit_record(
        actor=actor,
        action="signingkey.revoked",
        target=key,
        changes={"status": [before, "revoked"]},
        extra={"reason": reason},
    )
    return key


@in_callers_transaction
def signing_key_for_signing(*, alias: str = DEFAULT_ALIAS) -> tuple[SigningBackend, SigningKey]:
    """The backend bound to its active key, and that key's record. Call inside a transaction.

    An in-memory backend's keys die with the process, so it registers a fresh key when
    the recorded one is gone; every other backend needs `create_signing_key` first.
    """
    backend = _backend(alias)
    active = SigningKey.objects.filter(backend_alias=alias, status=SigningKeyStatus.ACTIVE)
    key = active.first()
    if getattr(backend, "ephemeral", False) and (key is None or key.key_id not in backend.key_ids()):
        # One registration at a time per backend: a second signer waits here until the
        # first commits, then finds its key instead of registering the same one again.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"crm.signing_key_register:{alias}"])
        key = active.first()
        if key is None or key.key_id not in backend.key_ids():
            key = _ephemeral_key_register(backend)
    if key is None:
        raise DomainError(_("No active signing key; an admin must run create_signing_key."))
    try:
        return backend.with_key(key.key_id), key
    except SigningError as error:
        raise DomainError(_("The signing service is unavailable: %(error)s") % {"error": error}) from error


def _ephemeral_key_register(backend: SigningBackend) -> SigningKey:
    """Make this process's in-memory key the active one; a key known but not active (another
    process took over, or it was revoked) is replaced by a fresh one."""
    _retire_active(actor=None, alias=backend.alias)
    public_key = backend.public_key()
    if SigningKey.objects.filter(key_id=key_id_for(public_key)).exists():
        public_key = _generate(backend)
    return _register(actor=None, backend=backend, public_key=public_key, action="signingkey.created")


def _backend(alias: str) -> SigningBackend:
    try:
        return signing_backend(alias)
    except (SigningError, ImproperlyConfigured) as error:
        raise DomainError(_("The signing service is unavailable: %(error)s") % {"error": error}) from error


def _generate(backend: SigningBackend) -> rsa.RSAPublicKey:
    try:
        return backend.generate_key()
    except SigningError as error:
        raise DomainError(_("Could not create a key: %(error)s") % {"error": error}) from error
