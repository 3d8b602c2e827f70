"""Writing and checking the audit trail.

Services call `audit_record` inside their own transaction, so an event exists exactly
when the change it describes was committed.
"""

import json
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from crm.core.context import current_context
from crm.core.models import AuditChainHead, AuditEvent

GENESIS_HASH = "0" * 64


def json_safe(value):
    """Plain JSON values, so what is hashed is exactly what the database gives back."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def snapshot(instance, fields) -> dict:
    """The audited fields of a model instance, as comparable plain values; a related
    object is recorded by its name, as the history shows it."""
    values = {}
    for name in fields:
        field = instance._meta.get_field(name)
        if field.is_relation:
            related = getattr(instance, name)
            values[name] = str(related) if related is not None else None
            continue
        value = getattr(instance, field.attname)
        if isinstance(value, Decimal):
            # At the field's scale, so 50000 and 50000.00 compare equal, as in the database.
            places = getattr(field, "decimal_places", None)
            if places is not None and value.is_finite():
                value = value.quantize(Decimal(1).scaleb(-places))
            value = str(value)
        values[name] = value
    return json_safe(values)


def diff(before: dict, after: dict) -> dict:
    """`{field: [old, new]}` for every field whose value changed (empty to empty is no change)."""
    empty = (None, "")
    return {
        name: [before.get(name), after.get(name)]
        for name in sorted(set(before) | set(after))
        if before.get(name) != after.get(name) and not (before.get(name) in empty and after.get(name) in empty)
    }


def _locked_head() -> AuditChainHead:
    AuditChainHead.objects.get_or_create(id=1)
    return AuditChainHead.objects.select_for_update().get(id=1)


def audit_record(*, actor, action, target, changes=None, extra=None, parent=None, actor_label="") -> AuditEvent:
    """Append one event to the chain. Call it inside the service's transaction.

    `actor_label` names an actor without an account (a customer signing through a link)."""
    context = current_context()
    with transaction.atomic():
        head = _locked_head()
        event = AuditEvent(
            seq=head.seq + 1,
            occurred_at=timezone.now(),
            actor=actor if actor is not None and actor.is_authenticated else None,
            actor_repr=actor.get_username() if actor is not None and actor.is_authenticated else actor_label[:150],
            source=context.source,
            request_id=context.request_id,
            ip=context.ip,
            action=action,
            target_type=ContentType.objects.get_for_model(target, for_concrete_model=False),
            target_id=str(target.pk),
            target_repr=str(target)[:300],
            parent_type=ContentType.objects.get_for_model(parent) if parent is not None else None,
            parent_id=str(parent.pk) if parent is not None else "",
            changes=json_safe(changes or {}),
            extra=json_safe(extra or {}),
            prev_hash=head.hash,
        )
        event.hash = event.compute_hash()
        event.save(force_insert=True)
        head.seq, head.hash = event.seq, event.hash
        head.save(update_fields=["seq", "hash"])
    return event


def audit_history(obj):
    """Events about an object and about the objects that hang off it, newest first."""
    content_type = ContentType.objects.get_for_model(obj)
    return (
        AuditEvent.objects.filter(
            Q(target_type=content_type, target_id=str(obj.pk)) | Q(parent_type=content_type, parent_id=str(obj.pk))
        )
        .select_related("target_type", "actor")
        .order_by("-seq")
    )


@dataclass(frozen=True)
class ChainProblem:
    seq: int | None
    event_id: int | None
    reason: str

    def __str__(self):
        where = f"event #{self.seq} (id {self.event_id})" if self.seq is not None else "chain head"
        return f"{where}: {self.reason}"


def audit_chain_verify(batch_size=5000, progress=None) -> ChainProblem | None:
    """Walk the chain in order; return the first problem found, or None when it is whole.

    Only events up to the head read at the start are walked, so events appended
    meanwhile do not disturb the check.
    """
    head = AuditChainHead.objects.filter(id=1).first()
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS_HASH)
    expected_seq, expected_prev = 1, GENESIS_HASH
    events = AuditEvent.objects.filter(seq__lte=head_seq).order_by("seq")
    for event in events.iterator(chunk_size=batch_size):
        if event.seq != expected_seq:
            return ChainProblem(event.seq, event.id, f"expected event #{expected_seq} here; events are missing")
        if event.prev_hash != expected_prev:
            return ChainProblem(event.seq, event.id, "its link to the previous event is broken")
        if event.compute_hash() != event.hash:
            return ChainProblem(event.seq, event.id, "its content was changed after it was written")
        expected_seq, expected_prev = event.seq + 1, event.hash
        if progress:
            progress()
    if expected_seq - 1 != head_seq or expected_prev != head_hash:
        return ChainProblem(
            None,
            None,
            f"the chain should end at event #{head_seq} but ends at #{expected_seq - 1}; "
            "events were removed from the end",
        )
    return None
