"""The audit trail against someone who can write the database: triggers refuse TRUNCATE and
moving the chain head back; signed checkpoints, kept in the database and in a folder out of
its reach, let verify_audit_chain name a truncation or rewrite done with the triggers off."""

import base64
import hashlib
import io
import json
import logging
import re

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.utils import ProgrammingError
from django.urls import reverse

from contracts.choices import SigningKeyStatus
from contracts.models import SigningKey
from crm.core.audit import GENESIS_HASH, audit_chain_verify, audit_record, audit_seal
from crm.core.management.commands.write_audit_checkpoint import Command as WriteCheckpointCommand
from crm.core.models import AuditChainHead, AuditCheckpoint, AuditEvent

FILE = "checkpoint-000001.json"


@pytest.fixture(autouse=True)
def checkpoint_dir(settings, tmp_path):
    folder = tmp_path / "audit-checkpoints"
    settings.AUDIT_CHECKPOINT_DIR = str(folder)
    return folder


@pytest.fixture
def three_events(rep, customer):
    for n in range(3):
        audit_record(actor=rep, action="customer.updated", target=customer, changes={"notes": ["", str(n)]})
    audit_seal()
    return list(AuditEvent.objects.order_by("seq"))


@pytest.fixture
def checkpoint(three_events):
    call_command("write_audit_checkpoint", stdout=io.StringIO(), verbosity=0)
    return AuditCheckpoint.objects.get()


