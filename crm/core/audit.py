"""Writing, sealing and checking the audit trail.

Services call `audit_record` inside their own transaction, so an event exists exactly
when the change it describes was committed. Writing takes no shared lock: the event is a
plain INSERT with its payload hash. `audit_seal` chains the events afterwards, in one
well-defined order, under the chain head's row lock held only for the seal itself:

- it chains every unsealed event its snapshot shows, in id order. A READ COMMITTED
  snapshot shows exactly the events of transactions that have committed (and the
  caller's own, which commit or roll back together with the seal), so an event is never
  chained before its transaction has finished, and one rolled back never leaves a gap.
  It picks them as "unsealed", never as "after the last sealed id", so a transaction with
  a lower event id that commits later is never skipped: its events are chained after
  those already sealed. (Nor does it wait for the snapshot's xmin, the oldest transaction
  still running on the whole server, which any long transaction in any database would
  hold back.)
- it runs after the commit of every transaction that wrote an event (skipping when another
  seal holds the head), every few seconds on the scheduler, and before
  `verify_audit_chain` and `write_audit_checkpoint` read the chain.

History pages read events straight away; only the chain fields wait for the seal.
"""

import json
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from crm.core.context import current_context
from crm.core.models import AuditChainHead, AuditEvent, chain_link_hash, payload_hash_of

GENESIS_HASH = "0" * 64
SEAL_BATCH = 5000


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


def audit_record(*, actor, action, target, changes=None, extra=None, parent=None, actor_label="") -> AuditEvent:
    """Append one event to the trail. Call it inside the service's transaction.

    A plain INSERT, no shared lock: the sealer chains the event once the transaction has
    finished (`audit_seal`, asked for on commit). `actor_label` names an actor without an
    account (a customer signing through a link)."""
    context = current_context()
    event = AuditEvent(
        occurred_at=timezone.now(),
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_repr=actor.get_username() if actor is not None and actor.is_authenticated else actor_label[:150],
        source=context.source,
        token_name=context.token_name[:100],
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
    )
    event.payload_hash = event.compute_payload_hash()
    event.save(force_insert=True)
    if not any(callback is _seal_after_commit for _savepoints, callback, _robust in connection.run_on_commit):
        transaction.on_commit(_seal_after_commit, robust=True)
    return event


AUDIT_COPY_COLUMNS = [
    "occurred_at", "actor_id", "actor_repr", "source", "request_id", "ip", "action", "target_type_id",
    "target_id", "target_repr", "parent_type_id", "parent_id", "changes", "extra", "payload_hash", "token_name",
]  # fmt: skip


def audit_record_many(*, actor, action, entries) -> int:
    """Append one event per `(target, changes, extra, parent)` entry, as `audit_record`
    would one by one, with one COPY (an import of a hundred thousand records): the rows and
    their payload hashes are made straight from the values, without an AuditEvent each."""
    from crm.core.bulk import copy_rows

    context = current_context()
    signed_in = actor is not None and actor.is_authenticated
    common = {
        "occurred_at": timezone.now(),
        "actor_id": actor.pk if signed_in else None,
        "actor_repr": actor.get_username() if signed_in else "",
        "source": context.source,
        "request_id": context.request_id,
        "ip": context.ip,
        "action": action,
        "token_name": context.token_name[:100],
    }
    type_ids: dict = {}

    def type_id(obj):
        if obj.__class__ not in type_ids:
            type_ids[obj.__class__] = ContentType.objects.get_for_model(obj, for_concrete_model=False).pk
        return type_ids[obj.__class__]

    def row(target, changes, extra, parent) -> list:
        changes_json, extra_json = _json_text(changes), _json_text(extra)
        values = {
            **common,
            "target_type_id": type_id(target),
            "target_id": str(target.pk),
            "target_repr": str(target)[:300],
            "parent_type_id": type_id(parent) if parent is not None else None,
            "parent_id": str(parent.pk) if parent is not None else "",
            "changes": json.loads(changes_json),
            "extra": json.loads(extra_json),
        }
        values["payload_hash"] = payload_hash_of(values)
        values["changes"], values["extra"] = changes_json, extra_json
        return [values[name] for name in AUDIT_COPY_COLUMNS]

    rows = [row(*entry) for entry in entries]
    with connection.cursor() as cursor:
        copy_rows(cursor, AuditEvent._meta.db_table, AUDIT_COPY_COLUMNS, rows)
    if rows and not any(callback is _seal_after_commit for _savepoints, callback, _robust in connection.run_on_commit):
        transaction.on_commit(_seal_after_commit, robust=True)
    return len(rows)


