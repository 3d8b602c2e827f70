"""Writes shared by the apps."""

from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeVar

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.models import Model, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.core import checkpoints
from crm.core.audit import audit_record, audit_seal, diff, snapshot
from crm.core.exceptions import DomainError
from crm.core.models import AuditChainHead, AuditCheckpoint, UserPreference

if TYPE_CHECKING:
    from axes.models import AccessAttempt

M = TypeVar("M", bound=Model)


@transaction.atomic
def reference_row_save(*, actor: User, instance: M, fields: Sequence[str], refusal: str) -> M:
    """Create or change an admin-managed row (templates, rules …): the model permission,
    model validation, the save and its `<model>.created` / `<model>.updated` event."""
    opts = instance._meta
    action = "change" if instance.pk else "add"
    if not actor.has_perm(f"{opts.app_label}.{action}_{opts.model_name}"):
        raise DomainError(refusal)
    before = snapshot(type(instance)._default_manager.get(pk=instance.pk), fields) if instance.pk else {}
    instance.full_clean()
    instance.save()
    audit_record(
        actor=actor,
        action=f"{opts.model_name}.{'updated' if action == 'change' else 'created'}",
        target=instance,
        changes=diff(before, snapshot(instance, fields)),
    )
    return instance


@transaction.atomic
def audit_checkpoint_write(*, actor: User | None = None) -> AuditCheckpoint:
    """Sign the chain head, the newest sealed audit event's (seq, hash), with the platform's key and keep the
    checkpoint in the database, in its file in AUDIT_CHECKPOINT_DIR and in a log line.

    The file is written last, inside the transaction: when it cannot be written nothing is
    kept. One writer at a time (an advisory lock). It seals first, inside its transaction,
    so the checkpoint also covers events written here (a signing key created on first use):
    the chain head stays locked until the checkpoint commits, which delays other seals
    (after-commit seals skip it) but no writer. The command seals the backlog before, in a
    transaction of its own, so little is left to seal here."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('crm.audit_checkpoint'))")
    try:
        signer = checkpoints.checkpoint_signer()
    except ImproperlyConfigured as error:
        raise checkpoints.unavailable(error) from error
    key_id = signer.key_id()
    audit_seal()
    newest = AuditChainHead.objects.filter(id=1, seq__gt=0).first()  # the newest sealed event
    if newest is None:
        raise DomainError(_("There are no audit events to checkpoint yet."))
    try:
        number = checkpoints.next_number()
    except OSError as error:
        raise _folder_error(error) from error
    created_at = timezone.now()
    statement = checkpoints.statement_build(
        number=number, seq=newest.seq, event_hash=newest.hash, created_at=created_at, key_id=key_id
    )
    signature, signed_by, public_key_pem = signer.sign(statement)
    if signed_by != key_id:
        raise DomainError(
            _("The signing service signed with another key than it named (%(key)s).") % {"key": signed_by}
        )
    checkpoint = AuditCheckpoint.objects.create(
        number=number,
        seq=newest.seq,
        hash=newest.hash,
        created_at=created_at,
        key_id=key_id,
        public_key_pem=public_key_pem,
        signature=signature,
        statement=statement,
    )
    audit_record(
        actor=actor,
        action="auditcheckpoint.written",
        target=checkpoint,
        extra={"seq": newest.seq, "hash": newest.hash, "key_id": key_id},
    )
    try:
        checkpoints.checkpoint_export(checkpoint)
    except OSError as error:
        raise _folder_error(error) from error
    return checkpoint


def _folder_error(error: OSError) -> DomainError:
    return DomainError(
        _("Cannot write the checkpoint file in %(folder)s: %(error)s")
        % {"folder": checkpoints.checkpoint_dir(), "error": error.strerror or error}
    )


def _login_target(username: str) -> User | None:
    """The account a login attempt named, or None when no such account exists."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(**{get_user_model().USERNAME_FIELD: username}).first()


@transaction.atomic
def login_lockout_record(*, username: str, ip_address: str | None) -> None:
    """`user.locked_out`: too many failed logins for this username from this address.

    The event is about the account; for a username no account has (someone guessing
    names), it is about the recorded attempt."""
    from axes.models import AccessAttempt

    target = _login_target(username) or AccessAttempt.objects.filter(username=username, ip_address=ip_address).first()
    if target is None:
        return
    audit_record(
        actor=None,
        actor_label=f"{username[:100]} ({ip_address or '?'})",
        action="user.locked_out",
        target=target,
        extra={"username": username, "ip_address": ip_address},
    )


@transaction.atomic
def login_lockout_clear(*, actor: User, attempts: "QuerySet[AccessAttempt]") -> int:
    """Unlock: delete the given axes attempts, one `user.unlocked` event per account."""
    if not actor.has_perm("axes.delete_accessattempt"):
        raise DomainError(_("You may not unlock logins."))
    count = 0
    for attempt in attempts.select_for_update():
        user = _login_target(attempt.username or "")
        target = user if user is not None else attempt
        audit_record(
            actor=actor,
            action="user.unlocked",
            target=target,
            extra={
                "username": attempt.username,
                "ip_address": attempt.ip_address,
                "failures": attempt.failures_since_start,
            },
        )
        attempt.delete()
        count += 1
    return count


@transaction.atomic
def user_language_set(*, actor: User, language: str) -> UserPreference:
    """Keep the language a signed-in user chose for their pages; a change is recorded
    (`userpreference.updated`), choosing the same language again records nothing."""
    if language not in dict(settings.LANGUAGES):
        raise DomainError(_("Choose one of the offered languages."))
    UserPreference.objects.get_or_create(user=actor, defaults={"language": ""})
    preference = UserPreference.objects.select_for_update().get(user=actor)
    if preference.language != language:
        changes = {"language": [preference.language, language]}
        preference.language = language
        preference.save(update_fields=["language"])
        audit_record(actor=actor, action="userpreference.updated", target=preference, changes=changes)
    return preference
