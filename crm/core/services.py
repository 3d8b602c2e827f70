"""Writes shared by the apps."""

from django.db import transaction

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