def _json_text(value) -> str:
    """`value` as the JSON that `json_safe` reads back (what the hash covers and jsonb stores)."""
    return json.dumps(value or {}, cls=DjangoJSONEncoder)


def _seal_after_commit() -> None:
    audit_seal(wait=False)


def _locked_head(wait: bool) -> AuditChainHead | None:
    """The chain head, locked; None when another seal holds it and `wait` is off."""
    locked = AuditChainHead.objects.select_for_update(skip_locked=not wait).filter(id=1)
    head = locked.first()
    if head is None and not AuditChainHead.objects.filter(id=1).exists():
        AuditChainHead.objects.get_or_create(id=1)
        head = locked.first()
    return head


# The unsealed events this statement's snapshot shows: committed ones and the caller's own.
SEALABLE = "SELECT id, payload_hash FROM core_auditevent WHERE seq IS NULL ORDER BY id LIMIT %s"

SEAL = """
UPDATE core_auditevent AS event
SET seq = sealed.seq, prev_hash = sealed.prev_hash, hash = sealed.hash
FROM unnest(%s::bigint[], %s::bigint[], %s::varchar[], %s::varchar[]) AS sealed(id, seq, prev_hash, hash)
WHERE event.id = sealed.id
"""


def audit_seal(*, wait: bool = True) -> int:
    """Chain every event whose transaction has finished; return how many were sealed.

    Each batch is one short transaction holding the chain head's row lock: it gives the
    events their position, previous hash and hash in one UPDATE and moves the head. With
    `wait` off, a seal that finds the head locked by another leaves the work to it (or to
    the next one). Writers never take this lock."""
    sealed = 0
    while True:
        with transaction.atomic():
            head = _locked_head(wait)
            if head is None:
                return sealed
            with connection.cursor() as cursor:
                cursor.execute(SEALABLE, [SEAL_BATCH])
                rows = cursor.fetchall()
                if not rows:
                    return sealed
                ids, positions, previous, hashes = [], [], [], []
                seq, prev_hash = head.seq, head.hash
                for event_id, payload_hash in rows:
                    seq += 1
                    event_hash = chain_link_hash(seq=seq, prev_hash=prev_hash, payload_hash=payload_hash)
                    ids.append(event_id)
                    positions.append(seq)
                    previous.append(prev_hash)
                    hashes.append(event_hash)
                    prev_hash = event_hash
                cursor.execute(SEAL, [ids, positions, previous, hashes])
            AuditChainHead.objects.filter(id=1).update(seq=seq, hash=prev_hash)
        sealed += len(rows)
        if len(rows) < SEAL_BATCH:
            return sealed


def audit_unsealed_overdue() -> list[AuditEvent]:
    """Committed events still unsealed AUDIT_SEAL_OVERDUE_MINUTES after they were written:
    neither the after-commit seals nor the scheduled one have run since, so checkpoints
    cannot cover them. (Read before sealing: afterwards none are left.)"""
    limit = timezone.now() - timedelta(minutes=settings.AUDIT_SEAL_OVERDUE_MINUTES)
    return list(AuditEvent.objects.filter(seq__isnull=True, occurred_at__lt=limit).order_by("id")[:50])


def audit_history(obj):
    """Events about an object and about the objects that hang off it, newest first."""
    content_type = ContentType.objects.get_for_model(obj)
    return (
        AuditEvent.objects.filter(
            Q(target_type=content_type, target_id=str(obj.pk)) | Q(parent_type=content_type, parent_id=str(obj.pk))
        )
        .select_related("target_type", "actor")
        .order_by("-id")
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
    """Walk the sealed chain in order; return the first problem found, or None when it is whole.

    Only events up to the head read at the start are walked, so events sealed meanwhile
    do not disturb the check. Seal first (`audit_seal`) to check everything committed.
    """
    head = AuditChainHead.objects.filter(id=1).first()
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS_HASH)
    expected_seq, expected_prev = 1, GENESIS_HASH
    sealed_when_written = True  # events from before 0008, chained as they were written, come first
    events = AuditEvent.objects.filter(seq__lte=head_seq).order_by("seq")
    for event in events.iterator(chunk_size=batch_size):
        if event.seq != expected_seq:
            return ChainProblem(event.seq, event.id, f"expected event #{expected_seq} here; events are missing")
        if event.prev_hash != expected_prev:
            return ChainProblem(event.seq, event.id, "its link to the previous event is broken")
        sealed_when_written = sealed_when_written and not event.payload_hash
        content_intact = (
            event.legacy_hash() == event.hash
            if sealed_when_written
            else event.payload_hash == event.compute_payload_hash() and event.compute_hash() == event.hash
        )
        if not content_intact:
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
