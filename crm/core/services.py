"""Writes shared by the apps."""

from django.db import transaction
from django.utils.translation import gettext as _

from crm.core.audit import audit_record, diff, snapshot
from crm.core.exceptions import DomainError


@transaction.atomic
def reference_row_save(*, actor, instance, fields, refusal):
    """Create or change an admin-managed row (templates, rules …): the model permission,
    model validation, the save and its `<model>.created` / `<model>.updated` event."""
    opts = instance._meta
    action = "change" if instance.pk else "add"
    if not actor.has_perm(f"{opts.app_label}.{action}_{opts.model_name}"):
        raise DomainError(refusal)
    before = snapshot(type(instance).objects.get(pk=instance.pk), fields) if instance.pk else {}
    instance.full_clean()
    instance.save()
    audit_record(
        actor=actor,
        action=f"{opts.model_name}.{'updated' if action == 'change' else 'created'}",
        target=instance,
        changes=diff(before, snapshot(instance, fields)),
    )
    return instance


def _login_target(username):
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
def login_lockout_clear(*, actor, attempts) -> int:
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
