"""Signed checkpoints of the audit chain: their statement, their copy outside the database,
and their verification.

A checkpoint says "the chain reached event #S, whose hash was H, at time T", signed by the
platform's key. It is kept in the database (`AuditCheckpoint`), as a JSON file per
checkpoint in `settings.AUDIT_CHECKPOINT_DIR` and as a log line on `crm.audit`. The signer
is a class named by `settings.AUDIT_CHECKPOINT_SIGNER` (crm.core imports no domain app):
`key_id()`, `sign(data) -> (signature, key id, public key PEM)`,
`verify(public_key_pem, data, signature) -> bool` and `key_problem(key_id, public_key_pem)`.
"""

import base64
import json
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Max
from django.utils.dateparse import parse_datetime
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from crm.core.exceptions import DomainError
from crm.core.models import AuditCheckpoint, AuditEvent

logger = logging.getLogger("crm.audit")

STATEMENT_TYPE = "crm.audit-checkpoint/v1"
FILE_PREFIX = "checkpoint-"
FILE_SUFFIX = ".json"
INVALID_SIGNATURE = "invalid-signature"


def checkpoint_signer():
    """A new signer from `settings.AUDIT_CHECKPOINT_SIGNER`; ImproperlyConfigured names a bad path."""
    path = getattr(settings, "AUDIT_CHECKPOINT_SIGNER", "")
    try:
        return import_string(path)()
    except ImportError as error:
        raise ImproperlyConfigured(f"Could not import AUDIT_CHECKPOINT_SIGNER {path!r}: {error}") from error
    except TypeError as error:
        raise ImproperlyConfigured(f"AUDIT_CHECKPOINT_SIGNER {path!r} cannot be built: {error}") from error


def checkpoint_dir() -> Path:
    return Path(settings.AUDIT_CHECKPOINT_DIR)


def statement_build(*, number: int, seq: int, event_hash: str, created_at: datetime, key_id: str) -> bytes:
    """The canonical bytes a checkpoint signs: sorted-key compact JSON, ASCII only."""
    statement = {
        "type": STATEMENT_TYPE,
        "checkpoint": number,
        "seq": seq,
        "hash": event_hash,
        "time": created_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "key_id": key_id,
    }
    return json.dumps(statement, sort_keys=True, separators=(",", ":")).encode("ascii")


def file_name(number: int) -> str:
    return f"{FILE_PREFIX}{number:06d}{FILE_SUFFIX}"


def checkpoint_record(checkpoint: AuditCheckpoint) -> dict:
    """What the folder and the log keep of a checkpoint: enough to verify it without the database."""
    return {
        "statement": bytes(checkpoint.statement).decode("ascii"),
        "signature": base64.b64encode(bytes(checkpoint.signature)).decode("ascii"),
        "key_id": checkpoint.key_id,
        "public_key_pem": checkpoint.public_key_pem,
    }


def next_number() -> int:
    """One more than the newest checkpoint in the database or the folder, so a checkpoint
    never reuses the number of one whose database row went missing."""
    in_db = AuditCheckpoint.objects.aggregate(newest=Max("number"))["newest"] or 0
    in_folder = max((number for number, _path in _folder_files()), default=0)
    return max(in_db, in_folder) + 1


def _folder_files() -> list[tuple[int, Path]]:
    folder = checkpoint_dir()
    try:
        entries = sorted(folder.iterdir())
    except FileNotFoundError:
        return []
    found = []
    for path in entries:
        stem = path.name.removeprefix(FILE_PREFIX).removesuffix(FILE_SUFFIX)
        if path.name.startswith(FILE_PREFIX) and path.name.endswith(FILE_SUFFIX) and stem.isascii() and stem.isdigit():
            found.append((int(stem), path))
    return found


def checkpoint_export(checkpoint: AuditCheckpoint) -> Path:
    """Write the checkpoint's file (never overwriting one) and its log line; OSError when the
    folder cannot take it."""
    folder = checkpoint_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / file_name(checkpoint.number)
    record = checkpoint_record(checkpoint)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        json.dump(record, handle, indent=2, sort_keys=True)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    logger.info("audit checkpoint #%s: %s", checkpoint.number, json.dumps(record, sort_keys=True))
    return path


# --- Verification ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedCheckpoint:
    """A checkpoint whose signature verified, wherever it was read from."""

    number: int
    seq: int
    hash: str
    time: str
    statement: bytes


@dataclass
class CheckpointReport:
    problems: list[str]
    checked: int
    newest: SignedCheckpoint | None


def _parse_statement(statement: bytes) -> SignedCheckpoint | None:
    try:
        content = json.loads(statement)
        if content.get("type") != STATEMENT_TYPE:
            return None
        number, seq, event_hash, time = content["checkpoint"], content["seq"], content["hash"], content["time"]
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
    if not (isinstance(number, int) and isinstance(seq, int) and isinstance(event_hash, str)):
        return None
    if not isinstance(time, str) or parse_datetime(time) is None:
        return None
    return SignedCheckpoint(number=number, seq=seq, hash=event_hash, time=time, statement=bytes(statement))


def _check_signed(signer, *, statement: bytes, signature: bytes, key_id: str, public_key_pem: str) -> str | None:
    """None when the signature verifies with a key we know over a well-formed statement; else
    why not. INVALID_SIGNATURE when the signature itself does not verify."""
    if not signer.verify(public_key_pem, statement, signature):
        return INVALID_SIGNATURE
    key_problem = signer.key_problem(key_id, public_key_pem)
    if key_problem:
        return _("is not trusted: %(reason)s") % {"reason": key_problem}
    checkpoint = _parse_statement(statement)
    if checkpoint is None:
        return _("is not a checkpoint statement")
    if json.loads(statement).get("key_id") != key_id:
        return _("names another key than the one that signed it")
    return None