def execute_sql(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def refused(match):
    """Expect the database to refuse the statement; the savepoint keeps the test's transaction usable."""
    execute_sql("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE refuses to run with deferred checks pending
    return pytest.raises(ProgrammingError, match=match)


def act_as_database_superuser():
    """What a PostgreSQL superuser can do: switch every trigger off (for this test's transaction)."""
    execute_sql("SET CONSTRAINTS ALL IMMEDIATE")
    execute_sql("SET LOCAL session_replication_role = replica")


def verify_problems() -> str:
    with pytest.raises(CommandError) as error:
        call_command("verify_audit_chain", verbosity=0)
    return str(error.value)


def rewrite_whole_chain():
    """Change every event and recompute every link and the head, as a careful forger would."""
    act_as_database_superuser()
    previous = GENESIS_HASH
    for event in AuditEvent.objects.filter(seq__isnull=False).order_by("seq"):
        event.actor_repr = "nobody"
        event.prev_hash = previous
        event.payload_hash = event.compute_payload_hash()
        event.hash = event.compute_hash()
        event.save(update_fields=["actor_repr", "prev_hash", "payload_hash", "hash"])
        previous = event.hash
    execute_sql("UPDATE core_auditchainhead SET hash = %s WHERE id = 1", [previous])


# --- The database refuses TRUNCATE and a head that does not move forward ----------------------


def test_database_refuses_to_truncate_audit_events(three_events):
    with refused("append-only .TRUNCATE refused"), transaction.atomic():
        execute_sql("TRUNCATE core_auditevent")
    assert AuditEvent.objects.count() == 3


def test_database_refuses_to_delete_or_truncate_the_chain_head(three_events):
    with refused("only moves forward .DELETE refused"), transaction.atomic():
        AuditChainHead.objects.filter(id=1).delete()
    with refused("only moves forward .TRUNCATE refused"), transaction.atomic():
        execute_sql("TRUNCATE core_auditchainhead")
    assert AuditChainHead.objects.get(id=1).seq == 3


def test_database_refuses_to_move_the_chain_head_backwards_or_keep_it_in_place(rep, customer, three_events):
    for seq in (0, 2, 3):
        with refused("only moves forward .UPDATE refused"), transaction.atomic():
            execute_sql("UPDATE core_auditchainhead SET seq = %s, hash = %s WHERE id = 1", [seq, GENESIS_HASH])
    assert AuditChainHead.objects.get(id=1).seq == 3
    # Sealing still moves it forward.
    audit_record(actor=rep, action="customer.updated", target=customer)
    assert audit_seal() == 1
    assert AuditChainHead.objects.get(id=1).seq == 4


def test_database_refuses_to_change_delete_or_truncate_a_checkpoint(checkpoint):
    with refused("checkpoints are append-only .UPDATE refused"), transaction.atomic():
        execute_sql("UPDATE core_auditcheckpoint SET seq = 1")
    with refused("checkpoints are append-only .DELETE refused"), transaction.atomic():
        AuditCheckpoint.objects.all().delete()
    with refused("checkpoints are append-only .TRUNCATE refused"), transaction.atomic():
        execute_sql("TRUNCATE core_auditcheckpoint")
    assert AuditCheckpoint.objects.get().seq == checkpoint.seq


# --- Writing a checkpoint ---------------------------------------------------------------------


def test_write_audit_checkpoint_signs_the_newest_event_and_keeps_it_in_the_database_folder_and_log(
    three_events, checkpoint_dir, caplog
):
    out = io.StringIO()
    with caplog.at_level(logging.INFO, logger="crm.audit"):
        call_command("write_audit_checkpoint", stdout=out)

    checkpoint = AuditCheckpoint.objects.get()
    written = AuditEvent.objects.get(action="auditcheckpoint.written")
    # The sealed head: the three events and those written on the way (a signing key created on
    # first use); the checkpoint's own event is sealed after it.
    covered = AuditEvent.objects.filter(seq__isnull=False).latest("seq")
    assert covered.seq >= 3 and written.seq is None
    assert (checkpoint.number, checkpoint.seq, checkpoint.hash) == (1, covered.seq, covered.hash)
    active_key = SigningKey.objects.get(status=SigningKeyStatus.ACTIVE)
    assert checkpoint.key_id == active_key.key_id
    assert checkpoint.public_key_pem.strip() == active_key.public_key_pem.strip()

    statement = bytes(checkpoint.statement)
    content = json.loads(statement)
    assert statement == json.dumps(content, sort_keys=True, separators=(",", ":")).encode()
    assert content["seq"] == covered.seq and content["hash"] == covered.hash
    assert content["key_id"] == active_key.key_id and content["checkpoint"] == 1 and content["time"].endswith("Z")
    public_key = serialization.load_pem_public_key(checkpoint.public_key_pem.encode())
    public_key.verify(
        bytes(checkpoint.signature),
        statement,
        padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
        hashes.SHA256(),
    )  # raises InvalidSignature if not

    record = json.loads((checkpoint_dir / FILE).read_text())
    assert record["statement"].encode() == statement
    assert base64.b64decode(record["signature"]) == bytes(checkpoint.signature)
    assert record["public_key_pem"] == checkpoint.public_key_pem
    logged = [r.getMessage() for r in caplog.records if r.name == "crm.audit"]
    assert len(logged) == 1 and json.dumps(record["statement"]) in logged[0] and "\n" not in logged[0]

    assert written.target_id == str(checkpoint.pk) and written.source == "command"
    assert written.extra == {"seq": covered.seq, "hash": covered.hash, "key_id": checkpoint.key_id}
    assert f"Checkpoint #1: event #{covered.seq}" in out.getvalue()


def test_each_checkpoint_gets_the_next_number_and_its_own_file(checkpoint, checkpoint_dir):
    call_command("write_audit_checkpoint", stdout=io.StringIO())
    second = AuditCheckpoint.objects.get(number=2)
    assert second.seq > checkpoint.seq
    assert sorted(path.name for path in checkpoint_dir.iterdir()) == [FILE, "checkpoint-000002.json"]


def test_write_audit_checkpoint_has_help():
    text = WriteCheckpointCommand().create_parser("manage.py", "write_audit_checkpoint").format_help()
    assert "AUDIT_CHECKPOINT_DIR" in text and "periodically" in text


def test_write_audit_checkpoint_fails_in_one_line_and_keeps_nothing_when_the_folder_is_unwritable(
    three_events, settings, tmp_path
):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    settings.AUDIT_CHECKPOINT_DIR = str(blocker / "sub")
    with pytest.raises(CommandError, match=r"^Cannot write the checkpoint file in .*not-a-folder/sub: [^\n]+$"):
        call_command("write_audit_checkpoint", stdout=io.StringIO())
    assert not AuditCheckpoint.objects.exists()
    assert not AuditEvent.objects.filter(action="auditcheckpoint.written").exists()


def test_write_audit_checkpoint_fails_in_one_line_with_a_bad_signer_setting(three_events, settings):
    settings.AUDIT_CHECKPOINT_SIGNER = "contracts.signing.nowhere.Signer"
    with pytest.raises(CommandError, match=r"^The audit checkpoint signer is unavailable: [^\n]+$"):
        call_command("write_audit_checkpoint", stdout=io.StringIO())
    assert not AuditCheckpoint.objects.exists()


# --- Verifying against the checkpoints ----------------------------------------------------------


def test_verify_audit_chain_passes_with_checkpoints_and_events_after_them(rep, customer, checkpoint, capsys):
    audit_record(actor=rep, action="customer.updated", target=customer)
    call_command("verify_audit_chain")
    out = capsys.readouterr().out
    assert "Checkpoints: 1 verified; the newest, #1 of " in out
    assert f"covers event #{checkpoint.seq}." in out


def test_verify_audit_chain_names_a_truncation_through_the_checkpoint_folder(checkpoint):
    act_as_database_superuser()
    execute_sql("TRUNCATE core_auditevent, core_auditchainhead, core_auditcheckpoint")
    assert audit_chain_verify() is None  # the chain alone looks intact: 0 events

    problems = verify_problems()
    time = json.loads(bytes(checkpoint.statement))["time"]
    assert f"truncated: checkpoint #1 of {time} covers event #{checkpoint.seq} but the chain ends at #0" in problems
    assert f"checkpoint in the folder is missing from the database: #1 ({FILE})" in problems


def test_verify_audit_chain_names_events_removed_from_the_end_with_the_head_moved_back(checkpoint):
    act_as_database_superuser()
    execute_sql("DELETE FROM core_auditevent WHERE seq >= %s OR seq IS NULL", [checkpoint.seq - 1])
    execute_sql(
        "UPDATE core_auditchainhead SET seq = seq.seq, hash = seq.hash "
        "FROM (SELECT seq, hash FROM core_auditevent ORDER BY seq DESC LIMIT 1) AS seq WHERE id = 1"
    )
    assert audit_chain_verify() is None

    end = checkpoint.seq - 2
    assert re.search(
        rf"truncated: checkpoint #1 of \S+ covers event #{checkpoint.seq} but the chain ends at #{end}\b",
        verify_problems(),
    )


def test_verify_audit_chain_names_a_consistent_rewrite_of_the_whole_chain(checkpoint):
    rewrite_whole_chain()
    assert audit_chain_verify() is None  # every link and the head agree

    assert f"rewritten: event #{checkpoint.seq} no longer has the hash checkpoint #1 signed" in verify_problems()


def test_the_folder_still_proves_a_rewrite_when_the_database_checkpoints_are_deleted(checkpoint):
    rewrite_whole_chain()
    execute_sql("DELETE FROM core_auditcheckpoint")

    problems = verify_problems()
    assert f"rewritten: event #{checkpoint.seq} no longer has the hash checkpoint #1 signed" in problems
    assert "checkpoint in the folder is missing from the database: #1" in problems


def test_verify_audit_chain_names_a_checkpoint_file_whose_statement_was_forged(checkpoint, checkpoint_dir):
    path = checkpoint_dir / FILE
    record = json.loads(path.read_text())
    statement = json.loads(record["statement"])
    statement["seq"] = 1
    record["statement"] = json.dumps(statement, sort_keys=True, separators=(",", ":"))
    path.write_text(json.dumps(record))

    assert f"checkpoint file {FILE} has an invalid signature" in verify_problems()


def test_verify_audit_chain_refuses_a_checkpoint_file_signed_by_a_key_that_is_not_ours(checkpoint, checkpoint_dir):
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = forger.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    der = forger.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    key_id = "sha256:" + hashlib.sha256(der).hexdigest()
    statement = json.loads(bytes(checkpoint.statement))
    statement.update(checkpoint=2, key_id=key_id)
    data = json.dumps(statement, sort_keys=True, separators=(",", ":")).encode()
    signature = forger.sign(data, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32), hashes.SHA256())
    (checkpoint_dir / "checkpoint-000002.json").write_text(
        json.dumps(
            {
                "statement": data.decode(),
                "signature": base64.b64encode(signature).decode(),
                "key_id": key_id,
                "public_key_pem": pem.decode(),
            }
        )
    )

    assert f"checkpoint file checkpoint-000002.json is not trusted: it is signed by key {key_id}" in verify_problems()


def test_verify_audit_chain_names_a_database_checkpoint_that_has_no_file(checkpoint, checkpoint_dir):
    (checkpoint_dir / FILE).unlink()
    assert "checkpoint #1 is in the database but not in the folder" in verify_problems()


# --- The admin shows checkpoints but cannot change them -----------------------------------------


def test_checkpoint_admin_is_read_only(client_for, admin_user, checkpoint):
    client = client_for(admin_user)
    changelist = client.get(reverse("admin:core_auditcheckpoint_changelist"))
    assert changelist.status_code == 200
    assert checkpoint.hash.encode() in changelist.content
    assert client.get(reverse("admin:core_auditcheckpoint_add")).status_code == 403
    page = client.get(reverse("admin:core_auditcheckpoint_change", args=[checkpoint.pk]))
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert b"crm.audit-checkpoint/v1" in page.content
    delete = client.post(reverse("admin:core_auditcheckpoint_delete", args=[checkpoint.pk]), {"post": "yes"})
    assert delete.status_code == 403
    assert AuditCheckpoint.objects.count() == 1