def _read_folder(signer, problems: list[str]) -> dict[int, SignedCheckpoint]:
    found = {}
    try:
        files = _folder_files()
    except OSError as error:
        problems.append(
            _("cannot read the checkpoint folder %(folder)s: %(error)s")
            % {"folder": checkpoint_dir(), "error": error.strerror or error}
        )
        return found
    for number, path in files:
        try:
            record = json.loads(path.read_text(encoding="ascii"))
            statement = record["statement"].encode("ascii")
            signature = base64.b64decode(record["signature"], validate=True)
            key_id, public_key_pem = str(record["key_id"]), str(record["public_key_pem"])
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            problems.append(_("checkpoint file %(file)s is unreadable") % {"file": path.name})
            continue
        reason = _check_signed(
            signer, statement=statement, signature=signature, key_id=key_id, public_key_pem=public_key_pem
        )
        if reason == INVALID_SIGNATURE:
            problems.append(_("checkpoint file %(file)s has an invalid signature") % {"file": path.name})
            continue
        if reason:
            problems.append(_("checkpoint file %(file)s %(reason)s") % {"file": path.name, "reason": reason})
            continue
        checkpoint = _parse_statement(statement)
        if checkpoint.number != number:
            problems.append(
                _("checkpoint file %(file)s holds checkpoint #%(number)s")
                % {"file": path.name, "number": checkpoint.number}
            )
            continue
        found[number] = checkpoint
    return found


def _read_database(signer, problems: list[str]) -> dict[int, SignedCheckpoint]:
    found = {}
    for row in AuditCheckpoint.objects.order_by("number").iterator():
        statement = bytes(row.statement)
        reason = _check_signed(
            signer,
            statement=statement,
            signature=bytes(row.signature),
            key_id=row.key_id,
            public_key_pem=row.public_key_pem,
        )
        if reason == INVALID_SIGNATURE:
            problems.append(
                _("checkpoint #%(number)s in the database has an invalid signature") % {"number": row.number}
            )
            continue
        if reason:
            problems.append(
                _("checkpoint #%(number)s in the database %(reason)s") % {"number": row.number, "reason": reason}
            )
            continue
        checkpoint = _parse_statement(statement)
        if (checkpoint.number, checkpoint.seq, checkpoint.hash) != (row.number, row.seq, row.hash):
            problems.append(
                _("checkpoint #%(number)s in the database does not match the statement it signed")
                % {"number": row.number}
            )
            continue
        found[row.number] = checkpoint
    return found


def audit_checkpoints_verify() -> CheckpointReport:
    """Check every checkpoint, from the database and from the folder, against the chain as it is now.

    Each must carry a valid signature by a key we know; the folder and the database must
    hold the same checkpoints; and the chain must still reach each one's event with the
    hash it signed."""
    signer = checkpoint_signer()
    problems: list[str] = []
    in_folder = _read_folder(signer, problems)
    in_db = _read_database(signer, problems)

    consistency: list[str] = []
    for number, checkpoint in sorted(in_folder.items()):
        stored = in_db.get(number)
        if stored is None:
            if not AuditCheckpoint.objects.filter(number=number).exists():
                consistency.append(
                    _("checkpoint in the folder is missing from the database: #%(number)s (%(file)s)")
                    % {"number": number, "file": file_name(number)}
                )
        elif stored.statement != checkpoint.statement:
            consistency.append(
                _("checkpoint #%(number)s in the database differs from its file %(file)s")
                % {"number": number, "file": file_name(number)}
            )
    folder_exists = checkpoint_dir().is_dir()
    for number in sorted(set(in_db) - set(in_folder)):
        if not (checkpoint_dir() / file_name(number)).exists():
            consistency.append(
                _("checkpoint #%(number)s is in the database but not in the folder %(folder)s")
                % {"number": number, "folder": checkpoint_dir()}
                if folder_exists
                else _("checkpoint #%(number)s is in the database but the folder %(folder)s does not exist")
                % {"number": number, "folder": checkpoint_dir()}
            )

    signed = {checkpoint.statement: checkpoint for checkpoint in [*in_folder.values(), *in_db.values()]}
    checkpoints = sorted(signed.values(), key=lambda checkpoint: (checkpoint.number, checkpoint.seq))
    chain_end = AuditEvent.objects.aggregate(end=Max("seq"))["end"] or 0
    hashes = dict(
        AuditEvent.objects.filter(seq__in={checkpoint.seq for checkpoint in checkpoints}).values_list("seq", "hash")
    )
    for checkpoint in checkpoints:
        values = {"number": checkpoint.number, "time": checkpoint.time, "seq": checkpoint.seq, "end": chain_end}
        if checkpoint.seq > chain_end:
            problems.append(
                _("truncated: checkpoint #%(number)s of %(time)s covers event #%(seq)s but the chain ends at #%(end)s")
                % values
            )
        elif hashes.get(checkpoint.seq) is None:
            problems.append(
                _("truncated: checkpoint #%(number)s of %(time)s covers event #%(seq)s, which is missing") % values
            )
        elif hashes[checkpoint.seq] != checkpoint.hash:
            problems.append(
                _("rewritten: event #%(seq)s no longer has the hash checkpoint #%(number)s signed") % values
            )
    return CheckpointReport(
        problems=list(dict.fromkeys([*problems, *consistency])),
        checked=len({checkpoint.number for checkpoint in checkpoints}),
        newest=checkpoints[-1] if checkpoints else None,
    )


def unavailable(error) -> DomainError:
    return DomainError(_("The audit checkpoint signer is unavailable: %(error)s") % {"error": error})
